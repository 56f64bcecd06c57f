/**
 * The simulator's `camara` profile: an operator on the current CAMARA releases, as CAMARA's
 * Identity and Consent Management r4.2 describes its authorization server, and the APIs SIM
 * Swap 2.1.0, Device Reachability Status 1.1.0 and Device Roaming Status 1.1.0
 * (specs/camara/, where these facts come from):
 *
 * - `GET /.well-known/openid-configuration`: the discovery document (issuer = the simulator's URL);
 * - `POST /oidc/bc-authorize`, `POST /oidc/token`: CIBA with `private_key_jwt` client
 *   authentication: `client_id`, `client_assertion_type`
 *   `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, a client assertion signed by the
 *   configured public key's private half (RS256), `iss` = `sub` = the client id, `aud` = the URL
 *   of the endpoint (or the issuer), `exp - iat` ≤ 300 s, `exp` at most 300 s ahead, a `kid`, and a
 *   `jti` never seen before; scope `openid dpv:<Purpose> <api-scope>`;
 * - `POST /sim-swap/v2/check|retrieve-date`, `/device-reachability-status/v1/retrieve`,
 *   `/device-roaming-status/v1/retrieve` (apiRoot = the simulator's URL): three-legged tokens
 *   only, so a body naming the number answers 422 UNNECESSARY_IDENTIFIER; an unknown number
 *   404 IDENTIFIER_NOT_FOUND.
 *
 * The CIBA state machine is the simulator's own (simulator/ciba.ts), reached through a second
 * CibaServer that this module authenticates to with a key of its own once the client assertion
 * has been verified: polling rules, slow_down and expiry behave exactly as on the Vonage road.
 * Stated here on their own, not read from domain/: the simulator is the other side of the wire.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { errors, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { CibaServer, type CibaDeps, type OAuthRequest } from './ciba.js';
import { camaraError, oauthError, parseForm, type Reply } from './http.js';
import type { Subscribers } from './subscribers.js';
import type { ViolationKind } from './types.js';
import { cibaScope, type CamaraOperation } from './wire.js';

export const CAMARA_PROFILE_PATHS = {
  discovery: '/.well-known/openid-configuration',
  bcAuthorize: '/oidc/bc-authorize',
  token: '/oidc/token',
} as const;

/** The operations of the current releases: path under apiRoot, api-scope, and the simulator's operation. */
export const CAMARA_PROFILE_APIS = {
  'sim-swap': { path: '/sim-swap/v2/check', apiScope: 'sim-swap:check' },
  'sim-swap-date': { path: '/sim-swap/v2/retrieve-date', apiScope: 'sim-swap:retrieve-date' },
  'device-connectivity': {
    path: '/device-reachability-status/v1/retrieve',
    apiScope: 'device-reachability-status:read',
  },
  'device-roaming': { path: '/device-roaming-status/v1/retrieve', apiScope: 'device-roaming-status:read' },
} as const satisfies Record<CamaraOperation, { path: string; apiScope: string }>;

const OPERATIONS = Object.keys(CAMARA_PROFILE_APIS) as CamaraOperation[];

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** The SIM Swap 2.1.0 `monitoredPeriod` (days) sent with a null `latestSimChange`. */
export const MONITORED_PERIOD_DAYS = 120;
/** The DPV purposes the simulator's operator accepts (`dpv:<Purpose>`). */
const PURPOSES = new Set(['FraudPreventionAndDetection', 'NotApplicable']);

export type ProfileEndpoint = 'bc-authorize' | 'token' | CamaraOperation;

export interface CamaraProfileDeps extends Omit<CibaDeps, 'applicationId' | 'publicKey'> {
  /** The client id registered for netcheck (the simulator's application id). */
  clientId: string;
  /** The public key client assertions are verified with. */
  publicKey: KeyObject;
  /** When set, the `kid` client assertions must carry. */
  keyId?: string;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function invalidClient(detail: string): Reply {
  return oauthError('invalid_client', detail, 401);
}

export class CamaraProfileServer {
  /** The CIBA state machine and the key this module signs its requests to it with: made at first use. */
  private inner: { ciba: CibaServer; key: KeyObject } | undefined;
  /** jti → when it may be forgotten (its assertion's exp). */
  private readonly seenJti = new Map<string, number>();

