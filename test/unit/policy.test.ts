/**
 * The assessment policy, as pure code: every rule kind with its three-valued evaluation (a signal
 * that could not be gathered is never guessed), how fired rules make the verdict, the built-in
 * policy (as docs/assess.md shows it), the version (SHA-256 of the canonical form, the same for the
 * same rules in JSON or YAML), and policy files with errors: every problem named with its line.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assessInputProblem,
  assessItemProblem,
  assessOptionProblem,
  insightRequests,
  signalFromCheck,
} from '../../domain/assess.js';
import { canonicalJson } from '../../domain/canonical-json.js';
import {
  compiledPolicyProblem,
  evaluatePolicy,
  policySignals,
  sha256Hex,
  type SignalReadings,
} from '../../domain/policy.js';
import {
  compilePolicy,
  DEFAULT_POLICY_YAML,
  defaultPolicy,
  parsePolicy,
  PolicyError,
} from '../../domain/policy-parse.js';
import type { CheckResult } from '../../domain/types.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const OBSERVED = '2026-12-07T12:00:00.000Z';
const hoursBefore = (h: number) => new Date(Date.parse(OBSERVED) - h * 3_600_000).toISOString();

/** A policy of one rule `when → block`, compiled from YAML. */
const oneRule = (when: string) =>
  parsePolicy(`rules:\n  - id: r\n    when: ${when}\n    then: block\n`, 'test.yaml').policy;

const simSwap = (h: number | null): SignalReadings['sim_swap'] => ({
  known: true,
  value: { latestSimChange: h === null ? null : hoursBefore(h) },
  observedAt: OBSERVED,
});
const roaming = (on: boolean, countryName?: string[]): SignalReadings['roaming'] => ({
  known: true,
  value: { roaming: on, ...(countryName ? { countryName } : {}) },
  observedAt: OBSERVED,
});
const carrier = (changed: boolean): SignalReadings['carrier'] => ({
  known: true,
  value: { changed },
  observedAt: OBSERVED,
});
const connectivity = (
  status: 'CONNECTED_DATA' | 'CONNECTED_SMS' | 'NOT_CONNECTED',
): SignalReadings['connectivity'] => ({
  known: true,
  value: { connectivityStatus: status },
  observedAt: OBSERVED,
});
const unknown = { known: false } as const;

/** true: the rule fired; false: it did not. */
const fires = (when: string, readings: SignalReadings) =>
  evaluatePolicy(oneRule(when), readings).reasons.includes('r');

