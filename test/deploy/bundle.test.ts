/**
 * The worker of the Docker image, built here the way the Dockerfile builds it: TypeScript
 * compiled to dist/, the workflow bundle made from the compiled workflows by
 * `npm run build:bundle`, production dependencies only (`npm ci --omit=dev`). With the compiled
 * workflow sources removed, `netcheck worker` can only run checks from the prebuilt bundle — it
 * does, against the dev server and the simulator; and SIGTERM drains it: a Vonage request in
 * flight completes before the process exits 0, so nothing is sent twice.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkNumber, startCheck } from '../../client/index.js';
import { projectRoot } from '../../cli/stack/temporal-cli.js';
import { findPrebuiltBundle, WORKFLOW_BUNDLE_ENV } from '../../worker/bundle.js';
import { ConfigurationError } from '../../worker/config.js';
import {
  addScenarios,
  connectTestEnv,
  createTestWorker,
  requestCount,
  simulatorStats,
  uniqueNumber,
  spawnWorker,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';

const execFileAsync = promisify(execFile);
const minutes = (n: number) => n * 60_000;

describe('findPrebuiltBundle', () => {
  // A dist/ layout of its own: dist/worker/bundle.js (the module), dist/workflows, the bundle.
  let root: string;
  let moduleUrl: string;
  let workflowFile: string;
  let bundleFile: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'netcheck-bundle-find-'));
    const dist = path.join(root, 'dist');
    mkdirSync(path.join(dist, 'worker'), { recursive: true });
    mkdirSync(path.join(dist, 'workflows'), { recursive: true });
    moduleUrl = pathToFileURL(path.join(dist, 'worker', 'bundle.js')).href;
    workflowFile = path.join(dist, 'workflows', 'index.js');
    bundleFile = path.join(dist, 'workflow-bundle.js');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('uses NETCHECK_WORKFLOW_BUNDLE, and says how to build it when the file is missing', () => {
    writeFileSync(path.join(root, 'custom.js'), '// bundle');
    expect(findPrebuiltBundle({ [WORKFLOW_BUNDLE_ENV]: path.join(root, 'custom.js') }, moduleUrl)).toEqual({
      codePath: path.join(root, 'custom.js'),
      source: 'env',
    });
    const missing = () =>
      findPrebuiltBundle({ [WORKFLOW_BUNDLE_ENV]: path.join(root, 'nope.js') }, moduleUrl);
    expect(missing).toThrow(ConfigurationError);
    expect(missing).toThrow(/npm run build:bundle/);
  });

  it('uses dist/workflow-bundle.js only when it is at least as new as the compiled workflows', () => {
    writeFileSync(workflowFile, 'export {};');
    expect(findPrebuiltBundle({}, moduleUrl)).toBeUndefined(); // no bundle yet
    writeFileSync(bundleFile, '// bundle');
    const now = Date.now() / 1000;
    utimesSync(workflowFile, now - 60, now - 60);
    utimesSync(bundleFile, now, now);
    expect(findPrebuiltBundle({}, moduleUrl)).toEqual({ codePath: bundleFile, source: 'default' });
    // The workflows were compiled again after the bundle: the bundle is stale, bundle at start.
    utimesSync(workflowFile, now + 60, now + 60);
    expect(findPrebuiltBundle({}, moduleUrl)).toBeUndefined();
  });

  it('never picks a default bundle when running from source', () => {
    const sourceUrl = pathToFileURL(path.join(root, 'worker', 'bundle.ts')).href;
    writeFileSync(path.join(root, 'workflow-bundle.js'), '// bundle');
    expect(findPrebuiltBundle({}, sourceUrl)).toBeUndefined();
  });
});

describe('the image build: compiled code, prebuilt bundle, production dependencies', () => {
  let image: string;
  let env: TestEnv;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    image = mkdtempSync(path.join(os.tmpdir(), 'netcheck-image-'));
    // As in the Dockerfile's build stage: npm run build, then npm run build:bundle -- --out dist/workflow-bundle.js.
    await execFileAsync(
      process.execPath,
      [
        path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        path.join(image, 'dist'),
      ],
      { cwd: projectRoot },
    );
    // As in the runtime stage: npm ci --omit=dev (from the local npm cache when it has everything).
    for (const file of ['package.json', 'package-lock.json']) {
      copyFileSync(path.join(projectRoot, file), path.join(image, file));
    }
    await execFileAsync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: image,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    // The worker's optional peers (@temporalio/worker, tracing), as the runtime stage adds them.
    await execFileAsync(process.execPath, [path.join(projectRoot, 'scripts', 'image-dependencies.mjs')], {
      cwd: image,
    });
    await execFileAsync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: image,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    // The bundle, from the compiled workflows (webpack resolves their imports in that tree).
    await execFileAsync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/build-bundle.ts',
        '--workflows',
        path.join(image, 'dist', 'workflows', 'index.js'),
        '--out',
        path.join(image, 'dist', 'workflow-bundle.js'),
      ],
      { cwd: projectRoot },
    );
    // Without its compiled workflows, the worker can only run what the bundle holds.
    rmSync(path.join(image, 'dist', 'workflows'), { recursive: true, force: true });
    env = await connectTestEnv();
  }, minutes(10));

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await env?.close();
    if (image) rmSync(image, { recursive: true, force: true });
  });

  /** `netcheck worker` from the image layout, configured like the compose service. */
  async function startImageWorker(taskQueue: string, extraEnv: Record<string, string>) {
    const worker = await spawnWorker([path.join(image, 'dist', 'cli', 'main.js'), 'worker'], {
      cwd: image,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: 'default',
        VONAGE_APPLICATION_ID: inject('applicationId'),
        VONAGE_PRIVATE_KEY: inject('privateKeyPem'),
        VONAGE_API_BASE_URL: inject('simulatorUrl'),
        NETCHECK_TASK_QUEUE: taskQueue,
        ...extraEnv,
      },
    });
    children.push(worker.child);
    return worker;
  }

  it(
    'runs checks from the bundle named by NETCHECK_WORKFLOW_BUNDLE, and drains on SIGTERM',
    async () => {
      const taskQueue = uniqueTaskQueue('image');
      const worker = await startImageWorker(taskQueue, {
        [WORKFLOW_BUNDLE_ENV]: path.join(image, 'dist', 'workflow-bundle.js'),
      });
      const result = await checkNumber(
        env.client,
        { msisdn: '+99012345601', operation: 'sim-swap', maxAge: 24 },
        { taskQueue, subjectKey: 'image-test' },
      );
      expect(result.status).toBe('ok');
      expect(result.data).toMatchObject({ swapped: false });

      // A check whose bc-authorize Vonage answers after 2 s: SIGTERM arrives while it is in flight.
      const slow = uniqueNumber();
      await addScenarios(env.simulatorUrl, {
        numbers: { [slow]: { faults: [{ endpoint: 'bc-authorize', delayMs: 2_000 }] } },
      });
      const handle = await startCheck(
        env.client,
        { msisdn: slow, operation: 'sim-swap', maxAge: 24 },
        { taskQueue, subjectKey: 'image-test' },
      );
      while ((await simulatorStats(env.simulatorUrl, slow)).total < 1) await sleep(50);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.output()).toMatch(/DRAINED/);
      // It waited for the answer before exiting: the request completed, nothing to re-send.
      expect(requestCount(await simulatorStats(env.simulatorUrl, slow), 'bc-authorize', 200)).toBe(1);

      // Another worker finishes the check from there, without authorizing again.
      const next = await createTestWorker(env, taskQueue);
      const finished = await next.runUntil(handle.result());
      expect(finished.status).toBe('ok');
      expect(finished.authorizations).toBe(1);
      expect(requestCount(await simulatorStats(env.simulatorUrl, slow), 'bc-authorize')).toBe(1);
    },
    minutes(2),
  );

  it(
    'finds dist/workflow-bundle.js by itself when run from dist/',
    async () => {
      const taskQueue = uniqueTaskQueue('image-default');
      const worker = await startImageWorker(taskQueue, {});
      const result = await checkNumber(
        env.client,
        { msisdn: '+99012345622', operation: 'device-roaming' },
        { taskQueue, subjectKey: 'image-test' },
      );
      expect(result.status).toBe('ok');
      expect(result.data).toMatchObject({ roaming: true });
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    },
    minutes(2),
  );
});
