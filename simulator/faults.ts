/**
 * Random faults and latency, decided by a seeded PRNG. Every Vonage request draws exactly
 * two numbers (latency, fault) whatever the configuration, so the same seed and the same
 * request order give the same fault sequence. The fault draw is split into bands:
 * [0, unavailable) → 503, then tooManyRequests → 429, then timeout (a hang), then drop, then
 * reset. `slowDown` draws from a second PRNG, only for a flow's first on-time token poll.
 *
 * `echo` makes the simulator a hostile provider: every error answer (4xx/5xx, random, scripted or
 * its own) quotes back what it was sent, as careless providers do: the request's number in
 * several spellings, its auth_req_id and its Authorization credential (the application JWT or the
 * access token), appended to the answer's message (`hostileEcho`, `withHostileEcho`). It draws
 * nothing from the PRNGs: the fault sequence is the same with or without it.
 */
import type { Reply } from './http.js';
import { mulberry32 } from './prng.js';
import type { FaultOptions } from './types.js';

export type RandomFault = 'unavailable' | 'too-many-requests' | 'timeout' | 'drop' | 'reset';

export interface FaultDecision {
  latencyMs: number;
  fault?: RandomFault;
}

function share(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!(v >= 0 && v <= 1))
    throw new RangeError(`faults.${name} must be a share between 0 and 1 (got ${value})`);
  return v;
}

export class FaultInjector {
  private readonly random: () => number;
  private readonly slowDownRandom: () => number;
  private readonly slowDownShare: number;
  private readonly bands: [RandomFault, number][];
  readonly retryAfterSeconds: number;
  /** How long a hang (`timeout`) lasts before the connection is destroyed; undefined = until the client gives up. */
  readonly hangMs: number | undefined;
  /** Error answers echo the request's number, auth_req_id and credential (a hostile provider). */
  readonly echo: boolean;

  constructor(private readonly options: FaultOptions = {}) {
    this.random = mulberry32(options.seed ?? 1);
    this.slowDownRandom = mulberry32((options.seed ?? 1) ^ 0x5a5a5a5a);
    this.slowDownShare = share('slowDown', options.slowDown);
    let upper = 0;
    this.bands = (
      [
        ['unavailable', share('unavailable', options.unavailable)],
        ['too-many-requests', share('tooManyRequests', options.tooManyRequests)],
        ['timeout', share('timeout', options.timeout)],
        ['drop', share('drop', options.drop)],
        ['reset', share('reset', options.reset)],
      ] as const
    ).map(([fault, p]) => {
      upper += p;
      return [fault, upper];
    });
    if (upper > 1 + 1e-9) throw new RangeError(`fault shares add up to ${upper}, more than 1`);
    const latency = options.latencyMs;
    const bounds = Array.isArray(latency) ? latency : [latency ?? 0, latency ?? 0];
    if (!bounds.every((b) => Number.isFinite(b) && b >= 0) || bounds[0]! > bounds[1]!) {
      throw new RangeError(`faults.latencyMs must be ms >= 0 or [min, max] (got ${JSON.stringify(latency)})`);
    }
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    if (!(this.retryAfterSeconds >= 0)) throw new RangeError('faults.retryAfterSeconds must be >= 0');
    this.hangMs = options.hangMs;
    this.echo = options.echo ?? false;
    if (this.hangMs !== undefined && !(Number.isFinite(this.hangMs) && this.hangMs > 0)) {
      throw new RangeError(`faults.hangMs must be ms > 0 (got ${this.hangMs})`);
    }
  }

  /** Whether this flow's first on-time token poll is answered slow_down. */
  slowDownFirstPoll(): boolean {
    return this.slowDownShare > 0 && this.slowDownRandom() < this.slowDownShare;
  }

  next(): FaultDecision {
    const latencyDraw = this.random();
    const faultDraw = this.random();
    const latency = this.options.latencyMs;
    const [min, max] = Array.isArray(latency) ? latency : [latency ?? 0, latency ?? 0];
    const latencyMs = Math.round(min + latencyDraw * (max - min));
    const band = this.bands.find(([, upper]) => faultDraw < upper);
    return band ? { latencyMs, fault: band[0] } : { latencyMs };
  }
}

/**
 * The spellings a hostile provider writes a number in (`+447700900001` shown; the first two
 * digits stand for the country code): `+44 7700 900001`, `44-7700-900-001`, `+44.7700.900.001`,
 * `+44 (0) 7700 900001`, `07700 900001` (national: 0 and the last ten digits), `%2B447700900001`,
 * `tel:+447700900001`, `447700900001` and `7700900001` (the last ten digits).
 */
export function echoSpellings(msisdn: string): string[] {
  const digits = msisdn.replace(/^\+/, '');
  const cc = digits.slice(0, 2);
  const rest = digits.slice(2);
  const last10 = digits.slice(-10);
  const [a, b, c] = [rest.slice(0, 4), rest.slice(4, 7), rest.slice(7)];
  return [
    `+${cc} ${a} ${rest.slice(4)}`,
    `${cc}-${a}-${b}-${c}`,
    `+${cc}.${a}.${b}.${c}`,
    `+${cc} (0) ${a} ${rest.slice(4)}`,
    `0${last10.slice(0, 4)} ${last10.slice(4)}`,
    `%2B${digits}`,
    `tel:+${digits}`,
    digits,
    last10,
  ];
}

/** What a hostile provider quotes back in an error: the number's spellings, the auth_req_id, the credential. */
export function hostileEcho(facts: { msisdn?: string; authReqId?: string; authorization?: string }): string {
  const parts = [
    ...(facts.msisdn ? [`subscriber ${echoSpellings(facts.msisdn).join(' / ')}`] : []),
    ...(facts.authReqId ? [`auth_req_id ${facts.authReqId}`] : []),
    ...(facts.authorization ? [`you sent ${facts.authorization}`] : []),
  ];
  return parts.length > 0 ? `(echo: ${parts.join('; ')})` : '';
}

/**
 * An error reply with `echo` appended to its message: the CAMARA `message`, the OAuth
 * `error_description` (added when absent), the RFC 7807 `detail`, or a non-empty raw body.
 */
export function withHostileEcho(reply: Reply, echo: string): Reply {
  if (reply.status < 400 || echo === '') return reply;
  const add = (text: unknown) => (typeof text === 'string' && text !== '' ? `${text} ${echo}` : echo);
  if (reply.raw !== undefined) return reply.raw === '' ? reply : { ...reply, raw: add(reply.raw) };
  const body = reply.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return reply;
  const fields = body as Record<string, unknown>;
  if ('error' in fields)
    return { ...reply, body: { ...fields, error_description: add(fields.error_description) } };
  if ('detail' in fields || 'type' in fields)
    return { ...reply, body: { ...fields, detail: add(fields.detail) } };
  return { ...reply, body: { ...fields, message: add(fields.message) } };
}