describe('rule kinds', () => {
  it('sim_swap.within: a SIM change at most that long before the answer (the bound included)', () => {
    expect(fires('{ sim_swap.within: 24h }', { sim_swap: simSwap(10) })).toBe(true);
    expect(fires('{ sim_swap.within: 24h }', { sim_swap: simSwap(24) })).toBe(true);
    expect(fires('{ sim_swap.within: 24h }', { sim_swap: simSwap(25) })).toBe(false);
    expect(fires('{ sim_swap.within: 7d }', { sim_swap: simSwap(100) })).toBe(true);
    expect(fires('{ sim_swap.within: 2w }', { sim_swap: simSwap(400) })).toBe(false);
    // No SIM change known: not within any window.
    expect(fires('{ sim_swap.within: 2w }', { sim_swap: simSwap(null) })).toBe(false);
    // Unknown: neither true nor false, so the rule does not fire either way.
    expect(fires('{ sim_swap.within: 24h }', { sim_swap: unknown })).toBe(false);
    expect(fires('{ not: { sim_swap.within: 24h } }', { sim_swap: unknown })).toBe(false);
  });

  it('roaming and roaming.outside', () => {
    expect(fires('roaming', { roaming: roaming(true) })).toBe(true);
    expect(fires('roaming', { roaming: roaming(false) })).toBe(false);
    expect(fires('roaming', {})).toBe(false);
    expect(fires('{ roaming.outside: [GB, IE] }', { roaming: roaming(true, ['DE']) })).toBe(true);
    expect(fires('{ roaming.outside: [gb, IE] }', { roaming: roaming(true, ['GB']) })).toBe(false);
    expect(fires('{ roaming.outside: GB }', { roaming: roaming(false) })).toBe(false);
    // Roaming, but where is not said: cannot tell — neither the rule nor its negation fires.
    expect(fires('{ roaming.outside: [GB] }', { roaming: roaming(true) })).toBe(false);
    expect(fires('{ not: { roaming.outside: [GB] } }', { roaming: roaming(true) })).toBe(false);
  });

  it('connectivity: one status or a list', () => {
    expect(fires('{ connectivity: NOT_CONNECTED }', { connectivity: connectivity('NOT_CONNECTED') })).toBe(
      true,
    );
    expect(fires('{ connectivity: NOT_CONNECTED }', { connectivity: connectivity('CONNECTED_DATA') })).toBe(
      false,
    );
    const either = '{ connectivity: [NOT_CONNECTED, CONNECTED_SMS] }';
    expect(fires(either, { connectivity: connectivity('CONNECTED_SMS') })).toBe(true);
    expect(fires(either, { connectivity: unknown })).toBe(false);
  });

  it('carrier_changed', () => {
    expect(fires('carrier_changed', { carrier: carrier(true) })).toBe(true);
    expect(fires('carrier_changed', { carrier: carrier(false) })).toBe(false);
    expect(fires('carrier_changed', { carrier: unknown })).toBe(false);
  });

  it('unknown: fires when the signal (or any of a list) could not be gathered', () => {
    expect(fires('{ unknown: sim_swap }', { sim_swap: unknown })).toBe(true);
    expect(fires('{ unknown: sim_swap }', {})).toBe(true);
    expect(fires('{ unknown: sim_swap }', { sim_swap: simSwap(null) })).toBe(false);
    expect(fires('{ unknown: [roaming, carrier] }', { roaming: roaming(false), carrier: unknown })).toBe(
      true,
    );
  });

  it('all (or a plain list), any, not: Kleene logic over unknown signals', () => {
    const both = '[roaming, carrier_changed]';
    expect(fires(both, { roaming: roaming(true), carrier: carrier(true) })).toBe(true);
    expect(fires(both, { roaming: roaming(true), carrier: carrier(false) })).toBe(false);
    expect(fires(both, { roaming: roaming(true), carrier: unknown })).toBe(false);
    // `all` is false as soon as one part is false, unknown parts or not.
    expect(fires('{ not: [roaming, carrier_changed] }', { roaming: roaming(false), carrier: unknown })).toBe(
      true,
    );
    expect(fires('{ not: [roaming, carrier_changed] }', { roaming: roaming(true), carrier: unknown })).toBe(
      false,
    );
    // `any` is true as soon as one part is true.
    expect(fires('{ any: [roaming, carrier_changed] }', { roaming: unknown, carrier: carrier(true) })).toBe(
      true,
    );
    expect(fires('{ any: [roaming, carrier_changed] }', { roaming: unknown, carrier: carrier(false) })).toBe(
      false,
    );
    expect(
      fires('{ all: [roaming, { not: carrier_changed }] }', {
        roaming: roaming(true),
        carrier: carrier(false),
      }),
    ).toBe(true);
  });
});

