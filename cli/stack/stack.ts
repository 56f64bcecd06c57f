/**
 * The embedded stack of `netcheck dev` and `netcheck demo` (and the UI test): a Temporal dev
 * server with its Web UI, the Vonage simulator trusting a generated test application key, and
 * a netcheck worker, all in this process (the server as a child process).
 *
 * State lives under <stateDir> (default .netcheck/, git-ignored):
 *   simulator-private-key.pem, simulator-application-id   the test application (shared with `netcheck simulator`)
 *   subject-key                                            NETCHECK_SUBJECT_KEY of the stack
 *   encryption-keys                                        NETCHECK_ENCRYPTION_KEYS_FILE: payloads are encrypted
 *   <name>/temporal.db                                     the dev server's SQLite (runs survive a restart)
 *   <name>/temporal.log                                    the dev server's output
 *   <name>/stack.json                                      pid and addresses while it runs (one stack per folder)
 *   <name>/env.sh                                          the environment a second shell needs
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import {
  encryptingDataConverter,
  newKeyEntry,
  parseKeyRing,
  startCodecServer,
  type KeyRing,
} from '../../codec/index.js';
import { resolveTaskQueue } from '../../common/settings.js';
import { assembleWorker, redactingLogger } from '../../worker/index.js';
import {
  keySetup,
  startSimulator,
  type ScenarioFile,
  type Simulator,
  type SimulatorOptions,
} from '../../simulator/index.js';
import { UsageError } from '../errors.js';
import { choosePorts } from './ports.js';
import { startTemporalDevServer, type DevServer } from './temporal-server.js';

export const DEFAULT_PORTS = { temporal: 7233, ui: 8233, simulator: 9090, codec: 8234 } as const;

export interface StackOptions {
  /** Root of the stack's files (default .netcheck). */
  stateDir: string;
  /** Sub-folder for this stack's server database, log and lock: "dev", "demo", … */
  name: string;
  /** Ports given on the command line (0 = any free port); unset ones try the defaults first. */
  ports?: { temporal?: number; ui?: number; simulator?: number; codec?: number };
  /** Start the Web UI (default true). */
  ui?: boolean;
  /** Keep the server's state in <stateDir>/<name>/temporal.db (default true). */
  persist?: boolean;
  scenarios?: ScenarioFile;
  /** Simulator flow settings (default: interval 1 s — Temporal timers have a 1-s floor anyway). */
  simulator?: Pick<SimulatorOptions, 'interval' | 'expiresIn' | 'pendingPolls' | 'faults' | 'rateLimit'>;
  /** Requests per second the worker makes to the simulator (the task queue's activity rate). */
  rateLimit?: number;
  taskQueue?: string;
  /** Level of the worker's log lines (default WARN). */
  logLevel?: LogLevel;
  /** Extra worker options (tests pass a pre-built workflow bundle). */
  worker?: Partial<WorkerOptions>;
  log: (line: string) => void;
}

