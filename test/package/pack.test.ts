/**
 * The package as it is published, and as a Temporal team adopts it.
 *
 * `npm pack` (its prepack builds dist/, clearing it first, so nothing stale is packed): what the
 * tarball holds, what package.json promises. Then fresh npm projects install that tarball as an
 * application would (from the local npm cache where it can; skipped, saying so, when no
 * registry can be reached):
 * - beside every `@temporalio/*` package at the lock file's version, every TypeScript block of
 *   README.md and docs/*.md is typechecked (moduleResolution nodenext), except blocks marked
 *   `<!-- not-compiled: reason -->`, which are listed; the root entry resolves under node10;
 * - with `@temporalio/client` alone, its node_modules stays within 1.5× of `@temporalio/client`'s
 *   own (a size, not a timing), the client entry and the root load without the worker, bad input
 *   is refused with netcheck's errors, and what needs a missing package says what to install.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_PACKAGES, OPTIONAL_PACKAGES } from '../../common/optional.js';
import {
  docBlocks,
  documentedFiles,
  lockfile,
  locked,
  mb,
  npm,
  npmInstall,
  OFFLINE,
  root,
  run,
  treeBytes,
  type DocBlock,
} from './consumer.js';

interface PackedFile {
  path: string;
}
interface ExportTarget {
  types: string;
  default: string;
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, ExportTarget | string>;
  bin: Record<string, string>;
  files: string[];
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const work = mkdtempSync(path.join(os.tmpdir(), 'netcheck-pack-'));
let tarball = '';
let files: string[] = [];

beforeAll(async () => {
  // prepack runs `npm run build` (dist/ cleared, then compiled); --json lists what was packed.
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    timeout: 400_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [
    { filename: string; files: PackedFile[] },
  ];
  tarball = path.join(work, packed.filename);
  files = packed.files.map((f) => f.path);
}, 420_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('holds dist/, package.json, README.md, CHANGELOG.md and LICENSE only', () => {
    const outside = files.filter((f) => !f.startsWith('dist/'));
    expect(outside.sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
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

  it('ships no source map pointing at a file it lacks', () => {
    // The maps are not shipped (their sources are not either); no compiled file names one.
    const maps = files.filter((f) => f.endsWith('.map'));
    const mentioning = files
      .filter((f) => f.endsWith('.js') || f.endsWith('.cjs'))
      .filter((f) => /^\/\/# sourceMappingURL=/m.test(readFileSync(path.join(root, f), 'utf8')));
    expect({ maps, mentioning }).toEqual({ maps: [], mentioning: [] });
  });

  it('main, types, every export and the bin point at packed files', () => {
    const targets = Object.values(pkg.exports).flatMap((t) =>
      typeof t === 'string' ? [t] : [t.types, t.default],
    );
    const missing = [pkg.main, pkg.types, ...targets, ...Object.values(pkg.bin)]
      .map((t) => t.replace(/^\.\//, ''))
      .filter((t) => !files.includes(t));
    expect(missing).toEqual([]);
    expect(pkg.main).toBe(
      typeof pkg.exports['.'] === 'string' ? pkg.exports['.'] : pkg.exports['.']!.default,
    );
    expect(Object.keys(pkg.exports)).toEqual(
      expect.arrayContaining([
        '.',
        './testing',
        './client',
        './workflows',
        './worker/plugin',
        './worker/metrics',
        './worker/tracing',
      ]),
    );
  });

  it('asks for @temporalio/* as peers (^1.24), one version locked; worker-side peers optional', () => {
    const temporal = Object.keys(pkg.peerDependencies).filter((d) => d.startsWith('@temporalio/'));
    expect(temporal).toEqual(
      expect.arrayContaining(['@temporalio/client', '@temporalio/worker', '@temporalio/workflow']),
    );
    const lock = lockfile();
    for (const name of temporal) {
      expect(pkg.peerDependencies[name]).toBe('^1.24.0');
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(lock.packages[`node_modules/${name}`]?.version).toMatch(/^1\.\d+\.\d+$/);
    }
    // One SDK version for all of them.
    expect(new Set(temporal.map((name) => lock.packages[`node_modules/${name}`]?.version)).size).toBe(1);

    // Optional: what only a worker, tracing or the dev server's download needs. Each is a dev
    // dependency too (a checkout runs everything), and the table the errors name agrees.
    const optional = Object.keys(pkg.peerDependenciesMeta).filter(
      (n) => pkg.peerDependenciesMeta[n]?.optional,
    );
    expect(optional.sort()).toEqual(Object.keys(OPTIONAL_PACKAGES).sort());
    for (const name of optional) {
      expect(pkg.peerDependencies[name], name).toBe(
        OPTIONAL_PACKAGES[name as keyof typeof OPTIONAL_PACKAGES],
      );
      expect(pkg.devDependencies[name], name).toBe(pkg.peerDependencies[name]);
      expect(pkg.dependencies[name], name).toBeUndefined();
    }
    expect(optional).toEqual(
      expect.arrayContaining([...FEATURE_PACKAGES.worker, ...FEATURE_PACKAGES.tracing]),
    );
    // What the client path loads stays required (npm installs it with netcheck) and is no dev
    // dependency: `npm ci --omit=dev` keeps it.
    for (const name of temporal.filter((n) => !optional.includes(n))) {
      expect(pkg.devDependencies[name], name).toBeUndefined();
      expect(lock.packages[`node_modules/${name}`]?.dev, name).toBeUndefined();
    }
    for (const name of ['@temporalio/testing', '@opentelemetry/sdk-trace-node']) {
      expect(pkg.dependencies[name], `${name} is no runtime dependency`).toBeUndefined();
    }
  });

  it('has a changelog with an Unreleased section and the compatibility policy', () => {
    const changelog = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(/^## Unreleased$/m);
    expect(changelog).toMatch(/^## Compatibility$/m);
    expect(changelog).toMatch(/deprecatePatch/);
    expect(changelog).toMatch(/workflows\/patches\.ts/);
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
      const metrics = await import('netcheck/worker/metrics');
      const tracing = await import('netcheck/worker/tracing');
      console.log(JSON.stringify({
        root: Object.keys(root), testing: Object.keys(testing), worker: Object.keys(worker),
        metrics: Object.keys(metrics), tracing: Object.keys(tracing),
        workflowsPath: root.netcheckWorkflowsPath(),
      }));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: root });
      const loaded = JSON.parse(stdout) as Record<
        'root' | 'testing' | 'worker' | 'metrics' | 'tracing',
        string[]
      > & {
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
          'BatchClosedError',
          'BatchConflictError',
        ]),
      );
      expect(loaded.testing).toEqual(expect.arrayContaining(['startTestSimulator', 'createTestWorker']));
      expect(loaded.worker).toEqual(expect.arrayContaining(['createNetcheckWorker', 'NetcheckPlugin']));
      expect(loaded.metrics).toEqual(
        expect.arrayContaining(['netcheckMetricsPlugin', 'httpMetricsObserver', 'installMetricsRuntime']),
      );
      expect(loaded.tracing).toEqual(expect.arrayContaining(['createTracing']));
      expect(path.relative(root, loaded.workflowsPath)).toBe(path.join('dist', 'workflows', 'index.js'));

      const version = await run(process.execPath, [path.join(root, pkg.bin.netcheck!), '--version'], {
        cwd: root,
      });
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    },
  );
});

/**
 * What the docs' examples use without defining: the application's own client, connection and
 * sinks. Declared here, not in the docs, so each block shows only what it is about.
 */
