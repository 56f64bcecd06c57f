/**
 * `assembleWorker()`: the one way netcheck builds a worker. The standalone worker (main.ts),
 * `netcheck/testing`'s test worker (and through it the project's own tests), the CLI's local
 * stack and the benchmark all come here, so a worker's workflow code and plugins are decided
 * once:
 *
 * - the workflow code is what the options name (`workflowsPath` or `workflowBundle`), else what
 *   `locateWorkflowCode(workflows)` finds (workflow-path.ts: the code this process runs, the
 *   source, dist/ or a prebuilt bundle), never left to a guess further down;
 * - the host's plugins come first and netcheck's plugin last: a guest, it sees what the host
 *   configured (its DataConverter, its identity) and adds to it.
 */
import { Worker, type WorkerOptions, type WorkerPlugin } from '@temporalio/worker';
import { NetcheckPlugin, type NetcheckPluginOptions } from './plugin.js';
import { locateWorkflowCode, type LocateOptions } from './workflow-path.js';

export interface AssembleWorkerOptions extends WorkerOptions {
  /** netcheck's plugin, or the options to make one with. */
  netcheck: NetcheckPlugin | NetcheckPluginOptions;
  /**
   * Where the workflow code comes from when the options name neither `workflowsPath` nor
   * `workflowBundle` (default: `{ from: 'running' }`, the workflows of the code this process runs).
   */
  workflows?: LocateOptions;
}

/** The worker options assembleWorker passes to Worker.create (exported for tests and replay). */
export function assembleWorkerOptions(options: AssembleWorkerOptions): WorkerOptions {
  const { netcheck, workflows, plugins = [], ...rest } = options;
  const plugin = netcheck instanceof NetcheckPlugin ? netcheck : new NetcheckPlugin(netcheck);
  const code =
    rest.workflowBundle !== undefined || rest.workflowsPath !== undefined
      ? {}
      : locateWorkflowCode(workflows);
  const hostPlugins: WorkerPlugin[] = plugins.filter((p) => p !== plugin);
  return { ...rest, ...code, plugins: [...hostPlugins, plugin] };
}

/** Worker.create with netcheck's plugin and workflow code (see the module comment). */
export async function assembleWorker(options: AssembleWorkerOptions): Promise<Worker> {
  return Worker.create(assembleWorkerOptions(options));
}
