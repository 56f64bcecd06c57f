/** Batch input parsing, record output formats and port choice, in process (no Temporal needed). */
import net from 'node:net';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../domain/batch.js';
import { UsageError } from '../../cli/errors.js';
import { parseBatchInput } from '../../cli/input.js';
import { checkLine, CSV_COLUMNS, recordRow, resultFormat } from '../../cli/output.js';
import { choosePorts, isPortFree } from '../../cli/stack/ports.js';

const csv = (text: string, defaults = {}) => parseBatchInput(Buffer.from(text), 'in.csv', defaults);

describe('batch input', () => {
  it('reads CSV headers by their usual spellings, normalizes numbers and fills defaults', () => {
    const input = csv(
      'Ref,MSISDN,Operations,maxAge,Purpose\n' +
        'a,+44 7700-900001,sim-swap;device-roaming,24,\n' +
        'b,+447700900002,,,FraudPreventionAndDetection\n',
      { operations: ['sim-swap-date'], maxAge: 100 },
    );
    expect(input.format).toBe('csv');
    expect(input.items).toEqual([
      { ref: 'a', msisdn: '+447700900001', operations: ['sim-swap', 'device-roaming'], maxAge: 24 },
      {
        ref: 'b',
        msisdn: '+447700900002',
        operations: ['sim-swap-date'],
        maxAge: 100,
        purpose: 'FraudPreventionAndDetection',
      },
    ]);
  });

  it('reads JSON lines with operation or operations, numbers as refs, blank lines skipped', () => {
    const input = parseBatchInput(
      Buffer.from(
        '{"msisdn":"+447700900001","operation":"sim-swap","ref":12}\n\n{"msisdn":"+447700900002","operations":["device-roaming"],"max_age":"48","note":1}\n',
      ),
      '-',
      {},
    );
    expect(input.format).toBe('jsonl');
    expect(input.items).toEqual([
      { msisdn: '+447700900001', operations: ['sim-swap'], ref: '12' },
      { msisdn: '+447700900002', operations: ['device-roaming'], maxAge: 48 },
    ]);
    expect(input.warnings).toEqual(['ignored JSON field(s): note']);
  });

  it('keeps wrong values for the batch to mark invalid; refuses structural problems with the line number', () => {
    expect(csv('msisdn,operation,max_age\nnot-a-number,teleport,9999\n').items).toEqual([
      { msisdn: 'not-a-number', operations: ['teleport'], maxAge: 9999 },
    ]);
    expect(() => csv('msisdn,operation\n+447700900001,sim-swap\n+447700900002,\n')).toThrow(
      /line 3: no operation/,
    );
    expect(() => csv('msisdn,max_age\n+447700900001,soon\n', { operations: ['sim-swap'] })).toThrow(
      /line 2: max_age must be a number of hours \(got "soon"\)/,
    );
    expect(() =>
      parseBatchInput(Buffer.from('{"msisdn":{"x":1},"operation":"sim-swap"}\n'), 'a.jsonl', {}),
    ).toThrow(/line 1: msisdn must be text or a number/);
    expect(() => csv('number\n', {})).toThrow(UsageError);
  });

  it('derives the batch id from the bytes and the defaults', () => {
    const text = 'msisdn\n+447700900001\n';
    const a = csv(text, { operations: ['sim-swap'] }).derivedBatchId;
    expect(a).toMatch(/^batch-[0-9a-f]{20}$/);
    expect(csv(text, { operations: ['sim-swap'] }).derivedBatchId).toBe(a);
    expect(csv(text + '+447700900002\n', { operations: ['sim-swap'] }).derivedBatchId).not.toBe(a);
    expect(csv(text, { operations: ['sim-swap'], maxAge: 24 }).derivedBatchId).not.toBe(a);
  });
});

describe('record output', () => {
  const record: BatchRecord = {
    index: 3,
    ref: 'r',
    operation: 'device-roaming',
    outcome: 'ok',
    result: {
      api: 'camara',
      operation: 'device-roaming',
      status: 'ok',
      data: { roaming: true, countryCode: 262, countryName: ['DE', 'AT'] },
      correlationId: 'c',
      polls: 2,
      authorizations: 1,
      timestamps: { started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:00:02.500Z' },
    },
  };

  it('flattens a record into the CSV columns', () => {
    const row = recordRow(record, '+447700900001');
    expect(Object.keys(row)).toEqual([...CSV_COLUMNS]);
    expect(row).toMatchObject({
      index: 3,
      msisdn: '+447700900001',
      roaming: true,
      country_code: 262,
      country_name: 'DE;AT',
      polls: 2,
    });
  });

  it('says a result in one line', () => {
    expect(checkLine('+44*******001', record.result!)).toBe(
      '+44*******001 device-roaming: ok — roaming in 262 (DE, AT) (1 authorization, 2 polls, 2.5 s)',
    );
  });

  it('picks the format from --format, else from --out', () => {
    expect(resultFormat(undefined, undefined)).toBe('jsonl');
    expect(resultFormat(undefined, 'x.CSV')).toBe('csv');
    expect(resultFormat('csv', 'x.jsonl')).toBe('csv');
    expect(() => resultFormat(undefined, 'x.xlsx')).toThrow(/name a \.jsonl or \.csv file/);
    // The CSV column list is what csv-parse reads back.
    expect(parse(`${CSV_COLUMNS.join(',')}\n`, { columns: true })).toEqual([]);
  });
});

describe('port choice', () => {
  it('uses a free default, replaces a busy default with a notice, and refuses a busy explicit port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(busy)).toBe(false);
      const notices: string[] = [];
      const [a, b] = await choosePorts(
        [
          { label: 'Temporal', preferred: busy, flag: '--port' },
          { label: 'UI', preferred: 0, explicit: 0, flag: '--ui-port' },
        ],
        (line) => notices.push(line),
      );
      expect(a).not.toBe(busy);
      expect(b).not.toBe(a);
      expect(notices).toEqual([`Port ${busy} (Temporal) is busy; using ${a} instead.`]);
      await expect(
        choosePorts([{ label: 'Temporal', preferred: 1, explicit: busy, flag: '--port' }], () => {}),
      ).rejects.toThrow(`--port ${busy}: port ${busy} is in use`);
      const free = a!;
      expect(await choosePorts([{ label: 'T', preferred: free, flag: '--port' }], () => {})).toEqual([free]);
    } finally {
      blocker.close();
    }
  });
});
