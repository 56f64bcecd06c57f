/**
 * The worker's Vonage client: configuration checked once, the HTTP pools, the application JWT
 * minter and the token sealer (key derived once). Activities are built on top of it; the
 * worker closes it on shutdown.
 */
import { KeyObject } from 'node:crypto';
import { netcheckFailure } from '../domain/index.js';
import { insecureBaseUrlProblem, warnIfInsecure } from './base-url.js';
import { activitySignal, requestPacer } from './context.js';
import type { Endpoint, EndpointKind } from './errors.js';
import { createHttpClient, type HttpClient, type HttpOptions, type HttpResponse } from './http.js';
import { createAppJwtMinter, type AppJwtMinter } from './jwt.js';
import { createTokenSealer, type TokenSealer } from './seal.js';
import type { Profile } from '../domain/profiles.js';
import type { CamaraProfileConfig } from './profiles/config.js';

export const DEFAULT_BASE_URL = 'https://api-eu.vonage.com';
/**
 * Where Identity Insights is mounted under the base URL: what Vonage's current server SDKs call.
 * Vonage's API reference shows `/v0.1/identity-insights`; some regions put a prefix before it.
 */
export const DEFAULT_IDENTITY_INSIGHTS_PATH = '/identity-insights/v1/requests';

export interface ActivityDeps {
  /** The Vonage application's UUID (the JWT's `application_id`). */
  applicationId: string;
  /** The application's RSA private key. */
  privateKey: KeyObject;
  /** API base URL, e.g. `https://api-eu.vonage.com` (the caller applies that default). A path prefix is kept. */
  baseUrl: string;
  /** Path of Identity Insights under the base URL (default `DEFAULT_IDENTITY_INSIGHTS_PATH`). */
  identityInsightsPath?: string;
  http?: HttpOptions;
  /**
   * The `camara` operator profile (docs/profiles.md): then `applicationId` is the client id,
   * `privateKey` the client-assertion key and `baseUrl` the CAMARA apiRoot.
   */
  camara?: CamaraProfileConfig;
}

const BRAND = Symbol.for('netcheck.VonageClient');

/** A bc-authorize opens a new flow: under the rate limit, the polls of started flows go first. */
export function requestPriority(kind: EndpointKind): 'low' | 'high' {
  return kind === 'bc-authorize' ? 'low' : 'high';
}

/**
 * A CAMARA API call: JSON with the flow's access token as Bearer, ahead of new flows under the
 * rate limit (the same on every profile).
 */
export async function postJsonWithAccessToken(
  http: HttpClient,
  url: string,
  path: string,
  json: unknown,
  accessToken: string,
  correlationId: string,
): Promise<VonageAnswer> {
  const answer = await http.postJson(new URL(url), json, {
    headers: { authorization: `Bearer ${accessToken}`, 'x-correlator': correlationId },
    signal: activitySignal(),
    pacer: requestPacer(),
    priority: 'high',
  });
  return { endpoint: { kind: 'camara', path }, answer, secrets: [accessToken] };
}

/** What a call to Vonage returns: the answer, and the credentials sent (for redaction only). */
export interface VonageAnswer {
  endpoint: Endpoint;
  answer: HttpResponse;
  /** Secrets that must never appear in a message built from this answer. */
  secrets: string[];
}

export interface VonageClient {
  readonly [BRAND]: true;
  /** The normalized base URL (no trailing slash). */
  readonly baseUrl: string;
  /** The Identity Insights request path (no trailing slash). */
  readonly identityInsightsPath: string;
  readonly sealer: TokenSealer;
  /** The operator profile this client speaks (absent: `vonage`). */
  readonly profile?: Profile;
  /** POST a form with the application JWT as Bearer (bc-authorize, token). */
  postFormWithAppJwt(
    kind: EndpointKind,
    path: string,
    form: Record<string, string>,
    correlationId: string,
  ): Promise<VonageAnswer>;
  /** POST JSON with the application JWT as Bearer (Identity Insights). */
  postJsonWithAppJwt(
    kind: EndpointKind,
    path: string,
    json: unknown,
    correlationId: string,
  ): Promise<VonageAnswer>;
  /** POST JSON with an access token as Bearer (CAMARA). */
  postJsonWithToken(
    path: string,
    json: unknown,
    accessToken: string,
    correlationId: string,
  ): Promise<VonageAnswer>;
  /** Closes the HTTP pools (call on worker shutdown). */
  close(): Promise<void>;
}