describe('the verdict', () => {
  const policy = parsePolicy(
    `
name: t
rules:
  - { id: swap-24h, when: { sim_swap.within: 24h }, then: block }
  - { id: swap-7d, when: { sim_swap.within: 7d }, then: review }
  - { id: home-known-carrier, when: [{ not: roaming }, { not: carrier_changed }], then: allow }
default: review
`,
    't.yaml',
  ).policy;

  it('is the most severe of the rules that fired; reasons list them all, in policy order', () => {
    const out = evaluatePolicy(policy, {
      sim_swap: simSwap(5),
      roaming: roaming(false),
      carrier: carrier(false),
    });
    expect(out).toEqual({
      verdict: 'block',
      reasons: ['swap-24h', 'swap-7d', 'home-known-carrier'],
      unknown: [],
    });
  });

  it('an allow rule that fires decides over the default; with none fired, the default', () => {
    expect(
      evaluatePolicy(policy, { sim_swap: simSwap(500), roaming: roaming(false), carrier: carrier(false) }),
    ).toMatchObject({
      verdict: 'allow',
      reasons: ['home-known-carrier'],
    });
    expect(
      evaluatePolicy(policy, { sim_swap: simSwap(500), roaming: roaming(true), carrier: carrier(false) }),
    ).toEqual({
      verdict: 'review',
      reasons: [],
      unknown: [],
    });
  });

  it('names every signal it needs that is missing, and guesses none of them', () => {
    const out = evaluatePolicy(policy, { roaming: roaming(false) });
    expect(out.unknown).toEqual(['sim_swap', 'carrier']);
    // carrier is unknown: `not carrier_changed` cannot hold, so the allow rule does not fire.
    expect(out).toMatchObject({ verdict: 'review', reasons: [] });
    expect(policySignals(policy)).toEqual(['sim_swap', 'roaming', 'carrier']);
  });
});

describe('the built-in policy', () => {
  const { policy } = defaultPolicy();

  it('blocks a SIM swap within 24 h, reviews one within 7 days, roaming with a new carrier, or an unknown SIM swap', () => {
    const base = { roaming: roaming(false), carrier: carrier(false) };
    expect(evaluatePolicy(policy, { ...base, sim_swap: simSwap(3) })).toMatchObject({
      verdict: 'block',
      reasons: ['sim-swap-24h', 'sim-swap-7d'],
    });
    expect(evaluatePolicy(policy, { ...base, sim_swap: simSwap(72) })).toMatchObject({
      verdict: 'review',
      reasons: ['sim-swap-7d'],
    });
    expect(evaluatePolicy(policy, { ...base, sim_swap: simSwap(null) })).toMatchObject({
      verdict: 'allow',
      reasons: [],
    });
    expect(
      evaluatePolicy(policy, { sim_swap: simSwap(null), roaming: roaming(true), carrier: carrier(true) }),
    ).toMatchObject({ verdict: 'review', reasons: ['roaming-new-carrier'] });
    expect(evaluatePolicy(policy, { ...base, sim_swap: unknown })).toMatchObject({
      verdict: 'review',
      reasons: ['sim-swap-unknown'],
      unknown: ['sim_swap'],
    });
    expect(policySignals(policy)).toEqual(['sim_swap', 'roaming', 'carrier']);
  });

  it('is documented as it is: docs/assess.md and the README show it verbatim', () => {
    const body = DEFAULT_POLICY_YAML.trim();
    expect(readFileSync(path.join(root, 'docs', 'assess.md'), 'utf8')).toContain(body);
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    for (const line of body.split('\n').filter((l) => l.startsWith('  - '))) expect(readme).toContain(line);
  });
});

