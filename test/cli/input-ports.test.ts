/** Batch input parsing, record output formats, option parsing and port choice, in process (no Temporal needed). */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../domain/batch.js';
import { UsageError } from '../../cli/errors.js';
import { derivedBatchId, MAX_INPUT_BYTES, parseBatchInput } from '../../cli/input.js';
import { checkLine, CSV_COLUMNS, recordRow, recordWriter, resultFormat } from '../../cli/output.js';
import * as parseOption from '../../cli/parse.js';
import { choosePorts, isPortFree } from '../../cli/stack/ports.js';
import { numberFromStdin, readCapped } from '../../cli/stdin.js';

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
      /line 2: max_age must be a whole number of hours written as digits \(got "soon"\)/,
    );
    expect(() =>
      parseBatchInput(Buffer.from('{"msisdn":{"x":1},"operation":"sim-swap"}\n'), 'a.jsonl', {}),
    ).toThrow(/line 1: msisdn must be text or a number/);
    expect(() => csv('number\n', {})).toThrow(UsageError);
  });

  it('derives the batch id from the bytes and the defaults with a keyed hash', () => {
    const text = Buffer.from('msisdn\n+447700900001\n');
    const key = 'subject-key';
    const a = derivedBatchId(text, { operations: ['sim-swap'] }, key);
    expect(a).toMatch(/^batch-[0-9a-f]{20}$/);
    // The same input and defaults attach to the same batch…
    expect(derivedBatchId(Buffer.from(text), { operations: ['sim-swap'] }, key)).toBe(a);
    // …other input, defaults or API make another…
    expect(
      derivedBatchId(
        Buffer.concat([text, Buffer.from('+447700900002\n')]),
        { operations: ['sim-swap'] },
        key,
      ),
    ).not.toBe(a);
    expect(derivedBatchId(text, { operations: ['sim-swap'], maxAge: 24 }, key)).not.toBe(a);
    expect(derivedBatchId(text, { operations: ['sim-swap'], api: 'identity-insights' }, key)).not.toBe(a);
    // …and without the key the id tells nothing: it is not a plain hash of the file.
    expect(derivedBatchId(text, { operations: ['sim-swap'] }, 'another-key')).not.toBe(a);
    // --bulk is another batch; without it ids stay what they were.
    expect(derivedBatchId(text, { operations: ['sim-swap'] }, key, 'bulk')).not.toBe(a);
    expect(derivedBatchId(text, { operations: ['sim-swap'] }, key, undefined)).toBe(a);
    const unkeyed = createHmac('sha256', '').update(text).digest('hex').slice(0, 20);
    expect(a).not.toBe(`batch-${unkeyed}`);
  });

  it('reads an api column and an --api default', () => {
    const input = csv(
      'msisdn,operation,api\n+447700900001,sim-swap,identity-insights\n+447700900002,carrier,\n',
      {
        api: 'camara',
      },
    );
    expect(input.items.map((i) => i.api)).toEqual(['identity-insights', 'camara']);
  });

  it('max_age is whole hours written as digits; anything else stops the command', () => {
    const ops = { operations: ['sim-swap' as const] };
    expect(csv('msisdn,max_age\n+447700900001,0048\n', ops).items[0]!.maxAge).toBe(48);
    for (const bad of ['1e3', '24.5', '-1', '0x18', '+24', '24h']) {
      expect(() => csv(`msisdn,max_age\n+447700900001,${bad}\n`, ops)).toThrow(
        /line 2: max_age must be a whole number of hours written as digits/,
      );
    }
    // In JSON lines a number is a number: 24.5 is not whole.
    expect(() =>
      parseBatchInput(Buffer.from('{"msisdn":"+447700900001","maxAge":24.5}\n'), 'a.jsonl', ops),
    ).toThrow(/line 1: max_age must be a whole number/);
  });

  it('a field over its limit stops the command with the line, before anything is sent', () => {
    const ops = { operations: ['sim-swap' as const] };
    expect(csv(`msisdn,ref\n+447700900001,${'r'.repeat(256)}\n`, ops).items[0]!.ref).toHaveLength(256);
    expect(() => csv(`msisdn,ref\n+447700900001,ok\n+447700900002,${'r'.repeat(4500)}\n`, ops)).toThrow(
      /line 3: ref is 4500 characters long; at most 256/,
    );
    expect(() => csv(`msisdn\n+${'4'.repeat(40)}\n`, ops)).toThrow(
      /line 2: msisdn is 41 characters long; at most 32/,
    );
    // A purpose may be one per API family (`sim-swap=…,device-status=…`): up to 128 characters.
    expect(() => csv(`msisdn,purpose\n+447700900001,${'P'.repeat(200)}\n`, ops)).toThrow(
      /purpose is 200 characters long; at most 128/,
    );
  });

  it('caps the input size', async () => {
    await expect(
      readCapped(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), 1_000, 'stdin'),
    ).rejects.toThrow(/stdin is larger than/);
    expect((await readCapped(Readable.from([Buffer.alloc(600)]), 1_000, 'x')).length).toBe(600);
    expect(MAX_INPUT_BYTES).toBe(32 * 1024 * 1024);
  });
});

