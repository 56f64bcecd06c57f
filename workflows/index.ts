/** Every workflow the netcheck worker runs. Read network-check.ts first: it is the whole flow. */
export { networkCheck } from './network-check.js';
export { statusQuery } from './queries.js';
