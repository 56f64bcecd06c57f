/**
 * The OAuth side of the simulator: `POST /oauth2/bc-authorize` and the CIBA poll at
 * `POST /oauth2/token` (OpenID CIBA Core 1.0 §7, §10, §11), including the access tokens it
 * issues, each bound to one number and one operation.
 */
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { isE164 } from '../domain/msisdn.js';
import { ExpiringMap } from './expiring-map.js';
import { oauthError, parseForm, problem, type Reply } from './http.js';
import { verifyApplicationJwt } from './jwt.js';
import type { Subscribers } from './subscribers.js';
import type { ViolationKind } from './types.js';
import {
  CAMARA_OPERATION_NAMES,
  CAMARA_OPERATIONS,
  CIBA_GRANT_TYPE,
  cibaScope,
  dpvScope,
  type CamaraOperation,
} from './wire.js';

export { CIBA_GRANT_TYPE } from './wire.js';
/** Added to the interval of an auth_req_id at each `slow_down` (CIBA §11). */
export const SLOW_DOWN_STEP_SECONDS = 5;
/** Timer slack allowed when judging whether a poll came too early. */
export const POLL_TOLERANCE_MS = 10;

const NO_STORE = { 'cache-control': 'no-store' };

/** `dpv:<purpose>#<api-scope>` → operation, for every accepted purpose. */
const DPV_SCOPES = new Map<string, CamaraOperation>(
  CAMARA_OPERATION_NAMES.flatMap((op) =>
    CAMARA_OPERATIONS[op].purposes.map((p) => [dpvScope(op, p), op] as const),
  ),
);

export interface OAuthRequest {
  /** Bearer token of the Authorization header. */
  bearer?: string;
  mediaType: string;
  body: string;
  /** When its headers arrived (ms; default: now). Poll timing is judged by it, as rate limits are. */
  receivedAt?: number;
}

interface AuthRequest {
  msisdn: string;
  operation: CamaraOperation;
  expiresAt: number;
  intervalMs: number;
  lastPollAt: number;
  pendingLeft: number;
  denied: boolean;
  tokenExpiresIn: number;
  state: 'pending' | 'redeemed' | 'denied';
  /** Token polls answered so far (slow_down injection looks at the first on-time one). */
  polls?: number;
}

export interface IssuedToken {
  msisdn: string;
  operation: CamaraOperation;
  expiresAt: number;
}

export interface CibaDeps {
  applicationId: string;
  publicKey: KeyObject;
  now: () => number;
  subscribers: Subscribers;
  violation: (kind: ViolationKind, msisdn?: string) => void;
  numericStrings: boolean;
  omitInterval: boolean;
  /** True when the application has no Network Application linked: bc-authorize refuses everyone. */
  noNetworkApplication: () => boolean;
  /** Whether a flow's first on-time poll gets an injected slow_down (default never). */
  slowDownFirstPoll?: () => boolean;
}

/** The CIBA state a restarted simulator goes on with (SimulatorOptions.stateFile). */
export interface CibaState {
  authRequests: [string, AuthRequest][];
  tokens: [string, IssuedToken][];
}

/** Vonage's detail of the 403 a number not on the Playground allowlist gets (exact text). */
export const ALLOWLIST_BLOCKED_DETAIL =
  'The Network API application can only be used with verified phone numbers. Blocked by allowlist.';

type LoginHint =
  | { ok: true; msisdn: string }
  | {
      ok: false;
      detail: string;
      /** The number meant, when a raw '+' arrived as a space. */ unencodedPlus?: string;
    };

/** `tel:+<E.164>` or `+<E.164>`. */
export function parseLoginHint(hint: string): LoginHint {
  const value = hint.startsWith('tel:') ? hint.slice(4) : hint;
  const spaced = /^ (\d+)$/.exec(value)?.[1];
  if (spaced !== undefined && isE164(`+${spaced}`)) {
    return {
      ok: false,
      unencodedPlus: `+${spaced}`,
      detail:
        "login_hint starts with a space: a raw '+' in a form body decodes to a space; percent-encode it as %2B",
    };
  }
  if (isE164(value)) return { ok: true, msisdn: value };
  return { ok: false, detail: 'login_hint must be tel:+<E.164 number> or +<E.164 number>' };
}

