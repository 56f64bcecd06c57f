/**
 * The four CAMARA checks. Each opens the sealed access token (bound to this operation, number
 * and correlation id), POSTs the exact CAMARA body with the token as Bearer, checks the 200
 * body's shape and returns its CAMARA-defined fields as received (anything else the provider adds
 * is dropped, so history only ever holds the documented result).
 */
import type { z } from 'zod';
import { CAMARA_OPERATIONS, MAX_AGE_DEFAULT } from '../domain/index.js';
import type { CamaraOperation, CheckCallInput, CheckDataByOperation } from '../domain/index.js';
import type { VonageClient } from './client.js';
import { classifyHttpError, numberVariants, protocolError } from './errors.js';
import {
  requireCorrelationId,
  requireMaxAge,
  requireMsisdn,
  requireNonEmpty,
  requireObject,
  requireOperation,
} from './input.js';
import { logAnswer } from './log.js';
import {
  ConnectivityResponse,
  describeIssues,
  RoamingResponse,
  SimSwapCheckResponse,
  SimSwapDateResponse,
} from './responses.js';

interface CheckSpec {
  schema: z.ZodType;
  body(input: { msisdn: string; maxAge: number }): unknown;
}

/** Request bodies exactly as CAMARA defines them (sim-swap v0.4.0, device-status v0.5.0). */
const CHECKS: Record<CamaraOperation, CheckSpec> = {
  'sim-swap': {
    schema: SimSwapCheckResponse,
    // maxAge is always sent: Vonage pages disagree on its default.
    body: ({ msisdn, maxAge }) => ({ phoneNumber: msisdn, maxAge }),
  },
  'sim-swap-date': { schema: SimSwapDateResponse, body: ({ msisdn }) => ({ phoneNumber: msisdn }) },
  'device-connectivity': {
    schema: ConnectivityResponse,
    body: ({ msisdn }) => ({ device: { phoneNumber: msisdn } }),
  },
  'device-roaming': { schema: RoamingResponse, body: ({ msisdn }) => ({ device: { phoneNumber: msisdn } }) },
};

export function makeCheck<Op extends CamaraOperation>(client: VonageClient, operation: Op) {
  const name = CAMARA_OPERATIONS[operation].activity;
  const path = CAMARA_OPERATIONS[operation].path;
  const spec = CHECKS[operation];

  return async function check(input: CheckCallInput): Promise<CheckDataByOperation[Op]> {
    requireObject(name, input);
    requireOperation(name, input.operation, operation);
    const msisdn = requireMsisdn(name, input.msisdn);
    const correlationId = requireCorrelationId(name, input.correlationId);
    const sealedToken = requireNonEmpty(name, 'sealedToken', input.sealedToken, 8192);
    const maxAge =
      operation === 'sim-swap' ? requireMaxAge(name, input.maxAge, MAX_AGE_DEFAULT) : MAX_AGE_DEFAULT;

    const accessToken = client.sealer.openToken(sealedToken, { operation, msisdn, correlationId });
    const started = Date.now();
    const { endpoint, answer, secrets } = await client.postJsonWithToken(
      path,
      spec.body({ msisdn, maxAge }),
      accessToken,
      correlationId,
    );
    logAnswer(endpoint, answer.status, { msisdn, correlationId, durationMs: Date.now() - started });
    if (answer.status !== 200)
      throw classifyHttpError(endpoint, answer, [...secrets, ...numberVariants(msisdn)]);

    const parsed = spec.schema.safeParse(answer.body);
    if (!parsed.success) throw protocolError(endpoint, answer.status, describeIssues(parsed.error));
    return parsed.data as CheckDataByOperation[Op];
  };
}
