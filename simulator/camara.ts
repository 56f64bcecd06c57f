/**
 * The four CAMARA endpoints as Vonage serves them (SIM Swap v0.4.0, Device Status v0.5.0):
 * bearer access token checks (bound number and operation), request-body validation and
 * answers from the subscriber data. With the scenario's `retiredSimSwap`, the SIM Swap routes
 * answer as the retired routes they are at Vonage since 2025-11-23: 404, like an unserved path.
 */
import { z } from 'zod';
import { CAMARA_ERROR_CODES, CAMARA_SCHEMAS } from './camara-schemas.js';
import type { IssuedToken } from './ciba.js';
import { camaraError, type Reply } from './http.js';
import type { Subscribers } from './subscribers.js';
import type { ViolationKind } from './types.js';
import { CAMARA_OPERATIONS, SIM_SWAP_MAX_AGE, type CamaraOperation } from './wire.js';

/**
 * Request validators built from the very JSON Schemas the tests check bodies against, so the
 * simulator refuses exactly what the spec refuses (zod fills `maxAge` from its `default`).
 */
const REQUEST_VALIDATORS = Object.fromEntries(
  Object.entries(CAMARA_SCHEMAS).map(([op, s]) => [
    op,
    // The schemas are deeply readonly literals; zod only reads them.
    z.fromJSONSchema(s.request as unknown as Parameters<typeof z.fromJSONSchema>[0]),
  ]),
) as Record<CamaraOperation, z.ZodType>;

/** CAMARA PhoneNumber, as both specs define it. */
const PHONE_NUMBER = new RegExp(CAMARA_SCHEMAS['sim-swap'].request.properties.phoneNumber.pattern);

const HOUR_MS = 3_600_000;

export interface CamaraRequest {
  bearer?: string;
  mediaType: string;
  body: string;
}

export interface CamaraDeps {
  now: () => number;
  token: (accessToken: string) => IssuedToken | undefined;
  subscribers: Subscribers;
  violation: (kind: ViolationKind, msisdn?: string) => void;
}

function notFound(operation: CamaraOperation): Reply {
  const api = CAMARA_OPERATIONS[operation].api;
  return camaraError(
    404,
    CAMARA_ERROR_CODES[api][404],
    api === 'sim-swap'
      ? "SIM Swap can't be checked because the phone number is unknown."
      : 'The specified resource is not found: unknown phone number.',
  );
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function withPlus(phoneNumber: string): string {
  return phoneNumber.startsWith('+') ? phoneNumber : `+${phoneNumber}`;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

type Parsed = { ok: true; phoneNumber: string; maxAge: number } | { ok: false; reply: Reply };

function parseBody(operation: CamaraOperation, req: CamaraRequest): Parsed {
  if (req.mediaType !== 'application/json') {
    return {
      ok: false,
      reply: camaraError(400, 'INVALID_ARGUMENT', 'Content-Type must be application/json'),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(req.body);
  } catch {
    return { ok: false, reply: camaraError(400, 'INVALID_ARGUMENT', 'The request body is not valid JSON') };
  }
  const invalid = (error: z.ZodError): Parsed => ({
    ok: false,
    reply: camaraError(
      400,
      'INVALID_ARGUMENT',
      `Client specified an invalid argument: ${describeIssues(error)}`,
    ),
  });
  const r = REQUEST_VALIDATORS[operation].safeParse(json);
  if (!r.success) return invalid(r.error);
  const body = r.data as { phoneNumber?: string; maxAge?: number; device?: { phoneNumber?: string } };
  const phoneNumber = body.phoneNumber ?? body.device?.phoneNumber;
  if (phoneNumber === undefined) {
    // Valid per the spec (an IP address or a network access identifier), but not here.
    return {
      ok: false,
      reply: camaraError(
        400,
        'INVALID_ARGUMENT',
        'Client specified an invalid argument: device: this simulator identifies devices by device.phoneNumber only',
      ),
    };
  }
  return { ok: true, phoneNumber, maxAge: body.maxAge ?? SIM_SWAP_MAX_AGE.default };
}

/** The number a CAMARA request is about: the token's, else the body's (for stats and faults). */
export function msisdnOfCamara(token: IssuedToken | undefined, body: string): string | undefined {
  if (token) return token.msisdn;
  try {
    const json = JSON.parse(body) as { phoneNumber?: unknown; device?: { phoneNumber?: unknown } } | null;
    const phone = json?.phoneNumber ?? json?.device?.phoneNumber;
    return typeof phone === 'string' && PHONE_NUMBER.test(phone) ? withPlus(phone) : undefined;
  } catch {
    return undefined;
  }
}

export function handleCamara(operation: CamaraOperation, req: CamaraRequest, deps: CamaraDeps): Reply {
  // Retired (scenario `retiredSimSwap`): the route answers like any path nothing serves.
  if (CAMARA_OPERATIONS[operation].api === 'sim-swap' && deps.subscribers.simSwapRetired()) {
    return camaraError(404, 'NOT_FOUND', `No endpoint POST ${CAMARA_OPERATIONS[operation].path}`);
  }
  if (!req.bearer) {
    return camaraError(
      401,
      'UNAUTHENTICATED',
      'Request not authenticated: missing Authorization: Bearer <access token>',
    );
  }
  const token = deps.token(req.bearer);
  if (!token)
    return camaraError(401, 'UNAUTHENTICATED', 'Request not authenticated: the access token is unknown');
  const now = deps.now();
  if (now >= token.expiresAt) {
    deps.violation('token-expired', token.msisdn);
    return camaraError(401, 'UNAUTHENTICATED', 'Request not authenticated: the access token has expired');
  }
  if (token.operation !== operation) {
    deps.violation('token-for-other-scope', token.msisdn);
    return camaraError(
      403,
      'PERMISSION_DENIED',
      `The access token was issued for ${token.operation}, not ${operation}`,
    );
  }
  const parsed = parseBody(operation, req);
  if (!parsed.ok) return parsed.reply;
  const phoneNumber = withPlus(parsed.phoneNumber);
  if (phoneNumber !== token.msisdn) {
    deps.violation('token-for-other-number', token.msisdn);
    return camaraError(403, 'PERMISSION_DENIED', 'The access token was issued for another phone number');
  }
  const data = deps.subscribers.data(phoneNumber, now);
  switch (operation) {
    case 'sim-swap': {
      if (!data.simSwap) return notFound(operation);
      const { lastSimChange } = data.simSwap;
      return {
        status: 200,
        body: { swapped: lastSimChange !== null && lastSimChange >= now - parsed.maxAge * HOUR_MS },
      };
    }
    case 'sim-swap-date': {
      if (!data.simSwap) return notFound(operation);
      const { lastSimChange } = data.simSwap;
      // SIM Swap v0.4.0 does not allow null here: a number never swapped answers without the field.
      return {
        status: 200,
        body: lastSimChange === null ? {} : { latestSimChange: isoSeconds(lastSimChange) },
      };
    }
    case 'device-connectivity':
      return data.connectivity
        ? { status: 200, body: { connectivityStatus: data.connectivity } }
        : notFound(operation);
    case 'device-roaming':
      return data.roaming ? { status: 200, body: data.roaming } : notFound(operation);
  }
}
