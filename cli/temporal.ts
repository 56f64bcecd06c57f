/** The Temporal client of the CLI commands: envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, profiles). */
import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '../codec/index.js';
import { clientIdentityOption, temporalConnectConfig } from '../common/index.js';

export interface CliClient {
  client: Client;
  namespace: string;
  address: string;
  close(): Promise<void>;
}

/** Temporal could not be reached: the message names the address and how to change it. */
export class TemporalUnreachableError extends Error {
  constructor(address: string, cause: unknown) {
    super(
      `Cannot reach Temporal at ${address} (${cause instanceof Error ? cause.message : String(cause)}).\n` +
        '  Set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE / TEMPORAL_API_KEY for a cloud namespace), ' +
        'or run `netcheck dev` in another shell for a local stack.',
    );
    this.name = 'TemporalUnreachableError';
  }
}

export async function openClient(): Promise<CliClient> {
  const { connectionOptions, namespace } = temporalConnectConfig();
  const address = connectionOptions.address ?? 'localhost:7233';
  const dataConverter = dataConverterFromEnv(); // the workers' key ring: a bad one is exit 2
  const identity = clientIdentityOption(); // NETCHECK_CLIENT_IDENTITY: who started the runs (audit)
  let connection: Connection;
  try {
    connection = await Connection.connect({ connectTimeout: 5_000, ...connectionOptions });
  } catch (err) {
    throw new TemporalUnreachableError(address, err);
  }
  return {
    client: new Client({ connection, namespace, dataConverter, ...identity }),
    namespace,
    address,
    close: () => connection.close(),
  };
}

/** Runs `fn` with a connected client and always closes the connection. */
export async function withClient<T>(fn: (c: CliClient) => Promise<T>): Promise<T> {
  const c = await openClient();
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}
