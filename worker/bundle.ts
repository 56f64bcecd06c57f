/**
 * Bundling netcheck's workflows. Two halves:
 *
 * - What netcheck adds to any bundle of its workflows (`netcheckBundlerPlugin`, the bundler half
 *   of NetcheckPlugin): its payload converter. It needs no Vonage credentials, so a bundle can be
 *   built (`npm run build:bundle`, CI, a Dockerfile) where there are none.
 * - The prebuilt bundle (scripts/build-bundle.ts), so a production worker starts without running
 *   webpack: NETCHECK_WORKFLOW_BUNDLE names it, else `dist/workflow-bundle.js` is used when this
 *   module runs compiled from dist/ and that file is at least as new as the compiled workflows.
 *   worker/workflow-path.ts decides when a worker takes it (`locateWorkflowCode`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions, BundlerPlugin } from '@temporalio/worker';
import { netcheckPayloadConverterPath } from '../codec/data-converter.js';
import { settingText } from '../common/settings.js';
import { ConfigurationError } from '../domain/errors.js';

/**
 * netcheck's part of a workflow bundle: its payload converter, which carries the mark of an input
 * that arrived unencrypted to the workflows. A host's own payloadConverterPath stays.
 */
export function withNetcheckBundleOptions(options: BundleOptions): BundleOptions {
  return { ...options, payloadConverterPath: options.payloadConverterPath ?? netcheckPayloadConverterPath() };
}

/**
 * The bundler half of NetcheckPlugin on its own, without credentials:
 * `bundleWorkflowCode({ workflowsPath, plugins: [netcheckBundlerPlugin()] })` makes the bundle a
 * worker with the full plugin would make at start.
 */
export function netcheckBundlerPlugin(): BundlerPlugin {
  return { name: 'netcheck', configureBundler: withNetcheckBundleOptions };
}

export const WORKFLOW_BUNDLE_ENV = 'NETCHECK_WORKFLOW_BUNDLE';
/** File name of the bundle that `npm run build:bundle` writes into dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

export interface PrebuiltBundle {
  codePath: string;
  /** Where it was found: the environment variable, or the default path in dist/. */
  source: 'env' | 'default';
}

/** Newest modification time of the compiled code a bundle is made of (dist/workflows, dist/domain). */
function newestSourceMtime(distDir: string): number {
  let newest = 0;
  for (const dir of ['workflows', 'domain'].map((name) => path.join(distDir, name))) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
      newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/**
 * The bundle a worker should load, or undefined to bundle at start. A variable that names a
 * missing file is a configuration error; a default bundle older than the compiled workflow code
 * it was built from is ignored (rebuilt code must not run an old bundle).
 */
export function findPrebuiltBundle(
  env: NodeJS.ProcessEnv = process.env,
  moduleUrl: string = import.meta.url,
): PrebuiltBundle | undefined {
  const fromEnv = settingText(WORKFLOW_BUNDLE_ENV, env);
  if (fromEnv) {
    const codePath = path.resolve(fromEnv);
    if (!existsSync(codePath)) {
      throw new ConfigurationError([
        `${WORKFLOW_BUNDLE_ENV} names ${codePath}, which does not exist: build it with \`npm run build:bundle -- --out ${fromEnv}\`, or unset the variable to bundle at start.`,
      ]);
    }
    return { codePath, source: 'env' };
  }
  const here = fileURLToPath(moduleUrl);
  if (!here.endsWith('.js')) return undefined; // running from source: bundle the current code
  const distDir = path.dirname(path.dirname(here));
  const codePath = path.join(distDir, WORKFLOW_BUNDLE_FILE);
  if (!existsSync(codePath)) return undefined;
  if (statSync(codePath).mtimeMs < newestSourceMtime(distDir)) return undefined;
  return { codePath, source: 'default' };
}
