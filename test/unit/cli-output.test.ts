/**
 * What the CLI prints and writes: errors with numbers masked (cli/terminal.ts `printable`, the
 * batch input's messages), provider strings without control characters before a terminal, JSON
 * with them escaped, and CSV cells a spreadsheet would run escaped, also behind leading spaces
 * and in fullwidth forms.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../domain/batch.js';
import type { CheckResult } from '../../domain/types.js';
import { parseBatchInput } from '../../cli/input.js';
import { checkLine, csvCell, recordJson, recordSummary, recordWriter, table } from '../../cli/output.js';
import { jsonText, printable, terminalText } from '../../cli/terminal.js';

const ESC = '\u001b';
/** A provider string that would recolour, retitle, link and rewrite the terminal. */
const HOSTILE = `Mobile${ESC}[31mRED${ESC}[0m ${ESC}]0;owned\u0007${ESC}]8;;https://evil.example\u0007link${ESC}]8;;\u0007\rfake\u009b2J\u202eevil\u0000end`;

function hasControls(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text);
}

describe('terminal text', () => {
  it('strips escape sequences, C0/C1 controls and bidi overrides; keeps the words', () => {
    const out = terminalText(HOSTILE);
    expect(hasControls(out)).toBe(false);
    expect(out).toBe('MobileRED link fakeevilend');
    expect(terminalText('a\tb\nc')).toBe('a b c');
    expect(terminalText('a\tb\r\nc', { multiline: true })).toBe('a\tb\nc');
  });

  it('JSON escapes what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { name: `x\u0085y\u009b\u202e\u2028z${ESC}[1m` };
    const text = jsonText(value, 2);
    expect(hasControls(text)).toBe(false);
    expect(text).not.toContain('\u2028');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('an error as printed: controls out, numbers and credentials masked, lines kept', () => {
    const message = `the number must be E.164 (got "+44 7700 900123x")\n${ESC}[2Jtoken Bearer abc.def`;
    expect(printable(message)).toBe('the number must be E.164 (got "[number]x")\ntoken Bearer [redacted]');
  });
});

describe('results on a terminal', () => {
  const failed: CheckResult = {
    api: 'camara',
    operation: 'device-roaming',
    status: 'failed',
    error: { code: 'UNKNOWN_NUMBER', message: `Vonage answered 404: "${HOSTILE}"` },
    correlationId: 'c',
    polls: 0,
    authorizations: 1,
    timestamps: { started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:00:01.000Z' },
  };
  const roaming: BatchRecord = {
    index: 0,
    operation: 'device-roaming',
    outcome: 'ok',
    result: {
      ...failed,
      status: 'ok',
      error: undefined,
      data: { roaming: true, countryCode: 262, countryName: [HOSTILE] },
    } as CheckResult,
  };

  it('a check line, a summary and a table carry no control character', () => {
    expect(hasControls(checkLine('+44*******001', failed))).toBe(false);
    expect(checkLine('+44*******001', failed)).toMatch(
      /FAILED UNKNOWN_NUMBER — Vonage answered 404: "MobileRED/,
    );
    expect(hasControls(recordSummary(roaming))).toBe(false);
    expect(hasControls(table(['a', 'b'], [[HOSTILE, 'x']]))).toBe(false);
  });

  it('a JSON line escapes them and keeps the data exact', () => {
    const line = recordJson(roaming);
    expect(hasControls(line)).toBe(false);
    expect(
      (JSON.parse(line) as { result: { data: { countryName: string[] } } }).result.data.countryName,
    ).toEqual([HOSTILE]);
  });
});

describe('CSV cells', () => {
  it.each([
    ['=1+1', "'=1+1"],
    [' =HYPERLINK("http://x","y")', `' =HYPERLINK("http://x","y")`],
    ['\t=cmd', "'\t=cmd"],
    ['  +1', "'  +1"],
    ['\n@SUM(A1)', "'\n@SUM(A1)"],
    ['\u00a0-2', "'\u00a0-2"],
    ['＝1+1', "'＝1+1"],
    ['＋447700900001', "'＋447700900001"],
    [' －1', "' －1"],
    ['＠SUM(1)', "'＠SUM(1)"],
    ['plain', 'plain'],
    ['a = b', 'a = b'],
  ])('%j → %j', (cell, expected) => {
    expect(csvCell(cell)).toBe(expected);
  });

  it('numbers stay numbers; control characters go', () => {
    expect(csvCell(-3)).toBe(-3);
    expect(csvCell(`ok${ESC}[31m\u0007`)).toBe('ok');
  });

  it('the file written holds no cell a spreadsheet would run, nor a control character', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'netcheck-csv-')), 'r.csv');
    const writer = await recordWriter('csv', out);
    for (const [index, ref] of [' =1+1', '＝1+1', '\t@x', ` ${ESC}]0;t\u0007=2`].entries()) {
      await writer.write(
        {
          index,
          ref,
          operation: 'sim-swap',
          outcome: 'failed',
          error: { code: 'INTERNAL', message: ` -${HOSTILE}` },
        },
        undefined,
      );
    }
    await writer.close();
    const text = readFileSync(out, 'utf8');
    expect(hasControls(text.replace(/\r?\n/g, ''))).toBe(false);
    const rows = parse<Record<string, string>>(text, { columns: true });
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^\s*[=+\-@＝＋－＠]/);
    }
  });
});

describe('batch input errors', () => {
  const read =
    (text: string, file = 'in.csv') =>
    () =>
      parseBatchInput(Buffer.from(text), file, { operations: ['sim-swap'] });

  it('a headerless CSV: the first row is shown masked, with the hint to add a header', () => {
    expect(read('+44 7700 900123,sim-swap\n+447700900124,sim-swap\n')).toThrow(
      'the CSV header (line 1: [number],sim-swap) has no "msisdn" column; line 1 looks like data: add a header line first, e.g. msisdn,operation',
    );
  });

  it("csv-parse's message without the field it quotes", () => {
    let message = '';
    try {
      read('msisdn,ref\n+447700900123"x",Jane Doe\n')();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /^the CSV cannot be read: Invalid Opening Quote: a quote is found on field 0 at line 2$/,
    );
  });

  it('a value that is not text, and a max_age that is a number, are shown masked', () => {
    expect(read('{"msisdn":{"n":"07700 900123"}}\n', 'in.jsonl')).toThrow(
      'line 1: msisdn must be text or a number (got {"n":"[number]"})',
    );
    expect(read('msisdn,max_age\n+447700900123,447700900123\n')).toThrow(/max_age .*\(got "\[number\]"\)/);
  });
});