/** `openid dpv:<purpose>#<api-scope>` → operation. */
export function parseScope(scope: string): CamaraOperation | undefined {
  const parts = scope.split(' ').filter((p) => p !== '');
  if (parts.length !== 2 || !parts.includes('openid')) return undefined;
  const dpv = parts.find((p) => p !== 'openid');
  return dpv === undefined ? undefined : DPV_SCOPES.get(dpv);
}

function formParams(
  req: OAuthRequest,
): { ok: true; params: Map<string, string> } | { ok: false; reply: Reply } {
  if (req.mediaType !== 'application/x-www-form-urlencoded') {
    return {
      ok: false,
      reply: oauthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded'),
    };
  }
  const form = parseForm(req.body);
  return form.ok ? form : { ok: false, reply: oauthError('invalid_request', form.error) };
}

export class CibaServer {
  private readonly authRequests = new ExpiringMap<AuthRequest>();
  private readonly tokens = new ExpiringMap<IssuedToken>();

  constructor(private readonly deps: CibaDeps) {}

  /** The number a bc-authorize request is about (for stats and scripted faults), if valid. */
  msisdnOfAuthorize(body: string): string | undefined {
    const hint = new URLSearchParams(body).get('login_hint');
    if (hint === null) return undefined;
    const parsed = parseLoginHint(hint);
    return parsed.ok ? parsed.msisdn : parsed.unencodedPlus;
  }

  /** The number a token poll is about, if its auth_req_id is known. */
  msisdnOfPoll(body: string): string | undefined {
    const id = new URLSearchParams(body).get('auth_req_id');
    return id === null ? undefined : this.authRequests.get(id)?.msisdn;
  }

  token(accessToken: string): IssuedToken | undefined {
    return this.tokens.get(accessToken);
  }

  /** Every auth_req_id and access token still kept, for a restart (SimulatorOptions.stateFile). */
  exportState(): CibaState {
    return { authRequests: [...this.authRequests.entries()], tokens: [...this.tokens.entries()] };
  }

  importState(state: CibaState): void {
    const now = this.deps.now();
    for (const [id, auth] of state.authRequests) this.authRequests.set(id, auth, now);
    for (const [token, issued] of state.tokens) this.tokens.set(token, issued, now);
  }

  private async authenticate(req: OAuthRequest): Promise<Reply | undefined> {
    const jwt = await verifyApplicationJwt(
      req.bearer,
      this.deps.publicKey,
      this.deps.applicationId,
      this.deps.now(),
    );
    return jwt.ok ? undefined : problem(401, 'Unauthorized', jwt.detail, 'unauthorized');
  }

  private seconds(value: number): number | string {
    return this.deps.numericStrings ? String(value) : value;
  }

  async bcAuthorize(req: OAuthRequest): Promise<Reply> {
    const denied = await this.authenticate(req);
    if (denied) return denied;
    if (this.deps.noNetworkApplication()) {
      // Vonage's answer (the body its SDK fixtures carry) when the app has no Network Application.
      return problem(
        400,
        'Bad Request',
        `No Network Application associated with Vonage Application: ${this.deps.applicationId}`,
        'invalid-param',
      );
    }
    const form = formParams(req);
    if (!form.ok) return form.reply;
    const hint = form.params.get('login_hint');
    const scope = form.params.get('scope');
    if (hint === undefined) return oauthError('invalid_request', 'login_hint is required');
    if (scope === undefined) return oauthError('invalid_request', 'scope is required');
    const login = parseLoginHint(hint);
    if (!login.ok) {
      if (login.unencodedPlus) this.deps.violation('unencoded-plus', login.unencodedPlus);
      return oauthError('invalid_request', login.detail);
    }
    const operation = parseScope(scope);
    if (!operation) {
      const known = CAMARA_OPERATION_NAMES.map((op) => cibaScope(op));
      return oauthError(
        'invalid_scope',
        `scope must be "openid dpv:<purpose>#<api-scope>", one of: ${known.join(' | ')}`,
      );
    }
    const flow = this.deps.subscribers.flow(login.msisdn);
    // The details never quote the number: a client may log them.
    if (!flow.operatorServes) {
      return problem(
        404,
        'Not Found',
        'The phone number is not served by any operator this Network Application can reach',
        'not-found',
      );
    }
    if (flow.allowlistBlocked) return problem(403, 'Forbidden', ALLOWLIST_BLOCKED_DETAIL, 'forbidden');
    const now = this.deps.now();
    const id = randomUUID();
    this.authRequests.set(
      id,
      {
        msisdn: login.msisdn,
        operation,
        expiresAt: now + flow.expiresIn * 1000,
        intervalMs: flow.interval * 1000,
        lastPollAt: now,
        pendingLeft: flow.pendingPolls,
        denied: flow.denied,
        tokenExpiresIn: flow.tokenExpiresIn,
        state: 'pending',
      },
      now,
    );
    const body: Record<string, unknown> = { auth_req_id: id, expires_in: this.seconds(flow.expiresIn) };
    if (!this.deps.omitInterval) body.interval = this.seconds(flow.interval);
    return { status: 200, body, headers: NO_STORE };
  }

