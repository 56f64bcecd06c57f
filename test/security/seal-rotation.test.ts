/**
 * A sealed access token whose key is gone (the worker's Vonage key was rotated while a check
 * waited) does not fail the run: the check activity answers UNAUTHENTICATED, and the workflow
 * authorizes once more and finishes with a token sealed by the new key. Against the run's dev
 * server and simulator; the "rotation" swaps only the sealing key, so the simulator still
 * trusts the application JWTs.
 */
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createActivities,
  createTokenSealer,
  createVonageClient,
  type VonageClient,
} from '../../activities/index.js';
import { checkNumber } from '../../client/index.js';
import type { PollTokenInput } from '../../domain/index.js';
import { makeKeys } from '../activities/helpers.js';
import { activityType } from '../../domain/activity-names.js';
import {
  addScenarios,
  connectTestEnv,
  uniqueNumber,
  uniqueTaskQueue,
  type TestEnv,
} from '../support/harness.js';

const subjectKey = 'seal-rotation-test-subject-key-32-bytes!';

describe('a sealing key rotated while a check waits', () => {
  let env: TestEnv;
  let vonage: VonageClient;
  beforeAll(async () => {
    env = await connectTestEnv();
    vonage = createVonageClient(env.vonage);
  });
  afterAll(async () => {
    await vonage?.close();
    await env?.close();
  });

  /** A worker whose token polls seal with the old key for the first `oldPolls` polls; its checks open with the new key only. */
  async function run(oldPolls: number) {
    const rotated: VonageClient = { ...vonage, sealer: createTokenSealer(makeKeys().privateKey) };
    const before = createActivities(vonage);
    const after = createActivities(rotated);
    let polls = 0;
    const taskQueue = uniqueTaskQueue('rotation');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      // Registered under the types new runs schedule (netcheck.<name>), as the plugin does.
      activities: Object.fromEntries(
        Object.entries({
          ...after,
          pollToken: (input: PollTokenInput) => (++polls <= oldPolls ? before : after).pollToken(input),
        }).map(([name, fn]) => [activityType(name), fn]),
      ),
    });
    const msisdn = uniqueNumber();
    await addScenarios(env.simulatorUrl, {
      numbers: { [msisdn]: { interval: 0.2, lastSimChangeHoursAgo: 5 } },
    });
    return worker.runUntil(
      checkNumber(env.client, { msisdn, operation: 'sim-swap', maxAge: 24 }, { taskQueue, subjectKey }),
    );
  }

  it('re-authorizes once and succeeds instead of failing the run', async () => {
    const result = await run(1);
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true }, authorizations: 2 });
  });

  it('when every token is sealed with the old key, the check fails as UNAUTHENTICATED (a result, not a failed run)', async () => {
    const result = await run(Infinity);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'UNAUTHENTICATED' }, authorizations: 2 });
    expect(result.error?.message).toMatch(/a rotated key/);
  });
});
