/** `authorize`: POST {base}/oauth2/bc-authorize (CIBA backchannel authentication request). */
import type { Authorization, AuthorizeInput } from '../domain/index.js';
import type { VonageClient } from './client.js';
import { classifyHttpError, numberVariants, protocolError } from './errors.js';
import { requireCorrelationId, requireMsisdn, requireObject, requireScope } from './input.js';
import { logAnswer } from './log.js';
import { profileFacts, scopeOf } from './profiles/wire.js';
import { AuthorizeResponse, describeIssues } from './responses.js';

export const BC_AUTHORIZE_PATH = '/oauth2/bc-authorize';
/** CIBA: when the provider sends no `interval`, wait 5 s between polls. */
export const DEFAULT_INTERVAL_SECONDS = 5;

export function makeAuthorize(client: VonageClient) {
  return async function authorize(input: AuthorizeInput): Promise<Authorization> {
    requireObject('authorize', input);
    const msisdn = requireMsisdn('authorize', input.msisdn);
    const required = requireScope('authorize', input);
    // The profile's scope form (activities/profiles/wire.ts); Vonage's as requireScope built it.
    const scope = scopeOf(
      client,
      required.operation,
      typeof input.purpose === 'string' ? input.purpose : undefined,
      required.scope,
    );
    const correlationId = requireCorrelationId('authorize', input.correlationId);

    const started = Date.now();
    // URLSearchParams percent-encodes the `+` (a raw `+` would decode to a space).
    const { endpoint, answer, secrets } = await client.postFormWithAppJwt(
      'bc-authorize',
      BC_AUTHORIZE_PATH,
      { login_hint: `tel:${msisdn}`, scope },
      correlationId,
    );
    const answeredAt = Date.now();
    logAnswer(endpoint, answer.status, { msisdn, correlationId, durationMs: answeredAt - started });
    if (answer.status !== 200)
      throw classifyHttpError(endpoint, answer, [...secrets, ...numberVariants(msisdn)]);

    const parsed = AuthorizeResponse.safeParse(answer.body);
    if (!parsed.success) throw protocolError(endpoint, answer.status, describeIssues(parsed.error));
    return {
      authReqId: parsed.data.auth_req_id,
      expiresIn: parsed.data.expires_in,
      interval: parsed.data.interval ?? DEFAULT_INTERVAL_SECONDS,
      answeredAt,
      ...profileFacts(client, required.operation),
    };
  };
}
