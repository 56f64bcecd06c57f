export * from './errors.js';
export * from './msisdn.js';
export * from './redact.js';
export * from './operations.js';
export type * from './types.js';
export * from './search-attributes.js';
export * from './validate.js';
export type * from './batch.js';
