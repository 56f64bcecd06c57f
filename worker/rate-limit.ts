/**
 * The plugin's side of the queue-wide rate limit: leases slots from the task queue's
 * rateLimiter workflow (update-with-start, so the first lease starts it) over the worker's own
 * connection, and serves that workflow with a small worker of its own while the netcheck worker
 * runs. Until a worker is configured (activities called outside a worker), slots come from a
 * timeline in this process, with the same spacing.
 *
 * Why a worker of its own: a fast check's workflow task stays open while its local activities
 * wait for slots. On the checks' task queue, the limiter's tasks would wait for a workflow task
 * slot held by those very checks, and leases would come only as open tasks time out.
 */
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { WorkerOptions } from '@temporalio/worker';
import { ConfigurationError } from '../domain/errors.js';
import {
  isAcceptedRate,
  LEASE_UPDATE,
  RATE_BOUNDS_TEXT,
  RATE_MARGIN_MS,
  rateLimiterId,
  rateLimiterTaskQueue,
  type LeaseRequest,
  type RateLease,
} from '../domain/rate-limit.js';
import { workflowModulePath } from './workflow-path.js';

type WorkflowSource = Pick<WorkerOptions, 'workflowBundle'>['workflowBundle'];

interface Target {
  client: Client;
  workflowId: string;
  /** The checks' task queue, whose limit this is. */
  queue: string;
  /** The limiter's own task queue. */
  taskQueue: string;
  /** What the limiter's worker needs from the netcheck worker's options. */
  worker: Pick<WorkerOptions, 'connection' | 'namespace' | 'dataConverter' | 'workflowBundle'>;
}

/** One small bundle per process (and converter), for workers that bundle at start. */
const bundles = new Map<string, Promise<WorkflowSource>>();

function limiterBundle(dataConverter: WorkerOptions['dataConverter']): Promise<WorkflowSource> {
  const converters = {
    ...(dataConverter?.failureConverterPath
      ? { failureConverterPath: dataConverter.failureConverterPath }
      : {}),
    ...(dataConverter?.payloadConverterPath
      ? { payloadConverterPath: dataConverter.payloadConverterPath }
      : {}),
  };
  const key = JSON.stringify(converters);
  let bundle = bundles.get(key);
  if (!bundle) {
    // Loaded when a worker runs: importing the plugin (the package root does) must not load the worker.
    bundle = import('@temporalio/worker')
      .then(({ bundleWorkflowCode }) =>
        bundleWorkflowCode({
          workflowsPath: workflowModulePath('rate-limiter'),
          ...converters,
          logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
        }),
      )
      .then(({ code }) => ({ code }));
    bundle.catch(() => bundles.delete(key));
    bundles.set(key, bundle);
  }
  return bundle;
}

export class QueueRateLimit {
  #target: Target | undefined;
  #localNext = 0;
  #runs = 0;
  #limiter: Promise<{ stop(): Promise<void> }> | undefined;

  constructor(readonly perSecond: number) {
    if (!isAcceptedRate(perSecond)) {
      throw new ConfigurationError([
        `rateLimit must be a positive number of requests per second ${RATE_BOUNDS_TEXT} (got ${String(perSecond)}).`,
      ]);
    }
  }

  /** The first worker configured with this plugin instance names the queue and the connection. */
  bind(options: WorkerOptions): void {
    if (this.#target || !options.connection) return;
    const worker = {
      connection: options.connection,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.dataConverter !== undefined ? { dataConverter: options.dataConverter } : {}),
    };
    this.#target = {
      client: new Client(worker),
      workflowId: rateLimiterId(options.taskQueue),
      queue: options.taskQueue,
      taskQueue: rateLimiterTaskQueue(options.taskQueue),
      worker: {
        ...worker,
        ...(options.workflowBundle !== undefined ? { workflowBundle: options.workflowBundle } : {}),
      },
    };
  }

  /**
   * Runs `run` (a netcheck worker's run) with the limiter's worker polling beside it: started by
   * the first run, stopped after the last.
   */
  async during(run: () => Promise<void>): Promise<void> {
    const target = this.#target;
    if (!target) return run();
    if (this.#runs++ === 0) this.#limiter = this.#startWorker(target);
    try {
      await this.#limiter;
      await run();
    } finally {
      if (--this.#runs === 0) {
        const limiter = this.#limiter;
        this.#limiter = undefined;
        await (await limiter?.catch(() => undefined))?.stop();
      }
    }
  }

  async #startWorker(target: Target): Promise<{ stop(): Promise<void> }> {
    const { workflowBundle, ...options } = target.worker;
    const { Worker } = await import('@temporalio/worker');
    const worker = await Worker.create({
      ...options,
      taskQueue: target.taskQueue,
      // The main worker's prebuilt bundle holds the limiter too; else the limiter alone.
      workflowBundle: workflowBundle ?? (await limiterBundle(options.dataConverter)),
      // One workflow per task queue: a few slots, a small cache.
      maxConcurrentWorkflowTaskExecutions: 2,
      maxConcurrentWorkflowTaskPolls: 2,
      maxCachedWorkflows: 4,
      stickyQueueScheduleToStartTimeout: 3_000,
    });
    const running = worker.run().catch((err: unknown) => {
      console.error(`netcheck: the rate limiter's worker stopped: ${String(err).slice(0, 300)}`);
    });
    return {
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      },
    };
  }

  /** `count` slots, spaced (1 s + margin) / R, that no other worker of the queue holds. */
  readonly lease = async (count: number, leadMs = 0): Promise<RateLease> => {
    const target = this.#target;
    if (!target) return this.#localLease(count);
    return target.client.workflow.executeUpdateWithStart<Workflow, RateLease, [LeaseRequest]>(LEASE_UPDATE, {
      args: [{ count, perSecond: this.perSecond, leadMs }],
      startWorkflowOperation: new WithStartWorkflowOperation('rateLimiter', {
        workflowId: target.workflowId,
        taskQueue: target.taskQueue,
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Vonage rate limit of task queue ${target.queue}: ${this.perSecond} req/s`,
      }),
    });
  };

  #localLease(count: number): RateLease {
    const gapMs = (1000 + RATE_MARGIN_MS) / this.perSecond;
    const granted = Math.min(count, Math.max(1, Math.ceil(this.perSecond)));
    const start = Math.max(this.#localNext, Date.now());
    this.#localNext = start + granted * gapMs;
    return { start, gapMs, count: granted };
  }
}
