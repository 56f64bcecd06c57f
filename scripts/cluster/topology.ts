/**
 * The netcheck side of the production topology, described once: which netcheck processes run,
 * with which `netcheck` command, which environment, which secrets (as files), what each waits
 * for and how its health is told. docker-compose.yml writes it out for Docker (its services
 * `netcheck-setup`, `simulator`, `codec-server`, `worker`, `netcheck`); `npm run cluster`
 * (scripts/cluster/index.ts) starts the same processes from it on 127.0.0.1; and
 * test/deploy/compose.test.ts checks that the compose file says exactly what this says, that
 * every variable is one the registry (common/settings.ts) lists for the service's roles, and that
 * each service's own configuration loader accepts it. Temporal, PostgreSQL and the UI are not
 * netcheck's: the compose file and the cluster run them their own ways.
 *
 * Values that differ between the two are references, resolved by each side: where Temporal is,
 * the simulator's URL and host, a secret's file, the simulator's key file, the UI's origins.
 */
import type { Role, SettingName } from '../../common/settings.js';

/** The secrets, each a file: compose `secrets:` (/run/secrets/<name>), the cluster's state folder. */
export const SECRETS = {
  'encryption-keys': 'the payload key ring (`netcheck keygen`), one entry a line',
  'subject-key': 'the subject key, at least 32 random bytes (`openssl rand -hex 32`)',
  'postgres-password': "PostgreSQL's password (Temporal's persistence)",
} as const;
export type SecretName = keyof typeof SECRETS;

export type Ref =
  | { ref: 'temporal' } // host:port of the Temporal frontend
  | { ref: 'namespace' }
  | { ref: 'taskQueue' }
  | { ref: 'simulatorUrl' }
  | { ref: 'simulatorHost' }
  | { ref: 'simulatorKey' } // the private key file the simulator writes
  | { ref: 'applicationId' } // the simulator's application id
  | { ref: 'uiOrigins' }
  | { ref: 'secret'; secret: SecretName };
export type Value = string | Ref;

/** How a long-running service tells it is up (compose healthcheck; the cluster waits on the same). */
export type Health = {
  kind: 'http';
  path: string;
  method?: 'GET' | 'OPTIONS';
  status: number;
  port: 'service' | 'health';
};

export interface NetcheckService {
  /** The compose service name. */
  name: string;
  /** The roles of the registry this process reads settings as. */
  roles: readonly Role[];
  /** `netcheck <command…>`: the words before any flag. */
  command: readonly string[];
  /** The flags whose values are resolved per side (host, port, state folder). */
  listens?: 'simulator' | 'codec-server';
  env: Partial<Record<SettingName, Value>>;
  secrets: readonly SecretName[];
  /** What it waits for, among the netcheck services and `temporal` (the frontend, healthy). */
  dependsOn: Record<string, 'service_started' | 'service_healthy' | 'service_completed_successfully'>;
  /** One-shot job (runs to completion), or long-running with a health check. */
  oneShot?: true;
  health?: Health;
  /** Started only on demand (`docker compose run --rm netcheck …`; the cluster's env.sh). */
  onDemand?: true;
}

const temporal: Value = { ref: 'temporal' };
const namespace: Value = { ref: 'namespace' };
const taskQueue: Value = { ref: 'taskQueue' };
const secret = (name: SecretName): Value => ({ ref: 'secret', secret: name });

