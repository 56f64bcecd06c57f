/**
 * Workflows of a caller in another namespace that use netcheck through its Nexus service
 * (docs/pipelines.md, "From another namespace"). The caller declares the service by its names and
 * types only: it needs neither netcheck's task queue, nor its workflow ids, nor the subject key.
 * The endpoint (`temporal operator nexus endpoint create`) routes to netcheck's workers.
 */
import { createNexusServiceClient } from '@temporalio/workflow';
import * as nexus from 'nexus-rpc';
import type { BatchProgress } from '../../domain/batch.js';
import type { CheckResult } from '../../domain/types.js';
import type { NexusBatchInput, NexusCheckInput } from '../../worker/nexus.js';

/** The `netcheck` service as netcheck's contract names it (contract/v1/contract.json, "nexus"). */
export const netcheckService = nexus.service('netcheck', {
  check: nexus.operation<NexusCheckInput, CheckResult>(),
  batch: nexus.operation<NexusBatchInput, BatchProgress>(),
});

/** One check; the same `requestId` (or a retry of this operation) is the same check. */
export async function checkViaNexus(endpoint: string, input: NexusCheckInput): Promise<CheckResult> {
  const netcheck = createNexusServiceClient({ endpoint, service: netcheckService });
  return netcheck.executeOperation('check', input, { scheduleToCloseTimeout: '1 hour' });
}

/** A small batch (at most 1,000 items); completes with the batch's summary. */
export async function batchViaNexus(endpoint: string, input: NexusBatchInput): Promise<BatchProgress> {
  const netcheck = createNexusServiceClient({ endpoint, service: netcheckService });
  return netcheck.executeOperation('batch', input, { scheduleToCloseTimeout: '1 hour' });
}
