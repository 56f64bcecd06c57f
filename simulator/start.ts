/**
 * Starting the simulator: its options checked, its parts (CIBA, CAMARA, Identity Insights,
 * faults, rate limit, stats) wired to one HTTP server, and its CIBA state kept across restarts.
 * simulator/index.ts is the public face; the command line (cli.ts) starts it from here.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { isLoopbackHost } from '../common/net.js';
import { CamaraProfileServer } from './camara-profile.js';
import { CibaServer, type CibaDeps, type CibaState } from './ciba.js';
import { FaultInjector } from './faults.js';
import { IdentityInsightsServer } from './identity-insights.js';
import { toPublicKey } from './jwt.js';
import { RateLimiter } from './rate-limit.js';
import { RequestLog } from './request-log.js';
import { parseScenarioFile, ScenarioStore } from './scenarios.js';
import { SimulatorServer } from './server.js';
import { StatsRecorder } from './stats.js';
import { Subscribers, type FlowDefaults } from './subscribers.js';
import type { Simulator, SimulatorOptions } from './types.js';

export const DEFAULTS = {
  host: '127.0.0.1',
  expiresIn: 120,
  interval: 2,
  pendingPolls: 0,
  /** 15 minutes, like the access tokens Vonage issues (docs/simulator.md says where that comes from). */
  tokenExpiresIn: 900,
} as const;

/** The warning printed when the simulator listens beyond loopback. */
export function exposedWarning(host: string, url: string): string {
  return (
    `WARNING: the netcheck simulator listens on ${host} (${url}), beyond loopback. Its admin ` +
    'endpoints (/__simulator/scenarios, /__simulator/reset, /__simulator/stats) have no ' +
    'authentication: anyone who can reach this port can change its answers and read its stats. ' +
    'Bind it to 127.0.0.1 unless another machine must reach it.'
  );
}

function check(name: string, value: number, ok: (v: number) => boolean, rule: string): number {
  if (!Number.isFinite(value) || !ok(value)) throw new RangeError(`${name} must be ${rule} (got ${value})`);
  return value;
}

function flowDefaults(options: SimulatorOptions): FlowDefaults {
  return {
    expiresIn: check('expiresIn', options.expiresIn ?? DEFAULTS.expiresIn, (v) => v > 0, '> 0'),
    interval: check('interval', options.interval ?? DEFAULTS.interval, (v) => v >= 0, '>= 0'),
    pendingPolls: check(
      'pendingPolls',
      options.pendingPolls ?? DEFAULTS.pendingPolls,
      (v) => Number.isInteger(v) && v >= 0,
      'an integer >= 0',
    ),
    tokenExpiresIn: check(
      'tokenExpiresIn',
      options.tokenExpiresIn ?? DEFAULTS.tokenExpiresIn,
      (v) => v > 0,
      '> 0',
    ),
  };
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (typeof options.applicationId !== 'string' || options.applicationId === '') {
    throw new TypeError('applicationId is required');
  }
  const now = options.now ?? Date.now;
  const publicKey = toPublicKey(options.publicKey);
  const scenarios = new ScenarioStore();
  if (options.scenarios) scenarios.add(parseScenarioFile(options.scenarios, 'options.scenarios'));
  const subscribers = new Subscribers(scenarios, flowDefaults(options));
  const stats = new StatsRecorder();
  const faults = new FaultInjector(options.faults);
  const rateLimiter = options.rateLimit === undefined ? undefined : new RateLimiter(options.rateLimit);
  // What both CIBA servers (Vonage's and the camara profile's) share: subscribers, clock, faults.
  const cibaShared: Omit<CibaDeps, 'applicationId' | 'noNetworkApplication'> = {
    publicKey,
    now,
    subscribers,
    violation: (kind, msisdn) => stats.violation(kind, msisdn),
    numericStrings: options.numericStrings ?? false,
    omitInterval: options.omitInterval ?? false,
    slowDownFirstPoll: () => faults.slowDownFirstPoll(),
  };
  const ciba = new CibaServer({
    ...cibaShared,
    applicationId: options.applicationId,
    noNetworkApplication: () => scenarios.noNetworkApplication ?? options.noNetworkApplication ?? false,
  });
  if (options.stateFile !== undefined) {
    const saved = await readState(options.stateFile);
    if (saved) ciba.importState(saved);
  }
  const insights = new IdentityInsightsServer({
    applicationId: options.applicationId,
    publicKey,
    now,
    subscribers,
    scenarios,
  });
  // The `camara` operator profile: the same subscribers, its own CIBA state and client authentication.
  const camaraProfile = new CamaraProfileServer({
    ...cibaShared,
    clientId: options.applicationId,
    noNetworkApplication: () => false,
  });
  const requestLog = options.requestLog === undefined ? undefined : await RequestLog.open(options.requestLog);
  const server = new SimulatorServer({
    now,
    ciba,
    insights,
    subscribers,
    scenarios,
    stats,
    faults,
    ...(rateLimiter ? { rateLimiter } : {}),
    ...(requestLog ? { requestLog } : {}),
    camaraProfile,
  });
  const host = options.host ?? DEFAULTS.host;
  let port: number;
  try {
    port = await server.listen(options.port ?? 0, host);
  } catch (err) {
    await requestLog?.close();
    throw err;
  }
  const urlHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  if (!isLoopbackHost(host))
    (options.onWarning ?? ((m: string) => console.warn(m)))(exposedWarning(host, url));
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    stats: (msisdn) => stats.snapshot(msisdn),
    reset: () => stats.reset(),
    addScenarios: (s) => scenarios.add(parseScenarioFile(s)),
    close: () =>
      (closed ??= server.close().then(async () => {
        if (options.stateFile !== undefined) {
          await writeFile(options.stateFile, JSON.stringify(ciba.exportState()), { mode: 0o600 });
        }
      })),
  };
}

/** The CIBA state a previous simulator left in its state file, if there is one. */
async function readState(path: string): Promise<CibaState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const state = JSON.parse(text) as Partial<CibaState>;
  if (!Array.isArray(state.authRequests) || !Array.isArray(state.tokens)) {
    throw new Error(`${path} is not a simulator state file (authRequests and tokens expected)`);
  }
  return state as CibaState;
}
