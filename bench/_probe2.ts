import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../scripts/temporal-cli.js';
import { latencyRun, type BenchContext, type LatencyVariant } from './runs.js';
import { startDevServer } from './server.js';

const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'probe-'));
const server = await startDevServer(
  tmpDir,
  console.error,
  process.env.SARGS ? (JSON.parse(process.env.SARGS) as string[]) : [],
);
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
  latencyMs: Number(process.env.LAT ?? 50),
  concurrency: 1,
  log: console.error,
};
for (const v of (process.env.V ?? 'fast').split(',')) {
  const r = await latencyRun(ctx, v as LatencyVariant, Number(process.env.N ?? 30));
  console.log(v, JSON.stringify(r.latencyMs), r.eagerStarts);
}
const acc: Record<string, number[]> = {};
for await (const info of ctx.client.workflow.list({ query: `WorkflowType = 'networkCheck'` })) {
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
  (acc['total'] ??= []).push(t.at(-1)! - t[0]!);
}
for (const [k, v] of Object.entries(acc))
  console.log('  ', k.padEnd(70), (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1), 'ms avg');
await connection.close();
await server.stop();
