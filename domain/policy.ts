/**
 * The assessment policy: which network signals decide whether a login, payout or account
 * recovery may go ahead, and how. Pure and workflow-safe (no I/O, no Node built-ins, no Date.now):
 * the networkAssess workflow evaluates a compiled policy here, and records its version.
 *
 * A policy file (JSON or YAML; read and checked by domain/policy-parse.ts) is a list of rules,
 * each `{ id, when, then }`, and a `default` verdict:
 *
 *   rules:
 *     - { id: sim-swap-24h, when: { sim_swap.within: 24h }, then: block }
 *     - { id: roaming-new-carrier, when: [roaming, carrier_changed], then: review }
 *     - { id: sim-swap-unknown, when: { unknown: sim_swap }, then: review }
 *   default: allow
 *
 * Conditions (the rule kinds; docs/assess.md has an example of each):
 *
 * | written                          | true when                                                        | signal       |
 * |----------------------------------|------------------------------------------------------------------|--------------|
 * | `sim_swap.within: 24h`           | the latest SIM change is at most 24 h (`h`, `d`, `w`) before the answer | sim_swap |
 * | `roaming`                        | the device is roaming                                            | roaming      |
 * | `roaming.outside: [GB, IE]`      | roaming in a country not in the list                             | roaming      |
 * | `connectivity: NOT_CONNECTED`    | the connectivity status is this one (or one of a list)           | connectivity |
 * | `carrier_changed`                | the current carrier differs from the one the number was first assigned to | carrier |
 * | `unknown: sim_swap`              | the signal (or any of a list) could not be gathered              | (any)        |
 * | `all: [...]`, a plain list       | every condition holds                                            |              |
 * | `any: [...]`                     | at least one holds                                               |              |
 * | `not: <condition>`               | the condition does not hold                                      |              |
 *
 * Evaluation is three-valued: a condition about a signal that could not be gathered is neither
 * true nor false, and a rule fires only when its condition is true (`all` is false as soon as one
 * part is false, `any` true as soon as one is true, `not` of unknown is unknown). So a missing
 * signal is never guessed: a policy acts on it with `unknown: <signal>`.
 *
 * The verdict is the most severe `then` of the rules that fired (block > review > allow), or
 * `default` when none fired; `reasons` are the ids of the rules that fired, in policy order.
 * The policy's version is a SHA-256 of its canonical form (keys sorted, durations in hours,
 * countries upper case): the same rules written as JSON or YAML, in any key order, `7d` or
 * `168h`, have the same version.
 */
import type { CarrierNetwork, ConnectivityData, RoamingData } from './types.js';
import { canonicalJson } from './canonical-json.js';

/** The network signals a policy can use. */
export const SIGNALS = ['sim_swap', 'roaming', 'connectivity', 'carrier'] as const;
export type SignalName = (typeof SIGNALS)[number];

export function isSignal(value: unknown): value is SignalName {
  return typeof value === 'string' && (SIGNALS as readonly string[]).includes(value);
}

export const VERDICTS = ['allow', 'review', 'block'] as const;
export type Verdict = (typeof VERDICTS)[number];

export function isVerdict(value: unknown): value is Verdict {
  return typeof value === 'string' && (VERDICTS as readonly string[]).includes(value);
}

/** allow < review < block: the verdict of several fired rules is the most severe. */
export const VERDICT_SEVERITY: Record<Verdict, number> = { allow: 0, review: 1, block: 2 };

export const CONNECTIVITY_STATUSES = ['CONNECTED_DATA', 'CONNECTED_SMS', 'NOT_CONNECTED'] as const;
export type ConnectivityStatus = ConnectivityData['connectivityStatus'];

/** What each signal's value is (the evidence of an assessment). */
export interface SignalValues {
  /** The latest SIM change the provider knows of (ISO-8601), or null: none known. */
  sim_swap: { latestSimChange: string | null };
  /** Roaming now, and where (MCC `countryCode`, ISO 3166-1 alpha-2 `countryName`) when it says. */
  roaming: RoamingData;
  connectivity: { connectivityStatus: ConnectivityStatus };
  /** Whether the current network differs from the original one, and the two networks. */
  carrier: { changed: boolean; originalCarrier?: CarrierNetwork; currentCarrier?: CarrierNetwork };
}

