/**
 * The activities against the project's Vonage-compatible simulator (simulator/): the full CIBA
 * flow (authorize → pollToken until a token → check) for each operation, with the simulator's
 * own checks of our wire behaviour (JWT, `+` encoding, token used for its number and scope).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, createVonageClient, type NetcheckActivities } from '../../activities/index.js';
import {
  CAMARA_OPERATIONS,
  scopeFor,
  type Authorization,
  type CamaraOperation as Operation,
  type PollOutcome,
} from '../../domain/index.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { failureOf } from './helpers.js';
import { makeKeys } from '../support/keys.js';

const { privateKey, publicKey } = makeKeys();
const applicationId = randomUUID();

const KNOWN = '+447700900101';
const SWAPPED_LONG_AGO = '+447700900102';
const DENIED = '+447700900103';
const UNKNOWN = '+447700900104';
const LIMITED = '+447700900105';

const scenarios = {
  numbers: {
    [KNOWN]: {
      pendingPolls: 1,
      lastSimChangeHoursAgo: 10,
      connectivity: 'CONNECTED_SMS' as const,
      roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
    },
    [SWAPPED_LONG_AGO]: { lastSimChange: '2019-08-24T14:15:22Z', connectivity: 'NOT_CONNECTED' as const },
    [DENIED]: { denied: true },
    [UNKNOWN]: { unknown: true },
    [LIMITED]: {
      faults: [{ endpoint: 'camara' as const, status: 429, code: 'TOO_MANY_REQUESTS', retryAfter: 2 }],
    },
  },
};

let sim: Simulator;
let acts: NetcheckActivities;

beforeAll(async () => {
  sim = await startSimulator({ applicationId, publicKey, port: 0, interval: 0, expiresIn: 30, scenarios });
  acts = createActivities(createVonageClient({ applicationId, privateKey, baseUrl: sim.url }));
});
afterAll(async () => {
  await acts.close();
  await sim.close();
});

/** authorize, then poll (honouring `interval`) until the simulator hands out a token. */
async function authorizeAndPoll(
  activities: NetcheckActivities,
  operation: Operation,
  msisdn: string,
  correlationId: string,
): Promise<{ authorization: Authorization; outcomes: PollOutcome['outcome'][]; sealedToken: string }> {
  const authorization = await activities.authorize({ msisdn, scope: scopeFor(operation), correlationId });
  const outcomes: PollOutcome['outcome'][] = [];
  for (let poll = 0; poll < 10; poll++) {
    await new Promise((resolve) => setTimeout(resolve, authorization.interval * 1000));
    const outcome = await activities.pollToken({
      authReqId: authorization.authReqId,
      correlationId,
      operation,
      msisdn,
    });
    outcomes.push(outcome.outcome);
    if (outcome.outcome === 'token') return { authorization, outcomes, sealedToken: outcome.sealedToken };
    expect(outcome.outcome).toBe('pending');
  }
  throw new Error('no token after 10 polls');
}

async function runCheck(operation: Operation, msisdn: string, maxAge?: number): Promise<unknown> {
  const correlationId = randomUUID();
  const { sealedToken } = await authorizeAndPoll(acts, operation, msisdn, correlationId);
  return acts[CAMARA_OPERATIONS[operation].activity]({
    operation,
    msisdn,
    correlationId,
    sealedToken,
    maxAge,
  });
}

