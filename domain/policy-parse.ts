/**
 * Policy files: JSON or YAML text (both read by the `yaml` package, which knows where each value
 * is) checked with zod, and compiled into the canonical policy of domain/policy.ts. Every problem
 * names its line and column, and all of them are reported at once:
 *
 *   the policy strict.yaml is not valid, so nothing was started:
 *     - line 7, column 11 (rules[1].when): unknown condition key "sim_swap.whithin" (did you mean sim_swap.within?)
 *
 * No I/O here (the client reads the file: client/assess.ts), but not for workflow code either:
 * workflows take the compiled policy and check it with `compiledPolicyProblem`.
 */
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { UsageError } from './errors.js';
import {
  CONNECTIVITY_STATUSES,
  COUNTRY_CODE,
  isSignal,
  POLICY_LIMITS,
  policyVersion,
  RULE_ID,
  SIGNALS,
  VERDICTS,
  type CompiledPolicy,
  type Condition,
  type ConnectivityStatus,
  type SignalName,
} from './policy.js';

/** The largest policy file read: far more than 200 rules take. */
export const MAX_POLICY_BYTES = 256 * 1024;

/**
 * netcheck's built-in policy: what `netcheck assess` and `assessNumber` use without `--policy`,
 * NETCHECK_POLICY or a policy of the caller's. docs/assess.md shows it as it is here.
 */
export const DEFAULT_POLICY_YAML = `# netcheck's built-in policy
version: 1
name: netcheck-default
rules:
  - { id: sim-swap-24h, when: { sim_swap.within: 24h }, then: block }
  - { id: sim-swap-7d, when: { sim_swap.within: 7d }, then: review }
  - { id: roaming-new-carrier, when: [roaming, carrier_changed], then: review }
  - { id: sim-swap-unknown, when: { unknown: sim_swap }, then: review }
default: allow
`;

export interface PolicyProblem {
  /** 1-based; absent for a policy given as an object. */
  line?: number;
  column?: number;
  /** Where in the policy, e.g. `rules[1].when`. */
  path: string;
  message: string;
}

/** A policy that cannot be used: every problem, each with its line. The CLI exits 2 on it. */
export class PolicyError extends UsageError {
  readonly problems: readonly PolicyProblem[];
  constructor(
    readonly source: string,
    problems: readonly PolicyProblem[],
  ) {
    super(
      `the policy ${source} is not valid, so nothing was started:\n${problems.map((p) => `  - ${describeProblem(p)}`).join('\n')}`,
    );
    this.problems = [...problems];
  }
}

function describeProblem(p: PolicyProblem): string {
  const where =
    p.line !== undefined ? `line ${p.line}${p.column !== undefined ? `, column ${p.column}` : ''}` : '';
  const path = p.path ? `${where ? ' ' : ''}(${p.path})` : '';
  return `${where}${path}${where || path ? ': ' : ''}${p.message}`;
}

/** A compiled policy and its version, with where it came from. */
export interface LoadedPolicy {
  policy: CompiledPolicy;
  version: string;
  /** The file, `NETCHECK_POLICY=<file>`, `built-in` or `inline`. */
  source: string;
}

// ---- conditions: every form a file may use, compiled ----

type Path = (string | number)[];
interface Issue {
  path: Path;
  message: string;
}

const FLAGS = ['roaming', 'carrier_changed'] as const;
const KEYS = ['sim_swap.within', 'roaming.outside', 'connectivity', 'unknown', 'all', 'any', 'not'] as const;

const FORMS =
  'roaming, carrier_changed, or an object with one key: sim_swap.within, roaming.outside, connectivity, unknown, all, any, not';

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function suggestion(word: string, choices: readonly string[]): string {
  const best = choices
    .map((choice) => ({ choice, d: distance(word.toLowerCase(), choice) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 3 ? ` (did you mean ${best.choice}?)` : '';
}

const shown = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 60);

/** `24h`, `7d`, `2w` → hours. */
function windowHours(value: unknown, path: Path, issues: Issue[]): number | undefined {
  const match = typeof value === 'string' ? /^\s*(\d{1,6})\s*([hdw])\s*$/i.exec(value) : null;
  if (!match) {
    const hint = typeof value === 'number' ? `; write a unit, e.g. ${value}h` : '';
    issues.push({
      path,
      message: `sim_swap.within takes a window such as 24h, 7d or 2w (got ${shown(value)}${hint})`,
    });
    return undefined;
  }
  const hours = Number(match[1]) * { h: 1, d: 24, w: 168 }[match[2]!.toLowerCase() as 'h' | 'd' | 'w'];
  if (hours < POLICY_LIMITS.minHours || hours > POLICY_LIMITS.maxHours) {
    issues.push({
      path,
      message: `sim_swap.within must be from 1h to ${POLICY_LIMITS.maxHours / 24 / 365} years (got ${shown(value)})`,
    });
    return undefined;
  }
  return hours;
}

/** One value or a list of them, each accepted by `accept` (which returns the canonical form). */
function oneOrMany<T>(
  value: unknown,
  path: Path,
  issues: Issue[],
  what: string,
  accept: (item: unknown) => T | undefined,
): T[] | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0 || items.length > POLICY_LIMITS.listItems) {
    issues.push({ path, message: `${what}: give 1 to ${POLICY_LIMITS.listItems} of them` });
    return undefined;
  }
  const out: T[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const accepted = accept(item);
    if (accepted === undefined) {
      issues.push({
        path: Array.isArray(value) ? [...path, i] : path,
        message: `${what} (got ${shown(item)})`,
      });
      ok = false;
    } else if (!out.includes(accepted)) out.push(accepted);
  });
  return ok ? out : undefined;
}