/** A signal as evaluation sees it: its value and when the provider answered, or unknown. */
export type SignalReading<S extends SignalName = SignalName> =
  { known: true; value: SignalValues[S]; observedAt: string } | { known: false };

export type SignalReadings = { [S in SignalName]?: SignalReading<S> };

// ---- the compiled (canonical) policy ----

/** A condition as compiled: what domain/policy-parse.ts makes of the forms a file may use. */
export type Condition =
  | { kind: 'sim_swap.within'; hours: number }
  | { kind: 'roaming' }
  | { kind: 'roaming.outside'; countries: string[] }
  | { kind: 'connectivity'; statuses: ConnectivityStatus[] }
  | { kind: 'carrier_changed' }
  | { kind: 'unknown'; signals: SignalName[] }
  | { kind: 'all'; of: Condition[] }
  | { kind: 'any'; of: Condition[] }
  | { kind: 'not'; of: Condition };

export type ConditionKind = Condition['kind'];

export interface PolicyRule {
  /** Letters, digits, `.`, `_`, `-`; unique within the policy; named in `reasons`. */
  id: string;
  when: Condition;
  then: Verdict;
}

/** A policy as the workflow takes it (the client compiles the file into this). */
export interface CompiledPolicy {
  /** The policy language's version: 1. */
  format: 1;
  name?: string;
  rules: PolicyRule[];
  /** The verdict when no rule fired. */
  default: Verdict;
}

/** Bounds that keep a policy (and the workflow input that carries it) small. */
export const POLICY_LIMITS = {
  rules: 200,
  /** Nesting of all / any / not. */
  depth: 8,
  /** Parts of one all / any, countries of one list. */
  listItems: 100,
  /** `sim_swap.within`, in hours: 1 hour to 10 years. */
  minHours: 1,
  maxHours: 87_600,
  name: 100,
} as const;

export const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const COUNTRY_CODE = /^[A-Z]{2}$/;

/** The signals a condition needs gathered (`unknown: x` needs x gathered, to know it is missing). */
function collectSignals(condition: Condition, into: Set<SignalName>): void {
  switch (condition.kind) {
    case 'sim_swap.within':
      into.add('sim_swap');
      return;
    case 'roaming':
    case 'roaming.outside':
      into.add('roaming');
      return;
    case 'connectivity':
      into.add('connectivity');
      return;
    case 'carrier_changed':
      into.add('carrier');
      return;
    case 'unknown':
      for (const signal of condition.signals) into.add(signal);
      return;
    case 'all':
    case 'any':
      for (const part of condition.of) collectSignals(part, into);
      return;
    case 'not':
      collectSignals(condition.of, into);
  }
}

/** Every signal the policy's rules use, in SIGNALS order: what an assessment gathers. */
export function policySignals(policy: CompiledPolicy): SignalName[] {
  const used = new Set<SignalName>();
  for (const rule of policy.rules) collectSignals(rule.when, used);
  return SIGNALS.filter((signal) => used.has(signal));
}

// ---- evaluation ----

/** true, false, or undefined: cannot tell (a signal it needs is unknown). */
type Truth = boolean | undefined;

const HOUR_MS = 3_600_000;

function reading<S extends SignalName>(readings: SignalReadings, signal: S): SignalReading<S> | undefined {
  const r = readings[signal];
  return r?.known ? r : undefined;
}

