/**
 * The Go example (examples/go) for the contract tests: whether `go` is on PATH, building the
 * example once per test file, and running it with the environment netcheck's clients read.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const goDir = path.resolve(import.meta.dirname, '..', '..', 'examples', 'go');
export const contractDir = path.resolve(import.meta.dirname, '..', '..', 'contract', 'v1');

/** Why the Go tests cannot run here, or undefined when `go` is on PATH. */
export function goMissing(): string | undefined {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  return probe.status === 0
    ? undefined
    : '`go` is not on PATH: install Go 1.26 (examples/go/go.mod) to run the Go client against netcheck';
}

export interface GoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in examples/go; resolves with its exit code and output (never rejects on exit codes). */
export function runIn(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<GoRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: goDir, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (((err as { code?: unknown }).code as number | null | undefined) ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

let built: Promise<string> | undefined;

/** Builds cmd/netcheck-go once (the first build of the Temporal SDK takes a minute or two); its path. */
export function buildGoExample(): Promise<string> {
  built ??= (async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'netcheck-go-')), 'netcheck-go');
    const run = await runIn('go', ['build', '-o', out, './cmd/netcheck-go'], {}, 600_000);
    if (run.code !== 0) throw new Error(`go build failed (${run.code}):\n${run.stderr}`);
    return out;
  })();
  return built;
}

/** Runs the built example; its stdout as parsed JSON lines. Throws with its stderr when it fails. */
export async function runGoExample(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 180_000,
): Promise<Record<string, unknown>[]> {
  const binary = await buildGoExample();
  const run = await runIn(binary, args, env, timeoutMs);
  if (run.code !== 0) throw new Error(`netcheck-go ${args[0]} exited ${run.code}:\n${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
