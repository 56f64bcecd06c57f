/**
 * netcheck, the library (`import … from 'netcheck'`): the client API (one check, batches), the
 * Temporal plugin for your own workers, the errors and the types.
 *
 * Importing it does not load @temporalio/worker's native bridge. The standalone worker is in
 * 'netcheck/worker'; test doubles (the simulator, a test worker) in 'netcheck/testing'.
 */
export * from './client/index.js';
export {
  BatchClosedError,
  BatchConflictError,
  BatchTooLargeError,
  getBatch,
  startBatch,
  type BatchHandle,
  type StartBatchOptions,
} from './client/batch.js';
export {
  assessNumber,
  DEFAULT_ASSESS_API,
  loadPolicy,
  resolveAssessRequest,
  startAssess,
  startAssessBatch,
  type AssessHandle,
  type AssessItem,
  type PolicySource,
  type StartAssessBatchOptions,
  type StartAssessOptions,
} from './client/assess.js';
export type * from './domain/batch.js';
export { causeChain } from './domain/errors.js';
export {
  NetcheckPlugin,
  netcheckPlugin,
  netcheckWorkflowsPath,
  type NetcheckPluginOptions,
} from './worker/plugin.js';
export { loadConfig, type NetcheckConfig, type VonageConfig } from './worker/config.js';
