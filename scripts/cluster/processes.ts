/** Child processes of the cluster: output to a log file, a wait for a line, and a clean stop. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** The last lines it printed (for error messages). */
  tail(): string;
  /** Resolves when a line matches, rejects when the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it has exited. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a process whose stdout and stderr go to `logFile` (appended). */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { logFile: string },
): Managed {
  const { logFile, ...spawnOptions } = options;
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n--- ${new Date().toISOString()} ${name}: ${command} ${args.join(' ')}\n`);
  // A process group of its own: Ctrl-C reaches the cluster script, which stops everything in order.
  const child = spawn(command, args, { ...spawnOptions, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: ${command} could not be started`);
  let recent = '';
  const listeners = new Set<(text: string) => void>();
  const onData = (data: Buffer) => {
    const text = data.toString();
    log.write(text);
    recent = (recent + text).slice(-8_000);
    for (const listener of listeners) listener(text);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      log.write(`--- ${new Date().toISOString()} ${name} exited (${signal ?? code})\n`);
      log.end();
      resolve(signal ?? code ?? 0);
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));

  return {
    name,
    child,
    pid: child.pid,
    exited,
    tail: () => recent.trim().split('\n').slice(-25).join('\n'),
    waitFor(pattern, timeoutMs) {
      if (pattern.test(recent)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        let seen = recent;
        const done = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(listener);
          if (err) reject(err);
          else resolve();
        };
        const listener = (text: string) => {
          seen = (seen + text).slice(-8_000);
          if (pattern.test(seen)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${recent}`)),
          timeoutMs,
        );
        listeners.add(listener);
        void exited.then((code) =>
          done(new Error(`${name} exited (${code}) before printing ${pattern}:\n${recent}`)),
        );
      });
    },
    async stop(graceMs = 15_000) {
      if (ended) return exited;
      child.kill('SIGTERM');
      const result = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
      if (result !== undefined) return result;
      child.kill('SIGKILL');
      return exited;
    },
    kill(signal) {
      if (!ended) child.kill(signal);
    },
  };
}

/** Whether a process with this pid runs (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
