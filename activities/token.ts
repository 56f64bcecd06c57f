/** `pollToken`: POST {base}/oauth2/token with the CIBA grant; waiting states are values. */
import { setTimeout as sleep } from 'node:timers/promises';
import { maskMsisdn, type PollOutcome, type PollTokenInput } from '../domain/index.js';
import { activityAttempt, activityLog, activitySignal } from './context.js';
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

export const TOKEN_PATH = '/oauth2/token';
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

/** CIBA Core §11 polling errors that are states of the flow, not failures. */
const WAITING_STATES: Record<string, PollOutcome> = {
  authorization_pending: { outcome: 'pending' },
  slow_down: { outcome: 'slow_down' },
  expired_token: { outcome: 'expired' },
};

/** The CIBA interval, waited inside the (local) activity; the activity's cancellation ends it. */
async function waitBeforePoll(ms: number): Promise<void> {
  const signal = activitySignal();
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw cancellationFailure(signal, TOKEN_PATH);
    throw err;
  }
}

export function makePollToken(client: VonageClient) {
  /**
   * `options.retry`: this poll repeats one whose answer was lost (default: a retried activity
   * attempt). Bulk mode retries inside one attempt and says so itself.
   */
  return async function pollToken(
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
