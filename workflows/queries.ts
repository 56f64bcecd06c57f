/** Queries the client may send to running workflows. */
import { defineQuery } from '@temporalio/workflow';
import type { CheckProgress } from '../domain/types.js';

/** Where a networkCheck run is: phase, polls so far, next poll time, and the result once done. */
export const statusQuery = defineQuery<CheckProgress>('status');
