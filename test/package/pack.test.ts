/**
 * What `npm pack` would publish: the compiled package (dist/), its README and LICENSE, nothing
 * else — no tests, no sources, no keys. Builds dist/ first (`npm run build`, which clears it,
 * so nothing stale is packed), then imports the compiled entry points through the package's
 * own name, as a user's code would.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackedFile {
  path: string;
}
interface ExportTarget {
  types: string;
  default: string;
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, ExportTarget | string>;
  bin: Record<string, string>;
  peerDependencies: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

let files: string[] = [];

beforeAll(async () => {
  await run(npm, ['run', '-s', 'build'], { cwd: root, timeout: 280_000 });
  const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    timeout: 60_000,
  });
  files = (JSON.parse(stdout) as [{ files: PackedFile[] }])[0].files.map((f) => f.path);
}, 300_000);

describe('npm pack', () => {
  it('holds dist/, package.json, README.md and LICENSE only', () => {
    const outside = files.filter((f) => !f.startsWith('dist/'));
    expect(outside.sort()).toEqual(
      ['LICENSE', 'README.md', 'package.json'].filter(
        (f) => f !== 'LICENSE' || existsSync(path.join(root, f)),
      ),
    );
    expect(files).toContain('README.md');
  });

  it('has no tests, benchmarks, scripts, TypeScript sources or keys', () => {
    const unwanted = files.filter(
      (f) =>
        /(^|\/)(test|bench|scripts|fixtures|\.netcheck|\.temporal)\//.test(f) ||
        /\.test\.|\.spec\./.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
        /\.(pem|key|p12|crt|env)$/.test(f) ||
        /private|secret/i.test(path.basename(f)),
    );
    expect(unwanted).toEqual([]);
  });

  it('LICENSE is packed', (ctx) => {
    if (!existsSync(path.join(root, 'LICENSE'))) {
      console.warn('skipped: there is no LICENSE file in this checkout yet');
      ctx.skip();
    }
    expect(files).toContain('LICENSE');
  });

  it('every export and the bin point at packed files', () => {
    const targets = Object.values(pkg.exports).flatMap((t) =>
      typeof t === 'string' ? [t] : [t.types, t.default],
    );
    const missing = [...targets, ...Object.values(pkg.bin)]
      .map((t) => t.replace(/^\.\//, ''))
      .filter((t) => !files.includes(t));
    expect(missing).toEqual([]);
    expect(Object.keys(pkg.exports)).toEqual(
      expect.arrayContaining(['.', './testing', './client', './workflows']),
    );
  });

  it('asks for @temporalio/* as peers (^1.24), one version locked, kept by a production install', () => {
    const temporal = Object.keys(pkg.peerDependencies).filter((d) => d.startsWith('@temporalio/'));
    expect(temporal).toEqual(
      expect.arrayContaining(['@temporalio/client', '@temporalio/worker', '@temporalio/workflow']),
    );
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    for (const name of temporal) {
      expect(pkg.peerDependencies[name]).toBe('^1.24.0');
      expect(pkg.dependencies[name]).toBeUndefined();
      // Not a dev dependency as well: `npm ci --omit=dev` (the production image) must keep it.
      expect(pkg.devDependencies[name]).toBeUndefined();
      const locked = lock.packages[`node_modules/${name}`];
      expect(locked?.version).toMatch(/^1\.\d+\.\d+$/);
      expect(locked?.dev).toBeUndefined();
    }
    // One SDK version for all of them.
    expect(new Set(temporal.map((name) => lock.packages[`node_modules/${name}`]?.version)).size).toBe(1);
    // What the CLI loads at run time is a dependency (`netcheck dev` falls back to @temporalio/testing).
    expect(pkg.dependencies['@temporalio/testing']).toBeDefined();
  });
});

describe('the compiled package, imported by its name', () => {
  it(
    'the root, netcheck/testing, netcheck/worker and the bin load from dist/',
    { timeout: 120_000 },
    async () => {
      const probe = `
      const root = await import('netcheck');
      const testing = await import('netcheck/testing');
      const worker = await import('netcheck/worker');
      console.log(JSON.stringify({
        root: Object.keys(root), testing: Object.keys(testing), worker: Object.keys(worker),
        workflowsPath: root.netcheckWorkflowsPath(),
      }));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: root });
      const loaded = JSON.parse(stdout) as Record<'root' | 'testing' | 'worker', string[]> & {
        workflowsPath: string;
      };
      expect(loaded.root).toEqual(
        expect.arrayContaining([
          'checkNumber',
          'startBatch',
          'connectClient',
          'NetcheckPlugin',
          'NetcheckError',
          'ConfigurationError',
          'InvalidRequestError',
          'UsageError',
        ]),
      );
      expect(loaded.testing).toEqual(expect.arrayContaining(['startTestSimulator', 'createTestWorker']));
      expect(loaded.worker).toEqual(expect.arrayContaining(['createNetcheckWorker', 'NetcheckPlugin']));
      expect(path.relative(root, loaded.workflowsPath)).toBe(path.join('dist', 'workflows', 'index.js'));

      const version = await run(process.execPath, [path.join(root, pkg.bin.netcheck!), '--version'], {
        cwd: root,
      });
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    },
  );
});
