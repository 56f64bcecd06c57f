/**
 * The standalone netcheck worker: configuration from the environment, the Temporal connection
 * from envconfig, and the same plugin an existing worker would add. SIGINT/SIGTERM stop it
 * gracefully (Temporal's runtime drains in-flight tasks before run() resolves).
 */
import { Worker } from '@temporalio/worker';
import { keylessDataConverter } from '../codec/data-converter.js';
import { loadConfig, type NetcheckConfig } from './config.js';
import { connectWorker } from './connection.js';
import { netcheckPlugin } from './plugin.js';

/** Printed once by a worker without encryption keys. */
export const CLEARTEXT_WARNING =
  'netcheck: warning: no NETCHECK_ENCRYPTION_KEYS: phone numbers and results are stored in the clear in ' +
  'Temporal workflow histories. Set a key ring on every worker and client (see docs/security.md; `netcheck keygen` makes a key).';

export async function createNetcheckWorker(config: NetcheckConfig = loadConfig()): Promise<Worker> {
  const { connection, namespace } = await connectWorker();
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.taskQueue,
    plugins: [netcheckPlugin(config)], // config.rateLimit → the queue's activity rate
    // Without keys: a clear error for encrypted payloads (the plugin encrypts when keys are set).
    ...(config.encryption ? {} : { dataConverter: keylessDataConverter() }),
  });
}

export async function runWorker(config: NetcheckConfig = loadConfig()): Promise<void> {
  const worker = await createNetcheckWorker(config);
  if (!config.encryption) console.error(CLEARTEXT_WARNING);
  console.error(
    `netcheck worker polling task queue "${config.taskQueue}" (Vonage ${config.baseUrl}` +
      `${config.encryption ? `; payloads encrypted with key "${config.encryption.primary}"` : ''})`,
  );
  await worker.run();
}
