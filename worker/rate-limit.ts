/**
 * The plugin's side of the queue-wide rate limit: leases slots from the task queue's
 * rateLimiter workflow (update-with-start, so the first lease starts it) over the worker's own
 * connection. Until a worker is configured (activities called outside a worker), slots come
 * from a timeline in this process, with the same spacing.
 */
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { RateLease } from '../activities/rate-lease.js';
import { leaseUpdate, RATE_MARGIN_MS, rateLimiterId } from '../workflows/rate-limiter.js';

export class QueueRateLimit {
  #target: { client: Client; workflowId: string; taskQueue: string } | undefined;
  #localNext = 0;

  constructor(readonly perSecond: number) {}

  /** The first worker configured with this plugin instance names the queue and the connection. */
  bind(options: WorkerOptions): void {
    if (this.#target || !options.connection) return;
    this.#target = {
      client: new Client({
        connection: options.connection,
        ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
        ...(options.dataConverter !== undefined ? { dataConverter: options.dataConverter } : {}),
      }),
      workflowId: rateLimiterId(options.taskQueue),
      taskQueue: options.taskQueue,
    };
  }

  /** `count` slots, spaced (1 s + margin) / R, that no other worker of the queue holds. */
  readonly lease = async (count: number): Promise<RateLease> => {
    const target = this.#target;
    if (!target) return this.#localLease(count);
    return target.client.workflow.executeUpdateWithStart(leaseUpdate, {
      args: [{ count, perSecond: this.perSecond }],
      startWorkflowOperation: new WithStartWorkflowOperation('rateLimiter', {
        workflowId: target.workflowId,
        taskQueue: target.taskQueue,
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Vonage rate limit of task queue ${target.taskQueue}: ${this.perSecond} req/s`,
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
