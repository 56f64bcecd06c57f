import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../scripts/temporal-cli.js';
import { MODE_SETTINGS, netcheckRun, type BenchContext } from './runs.js';
if (process.env.TUNING) MODE_SETTINGS.tuned.tuning = JSON.parse(process.env.TUNING);
if (process.env.HTTP) MODE_SETTINGS.tuned.http = JSON.parse(process.env.HTTP);
import { startDevServer } from './server.js';

const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'probe-'));
const pragmas = (process.env.PRAGMAS ?? '').split(',').filter(Boolean);
const server = await startDevServer(tmpDir, console.error, [
  ...pragmas.flatMap((p) => ['--sqlite-pragma', p]),
  ...(process.env.SARGS ? JSON.parse(process.env.SARGS) : []),
]);
const connection = await Connection.connect({ address: server.address });
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const bundlePath = path.join(tmpDir, 'wf.js');
writeFileSync(
  bundlePath,
  (
    await bundleWorkflowCode({
      workflowsPath: path.join(projectRoot, 'workflows', 'index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    })
  ).code,
);
const ctx: BenchContext = {
  client: new Client({ connection }),
  address: server.address,
  serverPid: server.pid,
  bundlePath,
  applicationId: randomUUID(),
  privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  tmpDir,
  latencyMs: 50,
  concurrency: Number(process.env.C ?? 100),
  log: console.error,
};
const mode = (process.env.MODE ?? 'fast') as 'fast';
const P = Number(process.env.P ?? 1);
const t0 = Date.now();
const rs = await Promise.all(
  Array.from({ length: P }, () =>
    netcheckRun(ctx, mode, Number(process.env.N ?? 1000), Number(process.env.I ?? 0)),
  ),
);
console.log(
  'parallel batches',
  P,
  'total checks/s',
  ((P * Number(process.env.N ?? 1000)) / ((Date.now() - t0) / 1000)).toFixed(1),
);
const r = rs[0]!;
console.log(JSON.stringify({ ...r, perSecond: undefined, sampleHistory: undefined }));
// The batch's own history
const list = ctx.client.workflow.list({ query: `WorkflowType = 'batchCheck'` });
for await (const info of list) {
  const h = await ctx.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
  const ev = h.events ?? [];
  const types: Record<string, number> = {};
  for (const e of ev) {
    const k = Object.entries(e).find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0] ?? '?';
    types[k] = (types[k] ?? 0) + 1;
  }
  const first = Number(ev[0]!.eventTime!.seconds) * 1000 + ev[0]!.eventTime!.nanos! / 1e6;
  const last = Number(ev.at(-1)!.eventTime!.seconds) * 1000 + ev.at(-1)!.eventTime!.nanos! / 1e6;
  console.log(
    info.runId,
    ev.length,
    'events',
    ((last - first) / 1000).toFixed(1),
    's',
    JSON.stringify(types),
  );
  // WFT scheduled→started→completed latencies
  const times = (k: string) =>
    ev
      .filter((e) => (e as Record<string, unknown>)[k])
      .map((e) => Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6);
  const sch = times('workflowTaskScheduledEventAttributes'),
    st = times('workflowTaskStartedEventAttributes'),
    co = times('workflowTaskCompletedEventAttributes');
  const avg = (a: number[]) => (a.reduce((x, y) => x + y, 0) / a.length).toFixed(1);
  {
    const init = new Map<string, number>(),
      started = new Map<string, number>(),
      done = new Map<string, number>();
    const tm = (e: (typeof ev)[number]) => Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
    const byId = new Map<number, string>();
    for (const e of ev) {
      if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
        const id = e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId!;
        init.set(id, tm(e));
        byId.set(Number(e.eventId), id);
      }
      if (e.childWorkflowExecutionStartedEventAttributes)
        started.set(e.childWorkflowExecutionStartedEventAttributes.workflowExecution!.workflowId!, tm(e));
      if (e.childWorkflowExecutionCompletedEventAttributes)
        done.set(e.childWorkflowExecutionCompletedEventAttributes.workflowExecution!.workflowId!, tm(e));
    }
    const ids = [...init.keys()].filter((id) => id.includes('/sim-swap'));
    const sample = ids.filter((_, i) => i % 50 === 0);
    let a = 0,
      b = 0,
      c = 0,
      d = 0,
      n = 0;
    for (const id of sample) {
      const d2 = await ctx.client.workflow.getHandle(id).describe();
      a += started.get(id)! - init.get(id)!;
      b += d2.startTime.getTime() - init.get(id)!;
      c += done.get(id)! - d2.closeTime!.getTime();
      d += d2.closeTime!.getTime() - d2.startTime.getTime();
      n++;
    }
    console.log(
      `  parent: initiated→child start ${(b / n).toFixed(0)} ms, initiated→ChildStarted event ${(a / n).toFixed(0)} ms, child run ${(d / n).toFixed(0)} ms, child close→ChildCompleted event ${(c / n).toFixed(0)} ms`,
    );
  }
  console.log(
    '  WFT sched→start ms',
    avg(st.map((t, i) => t - sch[i]!)),
    ' start→complete ms',
    avg(co.map((t, i) => t - st[i]!)),
    ' complete→next sched ms',
    avg(sch.slice(1).map((t, i) => t - co[i]!)),
  );
}
{
  const list2 = ctx.client.workflow.list({ query: `WorkflowType = 'networkCheck'` });
  let k = 0;
  const acc: Record<string, number[]> = {};
  for await (const info of list2) {
    if (k++ % 50 !== 0) continue;
    const h = await ctx.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
    const ev = h.events ?? [];
    const t = ev.map((e) => Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6);
    const names = ev.map(
      (e) =>
        Object.entries(e)
          .find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0]
          ?.replace('EventAttributes', '') ?? '?',
    );
    for (let i = 1; i < ev.length; i++)
      (acc[`${i}:${names[i - 1]}->${names[i]}`] ??= []).push(t[i]! - t[i - 1]!);
  }
  for (const [k, v] of Object.entries(acc))
    console.log(
      '  ',
      k,
      (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1),
      'ms avg',
      Math.max(...v).toFixed(0),
      'max',
    );
}
if (process.env.METRICS) {
  const text = await (await fetch(`http://127.0.0.1:${process.env.METRICS}/metrics`)).text();
  const keep = text
    .split('\n')
    .filter(
      (l) =>
        !l.startsWith('#') &&
        /(task_latency_queue|task_latency_load|persistence_latency|task_schedule_latency|task_attempt|queue_latency|lock_latency|cache_latency|persistence_requests)(_sum|_count)?\{/.test(
          l,
        ) &&
        /_sum|_count|persistence_requests/.test(l),
    );
  const agg: Record<string, number> = {};
  for (const l of keep) {
    const name = l.split('{')[0]!;
    const op = /operation="([^"]+)"/.exec(l)?.[1] ?? '';
    const tt = /task_type="([^"]+)"/.exec(l)?.[1] ?? '';
    const key = `${name} ${op} ${tt}`;
    agg[key] = (agg[key] ?? 0) + Number(l.split(' ').at(-1));
  }
  const rows = Object.entries(agg)
    .filter(([k]) => k.includes('_sum'))
    .map(([k, sum]) => {
      const cnt = agg[k.replace('_sum', '_count')] ?? 0;
      return [k, cnt, cnt ? (sum / cnt) * 1000 : 0] as const;
    })
    .sort((a, b) => b[1] * b[2] - a[1] * a[2]);
  for (const [k, cnt, avg] of rows.slice(0, 40))
    console.log(k.padEnd(90), String(cnt).padStart(7), avg.toFixed(2), 'ms');
}
await connection.close();
await server.stop();
