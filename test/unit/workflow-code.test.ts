/**
 * One locator of workflow code and one worker assembly (worker/workflow-path.ts,
 * worker/assemble.ts), and the plugin's bundler half without credentials (worker/bundle.ts).
 * The layouts are made in a temp directory: a checkout (worker/*.ts, workflows/*.ts) with a
 * dist/ left by a build next to it, the case that gave source runs old workflow code (af97f68).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerPlugin } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netcheckPayloadConverterPath } from '../../codec/data-converter.js';
import { assembleWorkerOptions } from '../../worker/assemble.js';
import { netcheckBundlerPlugin } from '../../worker/bundle.js';
import { NetcheckPlugin } from '../../worker/plugin.js';
import { locateWorkflowCode, workflowModulePath } from '../../worker/workflow-path.js';

let root: string;
let sourceUrl: string;
let distUrl: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'netcheck-locate-'));
  for (const dir of ['worker', 'workflows', 'dist/worker', 'dist/workflows']) {
    mkdirSync(path.join(root, dir), { recursive: true });
  }
  writeFileSync(path.join(root, 'workflows', 'index.ts'), 'export {};');
  writeFileSync(path.join(root, 'dist', 'workflows', 'index.js'), 'export {};');
  sourceUrl = pathToFileURL(path.join(root, 'worker', 'workflow-path.ts')).href;
  distUrl = pathToFileURL(path.join(root, 'dist', 'worker', 'workflow-path.js')).href;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('locateWorkflowCode', () => {
  it('runs the workflows of the tree this process runs, never the other one', () => {
    // From source with a dist/ next to it: the source (a stale dist/ must not win).
    expect(locateWorkflowCode({ moduleUrl: sourceUrl })).toEqual({
      workflowsPath: path.join(root, 'workflows', 'index.ts'),
    });
    expect(locateWorkflowCode({ moduleUrl: distUrl })).toEqual({
      workflowsPath: path.join(root, 'dist', 'workflows', 'index.js'),
    });
  });

  it('takes the tree it is told, from either side', () => {
    expect(workflowModulePath('index', 'dist', sourceUrl)).toBe(
      path.join(root, 'dist', 'workflows', 'index.js'),
    );
    expect(workflowModulePath('index', 'source', distUrl)).toBe(path.join(root, 'workflows', 'index.ts'));
    expect(() => workflowModulePath('nope', 'source', sourceUrl)).toThrow(/only in a checkout/);
    expect(() => workflowModulePath('nope', 'dist', sourceUrl)).toThrow(/npm run build/);
  });

  it('takes a prebuilt bundle: the variable, else a fresh dist/workflow-bundle.js when compiled', () => {
    const custom = path.join(root, 'custom-bundle.js');
    writeFileSync(custom, '// a bundle');
    const env = { NETCHECK_WORKFLOW_BUNDLE: custom };
    expect(locateWorkflowCode({ from: 'prebuilt', env, moduleUrl: sourceUrl })).toEqual({
      workflowBundle: { codePath: custom },
    });
    const distBundle = path.join(root, 'dist', 'workflow-bundle.js');
    writeFileSync(distBundle, '// a bundle');
    const now = Date.now() / 1000;
    utimesSync(path.join(root, 'dist', 'workflows', 'index.js'), now - 60, now - 60);
    utimesSync(distBundle, now, now);
    expect(locateWorkflowCode({ from: 'prebuilt', env: {}, moduleUrl: distUrl })).toEqual({
      workflowBundle: { codePath: distBundle },
    });
    // From source, dist/'s bundle is not the code this process runs.
    expect(locateWorkflowCode({ from: 'prebuilt', env: {}, moduleUrl: sourceUrl })).toEqual({
      workflowsPath: path.join(root, 'workflows', 'index.ts'),
    });
  });

  it('passes over a bundle an encrypting worker cannot use, and says so', () => {
    const plain = path.join(root, 'plain-bundle.js');
    writeFileSync(plain, '// a bundle without the encrypting failure converter');
    const notices: string[] = [];
    const code = locateWorkflowCode({
      from: 'prebuilt',
      encryption: true,
      env: { NETCHECK_WORKFLOW_BUNDLE: plain },
      moduleUrl: sourceUrl,
      notice: (line) => notices.push(line),
    });
    expect(code).toEqual({ workflowsPath: path.join(root, 'workflows', 'index.ts') });
    expect(notices.join('\n')).toMatch(/--encrypt-failures/);
  });

  it('looks for no workflow module when it takes a bundle (an image may ship the bundle alone)', () => {
    const bare = mkdtempSync(path.join(os.tmpdir(), 'netcheck-locate-bare-'));
    try {
      mkdirSync(path.join(bare, 'dist', 'worker'), { recursive: true });
      const bundle = path.join(bare, 'dist', 'workflow-bundle.js');
      writeFileSync(bundle, '// a bundle');
      const moduleUrl = pathToFileURL(path.join(bare, 'dist', 'worker', 'workflow-path.js')).href;
      expect(locateWorkflowCode({ from: 'prebuilt', env: {}, moduleUrl })).toEqual({
        workflowBundle: { codePath: bundle },
      });
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('the plugin, bundling', () => {
  it('adds its payload converter to a bundle without any credentials, and keeps a host’s own', () => {
    const plugin = netcheckBundlerPlugin();
    expect(plugin.configureBundler!({ workflowsPath: 'w.ts' }).payloadConverterPath).toBe(
      netcheckPayloadConverterPath(),
    );
    expect(
      plugin.configureBundler!({ workflowsPath: 'w.ts', payloadConverterPath: '/host/converter.js' })
        .payloadConverterPath,
    ).toBe('/host/converter.js');
  });

  it('adds the same as the full plugin does', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const full = new NetcheckPlugin({
      applicationId: randomUUID(),
      privateKey,
      baseUrl: 'http://127.0.0.1:9',
    });
    expect(full.configureBundler({ workflowsPath: 'w.ts' })).toEqual(
      netcheckBundlerPlugin().configureBundler!({ workflowsPath: 'w.ts' }),
    );
  });
});

describe('assembleWorkerOptions', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const vonage = { applicationId: randomUUID(), privateKey, baseUrl: 'http://127.0.0.1:9' };
  const host: WorkerPlugin = { name: 'host' };

  it("puts the host's plugins first and netcheck's last, once", () => {
    const plugin = new NetcheckPlugin(vonage);
    const options = assembleWorkerOptions({
      taskQueue: 'q',
      netcheck: plugin,
      plugins: [host, plugin],
      workflowBundle: { codePath: '/b.js' },
    });
    expect(options.plugins).toEqual([host, plugin]);
    expect(options.workflowBundle).toEqual({ codePath: '/b.js' });
    expect(options.workflowsPath).toBeUndefined();
  });

  it('makes the plugin from its options and names the workflow code when none is given', () => {
    const options = assembleWorkerOptions({ taskQueue: 'q', netcheck: vonage });
    expect(options.plugins?.at(-1)).toBeInstanceOf(NetcheckPlugin);
    // This test runs from source: the source workflows, named before any plugin runs.
    expect(options.workflowsPath).toBe(workflowModulePath('index', 'source'));
  });

  it('refuses wrong plugin options at once', () => {
    expect(() => assembleWorkerOptions({ taskQueue: 'q', netcheck: { ...vonage, rateLimit: -1 } })).toThrow(
      /rateLimit/,
    );
  });
});