export const NETCHECK_SERVICES: readonly NetcheckService[] = [
  {
    name: 'netcheck-setup',
    roles: ['cli', 'client'],
    command: ['setup'],
    env: { TEMPORAL_ADDRESS: temporal, TEMPORAL_NAMESPACE: namespace },
    secrets: [],
    dependsOn: { 'temporal-namespace': 'service_completed_successfully' },
    oneShot: true,
  },
  {
    name: 'simulator',
    roles: ['simulator'],
    command: ['simulator'],
    listens: 'simulator',
    env: {},
    secrets: [],
    dependsOn: {},
    health: { kind: 'http', path: '/__simulator/stats', status: 200, port: 'service' },
  },
  {
    name: 'codec-server',
    roles: ['codec-server'],
    command: ['codec-server'],
    listens: 'codec-server',
    env: {
      NETCHECK_ENCRYPTION_KEYS_FILE: secret('encryption-keys'),
      NETCHECK_CODEC_NAMESPACES: namespace,
      NETCHECK_CODEC_UI_ORIGINS: { ref: 'uiOrigins' },
    },
    secrets: ['encryption-keys'],
    dependsOn: {},
    // A preflight without an Origin: 204 once it serves (every other answer needs a namespace).
    health: { kind: 'http', path: '/decode', method: 'OPTIONS', status: 204, port: 'service' },
  },
  {
    name: 'worker',
    roles: ['worker'],
    command: ['worker'],
    env: {
      TEMPORAL_ADDRESS: temporal,
      TEMPORAL_NAMESPACE: namespace,
      NETCHECK_TASK_QUEUE: taskQueue,
      NETCHECK_ENCRYPTION_KEYS_FILE: secret('encryption-keys'),
      VONAGE_APPLICATION_ID: { ref: 'applicationId' },
      VONAGE_API_BASE_URL: { ref: 'simulatorUrl' },
      VONAGE_PRIVATE_KEY_PATH: { ref: 'simulatorKey' },
      // Plain http to the bundled simulator, by this opt-in alone (the worker says so at start).
      NETCHECK_SIMULATOR_HOST: { ref: 'simulatorHost' },
    },
    secrets: ['encryption-keys'],
    dependsOn: { 'netcheck-setup': 'service_completed_successfully', simulator: 'service_healthy' },
    // The image's NETCHECK_HEALTH_PORT serves it; polling = ready.
    health: { kind: 'http', path: '/readyz', status: 200, port: 'health' },
  },
  {
    name: 'netcheck',
    roles: ['cli', 'client'],
    // Lists the commands; `docker compose run --rm netcheck batch …` gives it one.
    command: ['--help'],
    env: {
      TEMPORAL_ADDRESS: temporal,
      TEMPORAL_NAMESPACE: namespace,
      NETCHECK_TASK_QUEUE: taskQueue,
      NETCHECK_ENCRYPTION_KEYS_FILE: secret('encryption-keys'),
      NETCHECK_SUBJECT_KEY_FILE: secret('subject-key'),
    },
    secrets: ['encryption-keys', 'subject-key'],
    dependsOn: { worker: 'service_healthy' },
    onDemand: true,
  },
];

/** The simulator's application id: not a secret (the simulator accepts any key it generated). */
export const SIMULATOR_APPLICATION_ID = '6b5e0f24-5d1e-4c43-9a3c-1d0f8c6f2a10';
/** File name of the private key the simulator writes into its state folder (simulator/cli.ts keySetup). */
export const SIMULATOR_KEY_FILE = 'simulator-private-key.pem';

export interface Resolver {
  temporal: string;
  namespace: string;
  taskQueue: string;
  simulatorUrl: string;
  simulatorHost: string;
  simulatorKey: string;
  applicationId: string;
  uiOrigins: string;
  secret(name: SecretName): string;
}

/** A service's environment with every reference resolved by one side. */
export function resolveEnv(service: NetcheckService, resolver: Resolver): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries<Value>(service.env)) {
    out[name] =
      typeof value === 'string'
        ? value
        : value.ref === 'secret'
          ? resolver.secret(value.secret)
          : resolver[value.ref];
  }
  return out;
}

export function serviceNamed(name: string): NetcheckService {
  const service = NETCHECK_SERVICES.find((s) => s.name === name);
  if (!service) throw new Error(`no netcheck service ${name} in the topology`);
  return service;
}

/** Where a listening service listens, and the simulator's state folder, on one side. */
export interface Listen {
  host: string;
  port: number;
  /** The simulator's state folder (its key pair). */
  stateDir?: string;
}

/** The `netcheck …` arguments of a service: its command, then where it listens (both sides alike). */
export function serviceArgs(service: NetcheckService, listen?: Listen): string[] {
  const args = [...service.command];
  if (!service.listens) return args;
  if (!listen) throw new Error(`${service.name} listens: say where`);
  args.push('--host', listen.host, '--port', String(listen.port));
  if (service.listens === 'simulator') {
    args.push('--app-id', SIMULATOR_APPLICATION_ID, '--state-dir', listen.stateDir ?? '.netcheck');
  }
  return args;
}
