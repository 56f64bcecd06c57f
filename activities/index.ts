/**
 * netcheck's Temporal activities: every HTTP call to Vonage. Built by a factory from injected
 * dependencies (application id, private key, base URL, HTTP options), so the worker, the tests
 * and the benchmark all get the same functions.
 *
 * ```ts
 * const vonage = createVonageClient({ applicationId, privateKey, baseUrl });
 * const worker = await Worker.create({ activities: createActivities(vonage), ... });
 * await worker.run();
 * await vonage.close();
 * ```
 */
import { CAMARA_OPERATIONS } from '../domain/index.js';
import type { NetcheckActivities as ActivityContract } from '../domain/index.js';
import type { BulkActivities } from '../domain/bulk.js';
import type { AssessActivities } from '../domain/assess.js';
import { makeAssessInsights } from './assess-insights.js';
import { makeAuthorize } from './authorize.js';
import { makeBulkChunk } from './bulk.js';
import { makeCheck } from './checks.js';
import { createVonageClient, isVonageClient, type ActivityDeps, type VonageClient } from './client.js';
import { withHeartbeat } from './context.js';
import { makeIdentityInsights } from './identity-insights.js';
import { makePollToken } from './token.js';
import { createCamaraClient } from './profiles/camara.js';

export {
  createVonageClient,
  DEFAULT_BASE_URL,
  DEFAULT_IDENTITY_INSIGHTS_PATH,
  isVonageClient,
} from './client.js';
export type { ActivityDeps, VonageClient } from './client.js';
export { HTTP_DEFAULTS, type HttpObserver, type HttpOptions } from './http.js';
export { createTokenSealer, type SealContext, type TokenSealer } from './seal.js';

/** Every step of `steps`, heartbeating while it runs remotely (the same names, the same types). */
function eachWithHeartbeat<T extends Record<string, (...args: never[]) => Promise<unknown>>>(steps: T): T {
  return Object.fromEntries(
    Object.entries(steps).map(([name, step]) => [
      name,
      withHeartbeat(step as (...args: unknown[]) => Promise<unknown>),
    ]),
  ) as unknown as T;
}

/**
 * The activities, by the names workflows call them (`OPERATIONS[op].activity` for the checks),
 * plus `close()`, which closes the client's HTTP pools (call it on worker shutdown). `close` is
 * non-enumerable: handing the whole object to `Worker.create({ activities })` does not register
 * it as an activity, and `const { close, ...activities } = createActivities(deps)` works too.
 */
export function createActivities(deps: ActivityDeps | VonageClient) {
  const client = isVonageClient(deps)
    ? deps
    : deps.camara
      ? createCamaraClient({ ...deps, camara: deps.camara })
      : createVonageClient(deps);
  const steps = {
    authorize: makeAuthorize(client),
    pollToken: makePollToken(client),
    [CAMARA_OPERATIONS['sim-swap'].activity]: makeCheck(client, 'sim-swap'),
    [CAMARA_OPERATIONS['sim-swap-date'].activity]: makeCheck(client, 'sim-swap-date'),
    [CAMARA_OPERATIONS['device-connectivity'].activity]: makeCheck(client, 'device-connectivity'),
    [CAMARA_OPERATIONS['device-roaming'].activity]: makeCheck(client, 'device-roaming'),
    identityInsights: makeIdentityInsights(client),
  } satisfies ActivityContract;
  // Every step heartbeats while it runs remotely (activities/context.ts), so a worker that dies is
  // noticed within the workflow's short heartbeat timeout, not the start-to-close one.
  const heartbeating = eachWithHeartbeat(steps) satisfies ActivityContract;
  // Bulk mode: chunks of whole flows made of the same steps, in process (activities/bulk.ts); a
  // chunk heartbeats its own progress, so it calls the plain steps.
  // Assessments over Identity Insights: one request for every signal a policy needs.
  const activities = {
    ...heartbeating,
    bulkChunk: makeBulkChunk(steps),
    assessInsights: withHeartbeat(makeAssessInsights(client)),
  } satisfies ActivityContract & BulkActivities & AssessActivities;
  Object.defineProperty(activities, 'close', { value: () => client.close(), enumerable: false });
  return activities as typeof activities & { readonly close: () => Promise<void> };
}

export type NetcheckActivities = ReturnType<typeof createActivities>;
