/**
 * The one place that finds netcheck's workflow code, for every worker (worker/assemble.ts), the
 * bundle script and the rate limiter's own bundle. A worker's code comes from one of:
 *
 * - `running` (default): the workflows of the code this process runs: workflows/*.ts under tsx
 *   (tests, scripts), dist/workflows/*.js when compiled. Never the other tree: a dist/ left by an
 *   earlier build must not give a source run old workflow code (commit af97f68).
 * - `source`: workflows/*.ts of a checkout, whatever runs.
 * - `dist`: dist/workflows/*.js of a build.
 * - `prebuilt`: a bundle made ahead of time (`npm run build:bundle`, worker/bundle.ts):
 *   NETCHECK_WORKFLOW_BUNDLE, else dist/workflow-bundle.js when this runs compiled and the
 *   bundle is at least as new as the compiled workflows; else what `running` finds.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from '@temporalio/worker';
import { bundleEncodesFailures, bundleMarksPlaintext } from '../codec/data-converter.js';
import { ConfigurationError } from '../domain/errors.js';
import { findPrebuiltBundle } from './bundle.js';

export type WorkflowCodeFrom = 'running' | 'source' | 'dist' | 'prebuilt';

/** A worker's workflow code, as Worker.create takes it: a module to bundle at start, or a bundle. */
export type WorkflowCode =
  { workflowsPath: string } | { workflowBundle: NonNullable<WorkerOptions['workflowBundle']> };

/** The package (or checkout) root and whether this module runs compiled from its dist/. */
function layout(moduleUrl: string): { root: string; compiled: boolean } {
  const here = fileURLToPath(moduleUrl);
  const compiled = here.endsWith('.js');
  // worker/workflow-path.ts in a checkout; dist/worker/workflow-path.js in a build or package.
  const root = path.resolve(path.dirname(here), compiled ? '../..' : '..');
  return { root, compiled };
}

/** Where a workflows/ module (`index`, `rate-limiter`, `interceptors`) is, in the tree asked for. */
export function workflowModulePath(
  name: string,
  from: Exclude<WorkflowCodeFrom, 'prebuilt'> = 'running',
  moduleUrl: string = import.meta.url,
): string {
  const { root, compiled } = layout(moduleUrl);
  const tree = from === 'running' ? (compiled ? 'dist' : 'source') : from;
  const candidate =
    from === 'running'
      ? fileURLToPath(new URL(`../workflows/${name}.${compiled ? 'js' : 'ts'}`, moduleUrl))
      : tree === 'dist'
        ? path.join(root, 'dist', 'workflows', `${name}.js`)
        : path.join(root, 'workflows', `${name}.ts`);
  if (existsSync(candidate)) return candidate;
  throw new ConfigurationError([
    tree === 'dist'
      ? `netcheck's compiled workflows are not at ${candidate}: run \`npm run build\`, or is the package installed completely?`
      : `netcheck's workflow source is not at ${candidate}: the source is only in a checkout of netcheck (an installed package has dist/).`,
  ]);
}

export interface LocateOptions {
  /** Which code (default `running`). */
  from?: WorkflowCodeFrom;
  /** The worker encrypts payloads: a prebuilt bundle without netcheck's failure converter is passed over. */
  encryption?: boolean;
  /** Told why a prebuilt bundle was passed over (default: stderr). */
  notice?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** For tests: where this module is. */
  moduleUrl?: string;
}

/** The workflow code a worker should run (see the module comment for the choices). */
export function locateWorkflowCode(options: LocateOptions = {}): WorkflowCode {
  const { from = 'running', moduleUrl = import.meta.url } = options;
  if (from !== 'prebuilt') return { workflowsPath: workflowModulePath('index', from, moduleUrl) };
  const prebuilt = findPrebuiltBundle(options.env ?? process.env, moduleUrl);
  // Looked up only when no bundle is taken: an image may ship the bundle without the modules.
  const running = () => ({ workflowsPath: workflowModulePath('index', 'running', moduleUrl) });
  if (!prebuilt) return running();
  const { codePath } = prebuilt;
  // Encrypted payloads: the bundle must keep failure messages encrypted and mark plaintext inputs.
  if (options.encryption && !(bundleEncodesFailures(codePath) && bundleMarksPlaintext(codePath))) {
    (options.notice ?? ((line: string) => console.error(line)))(
      `netcheck: the workflow bundle ${codePath} was built without the encrypting failure converter or netcheck's payload converter; ` +
        'bundling the workflows at start instead (build it with `npm run build:bundle -- --encrypt-failures`).',
    );
    return running();
  }
  return { workflowBundle: { codePath } };
}
