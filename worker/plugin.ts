/**
 * NetcheckPlugin: adds netcheck's workflows and Vonage activities to any Temporal worker.
 *
 *   const worker = await Worker.create({
 *     connection, taskQueue: 'netcheck',
 *     plugins: [new NetcheckPlugin({ applicationId, privateKey, baseUrl })],
 *   });
 *
 * A worker (or replay worker) with no workflows of its own gets netcheck's. A worker that has
 * its own workflowsPath or bundle must export netcheck's workflows from it
 * (`export * from 'netcheck/workflows'`), or run netcheck on a task queue of its own.
 *
 * One plugin instance may serve several workers, one after the other or at once: they share
 * one Vonage client (HTTP pools, JWT minter, request pacing), opened when the first of them
 * starts running and closed when the last one stops.
 */
import { SimplePlugin } from '@temporalio/plugin';
import type { ReplayWorkerOptions, WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps, type NetcheckActivities } from '../activities/index.js';
import { ConfigurationError, errorCodeOf } from '../domain/errors.js';
import { encryptingDataConverter } from '../codec/data-converter.js';
import type { KeyRing } from '../codec/keyring.js';
import type { VonageConfig } from './config.js';
import { QueueRateLimit } from './rate-limit.js';
import { workflowModulePath } from './workflow-path.js';

/** The workflow entry module, as source (tests, tsx) or compiled (dist/). */
export function netcheckWorkflowsPath(): string {
  return workflowModulePath('index');
}

export interface NetcheckPluginOptions extends VonageConfig {
  /** HTTP pool settings for the Vonage origin. */
  http?: ActivityDeps['http'];
  /**
   * Requests per second to Vonage, for every worker of the task queue together, activities and
   * local activities (fast mode) alike: each request goes at a slot leased from the queue's
   * `rateLimiter` workflow (one per task queue, started by the first lease), so no 1-s window
   * holds more than this many requests. Every worker of the queue should set the same value, and
   * their clocks should agree (NTP) to well within 10 ms. `http.maxRequestsPerSecond`, when set,
   * paces this plugin's workers alone instead.
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

type ActivityFunction = (...args: unknown[]) => Promise<unknown>;

/**
 * The Vonage client behind the plugin's activities, counted by the worker runs that use it:
 * opened for the first run, closed after the last, opened again for a later one. The
 * activities handed to Temporal are stable functions that call the current client's.
 */
class VonageLease {
  #current: NetcheckActivities | undefined;
  #runs = 0;
  readonly activities: Record<string, ActivityFunction>;

  constructor(private readonly open: () => NetcheckActivities) {
    const first = open(); // checks the options now, not at the first check
    this.#current = first;
    const activities: Record<string, ActivityFunction> = {};
    for (const name of Object.keys(first)) {
      activities[name] = (...args) =>
        (this.#client()[name as keyof NetcheckActivities] as ActivityFunction)(...args);
    }
    this.activities = activities;
  }

  #client(): NetcheckActivities {
    return (this.#current ??= this.open());
  }

  async during(run: () => Promise<void>): Promise<void> {
    this.#runs++;
    this.#client();
    try {
      await run();
    } finally {
      if (--this.#runs === 0) {
        const client = this.#current;
        this.#current = undefined;
        await client?.close();
      }
    }
  }
}

function checkedRateLimit(rateLimit: number | undefined): number | undefined {
  if (rateLimit !== undefined && !(rateLimit > 0 && Number.isFinite(rateLimit))) {
    throw new ConfigurationError([
      `rateLimit must be a positive number of requests per second (got ${rateLimit}).`,
    ]);
  }
  return rateLimit;
}

/** A worker's workflows: its own bundle or path if it has one, else netcheck's. */
function withNetcheckWorkflows<T extends Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>>(
  options: T,
): T {
  if (options.workflowBundle || options.workflowsPath) return options;
  return { ...options, workflowsPath: netcheckWorkflowsPath() };
}

export class NetcheckPlugin extends SimplePlugin {
  readonly #queueLimit: QueueRateLimit | undefined;

  /** Throws a ConfigurationError when the options are wrong (no worker is needed to find out). */
  constructor(options: NetcheckPluginOptions) {
    const rateLimit = checkedRateLimit(options.rateLimit);
    const ownPacing = options.http?.maxRequestsPerSecond !== undefined;
    const queueLimit = rateLimit !== undefined && !ownPacing ? new QueueRateLimit(rateLimit) : undefined;
    let lease: VonageLease;
    try {
      lease = new VonageLease(() =>
        createActivities({
          applicationId: options.applicationId,
          privateKey: options.privateKey,
          baseUrl: options.baseUrl,
          ...(options.identityInsightsPath !== undefined
            ? { identityInsightsPath: options.identityInsightsPath }
            : {}),
          http: { ...options.http, ...(queueLimit ? { leaseSlots: queueLimit.lease } : {}) },
        }),
      );
    } catch (err) {
      if (errorCodeOf(err) !== 'CONFIGURATION') throw err;
      throw new ConfigurationError([`netcheck plugin: ${(err as Error).message}`], { cause: err });
    }
    super({
      name: 'netcheck',
      activities: lease.activities,
      // The Vonage client, and the rate limiter's own worker, live as long as the worker runs.
      runContext: (next) => lease.during(queueLimit ? () => queueLimit.during(next) : next),
      // Payload encryption for the worker and replay workers (NETCHECK_ENCRYPTION_KEYS).
      ...(options.encryption ? { dataConverter: encryptingDataConverter(options.encryption) } : {}),
    });
    this.#queueLimit = queueLimit;
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = withNetcheckWorkflows(super.configureWorker(options));
    this.#queueLimit?.bind(configured);
    return {
      ...configured,
      // (Duration's string form is typed by a package eslint cannot see: name the type here.)
      stickyQueueScheduleToStartTimeout:
        (configured.stickyQueueScheduleToStartTimeout as number | string | undefined) ??
        STICKY_SCHEDULE_TO_START_MS,
    };
  }

  /** Replay workers (Worker.runReplayHistories) get netcheck's workflows like the others. */
  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    return withNetcheckWorkflows(super.configureReplayWorker(options));
  }
}

/** Sugar for `new NetcheckPlugin(options)`. */
export function netcheckPlugin(options: NetcheckPluginOptions): NetcheckPlugin {
  return new NetcheckPlugin(options);
}
