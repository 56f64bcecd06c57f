/**
 * The Temporal connection of the client API, the CLI and the worker, from @temporalio/envconfig:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, and profiles of a
 * TOML file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE). Only @temporalio/client here: the worker
 * side (NativeConnection) lives in worker/connection.ts.
 */
import {
  loadClientConnectConfig,
  type ClientConnectConfig,
  type LoadClientProfileOptions,
} from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '../codec/index.js';
import { readSecret } from './settings.js';
import { clientIdentityOption } from './identity.js';

export interface TemporalConnectConfig {
  /** Address, TLS (server CA, client certificate and key), API key, gRPC metadata. */
  connectionOptions: ClientConnectConfig['connectionOptions'];
  /** TEMPORAL_NAMESPACE or the profile's namespace, else "default". */
  namespace: string;
}

/** Where and how to connect, from the environment and the profile it names. */
export function temporalConnectConfig(options: LoadClientProfileOptions = {}): TemporalConnectConfig {
  const { connectionOptions, namespace } = loadClientConnectConfig(withApiKeyFile(options));
  return { connectionOptions, namespace: namespace ?? 'default' };
}

/**
 * TEMPORAL_API_KEY_FILE (netcheck's, beside envconfig's TEMPORAL_API_KEY): the key read from the
 * file and handed to envconfig as if it were TEMPORAL_API_KEY, so it never sits in the environment.
 */
function withApiKeyFile(options: LoadClientProfileOptions): LoadClientProfileOptions {
  const env = options.overrideEnvVars ?? process.env;
  const apiKey = readSecret('TEMPORAL_API_KEY', env);
  if (!apiKey || apiKey.source === 'TEMPORAL_API_KEY') return options;
  const vars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return { ...options, overrideEnvVars: { ...vars, TEMPORAL_API_KEY: apiKey.value } };
}

/** A Temporal client connected as the environment says (see temporalConnectConfig). */
export async function connectClient(options: LoadClientProfileOptions = {}): Promise<Client> {
  const { connectionOptions, namespace } = temporalConnectConfig(options);
  // Encrypts payloads with NETCHECK_ENCRYPTION_KEYS(_FILE) when set, like the workers; a bad key
  // ring, an empty key variable, or keys with NETCHECK_ENCRYPTION=off fail before connecting.
  // Without keys, startCheck/startBatch refuse task queues whose workers encrypt (codec/policy.ts).
  const dataConverter = dataConverterFromEnv();
  const connection = await Connection.connect(connectionOptions);
  // NETCHECK_CLIENT_IDENTITY: who starts the runs, as the audit export shows it.
  return new Client({ connection, namespace, dataConverter, ...clientIdentityOption() });
}
