/**
 * The four CAMARA checks. Each opens the sealed access token (bound to this operation, number
 * and correlation id), POSTs the exact CAMARA body with the token as Bearer, checks the 200
 * body's shape and returns its CAMARA-defined fields as received (anything else the provider adds
 * is dropped, so history only ever holds the documented result). Each profile's answer is
 * brought to the operation's one shape (activities/profiles/wire.ts).
 */
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
import { checkSpecOf } from './profiles/wire.js';
import { describeIssues } from './responses.js';

export function makeCheck<Op extends CamaraOperation>(client: VonageClient, operation: Op) {
  const name = CAMARA_OPERATIONS[operation].activity;
  // The profile's path, body and schema (activities/profiles/wire.ts).
  const spec = checkSpecOf(client, operation);
  const path = spec.path;

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