const DOC_GLOBALS = `import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { BatchItem, BatchRecord, CheckRequest, NetcheckPluginOptions } from 'netcheck';

declare global {
  /** The application's Temporal client and its workers' connection. */
  const client: Client;
  const connection: NativeConnection;
  /** A check request, a number, batch input and where records go. */
  const request: CheckRequest;
  const msisdn: string;
  const items: BatchItem[];
  const customers: AsyncIterable<BatchItem>;
  const sink: { write(record: BatchRecord): void };
  const pipeline: { write(record: BatchRecord): void };
  /** The application's own decisions. */
  function holdTransfer(): void;
  function flagForReview(): void;
  /** The Vonage application (loadConfig() gives one). */
  const vonage: Pick<NetcheckPluginOptions, 'applicationId' | 'privateKey' | 'baseUrl'>;
  const taskQueue: string;
  const workflowsPath: string;
}
export {};
`;

const TSCONFIG_NODENEXT = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['blocks', 'src', 'test', 'doc-globals.d.ts'],
};

const TSCONFIG_NODE10 = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'CommonJS',
    moduleResolution: 'node10',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node'],
  },
  include: ['node10'],
};

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function writeProject(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
}

/** Runs tsc; returns its error lines (tsc exits non-zero on errors). */
async function typecheck(dir: string, project: string): Promise<string[]> {
  try {
    await run(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: dir, timeout: 300_000 });
    return [];
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    return out.split('\n').filter((line) => line.trim() !== '');
  }
}

