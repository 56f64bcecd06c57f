/**
 * The `camara` operator profile, activities against the simulator's `camara` profile over real
 * HTTP: OIDC discovery, private_key_jwt client assertions, the scope `openid dpv:<Purpose>
 * <api-scope>`, SIM Swap 2.1.0 and Device Reachability/Roaming Status 1.1.0 bodies brought to
 * each operation's one result shape, and each error code of the current releases in the taxonomy.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type NetcheckActivities } from '../../activities/index.js';
import {
  CLIENT_ASSERTION_TYPE,
  createCamaraClient,
  createClientAssertionMinter,
} from '../../activities/profiles/camara.js';
import { CAMARA_OPERATIONS, errorCodeOf, type CamaraOperation } from '../../domain/index.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { failureOf } from '../activities/helpers.js';
import { makeKeys } from '../support/keys.js';

const { privateKey, publicKey } = makeKeys();
const clientId = randomUUID();
const keyId = 'netcheck-test-key';

const KNOWN = '+447700900201';
const NEVER_SWAPPED = '+447700900202';
const UNKNOWN = '+447700900203';
const OFFLINE = '+447700900204';
/** One number per scripted CAMARA error (the code the operator answers its check with). */
const SCRIPTED = {
  SERVICE_NOT_APPLICABLE: { msisdn: '+447700900211', status: 422, expected: 'NOT_SUPPORTED' },
  MISSING_IDENTIFIER: { msisdn: '+447700900212', status: 422, expected: 'INVALID_ARGUMENT' },
  UNSUPPORTED_IDENTIFIER: { msisdn: '+447700900213', status: 422, expected: 'INVALID_ARGUMENT' },
  UNNECESSARY_IDENTIFIER: { msisdn: '+447700900214', status: 422, expected: 'INVALID_ARGUMENT' },
  OUT_OF_RANGE: { msisdn: '+447700900215', status: 400, expected: 'INVALID_ARGUMENT' },
  NOT_FOUND: { msisdn: '+447700900216', status: 404, expected: 'CONFIGURATION' },
} as const;

const scenarios = {
  numbers: {
    [KNOWN]: {
      pendingPolls: 1,
      lastSimChangeHoursAgo: 10,
      connectivity: 'CONNECTED_DATA' as const,
      roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
    },
    [NEVER_SWAPPED]: { lastSimChange: null, connectivity: 'CONNECTED_SMS' as const },
    [UNKNOWN]: { unknown: true },
    [OFFLINE]: { connectivity: 'NOT_CONNECTED' as const, roaming: { roaming: false } },
    ...Object.fromEntries(
      Object.entries(SCRIPTED).map(([code, s]) => [
        s.msisdn,
        { faults: [{ endpoint: 'camara' as const, status: s.status, code }] },
      ]),
    ),
  },
};

let sim: Simulator;
let acts: NetcheckActivities;

beforeAll(async () => {
  sim = await startSimulator({
    applicationId: clientId,
    publicKey,
    port: 0,
    interval: 0,
    expiresIn: 30,
    scenarios,
  });
  acts = createActivities({
    applicationId: clientId,
    privateKey,
    baseUrl: sim.url,
    camara: { issuer: sim.url, keyId },
  });
});
afterAll(async () => {
  await acts.close();
  await sim.close();
});

async function tokenFor(operation: CamaraOperation, msisdn: string, correlationId: string) {
  const authorization = await acts.authorize({ msisdn, operation, correlationId });
  for (let poll = 0; poll < 10; poll++) {
    const outcome = await acts.pollToken({
      authReqId: authorization.authReqId,
      correlationId,
      operation,
      msisdn,
    });
    if (outcome.outcome === 'token') return { authorization, sealedToken: outcome.sealedToken };
    expect(outcome.outcome).toBe('pending');
  }
  throw new Error('no token after 10 polls');
}

async function runCheck(operation: CamaraOperation, msisdn: string, maxAge?: number): Promise<unknown> {
  const correlationId = randomUUID();
  const { sealedToken } = await tokenFor(operation, msisdn, correlationId);
  return acts[CAMARA_OPERATIONS[operation].activity]({
    operation,
    msisdn,
    correlationId,
    sealedToken,
    ...(maxAge !== undefined ? { maxAge } : {}),
  });
}