export interface Stack {
  temporalAddress: string;
  namespace: string;
  uiUrl?: string;
  simulatorUrl: string;
  applicationId: string;
  privateKeyPath: string;
  subjectKey: string;
  taskQueue: string;
  /** The payload encryption: its key file (created on first start) and the converter clients need. */
  encryption: { keysFile: string; created: boolean; ring: KeyRing; dataConverter: DataConverter };
  /** The codec server the UI decodes through (with the UI only, on loopback): its URL and the UI's endpoint (the same, no secret). */
  codec?: { url: string; uiEndpoint: string };
  /** Connected to the stack's server, encrypting like the worker. */
  client: Client;
  simulator: Simulator;
  /** What a second shell needs to use this stack. */
  env: Record<string, string>;
  /** Path of a file with `export` lines for `env`. */
  envFile: string;
  /** Resolves with a description when a part of the stack stops on its own (server exit, worker failure). */
  failed: Promise<string>;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function claim(lockFile: string): Promise<void> {
  try {
    const previous = JSON.parse(await readFile(lockFile, 'utf8')) as {
      pid?: number;
      temporalAddress?: string;
      uiUrl?: string;
    };
    if (typeof previous.pid === 'number' && previous.pid !== process.pid && alive(previous.pid)) {
      throw new UsageError(
        `A netcheck stack already runs from ${path.dirname(lockFile)} (pid ${previous.pid}, Temporal ${previous.temporalAddress ?? '?'}` +
          `${previous.uiUrl ? `, UI ${previous.uiUrl}` : ''}).\n  Use it, stop it, or pass --state-dir for a separate one.`,
      );
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // no lock, or a stale / unreadable one: take it
  }
}

async function subjectKeyIn(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'subject-key');
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length >= 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32).toString('hex');
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

/** A secret file of the state dir: read it, or create it with `make()` (0600). */
async function secretIn(file: string, make: () => string): Promise<{ value: string; created: boolean }> {
  try {
    const value = (await readFile(file, 'utf8')).trim();
    if (value !== '') return { value, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = make();
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { value, created: true };
}

let runtimeInstalled = false;
/** The worker runtime logs at `level` (the SDK default is INFO, too chatty for the demo). */
export function installRuntimeLogger(level: LogLevel): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: redactingLogger(new DefaultLogger(level)) }); // numbers and tokens masked
  } catch {
    // already installed by someone else in this process: keep theirs
  }
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { log } = options;
  const stateDir = path.resolve(options.stateDir);
  const dir = path.join(stateDir, options.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lockFile = path.join(dir, 'stack.json');
  await claim(lockFile);

  const ui = options.ui ?? true;
  const requests = [
    {
      label: 'Temporal',
      preferred: DEFAULT_PORTS.temporal,
      explicit: options.ports?.temporal,
      flag: '--port',
    },
    ...(ui
      ? [
          {
            label: 'Temporal UI',
            preferred: DEFAULT_PORTS.ui,
            explicit: options.ports?.ui,
            flag: '--ui-port',
          },
          {
            label: 'codec server',
            preferred: DEFAULT_PORTS.codec,
            explicit: options.ports?.codec,
            flag: 'the codec port',
          },
        ]
      : []),
    {
      label: 'simulator',
      preferred: DEFAULT_PORTS.simulator,
      explicit: options.ports?.simulator,
      flag: '--simulator-port',
    },
  ];
  const ports = await choosePorts(requests, log);
  const temporalPort = ports[0]!;
  const uiPort = ui ? ports[1] : undefined;
  const codecPort = ui ? ports[2] : undefined;
  const simulatorPort = ports[ui ? 3 : 1]!;

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`while stopping: ${(err as Error).message}`);
      }
    }
    cleanups.length = 0;
  };

  try {
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
    cleanups.push(() => rm(lockFile, { force: true }));

    const keys = await keySetup(undefined, undefined, stateDir);
    const privateKeyPath = keys.privateKeyPath!;
    const privateKey = createPrivateKey(await readFile(privateKeyPath, 'utf8'));
    const subjectKey = await subjectKeyIn(stateDir);
    // Payloads are encrypted: a key ring under the state dir, made on the first start.
    const keysFile = path.join(stateDir, 'encryption-keys');
    const encryptionKeys = await secretIn(keysFile, () => newKeyEntry());
    const ring = parseKeyRing(encryptionKeys.value, keysFile);
    const dataConverter = encryptingDataConverter(ring);

    // The UI decodes through a codec server of the stack, allowed for the UI's origin only: on
    // loopback, without authentication (development), and without any secret in its URL.
    let codec: Stack['codec'];
    if (uiPort !== undefined && codecPort !== undefined) {
      // Earlier versions kept a codec token here; it is no longer used.
      await rm(path.join(stateDir, 'codec-token'), { force: true });
      const codecServer = await startCodecServer({
        ring,
        host: '127.0.0.1',
        port: codecPort,
        namespaces: ['default'],
        corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
      });
      cleanups.push(() => codecServer.close());
      codec = { url: codecServer.url, uiEndpoint: codecServer.uiEndpoint };
    }

    const server: DevServer = await startTemporalDevServer({
      port: temporalPort,
      ...(uiPort !== undefined ? { uiPort } : {}),
      ...(codec ? { uiCodecEndpoint: codec.uiEndpoint } : {}),
      ...((options.persist ?? true) ? { dbFilename: path.join(dir, 'temporal.db') } : {}),
      logFile: path.join(dir, 'temporal.log'),
      downloadDir: path.join(stateDir, 'temporal-download'),
      log,
    });
    cleanups.push(() => server.stop());

    const simulator = await startSimulator({
      port: simulatorPort,
      applicationId: keys.applicationId,
      publicKey: keys.publicKey,
      interval: 1,
      ...options.simulator,
      ...(options.scenarios ? { scenarios: options.scenarios } : {}),
    });
    cleanups.push(() => simulator.close());

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default', dataConverter });

    installRuntimeLogger(options.logLevel ?? 'WARN');
    const taskQueue = resolveTaskQueue(options.taskQueue);
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nativeConnection.close());
    const worker = await assembleWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      netcheck: {
        applicationId: keys.applicationId,
        privateKey,
        baseUrl: simulator.url,
        encryption: ring,
        ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
      },
      ...options.worker,
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    });
    const workerFailed = running.then(
      () => 'the worker stopped',
      (err: unknown) => `the worker failed: ${(err as Error).message}`,
    );

    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: 'default',
      VONAGE_API_BASE_URL: simulator.url,
      VONAGE_APPLICATION_ID: keys.applicationId,
      VONAGE_PRIVATE_KEY_PATH: privateKeyPath,
      NETCHECK_SUBJECT_KEY: subjectKey,
      NETCHECK_ENCRYPTION_KEYS_FILE: keysFile,
      NETCHECK_TASK_QUEUE: taskQueue,
    };
    const envFile = path.join(dir, 'env.sh');
    await writeFile(
      envFile,
      `# netcheck ${options.name} stack (pid ${process.pid}); in another shell: source ${envFile}\n` +
        Object.entries(env)
          .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
          .join('\n') +
        '\n',
      { mode: 0o600 },
    );
    await writeFile(
      lockFile,
      JSON.stringify({
        pid: process.pid,
        startedAt: new Date().toISOString(),
        temporalAddress: server.address,
        uiUrl: server.uiUrl,
        simulatorUrl: simulator.url,
        ...(codec ? { codecUrl: codec.url } : {}),
      }),
    );

    let stopping: Promise<void> | undefined;
    return {
      temporalAddress: server.address,
      namespace: 'default',
      ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
      simulatorUrl: simulator.url,
      applicationId: keys.applicationId,
      privateKeyPath,
      subjectKey,
      taskQueue,
      encryption: { keysFile, created: encryptionKeys.created, ring, dataConverter },
      ...(codec ? { codec } : {}),
      client,
      simulator,
      env,
      envFile,
      failed: Promise.race([server.exited.then((how) => `the Temporal dev server ${how}`), workerFailed]),
      stop: () => (stopping ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The UI page of one workflow. */
export function workflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The UI list filtered by a visibility query, e.g. `NetcheckBatchId = "b1"`. */
export function workflowListUrl(uiUrl: string, namespace: string, query: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}
