/**
 * The `camara` profile's provider client (docs/profiles.md): any operator on CAMARA's Identity
 * and Consent Management r4.2. It has the Vonage client's shape, so authorize, the CIBA polling
 * loop and the checks are the same code for every profile; only how a request is addressed and
 * authenticated differs:
 *
 * - the bc-authorize and token endpoints come from OIDC discovery
 *   (`<issuer>/.well-known/openid-configuration`), fetched once and kept by this client (never in
 *   workflow code); a failed fetch is fetched again by the next request;
 * - the client authenticates with `private_key_jwt` (RFC 7523): `client_id`,
 *   `client_assertion_type`, and a client assertion signed with the registered key (`kid`),
 *   `iss` = `sub` = client id, `aud` = the URL of the endpoint it is sent to (ICM r4.2), a fresh
 *   `jti`, `exp - iat` = 300 s at most;
 * - the CAMARA APIs are under NETCHECK_API_ROOT.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { z } from 'zod';
import { netcheckFailure } from '../../domain/index.js';
import type { Profile } from '../../domain/profiles.js';
import { postJsonWithAccessToken, requestPriority, type ActivityDeps, type VonageClient } from '../client.js';
import { activitySignal, requestPacer } from '../context.js';
import { createHttpClient, type HttpClient } from '../http.js';
import { createTokenSealer } from '../seal.js';
import { transportProblem, type CamaraProfileConfig } from './config.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Lifetime of a client assertion: ICM r4.2 allows at most 300 s. */
export const CLIENT_ASSERTION_TTL_SECONDS = 300;
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
const DISCOVERY_TIMEOUT_MS = 10_000;

const DiscoveryDocument = z.looseObject({
  issuer: z.string(),
  backchannel_authentication_endpoint: z.string(),
  token_endpoint: z.string(),
});

export interface Discovered {
  issuer: string;
  'bc-authorize': string;
  token: string;
}

function configError(message: string) {
  return netcheckFailure('CONFIGURATION', message);
}