describe('option values', () => {
  it('--max-age takes digits only', () => {
    expect(parseOption.maxAge('--max-age', '48')).toBe(48);
    for (const bad of ['1e3', '1000.0', '0x10', '24 h', '', '0', '2401', '-5']) {
      expect(() => parseOption.maxAge('--max-age', bad)).toThrow(/--max-age must be a whole number of hours/);
    }
  });

  it('--purpose names the allowed purposes', () => {
    expect(parseOption.purpose('--purpose', 'NotApplicable')).toBe('NotApplicable');
    expect(() => parseOption.purpose('--purpose', 'Marketing')).toThrow(
      /--purpose "Marketing" is not a Vonage Network API purpose; .*FraudPreventionAndDetection, NotApplicable/,
    );
  });

  it('a number from stdin: the first non-empty line; none is a usage error', async () => {
    expect(await numberFromStdin(Readable.from(['\n  +447700900001  \nmore\n']))).toBe('+447700900001');
    await expect(numberFromStdin(Readable.from(['\n \n']))).rejects.toThrow(/no phone number on stdin/);
    expect(parseOption.msisdnOrStdin('-')).toBe('-');
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

  it('CSV cells a spreadsheet would run are escaped; numbers stay readable text', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-out-'));
    const out = path.join(dir, 'r.csv');
    const writer = await recordWriter('csv', out);
    await writer.write(
      {
        index: 0,
        ref: '=HYPERLINK("http://x","y")',
        operation: 'sim-swap',
        outcome: 'invalid',
        error: { code: 'INVALID_INPUT', message: '@SUM(1)' },
      },
      '+447700900001',
    );
    await writer.write({ index: 1, ref: '-2+3', operation: 'sim-swap', outcome: 'invalid' }, undefined);
    await writer.write({ index: 2, ref: '\tcmd', operation: 'sim-swap', outcome: 'invalid' }, undefined);
    await writer.close();
    const rows = parse<Record<string, string>>(readFileSync(out), { columns: true });
    expect(rows[0]).toMatchObject({
      ref: `'=HYPERLINK("http://x","y")`,
      msisdn: "'+447700900001",
      error_message: "'@SUM(1)",
      index: '0',
    });
    expect(rows[1]!.ref).toBe("'-2+3");
    expect(rows[2]!.ref).toBe("'\tcmd");
    // No cell of the file starts with a formula character.
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('result files are created 0600, also over an existing wider file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-out-'));
    const fresh = path.join(dir, 'new.jsonl');
    const existing = path.join(dir, 'old.jsonl');
    writeFileSync(existing, 'old\n', { mode: 0o644 });
    for (const file of [fresh, existing]) {
      const writer = await recordWriter('jsonl', file);
      await writer.write(record, '+447700900001');
      await writer.close();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).not.toContain('old');
    }
  });

  it('says an Identity Insights result and a carrier result in one line', () => {
    expect(
      checkLine('+99*******601', {
        ...record.result!,
        api: 'identity-insights',
        operation: 'carrier',
        polls: 0,
        authorizations: 0,
        data: {
          valid: true,
          countryCode: 'GB',
          currentCarrier: { name: 'Example Mobile', networkType: 'MOBILE' },
          ported: true,
        },
      } as never),
    ).toBe(
      '+99*******601 carrier: ok — valid (GB), Example Mobile mobile, ported (identity-insights, 2.5 s)',
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
