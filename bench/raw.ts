/**
 * The raw flow: what a user would write without durability. The project's own activity
 * functions, called directly (no Temporal): authorize → wait `interval` → poll until a token
 * → the CAMARA check. In-memory waits, no retries, nothing survives a crash.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SLOW_DOWN_SECONDS } from '../domain/ciba.js';
import { CAMARA_OPERATIONS, type CamaraOperation } from '../domain/operations.js';
import type { CheckData, CheckRequest } from '../domain/types.js';
import { validateCheckRequest } from '../domain/validate.js';
import type { NetcheckActivities } from '../activities/index.js';

export async function rawCheck(activities: NetcheckActivities, request: CheckRequest): Promise<CheckData> {
  const check = validateCheckRequest(request);
  const operation = check.operation as CamaraOperation;
  const correlationId = randomUUID();
  const auth = await activities.authorize({
    msisdn: check.msisdn,
    operation,
    purpose: check.purpose,
    correlationId,
  });
  let interval = auth.interval;
  for (;;) {
    if (interval > 0) await sleep(interval * 1000);
    const poll = await activities.pollToken({
      authReqId: auth.authReqId,
      correlationId,
      operation,
      msisdn: check.msisdn,
    });
    if (poll.outcome === 'token') {
      const call = activities[CAMARA_OPERATIONS[operation].activity] as (input: {
        sealedToken: string;
        msisdn: string;
        correlationId: string;
        operation: CamaraOperation;
        maxAge?: number;
      }) => Promise<CheckData>;
      return call({
        sealedToken: poll.sealedToken,
        msisdn: check.msisdn,
        correlationId,
        operation,
        maxAge: check.maxAge,
      });
    }
    if (poll.outcome === 'expired') throw new Error('authorization expired');
    if (poll.outcome === 'slow_down') interval += SLOW_DOWN_SECONDS;
  }
}

export interface TimedCheck {
  /** ms since the epoch */
  start: number;
  end: number;
  ok: boolean;
}

/** Runs every request through `rawCheck`, at most `concurrency` at a time. */
export async function runRaw(
  activities: NetcheckActivities,
  requests: CheckRequest[],
  concurrency: number,
): Promise<TimedCheck[]> {
  const out: TimedCheck[] = new Array<TimedCheck>(requests.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < requests.length; i = next++) {
      const start = Date.now();
      let ok = true;
      try {
        await rawCheck(activities, requests[i]!);
      } catch {
        ok = false;
      }
      out[i] = { start, end: Date.now(), ok };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, lane));
  return out;
}
