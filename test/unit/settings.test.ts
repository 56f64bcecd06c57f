/**
 * The settings registry (common/settings.ts): every environment variable the source reads is
 * listed there and read through it, every secret has a file variant, the task-queue default has
 * one owner, and the docs' configuration tables are the registry's.
 *
 * The scan reads every source file (not tests, not bench/) and fails naming the file, the line
 * and the variable for a read outside the registry: `process.env.X`, `process.env['X']`,
 * `process.env` handed to a function, `env.X` / `env['X']` / `env[name]` on an environment
 * object. Pure code (domain/, workflows/) has no `process` (a lint rule) and only reads values
 * its callers took from the registry; there the names it reads must still be registered.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../cli/stack/temporal-cli.js';
import { ConfigurationError, InvalidRequestError } from '../../domain/errors.js';
import type { Profile } from '../../domain/profiles.js';
import * as settings from '../../common/settings.js';
import {
  DEFAULT_TASK_QUEUE,
  environmentProblems,
  readSecret,
  readSetting,
  resolveProfile,
  resolveTaskQueue,
  SETTING_NAMES,
  SETTINGS,
  settingOf,
  settingsFor,
  type SettingDefinition,
} from '../../common/settings.js';
import { renderTables, tableDrift } from '../../scripts/docs-settings.js';
import { generateKeyPairSync } from 'node:crypto';
import { simulatorLine } from '../../activities/base-url.js';
import { loadConfig } from '../../worker/config.js';

const SOURCE_DIRS = [
  'activities',
  'cli',
  'client',
  'codec',
  'common',
  'domain',
  'simulator',
  'testing',
  'worker',
  'workflows',
  'scripts',
];
const PURE_DIRS = ['domain', 'workflows'];
const REGISTRY = path.join('common', 'settings.ts');

function sourceFiles(): string[] {
  const files = ['index.ts'];
  for (const dir of SOURCE_DIRS) {
    for (const entry of readdirSync(path.join(projectRoot, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && /\.(ts|cts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(path.relative(projectRoot, path.join(entry.parentPath, entry.name)));
      }
    }
  }
  return files.filter((f) => f !== REGISTRY);
}

export interface EnvRead {
  file: string;
  line: number;
  variable: string;
  why: string;
}

/** Comments out, strings kept (a variable name in a message is not a read). */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1');
}

/** The registry's own readers: handing them process.env is reading through the registry. */
const REGISTRY_READERS = new Set(
  Object.entries(settings)
    .filter(([, value]) => typeof value === 'function')
    .map(([name]) => name),
);

/** The name of the function whose argument list holds `index` (the nearest unclosed `(`). */
function calleeAt(code: string, index: number): string | undefined {
  let depth = 0;
  for (let i = index; i >= 0; i--) {
    const c = code[i];
    if (c === ')') depth++;
    else if (c === '(') {
      if (depth === 0) return /([A-Za-z_$][\w$]*)\s*$/.exec(code.slice(Math.max(0, i - 80), i))?.[1];
      depth--;
    }
  }
  return undefined;
}

