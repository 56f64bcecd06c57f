/**
 * `npm run chaos [-- --smoke] [--checks N] [--out DIR]`: the chaos and soak run (issue #16).
 *
 * Its own Temporal dev server (SQLite file), the simulator as a process, two netcheck worker
 * processes; one batch of every operation on both APIs through the client API while the
 * simulator fails (503, 429 + Retry-After, hangs past the activity timeout, connection resets,
 * slow_down on first polls), two workers are SIGKILLed and replaced, the Temporal server is
 * killed and restarted on the same database, and the simulator is restarted. A second client
 * feeds bad input meanwhile. At the end it proves from the batch's records and the simulator's
 * log that nothing was lost, duplicated, answered wrong or done against the protocol, writes a
 * Markdown and a JSON report and exits 1 on any violation.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { getBatch, startBatch } from '../../client/batch.js';
import type { BatchProgress, BatchRecord } from '../../domain/batch.js';
import type { RequestLogEntry } from '../../simulator/request-log.js';
import { buildWorkflowBundle, SOURCE_WORKFLOWS_PATH } from '../../scripts/build-bundle.js';
import { feedBadInput, type BadInputCase } from './bad-input.js';
import { chaosReport, type ChaosResult, type Disruption } from './report.js';
import {
  chaosTaskQueue,
  SimulatorProcess,
  startWorker,
  TemporalServer,
  type ChaosSettings,
  type StackPaths,
  type WorkerHandle,
} from './stack.js';
import { chaosItems, checkLog, checkRecords } from './verify.js';

const USAGE = `Usage: npm run chaos -- [--smoke] [--checks N] [--rate R] [--concurrency C] [--seed S] [--out DIR] [--keep]

  --smoke          about 500 checks (what CI runs); the default is the full 10,000
  --checks N       batch size
  --rate R         requests per second: the workers' limit and the simulator's (default 40)
  --concurrency C  the batch's checks in flight (default 100)
  --seed S         the simulator's fault seed (default 16)
  --out DIR        where chaos-latest.md / .json go (default bench/results for the full run;
                   a smoke run writes no report unless --out is given)
  --keep           keep the temp folder (server database, logs, request log)`;

const PROGRESS_EVERY_MS = 1_000;
/** The batch must end within this long after its last disruption (else the run fails). */
const SETTLE_TIMEOUT_MS = 30 * 60_000;

interface Options {
  checks: number;
  smoke: boolean;
  rate: number;
  concurrency: number;
  seed: number;
  out: string | undefined;
  keep: boolean;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean' },
      checks: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--${name} must be a whole number ≥ 1 (got ${raw})\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  // `npm run chaos --smoke` (without `--`) reaches the script as npm's config, not as an argument.
  const smoke = values.smoke ?? process.env.npm_config_smoke === 'true';
  return {
    smoke,
    checks: int('checks', values.checks, smoke ? 500 : 10_000),
    rate: int('rate', values.rate, 40),
    concurrency: int('concurrency', values.concurrency, 100),
    seed: int('seed', values.seed, 16),
    out: values.out ?? (smoke ? undefined : path.resolve('bench/results')),
    keep: values.keep ?? false,
  };
}

