/**
 * The wire facts the simulator serves (simulator/wire.ts), pinned literally from
 * shared/docs/vonage-network-auth.md §2 (scope table), §4 and §5 (paths), and the client's own
 * table (domain/operations.ts) checked against them: the two are written separately, so a
 * wrong path or scope on either side fails here and against the simulator.
 */
import { describe, expect, it } from 'vitest';
import * as clientOperations from '../../domain/operations.js';
import {
  CAMARA_OPERATION_NAMES,
  CAMARA_OPERATIONS,
  cibaScope,
  SIM_SWAP_MAX_AGE,
} from '../../simulator/wire.js';
import { scopeFor, TestSim } from './helpers.js';

const DOCUMENTED = {
  'sim-swap': {
    path: '/camara/sim-swap/v040/check',
    scope: 'openid dpv:FraudPreventionAndDetection#check-sim-swap',
  },
  'sim-swap-date': {
    path: '/camara/sim-swap/v040/retrieve-date',
    scope: 'openid dpv:FraudPreventionAndDetection#retrieve-sim-swap-date',
  },
  'device-connectivity': {
    path: '/camara/device-status/v050/connectivity',
    scope: 'openid dpv:NotApplicable#device-status:connectivity:read',
  },
  'device-roaming': {
    path: '/camara/device-status/v050/roaming',
    scope: 'openid dpv:NotApplicable#device-status:roaming:read',
  },
} as const;

describe('the simulator wire facts', () => {
  it('are the documented paths and scopes, one purpose per api-scope', () => {
    expect([...CAMARA_OPERATION_NAMES].sort()).toEqual(Object.keys(DOCUMENTED).sort());
    for (const op of CAMARA_OPERATION_NAMES) {
      expect({ op, path: CAMARA_OPERATIONS[op].path, scope: cibaScope(op) }).toEqual({
        op,
        ...DOCUMENTED[op],
      });
      expect(CAMARA_OPERATIONS[op].purposes).toHaveLength(1);
    }
  });

  it('bound maxAge to 1–2400 h, default 240', () => {
    expect(SIM_SWAP_MAX_AGE).toEqual({ minimum: 1, maximum: 2400, default: 240 });
  });

  it('are what the simulator routes and accepts', async () => {
    const t = await TestSim.start();
    try {
      for (const op of CAMARA_OPERATION_NAMES) {
        const auth = await t.bcAuthorize({ login_hint: '+447700900000', scope: DOCUMENTED[op].scope });
        expect(auth.status).toBe(200);
        const token = (await t.poll(auth.json.auth_req_id as string)).json.access_token as string;
        const body = op.startsWith('sim-swap')
          ? { phoneNumber: '+447700900000' }
          : { device: { phoneNumber: '+447700900000' } };
        const res = await fetch(`${t.url}${DOCUMENTED[op].path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        // An unlisted number: routed, authorized, and unknown to the operator.
        expect(res.status).toBe(404);
      }
      expect(scopeFor('sim-swap')).toBe(DOCUMENTED['sim-swap'].scope);
    } finally {
      await t.close();
    }
  });
});

describe("the client's table (domain/operations.ts)", () => {
  it.each(CAMARA_OPERATION_NAMES)('%s: agrees with the simulator on path, purpose and api-scope', (op) => {
    const facts = CAMARA_OPERATIONS[op];
    const client = clientOperations.CAMARA_OPERATIONS[op];
    expect({
      path: client.path,
      purpose: clientOperations.defaultPurpose(op, 'camara'),
      apiScope: client.apiScope,
    }).toEqual({ path: facts.path, purpose: facts.purposes[0], apiScope: facts.apiScope });
  });

  it('bounds maxAge like the simulator', () => {
    expect([
      clientOperations.MAX_AGE_MIN,
      clientOperations.MAX_AGE_MAX,
      clientOperations.MAX_AGE_DEFAULT,
    ]).toEqual([SIM_SWAP_MAX_AGE.minimum, SIM_SWAP_MAX_AGE.maximum, SIM_SWAP_MAX_AGE.default]);
  });
});
