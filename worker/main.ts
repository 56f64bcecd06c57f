/**
 * The standalone netcheck worker: configuration from the environment, the Temporal connection
 * from envconfig, and the same plugin an existing worker would add. SIGINT/SIGTERM stop it
 * gracefully (Temporal's runtime drains in-flight tasks before run() resolves).
 */
import { Worker } from '@temporalio/worker';
import { loadConfig, type NetcheckConfig } from './config.js';
import { connectWorker } from './connection.js';
import { netcheckPlugin } from './plugin.js';
import { prebuiltBundleOptions } from './bundle.js';

export async function createNetcheckWorker(config: NetcheckConfig = loadConfig()): Promise<Worker> {
  const { connection, namespace } = await connectWorker();
  return Worker.create({
    connection,
    namespace,
    taskQueue: config.taskQueue,
    plugins: [netcheckPlugin(config)], // config.rateLimit → the queue's activity rate
    ...prebuiltBundleOptions(), // NETCHECK_WORKFLOW_BUNDLE or dist/workflow-bundle.js: no bundling at start
    shutdownGraceTime: '20s', // SIGTERM drains: Vonage requests in flight finish (not cancelled and re-sent)
  });
}

export async function runWorker(config: NetcheckConfig = loadConfig()): Promise<void> {
  const worker = await createNetcheckWorker(config);
  console.error(`netcheck worker polling task queue "${config.taskQueue}" (Vonage ${config.baseUrl})`);
  await worker.run();
}
