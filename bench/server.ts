/**
 * The Temporal dev server for the benchmark: the pinned CLI, headless, SQLite in a file with
 * WAL journaling (what a durable single-node setup writes), netcheck's search attributes.
 * Started as our own child process so its CPU and memory can be sampled from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { ensureTemporalCli } from '../cli/stack/temporal-cli.js';

export interface DevServer {
  address: string;
  /** The Temporal CLI binary. */
  binary: string;
  pid: number;
  dbFile: string;
  stop(): Promise<void>;
  /** SIGKILL, no shutdown (the chaos run's server crash); resolves once it has exited. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function startDevServer(
  dir: string,
  log: (line: string) => void,
  /** More `start-dev` flags, e.g. `--dynamic-config-value` or `--sqlite-pragma` (diagnostics). */
  extraArgs: string[] = [],
  /** Listen here (a restart on the same database keeps its address); default a free port. */
  fixedPort?: number,
): Promise<DevServer> {
  const binary = await ensureTemporalCli(log);
  const port = fixedPort ?? (await freePort());
  const dbFile = path.join(dir, 'temporal.db');
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    dbFile,
    '--sqlite-pragma',
    'journal_mode=wal',
    ...extraArgs,
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
  ];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  const address = `127.0.0.1:${port}`;

  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited:\n${stderr}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (attempt > 60) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server on ${address} did not answer: ${String(err)}\n${stderr}`);
      }
      await sleep(250);
    }
  }
  return {
    address,
    binary,
    pid: child.pid!,
    dbFile,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