const log = (line: string) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Progress that survives the server being down: undefined while Temporal does not answer. */
async function tryProgress(client: Client, batchId: string): Promise<BatchProgress | undefined> {
  try {
    return await getBatch(client, batchId).progress();
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const settings: ChaosSettings = {
    rate: opts.rate,
    seed: opts.seed,
    intervalSeconds: 1,
    expiresInSeconds: 60,
    unavailable: 0.2,
    tooManyRequests: 0.1,
    retryAfterSeconds: 1,
    hang: 0.05,
    // Past the activity's 30-s start-to-close timeout (the HTTP client gives up at 20 s first).
    hangMs: 35_000,
    reset: 0.02,
    slowDown: 0.25,
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netcheck-chaos-'));
  log(`${opts.checks} checks, rate ${opts.rate}/s, concurrency ${opts.concurrency}; files in ${dir}`);
  const started = Date.now();

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const paths: StackPaths = {
    dir,
    applicationId: randomUUID(),
    privateKeyFile: path.join(dir, 'private.pem'),
    publicKeyFile: path.join(dir, 'public.pem'),
    bundle: path.join(dir, 'workflow-bundle.js'),
  };
  await writeFile(paths.privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(paths.publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const subjectKey = randomBytes(32).toString('base64url');
  process.env.NETCHECK_SUBJECT_KEY = subjectKey;

  const temporal = new TemporalServer(dir, log);
  const simulator = new SimulatorProcess(paths, settings);
  const workers: WorkerHandle[] = [];
  let connection: Connection | undefined;
  try {
    log('bundling the workflows once for every worker');
    // The workers run the source (tsx): so does their bundle, even where a dist/ exists.
    await buildWorkflowBundle({ workflowsPath: SOURCE_WORKFLOWS_PATH, out: paths.bundle });
    await temporal.start();
    await simulator.start();
    log(`temporal ${temporal.address} (db ${temporal.dbFile}), simulator ${simulator.url}`);
    const taskQueue = chaosTaskQueue();
    const spawnWorker = (name: string) => startWorker(name, paths, temporal, simulator, taskQueue, settings);
    workers.push(...(await Promise.all([spawnWorker('worker-1'), spawnWorker('worker-2')])));

    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    const items = chaosItems(opts.checks);
    const batchId = `chaos-${taskQueue}`;
    const batchStarted = Date.now();
    let sendError: string | undefined;
    // startBatch returns once every page is in, which for a big batch is when most of it has
    // run (a page waits while the batch's queue is full): the disruptions do not wait for it.
    const sending = startBatch(client, items, {
      batchId,
      taskQueue,
      subjectKey,
      concurrency: opts.concurrency,
    }).then(
      () => {
        log(`batch ${batchId}: all input sent`);
        return undefined;
      },
      (err: unknown) => {
        sendError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        log(`batch ${batchId}: sending the input failed: ${sendError}`);
        return sendError;
      },
    );
    while (!(await tryProgress(client, batchId))) await sleep(200);
    log(`batch ${batchId} started`);

    const badInput: Promise<BadInputCase[]> = feedBadInput({
      client,
      dir,
      taskQueue,
      subjectKey,
      temporalAddress: temporal.address,
      mainBatchId: batchId,
      mainTotal: opts.checks,
    });

    // ---- the disruptions, each when the batch is that far along ----
    let latest: BatchProgress | undefined;
    let lastDoneAt = Date.now();
    let longestStall = { ms: 0, atRecord: 0 };
    const follow = async (): Promise<void> => {
      const p = await tryProgress(client, batchId);
      if (p) {
        if (!latest || p.done > latest.done) {
          const now = Date.now();
          if (latest && now - lastDoneAt > longestStall.ms)
            longestStall = { ms: now - lastDoneAt, atRecord: p.done };
          lastDoneAt = now;
        }
        latest = p;
      }
    };
    const waitForShare = async (share: number) => {
      for (;;) {
        await follow();
        if (latest && (latest.done >= share * opts.checks || latest.state === 'completed')) return;
        await sleep(PROGRESS_EVERY_MS);
      }
    };
    /** Ms from `since` until the batch records another check. */
    const untilNextRecord = async (since: number, timeoutMs = 10 * 60_000): Promise<number | undefined> => {
      const base = latest?.done ?? 0;
      for (;;) {
        await follow();
        if (latest && (latest.done > base || latest.state === 'completed')) return Date.now() - since;
        if (Date.now() - since > timeoutMs) return undefined;
        await sleep(250);
      }
    };

    const disruptions: Disruption[] = [];
    const measuring: Promise<void>[] = [];
    const killWorker = async (index: number) => {
      const victim = workers[index]!;
      const doneBefore = latest?.done ?? 0;
      const affected = await flowsOnWorker(client, batchId, victim.identity);
      const at = Date.now();
      victim.proc.kill('SIGKILL');
      await victim.proc.exited;
      log(
        `SIGKILLed ${victim.name} (pid ${victim.pid}) with ${affected.length} flows running an activity on it`,
      );
      // Measured in the background from now, while the replacement starts (the other worker may
      // take the flows up first); the next disruption does not wait for it.
      const resuming = resumeTimes(client, affected, victim.identity, at);
      const replacement = await spawnWorker(`${victim.name}-r`);
      workers[index] = replacement;
      const replacedAt = Date.now();
      measuring.push(
        resuming.then((resumed) => {
          disruptions.push({
            kind: 'worker SIGKILL',
            at: new Date(at).toISOString(),
            doneBefore,
            downMs: replacedAt - at,
            affectedFlows: affected.length,
            ...resumed,
          });
        }),
      );
    };
    const restartTemporal = async () => {
      const at = Date.now();
      const doneBefore = latest?.done ?? 0;
      await temporal.kill();
      log('SIGKILLed the Temporal server');
      await sleep(2_000);
      await temporal.start();
      const servingAt = Date.now();
      log(`Temporal server serving again on the same database after ${servingAt - at} ms`);
      const resume = await untilNextRecord(servingAt);
      disruptions.push({
        kind: 'Temporal server kill + restart',
        at: new Date(at).toISOString(),
        doneBefore,
        downMs: servingAt - at,
        resumeAfterUpMs: resume,
        lostMs: resume === undefined ? undefined : servingAt - at + resume,
      });
    };
    const restartSimulator = async () => {
      const at = Date.now();
      const doneBefore = latest?.done ?? 0;
      await simulator.stop();
      log('simulator stopped');
      await sleep(1_000);
      await simulator.start();
      const upAt = Date.now();
      log(`simulator serving again after ${upAt - at} ms`);
      const resume = await untilNextRecord(upAt);
      disruptions.push({
        kind: 'simulator restart',
        at: new Date(at).toISOString(),
        doneBefore,
        downMs: upAt - at,
        resumeAfterUpMs: resume,
        lostMs: resume === undefined ? undefined : upAt - at + resume,
      });
    };

    // Early enough that the flows a kill strands (a bc-authorize is retried only after its
    // 120-s start-to-close timeout) come back while the rest of the batch still runs.
    await waitForShare(0.1);
    await killWorker(0);
    await waitForShare(0.25);
    await restartSimulator();
    await waitForShare(0.4);
    await restartTemporal();
    await waitForShare(0.55);
    await killWorker(1);

    await Promise.all(measuring);
    disruptions.sort((a, b) => a.at.localeCompare(b.at));

    // ---- to the end ----
    const settleStart = Date.now();
    for (;;) {
      await follow();
      if (latest?.state === 'completed') break;
      if (sendError !== undefined && latest && latest.inFlight === 0 && latest.queued === 0) {
        log('the input was not all sent and the batch has nothing left to run');
        break;
      }
      if (Date.now() - settleStart > SETTLE_TIMEOUT_MS) {
        log(`the batch did not complete within ${SETTLE_TIMEOUT_MS / 60_000} min of the last disruption`);
        break;
      }
      if (Date.now() - lastDoneAt > 60_000)
        log(`no record for ${Math.round((Date.now() - lastDoneAt) / 1000)} s: ${JSON.stringify(latest)}`);
      await sleep(PROGRESS_EVERY_MS * 2);
    }
    await sending;
    const batchSeconds = (Date.now() - batchStarted) / 1000;
    log(`batch ${latest?.state ?? 'unknown'} after ${batchSeconds.toFixed(0)} s; reading its records`);
    const records: BatchRecord[] = [];
    if (latest?.state === 'completed') {
      for await (const record of getBatch(client, batchId).results({ pollIntervalMs: 500 }))
        records.push(record);
    }
    const bad = await badInput;
    const finalProgress = await tryProgress(client, batchId);

    // ---- the simulator's own account: its stats (the process running now) and its log (every process) ----
    await Promise.all(workers.map((w) => w.proc.stop(20_000)));
    workers.length = 0;
    await simulator.stop();
    const entries = (await readFile(simulator.requestLog, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RequestLogEntry);

    const result: ChaosResult = {
      settings,
      smoke: opts.smoke,
      checks: opts.checks,
      concurrency: opts.concurrency,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`,
      date: new Date().toISOString(),
      wallSeconds: (Date.now() - started) / 1000,
      batchSeconds,
      state: latest?.state ?? 'unknown',
      progress: finalProgress ?? latest,
      records: checkRecords(items, records),
      log: checkLog(entries),
      simulatorStats: simulator.stats,
      disruptions,
      badInput: bad,
      longestStall,
      ...(sendError !== undefined ? { sendError } : {}),
    };
    const report = chaosReport(result);
    console.log(report.markdown);
    if (opts.out) {
      await mkdir(opts.out, { recursive: true });
      const base = path.join(opts.out, 'chaos-latest');
      await writeFile(`${base}.md`, report.markdown);
      await writeFile(`${base}.json`, `${JSON.stringify(report.json, null, 2)}\n`);
      log(`report: ${base}.md, ${base}.json`);
    }
    if (report.violations.length > 0) {
      log(`FAILED: ${report.violations.length} violation(s)`);
      for (const v of report.violations) log(`  - ${v}`);
      return 1;
    }
    log('passed: nothing lost, duplicated, wrong or against the protocol');
    return 0;
  } finally {
    await connection?.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.proc.stop(5_000)));
    await simulator.stop().catch(() => undefined);
    await temporal.stop().catch(() => undefined);
    if (opts.keep) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/** Running checks of the batch with an activity started on this worker (by its identity). */
async function flowsOnWorker(client: Client, batchId: string, identity: string): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const wf of client.workflow.list({
      query: `NetcheckBatchId = "${batchId}" AND ExecutionStatus = "Running" AND WorkflowType = "networkCheck"`,
    })) {
      ids.push(wf.workflowId);
    }
  } catch {
    return [];
  }
  const on = await Promise.all(
    ids.map(async (id) => {
      try {
        const d = await client.workflow.getHandle(id).describe();
        const pending = d.raw.pendingActivities ?? [];
        return pending.some((a) => a.lastWorkerIdentity === identity && Number(a.state) === 2)
          ? id
          : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return on.filter((id): id is string => id !== undefined);
}

/**
 * For flows whose activity ran on a killed worker: ms from the kill until each one progressed
 * again (its activity taken up by another worker, or done, or the flow closed).
 */
async function resumeTimes(
  client: Client,
  flows: string[],
  deadIdentity: string,
  killedAt: number,
  timeoutMs = 10 * 60_000,
): Promise<{ resumeMedianMs?: number; lostMs?: number; noticedMs?: number; notResumed: number }> {
  const waiting = new Set(flows);
  /** Flows whose stranded activity the server has not yet given up on (still started on the dead worker). */
  const unnoticed = new Set(flows);
  const times: number[] = [];
  let noticedMs: number | undefined;
  while (waiting.size > 0 && Date.now() - killedAt < timeoutMs) {
    await Promise.all(
      [...waiting].map(async (id) => {
        try {
          const d = await client.workflow.getHandle(id).describe();
          const onDead = (d.raw.pendingActivities ?? []).filter((a) => a.lastWorkerIdentity === deadIdentity);
          const stuck = d.status.name === 'RUNNING' && onDead.length > 0;
          // Noticed: no activity is still *started* on the dead worker (timed out and waiting for its
          // retry, or taken up, or done). From there on, the wait is the retry policy's backoff.
          if (unnoticed.has(id) && !(stuck && onDead.some((a) => Number(a.state) === 2))) {
            unnoticed.delete(id);
            noticedMs = Math.max(noticedMs ?? 0, Date.now() - killedAt);
          }
          if (!stuck) {
            waiting.delete(id);
            times.push(Date.now() - killedAt);
          }
        } catch {
          // Temporal busy: ask again
        }
      }),
    );
    if (waiting.size > 0) await sleep(500);
  }
  times.sort((a, b) => a - b);
  return {
    ...(times.length > 0
      ? { resumeMedianMs: times[Math.floor(times.length / 2)]!, lostMs: times.at(-1)! }
      : {}),
    ...(noticedMs !== undefined ? { noticedMs } : {}),
    notResumed: waiting.size,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
