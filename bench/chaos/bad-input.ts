/**
 * The second client of the chaos run: while the batch runs it feeds bad input through the CLI
 * (`netcheck batch`) and the client API. Each case must get its clear error or its `invalid`
 * records, and none may touch the running batch.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { getBatch, startBatch } from '../../client/batch.js';
import type { BatchItem, BatchRecord } from '../../domain/batch.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BadInputCase {
  name: string;
  /** What netcheck should do with it. */
  expected: string;
  /** What it did. */
  got: string;
  ok: boolean;
}

export interface BadInputContext {
  client: Client;
  dir: string;
  taskQueue: string;
  subjectKey: string;
  temporalAddress: string;
  /** The running batch: a duplicate id with other content must not change it. */
  mainBatchId: string;
  mainTotal: number;
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(ctx: BadInputContext, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: ctx.temporalAddress,
          TEMPORAL_NAMESPACE: 'default',
          NETCHECK_TASK_QUEUE: ctx.taskQueue,
          NETCHECK_SUBJECT_KEY: ctx.subjectKey,
        },
        timeout: 600_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const firstLine = (text: string) =>
  text
    .split('\n')
    .find((l) => l.trim() !== '' && !l.startsWith('note:') && !/warning/i.test(l))
    ?.trim() ?? '';

/** Records all `invalid` with INVALID_INPUT, exactly one per index 0..n-1. */
function allInvalid(
  records: Pick<BatchRecord, 'index' | 'outcome' | 'error'>[],
  n: number,
): string | undefined {
  const indexes = records.map((r) => r.index).sort((a, b) => a - b);
  if (JSON.stringify(indexes) !== JSON.stringify([...Array(n).keys()]))
    return `records for indexes ${JSON.stringify(indexes)}, expected 0..${n - 1} once each`;
  const bad = records.filter((r) => r.outcome !== 'invalid' || r.error?.code !== 'INVALID_INPUT');
  if (bad.length > 0) return `${bad.length} records not invalid/INVALID_INPUT: ${JSON.stringify(bad[0])}`;
  return undefined;
}

const LONG_REF = 'r'.repeat(300);

/** Runs every bad-input case; never throws (a case that throws is a failed case). */
export async function feedBadInput(ctx: BadInputContext): Promise<BadInputCase[]> {
  const cases: BadInputCase[] = [];
  const run = async (name: string, expected: string, fn: () => Promise<string | undefined>) => {
    try {
      const problem = await fn();
      cases.push({ name, expected, got: problem ?? 'as expected', ok: problem === undefined });
    } catch (err) {
      cases.push({ name, expected, got: `threw: ${String(err)}`, ok: false });
    }
  };
  const tag = ctx.taskQueue;

  await run(
    'CLI: CSV of wrong values (malformed numbers, unknown operation, maxAge out of range, unknown purpose)',
    'exit 3; one `invalid` INVALID_INPUT record per row',
    async () => {
      const file = path.join(ctx.dir, 'bad-values.csv');
      const out = path.join(ctx.dir, 'bad-values-out.jsonl');
      await writeFile(
        file,
        [
          'msisdn,operation,max_age,ref,purpose',
          '+99O12345603,sim-swap,,typo,',
          '+1,sim-swap,,too-short,',
          '99012345601,device-roaming,,no-plus,',
          '+99012345601,sim-swop,,unknown-op,',
          '+99012345602,sim-swap,9999,max-age,',
          '+99012345604,sim-swap,,purpose,Marketing',
        ].join('\n') + '\n',
      );
      const r = await runCli(ctx, ['batch', file, '--batch-id', `bad-values-${tag}`, '--out', out]);
      if (r.code !== 3) return `exit ${r.code}: ${firstLine(r.stderr)}`;
      const records = (await readFile(out, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BatchRecord);
      return allInvalid(records, 6);
    },
  );

  await run(
    'CLI: a CSV with an oversized ref (300 characters)',
    'exit 2 naming the line; no batch',
    async () => {
      const file = path.join(ctx.dir, 'oversized.csv');
      await writeFile(
        file,
        `msisdn,operation,ref\n+99012345601,sim-swap,ok\n+99012345602,sim-swap,${LONG_REF}\n`,
      );
      const r = await runCli(ctx, ['batch', file, '--batch-id', `oversized-${tag}`]);
      if (r.code !== 2) return `exit ${r.code}: ${firstLine(r.stderr)}`;
      if (!/line 3/i.test(r.stderr)) return `the message does not name line 3: ${firstLine(r.stderr)}`;
      return (await batchExists(ctx, `oversized-${tag}`)) ? 'a batch was started anyway' : undefined;
    },
  );

  await run('CLI: a truncated CSV (unterminated quote)', 'exit 2 naming the line; no batch', async () => {
    const file = path.join(ctx.dir, 'truncated.csv');
    await writeFile(file, 'msisdn,operation\n+99012345601,sim-swap\n"+9901234');
    const r = await runCli(ctx, ['batch', file, '--batch-id', `truncated-${tag}`]);
    if (r.code !== 2) return `exit ${r.code}: ${firstLine(r.stderr)}`;
    if (!/line/i.test(r.stderr)) return `no line in the message: ${firstLine(r.stderr)}`;
    return (await batchExists(ctx, `truncated-${tag}`)) ? 'a batch was started anyway' : undefined;
  });

  await run('CLI: invalid JSON lines', 'exit 2 naming the line; no batch', async () => {
    const file = path.join(ctx.dir, 'invalid.jsonl');
    await writeFile(
      file,
      '{"msisdn":"+99012345601","operations":"sim-swap"}\n{"msisdn": "+9901234\nnot json\n',
    );
    const r = await runCli(ctx, ['batch', file, '--batch-id', `invalid-json-${tag}`]);
    if (r.code !== 2) return `exit ${r.code}: ${firstLine(r.stderr)}`;
    if (!/line 2/i.test(r.stderr)) return `the message does not name line 2: ${firstLine(r.stderr)}`;
    return (await batchExists(ctx, `invalid-json-${tag}`)) ? 'a batch was started anyway' : undefined;
  });

  await run(
    'client API: oversized number and ref, unknown operation and api, maxAge 0 and 2401, a number with letters',
    'one `invalid` INVALID_INPUT record per item',
    async () => {
      const items = [
        { msisdn: `+${'9'.repeat(10_000)}`, operations: ['sim-swap'] },
        { msisdn: '+99012345601', operations: ['sim-swap'], ref: LONG_REF },
        { msisdn: '+99012345601', operations: ['teleport'] },
        { msisdn: '+99012345601', operations: ['sim-swap'], api: 'carrier-pigeon' },
        { msisdn: '+99012345601', operations: ['sim-swap'], maxAge: 0 },
        { msisdn: '+99012345601', operations: ['sim-swap'], maxAge: 2401 },
        { msisdn: '+990ABCDEFGH', operations: ['device-roaming'] },
      ] as unknown as BatchItem[];
      const handle = await startBatch(ctx.client, items, {
        batchId: `bad-api-${tag}`,
        taskQueue: ctx.taskQueue,
        subjectKey: ctx.subjectKey,
      });
      const records: BatchRecord[] = [];
      for await (const record of handle.results({ pollIntervalMs: 1000 })) records.push(record);
      return allInvalid(records, items.length);
    },
  );

  await run(
    'client API: the running batch id again, with other content',
    'a clear error; the running batch unchanged',
    async () => {
      const other: BatchItem[] = [{ msisdn: '+99088888888', operations: ['sim-swap'] }];
      let error: unknown;
      try {
        await startBatch(ctx.client, other, {
          batchId: ctx.mainBatchId,
          taskQueue: ctx.taskQueue,
          subjectKey: ctx.subjectKey,
        });
      } catch (err) {
        error = err;
      }
      // `total` counts the records expected so far: while the main batch's input is still being
      // sent, only its complete figure can show whether the other content got in.
      const total = await totalOnceInputComplete(ctx);
      if (total !== ctx.mainTotal)
        return `the running batch now expects ${total} records, not ${ctx.mainTotal}`;
      if (error === undefined) return 'accepted without an error (the other content was silently ignored)';
      const message = error instanceof Error ? error.message : JSON.stringify(error);
      return /different|other|content|input/i.test(message) ? undefined : `unclear error: ${message}`;
    },
  );

  return cases;
}

/** The main batch's record count once all its input is in (the server may be restarting meanwhile). */
async function totalOnceInputComplete(ctx: BadInputContext): Promise<number | undefined> {
  const deadline = Date.now() + 60 * 60_000;
  while (Date.now() < deadline) {
    try {
      const progress = await getBatch(ctx.client, ctx.mainBatchId).progress();
      if (progress.inputComplete) return progress.total;
    } catch {
      // Temporal restarting: ask again
    }
    await sleep(2_000);
  }
  return undefined;
}

async function batchExists(ctx: BadInputContext, batchId: string): Promise<boolean> {
  try {
    await ctx.client.workflow.getHandle(batchId).describe();
    return true;
  } catch {
    return false;
  }
}
