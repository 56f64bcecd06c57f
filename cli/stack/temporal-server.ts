/**
 * The Temporal dev server of the embedded stack: the pinned CLI binary (`temporal server
 * start-dev`) with its Web UI, state in a SQLite file so runs survive a restart, and netcheck's
 * search attributes registered at start.
 *
 * The binary comes from ensureTemporalCli (TEMPORAL_CLI_PATH, PATH, .temporal/bin, else a
 * `go install` when Go is there). Without any of those, @temporalio/testing's dev-server
 * download (a connected machine only) is the last resort.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';
import { MissingPackageError } from '../../domain/errors.js';
import { importOptional } from '../../common/optional.js';
import { ensureTemporalCli, TemporalCliUnavailableError } from './temporal-cli.js';

export interface DevServerOptions {
  port: number;
  /** Port of the Web UI; undefined = headless. */
  uiPort?: number;
  /** SQLite file; undefined = in memory. */
  dbFilename?: string;
  /** Where the server's own output goes (appended). */
  logFile: string;
  /** Directory for @temporalio/testing's download, if it comes to that. */
  downloadDir: string;
  /** The codec endpoint the Web UI decodes payloads through (`--ui-codec-endpoint`); it holds a token. */
  uiCodecEndpoint?: string;
  log: (line: string) => void;
}

export interface DevServer {
  /** host:port for clients and workers. */
  address: string;
  /** http://127.0.0.1:<ui-port> when the UI is on. */
  uiUrl?: string;
  /** The binary that runs, or "download (@temporalio/testing)". */
  binary: string;
  /** Resolves when the server process ends, with a description of how. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Waits until the frontend answers and (with a UI) the UI serves its page. */
async function waitReady(address: string, uiUrl: string | undefined, died: () => string | undefined) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    const death = died();
    if (death) throw new Error(`the Temporal dev server ${death} while starting`);
    if (Date.now() > deadline) {
      throw new Error(
        `the Temporal dev server did not answer within ${READY_TIMEOUT_MS / 1000} s: ${String(lastError)}`,
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await connection.close();
      }
      break;
    } catch (err) {
      lastError = err;
      await delay(200);
    }
  }
  if (!uiUrl) return;
  for (;;) {
    const death = died();
    if (death) throw new Error(`the Temporal dev server ${death} while starting its UI`);
    if (Date.now() > deadline) throw new Error(`the Temporal UI at ${uiUrl} did not answer`);
    try {
      const res = await fetch(uiUrl, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not yet
    }
    await delay(200);
  }
}

function spawnArgs(options: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--log-level',
    'warn',
  ];
  if (options.uiPort !== undefined) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFilename) args.push('--db-filename', options.dbFilename);
  if (options.uiPort !== undefined && options.uiCodecEndpoint) {
    args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  }
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  return args;
}

async function spawnBinary(binary: string, options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined;
  const args = spawnArgs(options);
  const logFd = openSync(options.logFile, 'a');
  // The codec endpoint carries the codec server's token: never in the log.
  const shown = args.map((a) => (a === options.uiCodecEndpoint ? '<codec endpoint>' : a));
  writeSync(logFd, `\n--- ${new Date().toISOString()} ${binary} ${shown.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  let death: string | undefined;
  // Whatever ends this process (an error, process.exit, a handled signal) ends the server too.
  const killOnExit = () => {
    if (!death) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      death ??= `could not run (${err.message})`;
      resolve(death);
    });
    child.once('exit', (code, signal) => {
      death ??= signal ? `was stopped by ${signal}` : `exited with code ${code}`;
      process.off('exit', killOnExit);
      resolve(death);
    });
  });
  try {
    await waitReady(address, uiUrl, () => death);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(
      `${(err as Error).message}\n--- ${options.logFile} (last lines) ---\n${tail(options.logFile)}`,
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    address,
    ...(uiUrl ? { uiUrl } : {}),
    binary,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        if (death) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Last resort: the dev server that @temporalio/testing downloads (needs the internet). */
async function viaTestingDownload(options: DevServerOptions): Promise<DevServer> {
  // An optional peer dependency (installed in a checkout as a dev dependency).
  const { TestWorkflowEnvironment } = await importOptional(
    "the dev server's download fallback",
    () => import('@temporalio/testing'),
  );
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', downloadDir: options.downloadDir },
      ip: '127.0.0.1',
      port: options.port,
      ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : {}),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      searchAttributes: [...SEARCH_ATTRIBUTES],
      ...(options.uiPort !== undefined && options.uiCodecEndpoint
        ? { extraArgs: ['--ui-codec-endpoint', options.uiCodecEndpoint] }
        : {}),
    },
  });
  let resolveExit!: (how: string) => void;
  const exited = new Promise<string>((resolve) => (resolveExit = resolve));
  let stopping: Promise<void> | undefined;
  return {
    address: env.address,
    ...(options.uiPort !== undefined ? { uiUrl: `http://127.0.0.1:${options.uiPort}` } : {}),
    binary: 'download (@temporalio/testing)',
    exited,
    stop: () => (stopping ??= env.teardown().finally(() => resolveExit('was stopped'))),
  };
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  let binary: string;
  try {
    binary = await ensureTemporalCli(options.log);
  } catch (err) {
    if (!(err instanceof TemporalCliUnavailableError)) throw err;
    options.log(`${err.message}\nTrying the dev server that @temporalio/testing downloads instead…`);
    try {
      return await viaTestingDownload(options);
    } catch (downloadErr) {
      throw new TemporalCliUnavailableError(
        downloadErr instanceof MissingPackageError
          ? `${err.message}\n  3. Or, on a machine with an internet connection: npm install ${downloadErr.packages.map((p) => `'${p}'`).join(' ')}` +
              ' (netcheck then downloads a dev server with it).'
          : `${err.message}\n(The @temporalio/testing download failed too: ${(downloadErr as Error).message})`,
      );
    }
  }
  return spawnBinary(binary, options);
}
