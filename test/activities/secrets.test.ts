/**
 * A sweep over every failure path with a provider that echoes our credentials back in every
 * error shape: no failure (message, details, cause, stack) may carry the access token, the
 * application JWT or the private key.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenSealer } from '../../activities/index.js';
import {
  CAMARA_OPERATION_NAMES,
  CAMARA_OPERATIONS,
  scopeFor,
  type CamaraOperation as Operation,
} from '../../domain/index.js';
import {
  bearerOf,
  failureOf,
  makeKeys,
  pemBodyLines,
  serializeFailure,
  useScriptedActivities,
  type RecordedRequest,
  type Reply,
} from './helpers.js';

const keys = makeKeys();
const ACCESS_TOKEN = 'opaque-access-token-' + randomUUID();
const MSISDN = '+447700900007';
const CORRELATION = 'corr-secrets';
const sealer = createTokenSealer(keys.privateKey);

const STATUSES = [400, 401, 403, 404, 409, 418, 429, 500, 502, 503];

/** Every error body shape, each quoting the Authorization header and the request body. */
function echoes(req: RecordedRequest): unknown[] {
  const leak = `${req.headers.authorization ?? ''} body=${req.body}`;
  return [
    { error: 'invalid_client', error_description: leak },
    { status: 400, code: leak, message: leak },
    { type: `https://x/#${leak}`, title: leak, detail: leak, instance: leak },
    leak,
    { access_token: req.headers.authorization, token_type: 'mac' },
  ];
}

const scripted = useScriptedActivities({ privateKey: keys.privateKey, resetEach: false });

async function sweep(call: () => Promise<unknown>): Promise<void> {
  let redacted = 0;
  for (const status of [...STATUSES, 200]) {
    for (let shape = 0; shape < 5; shape++) {
      scripted.server.reset();
      scripted.server.handle((req): Reply => ({
        status,
        body: echoes(req)[shape],
        headers: { 'retry-after': '1' },
      }));
      // A 200 whose body has none of the check's fields can still be valid (retrieve-date's
      // latestSimChange is optional): then the returned data is what must hold no secret.
      const pending = call();
      const value: unknown = await pending.catch(() => undefined);
      const succeeded = value !== undefined;
      if (succeeded) expect(status, 'only a 200 may succeed').toBe(200);
      const req = scripted.server.requests[0]!;
      const bearer = bearerOf(req);
      const text = succeeded ? JSON.stringify(value) : serializeFailure(await failureOf(pending));
      if (text.includes('[redacted]')) redacted++;
      const secrets = [bearer, bearer.split('.').at(-1)!, ACCESS_TOKEN, ...pemBodyLines(keys.privateKeyPem)];
      for (const secret of secrets) {
        expect(
          text.includes(secret),
          `HTTP ${status} shape ${shape} leaked a secret: ${text.slice(0, 300)}`,
        ).toBe(false);
      }
    }
  }
  // The provider's text did reach the messages (so the sweep is not vacuous), redacted.
  expect(redacted).toBeGreaterThan(20);
}

describe('no credential in any failure', () => {
  it('authorize', async () => {
    await sweep(() =>
      scripted.acts.authorize({ msisdn: MSISDN, scope: scopeFor('sim-swap'), correlationId: CORRELATION }),
    );
  });

  it('pollToken', async () => {
    await sweep(() =>
      scripted.acts.pollToken({
        authReqId: 'r',
        correlationId: CORRELATION,
        operation: 'sim-swap',
        msisdn: MSISDN,
      }),
    );
  });

  it.each(CAMARA_OPERATION_NAMES)('%s', async (operation: Operation) => {
    const sealedToken = sealer.sealToken(ACCESS_TOKEN, {
      operation,
      msisdn: MSISDN,
      correlationId: CORRELATION,
    });
    await sweep(() =>
      scripted.acts[CAMARA_OPERATIONS[operation].activity]({
        operation,
        msisdn: MSISDN,
        correlationId: CORRELATION,
        sealedToken,
        maxAge: operation === 'sim-swap' ? 240 : undefined,
      }),
    );
  });
});
