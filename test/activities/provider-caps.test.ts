/**
 * Caps on the provider's timing (issue 21, item 4): a bc-authorize answer whose `expires_in` is
 * above an hour, or whose `interval` is above 5 minutes or above `expires_in`, is a final
 * PROTOCOL_ERROR — never a wait the provider dictates. Against a scripted server (the edges) and
 * against the simulator configured with the absurd values.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, createVonageClient, type NetcheckActivities } from '../../activities/index.js';
import { MAX_EXPIRES_IN_SECONDS, MAX_INTERVAL_SECONDS } from '../../domain/ciba.js';
import { scopeFor } from '../../domain/index.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { failureOf, makeKeys, useScriptedActivities } from './helpers.js';

const keys = makeKeys();
const input = { msisdn: '+447700900001', scope: scopeFor('sim-swap'), correlationId: 'corr-caps' };
const scripted = useScriptedActivities({ privateKey: keys.privateKey });

describe('bc-authorize: caps on expires_in and interval', () => {
  it.each([
    ['interval 1e12', { auth_req_id: 'r', expires_in: 120, interval: 1e12 }, 'interval'],
    ['expires_in 1e15', { auth_req_id: 'r', expires_in: 1e15, interval: 2 }, 'expires_in'],
    ['both absurd, as numeric strings', { auth_req_id: 'r', expires_in: '1000000000000000' }, 'expires_in'],
    ['expires_in one second over the cap', { auth_req_id: 'r', expires_in: 3601 }, 'expires_in'],
    ['interval one second over the cap', { auth_req_id: 'r', expires_in: 3600, interval: 301 }, 'interval'],
    ['interval above expires_in', { auth_req_id: 'r', expires_in: 10, interval: 11 }, 'interval'],
    [
      'interval above expires_in, as strings',
      { auth_req_id: 'r', expires_in: '10', interval: '30' },
      'interval',
    ],
  ])('%s is a final PROTOCOL_ERROR naming the field', async (_name, body, field) => {
    scripted.server.reply({ body });
    const failure = await failureOf(scripted.acts.authorize(input));
    expect(failure.type).toBe('PROTOCOL_ERROR');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${field}:`);
    // One request: a capped answer is not retried inside the activity either.
    expect(scripted.server.requests).toHaveLength(1);
  });

  it.each([
    [{ auth_req_id: 'r', expires_in: MAX_EXPIRES_IN_SECONDS, interval: MAX_INTERVAL_SECONDS }],
    [{ auth_req_id: 'r', expires_in: 5, interval: 5 }],
    // No interval: CIBA's default 5 s applies even past a short expires_in (the provider asked for no wait).
    [{ auth_req_id: 'r', expires_in: 3 }],
  ])('the caps themselves are accepted: %j', async (body) => {
    scripted.server.reply({ body });
    const auth = await scripted.acts.authorize(input);
    expect(auth.expiresIn).toBe(body.expires_in);
  });
});

describe('bc-authorize against the simulator with absurd timing', () => {
  const applicationId = randomUUID();
  const LONG_INTERVAL = '+447700900301';
  const LONG_EXPIRY = '+447700900302';
  let sim: Simulator;
  let acts: NetcheckActivities;

  beforeAll(async () => {
    sim = await startSimulator({
      applicationId,
      publicKey: keys.publicKey,
      port: 0,
      scenarios: {
        numbers: {
          [LONG_INTERVAL]: { interval: 1e12, expiresIn: 1e15 },
          [LONG_EXPIRY]: { interval: 2, expiresIn: 1e15 },
        },
      },
    });
    acts = createActivities(
      createVonageClient({ applicationId, privateKey: keys.privateKey, baseUrl: sim.url }),
    );
  });
  afterAll(async () => {
    await acts?.close();
    await sim?.close();
  });

  it.each([
    ['interval 1e12 and expires_in 1e15', LONG_INTERVAL],
    ['expires_in 1e15', LONG_EXPIRY],
  ])('%s: PROTOCOL_ERROR, no authorization to wait on', async (_name, msisdn) => {
    const failure = await failureOf(acts.authorize({ ...input, msisdn }));
    expect(failure.type).toBe('PROTOCOL_ERROR');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/expires_in: expected at most 3600 seconds/);
  });
});
