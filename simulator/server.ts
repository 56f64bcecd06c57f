/**
 * The HTTP front of the simulator: routing, the fault / rate-limit pipeline in front of the
 * Vonage endpoints, x-correlator handling, stats and the request log, and the
 * `/__simulator/*` admin endpoints (never subject to faults or the rate limit).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isE164 } from '../domain/msisdn.js';
import { handleCamara, msisdnOfCamara } from './camara.js';
import { CAMARA_PROFILE_PATHS, type CamaraProfileServer, type ProfileEndpoint } from './camara-profile.js';
import type { CibaServer } from './ciba.js';
import { hostileEcho, withHostileEcho, type FaultInjector } from './faults.js';
import { IDENTITY_INSIGHTS_PATHS, type IdentityInsightsServer } from './identity-insights.js';
import {
  BodyTooLargeError,
  bearerToken,
  camaraError,
  defaultCode,
  mediaType,
  oauthError,
  problemType,
  readBody,
  X_CORRELATOR,
  type Reply,
} from './http.js';
import type { RateLimiter } from './rate-limit.js';
import type { RequestLog } from './request-log.js';
import {
  parseScenarioFile,
  ScenarioValidationError,
  type Fault,
  type RequestEndpointClass,
  type ScenarioStore,
} from './scenarios.js';
import type { StatsRecorder } from './stats.js';
import type { Subscribers } from './subscribers.js';
import { CAMARA_OPERATION_NAMES, CAMARA_OPERATIONS, type CamaraOperation } from './wire.js';

export type Endpoint = 'bc-authorize' | 'token' | CamaraOperation | 'identity-insights';

const ROUTES = new Map<string, Endpoint>([
  ['/oauth2/bc-authorize', 'bc-authorize'],
  ['/oauth2/token', 'token'],
  ...CAMARA_OPERATION_NAMES.map((op) => [CAMARA_OPERATIONS[op].path, op] as const),
  ...IDENTITY_INSIGHTS_PATHS.map((path) => [path, 'identity-insights'] as const),
]);

export const ADMIN_PREFIX = '/__simulator/';

export interface ServerDeps {
  now: () => number;
  ciba: CibaServer;
  insights: IdentityInsightsServer;
  subscribers: Subscribers;
  scenarios: ScenarioStore;
  stats: StatsRecorder;
  faults: FaultInjector;
  rateLimiter?: RateLimiter;
  requestLog?: RequestLog;
  /** The `camara` operator profile (simulator/camara-profile.ts): discovery, /oidc/*, the v2/v1 APIs. */
  camaraProfile?: CamaraProfileServer;
}

/** One Vonage request in flight. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  endpoint: Endpoint | 'unknown';
  path: string;
  receivedAt: number;
  t0: number;
  msisdn?: string;
  correlator?: string;
  /** The auth_req_id of a token poll (for faults.echo). */
  authReqId?: string;
  /** Served by the `camara` profile (its own OAuth endpoints and APIs). */
  profile?: ProfileEndpoint;
  done: boolean;
}

function endpointClass(endpoint: Endpoint): RequestEndpointClass {
  if (endpoint === 'identity-insights') return endpoint;
  return endpoint === 'bc-authorize' || endpoint === 'token' ? endpoint : 'camara';
}

/** The answer of a scripted status fault: CAMARA body by default, else the form the fault names. */
export function scriptedReply(fault: Fault): Reply {
  const status = fault.status ?? 500;
  const message = fault.message ?? `Scripted fault ${status}`;
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  if (fault.contentType !== undefined) headers['content-type'] = fault.contentType;
  let reply: Reply;
  if (fault.body !== undefined) {
    if (fault.contentType === undefined && fault.body !== '') headers['content-type'] = 'text/html';
    reply = { status, raw: fault.body };
  } else if (fault.problem !== undefined) {
    const p = fault.problem;
    reply = {
      status,
      body: {
        type: p.type ?? problemType('scripted'),
        title: p.title ?? STATUS_CODES[status] ?? 'Error',
        detail: p.detail ?? message,
        instance: p.instance ?? randomUUID(),
      },
    };
  } else if (fault.error !== undefined) {
    reply = { status, body: { error: fault.error, error_description: message } };
  } else {
    reply = camaraError(status, fault.code ?? defaultCode(status), message);
  }
  return Object.keys(headers).length > 0 ? { ...reply, headers } : reply;
}