describe('activities against the simulator', () => {
  it('authorize → pending → token → check, for every operation', async () => {
    const correlationId = randomUUID();
    const { authorization, outcomes, sealedToken } = await authorizeAndPoll(
      acts,
      'sim-swap',
      KNOWN,
      correlationId,
    );
    expect(authorization).toMatchObject({ expiresIn: 30, interval: 0 });
    expect(outcomes).toEqual(['pending', 'token']);
    await expect(
      acts.checkSimSwap({ operation: 'sim-swap', msisdn: KNOWN, correlationId, sealedToken, maxAge: 240 }),
    ).resolves.toEqual({ swapped: true });

    await expect(runCheck('sim-swap', KNOWN, 5)).resolves.toEqual({ swapped: false });
    await expect(runCheck('sim-swap-date', SWAPPED_LONG_AGO)).resolves.toEqual({
      latestSimChange: '2019-08-24T14:15:22Z',
    });
    await expect(runCheck('device-connectivity', KNOWN)).resolves.toEqual({
      connectivityStatus: 'CONNECTED_SMS',
    });
    await expect(runCheck('device-connectivity', SWAPPED_LONG_AGO)).resolves.toEqual({
      connectivityStatus: 'NOT_CONNECTED',
    });
    await expect(runCheck('device-roaming', KNOWN)).resolves.toEqual({
      roaming: true,
      countryCode: 262,
      countryName: ['DE'],
    });
  });

  it('the simulator saw no protocol violation and accepted every JWT', () => {
    const stats = sim.stats();
    expect(
      Object.values(stats.violations).every((n) => n === 0),
      JSON.stringify(stats.violations),
    ).toBe(true);
    for (const [endpoint, byStatus] of Object.entries(stats.requests)) {
      expect(
        Object.keys(byStatus).filter((s) => s === '401'),
        endpoint,
      ).toEqual([]);
    }
  });

  it('maps the simulator’s refusals to netcheck codes', async () => {
    const denied = await failureOf(authorizeAndPoll(acts, 'sim-swap', DENIED, randomUUID()));
    expect(denied.type).toBe('ACCESS_DENIED');

    const unknown = await failureOf(runCheck('device-roaming', UNKNOWN));
    expect(unknown.type).toBe('UNKNOWN_NUMBER');

    const limited = await failureOf(runCheck('sim-swap', LIMITED, 240));
    expect(limited).toMatchObject({ type: 'RATE_LIMITED', nonRetryable: false, nextRetryDelay: 2000 });

    // A token from one check is refused by the simulator for another number: sealing stops it earlier.
    const correlationId = randomUUID();
    const { sealedToken } = await authorizeAndPoll(acts, 'device-roaming', KNOWN, correlationId);
    const moved = await failureOf(
      acts.getDeviceRoaming({
        operation: 'device-roaming',
        msisdn: SWAPPED_LONG_AGO,
        correlationId,
        sealedToken,
      }),
    );
    // A sealed token opens only for its own number and run: anything else is treated as a token
    // that no longer works (the workflow authorizes again), never sent to Vonage.
    expect(moved.type).toBe('UNAUTHENTICATED');
  });

  it('a number the operator does not serve (bc-authorize 404) is a configuration error, not an unknown number', async () => {
    sim.addScenarios({ numbers: { '+447700900106': { operatorServes: false } } });
    const failure = await failureOf(authorizeAndPoll(acts, 'device-roaming', '+447700900106', randomUUID()));
    expect(failure.type).toBe('CONFIGURATION');
    expect(failure.message).toContain('POST /oauth2/bc-authorize');
  });

  it('on retired SIM Swap routes every number fails CONFIGURATION naming the road to use, never UNKNOWN_NUMBER', async () => {
    sim.addScenarios({ retiredSimSwap: true });
    try {
      for (const operation of ['sim-swap', 'sim-swap-date'] as const) {
        const failure = await failureOf(
          runCheck(operation, KNOWN, operation === 'sim-swap' ? 240 : undefined),
        );
        expect(failure.type).toBe('CONFIGURATION');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toContain(`POST ${CAMARA_OPERATIONS[operation].path}`);
        expect(failure.message).toMatch(/retired .* on 2025-11-23/);
        expect(failure.message).toMatch(/--api identity-insights/);
      }
      // Device Status over CIBA is still served.
      await expect(runCheck('device-roaming', KNOWN)).resolves.toMatchObject({ roaming: true });
    } finally {
      sim.addScenarios({ retiredSimSwap: false });
    }
  });

  it('reads numeric-string expires_in/interval and a missing interval (→ 5 s)', async () => {
    const stringy = await startSimulator({
      applicationId,
      publicKey,
      port: 0,
      numericStrings: true,
      interval: 0,
    });
    const silent = await startSimulator({
      applicationId,
      publicKey,
      port: 0,
      omitInterval: true,
      expiresIn: 60,
    });
    try {
      const a = createActivities({ applicationId, privateKey, baseUrl: stringy.url });
      const b = createActivities({ applicationId, privateKey, baseUrl: silent.url });
      const input = { msisdn: KNOWN, scope: scopeFor('device-roaming'), correlationId: randomUUID() };
      await expect(a.authorize(input)).resolves.toMatchObject({ expiresIn: 120, interval: 0 });
      await expect(b.authorize(input)).resolves.toMatchObject({ expiresIn: 60, interval: 5 });
      await Promise.all([a.close(), b.close()]);
    } finally {
      await Promise.all([stringy.close(), silent.close()]);
    }
  });
});
