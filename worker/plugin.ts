/**
 * netcheckPlugin: adds netcheck's workflows and Vonage activities to any Temporal worker.
 *
 *   const worker = await Worker.create({ connection, taskQueue: 'netcheck', plugins: [netcheckPlugin(config)] });
 *
 * A worker that already has its own workflowsPath must export netcheck's workflows from it
 * (`export * from 'netcheck/workflows'`); a worker with no workflows gets netcheck's.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SimplePlugin } from '@temporalio/plugin';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { encryptingDataConverter } from '../codec/data-converter.js';
import type { KeyRing } from '../codec/keyring.js';
import type { VonageConfig } from './config.js';

/** The workflow entry module, as source (tests, tsx) or compiled (dist/). */
export function netcheckWorkflowsPath(): string {
  for (const name of ['../workflows/index.js', '../workflows/index.ts']) {
    const candidate = fileURLToPath(new URL(name, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('netcheck workflows not found next to worker/: is the package installed completely?');
}

export interface NetcheckPluginOptions extends VonageConfig {
  /** HTTP pool settings for the Vonage origin. */
  http?: ActivityDeps['http'];
  /**
   * Requests per second to Vonage, for every worker of the task queue together: each activity
   * attempt is one HTTP request, and Temporal's server enforces this rate on the queue's activity
   * tasks. Every worker of the queue should set the same value. Each worker also paces its own
   * requests to this rate (`http.maxRequestsPerSecond`, unless set): the server's limiter lets
   * short bursts through, and local activities (fast mode) bypass it.
   */
  rateLimit?: number;
  /** Payload encryption key ring (NETCHECK_ENCRYPTION_KEYS): the worker and replay workers encrypt with it. */
  encryption?: KeyRing;
}

/**
 * After a worker dies, its sticky queue holds the workflow for this long before another worker
 * takes it. CIBA's interval and expires_in keep running meanwhile, so keep it short.
 */
const STICKY_SCHEDULE_TO_START_MS = 3_000;

class NetcheckPlugin extends SimplePlugin {
  constructor(
    options: ConstructorParameters<typeof SimplePlugin>[0],
    private readonly rateLimit?: number,
  ) {
    super(options);
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    return {
      ...configured,
      // Keep a caller's own bundle; otherwise bring netcheck's workflows.
      workflowsPath: configured.workflowBundle
        ? configured.workflowsPath
        : (configured.workflowsPath ?? netcheckWorkflowsPath()),
      stickyQueueScheduleToStartTimeout:
        (configured.stickyQueueScheduleToStartTimeout as number | string | undefined) ??
        STICKY_SCHEDULE_TO_START_MS,
      maxTaskQueueActivitiesPerSecond: configured.maxTaskQueueActivitiesPerSecond ?? this.rateLimit,
    };
  }
}

export function netcheckPlugin(options: NetcheckPluginOptions): SimplePlugin {
  if (options.rateLimit !== undefined && !(options.rateLimit > 0)) {
    throw new RangeError(
      `rateLimit must be a positive number of requests per second (got ${options.rateLimit})`,
    );
  }
  const vonage = createActivities({
    applicationId: options.applicationId,
    privateKey: options.privateKey,
    baseUrl: options.baseUrl,
    http: {
      ...options.http,
      maxRequestsPerSecond: options.http?.maxRequestsPerSecond ?? options.rateLimit,
    },
  });
  const { close, ...activities } = vonage;
  return new NetcheckPlugin(
    {
      name: 'netcheck',
      activities,
      ...(options.encryption ? { dataConverter: encryptingDataConverter(options.encryption) } : {}),
      // Close the HTTP pools when the worker stops.
      runContext: async (next) => {
        try {
          await next();
        } finally {
          await close();
        }
      },
    },
    options.rateLimit,
  );
}
