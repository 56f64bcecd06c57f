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

export interface TemporalConnectConfig {
  /** Address, TLS (server CA, client certificate and key), API key, gRPC metadata. */
  connectionOptions: ClientConnectConfig['connectionOptions'];
  /** TEMPORAL_NAMESPACE or the profile's namespace, else "default". */
  namespace: string;
}

/** Where and how to connect, from the environment and the profile it names. */
export function temporalConnectConfig(options: LoadClientProfileOptions = {}): TemporalConnectConfig {
  const { connectionOptions, namespace } = loadClientConnectConfig(options);
  return { connectionOptions, namespace: namespace ?? 'default' };
}

/** A Temporal client connected as the environment says (see temporalConnectConfig). */
export async function connectClient(options: LoadClientProfileOptions = {}): Promise<Client> {
  const { connectionOptions, namespace } = temporalConnectConfig(options);
  // Encrypts payloads with NETCHECK_ENCRYPTION_KEYS(_FILE) when set, like the workers; a bad key
  // ring fails before connecting.
  const dataConverter = dataConverterFromEnv();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace, dataConverter });
}