/** Reads of the environment that bypass the registry, in one file's text. */
export function envReads(file: string, text: string): EnvRead[] {
  const code = stripComments(text);
  const reads: EnvRead[] = [];
  const lineOf = (index: number) => code.slice(0, index).split('\n').length;
  const pure = PURE_DIRS.some((dir) => file.startsWith(`${dir}${path.sep}`) || file.startsWith(`${dir}/`));
  // process.env.X, process.env?.X, process.env['X'], process.env[expr]
  for (const m of code.matchAll(
    /process\.env\s*(?:\?\.\s*|\.\s*)([A-Za-z_][A-Za-z0-9_]*)|process\.env\s*(?:\?\.)?\[\s*([^\]]*)\]/g,
  )) {
    const variable = m[1] ?? m[2]!.replace(/^['"`]|['"`]$/g, '');
    reads.push({ file, line: lineOf(m.index), variable, why: 'reads process.env directly' });
  }
  // process.env handed to a function other than the registry's: f(process.env) or f(a, process.env)
  for (const m of code.matchAll(/[(,]\s*process\.env\s*[,)]/g)) {
    if (REGISTRY_READERS.has(calleeAt(code, m.index) ?? '')) continue;
    reads.push({ file, line: lineOf(m.index), variable: '(all)', why: 'hands process.env to a function' });
  }
  // env.X / env?.X / env['X'] / env[expr] on an environment object (env, childEnv, processEnv…), not writes.
  const envObject =
    /\b(env|[a-z][A-Za-z0-9]*Env)\s*(?:\?\.\s*|\.\s*)([A-Z][A-Z0-9_]*)\b(?!\s*=[^=])|\b(env|[a-z][A-Za-z0-9]*Env)\s*(?:\?\.)?\[\s*([^\]]+?)\s*\](?!\s*=[^=])/g;
  for (const m of code.matchAll(envObject)) {
    const before = code.slice(Math.max(0, m.index - 8), m.index);
    if (/delete\s*$/.test(before)) continue; // removing one from a child's environment
    if (/process\.$/.test(before)) continue; // process.env.X: reported above
    const literal = m[2] ?? /^(['"])([A-Z][A-Z0-9_]*)\1$/.exec(m[4]!)?.[2];
    if (pure) {
      // Values handed in: the name must still be the registry's.
      if (literal && !settingOf(literal))
        reads.push({ file, line: lineOf(m.index), variable: literal, why: 'is not in the registry' });
      continue;
    }
    reads.push({
      file,
      line: lineOf(m.index),
      variable: literal ?? `[${m[4]}]`,
      why: literal ? 'reads an environment object directly' : 'reads a computed variable name directly',
    });
  }
  return reads;
}

/** Variables set for child processes (`{ ...process.env, X: … }`, `env.X = …`) must be registered too. */
function childEnvWrites(file: string, text: string): EnvRead[] {
  const code = stripComments(text);
  const writes: EnvRead[] = [];
  for (const m of code.matchAll(/\b(?:env|[a-z][A-Za-z0-9]*Env)\.([A-Z][A-Z0-9_]*)\s*=[^=]/g)) {
    if (!settingOf(m[1]!)) {
      writes.push({
        file,
        line: code.slice(0, m.index).split('\n').length,
        variable: m[1]!,
        why: 'is set but not in the registry',
      });
    }
  }
  return writes;
}

describe('every environment variable is read through the registry', () => {
  it('finds no read outside common/settings.ts (file:line variable)', () => {
    const found: EnvRead[] = [];
    for (const file of sourceFiles()) {
      const text = readFileSync(path.join(projectRoot, file), 'utf8');
      found.push(...envReads(file, text), ...childEnvWrites(file, text));
    }
    const report = found.map((r) => `${r.file}:${r.line} ${r.variable} ${r.why}`);
    expect(
      report,
      'read these through common/settings.ts (readSetting, settingText, rawSetting, readSecret)',
    ).toEqual([]);
  });

  it('the scan catches every form of a direct read (a late addition cannot slip through)', () => {
    const sample = [
      'const a = process.env.NETCHECK_NEW_THING;',
      "const b = process.env['NETCHECK_OTHER'];",
      'const c = resolve(x, process.env);',
      'const ok = resolveTaskQueue(flag, process.env, profile);',
      'function f(env: NodeJS.ProcessEnv = process.env) { return env.NETCHECK_PROFILE?.trim(); }',
      "const d = env['NETCHECK_QUOTED'];",
      'const e = env[`${prefix}_PORT`];',
      'const g = childEnv.VONAGE_THING;',
    ].join('\n');
    const reads = envReads(path.join('worker', 'late.ts'), sample).map((r) => r.variable);
    expect(reads).toEqual(
      expect.arrayContaining([
        'NETCHECK_NEW_THING',
        'NETCHECK_OTHER',
        '(all)',
        'NETCHECK_PROFILE',
        'NETCHECK_QUOTED',
        '[`${prefix}_PORT`]',
        'VONAGE_THING',
      ]),
    );
    // Handing process.env to the registry's own readers is reading through it.
    expect(reads.filter((v) => v === '(all)')).toHaveLength(1);
    // Writes for a child process and the default parameter are not reads.
    expect(
      envReads(
        'worker/ok.ts',
        'const x = { ...process.env, NETCHECK_TASK_QUEUE: q }; env.NETCHECK_TASK_QUEUE = q; delete childEnv.VONAGE_PRIVATE_KEY;',
      ),
    ).toEqual([]);
    // Pure code: only unregistered names are reported.
    expect(
      envReads('domain/x.ts', 'env[variable]; env.NETCHECK_CHECK_TIMEOUT; env.NETCHECK_NOPE').map(
        (r) => r.variable,
      ),
    ).toEqual(['NETCHECK_NOPE']);
  });
});

describe('the registry', () => {
  const entries = Object.entries(SETTINGS) as [string, SettingDefinition][];

  it('gives every secret a file variant, registered as that file (the subject key included)', () => {
    const secrets = entries.filter(([, def]) => def.secret);
    expect(secrets.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'NETCHECK_SUBJECT_KEY',
        'NETCHECK_ENCRYPTION_KEYS',
        'VONAGE_PRIVATE_KEY',
        'TEMPORAL_API_KEY',
      ]),
    );
    for (const [name, def] of secrets) {
      expect(def.file, `${name} has no file variant`).toBeDefined();
      const file = settingOf(def.file!);
      expect(file?.fileOf, `${def.file} is registered as the file of ${name}`).toBe(name);
      expect(file?.roles).toEqual(def.roles);
    }
  });

  it('names at least one role for every variable, and documents each one', () => {
    for (const [name, def] of entries) {
      expect(def.roles.length, name).toBeGreaterThan(0);
      expect(def.summary.length, name).toBeGreaterThan(5);
    }
    expect(settingsFor('worker')).toContain('VONAGE_APPLICATION_ID');
    expect(settingsFor('worker')).not.toContain('NETCHECK_SUBJECT_KEY'); // the key stays with clients
    expect(settingsFor('codec-server')).toContain('NETCHECK_CODEC_UI_ORIGINS');
    expect(settingOf('NETCHECK_CODEC_CORS_ORIGINS')).toBeUndefined();
  });

  it('owns the task-queue default: a flag, else NETCHECK_TASK_QUEUE, else netcheck; an empty variable is an error', () => {
    expect(DEFAULT_TASK_QUEUE).toBe('netcheck');
    expect(resolveTaskQueue(undefined, {})).toBe('netcheck');
    expect(resolveTaskQueue(undefined, { NETCHECK_TASK_QUEUE: ' fraud ' })).toBe('fraud');
    expect(resolveTaskQueue('flag', { NETCHECK_TASK_QUEUE: 'fraud' })).toBe('flag');
    expect(() => resolveTaskQueue(undefined, { NETCHECK_TASK_QUEUE: '' })).toThrow(
      /NETCHECK_TASK_QUEUE is empty/,
    );
    // No other module works it out.
    for (const file of sourceFiles()) {
      const text = readFileSync(path.join(projectRoot, file), 'utf8');
      expect(text, `${file} works out the task queue itself`).not.toMatch(/\?\?\s*DEFAULT_TASK_QUEUE/);
    }
  });

  it('parses values with messages that name the variable', () => {
    expect(readSetting('NETCHECK_RATE_LIMIT', { NETCHECK_RATE_LIMIT: '50' })).toBe(50);
    expect(() => readSetting('NETCHECK_RATE_LIMIT', { NETCHECK_RATE_LIMIT: 'fast' })).toThrow(
      /NETCHECK_RATE_LIMIT must be a number/,
    );
    expect(readSetting('NETCHECK_HEALTH_PORT', { NETCHECK_HEALTH_PORT: '' })).toBeUndefined(); // empty: off
    expect(() => readSetting('NETCHECK_HEALTH_PORT', { NETCHECK_HEALTH_PORT: '70000' })).toThrow(
      ConfigurationError,
    );
    expect(readSetting('NETCHECK_CODEC_ENABLE_ENCODE', { NETCHECK_CODEC_ENABLE_ENCODE: 'yes' })).toBe(true);
    expect(() =>
      readSetting('NETCHECK_CODEC_ENABLE_ENCODE', { NETCHECK_CODEC_ENABLE_ENCODE: 'maybe' }),
    ).toThrow(/use true or false/);
    expect(readSetting('VONAGE_API_BASE_URL', {})).toBe('https://api-eu.vonage.com');
    expect(() => readSetting('VONAGE_APPLICATION_ID', {})).toThrow(/VONAGE_APPLICATION_ID is not set/);
  });

  it('reads a secret from its file, and refuses both forms at once', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-settings-'));
    try {
      const file = path.join(dir, 'subject-key');
      writeFileSync(file, 'a'.repeat(40) + '\n');
      expect(readSecret('NETCHECK_SUBJECT_KEY', { NETCHECK_SUBJECT_KEY_FILE: file })).toEqual({
        value: 'a'.repeat(40),
        source: `NETCHECK_SUBJECT_KEY_FILE (${file})`,
      });
      expect(() =>
        readSecret('NETCHECK_SUBJECT_KEY', { NETCHECK_SUBJECT_KEY: 'x', NETCHECK_SUBJECT_KEY_FILE: file }),
      ).toThrow(/Set only one of NETCHECK_SUBJECT_KEY and NETCHECK_SUBJECT_KEY_FILE/);
      expect(() =>
        readSecret('NETCHECK_SUBJECT_KEY', { NETCHECK_SUBJECT_KEY_FILE: path.join(dir, 'nope') }),
      ).toThrow(/cannot be read: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks an environment for a role: unknown, foreign, secret as a value, invalid, removed', () => {
    const problems = environmentProblems(['codec-server'], {
      NETCHECK_CODEC_CORS_ORIGINS: 'http://localhost:8080',
      VONAGE_APPLICATION_ID: 'x',
      NETCHECK_ENCRYPTION_KEYS: 'k1:abc',
      NETCHECK_CODEC_ENABLE_ENCODE: 'maybe',
      NETCHECK_CODEC_TOKEN_FILE: '/run/secrets/token',
      NETCHECK_ENCRYPTION_KEYS_FILE: '/run/secrets/keys',
    }).map((p) => `${p.variable}: ${p.problem}`);
    expect(problems).toEqual([
      expect.stringMatching(/^NETCHECK_CODEC_CORS_ORIGINS: .*not a variable netcheck reads/),
      expect.stringMatching(/^VONAGE_APPLICATION_ID: .*read by worker, not by codec-server/),
      expect.stringMatching(
        /^NETCHECK_ENCRYPTION_KEYS: .*secret given as a plain value.*NETCHECK_ENCRYPTION_KEYS_FILE/,
      ),
      expect.stringMatching(/^NETCHECK_CODEC_ENABLE_ENCODE: .*use true or false/),
      expect.stringMatching(/^NETCHECK_CODEC_TOKEN_FILE: .*no longer has an effect/),
    ]);
    expect(SETTING_NAMES.length).toBeGreaterThan(40);
  });
});

describe("README's and docs' configuration tables", () => {
  it("are the registry's (npm run docs:settings rewrites them)", () => {
    const drift = tableDrift();
    expect(drift, 'run `npm run docs:settings`').toEqual([]);
    expect(renderTables().size).toBeGreaterThanOrEqual(3);
  });
});

describe('NETCHECK_SIMULATOR_HOST: plain http to the bundled simulator alone', () => {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const env = (more: Record<string, string>) => ({
    VONAGE_APPLICATION_ID: 'app',
    VONAGE_PRIVATE_KEY: privateKey,
    ...more,
  });

  it('is what lets a worker reach http://simulator:9090 (refused without it)', () => {
    expect(() => loadConfig(env({ VONAGE_API_BASE_URL: 'http://simulator:9090' }))).toThrow(
      /NETCHECK_SIMULATOR_HOST=simulator/,
    );
    const config = loadConfig(
      env({ VONAGE_API_BASE_URL: 'http://simulator:9090', NETCHECK_SIMULATOR_HOST: 'simulator' }),
    );
    expect(config.simulatorHost).toBe('simulator');
    expect(simulatorLine(config.baseUrl)).toMatch(/WARNING: .*SIMULATOR at http:\/\/simulator:9090/);
  });

  it('allows no other host, and refuses to stay set with real Vonage; empty is unset', () => {
    expect(() =>
      loadConfig(env({ VONAGE_API_BASE_URL: 'http://elsewhere:9090', NETCHECK_SIMULATOR_HOST: 'simulator' })),
    ).toThrow(/only for the bundled Vonage simulator/);
    expect(() =>
      loadConfig(
        env({ VONAGE_API_BASE_URL: 'https://api-eu.vonage.com', NETCHECK_SIMULATOR_HOST: 'simulator' }),
      ),
    ).toThrow(/unset NETCHECK_SIMULATOR_HOST for real Vonage/);
    expect(loadConfig(env({ NETCHECK_SIMULATOR_HOST: '' })).simulatorHost).toBeUndefined();
    expect(() => loadConfig(env({ NETCHECK_SIMULATOR_HOST: 'http://simulator' }))).toThrow(
      /host name such as simulator/,
    );
  });
});

describe('the operator profile a caller names', () => {
  it("picks the profile's default task queue, and a name that is not a profile is an InvalidRequestError", () => {
    expect(resolveTaskQueue(undefined, {}, 'camara')).toBe('netcheck-camara');
    expect(resolveTaskQueue(undefined, { NETCHECK_TASK_QUEUE: 'q' }, 'camara')).toBe('q');
    expect(() => resolveProfile('carrier' as Profile, {})).toThrow(InvalidRequestError);
    expect(() => resolveTaskQueue(undefined, {}, 'x' as Profile)).toThrow(
      /profile must be one of vonage, camara/,
    );
  });
});
