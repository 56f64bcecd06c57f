/**
 * Every workflow the netcheck worker runs. Read network-check.ts first (the whole flow of one
 * check; its CIBA rules are the policy in domain/ciba-flow.ts), then batch.ts (many checks,
 * bounded and paged).
 */
export { networkCheck } from './network-check.js';
export { networkAssess } from './assess.js';
export { batchCheck, batchResultPage, addPageUpdate, batchProgressQuery } from './batch.js';
export { statusQuery } from './queries.js';
export { rateLimiter, leaseUpdate } from './rate-limiter.js';
