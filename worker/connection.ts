/** The Temporal connection, from @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles). */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFromEnv } from '../codec/data-converter.js';

export function temporalConnectConfig() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return { connectionOptions, namespace: namespace ?? 'default' };
}

export async function connectWorker(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = temporalConnectConfig();
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}

/** A client from the environment; it encrypts payloads with NETCHECK_ENCRYPTION_KEYS(_FILE) when set, like the workers. */
export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = temporalConnectConfig();
  const dataConverter = dataConverterFromEnv(); // a bad key ring fails before connecting
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace, dataConverter });
}
