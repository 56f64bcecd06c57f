/**
 * Shared helpers of the simulator tests: test-time RSA keys, application JWTs, a fake clock
 * and a small HTTP client for the Vonage endpoints that checks every CAMARA body it sends
 * and receives against the in-project CAMARA schemas (simulator/camara-schemas.ts, checked
 * against the upstream specs by camara-conformance.test.ts). Paths and scopes come from the
 * simulator's own table (simulator/wire.ts), never from the client's.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { makeKeys, type TestKeys } from '../support/keys.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../simulator/index.js';
import { CAMARA_OPERATIONS, cibaScope, type CamaraOperation } from '../../simulator/wire.js';
import {
  definesStatus,
  validateErrorInfo,
  validateRequest,
  validateResponse,
} from '../support/camara-schemas.js';

/** The simulator's name for a CAMARA operation (also its stats name). */
export type Operation = CamaraOperation;

/** The bc-authorize `scope` of an operation. */
export function scopeFor(operation: Operation): string {
  return cibaScope(operation);
}

/** The path the simulator serves an operation at. */
export function pathOf(operation: Operation): string {
  return CAMARA_OPERATIONS[operation].path;
}

export const APP_ID = '5f1d1c7e-7d0b-4a3c-9a8e-2f6c1b9d0e11';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

export { makeKeys, type TestKeys };

