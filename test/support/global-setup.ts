/**
 * Starts what every test file shares, once per run:
 * - a real Temporal dev server (the pinned CLI, headless, in-memory SQLite) with netcheck's
 *   search attributes registered;
 * - one Vonage-compatible simulator, trusting a test application key generated now;
 * - one bundle of the workflow code, written to a temp file, for in-process test workers;
 * - the production bundles (`npm run build:bundle`, plain and --encrypt-failures), which
 *   worker processes the tests spawn load instead of each running webpack at start.
 * Test files read the coordinates with `inject(...)` (see harness.ts).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';
import { ensureTemporalCli } from '../../cli/stack/temporal-cli.js';
import { startSimulator } from '../../simulator/index.js';
import { buildWorkflowBundle } from '../../scripts/build-bundle.js';
import { makeKeys } from './keys.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    simulatorUrl: string;
    applicationId: string;
    privateKeyPem: string;
    publicKeyPem: string;
    workflowBundlePath: string;
    workerBundlePath: string;
    encryptedWorkerBundlePath: string;
  }
}

const SERVER_ARGS = ['--headless', '--log-level', 'error'];

/** When the server does not come up, run it once more by hand to show what it printed. */
async function serverOutput(binary: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      ['server', 'start-dev', '--ip', '127.0.0.1', '--port', '0', ...SERVER_ARGS],
      {
        timeout: 5_000,
      },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => resolve(out.trim().split('\n').slice(-30).join('\n')));
  });
}

export default async function setup(project: TestProject) {
  const temporalCli = await ensureTemporalCli();
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCli },
        ip: '127.0.0.1',
        searchAttributes: [...SEARCH_ATTRIBUTES],
        extraArgs: SERVER_ARGS,
      },
    });
  } catch (err) {
    const output = await serverOutput(temporalCli);
    throw new Error(
      `The Temporal dev server (${temporalCli}) did not start: ${(err as Error).message}\n--- server output ---\n${output}`,
    );
  }

  const { privateKey, publicKey } = makeKeys();
  const applicationId = randomUUID();
  const simulator = await startSimulator({ applicationId, publicKey, port: 0, interval: 0.2, expiresIn: 30 });

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'netcheck-test-'));
  const workflowBundlePath = path.join(tmp, 'workflow-bundle.js');
  const workerBundlePath = path.join(tmp, 'worker-bundle.js');
  const encryptedWorkerBundlePath = path.join(tmp, 'worker-bundle-encrypted.js');
  // From the source, even where a dist/ from an earlier build (test/package builds one) exists.
  // The in-process workers' bundle is bare (the workflows alone, as bundleWorkflowCode makes it).
  await buildWorkflowBundle({ from: 'source', out: workflowBundlePath, bare: true });
  await buildWorkflowBundle({ from: 'source', out: workerBundlePath });
  await buildWorkflowBundle({ from: 'source', out: encryptedWorkerBundlePath, encryptFailures: true });

  project.provide('temporalAddress', env.address);
  project.provide('temporalCliPath', temporalCli);
  project.provide('simulatorUrl', simulator.url);
  project.provide('applicationId', applicationId);
  project.provide('privateKeyPem', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  project.provide('publicKeyPem', publicKey.export({ type: 'spki', format: 'pem' }).toString());
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('workerBundlePath', workerBundlePath);
  project.provide('encryptedWorkerBundlePath', encryptedWorkerBundlePath);

  return async () => {
    await simulator.close();
    await env.teardown();
    rmSync(tmp, { recursive: true, force: true });
  };
}