function holds(condition: Condition, readings: SignalReadings): Truth {
  switch (condition.kind) {
    case 'sim_swap.within': {
      const r = reading(readings, 'sim_swap');
      if (!r?.known) return undefined;
      if (r.value.latestSimChange === null) return false;
      const changed = Date.parse(r.value.latestSimChange);
      const observed = Date.parse(r.observedAt);
      if (!Number.isFinite(changed) || !Number.isFinite(observed)) return undefined;
      // A change dated after the answer (clock skew) is as recent as it gets.
      return observed - changed <= condition.hours * HOUR_MS;
    }
    case 'roaming': {
      const r = reading(readings, 'roaming');
      return r?.known ? r.value.roaming : undefined;
    }
    case 'roaming.outside': {
      const r = reading(readings, 'roaming');
      if (!r?.known) return undefined;
      if (!r.value.roaming) return false;
      const countries = r.value.countryName ?? [];
      // Roaming, but the provider did not say where: cannot tell.
      if (countries.length === 0) return undefined;
      return countries.some((country) => !condition.countries.includes(country.toUpperCase()));
    }
    case 'connectivity': {
      const r = reading(readings, 'connectivity');
      return r?.known ? condition.statuses.includes(r.value.connectivityStatus) : undefined;
    }
    case 'carrier_changed': {
      const r = reading(readings, 'carrier');
      return r?.known ? r.value.changed : undefined;
    }
    case 'unknown':
      return condition.signals.some((signal) => !readings[signal]?.known);
    case 'all': {
      let result: Truth = true;
      for (const part of condition.of) {
        const value = holds(part, readings);
        if (value === false) return false;
        if (value === undefined) result = undefined;
      }
      return result;
    }
    case 'any': {
      let result: Truth = false;
      for (const part of condition.of) {
        const value = holds(part, readings);
        if (value === true) return true;
        if (value === undefined) result = undefined;
      }
      return result;
    }
    case 'not': {
      const value = holds(condition.of, readings);
      return value === undefined ? undefined : !value;
    }
  }
}

export interface Evaluation {
  verdict: Verdict;
  /** Ids of the rules that fired, in policy order. */
  reasons: string[];
  /** The signals the policy uses that are unknown (not gathered, or failed), in SIGNALS order. */
  unknown: SignalName[];
}

/** The policy's verdict on these readings. Pure and deterministic. */
export function evaluatePolicy(policy: CompiledPolicy, readings: SignalReadings): Evaluation {
  const reasons: string[] = [];
  let verdict: Verdict | undefined;
  for (const rule of policy.rules) {
    if (holds(rule.when, readings) !== true) continue;
    reasons.push(rule.id);
    if (verdict === undefined || VERDICT_SEVERITY[rule.then] > VERDICT_SEVERITY[verdict]) verdict = rule.then;
  }
  return {
    verdict: verdict ?? policy.default,
    reasons,
    unknown: policySignals(policy).filter((signal) => !readings[signal]?.known),
  };
}

// ---- checking a compiled policy (the workflow's input may come from anywhere) ----

