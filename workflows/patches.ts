/**
 * The patch ids of netcheck's workflows. The list itself, with when each id came and when it may
 * move to `deprecatePatch`, is domain/patches.ts: the batch state machine in domain/ asks some
 * of them too, and the worker's activities load that state machine without any workflow module
 * (a worker running from a prebuilt bundle ships no workflows/). Workflows import their ids here.
 */
export * from '../domain/patches.js';