  constructor(private readonly deps: CamaraProfileDeps) {}

  private get ciba(): CibaServer {
    return this.innerState().ciba;
  }

  private innerState(): { ciba: CibaServer; key: KeyObject } {
    if (!this.inner) {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.inner = {
        key: privateKey,
        ciba: new CibaServer({ ...this.deps, applicationId: this.deps.clientId, publicKey }),
      };
    }
    return this.inner;
  }

  /** The endpoint the profile serves at this path, if any. */
  endpointAt(path: string): ProfileEndpoint | undefined {
    if (path === CAMARA_PROFILE_PATHS.bcAuthorize) return 'bc-authorize';
    if (path === CAMARA_PROFILE_PATHS.token) return 'token';
    return OPERATIONS.find((op) => CAMARA_PROFILE_APIS[op].path === path);
  }

  /** OpenID Provider Metadata with the CIBA endpoints (`origin`: the simulator's URL as the client reached it). */
  discovery(origin: string): Reply {
    return {
      status: 200,
      body: {
        issuer: origin,
        backchannel_authentication_endpoint: origin + CAMARA_PROFILE_PATHS.bcAuthorize,
        token_endpoint: origin + CAMARA_PROFILE_PATHS.token,
        backchannel_token_delivery_modes_supported: ['poll'],
        grant_types_supported: ['urn:openid:params:grant-type:ciba'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256'],
        scopes_supported: [
          'openid',
          ...[...PURPOSES].map((p) => `dpv:${p}`),
          ...OPERATIONS.map((op) => CAMARA_PROFILE_APIS[op].apiScope),
        ],
      },
    };
  }

  /** The number a request is about (stats, scripted faults). */
  msisdnOf(endpoint: ProfileEndpoint, body: string, bearer: string | undefined): string | undefined {
    if (endpoint === 'bc-authorize') return this.ciba.msisdnOfAuthorize(body);
    if (endpoint === 'token') return this.ciba.msisdnOfPoll(body);
    return bearer === undefined ? undefined : this.ciba.token(bearer)?.msisdn;
  }

  async handle(endpoint: ProfileEndpoint, req: OAuthRequest, origin: string): Promise<Reply> {
    if (endpoint === 'bc-authorize' || endpoint === 'token') return this.oauth(endpoint, req, origin);
    return this.check(endpoint, req);
  }

  /** Verifies the client authentication, then hands the request to the CIBA state machine. */
  private async oauth(endpoint: 'bc-authorize' | 'token', req: OAuthRequest, origin: string): Promise<Reply> {
    if (req.mediaType !== 'application/x-www-form-urlencoded') {
      return oauthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = parseForm(req.body);
    if (!form.ok) return oauthError('invalid_request', form.error);
    const params = form.params;
    const path = endpoint === 'bc-authorize' ? CAMARA_PROFILE_PATHS.bcAuthorize : CAMARA_PROFILE_PATHS.token;
    const denied = await this.verifyAssertion(params, [origin + path, origin]);
    if (denied) return denied;
    const inner = new URLSearchParams();
    for (const [key, value] of params) {
      if (key !== 'client_id' && key !== 'client_assertion' && key !== 'client_assertion_type') {
        inner.set(key, value);
      }
    }
    if (endpoint === 'bc-authorize') {
      const scope = params.get('scope');
      const operation = scope === undefined ? undefined : parseProfileScope(scope);
      if (scope !== undefined && !operation) {
        return oauthError(
          'invalid_scope',
          'scope must be "openid dpv:<Purpose> <api-scope>" with a known purpose and one of the api-scopes this operator serves',
        );
      }
      if (operation) inner.set('scope', cibaScope(operation));
    }
    const bearer = await this.innerJwt();
    const forward = { ...req, bearer, body: inner.toString() };
    return endpoint === 'bc-authorize' ? this.ciba.bcAuthorize(forward) : this.ciba.poll(forward);
  }

  private innerJwt(): Promise<string> {
    const iat = Math.floor(this.deps.now() / 1000);
    return new SignJWT({ application_id: this.deps.clientId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .setJti(randomUUID())
      .sign(this.innerState().key);
  }

  /** RFC 7523 §3 with ICM r4.2's rules; an invalid_client (401) when anything is wrong. */
  private async verifyAssertion(
    params: Map<string, string>,
    audiences: string[],
  ): Promise<Reply | undefined> {
    const { clientId } = this.deps;
    const type = params.get('client_assertion_type');
    const assertion = params.get('client_assertion');
    if (type !== CLIENT_ASSERTION_TYPE || !assertion) {
      return invalidClient(
        `Client authentication must be private_key_jwt: client_assertion_type ${CLIENT_ASSERTION_TYPE} and a client_assertion.`,
      );
    }
    const formClientId = params.get('client_id');
    if (formClientId !== undefined && formClientId !== clientId) return invalidClient('Unknown client_id.');
    let header: { kid?: unknown };
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return invalidClient('The client assertion is not a JWS.');
    }
    if (typeof header.kid !== 'string' || header.kid === '')
      return invalidClient('The client assertion has no kid.');
    if (this.deps.keyId !== undefined && header.kid !== this.deps.keyId) {
      return invalidClient('The client assertion kid is not a key registered for this client.');
    }
    const now = this.deps.now();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(assertion, this.deps.publicKey, {
        algorithms: ['RS256', 'ES256', 'PS256'],
        issuer: clientId,
        subject: clientId,
        audience: audiences,
        requiredClaims: ['iat', 'exp', 'jti'],
        currentDate: new Date(now),
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) return invalidClient('The client assertion has expired (exp).');
      if (err instanceof errors.JWTClaimValidationFailed) {
        return invalidClient(`The client assertion is invalid: ${err.message} (${err.claim}).`);
      }
      if (err instanceof errors.JWSSignatureVerificationFailed) {
        return invalidClient('The client assertion signature does not match the registered key.');
      }
      return invalidClient('The client assertion is malformed.');
    }
    const { iat, exp, jti } = payload as { iat: number; exp: number; jti: unknown };
    const nowSeconds = now / 1000;
    if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) {
      return invalidClient('The client assertion lives longer than 300 seconds (exp - iat).');
    }
    if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS) {
      return invalidClient('The client assertion expires more than 300 seconds from now.');
    }
    if (iat > nowSeconds + 5) return invalidClient('The client assertion was issued in the future (iat).');
    if (typeof jti !== 'string' || jti === '') return invalidClient('The client assertion has no jti.');
    for (const [seen, until] of this.seenJti) if (until < nowSeconds) this.seenJti.delete(seen);
    if (this.seenJti.has(jti)) return invalidClient('The client assertion was used before (jti).');
    this.seenJti.set(jti, exp);
    return undefined;
  }

  private check(operation: CamaraOperation, req: OAuthRequest): Reply {
    if (!req.bearer) {
      return camaraError(
        401,
        'UNAUTHENTICATED',
        'Request not authenticated: missing Authorization: Bearer <access token>',
      );
    }
    const token = this.ciba.token(req.bearer);
    if (!token)
      return camaraError(401, 'UNAUTHENTICATED', 'Request not authenticated: the access token is unknown');
    const now = this.deps.now();
    if (now >= token.expiresAt) {
      this.deps.violation('token-expired', token.msisdn);
      return camaraError(401, 'UNAUTHENTICATED', 'Request not authenticated: the access token has expired');
    }
    if (token.operation !== operation) {
      this.deps.violation('token-for-other-scope', token.msisdn);
      return camaraError(
        403,
        'PERMISSION_DENIED',
        `The access token was not issued for ${CAMARA_PROFILE_APIS[operation].apiScope}`,
      );
    }
    if (req.mediaType !== 'application/json') {
      return camaraError(400, 'INVALID_ARGUMENT', 'Content-Type must be application/json');
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return camaraError(400, 'INVALID_ARGUMENT', 'The request body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return camaraError(400, 'INVALID_ARGUMENT', 'The request body must be a JSON object');
    }
    const fields = body as Record<string, unknown>;
    const isSimSwap = operation === 'sim-swap' || operation === 'sim-swap-date';
    const allowed =
      operation === 'sim-swap' ? ['phoneNumber', 'maxAge'] : isSimSwap ? ['phoneNumber'] : ['device'];
    const extra = Object.keys(fields).find((key) => !allowed.includes(key));
    if (extra !== undefined)
      return camaraError(400, 'INVALID_ARGUMENT', `Unknown property ${JSON.stringify(extra.slice(0, 40))}`);
    if (fields.phoneNumber !== undefined || fields.device !== undefined) {
      return camaraError(
        422,
        'UNNECESSARY_IDENTIFIER',
        'The device is already identified by the access token.',
      );
    }
    let maxAge = 240;
    if (operation === 'sim-swap' && fields.maxAge !== undefined) {
      const value = fields.maxAge;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2400) {
        return camaraError(400, 'INVALID_ARGUMENT', 'maxAge must be an integer from 1 to 2400');
      }
      maxAge = value;
    }
    const data = this.subscribers.data(token.msisdn, now);
    const notFound = () => camaraError(404, 'IDENTIFIER_NOT_FOUND', 'Device identifier not found.');
    switch (operation) {
      case 'sim-swap': {
        if (!data.simSwap) return notFound();
        const { lastSimChange } = data.simSwap;
        return {
          status: 200,
          body: { swapped: lastSimChange !== null && lastSimChange >= now - maxAge * 3_600_000 },
        };
      }
      case 'sim-swap-date': {
        if (!data.simSwap) return notFound();
        const { lastSimChange } = data.simSwap;
        return {
          status: 200,
          body:
            lastSimChange === null
              ? { latestSimChange: null, monitoredPeriod: MONITORED_PERIOD_DAYS }
              : { latestSimChange: isoSeconds(lastSimChange) },
        };
      }
      case 'device-connectivity': {
        if (!data.connectivity) return notFound();
        const lastStatusTime = isoSeconds(now);
        if (data.connectivity === 'NOT_CONNECTED')
          return { status: 200, body: { lastStatusTime, reachable: false } };
        return {
          status: 200,
          body: {
            lastStatusTime,
            reachable: true,
            connectivity: [data.connectivity === 'CONNECTED_DATA' ? 'DATA' : 'SMS'],
          },
        };
      }
      case 'device-roaming':
        if (!data.roaming) return notFound();
        return { status: 200, body: { lastStatusTime: isoSeconds(now), ...data.roaming } };
    }
  }

  private get subscribers(): Subscribers {
    return this.deps.subscribers;
  }
}

/** `openid dpv:<Purpose> <api-scope>` (any order) → the operation, when the purpose and api-scope are known. */
export function parseProfileScope(scope: string): CamaraOperation | undefined {
  const parts = scope.split(' ').filter((p) => p !== '');
  if (parts.length !== 3 || !parts.includes('openid')) return undefined;
  const purposes = parts.filter((p) => p.startsWith('dpv:'));
  if (purposes.length !== 1 || !PURPOSES.has(purposes[0]!.slice(4))) return undefined;
  const apiScope = parts.find((p) => p !== 'openid' && !p.startsWith('dpv:'));
  return OPERATIONS.find((op) => CAMARA_PROFILE_APIS[op].apiScope === apiScope);
}

export type { ViolationKind };
