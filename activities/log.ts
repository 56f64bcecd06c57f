/** Request outcome logging: masked number, status, timing. Never a token, JWT or body. */
import { maskMsisdn } from '../domain/index.js';
import { activityLog } from './context.js';
import type { Endpoint } from './errors.js';

export function logAnswer(
  endpoint: Endpoint,
  status: number,
  facts: { msisdn?: string; correlationId: string; durationMs: number },
): void {
  const attributes = {
    endpoint: endpoint.path,
    httpStatus: status,
    msisdn: facts.msisdn === undefined ? undefined : maskMsisdn(facts.msisdn),
    correlationId: facts.correlationId,
    durationMs: facts.durationMs,
  };
  if (status >= 500 || status === 429) activityLog.warn('Vonage answered with an error', attributes);
  else activityLog.info('Vonage answered', attributes);
}