function compileCondition(value: unknown, path: Path, issues: Issue[], depth: number): Condition | undefined {
  if (depth > POLICY_LIMITS.depth) {
    issues.push({ path, message: `conditions are nested deeper than ${POLICY_LIMITS.depth} levels` });
    return undefined;
  }
  if (typeof value === 'string') {
    const flag = value.trim();
    if ((FLAGS as readonly string[]).includes(flag)) return { kind: flag as (typeof FLAGS)[number] };
    issues.push({
      path,
      message: `unknown condition ${shown(value)}${suggestion(flag, [...FLAGS, ...KEYS])}; a condition is ${FORMS}`,
    });
    return undefined;
  }
  if (Array.isArray(value)) return compileList('all', value, path, issues, depth);
  if (value === null || typeof value !== 'object') {
    issues.push({ path, message: `a condition is ${FORMS} (got ${shown(value)})` });
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length !== 1) {
    issues.push({
      path,
      message:
        entries.length === 0
          ? `an empty condition; a condition is ${FORMS}`
          : `a condition has exactly one key (got ${entries.map(([k]) => k).join(', ')}); combine several with all: [...] or any: [...]`,
    });
    return undefined;
  }
  const [key, arg] = entries[0]!;
  const at = [...path, key];
  switch (key) {
    case 'sim_swap.within': {
      const hours = windowHours(arg, at, issues);
      return hours === undefined ? undefined : { kind: 'sim_swap.within', hours };
    }
    case 'roaming.outside': {
      const countries = oneOrMany(
        arg,
        at,
        issues,
        'roaming.outside takes ISO 3166-1 alpha-2 country codes such as GB',
        (item) =>
          typeof item === 'string' && COUNTRY_CODE.test(item.trim().toUpperCase())
            ? item.trim().toUpperCase()
            : undefined,
      );
      return countries && { kind: 'roaming.outside', countries: countries.sort() };
    }
    case 'connectivity': {
      const statuses = oneOrMany(
        arg,
        at,
        issues,
        `connectivity takes ${CONNECTIVITY_STATUSES.join(', ')}`,
        (item) =>
          typeof item === 'string' &&
          (CONNECTIVITY_STATUSES as readonly string[]).includes(item.trim().toUpperCase())
            ? (item.trim().toUpperCase() as ConnectivityStatus)
            : undefined,
      );
      return (
        statuses && {
          kind: 'connectivity',
          statuses: CONNECTIVITY_STATUSES.filter((s) => statuses.includes(s)),
        }
      );
    }
    case 'unknown': {
      const signals = oneOrMany(
        arg,
        at,
        issues,
        `unknown takes signal names: ${SIGNALS.join(', ')}`,
        (item) =>
          typeof item === 'string' && isSignal(item.trim()) ? (item.trim() as SignalName) : undefined,
      );
      return signals && { kind: 'unknown', signals: SIGNALS.filter((s) => signals.includes(s)) };
    }
    case 'all':
    case 'any': {
      if (!Array.isArray(arg)) {
        issues.push({ path: at, message: `${key} takes a list of conditions (got ${shown(arg)})` });
        return undefined;
      }
      return compileList(key, arg, at, issues, depth);
    }
    case 'not': {
      const inner = compileCondition(arg, at, issues, depth + 1);
      return inner && { kind: 'not', of: inner };
    }
    default:
      issues.push({
        path: at,
        message: `unknown condition key ${shown(key)}${suggestion(key, [...KEYS, ...FLAGS])}; a condition is ${FORMS}`,
      });
      return undefined;
  }
}

function compileList(
  kind: 'all' | 'any',
  items: unknown[],
  path: Path,
  issues: Issue[],
  depth: number,
): Condition | undefined {
  if (items.length === 0 || items.length > POLICY_LIMITS.listItems) {
    issues.push({ path, message: `${kind} takes 1 to ${POLICY_LIMITS.listItems} conditions` });
    return undefined;
  }
  const parts = items.map((item, i) => compileCondition(item, [...path, i], issues, depth + 1));
  if (parts.some((part) => part === undefined)) return undefined;
  // One part is that part: `[roaming]` and `roaming` are the same rule (and the same version).
  return parts.length === 1 ? parts[0] : { kind, of: parts as Condition[] };
}

