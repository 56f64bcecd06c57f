/**
 * The chaos run's processes: the Temporal dev server on a database file (killed and restarted on
 * the same file and port), the simulator as a CLI process (restarted on the same port, request
 * log and state file), and netcheck workers (`worker/run.ts`, SIGKILLed and replaced). Built on
 * the benchmark's dev server and the cluster script's process helper.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { startProcess, type Managed } from '../../scripts/cluster/processes.js';
import type { SimulatorStats } from '../../simulator/index.js';
import { freePort, startDevServer, type DevServer } from '../server.js';
import { SIMULATOR_PRIORITY } from '../proc.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChaosSettings {
  /** Requests per second: the workers' NETCHECK_RATE_LIMIT and the simulator's limit. */
  rate: number;
  seed: number;
  intervalSeconds: number;
  expiresInSeconds: number;
  unavailable: number;
  tooManyRequests: number;
  retryAfterSeconds: number;
  /** Share of requests that hang (the simulator's `timeout` fault) for hangMs. */
  hang: number;
  hangMs: number;
  reset: number;
  slowDown: number;
}

export interface StackPaths {
  dir: string;
  publicKeyFile: string;
  privateKeyFile: string;
  applicationId: string;
  bundle: string;
}

/** The Temporal dev server on `dir/temporal.db`; `restart()` starts it again on the same file and port. */
export class TemporalServer {
  private server: DevServer | undefined;
  private port: number | undefined;

  constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get dbFile(): string {
    return path.join(this.dir, 'temporal.db');
  }

  async start(): Promise<void> {
    this.server = await startDevServer(this.dir, this.log, [], this.port);
    this.port = Number(this.server.address.split(':').pop());
  }

  async kill(): Promise<void> {
    await this.server?.kill();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}

/** The simulator CLI in a process of its own; its request log and CIBA state outlive a restart. */
export class SimulatorProcess {
  private proc: Managed | undefined;
  private port: number | undefined;
  readonly requestLog: string;
  readonly stateFile: string;
  readonly scenarioFile: string;
  private starts = 0;
  /** The stats of every process so far, read just before it was stopped. */
  readonly stats: SimulatorStats[] = [];

  constructor(
    private readonly paths: StackPaths,
    private readonly settings: ChaosSettings,
  ) {
    this.requestLog = path.join(paths.dir, 'simulator-requests.jsonl');
    this.stateFile = path.join(paths.dir, 'simulator-state.json');
    this.scenarioFile = path.join(paths.dir, 'simulator-scenarios.json');
    writeFileSync(this.scenarioFile, JSON.stringify({ identityInsightsVirtualOperator: 'every-number' }));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ??= await freePort();
    const s = this.settings;
    const args = [
      '--import',
      'tsx',
      path.join(ROOT, 'simulator/main.ts'),
      ...['--port', String(this.port), '--app-id', this.paths.applicationId],
      ...['--public-key-file', this.paths.publicKeyFile],
      ...['--interval', String(s.intervalSeconds), '--expires-in', String(s.expiresInSeconds)],
      // Another seed after a restart: the new process must not replay the first one's faults.
      ...['--seed', String(s.seed + this.starts * 7919)],
      ...['--unavailable', String(s.unavailable), '--too-many-requests', String(s.tooManyRequests)],
      ...['--retry-after', String(s.retryAfterSeconds)],
      ...['--timeout', String(s.hang), '--hang-ms', String(s.hangMs)],
      ...['--reset', String(s.reset), '--slow-down', String(s.slowDown)],
      ...['--rate-limit', String(s.rate)],
      ...['--request-log', this.requestLog, '--state-file', this.stateFile],
      // The batch checks arbitrary +990 numbers on the Identity Insights road too, where the
      // documented Virtual Operator answers only ten of them.
      ...['--scenarios', this.scenarioFile],
    ];
    this.starts++;
    this.stopped = false;
    this.proc = startProcess('simulator', process.execPath, args, {
      cwd: ROOT,
      logFile: path.join(this.paths.dir, 'simulator.log'),
    });
    try {
      // It stands in for Vonage, which does not share netcheck's CPU: at a higher priority its
      // receipt times (what the rate-limit check reads) are not bunched by a busy machine.
      os.setPriority(this.proc.pid, SIMULATOR_PRIORITY);
    } catch {
      // Not allowed (not root): normal priority.
    }
    await this.proc.waitFor(/listening on/, 60_000);
  }

  /** Graceful stop (SIGTERM): held requests are cut, the CIBA state is written for the next start. */
  async stop(): Promise<void> {
    if (!this.proc || this.stopped) return;
    this.stopped = true;
    try {
      const res = await fetch(`${this.url}/__simulator/stats`);
      this.stats.push((await res.json()) as SimulatorStats);
    } catch {
      // not answering: its log still has every request
    }
    await this.proc.stop(10_000);
  }
  private stopped = false;
}

export interface WorkerHandle {
  readonly name: string;
  readonly pid: number;
  /** The Temporal worker identity (the SDK's default, `<pid>@<host>`). */
  readonly identity: string;
  readonly proc: Managed;
}

/** Starts `worker/run.ts` against the stack, from the environment as an operator would. */
export async function startWorker(
  name: string,
  paths: StackPaths,
  temporal: TemporalServer,
  simulator: SimulatorProcess,
  taskQueue: string,
  settings: ChaosSettings,
): Promise<WorkerHandle> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    VONAGE_APPLICATION_ID: paths.applicationId,
    VONAGE_PRIVATE_KEY_PATH: paths.privateKeyFile,
    VONAGE_API_BASE_URL: simulator.url,
    NETCHECK_TASK_QUEUE: taskQueue,
    NETCHECK_RATE_LIMIT: String(settings.rate),
    NETCHECK_WORKFLOW_BUNDLE: paths.bundle,
  };
  for (const key of Object.keys(env))
    if (key.startsWith('OTEL_') || key === 'NETCHECK_METRICS_PORT') delete env[key];
  const proc = startProcess(name, process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker/run.ts')], {
    cwd: ROOT,
    env,
    logFile: path.join(paths.dir, `${name}.log`),
  });
  await proc.waitFor(/polling task queue/, 120_000);
  return { name, pid: proc.pid, identity: `${proc.pid}@${os.hostname()}`, proc };
}

export function chaosTaskQueue(): string {
  return `chaos-${randomUUID().slice(0, 8)}`;
}