describe('a consumer project that installs the tarball', () => {
  let offline: string | undefined;
  const consumer = path.join(work, 'consumer');
  const clientOnly = path.join(work, 'client-only');
  const clientAlone = path.join(work, 'client-alone');
  let blocks: DocBlock[] = [];

  /** Installs, or notes why no registry could be reached (the tests then skip, saying so). */
  async function install(dir: string, specs: string[]): Promise<boolean> {
    if (offline) return false;
    try {
      await npmInstall(dir, specs);
      return true;
    } catch (err) {
      const text = `${(err as Error).message}\n${(err as { stderr?: string }).stderr ?? ''}`;
      if (!OFFLINE.test(text)) throw err;
      offline = text.split('\n').find((line) => OFFLINE.test(line)) ?? 'no registry';
      return false;
    }
  }

  function skipWhenOffline(ctx: { skip: () => void }): void {
    if (!offline) return;
    console.warn(`skipped: npm could not reach a registry and the local cache lacks a package (${offline})`);
    ctx.skip();
  }

  beforeAll(async () => {
    const lock = lockfile();
    const temporal = Object.keys(pkg.peerDependencies).filter((n) => n.startsWith('@temporalio/'));
    const others = Object.keys(pkg.peerDependencies).filter((n) => !n.startsWith('@temporalio/'));
    // The application: netcheck beside every @temporalio/* package (and the tracing packages,
    // vitest, Node's types) at the versions this repository locks.
    writeProject(consumer, 'netcheck-consumer');
    await install(consumer, [
      tarball,
      ...[...temporal, ...others, '@types/node', 'vitest'].map((name) => locked(name, lock)),
    ]);
    // A service that only starts checks, and @temporalio/client alone for comparison.
    writeProject(clientOnly, 'netcheck-client-only');
    await install(clientOnly, [tarball, locked('@temporalio/client', lock)]);
    writeProject(clientAlone, 'temporal-client-alone');
    await install(clientAlone, [locked('@temporalio/client', lock)]);
  }, 1_500_000);

  it(
    'every TypeScript block of README.md and docs/*.md typechecks against it (nodenext)',
    { timeout: 300_000 },
    async (ctx) => {
      skipWhenOffline(ctx);
      blocks = docBlocks(documentedFiles());
      const compiled = blocks.filter((b) => !b.skip);
      rmSync(path.join(consumer, 'blocks'), { recursive: true, force: true });
      for (const block of compiled) {
        const file = path.join(consumer, block.file);
        mkdirSync(path.dirname(file), { recursive: true });
        // A block without imports or exports is still a module of its own.
        const isModule = /^\s*(import|export)\s/m.test(block.code);
        writeFileSync(file, `${block.code}\n${isModule ? '' : 'export {};\n'}`);
      }
      writeFileSync(path.join(consumer, 'doc-globals.d.ts'), DOC_GLOBALS);
      writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify(TSCONFIG_NODENEXT, null, 2));
      console.log(
        [
          `doc blocks: ${compiled.length} compiled, ${blocks.length - compiled.length} skipped`,
          ...blocks.map(
            (b) => `  ${b.skip ? 'skipped ' : 'compiled'} ${b.doc}:${b.line}${b.skip ? ` (${b.skip})` : ''}`,
          ),
        ].join('\n'),
      );
      const errors = await typecheck(consumer, 'tsconfig.json');
      // Each error at its line in the Markdown file.
      const located = errors.map((line) => {
        const m = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
        const block = m && compiled.find((b) => path.normalize(b.file) === path.normalize(m[1]!));
        return block && m ? `${block.doc}:${block.line + Number(m[2]) - 1}: ${m[4]}` : line;
      });
      expect(located.join('\n'), 'mark a deliberately partial block <!-- not-compiled: reason -->').toBe('');
      expect(compiled.length).toBeGreaterThanOrEqual(10);
      expect(compiled.map((b) => b.doc)).toEqual(
        expect.arrayContaining(['README.md', 'docs/library.md', 'docs/observability.md']),
      );
    },
  );

  it(
    'the root entry resolves under moduleResolution node10 (top-level types)',
    { timeout: 300_000 },
    async (ctx) => {
      skipWhenOffline(ctx);
      mkdirSync(path.join(consumer, 'node10'), { recursive: true });
      writeFileSync(
        path.join(consumer, 'node10', 'check.ts'),
        `import { checkNumber, InvalidRequestError, NetcheckPlugin, type CheckResult } from 'netcheck';
import type { Client } from '@temporalio/client';

export async function check(client: Client): Promise<CheckResult['status'] | 'INVALID_INPUT'> {
  try {
    return (await checkNumber(client, { msisdn: '+447700900001', operation: 'sim-swap' })).status;
  } catch (err) {
    if (err instanceof InvalidRequestError) return err.code;
    throw err;
  }
}
export const plugin: typeof NetcheckPlugin = NetcheckPlugin;
`,
      );
      writeFileSync(path.join(consumer, 'tsconfig.node10.json'), JSON.stringify(TSCONFIG_NODE10, null, 2));
      expect(await typecheck(consumer, 'tsconfig.node10.json')).toEqual([]);
    },
  );

  it('with @temporalio/client alone, node_modules stays within 1.5× of the client by itself', (ctx) => {
    skipWhenOffline(ctx);
    const withNetcheck = treeBytes(path.join(clientOnly, 'node_modules'));
    const alone = treeBytes(path.join(clientAlone, 'node_modules'));
    const ratio = withNetcheck / alone;
    console.log(
      `client-only install: netcheck + @temporalio/client ${mb(withNetcheck)}, @temporalio/client alone ${mb(alone)} (${ratio.toFixed(2)}×)`,
    );
    expect(ratio).toBeLessThanOrEqual(1.5);
  });

  it(
    'there, the client entry and the root load without the worker; bad input is an InvalidRequestError',
    { timeout: 120_000 },
    async (ctx) => {
      skipWhenOffline(ctx);
      const probe = `
      import { createRequire } from 'node:module';
      import { Client } from '@temporalio/client';
      const client = await import('netcheck/client');
      const root = await import('netcheck');
      const loaded = Object.keys(createRequire(import.meta.url).cache)
        .map((p) => /[\\\\/]@temporalio[\\\\/]([^\\\\/]+)/.exec(p)?.[1]).filter(Boolean);
      let error;
      try {
        await root.startCheck(new Client(), { msisdn: 'not a number', operation: 'sim-swap' });
      } catch (err) {
        error = { name: err.name, code: err.code, netcheck: err instanceof root.NetcheckError, message: err.message };
      }
      let worker;
      try { await import('netcheck/worker'); } catch (err) { worker = String(err.message); }
      console.log(JSON.stringify({
        client: typeof client.startCheck, root: typeof root.NetcheckPlugin,
        temporal: [...new Set(loaded)], error, worker,
      }));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: clientOnly,
      });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        client: string;
        root: string;
        temporal: string[];
        error: { name: string; code: string; netcheck: boolean; message: string };
        worker?: string;
      };
      expect(out.client).toBe('function');
      expect(out.root).toBe('function');
      expect(out.temporal).toContain('client');
      expect(out.temporal).not.toContain('worker');
      expect(out.temporal).not.toContain('core-bridge');
      expect(out.error).toMatchObject({ name: 'InvalidRequestError', code: 'INVALID_INPUT', netcheck: true });
      expect(out.worker).toMatch(/@temporalio\/worker/);
    },
  );

  it('there, `netcheck worker` exits 2 naming the package to install; `netcheck --version` works', async (ctx) => {
    skipWhenOffline(ctx);
    const bin = path.join(clientOnly, 'node_modules', 'netcheck', pkg.bin.netcheck!);
    const version = await run(process.execPath, [bin, '--version'], { cwd: clientOnly });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const failed = await run(process.execPath, [bin, 'worker'], { cwd: clientOnly }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/`netcheck worker` needs @temporalio\/worker, which is not installed here/);
    expect(failed.stderr).toMatch(/npm install '@temporalio\/worker@\^1\.24\.0'/);
  });
});
