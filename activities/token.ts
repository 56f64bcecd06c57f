/** `pollToken`: POST {base}/oauth2/token with the CIBA grant; waiting states are values. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { maskMsisdn, netcheckFailure, type PollOutcome, type PollTokenInput } from '../domain/index.js';
import {
  activityAttempt,
  activityHeartbeat,
  activityHeartbeatDetails,
  activityLog,
  activitySignal,
} from './context.js';
import type { VonageClient } from './client.js';
import { classifyHttpError, numberVariants, parseProviderError, protocolError } from './errors.js';
import { cancellationFailure } from './http.js';
import {
  requireCorrelationId,
  requireMsisdn,
  requireNonEmpty,
  requireObject,
  requireOperation,
  requireWaitMs,
} from './input.js';
import { logAnswer } from './log.js';
import { describeIssues, TokenResponse } from './responses.js';
import { MIN_REPOLL_SECONDS, SLOW_DOWN_SECONDS } from '../domain/ciba.js';

export const TOKEN_PATH = '/oauth2/token';
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

/** CIBA Core §11 polling errors that are states of the flow, not failures. */
const WAITING_STATES: Record<string, PollOutcome> = {
  authorization_pending: { outcome: 'pending' },
  slow_down: { outcome: 'slow_down' },
  expired_token: { outcome: 'expired' },
};

/** The CIBA interval, waited inside the activity; the activity's cancellation ends it. */
async function waitBeforePoll(ms: number): Promise<void> {
  const signal = activitySignal();
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw cancellationFailure(signal, TOKEN_PATH);
    throw err;
  }
}

/** Transient faults in a row a polling loop retries itself (as many as one HTTP call's retry policy). */
const LOOP_FAULT_ATTEMPTS = 8;
/** The longest backoff between two of those retries (never shorter than the interval). */
const LOOP_FAULT_MAX_BACKOFF_MS = 5_000;

/** What a polling loop heartbeats: enough for a retry to go on where the attempt stopped. */
interface PollLoopDetails {
  polls: number;
  intervalSeconds: number;
  /** When the last poll was sent (ms since the epoch). */
  lastPollAt?: number;
}

function loopDetails(value: unknown, intervalSeconds: number): PollLoopDetails {
  const d = value as Partial<PollLoopDetails> | undefined;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  return {
    polls: ok(d?.polls) ? d.polls : 0,
    // A retry never polls faster than the attempt before it was told to (slow_down only adds).
    intervalSeconds: ok(d?.intervalSeconds) ? Math.max(d.intervalSeconds, intervalSeconds) : intervalSeconds,
    ...(ok(d?.lastPollAt) ? { lastPollAt: d.lastPollAt } : {}),
  };
}