/** Fetches and checks the discovery document (issuer as configured, endpoints https or loopback). */
export async function discover(issuer: string): Promise<Discovered> {
  const url = `${issuer}${DISCOVERY_PATH}`;
  let status: number;
  let text: string;
  try {
    const answer = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      headersTimeout: DISCOVERY_TIMEOUT_MS,
      bodyTimeout: DISCOVERY_TIMEOUT_MS,
    });
    status = answer.statusCode;
    text = await answer.body.text();
  } catch (err) {
    throw netcheckFailure(
      'NETWORK_ERROR',
      `OIDC discovery at ${url} did not answer (${(err as Error).message}); check NETCHECK_OIDC_ISSUER.`,
    );
  }
  if (status >= 500 || status === 429) {
    throw netcheckFailure('UPSTREAM_UNAVAILABLE', `OIDC discovery at ${url} answered HTTP ${status}.`);
  }
  if (status !== 200) {
    throw configError(`OIDC discovery at ${url} answered HTTP ${status}; check NETCHECK_OIDC_ISSUER.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw configError(`OIDC discovery at ${url} did not answer JSON; check NETCHECK_OIDC_ISSUER.`);
  }
  const parsed = DiscoveryDocument.safeParse(json);
  if (!parsed.success) {
    throw configError(
      `The OIDC discovery document at ${url} has no ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}: the operator must publish backchannel_authentication_endpoint and token_endpoint (CIBA).`,
    );
  }
  const doc = parsed.data;
  if (doc.issuer.replace(/\/+$/, '') !== issuer) {
    throw configError(
      `The OIDC discovery document at ${url} names issuer ${JSON.stringify(doc.issuer.slice(0, 200))}, not NETCHECK_OIDC_ISSUER (${issuer}) (OpenID Connect Discovery §4.3).`,
    );
  }
  for (const [name, value] of [
    ['backchannel_authentication_endpoint', doc.backchannel_authentication_endpoint],
    ['token_endpoint', doc.token_endpoint],
  ] as const) {
    const problem = transportProblem(`The discovered ${name}`, value);
    if (problem) throw configError(problem);
  }
  return { issuer, 'bc-authorize': doc.backchannel_authentication_endpoint, token: doc.token_endpoint };
}

/** Mints client assertions (RS256 for an RSA key, ES256 for EC P-256), one per request. */
export function createClientAssertionMinter(
  clientId: string,
  keyId: string,
  privateKey: KeyObject,
  now: () => number = Date.now,
): (audience: string) => Promise<string> {
  const alg = privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  return async (audience) => {
    const iat = Math.floor(now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg, typ: 'JWT', kid: keyId })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + CLIENT_ASSERTION_TTL_SECONDS)
      .setJti(randomUUID())
      .sign(privateKey);
  };
}

export interface CamaraClient extends VonageClient {
  readonly profile: Profile;
  /** The discovered endpoints (fetched at the first call, then kept). */
  discovered(): Promise<Discovered>;
}

/**
 * The provider client of the `camara` profile. `deps.applicationId` is the client id,
 * `deps.privateKey` the client-assertion key, `deps.baseUrl` the apiRoot.
 */
export function createCamaraClient(
  deps: ActivityDeps & { camara: CamaraProfileConfig },
  options: { now?: () => number } = {},
): CamaraClient {
  const clientId = deps.applicationId.trim();
  if (clientId === '') throw configError('NETCHECK_CLIENT_ID is missing');
  const issuer = deps.camara.issuer.replace(/\/+$/, '');
  const apiRoot = deps.baseUrl.replace(/\/+$/, '');
  for (const [name, value] of [
    ['NETCHECK_OIDC_ISSUER', issuer],
    ['NETCHECK_API_ROOT', apiRoot],
  ] as const) {
    const problem = transportProblem(name, value);
    if (problem) throw configError(problem);
  }
  const keyType = deps.privateKey.asymmetricKeyType;
  if (deps.privateKey.type !== 'private' || (keyType !== 'rsa' && keyType !== 'ec')) {
    throw configError('The client-assertion key must be an RSA or EC P-256 private key');
  }
  const http: HttpClient = createHttpClient(deps.http);
  const mintAssertion = createClientAssertionMinter(
    clientId,
    deps.camara.keyId,
    deps.privateKey,
    options.now,
  );
  let discovery: Promise<Discovered> | undefined;
  const discovered = () => {
    discovery ??= discover(issuer).catch((err: unknown) => {
      discovery = undefined; // the next request fetches again
      throw err;
    });
    return discovery;
  };

  const methods: Pick<
    VonageClient,
    'postFormWithAppJwt' | 'postJsonWithAppJwt' | 'postJsonWithToken' | 'close'
  > = {
    async postFormWithAppJwt(kind, _path, form, correlationId) {
      if (kind !== 'bc-authorize' && kind !== 'token') {
        throw configError(`The camara profile has no ${kind} endpoint`);
      }
      const url = (await discovered())[kind];
      const assertion = await mintAssertion(url);
      const answer = await http.postForm(
        new URL(url),
        {
          ...form,
          client_id: clientId,
          client_assertion_type: CLIENT_ASSERTION_TYPE,
          client_assertion: assertion,
        },
        {
          headers: { 'x-correlator': correlationId },
          signal: activitySignal(),
          pacer: requestPacer(),
          priority: requestPriority(kind),
        },
      );
      return { endpoint: { kind, path: new URL(url).pathname }, answer, secrets: [assertion] };
    },
    postJsonWithAppJwt() {
      return Promise.reject(
        configError(
          "Identity Insights is Vonage's API: the camara profile serves the CIBA road only (run the check without --api identity-insights, or on a vonage worker)",
        ),
      );
    },
    postJsonWithToken: (path, json, accessToken, correlationId) =>
      postJsonWithAccessToken(http, apiRoot + path, path, json, accessToken, correlationId),
    close: () => http.close(),
  };
  return {
    // The brand isVonageClient looks for (activities/client.ts): createActivities takes this client as is.
    [Symbol.for('netcheck.VonageClient')]: true,
    profile: 'camara',
    baseUrl: apiRoot,
    identityInsightsPath: '',
    sealer: createTokenSealer(deps.privateKey),
    discovered,
    ...methods,
  } as unknown as CamaraClient;
}
