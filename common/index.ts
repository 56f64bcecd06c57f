/** What the client API, the worker and the CLI share (no @temporalio/worker here). */
export * from './config.js';
export * from './connection.js';
export * from './identity.js';
