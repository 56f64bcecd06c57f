/**
 * Random faults and latency, decided by a seeded PRNG. Every Vonage request draws exactly
 * two numbers (latency, fault) whatever the configuration, so the same seed and the same
 * request order give the same fault sequence. The fault draw is split into bands:
 * [0, unavailable) → 503, then tooManyRequests → 429, then timeout (a hang), then drop, then
 * reset. `slowDown` draws from a second PRNG, only for a flow's first on-time token poll.
 */
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
