/**
 * `npm run build:bundle [-- --out FILE] [--workflows PATH]`: bundles netcheck's workflow code once,
 * ahead of time, the way a worker would at start (the netcheck plugin's bundler half included:
 * netcheckBundlerPlugin(), which needs no credentials), and writes it where a worker finds it
 * (worker/workflow-path.ts). The Docker image runs it after `npm run build`, so its workers
 * start without webpack.
 *
 * Defaults: the compiled workflows (dist/workflows/index.js) when present, else the source
 * (workflows/index.ts); output dist/workflow-bundle.js.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { netcheckFailureConverterPath } from '../codec/data-converter.js';
import { netcheckBundlerPlugin, WORKFLOW_BUNDLE_FILE } from '../worker/bundle.js';
import { netcheckMetricsPlugin } from '../worker/metrics.js';
import { workflowModulePath, type WorkflowCodeFrom } from '../worker/workflow-path.js';
import { projectRoot } from '../cli/stack/temporal-cli.js';

export interface BuildBundleOptions {
  /** Workflow entry module; overrides `from`. */
  workflowsPath?: string;
  /**
   * Which workflows (worker/workflow-path.ts): `source` (workflows/index.ts) or `dist`
   * (dist/workflows/index.js). Default: dist when built, else source, for the bundle in dist/.
   * Whatever runs the rest of its code from source (tests, the chaos run, the cluster script)
   * says `source`: a dist/ left by an earlier build would give its workers old workflow code.
   */
  from?: Exclude<WorkflowCodeFrom, 'prebuilt' | 'running'>;
  /** Output file (default dist/workflow-bundle.js). */
  out?: string;
  /** Include the encrypting failure converter (for workers with NETCHECK_ENCRYPTION_KEYS; docs/security.md). */
  encryptFailures?: boolean;
  /**
   * The workflows alone, without netcheck's plugin contributions (payload converter, metrics
   * interceptor): what `bundleWorkflowCode({ workflowsPath })` alone makes (the tests use one).
   */
  bare?: boolean;
}

/** The workflows' source entry: `from: 'source'` (kept for the scripts that name the path). */
export const SOURCE_WORKFLOWS_PATH = workflowModulePath('index', 'source');

/** The default entry of `npm run build:bundle`: the compiled workflows when built, else the source. */
export function defaultWorkflowsPath(root = projectRoot): string {
  return existsSync(path.join(root, 'dist', 'workflows', 'index.js'))
    ? workflowModulePath('index', 'dist')
    : workflowModulePath('index', 'source');
}

/** Bundles the workflow code and writes it atomically; returns the file and its size. */
export async function buildWorkflowBundle(
  options: BuildBundleOptions = {},
): Promise<{ codePath: string; workflowsPath: string; bytes: number }> {
  const workflowsPath = path.resolve(
    options.workflowsPath ??
      (options.from ? workflowModulePath('index', options.from) : defaultWorkflowsPath()),
  );
  const codePath = path.resolve(options.out ?? path.join(projectRoot, 'dist', WORKFLOW_BUNDLE_FILE));
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...(options.encryptFailures ? { failureConverterPath: netcheckFailureConverterPath() } : {}),
    // netcheck's bundler half (its payload converter), and the metrics workflow interceptor baked
    // in: a worker with a bundle cannot add it at start.
    plugins: options.bare ? [] : [netcheckBundlerPlugin(), netcheckMetricsPlugin()],
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  await mkdir(path.dirname(codePath), { recursive: true });
  const tmp = `${codePath}.${process.pid}.tmp`;
  await writeFile(tmp, code);
  await rename(tmp, codePath);
  return { codePath, workflowsPath, bytes: Buffer.byteLength(code) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      workflows: { type: 'string' },
      'encrypt-failures': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run build:bundle [-- --out FILE] [--workflows PATH]\n' +
        '  --out FILE        where to write the bundle (default dist/workflow-bundle.js)\n' +
        '  --workflows PATH  workflow entry module (default dist/workflows/index.js, else workflows/index.ts)\n' +
        '  --encrypt-failures  include the failure converter that encrypted workers need (docs/security.md)\n' +
        'A worker loads it from NETCHECK_WORKFLOW_BUNDLE, or from dist/workflow-bundle.js when run from dist/.',
    );
  } else {
    const result = await buildWorkflowBundle({
      ...(values.out ? { out: values.out } : {}),
      ...(values.workflows ? { workflowsPath: values.workflows } : {}),
      ...(values['encrypt-failures'] ? { encryptFailures: true } : {}),
    });
    console.log(
      `workflow bundle: ${path.relative(process.cwd(), result.codePath) || result.codePath} ` +
        `(${(result.bytes / 1024).toFixed(0)} KiB, from ${path.relative(process.cwd(), result.workflowsPath)})`,
    );
  }
}
