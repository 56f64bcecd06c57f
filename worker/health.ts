/**
 * The worker's health endpoint, for process supervisors and load balancers:
 *
 * - `GET /healthz` (liveness): 200 while the process serves requests and the worker has not
 *   failed; 503 once it has (restart the process).
 * - `GET /readyz` (readiness): 200 when the worker is polling (state RUNNING) and its connection
 *   answers the Temporal frontend; 503 otherwise — before it starts, while it drains after
 *   SIGTERM/SIGINT or `worker.shutdown()` (STOPPING, DRAINING, DRAINED) and after it stopped.
 *
 * Both answer JSON: `{ "status": "ok" | "unavailable", "state": "<worker state>", ... }`.
 * Turned on by NETCHECK_HEALTH_PORT (NETCHECK_HEALTH_HOST, default 127.0.0.1).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NativeConnection, State as WorkerState } from '@temporalio/worker';
import { ConfigurationError } from './config.js';
import { listenSettingsFromEnv } from './metrics.js';

/** What the endpoint reads from a Worker (a `Worker` has both). */
export interface HealthSubject {
  getState(): WorkerState;
  readonly connection?: NativeConnection | undefined;
}

export interface HealthSettings {
  port: number;
  host: string;
}

export interface HealthServer {
  /** e.g. http://127.0.0.1:9465 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** How long /readyz waits for the Temporal frontend to answer. */
const PROBE_TIMEOUT_MS = 3_000;

/** NETCHECK_HEALTH_PORT / NETCHECK_HEALTH_HOST; undefined when the port is unset. */
export function healthSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HealthSettings | undefined {
  return listenSettingsFromEnv('NETCHECK_HEALTH', env);
}

/** Whether the worker's connection reaches the Temporal frontend now (one cheap RPC). */
async function connectionAnswers(connection: NativeConnection | undefined): Promise<string | undefined> {
  if (!connection) return 'the worker has no connection';
  try {
    await connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () =>
      connection.workflowService.getSystemInfo({}),
    );
    return undefined;
  } catch (err) {
    return `the Temporal frontend did not answer: ${(err as Error).message.split('\n')[0]?.slice(0, 200)}`;
  }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startHealthServer(
  worker: HealthSubject,
  settings: HealthSettings,
): Promise<HealthServer> {
  // One probe at a time: frequent /readyz calls share the one in flight.
  let probe: Promise<string | undefined> | undefined;
  const probeOnce = () => {
    probe ??= connectionAnswers(worker.connection).finally(() => (probe = undefined));
    return probe;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { status: 'unavailable', reason: 'use GET' });
      return;
    }
    const state = worker.getState();
    if (path === '/healthz' || path === '/livez') {
      const live = state !== 'FAILED';
      send(res, live ? 200 : 503, { status: live ? 'ok' : 'unavailable', state });
      return;
    }
    if (path === '/readyz') {
      if (state !== 'RUNNING') {
        const reason =
          state === 'INITIALIZED' ? 'the worker has not started polling' : 'the worker is shutting down';
        send(res, 503, { status: 'unavailable', state, reason });
        return;
      }
      const problem = await probeOnce();
      // The state may have changed while the probe ran (a drain began).
      const now = worker.getState();
      if (problem || now !== 'RUNNING') {
        send(res, 503, {
          status: 'unavailable',
          state: now,
          reason: problem ?? 'the worker is shutting down',
        });
        return;
      }
      send(res, 200, { status: 'ok', state: now });
      return;
    }
    send(res, 404, { status: 'unavailable', reason: 'not found: use /healthz or /readyz' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { status: 'unavailable', reason: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL'
          ? new ConfigurationError([
              `NETCHECK_HEALTH_PORT: ${settings.host}:${settings.port} cannot be bound (${err.code}); choose another port or NETCHECK_HEALTH_HOST.`,
            ])
          : err,
      ),
    );
    server.listen(settings.port, settings.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
