/**
 * `npm run cluster [-- options]`: a real Temporal cluster on this machine — PostgreSQL, the
 * server's frontend, history, matching and worker services as separate processes, the Vonage
 * simulator and N netcheck workers, all on 127.0.0.1 — until Ctrl-C. See docs/production.md.
 */
import { parseArgs } from 'node:util';
import { startCluster } from './cluster/index.js';
import { ensureServerBinaries, TEMPORAL_SERVER_VERSION } from './cluster/server.js';

const USAGE = `Usage: npm run cluster -- [options]

  --workers <n>          netcheck worker processes (default 2)
  --rate <r>             Vonage requests per second for all workers together (NETCHECK_RATE_LIMIT)
  --task-queue <name>    the workers' task queue (default netcheck)
  --namespace <name>     namespace, created if missing (default default)
  --port <n>             Temporal frontend port (default 7233 when free, else any; 0 = any)
  --simulator-port <n>   simulator port (default any free port)
  --simulator-interval <s>  seconds between CIBA polls the simulator asks for (default 2)
  --state-dir <dir>      database, logs and keys (default .netcheck/cluster)
  --reset                start from an empty database
  --build-only           only build the server binaries if they are missing (for CI), then exit
  --help                 this text

Needs Go (the server is built once into .temporal/server-v1.29.1/, or NETCHECK_TEMPORAL_SERVER_DIR)
and PostgreSQL (Debian: apt-get install postgresql; or NETCHECK_PG_BIN). Ctrl-C stops everything.`;

function positive(flag: string, raw: string | undefined, allowZero = false): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    console.error(`--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number (got "${raw}")`);
    process.exit(2);
  }
  return value;
}

const { values } = parseArgs({
  options: {
    workers: { type: 'string' },
    rate: { type: 'string' },
    'task-queue': { type: 'string' },
    namespace: { type: 'string' },
    port: { type: 'string' },
    'simulator-port': { type: 'string' },
    'simulator-interval': { type: 'string' },
    'state-dir': { type: 'string' },
    reset: { type: 'boolean' },
    'build-only': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values['build-only']) {
  const binaries = await ensureServerBinaries((line) => console.error(line)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
  console.log(`Temporal Server ${TEMPORAL_SERVER_VERSION}: ${binaries.server}, ${binaries.sql}`);
  process.exit(0);
}

const interval = positive('simulator-interval', values['simulator-interval'], true);
// Ctrl-C while it starts: stop what is up and exit.
const starting = new AbortController();
const abortStart = () => starting.abort(new Error('interrupted: stopped what had started'));
process.once('SIGINT', abortStart);
process.once('SIGTERM', abortStart);
const cluster = await startCluster({
  signal: starting.signal,
  workers: positive('workers', values.workers),
  rateLimit: positive('rate', values.rate),
  taskQueue: values['task-queue'],
  namespace: values.namespace,
  frontendPort: positive('port', values.port, true),
  simulatorPort: positive('simulator-port', values['simulator-port'], true),
  simulatorArgs: interval !== undefined ? ['--interval', String(interval)] : [],
  stateDir: values['state-dir'],
  reset: values.reset,
}).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(starting.signal.aborted ? 130 : 1);
});
process.off('SIGINT', abortStart);
process.off('SIGTERM', abortStart);

console.log(`
netcheck cluster is up (state and logs in ${cluster.stateDir}):
  Temporal frontend   ${cluster.address} (namespace "${cluster.namespace}")
  services            ${Object.entries(cluster.services)
    .map(([name, p]) => `${name} pid ${p.pid}`)
    .join(', ')}
  simulator           ${cluster.simulatorUrl}
  workers             ${cluster.workers.map((w) => `pid ${w.pid}`).join(', ')} on task queue "${cluster.taskQueue}"

In another shell:
  source ${cluster.stateDir}/env.sh
  npm run netcheck -- check +99012345601 --op sim-swap
Ctrl-C stops the cluster.`);

const signal = await new Promise<NodeJS.Signals>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});
console.error(`${signal}: draining the workers, then stopping the server, the simulator and PostgreSQL…`);
await cluster.stop();
console.error('stopped.');
