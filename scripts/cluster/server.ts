/**
 * Temporal Server 1.29.1 as four processes (frontend, history, matching, worker) on PostgreSQL:
 * the binaries (built once with `go install` into .temporal/server-v1.29.1/), the schema (the
 * SQL tool's embedded PostgreSQL schema) and the server configuration.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../cli/stack/temporal-cli.js';
import { startProcess, type Managed } from './processes.js';
import { settingText } from '../../common/settings.js';

const execFileAsync = promisify(execFile);

/** The server release of docker-compose.yml, the dev server of the tests, and this cluster. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const SERVER_PACKAGES = [
  `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
  `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
];
export const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ServerBinaries {
  server: string;
  sql: string;
}

/** NETCHECK_TEMPORAL_SERVER_DIR, else <project>/.temporal/server-v1.29.1 (git-ignored). */
export function serverBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return (
    settingText('NETCHECK_TEMPORAL_SERVER_DIR', env) ??
    path.join(projectRoot, '.temporal', `server-v${TEMPORAL_SERVER_VERSION}`)
  );
}

async function reportsVersion(binary: string): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version'], { timeout: 20_000 });
    return stdout.includes(TEMPORAL_SERVER_VERSION);
  } catch {
    return false;
  }
}

/** The server and SQL tool binaries; built with `go install` (at low priority) when missing. */
export async function ensureServerBinaries(log: (line: string) => void): Promise<ServerBinaries> {
  const dir = serverBinDir();
  const binaries = { server: path.join(dir, 'server'), sql: path.join(dir, 'sql') };
  if ((await reportsVersion(binaries.server)) && (await reportsVersion(binaries.sql))) return binaries;
  log(
    `Building Temporal Server ${TEMPORAL_SERVER_VERSION} and its SQL tool into ${path.relative(process.cwd(), dir) || dir} ` +
      '(go install, a few minutes, once)…',
  );
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', 'go', 'install', ...SERVER_PACKAGES], {
      env: { ...process.env, GOBIN: dir },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (err) =>
      reject(
        new Error(
          `go install could not run (${err.message}): install Go 1.24+ or set NETCHECK_TEMPORAL_SERVER_DIR`,
        ),
      ),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`go install ${SERVER_PACKAGES.join(' ')} exited with ${code}`)),
    );
  });
  if (!existsSync(binaries.server) || !existsSync(binaries.sql)) {
    throw new Error(`go install finished but ${dir} has no server and sql binaries`);
  }
  log(`Built in ${Math.round((Date.now() - started) / 1000)} s.`);
  return binaries;
}

export interface DatabaseTarget {
  host: string;
  port: number;
  user: string;
}

/**
 * Creates the two databases if missing and brings both schemas to this release's version
 * (setup-schema and update-schema only apply what is missing, so a second run changes nothing):
 * the same steps as docker-compose.yml's temporal-schema job.
 */
export async function setupSchema(sql: string, db: DatabaseTarget): Promise<void> {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: db.host,
    SQL_PORT: String(db.port),
    SQL_USER: db.user,
    SQL_PASSWORD: '',
  };
  const run = async (args: string[]) => {
    try {
      return await execFileAsync(sql, args, { env, timeout: 120_000 });
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
      throw new Error(`temporal-sql-tool ${args.join(' ')} failed: ${e.message}\n${output}`);
    }
  };
  for (const [database, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    await run(['--db', database, 'create-database']); // an existing database is kept
    await run(['--db', database, 'setup-schema', '-v', '0.0']);
    await run(['--db', database, 'update-schema', '--schema-name', schema]);
  }
}

export interface ServicePorts {
  grpc: number;
  membership: number;
  /** Frontend only: the HTTP API. */
  http?: number;
}

export type ClusterPorts = Record<ServiceName, ServicePorts>;

/** The server configuration (JSON is YAML): the module's development-postgres12 layout, our ports. */
export function serverConfig(options: {
  db: DatabaseTarget;
  ports: ClusterPorts;
  dynamicConfigFile: string;
  logLevel?: string;
  historyShards?: number;
}): object {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${options.db.host}:${options.db.port}`,
      connectProtocol: 'tcp',
      user: options.db.user,
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (name: ServiceName) => {
    const p = options.ports[name];
    return {
      rpc: {
        grpcPort: p.grpc,
        membershipPort: p.membership,
        bindOnLocalHost: true,
        ...(p.http !== undefined ? { httpPort: p.http } : {}),
      },
    };
  };
  return {
    log: { stdout: true, level: options.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: options.historyShards ?? 4,
      datastores: {
        'postgres-default': store('temporal', 20),
        'postgres-visibility': store('temporal_visibility', 2),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(SERVICES.map((name) => [name, rpc(name)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${options.ports.frontend.grpc}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: {
      archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    },
    dynamicConfigClient: { filepath: options.dynamicConfigFile, pollInterval: '10s' },
  };
}

/** Writes <dir>/config/cluster.yaml and an empty dynamic config (the server's defaults, as in the image). */
export async function writeServerConfig(
  dir: string,
  options: Omit<Parameters<typeof serverConfig>[0], 'dynamicConfigFile'>,
): Promise<void> {
  const configDir = path.join(dir, 'config');
  await mkdir(configDir, { recursive: true });
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
  await writeFile(dynamicConfigFile, '# Server defaults, as in the temporalio/server image.\n');
  await writeFile(
    path.join(configDir, 'cluster.yaml'),
    JSON.stringify(serverConfig({ ...options, dynamicConfigFile }), null, 2) + '\n',
  );
}

/** Starts one service of the server from <dir>/config/cluster.yaml. */
export function startService(binary: string, dir: string, service: ServiceName, logDir: string): Managed {
  return startProcess(
    `temporal-${service}`,
    binary,
    [
      '--root',
      dir,
      '--config',
      'config',
      '--env',
      'cluster',
      '--allow-no-auth',
      'start',
      '--service',
      service,
    ],
    { logFile: path.join(logDir, `temporal-${service}.log`), cwd: dir },
  );
}