export function isVonageClient(value: unknown): value is VonageClient {
  return typeof value === 'object' && value !== null && (value as Partial<VonageClient>)[BRAND] === true;
}

function configError(message: string): Error {
  return netcheckFailure('CONFIGURATION', message);
}

function normalizeBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '')
    throw configError('The Vonage API base URL is missing');
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw configError(`The Vonage API base URL is not a URL: ${JSON.stringify(baseUrl.slice(0, 100))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`The Vonage API base URL must be http(s): (got ${url.protocol})`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw configError('The Vonage API base URL must not carry credentials, a query or a fragment');
  }
  const insecure = insecureBaseUrlProblem(url.href);
  if (insecure) throw configError(insecure);
  warnIfInsecure(url);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function normalizePath(path: unknown): string {
  if (path === undefined) return DEFAULT_IDENTITY_INSIGHTS_PATH;
  const value = typeof path === 'string' ? path.trim().replace(/\/+$/, '') : '';
  if (!/^(?:\/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)+$/.test(value) || /\/\.\.?(?:\/|$)/.test(value)) {
    throw configError(
      `The Identity Insights path must be a URL path such as ${DEFAULT_IDENTITY_INSIGHTS_PATH} (got ${typeof path === 'string' ? JSON.stringify(path.slice(0, 100)) : typeof path})`,
    );
  }
  return value;
}

function checkHttpOptions(http: HttpOptions | undefined): void {
  for (const [name, value] of Object.entries(http ?? {})) {
    if (value === undefined || name === 'observer') continue;
    if (name === 'leaseSlots') {
      if (typeof value !== 'function') throw configError('http.leaseSlots must be a function');
      continue;
    }
    const ok = typeof value === 'number' && Number.isFinite(value) && value > 0;
    if (!ok || (name === 'connections' && !Number.isInteger(value))) {
      throw configError(`http.${name} must be a positive number (got ${JSON.stringify(value)})`);
    }
  }
}

export function createVonageClient(deps: ActivityDeps): VonageClient {
  if (typeof deps.applicationId !== 'string' || deps.applicationId.trim() === '') {
    throw configError('The Vonage application id is missing');
  }
  if (
    !(deps.privateKey instanceof KeyObject) ||
    deps.privateKey.type !== 'private' ||
    deps.privateKey.asymmetricKeyType !== 'rsa'
  ) {
    throw configError('The Vonage private key must be an RSA private key (node:crypto KeyObject)');
  }
  const baseUrl = normalizeBaseUrl(deps.baseUrl);
  const identityInsightsPath = normalizePath(deps.identityInsightsPath);
  checkHttpOptions(deps.http);

  const http: HttpClient = createHttpClient(deps.http);
  const mintAppJwt: AppJwtMinter = createAppJwtMinter(deps.applicationId.trim(), deps.privateKey);
  const sealer = createTokenSealer(deps.privateKey);
  const urlOf = (path: string) => new URL(baseUrl + path);

  return {
    [BRAND]: true,
    profile: 'vonage',
    baseUrl,
    identityInsightsPath,
    sealer,
    async postFormWithAppJwt(kind, path, form, correlationId) {
      const jwt = await mintAppJwt();
      const answer = await http.postForm(urlOf(path), form, {
        headers: { authorization: `Bearer ${jwt}`, 'x-correlator': correlationId },
        signal: activitySignal(),
        pacer: requestPacer(),
        priority: requestPriority(kind),
      });
      return { endpoint: { kind, path }, answer, secrets: [jwt] };
    },
    async postJsonWithAppJwt(kind, path, json, correlationId) {
      const jwt = await mintAppJwt();
      const answer = await http.postJson(urlOf(path), json, {
        headers: { authorization: `Bearer ${jwt}`, 'x-correlator': correlationId },
        signal: activitySignal(),
        pacer: requestPacer(),
      });
      return { endpoint: { kind, path }, answer, secrets: [jwt] };
    },
    postJsonWithToken: (path, json, accessToken, correlationId) =>
      postJsonWithAccessToken(http, baseUrl + path, path, json, accessToken, correlationId),
    close: () => http.close(),
  };
}