// ---- the document ----

const ConditionSchema = z.unknown().transform((value, ctx): Condition => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'when is required: the condition under which the rule fires' });
    return z.NEVER;
  }
  const issues: Issue[] = [];
  const condition = compileCondition(value, [], issues, 0);
  for (const issue of issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return condition ?? z.NEVER;
});

const VerdictSchema = z.enum(VERDICTS, { error: `must be one of ${VERDICTS.join(', ')}` });

const RuleSchema = z.strictObject({
  id: z
    .string({ error: 'a rule needs an id: letters, digits, . _ - (it is named in the reasons)' })
    .regex(RULE_ID, 'a rule id is 1 to 64 letters, digits, . _ - (starting with a letter or digit)'),
  description: z.string().max(500).optional(),
  when: ConditionSchema,
  then: VerdictSchema,
});

const PolicySchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1 (the policy language version)' }).optional(),
  name: z.string().trim().min(1).max(POLICY_LIMITS.name).optional(),
  description: z.string().max(2_000).optional(),
  rules: z.array(RuleSchema).max(POLICY_LIMITS.rules, `at most ${POLICY_LIMITS.rules} rules`),
  default: VerdictSchema.optional(),
});

/** Rule ids used twice (checked on the raw value, so they are reported beside every other problem). */
function duplicateIds(value: unknown): Issue[] {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return [];
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  rules.forEach((rule: unknown, i) => {
    const id = (rule as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, i);
    else {
      issues.push({
        path: ['rules', i, 'id'],
        message: `rule id ${id} is already used by rules[${first}]: ids must be unique`,
      });
    }
  });
  return issues;
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** A zod issue in words a policy author understands. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const allowed =
      issue.path.length === 0 ? 'version, name, description, rules, default' : 'id, description, when, then';
    return `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${suggestion(issue.keys[0] ?? '', allowed.split(', '))}; allowed: ${allowed}`;
  }
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    const field = issue.path.at(-1);
    return `${typeof field === 'string' ? field : 'this'} is required`;
  }
  return issue.message;
}

type Locate = (path: Path, key?: string) => { line?: number; column?: number };

function compile(value: unknown, source: string, locate: Locate): LoadedPolicy {
  if (value === undefined || value === null) {
    throw new PolicyError(source, [
      { path: '', message: 'the policy is empty; it needs at least `rules:` (a list, maybe empty)' },
    ]);
  }
  const parsed = PolicySchema.safeParse(value);
  const problems: PolicyProblem[] = (parsed.success ? [] : parsed.error.issues).map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    return { ...locate(path, key), path: pathText(path), message: issueMessage(issue) };
  });
  for (const issue of duplicateIds(value)) {
    problems.push({ ...locate(issue.path), path: pathText(issue.path), message: issue.message });
  }
  // In the order of the file.
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (!parsed.success || problems.length > 0) throw new PolicyError(source, problems);
  const doc = parsed.data;
  const policy: CompiledPolicy = {
    format: 1,
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    rules: doc.rules.map((rule) => ({ id: rule.id, when: rule.when, then: rule.then })),
    default: doc.default ?? 'allow',
  };
  return { policy, version: policyVersion(policy), source };
}

/** Where a path is in the document: the closest node that exists (a key's own position for a key). */
function locator(doc: Document, lines: LineCounter): Locate {
  return (path, key) => {
    const position = (offset: number) => {
      const { line, col } = lines.linePos(offset);
      return { line, column: col };
    };
    if (key !== undefined) {
      const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
      if (isMap(map)) {
        const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
        if (pair && isNode(pair.key) && pair.key.range) return position(pair.key.range[0]);
      }
    }
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return position(node.range[0]);
    }
    return {};
  };
}

/**
 * Parses and compiles a policy written as JSON or YAML. Throws a PolicyError naming every
 * problem with its line (`source` names the file in messages).
 */
export function parsePolicy(text: string, source = 'policy'): LoadedPolicy {
  if (text.length > MAX_POLICY_BYTES) {
    throw new PolicyError(source, [
      {
        path: '',
        message: `the policy is larger than ${MAX_POLICY_BYTES / 1024} KiB; a policy is a few rules`,
      },
    ]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((err) => ({
        ...(err.linePos?.[0] ? { line: err.linePos[0].line, column: err.linePos[0].col } : {}),
        path: '',
        message: `not valid JSON or YAML: ${(err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new PolicyError(source, [{ path: '', message: `cannot be read: ${(err as Error).message}` }]);
  }
  return compile(value, source, locator(doc, lines));
}

/** Compiles a policy given as an object (the library's `policy` option): problems name paths, not lines. */
export function compilePolicy(value: unknown, source = 'inline'): LoadedPolicy {
  return compile(value, source, () => ({}));
}

/** The built-in policy (DEFAULT_POLICY_YAML), compiled. */
export function defaultPolicy(): LoadedPolicy {
  return parsePolicy(DEFAULT_POLICY_YAML, 'built-in');
}