describe('camara profile: activities against the simulator', () => {
  it('authorizes with the profile and API version recorded, and answers every operation in its one shape', async () => {
    const { authorization } = await tokenFor('sim-swap', KNOWN, randomUUID());
    expect(authorization).toMatchObject({ profile: 'camara', apiVersion: '2.1.0' });
    await expect(runCheck('sim-swap', KNOWN, 240)).resolves.toEqual({ swapped: true });
    await expect(runCheck('sim-swap', KNOWN, 5)).resolves.toEqual({ swapped: false });
    await expect(runCheck('sim-swap-date', NEVER_SWAPPED)).resolves.toEqual({
      latestSimChange: null,
      monitoredPeriod: 120,
    });
    const date = (await runCheck('sim-swap-date', KNOWN)) as { latestSimChange: string };
    expect(Date.parse(date.latestSimChange)).toBeGreaterThan(Date.now() - 11 * 3_600_000);
    await expect(runCheck('device-connectivity', KNOWN)).resolves.toEqual({
      connectivityStatus: 'CONNECTED_DATA',
    });
    await expect(runCheck('device-connectivity', NEVER_SWAPPED)).resolves.toEqual({
      connectivityStatus: 'CONNECTED_SMS',
    });
    await expect(runCheck('device-connectivity', OFFLINE)).resolves.toEqual({
      connectivityStatus: 'NOT_CONNECTED',
    });
    await expect(runCheck('device-roaming', KNOWN)).resolves.toEqual({
      roaming: true,
      countryCode: 262,
      countryName: ['DE'],
    });
    await expect(runCheck('device-roaming', OFFLINE)).resolves.toEqual({ roaming: false });
    // The simulator's own checks of our wire behaviour found nothing wrong.
    expect(Object.values(sim.stats().violations).every((n) => n === 0)).toBe(true);
  });

  it('maps 404 IDENTIFIER_NOT_FOUND to UNKNOWN_NUMBER', async () => {
    const failure = await failureOf(runCheck('sim-swap', UNKNOWN));
    expect(errorCodeOf(failure)).toBe('UNKNOWN_NUMBER');
  });

  for (const [code, s] of Object.entries(SCRIPTED)) {
    it(`maps ${s.status} ${code} to ${s.expected}`, async () => {
      const failure = await failureOf(runCheck('sim-swap', s.msisdn));
      expect(errorCodeOf(failure)).toBe(s.expected);
      if (code === 'OUT_OF_RANGE') expect(failure.message).toMatch(/max-age/);
      if (code === 'NOT_FOUND') expect(failure.message).toMatch(/NETCHECK_API_ROOT/);
    });
  }

  it("refuses Identity Insights: it is Vonage's API", async () => {
    const failure = await failureOf(
      acts.identityInsights({ msisdn: KNOWN, operation: 'carrier', correlationId: randomUUID() }),
    );
    expect(errorCodeOf(failure)).toBe('CONFIGURATION');
  });
});

describe('camara profile: client authentication', () => {
  it('mints an assertion per request: kid, iss = sub = client id, aud, fresh jti, at most 300 s', async () => {
    const mint = createClientAssertionMinter(clientId, keyId, privateKey);
    const aud = `${sim.url}/oidc/token`;
    const [a, b] = [await mint(aud), await mint(aud)];
    expect(decodeProtectedHeader(a)).toMatchObject({ alg: 'RS256', kid: keyId });
    const claims = decodeJwt(a);
    expect(claims).toMatchObject({ iss: clientId, sub: clientId, aud });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(decodeJwt(b).jti).not.toBe(claims.jti);
  });

  it('the simulator refuses a reused jti, a long-lived assertion and a wrong audience', async () => {
    const base = (assertion: string) =>
      new URLSearchParams({
        login_hint: `tel:${KNOWN}`,
        scope: 'openid dpv:FraudPreventionAndDetection sim-swap:check',
        client_id: clientId,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
      }).toString();
    const post = (body: string) =>
      fetch(`${sim.url}/oidc/bc-authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const mint = createClientAssertionMinter(clientId, keyId, privateKey);
    const good = await mint(`${sim.url}/oidc/bc-authorize`);
    expect((await post(base(good))).status).toBe(200);
    const reused = await post(base(good));
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ error: 'invalid_client' });
    expect((await post(base(await mint(`${sim.url}/oidc/token`)))).status).toBe(401);
    const late = createClientAssertionMinter(clientId, keyId, privateKey, () => Date.now() + 200_000);
    expect((await post(base(await late(`${sim.url}/oidc/bc-authorize`)))).status).toBe(401);
    // Vonage's scope form (`dpv:<Purpose>#<api-scope>`) is not the current releases' one.
    const vonageScope = new URLSearchParams(base(await mint(`${sim.url}/oidc/bc-authorize`)));
    vonageScope.set('scope', 'openid dpv:FraudPreventionAndDetection#check-sim-swap');
    const refused = await post(vonageScope.toString());
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('fetches discovery once and keeps it', async () => {
    const client = createCamaraClient({
      applicationId: clientId,
      privateKey,
      baseUrl: sim.url,
      camara: { issuer: sim.url, keyId },
    });
    try {
      const first = await client.discovered();
      expect(first).toEqual({
        issuer: sim.url,
        'bc-authorize': `${sim.url}/oidc/bc-authorize`,
        token: `${sim.url}/oidc/token`,
      });
      expect(await client.discovered()).toBe(first);
    } finally {
      await client.close();
    }
  });

  it('refuses a discovery document naming another issuer, and fetches again after a failure', async () => {
    let served = 0;
    const server = createServer((_req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer: 'https://elsewhere.example',
          backchannel_authentication_endpoint: 'https://elsewhere.example/bc',
          token_endpoint: 'https://elsewhere.example/token',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createCamaraClient({
      applicationId: clientId,
      privateKey,
      baseUrl: sim.url,
      camara: { issuer, keyId },
    });
    try {
      const failure = await failureOf(client.discovered());
      expect(errorCodeOf(failure)).toBe('CONFIGURATION');
      expect(failure.message).toMatch(/names issuer .*not NETCHECK_OIDC_ISSUER/);
      await failureOf(client.discovered());
      expect(served).toBe(2);
    } finally {
      await client.close();
      server.close();
    }
  });
});