describe('the version', () => {
  it('is the SHA-256 of the canonical form (a plain implementation, equal to node:crypto)', () => {
    const { policy, version } = defaultPolicy();
    const expected = createHash('sha256').update(canonicalJson(policy), 'utf8').digest('hex');
    expect(version).toBe(expected.slice(0, 16));
    for (const text of ['', 'abc', 'é😀', 'x'.repeat(200)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
  });

  it('is the same for the same rules in YAML or JSON, any key order, 7d or 168h; another rule changes it', () => {
    const yaml = parsePolicy(
      'rules:\n  - { id: a, when: { sim_swap.within: 7d }, then: review }\ndefault: allow\n',
    );
    const json = parsePolicy(
      '{"default": "allow", "rules": [{"then": "review", "when": {"sim_swap.within": "168h"}, "id": "a"}]}',
    );
    expect(json.policy).toEqual(yaml.policy);
    expect(json.version).toBe(yaml.version);
    const other = parsePolicy('rules:\n  - { id: a, when: { sim_swap.within: 6d }, then: review }\n');
    expect(other.version).not.toBe(yaml.version);
    expect(
      compilePolicy({ rules: [{ id: 'a', when: { 'sim_swap.within': '7d' }, then: 'review' }] }).version,
    ).toBe(yaml.version);
  });
});

describe('a policy with an error', () => {
  const messages = (text: string) => {
    try {
      parsePolicy(text, 'strict.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError);
      expect((err as PolicyError).code).toBe('USAGE');
      return err as PolicyError;
    }
    throw new Error('the policy was accepted');
  };

  it('names every problem with its line and column, in file order', () => {
    const err = messages(
      [
        'version: 1', //                                             1
        'rules:', //                                                 2
        '  - id: swap', //                                           3
        '    when: { sim_swap.whithin: 24h }', //                    4
        '    then: block', //                                        5
        '  - id: swap', //                                           6
        '    when: [roaming, { connectivity: NOT_CONECTED }]', //    7
        '    then: blok', //                                         8
        '  - id: window', //                                         9
        '    when: { sim_swap.within: 24 }', //                      10
        '    then: review', //                                       11
        '    colour: red', //                                        12
        'default: maybe', //                                         13
      ].join('\n'),
    );
    expect(err.problems.map((p) => [p.line, p.path])).toEqual([
      [4, 'rules[0].when.sim_swap.whithin'],
      [6, 'rules[1].id'],
      [7, 'rules[1].when[1].connectivity'],
      [8, 'rules[1].then'],
      [10, 'rules[2].when.sim_swap.within'],
      [12, 'rules[2]'],
      [13, 'default'],
    ]);
    expect(err.message).toMatch(/^the policy strict\.yaml is not valid, so nothing was started:/);
    expect(err.message).toMatch(
      /line 4, column \d+ \(rules\[0\]\.when\.sim_swap\.whithin\): unknown condition key "sim_swap\.whithin" \(did you mean sim_swap\.within\?\)/,
    );
    expect(err.message).toMatch(/line 6.*rule id swap is already used by rules\[0\]/);
    expect(err.message).toMatch(/line 10.*got 24; write a unit, e\.g\. 24h/);
    expect(err.message).toMatch(/line 12.*unknown field "colour"/);
  });

  it('broken YAML or JSON: the line of the syntax error', () => {
    const yaml = messages('rules:\n  - id: a\n    when: [roaming\n    then: block\n');
    expect(yaml.problems[0]?.message).toMatch(/^not valid JSON or YAML/);
    expect(yaml.problems[0]!.line).toBeGreaterThanOrEqual(3);
    const json = messages(
      '{\n  "rules": [\n    {"id": "a", "when": "roaming", "then": "block"}\n  ]\n  "default": "allow"\n}',
    );
    expect(json.problems[0]!.line).toBe(5);
  });

  it('a missing field, an unknown flag, an empty file', () => {
    const missing = messages('rules:\n  - id: a\n    then: block\n').problems;
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ line: 2, path: 'rules[0].when' });
    expect(missing[0]?.message).toMatch(/when is required/);
    expect(messages('rules:\n  - { id: a, when: roming, then: block }\n').problems[0]!.message).toMatch(
      /unknown condition "roming" \(did you mean roaming\?\)/,
    );
    expect(messages('').problems[0]!.message).toMatch(/the policy is empty/);
    expect(
      messages('rules:\n  - { id: a, when: { roaming: true, carrier_changed: true }, then: block }\n')
        .problems[0]!.message,
    ).toMatch(/exactly one key/);
  });

  it('a compiled policy from elsewhere is checked before it is used', () => {
    const good = defaultPolicy().policy;
    expect(compiledPolicyProblem(good)).toBeUndefined();
    const tampered = JSON.parse(JSON.stringify(good)) as { rules: Array<{ when: unknown }> };
    tampered.rules[0]!.when = { kind: 'sim_swap.within', hours: 'soon' };
    expect(compiledPolicyProblem(tampered)).toMatch(/rules\[0\]\.when\.hours/);
    expect(compiledPolicyProblem({ ...good, default: 'maybe' })).toMatch(/default/);
    expect(compiledPolicyProblem({ ...good, rules: [...good.rules, good.rules[0]] })).toMatch(/used twice/);
  });
});

describe('gathering (pure parts)', () => {
  it('Identity Insights: one request for every signal; a purpose per family splits them only when they differ', () => {
    const all = ['sim_swap', 'roaming', 'connectivity', 'carrier'] as const;
    expect(insightRequests(all, undefined)).toEqual([
      { purpose: 'FraudPreventionAndDetection', signals: ['sim_swap', 'roaming', 'connectivity', 'carrier'] },
    ]);
    expect(insightRequests(['carrier'], undefined)).toEqual([{ signals: ['carrier'] }]);
    expect(insightRequests(all, 'sim-swap=FraudPreventionAndDetection,device-status=NotApplicable')).toEqual([
      { purpose: 'FraudPreventionAndDetection', signals: ['sim_swap', 'carrier'] },
      { purpose: 'NotApplicable', signals: ['roaming', 'connectivity'] },
    ]);
  });

  it("a check's result becomes its signal, or unknown with the check's error code", () => {
    const base = {
      api: 'camara',
      correlationId: 'c',
      polls: 1,
      authorizations: 1,
      timestamps: { started: OBSERVED, finished: OBSERVED },
    } as const;
    const date = { ...base, operation: 'sim-swap-date', status: 'ok', data: {} } as CheckResult;
    expect(signalFromCheck('sim_swap', date)).toEqual({ value: { latestSimChange: null } });
    const denied = {
      ...base,
      operation: 'device-roaming',
      status: 'failed',
      error: { code: 'ACCESS_DENIED', message: 'no' },
    } as CheckResult;
    expect(signalFromCheck('roaming', denied)).toEqual({ error: { code: 'ACCESS_DENIED', message: 'no' } });
    const noCarrier = {
      ...base,
      api: 'identity-insights',
      operation: 'carrier',
      status: 'ok',
      data: { valid: true },
    } as CheckResult;
    expect(signalFromCheck('carrier', noCarrier)).toMatchObject({ error: { code: 'NOT_COVERED' } });
  });

  it('an assessment input: number, api, profile and policy are checked', () => {
    const policy = defaultPolicy().policy;
    const msisdn = '+447700900001';
    expect(assessInputProblem({ msisdn, policy })).toBeUndefined();
    expect(assessInputProblem({ msisdn, policy, api: 'camara', profile: 'camara' })).toBeUndefined();
    expect(assessInputProblem({ msisdn, policy, api: 'identity-insights', profile: 'camara' })).toMatch(
      /camara profile has no Identity Insights/,
    );
    expect(assessInputProblem({ msisdn, policy, purpose: 'Marketing' })).toMatch(/purpose/);
    expect(assessInputProblem({ msisdn: '+44', policy })).toMatch(/E\.164/);
    expect(assessInputProblem({ msisdn, policy: { ...policy, rules: 'all' } as never })).toMatch(/rules/);
  });

  it('an assessment batch: its option and its items are checked', () => {
    const policy = defaultPolicy().policy;
    expect(assessOptionProblem({ assess: { policy } })).toBeUndefined();
    expect(assessOptionProblem({ assess: { policy }, bulk: true })).toMatch(/per-check batches only/);
    expect(assessOptionProblem({ assess: { policy: { ...policy, format: 2 } } })).toMatch(/format/);
    expect(assessItemProblem('assess', { msisdn: '+447700900001', operation: 'sim-swap' })).toBeUndefined();
    expect(assessItemProblem('assess', { msisdn: '447700900001', operation: 'sim-swap' })).toMatch(/E\.164/);
    expect(assessItemProblem('sim-swap', { msisdn: '+447700900001', operation: 'sim-swap' })).toMatch(
      /no operation/,
    );
  });
});
