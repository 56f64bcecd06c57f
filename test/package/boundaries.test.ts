/**
 * The client API is light: importing it (or the package root) never loads @temporalio/worker
 * and its native bridge. Each module is imported in a fresh Node process, which then lists the
 * CommonJS modules it loaded (every @temporalio package is CommonJS, so all of them show).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

const PROBE = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const mod = await import(pathToFileURL(process.argv[1]).href);
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({
  exports: Object.keys(mod).length,
  temporal: [...new Set(loaded.map((p) => /[\\\\/]@temporalio[\\\\/]([^\\\\/]+)/.exec(p)?.[1]).filter(Boolean))],
}));
`;

async function loadedBy(modulePath: string): Promise<{ exports: number; temporal: string[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', PROBE, path.join(root, modulePath)],
    { cwd: root, timeout: 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { exports: number; temporal: string[] };
}

describe('what an import loads', () => {
  // The package root re-exports client/batch.ts too, so it stands for that module.
  it.each(['client/index.ts', 'index.ts'])('%s: the Temporal client, not the worker', async (modulePath) => {
    const { exports, temporal } = await loadedBy(modulePath);
    expect(exports).toBeGreaterThan(0);
    expect(temporal).toContain('client');
    expect(temporal).not.toContain('worker');
    expect(temporal).not.toContain('core-bridge');
  });

  it('worker/index.ts: the worker (the probe sees it when it is there)', async () => {
    const { temporal } = await loadedBy('worker/index.ts');
    expect(temporal).toContain('worker');
  });
});
