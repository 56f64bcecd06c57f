/**
 * The worker's Temporal connection (a NativeConnection), configured like the client's: from
 * @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles).
 */
import type { LoadClientProfileOptions } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { temporalConnectConfig } from '../common/index.js';

export { connectClient, temporalConnectConfig } from '../common/index.js';

export async function connectWorker(
  options: LoadClientProfileOptions = {},
): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = temporalConnectConfig(options);
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}