function requireKeepPolling(value: unknown): PollTokenInput['keepPolling'] {
  if (value === undefined || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const fine = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (typeof value !== 'object' || !fine(v.deadlineMs) || !fine(v.intervalSeconds)) {
    throw netcheckFailure(
      'INVALID_INPUT',
      'pollToken: keepPolling must be { deadlineMs, intervalSeconds } with numbers ≥ 0',
    );
  }
  return { deadlineMs: v.deadlineMs as number, intervalSeconds: v.intervalSeconds as number };
}

export function makePollToken(client: VonageClient) {
  const pollOnce = makePollOnce(client);
  /**
   * `options.retry`: this poll repeats one whose answer was lost (default: a retried activity
   * attempt). Bulk mode retries inside one attempt and says so itself.
   */
  return async function pollToken(
    input: PollTokenInput,
    options: { retry?: boolean } = {},
  ): Promise<PollOutcome> {
    requireObject('pollToken', input);
    const keep = requireKeepPolling(input.keepPolling);
    if (!keep) return pollOnce(input, options);
    // The polling loop: one activity for every poll until a final answer or the deadline.
    // The activity heartbeats all along (withHeartbeat, activities/index.ts), repeating the
    // progress recorded here after each poll: a retry goes on from it.
    const progress = loopDetails(activityHeartbeatDetails(), keep.intervalSeconds);
    /** The wait between two polls at the current interval (interval 0 re-polls after 1 s). */
    const paceMs = () => Math.max(progress.intervalSeconds, MIN_REPOLL_SECONDS) * 1000;
    /** What the loop hands back when it stops early: the workflow takes its count and pace. */
    const pending = (): PollOutcome => ({
      outcome: 'pending',
      polls: progress.polls,
      intervalSeconds: progress.intervalSeconds,
    });
    const retried = activityAttempt() > 1;
    if (retried) {
      // The attempt before this one ended without handing back its state: its worker died, or
      // it ran out of transient-fault retries. Heartbeat details reach Temporal only every few
      // seconds, so it may have polled after what they say, and been told slow_down: assume it
      // was (CIBA §11: +5 s for this and every later poll), and count from now, which is after
      // any poll it sent. Slower than needed at worst, never early.
      progress.intervalSeconds += SLOW_DOWN_SECONDS;
      progress.lastPollAt = Date.now();
      activityHeartbeat({ ...progress });
      await waitBeforePoll(paceMs());
    }
    const waitMs = requireWaitMs('pollToken', input.waitMs);
    if (waitMs > 0 && !retried) await waitBeforePoll(waitMs);
    const once: PollTokenInput = { ...input, waitMs: 0, keepPolling: undefined };
    /** Transient faults in a row (503, 429, timeouts, resets), retried here with their state kept. */
    let faults = 0;
    for (;;) {
      let outcome: PollOutcome;
      try {
        outcome = await pollOnce(once, { retry: retried || faults > 0 });
      } catch (err) {
        // The attempt fails only on a final error or after as many faults as the retry policy of
        // a single HTTP call allows; until then the loop keeps its pace itself, knowing every
        // answer (a retried attempt could not: see above).
        if (!(err instanceof ApplicationFailure) || err.nonRetryable || ++faults >= LOOP_FAULT_ATTEMPTS)
          throw err;
        progress.lastPollAt = Date.now(); // the failed request went out no later
        activityHeartbeat({ ...progress });
        const backoffMs = Math.min(1000 * 2 ** (faults - 1), LOOP_FAULT_MAX_BACKOFF_MS);
        // Our failures carry Retry-After in ms (domain/errors.ts).
        const retryAfterMs = typeof err.nextRetryDelay === 'number' ? err.nextRetryDelay : 0;
        const delayMs = Math.max(paceMs(), backoffMs, retryAfterMs);
        if (Date.now() + delayMs >= keep.deadlineMs) {
          return pending();
        }
        await waitBeforePoll(delayMs);
        continue;
      }
      faults = 0;
      progress.polls++;
      progress.lastPollAt = Date.now(); // the answer's time: the request went out no later
      if (outcome.outcome !== 'pending' && outcome.outcome !== 'slow_down') {
        return { ...outcome, polls: progress.polls, intervalSeconds: progress.intervalSeconds };
      }
      if (outcome.outcome === 'slow_down') progress.intervalSeconds += SLOW_DOWN_SECONDS;
      activityHeartbeat({ ...progress }); // a retry must not poll again sooner, nor at the old pace
      const waitMs = paceMs();
      // The next poll would reach the provider after expires_in: the workflow authorizes again.
      if (Date.now() + waitMs >= keep.deadlineMs) {
        return pending();
      }
      await waitBeforePoll(waitMs);
    }
  };
}

function makePollOnce(client: VonageClient) {
  return async function pollOnce(
    input: PollTokenInput,
    options: { retry?: boolean } = {},
  ): Promise<PollOutcome> {
    requireObject('pollToken', input);
    const authReqId = requireNonEmpty('pollToken', 'authReqId', input.authReqId);
    const correlationId = requireCorrelationId('pollToken', input.correlationId);
    const operation = requireOperation('pollToken', input.operation);
    const msisdn = requireMsisdn('pollToken', input.msisdn);
    const waitMs = requireWaitMs('pollToken', input.waitMs);

    if (waitMs > 0 && activityAttempt() === 1) await waitBeforePoll(waitMs);
    const started = Date.now();
    const { endpoint, answer, secrets } = await client.postFormWithAppJwt(
      'token',
      TOKEN_PATH,
      { grant_type: CIBA_GRANT_TYPE, auth_req_id: authReqId },
      correlationId,
    );
    logAnswer(endpoint, answer.status, { msisdn, correlationId, durationMs: Date.now() - started });

    if (answer.status === 200) {
      const parsed = TokenResponse.safeParse(answer.body);
      if (!parsed.success) throw protocolError(endpoint, answer.status, describeIssues(parsed.error));
      const sealedToken = client.sealer.sealToken(parsed.data.access_token, {
        operation,
        msisdn,
        correlationId,
      });
      const outcome: PollOutcome = { outcome: 'token', sealedToken };
      if (parsed.data.expires_in !== undefined && parsed.data.expires_in !== null) {
        outcome.expiresIn = parsed.data.expires_in;
      }
      return outcome;
    }
    if (answer.status >= 400 && answer.status < 500) {
      const code = parseProviderError(answer.status, answer.body).providerCode?.toLowerCase();
      const state = code === undefined ? undefined : WAITING_STATES[code];
      if (state) return { ...state };
      // A retry that finds its auth_req_id redeemed: the lost earlier attempt got the token.
      if (code === 'invalid_grant' && (options.retry ?? activityAttempt() > 1)) {
        activityLog.warn('auth_req_id already redeemed by an earlier attempt; a new authorization follows', {
          msisdn: maskMsisdn(msisdn),
          correlationId,
        });
        return { outcome: 'redeemed' };
      }
    }
    throw classifyHttpError(endpoint, answer, [...secrets, ...numberVariants(msisdn)]);
  };
}