/** A controllable ms clock for the simulator's `now` option. */
export class FakeClock {
  constructor(public ms = Date.UTC(2030, 0, 15, 12, 0, 0)) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface JwtOptions {
  applicationId?: string;
  /** Seconds since the epoch; default the clock's now. */
  iat?: number | null;
  /** Seconds since the epoch; default iat + 900; null = no exp. */
  exp?: number | null;
  alg?: 'RS256' | 'RS512';
}

/** Vonage application JWT (RS256, application_id, iat, jti, exp = iat + 900 s). */
export async function mintJwt(
  privateKey: KeyObject,
  nowMs: number,
  options: JwtOptions = {},
): Promise<string> {
  const iat = options.iat === undefined ? Math.floor(nowMs / 1000) : options.iat;
  const exp = options.exp === undefined ? (iat ?? Math.floor(nowMs / 1000)) + 900 : options.exp;
  const jwt = new SignJWT({ application_id: options.applicationId ?? APP_ID })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', typ: 'JWT' })
    .setJti(randomUUID());
  if (iat !== null) jwt.setIssuedAt(iat);
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(privateKey);
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
  /** Convenience: the body as a record. */
  json: Record<string, unknown>;
}

export async function post(
  url: string,
  init: {
    form?: Record<string, string> | string;
    json?: unknown;
    raw?: string;
    headers?: Record<string, string>;
  },
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = typeof init.form === 'string' ? init.form : new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.raw !== undefined) {
    body = init.raw;
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return {
    status: res.status,
    headers: res.headers,
    body: parsed,
    json: (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>,
  };
}

/** A CAMARA request body for the operation. */
export function camaraBody(
  operation: Operation,
  phoneNumber: string,
  maxAge?: number,
): Record<string, unknown> {
  if (operation === 'sim-swap') return maxAge === undefined ? { phoneNumber } : { phoneNumber, maxAge };
  if (operation === 'sim-swap-date') return { phoneNumber };
  return { device: { phoneNumber } };
}

/** Checks a CAMARA answer against the spec: the status's schema, or ErrorInfo for statuses the spec omits. */
export function expectSpecResponse(operation: Operation, status: number, body: unknown): void {
  if (definesStatus(operation, status)) validateResponse(operation, status, body);
  else validateErrorInfo(body);
}

/** A simulator plus a client for it, with keys made at test time. */
export class TestSim {
  private constructor(
    readonly sim: Simulator,
    readonly keys: TestKeys,
    readonly clock: FakeClock | undefined,
  ) {}

  static async start(
    options: Partial<SimulatorOptions> & { fakeClock?: boolean } = {},
    keys?: TestKeys,
  ): Promise<TestSim> {
    const k = keys ?? makeKeys();
    const { fakeClock, ...rest } = options;
    const clock = fakeClock ? new FakeClock() : undefined;
    const sim = await startSimulator({
      applicationId: APP_ID,
      publicKey: k.publicKey,
      port: 0,
      interval: 0,
      ...(clock ? { now: clock.now } : {}),
      ...rest,
    });
    return new TestSim(sim, k, clock);
  }

  get url(): string {
    return this.sim.url;
  }

  now(): number {
    return this.clock ? this.clock.ms : Date.now();
  }

  advance(ms: number): void {
    if (!this.clock) throw new Error('advance() needs fakeClock: true');
    this.clock.advance(ms);
  }

  jwt(options: JwtOptions = {}): Promise<string> {
    return mintJwt(this.keys.privateKey, this.now(), options);
  }

  async bcAuthorize(
    form: Record<string, string> | string,
    headers: Record<string, string> = {},
    jwt?: string | null,
  ): Promise<HttpResult> {
    const token = jwt === undefined ? await this.jwt() : jwt;
    return post(`${this.url}/oauth2/bc-authorize`, {
      form,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
    });
  }

  async authorize(msisdn: string, operation: Operation, loginHint = `tel:${msisdn}`): Promise<string> {
    const res = await this.bcAuthorize({ login_hint: loginHint, scope: scopeFor(operation) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.json.auth_req_id as string;
  }

  async poll(
    authReqId: string,
    extra: Record<string, string> = {},
    jwt?: string | null,
  ): Promise<HttpResult> {
    const token = jwt === undefined ? await this.jwt() : jwt;
    return post(`${this.url}/oauth2/token`, {
      form: { grant_type: CIBA_GRANT, auth_req_id: authReqId, ...extra },
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
  }

  /** bc-authorize and one poll (the simulator must run with interval 0 and no pending polls for the number). */
  async accessToken(msisdn: string, operation: Operation): Promise<string> {
    const id = await this.authorize(msisdn, operation);
    const res = await this.poll(id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.json.access_token as string;
  }

  /**
   * POSTs a CAMARA request. The body must be valid per the spec unless `invalidBody` says
   * it is deliberately not; the answer is always checked against the spec.
   */
  async camara(
    operation: Operation,
    body: unknown,
    token: string | undefined,
    options: { invalidBody?: boolean; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<HttpResult> {
    if (options.raw === undefined) {
      if (options.invalidBody) expect(() => validateRequest(operation, body)).toThrow(/does not match/);
      else validateRequest(operation, body);
    }
    const res = await post(`${this.url}${pathOf(operation)}`, {
      ...(options.raw === undefined ? { json: body } : { raw: options.raw }),
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(options.raw === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
    });
    expectSpecResponse(operation, res.status, res.body);
    return res;
  }

  /** Full flow for one check: token then the CAMARA call. */
  async check(operation: Operation, msisdn: string, maxAge?: number): Promise<HttpResult> {
    const token = await this.accessToken(msisdn, operation);
    return this.camara(operation, camaraBody(operation, msisdn, maxAge), token);
  }

  close(): Promise<void> {
    return this.sim.close();
  }
}

/** Asserts a CIBA / OAuth error answer. */
export function expectOAuthError(res: HttpResult, error: string, status = 400): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.json.error).toBe(error);
  expect(typeof res.json.error_description).toBe('string');
}

/** Asserts a Vonage RFC 7807 401 answer. */
export function expectProblem401(res: HttpResult, detail: RegExp): void {
  expect(res.status).toBe(401);
  expect(res.json).toEqual({
    type: expect.stringMatching(/^https:\/\/.+#unauthorized$/) as unknown,
    title: 'Unauthorized',
    detail: expect.stringMatching(detail) as unknown,
    instance: expect.any(String) as unknown,
  });
}

/** Asserts a CAMARA error answer. */
export function expectCamaraError(res: HttpResult, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.json).toEqual({ status, code, message: expect.any(String) as unknown });
}