function conditionProblem(value: unknown, path: string, depth: number): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${path} must be an object`;
  const c = value as Record<string, unknown>;
  const keys = (...allowed: string[]) => {
    const extra = Object.keys(c).filter((k) => k !== 'kind' && !allowed.includes(k));
    return extra.length > 0 ? `${path} has unexpected field(s) ${extra.join(', ')}` : undefined;
  };
  switch (c.kind) {
    case 'sim_swap.within': {
      const hours = c.hours;
      if (
        typeof hours !== 'number' ||
        !Number.isInteger(hours) ||
        hours < POLICY_LIMITS.minHours ||
        hours > POLICY_LIMITS.maxHours
      ) {
        return `${path}.hours must be a whole number from ${POLICY_LIMITS.minHours} to ${POLICY_LIMITS.maxHours}`;
      }
      return keys('hours');
    }
    case 'roaming':
    case 'carrier_changed':
      return keys();
    case 'roaming.outside': {
      const list = c.countries;
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        list.length > POLICY_LIMITS.listItems ||
        !list.every((code) => typeof code === 'string' && COUNTRY_CODE.test(code))
      ) {
        return `${path}.countries must be 1 to ${POLICY_LIMITS.listItems} ISO 3166-1 alpha-2 codes`;
      }
      return keys('countries');
    }
    case 'connectivity': {
      const list = c.statuses;
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every((s) => (CONNECTIVITY_STATUSES as readonly unknown[]).includes(s))
      ) {
        return `${path}.statuses must be one or more of ${CONNECTIVITY_STATUSES.join(', ')}`;
      }
      return keys('statuses');
    }
    case 'unknown': {
      const list = c.signals;
      if (!Array.isArray(list) || list.length === 0 || !list.every(isSignal)) {
        return `${path}.signals must be one or more of ${SIGNALS.join(', ')}`;
      }
      return keys('signals');
    }
    case 'all':
    case 'any':
    case 'not': {
      if (depth >= POLICY_LIMITS.depth) return `${path} is nested deeper than ${POLICY_LIMITS.depth}`;
      if (c.kind === 'not') return keys('of') ?? conditionProblem(c.of, `${path}.of`, depth + 1);
      const parts = c.of;
      if (!Array.isArray(parts) || parts.length === 0 || parts.length > POLICY_LIMITS.listItems) {
        return `${path}.of must be a list of 1 to ${POLICY_LIMITS.listItems} conditions`;
      }
      for (const [i, part] of parts.entries()) {
        const problem = conditionProblem(part, `${path}.of[${i}]`, depth + 1);
        if (problem) return problem;
      }
      return keys('of');
    }
    default:
      return `${path}.kind ${JSON.stringify(c.kind)} is not a condition netcheck knows`;
  }
}

/**
 * What is wrong with a compiled policy, or undefined. The workflow checks its input with this
 * (a client compiles and checks the file first; a start from elsewhere may send anything).
 */
export function compiledPolicyProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'policy must be an object';
  const p = value as Record<string, unknown>;
  if (p.format !== 1) return `policy.format must be 1 (got ${JSON.stringify(p.format)})`;
  if (!isVerdict(p.default)) return `policy.default must be one of ${VERDICTS.join(', ')}`;
  if (p.name !== undefined && (typeof p.name !== 'string' || p.name.length > POLICY_LIMITS.name)) {
    return `policy.name must be text of at most ${POLICY_LIMITS.name} characters`;
  }
  if (!Array.isArray(p.rules) || p.rules.length > POLICY_LIMITS.rules) {
    return `policy.rules must be a list of at most ${POLICY_LIMITS.rules} rules`;
  }
  const ids = new Set<string>();
  for (const [i, rule] of (p.rules as unknown[]).entries()) {
    const path = `policy.rules[${i}]`;
    if (rule === null || typeof rule !== 'object') return `${path} must be an object`;
    const r = rule as Record<string, unknown>;
    if (typeof r.id !== 'string' || !RULE_ID.test(r.id)) return `${path}.id must match ${RULE_ID.source}`;
    if (ids.has(r.id)) return `${path}.id ${r.id} is used twice`;
    ids.add(r.id);
    if (!isVerdict(r.then)) return `${path}.then must be one of ${VERDICTS.join(', ')}`;
    const problem = conditionProblem(r.when, `${path}.when`, 0);
    if (problem) return problem;
  }
  const extra = Object.keys(p).filter((k) => !['format', 'name', 'rules', 'default'].includes(k));
  if (extra.length > 0) return `policy has unexpected field(s) ${extra.join(', ')}`;
  return undefined;
}

// ---- the version: a hash of the canonical form ----

/** The policy's version: the first 16 hex digits (64 bits) of the SHA-256 of its canonical form. */
export function policyVersion(policy: CompiledPolicy): string {
  return sha256Hex(canonicalJson(policy)).slice(0, 16);
}

/** UTF-8 bytes of a string (no TextEncoder: not in every workflow sandbox). */
function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else {
      bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
  }
  return bytes;
}

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

/**
 * SHA-256 of the UTF-8 of `text`, as hex (FIPS 180-4). A plain implementation: workflow code may
 * not use node:crypto, and the version a workflow records must be computed from what it evaluates.
 */
export function sha256Hex(text: string): string {
  const bytes = utf8Bytes(text);
  const bitLength = bytes.length * 8;
  bytes.push(0x80);
  while (bytes.length % 64 !== 56) bytes.push(0);
  const high = Math.floor(bitLength / 0x100000000);
  const low = bitLength >>> 0;
  bytes.push((high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
  bytes.push((low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);

  const h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const w = new Array<number>(64).fill(0);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < bytes.length; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = ((bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!) >>> 0;
    }
    for (let i = 16; i < 64; i++) {
      const w15 = w[i - 15]!;
      const w2 = w[i - 2]!;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + K[i]! + w[i]!) >>> 0;
      const s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
    h[4] = (h[4]! + e) >>> 0;
    h[5] = (h[5]! + f) >>> 0;
    h[6] = (h[6]! + g) >>> 0;
    h[7] = (h[7]! + hh) >>> 0;
  }
  return h.map((word) => word.toString(16).padStart(8, '0')).join('');
}