function isOAuth(endpoint: Endpoint | 'unknown'): boolean {
  return endpoint === 'bc-authorize' || endpoint === 'token';
}

export class SimulatorServer {
  readonly http: Server;
  private closing = false;
  /** Requests deliberately left unanswered, and pending delays: released on close. */
  private readonly held = new Set<ServerResponse>();
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly deps: ServerDeps) {
    this.http = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 500, code: 'INTERNAL', message: String(err) }));
        }
      });
    });
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
    await this.deps.requestLog?.close();
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    if (url.pathname.startsWith(ADMIN_PREFIX)) return this.admin(req, res, url);
    const profile = this.deps.camaraProfile?.endpointAt(url.pathname);
    const endpoint = profile ?? ROUTES.get(url.pathname);
    const ex: Exchange = {
      req,
      res,
      endpoint: endpoint ?? 'unknown',
      path: url.pathname,
      receivedAt: this.deps.now(),
      t0: performance.now(),
      done: false,
    };
    const correlator = req.headers['x-correlator'];
    if (typeof correlator === 'string' && X_CORRELATOR.test(correlator)) ex.correlator = correlator;
    if (profile) ex.profile = profile;
    if (this.deps.camaraProfile && url.pathname === CAMARA_PROFILE_PATHS.discovery && req.method === 'GET') {
      this.deps.stats.arrival(ex.receivedAt);
      return this.send(ex, this.deps.camaraProfile.discovery(originOf(req)));
    }
    if (!endpoint) {
      this.deps.stats.arrival(ex.receivedAt);
      return this.send(ex, camaraError(404, 'NOT_FOUND', `No endpoint ${req.method ?? ''} ${url.pathname}`));
    }
    if (req.method !== 'POST') {
      this.deps.stats.arrival(ex.receivedAt);
      return this.send(ex, {
        ...camaraError(405, 'METHOD_NOT_ALLOWED', `${url.pathname} only accepts POST`),
        headers: { allow: 'POST' },
      });
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      this.deps.stats.arrival(ex.receivedAt);
      if (!(err instanceof BodyTooLargeError)) throw err;
      return this.send(ex, camaraError(413, 'PAYLOAD_TOO_LARGE', err.message));
    }
    return this.vonage(ex, endpoint, body);
  }

  private identify(ex: Exchange, endpoint: Endpoint, body: string): string | undefined {
    if (ex.profile && this.deps.camaraProfile) {
      return this.deps.camaraProfile.msisdnOf(ex.profile, body, bearerToken(ex.req));
    }
    if (endpoint === 'bc-authorize') return this.deps.ciba.msisdnOfAuthorize(body);
    if (endpoint === 'token') return this.deps.ciba.msisdnOfPoll(body);
    if (endpoint === 'identity-insights') return this.deps.insights.msisdnOf(body);
    const bearer = bearerToken(ex.req);
    return msisdnOfCamara(bearer === undefined ? undefined : this.deps.ciba.token(bearer), body);
  }

  /** Rate limit → random fault → scripted fault → latency → the endpoint itself. */
  private async vonage(ex: Exchange, endpoint: Endpoint, body: string): Promise<void> {
    const { stats, faults, scenarios, rateLimiter } = this.deps;
    ex.msisdn = this.identify(ex, endpoint, body);
    if (endpoint === 'token') ex.authReqId = new URLSearchParams(body).get('auth_req_id') ?? undefined;
    // Counted and limited by receipt (the request's headers), as a provider's edge counts, not
    // by when the body was read: a busy machine reads bodies late and in bunches.
    stats.arrival(ex.receivedAt, ex.msisdn);

    if (rateLimiter) {
      const decision = rateLimiter.take(ex.receivedAt);
      if (!decision.ok) {
        stats.violation('rate-limit-exceeded', ex.msisdn);
        return this.send(
          ex,
          camaraError(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded; retry after the Retry-After delay', {
            'retry-after': String(decision.retryAfterSeconds),
          }),
          'rate-limit',
        );
      }
    }

    const random = faults.next();
    const scripted =
      random.fault || !ex.msisdn ? undefined : scenarios.takeFault(ex.msisdn, endpointClass(endpoint));
    await this.sleep(random.latencyMs + (scripted?.delayMs ?? 0));
    if (this.closing) {
      ex.res.socket?.destroy();
      return;
    }

    switch (random.fault) {
      case 'unavailable':
        return this.send(
          ex,
          camaraError(503, 'UNAVAILABLE', 'Service unavailable (injected fault)'),
          'unavailable',
        );
      case 'too-many-requests':
        return this.send(
          ex,
          camaraError(429, 'TOO_MANY_REQUESTS', 'Too many requests (injected fault)', {
            'retry-after': String(faults.retryAfterSeconds),
          }),
          'too-many-requests',
        );
      case 'timeout':
        return this.hold(ex, faults.hangMs, 'timeout');
      case 'drop':
        return this.drop(ex, 'drop');
      case 'reset':
        return this.reset(ex);
      case undefined:
        break;
    }
    if (scripted && scripted.delayMs === undefined) return this.scripted(ex, scripted);

    const rawCorrelator = ex.req.headers['x-correlator'];
    if (rawCorrelator !== undefined && ex.correlator === undefined) {
      const detail = 'x-correlator must match ^[a-zA-Z0-9-_:;./<>{}]{0,256}$';
      return this.send(
        ex,
        isOAuth(endpoint)
          ? oauthError('invalid_request', detail)
          : camaraError(400, 'INVALID_ARGUMENT', detail),
      );
    }

    const request = {
      bearer: bearerToken(ex.req),
      mediaType: mediaType(ex.req),
      body,
      receivedAt: ex.receivedAt,
    };
    let reply: Reply;
    if (ex.profile && this.deps.camaraProfile) {
      reply = await this.deps.camaraProfile.handle(ex.profile, request, originOf(ex.req));
    } else if (endpoint === 'bc-authorize') reply = await this.deps.ciba.bcAuthorize(request);
    else if (endpoint === 'token') reply = await this.deps.ciba.poll(request);
    else if (endpoint === 'identity-insights') reply = await this.deps.insights.handle(request);
    else {
      reply = handleCamara(endpoint, request, {
        now: this.deps.now,
        token: (t) => this.deps.ciba.token(t),
        subscribers: this.deps.subscribers,
        violation: (kind, msisdn) => stats.violation(kind, msisdn),
      });
    }
    if (this.closing) return;
    return this.send(ex, reply, reply.fault);
  }

  private scripted(ex: Exchange, fault: Fault): void {
    if (fault.drop) return this.drop(ex, 'scripted-drop');
    if (fault.timeoutMs !== undefined) return this.hold(ex, fault.timeoutMs, 'scripted-timeout');
    return this.send(ex, scriptedReply(fault), 'scripted');
  }

  /** Leaves the request unanswered until the client gives up, `ms` pass (then drops it) or the server closes. */
  private hold(ex: Exchange, ms: number | undefined, fault: string): void {
    this.finish(ex, 'timeout', fault);
    this.held.add(ex.res);
    ex.res.on('close', () => this.held.delete(ex.res));
    if (ms !== undefined) {
      void this.sleep(ms).then(() => {
        this.held.delete(ex.res);
        ex.res.socket?.destroy();
      });
    }
  }

  private drop(ex: Exchange, fault: string): void {
    this.finish(ex, 'drop', fault);
    ex.res.socket?.destroy();
  }

  /** Resets the connection (TCP RST): the client sees ECONNRESET, not an orderly close. */
  private reset(ex: Exchange): void {
    this.finish(ex, 'reset', 'reset');
    const socket = ex.res.socket;
    if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket?.destroy();
  }

  private finish(ex: Exchange, status: number | string, fault?: string): void {
    if (ex.done) return;
    ex.done = true;
    this.deps.stats.outcome(ex.endpoint, status, ex.msisdn);
    this.deps.requestLog?.write({
      time: new Date(ex.receivedAt).toISOString(),
      method: ex.req.method ?? '',
      path: ex.path,
      endpoint: ex.endpoint,
      status,
      latencyMs: Math.round((performance.now() - ex.t0) * 10) / 10,
      msisdn: ex.msisdn,
      ...(ex.correlator !== undefined ? { xCorrelator: ex.correlator } : {}),
      ...(fault !== undefined ? { fault } : {}),
    });
  }

  private send(ex: Exchange, reply: Reply, fault?: string): void {
    if (ex.res.destroyed || ex.res.headersSent) return;
    if (this.deps.faults.echo) {
      const { msisdn, authReqId } = ex;
      reply = withHostileEcho(
        reply,
        hostileEcho({ msisdn, authReqId, authorization: ex.req.headers.authorization }),
      );
    }
    // Stats first, so a client reading them right after the answer sees this request.
    this.finish(ex, reply.status, fault);
    const raw = reply.raw !== undefined;
    const headers: Record<string, string> = {
      ...(raw ? {} : { 'content-type': 'application/json' }),
      ...(ex.correlator !== undefined ? { 'x-correlator': ex.correlator } : {}),
      ...reply.headers,
    };
    ex.res.writeHead(reply.status, headers);
    ex.res.end(raw ? reply.raw : JSON.stringify(reply.body));
  }

  // ---- admin ----

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const action = `${req.method ?? ''} ${url.pathname.slice(ADMIN_PREFIX.length)}`;
    switch (action) {
      case 'GET health':
        return this.json(res, 200, { ok: true });
      case 'GET stats': {
        const msisdn = url.searchParams.get('msisdn') ?? undefined;
        if (msisdn !== undefined && !isE164(msisdn)) {
          return this.json(res, 400, {
            error: 'invalid_msisdn',
            message: 'msisdn must be E.164 with a percent-encoded + (msisdn=%2B447700900001)',
          });
        }
        return this.json(res, 200, this.deps.stats.snapshot(msisdn));
      }
      case 'POST reset':
        this.deps.stats.reset();
        return this.json(res, 200, { ok: true });
      case 'POST scenarios': {
        let parsed;
        try {
          parsed = parseScenarioFile(JSON.parse(await readBody(req)), 'POST /__simulator/scenarios');
        } catch (err) {
          if (err instanceof ScenarioValidationError) {
            return this.json(res, 400, {
              error: 'invalid_scenarios',
              message: err.message,
              issues: err.issues,
            });
          }
          if (err instanceof SyntaxError || err instanceof BodyTooLargeError) {
            return this.json(res, 400, {
              error: 'invalid_scenarios',
              message: err.message,
              issues: [err.message],
            });
          }
          throw err;
        }
        this.deps.scenarios.add(parsed);
        return this.json(res, 200, { ok: true, numbers: Object.keys(parsed.numbers ?? {}).length });
      }
      default:
        return this.json(res, 404, {
          error: 'not_found',
          message: `No admin endpoint ${action}; try GET stats, POST reset, POST scenarios, GET health`,
        });
    }
  }
}

/** The simulator's URL as the client reached it (the `camara` profile's issuer and endpoints). */
function originOf(req: IncomingMessage): string {
  const host =
    typeof req.headers.host === 'string' && req.headers.host !== '' ? req.headers.host : 'localhost';
  return `http://${host}`;
}
