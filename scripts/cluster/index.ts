/**
 * The production topology on one machine, without Docker: PostgreSQL, Temporal Server's four
 * services as separate processes, the Vonage simulator, the codec server and N `netcheck worker`
 * processes, all on 127.0.0.1, sharing one task queue. Used by `npm run cluster` and
 * test/deploy/cluster.test.ts. The netcheck processes — their commands, environment, secrets and
 * health checks — come from scripts/cluster/topology.ts, the description docker-compose.yml
 * writes out too (test/deploy/compose.test.ts checks that both say the same).
 *
 * State (git-ignored, default .netcheck/cluster/):
 *   postgres/        the database files and postgres.log (runs survive a restart of the cluster)
 *   config/          the server's configuration, written at every start
 *   keys/            the simulator's application key pair and id (0700)
 *   secrets/         the key ring and the subject key, as files (0700; docker-compose.yml's secrets)
 *   logs/            one log per process
 *   workflow-bundle.js  the workers' prebuilt workflow bundle
 *   cluster.json     pids and addresses while it runs (one cluster per folder)
 *   env.sh           the environment a client shell needs
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { freePort, isPortFree } from '../../cli/stack/ports.js';
import { NetcheckBatchId } from '../../domain/search-attributes.js';
import { keySetup } from '../../simulator/cli.js';
import type { SimulatorStats } from '../../simulator/index.js';
import { buildWorkflowBundle } from '../build-bundle.js';
import { projectRoot } from '../../cli/stack/temporal-cli.js';
import { encryptingDataConverter } from '../../codec/data-converter.js';
import { newKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { startPostgres, stopLeftover, type Postgres } from './postgres.js';
import {
  resolveEnv,
  serviceArgs,
  serviceNamed,
  SIMULATOR_APPLICATION_ID,
  type Resolver,
  type SecretName,
} from './topology.js';
import { isAlive, startProcess, type Managed } from './processes.js';
import {
  ensureServerBinaries,
  SERVICES,
  setupSchema,
  startService,
  writeServerConfig,
  type ClusterPorts,
  type ServerBinaries,
  type ServiceName,
} from './server.js';

export interface ClusterOptions {
  /** Default <cwd>/.netcheck/cluster. */
  stateDir?: string;
  /** netcheck worker processes (default 2). */
  workers?: number;
  /** NETCHECK_RATE_LIMIT of every worker: Vonage requests per second for the whole task queue. */
  rateLimit?: number;
  taskQueue?: string;
  namespace?: string;
  /** Frontend port: default 7233 when free, else any; 0 = any free port. */
  frontendPort?: number;
  /** Simulator port (default any free port). */
  simulatorPort?: number;
  /** Extra `netcheck simulator` flags, e.g. ['--interval', '1', '--latency-ms', '20-60']. */
  simulatorArgs?: string[];
  /** Retention of closed workflows in the namespace (default 3 days). */
  retention?: string;
  /** Delete the state folder first (a fresh database). */
  reset?: boolean;
  /** Aborting it during the start stops what was started and rejects. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface Cluster {
  stateDir: string;
  address: string;
  namespace: string;
  taskQueue: string;
  simulatorUrl: string;
  /** The codec server (loopback, no sign-in), as the UI would call it: `<codecUrl>/decode`. */
  codecUrl: string;
  applicationId: string;
  privateKeyPath: string;
  /** What a client needs (TEMPORAL_ADDRESS, VONAGE_*, NETCHECK_TASK_QUEUE, …); also in env.sh. */
  env: Record<string, string>;
  services: Record<ServiceName, Managed>;
  /** Running netcheck workers (a killed one is removed). */
  workers: Managed[];
  client: Client;
  startWorker(): Promise<Managed>;
  /** Sends the signal to a worker and waits for it to exit. */
  stopWorker(worker: Managed, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | NodeJS.Signals>;
  /** Stops one Temporal service (SIGTERM, or SIGKILL) and starts it again on the same ports. */
  restartService(name: ServiceName, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  simulatorStats(): Promise<SimulatorStats>;
  stop(): Promise<void>;
}

interface LockFile {
  ownerPid: number;
  pids: { name: string; pid: number; command: string }[];
}

/** The command line of a running process (Linux), to tell ours from a process that reused the pid. */
function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** Refuses a folder another live cluster owns; kills what a dead owner left running. */
async function takeOver(stateDir: string, log: (line: string) => void): Promise<void> {
  const lockPath = path.join(stateDir, 'cluster.json');
  if (!existsSync(lockPath)) return;
  let lock: LockFile;
  try {
    lock = JSON.parse(readFileSync(lockPath, 'utf8')) as LockFile;
  } catch {
    return;
  }
  if (lock.ownerPid !== process.pid && isAlive(lock.ownerPid)) {
    throw new Error(
      `A cluster already runs on ${stateDir} (pid ${lock.ownerPid}): stop it (Ctrl-C) or use another --state-dir.`,
    );
  }
  for (const { name, pid, command } of lock.pids) {
    if (!isAlive(pid) || commandOf(pid) !== command) continue;
    log(`Stopping ${name} (pid ${pid}) left over from an earlier run.`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await stopLeftover(path.join(stateDir, 'postgres'));
}

/**
 * Membership ports are stored in a smallint column (cluster_membership.rpc_port): above 32767
 * the server cannot register itself. They come from 20000–32767, the others from the OS.
 */
async function pickMembershipPort(taken: Set<number>, preferred: number): Promise<number> {
  const candidates = [preferred];
  const start = 20_000 + Math.floor(Math.random() * 12_000);
  for (let i = 0; i < 500; i++) candidates.push(20_000 + ((start - 20_000 + i * 7) % 12_768));
  for (const port of candidates) {
    if (!taken.has(port) && (await isPortFree(port))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port below 32768 for the server membership (ringpop)');
}

/** `explicit` must be free; else `preferred` when free; else (or for 0) any free port. */
async function pickPort(
  taken: Set<number>,
  choice: { explicit?: number; preferred?: number } = {},
): Promise<number> {
  const free = async (p: number) => !taken.has(p) && (await isPortFree(p));
  let port = 0;
  if (choice.explicit) {
    if (!(await free(choice.explicit))) {
      throw new Error(`port ${choice.explicit} is in use: choose another (0 = any free port)`);
    }
    port = choice.explicit;
  } else if (choice.explicit === undefined && choice.preferred && (await free(choice.preferred))) {
    port = choice.preferred;
  }
  while (port === 0 || taken.has(port)) port = await freePort();
  taken.add(port);
  return port;
}

/** Frontend health (gRPC health service of WorkflowService). */
async function waitForFrontend(address: string, frontend: Managed, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let exited: number | NodeJS.Signals | undefined;
  void frontend.exited.then((code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new Error(`the Temporal frontend exited (${exited}):\n${frontend.tail()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      const { status } = await connection.healthService.check({
        service: 'temporal.api.workflowservice.v1.WorkflowService',
      });
      if (status === proto.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING) return connection;
      await connection.close();
    } catch (err) {
      last = err;
    }
    await sleep(500);
  }
  throw new Error(
    `Temporal frontend at ${address} did not become healthy: ${String(last)}\n${frontend.tail()}`,
  );
}

async function ensureNamespace(connection: Connection, namespace: string, retention: string): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(retention),
    });
  } catch (err) {
    const e = err as { code?: number; message?: string };
    if (!(e.code === 6 || /already (exists|registered)/i.test(e.message ?? ''))) throw err;
  }
}

/**
 * Until history and matching have the namespace and its search attributes in their caches, a
 * start fails: start (and terminate) a probe workflow with a netcheck search attribute.
 */
async function waitUntilUsable(client: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await client.workflow.start('netcheckClusterProbe', {
        taskQueue: `netcheck-cluster-probe`,
        workflowId: `netcheck-cluster-probe-${randomUUID()}`,
        typedSearchAttributes: [{ key: NetcheckBatchId, value: 'cluster-probe' }],
      });
      await handle.terminate('cluster readiness probe');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the cluster did not accept a workflow: ${String(err)}`);
      await sleep(1_000);
    }
  }
}

/** The cluster's secrets as files (made once, kept): what docker-compose.yml takes from ./secrets. */
async function writeSecrets(dir: string): Promise<Record<SecretName, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const make: Record<SecretName, () => string> = {
    'encryption-keys': () => newKeyEntry('k1'),
    'subject-key': () => randomBytes(32).toString('hex'),
    'postgres-password': () => '', // the cluster's PostgreSQL trusts local connections
  };
  const files = {} as Record<SecretName, string>;
  for (const [name, value] of Object.entries(make) as [SecretName, () => string][]) {
    const file = path.join(dir, name);
    if (!existsSync(file)) await writeFile(file, `${value()}\n`, { mode: 0o600 });
    files[name] = file;
  }
  return files;
}

/** The system's variables a process needs (PATH, HOME, …): none of netcheck's own settings. */
function baseEnv(): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  return Object.fromEntries(
    Object.entries(inherited).filter(
      ([name]) =>
        !/^(NETCHECK_|VONAGE_|TEMPORAL_|OTEL_)/.test(name) || name === 'NETCHECK_TEMPORAL_SERVER_DIR',
    ),
  );
}

/** Waits until a process answers its topology health check (or exits). */
async function waitHealthy(
  health: NonNullable<ReturnType<typeof serviceNamed>['health']>,
  port: number,
  proc: Managed,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | NodeJS.Signals | undefined;
  void proc.exited.then((code) => (exited = code));
  let last = '';
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${proc.name} exited (${exited}):\n${proc.tail()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${health.path}`, { method: health.method ?? 'GET' });
      if (res.status === health.status) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(300);
  }
  throw new Error(`${proc.name} did not become healthy (${health.path}: ${last}):\n${proc.tail()}`);
}

function tsxArgs(...args: string[]): string[] {
  return ['--import', 'tsx', path.join(projectRoot, 'cli', 'main.ts'), ...args];
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? ((line: string) => console.error(line));
  const stateDir = path.resolve(options.stateDir ?? path.join('.netcheck', 'cluster'));
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? 'netcheck';
  const workerCount = options.workers ?? 2;
  const started: Managed[] = [];
  let postgres: Postgres | undefined;

  // Binaries first: a build takes minutes and needs nothing else.
  const binaries: ServerBinaries = await ensureServerBinaries(log);
  await mkdir(stateDir, { recursive: true, mode: 0o755 });
  await takeOver(stateDir, log);
  if (options.reset) {
    for (const sub of ['postgres', 'config', 'logs', 'workflow-bundle.js', 'env.sh']) {
      await rm(path.join(stateDir, sub), { recursive: true, force: true });
    }
  }
  const logDir = path.join(stateDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const lockPath = path.join(stateDir, 'cluster.json');
  const writeLock = () =>
    writeFile(
      lockPath,
      JSON.stringify(
        {
          ownerPid: process.pid,
          pids: started.map((p) => ({ name: p.name, pid: p.pid, command: p.child.spawnargs.join(' ') })),
        } satisfies LockFile,
        null,
        2,
      ),
    );
  await writeLock();

  const stopAll = async () => {
    const workers = started.filter((p) => p.name.startsWith('netcheck-worker'));
    await Promise.all(workers.map((p) => p.stop(30_000)));
    const rest = started.filter((p) => !workers.includes(p));
    await Promise.all(rest.map((p) => p.stop(15_000)));
    await postgres?.stop();
    await rm(lockPath, { force: true });
  };

  try {
    const taken = new Set<number>();
    const pgPort = await pickPort(taken);
    const frontendGrpc = await pickPort(taken, { explicit: options.frontendPort, preferred: 7233 });
    const ports = {} as ClusterPorts;
    for (const [i, name] of SERVICES.entries()) {
      ports[name] = {
        grpc: name === 'frontend' ? frontendGrpc : await pickPort(taken),
        membership: await pickMembershipPort(taken, 6933 + i),
        ...(name === 'frontend' ? { http: await pickPort(taken) } : {}),
      };
    }
    const simulatorPort = await pickPort(taken, { explicit: options.simulatorPort });

    // The workers' workflow bundle, built while PostgreSQL starts.
    const bundlePath = path.join(stateDir, 'workflow-bundle.js');
    const bundling = buildWorkflowBundle({ from: 'source', out: bundlePath });
    bundling.catch(() => undefined);

    log(`PostgreSQL on 127.0.0.1:${pgPort}…`);
    options.signal?.throwIfAborted();
    postgres = await startPostgres({ dir: path.join(stateDir, 'postgres'), port: pgPort, within: stateDir });
    const db = { host: postgres.host, port: postgres.port, user: postgres.user };
    await setupSchema(binaries.sql, db);
    options.signal?.throwIfAborted();
    await writeServerConfig(stateDir, { db, ports });

    log('Temporal Server: frontend, history, matching and worker services…');
    // The frontend first: the first service to start writes the cluster metadata, and services
    // starting at the same moment on a new database collide on it (a version mismatch).
    const services = {} as Record<ServiceName, Managed>;
    const address = `127.0.0.1:${ports.frontend.grpc}`;
    services.frontend = startService(binaries.server, stateDir, 'frontend', logDir);
    started.push(services.frontend);
    await writeLock();
    const connection = await waitForFrontend(address, services.frontend, 90_000);
    for (const name of SERVICES.filter((n) => n !== 'frontend')) {
      services[name] = startService(binaries.server, stateDir, name, logDir);
      started.push(services[name]);
    }
    await writeLock();
    // While the cluster comes up, a service that exits fails the start at once, with its output.
    let starting = true;
    const died = Promise.race(
      SERVICES.map((name) =>
        services[name].exited.then((code) => {
          if (starting)
            throw new Error(`temporal ${name} exited (${code}) during start:\n${services[name].tail()}`);
        }),
      ),
    );
    died.catch(() => undefined);
    const guard = <T>(step: Promise<T>): Promise<T> => {
      options.signal?.throwIfAborted();
      return Promise.race([step, died.then(() => step)]);
    };
    // Encrypting, like the workers (the key ring of secrets/): a client without it would be refused.
    const secrets = await writeSecrets(path.join(stateDir, 'secrets'));
    const ring = parseKeyRing(readFileSync(secrets['encryption-keys'], 'utf8'), secrets['encryption-keys']);
    const client = new Client({ connection, namespace, dataConverter: encryptingDataConverter(ring) });
    await guard(ensureNamespace(connection, namespace, options.retention ?? '3 days'));

    // The simulator's application: key pair and id under keys/ (reused by later runs).
    const keys = await keySetup(SIMULATOR_APPLICATION_ID, undefined, path.join(stateDir, 'keys'));
    const privateKeyPath = keys.privateKeyPath!;
    const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
    const codecPort = await pickPort(taken);
    const resolver: Resolver = {
      temporal: address,
      namespace,
      taskQueue,
      simulatorUrl,
      simulatorHost: '127.0.0.1',
      simulatorKey: privateKeyPath,
      applicationId: keys.applicationId,
      uiOrigins: '',
      secret: (name) => secrets[name],
    };
    // Each process's environment is the topology's (nothing of this shell's netcheck settings).
    const envOf = (service: string) => ({ ...baseEnv(), ...resolveEnv(serviceNamed(service), resolver) });
    // What a client shell needs: the `netcheck` service of docker-compose.yml.
    const env: Record<string, string> = resolveEnv(serviceNamed('netcheck'), resolver);
    const childEnv = envOf('netcheck-setup');

    log('netcheck setup (search attributes)…');
    const setup = startProcess(
      'netcheck-setup',
      process.execPath,
      tsxArgs(...serviceArgs(serviceNamed('netcheck-setup'))),
      {
        logFile: path.join(logDir, 'netcheck-setup.log'),
        cwd: projectRoot,
        env: childEnv,
      },
    );
    started.push(setup);
    const setupCode = await guard(setup.exited);
    if (setupCode !== 0) throw new Error(`netcheck setup exited with ${setupCode}:\n${setup.tail()}`);
    await guard(waitUntilUsable(client, 60_000));

    const simulator = startProcess(
      'simulator',
      process.execPath,
      tsxArgs(
        ...serviceArgs(serviceNamed('simulator'), {
          host: '127.0.0.1',
          port: simulatorPort,
          stateDir: path.join(stateDir, 'keys'),
        }),
        ...(options.simulatorArgs ?? []),
      ),
      { logFile: path.join(logDir, 'simulator.log'), cwd: projectRoot, env: envOf('simulator') },
    );
    started.push(simulator);
    await guard(waitHealthy(serviceNamed('simulator').health!, simulatorPort, simulator, 60_000));

    // The codec server, as the UI would call it (loopback: no sign-in, like docker-compose.yml's).
    const codec = startProcess(
      'codec-server',
      process.execPath,
      tsxArgs(...serviceArgs(serviceNamed('codec-server'), { host: '127.0.0.1', port: codecPort })),
      { logFile: path.join(logDir, 'codec-server.log'), cwd: projectRoot, env: envOf('codec-server') },
    );
    started.push(codec);
    await guard(waitHealthy(serviceNamed('codec-server').health!, codecPort, codec, 60_000));
    try {
      // Its clock must not stall behind the workers: arrivals would bunch into false 1-s peaks.
      os.setPriority(simulator.pid, -10);
    } catch {
      /* not permitted: it runs at normal priority */
    }

    await guard(bundling);
    const workerEnv = { ...envOf('worker'), NETCHECK_WORKFLOW_BUNDLE: bundlePath };
    const workers: Managed[] = [];
    let workerIndex = 0;
    const startWorker = async () => {
      const index = ++workerIndex;
      // Its own health port (the image's NETCHECK_HEALTH_PORT): ready once /readyz says it polls.
      const healthPort = await freePort();
      const worker = startProcess(
        `netcheck-worker-${index}`,
        process.execPath,
        tsxArgs(
          ...serviceArgs(serviceNamed('worker')),
          ...(options.rateLimit !== undefined ? ['--rate', String(options.rateLimit)] : []),
        ),
        {
          logFile: path.join(logDir, `netcheck-worker-${index}.log`),
          cwd: projectRoot,
          env: { ...workerEnv, NETCHECK_HEALTH_PORT: String(healthPort) },
        },
      );
      started.push(worker);
      workers.push(worker);
      void worker.exited.then(() => {
        const at = workers.indexOf(worker);
        if (at >= 0) workers.splice(at, 1);
      });
      await writeLock();
      await waitHealthy(serviceNamed('worker').health!, healthPort, worker, 120_000);
      return worker;
    };
    log(`${workerCount} netcheck worker${workerCount === 1 ? '' : 's'} on task queue "${taskQueue}"…`);
    await guard(Promise.all(Array.from({ length: workerCount }, () => startWorker())));
    starting = false;
    options.signal?.throwIfAborted();

    const envFile = path.join(stateDir, 'env.sh');
    await writeFile(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `export ${k}=${JSON.stringify(v)}`)
        .join('\n') + '\n',
    );

    return {
      stateDir,
      address,
      namespace,
      taskQueue,
      simulatorUrl,
      codecUrl: `http://127.0.0.1:${codecPort}`,
      applicationId: keys.applicationId,
      privateKeyPath,
      env,
      services,
      workers,
      client,
      startWorker,
      async stopWorker(worker, signal) {
        worker.kill(signal);
        return worker.exited;
      },
      async restartService(name, signal = 'SIGTERM') {
        const old = services[name];
        if (signal === 'SIGKILL') {
          old.kill('SIGKILL');
          await old.exited;
        } else {
          await old.stop(30_000);
        }
        started.splice(started.indexOf(old), 1);
        services[name] = startService(binaries.server, stateDir, name, logDir);
        started.push(services[name]);
        await writeLock();
      },
      async simulatorStats() {
        const res = await fetch(`${simulatorUrl}/__simulator/stats`);
        if (!res.ok) throw new Error(`simulator stats: HTTP ${res.status}`);
        return (await res.json()) as SimulatorStats;
      },
      async stop() {
        await connection.close().catch(() => undefined);
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
