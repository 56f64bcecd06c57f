/**
 * The worker side of netcheck: the plugin for any Temporal worker, the configuration from the
 * environment, and the standalone worker built from both.
 */
export {
  composeDataConverter,
  NetcheckPlugin,
  netcheckPlugin,
  netcheckWorkflowsPath,
  searchAttributesReported,
  type NetcheckPluginOptions,
} from './plugin.js';
export {
  ConfigurationError,
  DEFAULT_API_BASE_URL,
  DEFAULT_TASK_QUEUE,
  loadConfig,
  loadPrivateKeyFromEnv,
  parsePrivateKey,
  type NetcheckConfig,
  type VonageConfig,
} from './config.js';
export { connectClient, connectWorker, temporalConnectConfig } from './connection.js';
export { createNetcheckWorker, runWorker } from './main.js';
export { assembleWorker, type AssembleWorkerOptions } from './assemble.js';
export {
  locateWorkflowCode,
  type LocateOptions,
  type WorkflowCode,
  type WorkflowCodeFrom,
} from './workflow-path.js';
export { netcheckBundlerPlugin } from './bundle.js';
export { redactingLogger, redactLogMeta } from './logging.js';
export { installWorkerRuntime, type RuntimeSettings } from './metrics.js';
