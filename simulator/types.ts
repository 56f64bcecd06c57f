/** Public types of the simulator; `index.ts` re-exports them. */
import type { KeyObject } from 'node:crypto';
import type { ScenarioFile } from './scenarios.js';

export type { ScenarioFile } from './scenarios.js';

export interface FaultOptions {
  /** Seed of the PRNG that decides latency and random faults (default 1). */
  seed?: number;
  /** Added to every Vonage request: a fixed delay or a `[min, max]` range drawn per request. */
  latencyMs?: number | [number, number];
  /** Share (0–1) of requests answered 503 UNAVAILABLE. */
  unavailable?: number;
  /** Share (0–1) of requests answered 429 TOO_MANY_REQUESTS with `Retry-After`. */
  tooManyRequests?: number;
  /** `Retry-After` seconds of the random 429s and of the rate limit (default 1). */
  retryAfterSeconds?: number;
  /** Share (0–1) of requests held without an answer (a hang) until the client gives up, or `hangMs`. */
  timeout?: number;
  /** How long a `timeout` request hangs before its connection is destroyed; default until the client gives up. */
  hangMs?: number;
  /** Share (0–1) of requests whose connection is destroyed without an answer (FIN). */
  drop?: number;
  /** Share (0–1) of requests whose connection is reset (TCP RST, the client sees ECONNRESET). */
  reset?: number;
  /**
   * Share (0–1) of CIBA flows whose first on-time token poll is answered `slow_down` (the
   * provider asking for a longer interval; the flow's interval grows by 5 s, no violation).
   * Drawn from a PRNG of its own, so the other faults' sequence does not change.
   */
  slowDown?: number;
  /**
   * A hostile provider: every error answer (4xx/5xx) quotes back the request's number in several
   * spellings, its auth_req_id and its Authorization credential in its message (faults.ts
   * `hostileEcho`). For leak tests of the client; draws nothing from the PRNGs. Default false.
   */
  echo?: boolean;
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  applicationId: string;
  /** PEM (SPKI) or KeyObject. */
  publicKey: string | KeyObject;
  /** Parsed scenario object (validated again here). */
  scenarios?: ScenarioFile;
  /** bc-authorize answers `expires_in` / `interval` as numeric strings. */
  numericStrings?: boolean;
  /** bc-authorize answers without `interval` (polls are still checked against the configured one). */
  omitInterval?: boolean;
  /** Seconds until an auth_req_id expires; default 120. */
  expiresIn?: number;
  /** Minimum seconds between polls; default 2; may be 0 or fractional. */
  interval?: number;
  /** `authorization_pending` answers before the token; default 0. */
  pendingPolls?: number;
  /**
   * Access-token lifetime in seconds; default 900 (15 minutes, what the access tokens Vonage
   * issues carry: see docs/simulator.md).
   */
  tokenExpiresIn?: number;
  /**
   * The application has no Network Application linked: every bc-authorize answers 400 with
   * Vonage's "No Network Application associated with Vonage Application: <id>". A scenario's
   * top-level `noNetworkApplication` overrides it at runtime. Default false.
   */
  noNetworkApplication?: boolean;
  /**
   * Where the simulator's one warning goes (bound beyond loopback: its admin endpoints have no
   * authentication). Default console.warn.
   */
  onWarning?: (message: string) => void;
  faults?: FaultOptions;
  /** Requests per second, global (sliding 1-s window); undefined = none. */
  rateLimit?: number;
  /** JSON-lines request log path (appended to). */
  requestLog?: string;
  /**
   * File that keeps the CIBA state (auth_req_ids and issued access tokens) across a restart:
   * read at start when it exists, written on close (mode 0600; it holds the simulator's own
   * test tokens). A restarted simulator then goes on with the flows the old one started, as a
   * real provider would.
   */
  stateFile?: string;
  /** Clock in ms since the epoch, for tests; default Date.now. */
  now?: () => number;
}

/** Client misbehaviours the simulator counts. */
export const VIOLATION_KINDS = [
  /** Token poll earlier than `interval` after bc-authorize or the previous poll. */
  'poll-too-early',
  /** Token poll after the auth_req_id's `expires_in` had passed. */
  'poll-after-expiry',
  /** Token poll for an auth_req_id already redeemed or denied. */
  'poll-after-final',
  /** Access token used for a number other than the one it was issued for. */
  'token-for-other-number',
  /** Access token used on an API other than the one its scope names. */
  'token-for-other-scope',
  /** Access token used after its `expires_in`. */
  'token-expired',
  /** Request refused by the global rate limit. */
  'rate-limit-exceeded',
  /** `login_hint` starting with a space: a `+` sent without percent-encoding. */
  'unencoded-plus',
] as const;

export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface SimulatorStats {
  /** Per endpoint, per status (`"200"`, `"429"`, … or `"drop"` / `"timeout"`), the number of requests. */
  requests: Record<string, Record<string, number>>;
  violations: Record<ViolationKind, number>;
  /** Most requests received within any 1-s span (sliding window). */
  maxRequestsInAnyWindow1s: number;
  /** Requests received. */
  total: number;
}

export interface Simulator {
  url: string;
  port: number;
  stats(msisdn?: string): SimulatorStats;
  reset(): void;
  addScenarios(s: ScenarioFile): void;
  close(): Promise<void>;
}
