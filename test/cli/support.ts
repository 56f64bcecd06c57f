/**
 * Runs the `netcheck` CLI as a subprocess (`node --import tsx cli/main.ts …`) against the run's
 * shared dev server and simulator (global-setup.ts), the way a user would in a shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { projectRoot } from '../../cli/stack/temporal-cli.js';
import { prebuiltBundleEnv } from '../support/bundles.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const CLI = ['--import', 'tsx', path.join(projectRoot, 'cli', 'main.ts')];

/** The environment a user of the shared stack would export (Temporal, Vonage app, subject key). */
export function sharedStackEnv(taskQueue: string): Record<string, string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-cli-'));
  const keyPath = path.join(dir, 'private.key');
  writeFileSync(keyPath, inject('privateKeyPem'), { mode: 0o600 });
  return {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    VONAGE_APPLICATION_ID: inject('applicationId'),
    VONAGE_PRIVATE_KEY_PATH: keyPath,
    VONAGE_API_BASE_URL: inject('simulatorUrl'),
    NETCHECK_TASK_QUEUE: taskQueue,
    NETCHECK_SUBJECT_KEY: 'cli-test-subject-key-of-at-least-32-bytes',
  };
}

/**
 * process.env without anything that would point the CLI elsewhere. TEMPORAL_CLI_PATH stays: it
 * only says where the Temporal CLI binary is (without it `dev` and `demo` would build one).
 */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(TEMPORAL_|VONAGE_|NETCHECK_)/.test(key) && key !== 'TEMPORAL_CLI_PATH') delete env[key];
  }
  return env;
}

export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], {
    cwd: projectRoot,
    // `dev` and `demo` make encryption keys of their own: their workers get the encrypting bundle.
    env: {
      ...baseEnv(),
      ...prebuiltBundleEnv(
        ['dev', 'demo'].includes(args[0] ?? '') ? { NETCHECK_ENCRYPTION_KEYS: 'own' } : env,
      ),
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to the end; `input` goes to its stdin. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 100_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `netcheck ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Output collected from a long-running CLI process, with a way to wait for a line. */
export class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const match = pattern.exec(this.stdout) ?? pattern.exec(this.stderr);
      if (match) return match;
      if (exited || Date.now() > deadline) {
        throw new Error(
          `${exited ? 'exited' : 'timed out'} before ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 30_000): Promise<number | null> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Parses `export KEY=value` lines (as `netcheck dev` prints them). */
export function exportedEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^\s*export (\w+)=(.*)$/gm)) env[match[1]!] = match[2]!.trim();
  return env;
}

/** Retries `fn` until it returns a truthy value (visibility is eventually consistent). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 300));
  }
}