  async poll(req: OAuthRequest): Promise<Reply> {
    const denied = await this.authenticate(req);
    if (denied) return denied;
    const form = formParams(req);
    if (!form.ok) return form.reply;
    const grantType = form.params.get('grant_type');
    const id = form.params.get('auth_req_id');
    if (grantType === undefined) return oauthError('invalid_request', 'grant_type is required');
    if (grantType !== CIBA_GRANT_TYPE) {
      return oauthError('unsupported_grant_type', `grant_type must be ${CIBA_GRANT_TYPE}`);
    }
    if (id === undefined) return oauthError('invalid_request', 'auth_req_id is required');
    const auth = this.authRequests.get(id);
    if (!auth) return oauthError('invalid_grant', 'auth_req_id is unknown');
    const { msisdn } = auth;
    if (auth.state !== 'pending') {
      this.deps.violation('poll-after-final', msisdn);
      return oauthError('invalid_grant', `auth_req_id was already ${auth.state}`);
    }
    const now = this.deps.now();
    // Early or late by when the poll arrived, not when it was handled (after a latency that
    // differs from one request to the next, or a late body read).
    const arrived = req.receivedAt ?? now;
    if (arrived >= auth.expiresAt) {
      this.deps.violation('poll-after-expiry', msisdn);
      return oauthError('expired_token', 'auth_req_id has expired; start a new bc-authorize');
    }
    const early = arrived - auth.lastPollAt < auth.intervalMs - POLL_TOLERANCE_MS;
    auth.lastPollAt = arrived;
    if (early) {
      auth.intervalMs += SLOW_DOWN_STEP_SECONDS * 1000;
      this.deps.violation('poll-too-early', msisdn);
      return oauthError(
        'slow_down',
        `polled before the interval; the interval is now ${auth.intervalMs / 1000} s`,
      );
    }
    const first = (auth.polls ?? 0) === 0;
    auth.polls = (auth.polls ?? 0) + 1;
    if (first && this.deps.slowDownFirstPoll?.()) {
      // The provider asks for a longer interval although the poll was on time: not a violation.
      auth.intervalMs += SLOW_DOWN_STEP_SECONDS * 1000;
      return {
        ...oauthError('slow_down', `the interval is now ${auth.intervalMs / 1000} s`),
        fault: 'slow-down',
      };
    }
    if (auth.pendingLeft > 0) {
      auth.pendingLeft--;
      return oauthError('authorization_pending', 'the subscriber has not authorized the request yet');
    }
    if (auth.denied) {
      auth.state = 'denied';
      return oauthError('access_denied', 'the subscriber refused the request');
    }
    auth.state = 'redeemed';
    const accessToken = randomBytes(32).toString('base64url');
    const expiresAt = now + auth.tokenExpiresIn * 1000;
    this.tokens.set(accessToken, { msisdn, operation: auth.operation, expiresAt }, now);
    return {
      status: 200,
      body: { access_token: accessToken, token_type: 'Bearer', expires_in: auth.tokenExpiresIn },
      headers: NO_STORE,
    };
  }
}
