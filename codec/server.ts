/**
 * The codec server: the `/encode` and `/decode` endpoints of Temporal's remote codec protocol,
 * for the Temporal Web UI and the `temporal` CLI (`--codec-endpoint`), so people can read
 * encrypted histories while the Temporal service only ever stores ciphertext.
 *
 * - Body: `{"payloads":[{"metadata":{"<k>":"<base64>"},"data":"<base64>"}]}` (protobuf JSON),
 *   answered in the same form; `Content-Type` must be `application/json` (charset utf-8 at most).
 *   Only the last path segment chooses encode or decode. No secret is ever part of a URL.
 * - Who may call (docs/security.md):
 *   - OIDC (production): every request carries `Authorization: Bearer <access token>` — what the
 *     Temporal UI forwards with `codec.passAccessToken` (or `temporal … --codec-auth "Bearer …"`).
 *     The token is verified with jose against the issuer's JWKS (found through its discovery
 *     document): signature, allowed algorithms, issuer, audience, expiry, subject.
 *   - None: only when bound to loopback (`netcheck dev`, a developer's machine).
 *   - An authenticating proxy in front (`behindAuthProxy`): stated explicitly by the operator.
 *   Bound beyond loopback with neither OIDC nor that statement, it refuses to start.
 * - `X-Namespace` must name one of the allowed namespaces; `/encode` is off unless enabled.
 * - CORS: only for the configured UI origins (preflight included); other origins get 403.
 * - Limits: request body size and payloads per request; a body is never echoed.
 * - Answers never name a key id, a file or a token check's detail; the log line of each request
 *   names the action, namespace, subject, payload count and status (never a payload or a token).
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { isLoopbackHost } from '../common/net.js';
import { ConfigurationError as ConfigError } from '../domain/errors.js';
import type { KeyRing } from './keyring.js';
import {
  CIPHER,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_CIPHER,
  METADATA_KEY_ID,
  PayloadDecryptionError,
} from './payload-codec.js';

export const DEFAULT_CODEC_PORT = 8234;
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_PAYLOADS = 2_000;
export const DEFAULT_NAMESPACES: readonly string[] = ['default'];
/** Asymmetric JWS algorithms an access token may be signed with (never `none` or HMAC). */
export const OIDC_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export interface CodecOidcOptions {
  /** The issuer URL, exactly as in the tokens' `iss` (https, or http on loopback for tests). */
  issuer: string;
  /** The audience (`aud`) the access tokens must carry: one value, or any of several. */
  audience: string | string[];
  /** Allowed signature algorithms (default: every asymmetric one in OIDC_ALGORITHMS). */
  algorithms?: string[];
  /** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds (default 30). */
  clockToleranceSeconds?: number;
}

export interface CodecServerOptions {
  ring: KeyRing;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 8234; 0 = any free port). */
  port?: number;
  /** Verify callers' OIDC access tokens. Without it the server runs unauthenticated, which is
   *  allowed on loopback only, or with `behindAuthProxy`. */
  oidc?: CodecOidcOptions;
  /** The operator states that an authenticating proxy stands in front: allows a non-loopback
   *  bind without `oidc`. */
  behindAuthProxy?: boolean;
  /** Namespaces whose payloads may be decoded (the `X-Namespace` header); default ["default"]. */
  namespaces?: readonly string[];
  /** Serve `/encode` (default false: only `/decode`). */
  enableEncode?: boolean;
  /** Origins of the Temporal UI allowed by CORS, e.g. http://127.0.0.1:8233. */
  corsOrigins?: string[];
  maxBodyBytes?: number;
  maxPayloads?: number;
  /** PEM certificate and key: serve https (the UI forwards an access token only over https). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where the line of each request goes (default: nowhere). */
  log?: (line: string) => void;
}

export interface CodecStats {
  decodeRequests: number;
  encodeRequests: number;
  payloads: number;
  rejected: Record<Reason, number>;
}

type Reason =
  | 'unauthorized'
  | 'forbidden'
  | 'origin'
  | 'tooLarge'
  | 'badRequest'
  | 'mediaType'
  | 'notFound'
  | 'undecryptable'
  | 'unavailable'
  | 'internal';

export interface CodecServer {
  /** http(s)://host:port */
  url: string;
  /** The endpoint to give the Temporal UI (`--ui-codec-endpoint`, TEMPORAL_CODEC_ENDPOINT): the
   *  server's URL; it holds no secret. */
  uiEndpoint: string;
  /** How callers are authenticated. */
  auth: 'oidc' | 'proxy' | 'none';
  stats(): CodecStats;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: Reason,
    /** What the caller is told: never a key id, a path or a token check's detail. */
    message: string,
    /** What the server log says beyond the reason (never data or a token). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Standard or URL-safe base64, padded or not (protobuf JSON accepts both). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const isBase64 = (s: string) => BASE64.test(s) && s.replace(/=+$/, '').length % 4 !== 1;
/** `application/json`, optionally with `charset=utf-8`: nothing else is parsed. */
const JSON_CONTENT_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

function fromJson(p: unknown): Payload {
  if (typeof p !== 'object' || p === null)
    throw new HttpError(400, 'badRequest', 'a payload is not an object');
  const { metadata, data } = p as JsonPayload;
  const out: Payload = {};
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object')
      throw new HttpError(400, 'badRequest', 'payload metadata is not an object');
    out.metadata = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string' || !isBase64(v))
        throw new HttpError(400, 'badRequest', 'payload metadata values must be base64 strings');
      out.metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
    }
  }
  if (data !== undefined && data !== null) {
    if (typeof data !== 'string' || !isBase64(data))
      throw new HttpError(400, 'badRequest', 'payload data must be a base64 string');
    out.data = new Uint8Array(Buffer.from(data, 'base64'));
  }
  return out;
}

/** An encrypted payload must say which key and which cipher: anything else is not netcheck's. */
function requireCipherMetadata(p: Payload): void {
  if (text(p.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return;
  if (!text(p.metadata?.[METADATA_KEY_ID]) || text(p.metadata?.[METADATA_CIPHER]) !== CIPHER) {
    throw new HttpError(
      400,
      'badRequest',
      `an encrypted payload lacks its cipher metadata ("${METADATA_KEY_ID}", "${METADATA_CIPHER}": ${CIPHER})`,
    );
  }
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    ...(p.data ? { data: Buffer.from(p.data).toString('base64') } : {}),
  };
}

/**
 * A value for a log line: printable ASCII, bounded; one that holds a phone-number-like run of
 * digits (some identity providers use the number as the subject) is logged as a stable hash, so
 * no number reaches the log.
 */
function loggable(value: string): string {
  const numberLike = [...value.matchAll(/\+?\d[\d\s()./-]*\d/g)].some(
    (m) => m[0].replace(/\D/g, '').length >= 7,
  );
  if (numberLike) return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
  return value.replace(/[^\x21-\x7e]/g, '?').slice(0, 128);
}

/** http(s) URL check for the issuer and its jwks_uri: https, or http to loopback (tests, dev). */
function secureUrl(value: unknown, what: string, problems: string[]): URL | undefined {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    problems.push(`${what} is not an http(s) URL.`);
    return undefined;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    problems.push(`${what} (${url.origin}) must use https (plain http only to loopback).`);
    return undefined;
  }
  return url;
}

type Verifier = (token: string) => Promise<string>;

/** Reads the issuer's discovery document and returns a verifier of its access tokens. */
async function oidcVerifier(oidc: CodecOidcOptions): Promise<Verifier> {
  const problems: string[] = [];
  const issuerUrl = secureUrl(oidc.issuer, `The OIDC issuer ${JSON.stringify(oidc.issuer)}`, problems);
  const audience = (Array.isArray(oidc.audience) ? oidc.audience : [oidc.audience]).filter(
    (a) => typeof a === 'string' && a !== '',
  );
  if (audience.length === 0)
    problems.push('The OIDC audience is empty: name the audience of the access tokens.');
  const algorithms = oidc.algorithms ?? [...OIDC_ALGORITHMS];
  const bad = algorithms.filter((a) => !OIDC_ALGORITHMS.includes(a));
  if (algorithms.length === 0 || bad.length > 0)
    problems.push(
      `OIDC algorithms ${JSON.stringify(bad.length ? bad : algorithms)} are not allowed; use some of ${OIDC_ALGORITHMS.join(', ')}.`,
    );
  if (problems.length > 0 || !issuerUrl) throw new ConfigError(problems);

  const discovery = `${oidc.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let doc: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const res = await fetch(discovery, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as typeof doc;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new ConfigError([
      `Cannot read the OIDC discovery document ${discovery} (${e.cause?.code ?? e.message}): check NETCHECK_CODEC_OIDC_ISSUER and that the issuer is reachable from here.`,
    ]);
  }
  if (doc.issuer !== oidc.issuer) {
    throw new ConfigError([
      `The OIDC discovery document of ${JSON.stringify(oidc.issuer)} names the issuer ${JSON.stringify(doc.issuer)}: set NETCHECK_CODEC_OIDC_ISSUER to exactly the issuer of the tokens.`,
    ]);
  }
  const jwksUrl = secureUrl(doc.jwks_uri, `The jwks_uri of ${discovery}`, problems);
  if (!jwksUrl) throw new ConfigError(problems);
  const jwks = createRemoteJWKSet(jwksUrl, { timeoutDuration: 5_000 });
  const clockTolerance = oidc.clockToleranceSeconds ?? 30;

  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: oidc.issuer,
        audience,
        algorithms,
        clockTolerance,
        requiredClaims: ['exp', 'sub'],
      });
      return payload.sub!;
    } catch (err) {
      // The key set could not be fetched or used: the issuer's problem (or ours), not the caller's.
      const keySetDown =
        !(err instanceof joseErrors.JOSEError) ||
        err instanceof joseErrors.JWKSTimeout ||
        err instanceof joseErrors.JWKSInvalid ||
        err.code === 'ERR_JOSE_GENERIC';
      if (!keySetDown) {
        const claim = (err as Partial<joseErrors.JWTClaimValidationFailed>).claim;
        throw new HttpError(
          401,
          'unauthorized',
          'the access token is not valid here (signature, issuer, audience or expiry)',
          `${err.code}${claim ? ` claim=${claim}` : ''}`,
        );
      }
      const e = err as Error & { cause?: { code?: string } };
      throw new HttpError(
        503,
        'unavailable',
        'cannot verify access tokens right now',
        `key set: ${(err as { code?: string }).code ?? e.cause?.code ?? e.name}`,
      );
    }
  };
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if ('token' in options) {
    throw new ConfigError([
      'The codec server no longer takes a static token (it travelled in the UI endpoint URL): ' +
        'give it `oidc` (issuer and audience) to verify the access tokens the Temporal UI forwards, ' +
        'or run it on loopback without auth for development.',
    ]);
  }
  const host = options.host ?? '127.0.0.1';
  const auth: CodecServer['auth'] = options.oidc ? 'oidc' : options.behindAuthProxy ? 'proxy' : 'none';
  const exposed = () =>
    new ConfigError([
      `The codec server would listen on ${host} without authentication: anyone who reaches it could decrypt every payload. ` +
        'Set NETCHECK_CODEC_OIDC_ISSUER and NETCHECK_CODEC_OIDC_AUDIENCE (--oidc-issuer, --oidc-audience) so it verifies the ' +
        'access token the Temporal UI forwards (codec.passAccessToken); or, if an authenticating proxy stands in front, say so ' +
        'with NETCHECK_CODEC_BEHIND_AUTH_PROXY=true (--behind-auth-proxy); or bind it to 127.0.0.1.',
    ]);
  if (auth === 'none' && !isLoopbackHost(host)) throw exposed();
  const namespaces = new Set(options.namespaces ?? DEFAULT_NAMESPACES);
  if (namespaces.size === 0 || [...namespaces].some((n) => typeof n !== 'string' || n.trim() === '')) {
    throw new ConfigError([
      'The codec server needs at least one allowed namespace (NETCHECK_CODEC_NAMESPACES).',
    ]);
  }
  const verify = options.oidc ? await oidcVerifier(options.oidc) : undefined;
  const codec = new EncryptionCodec(options.ring);
  const origins = new Set((options.corsOrigins ?? []).map((o) => o.replace(/\/+$/, '')));
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxPayloads = options.maxPayloads ?? DEFAULT_MAX_PAYLOADS;
  const enableEncode = options.enableEncode ?? false;
  const stats: CodecStats = {
    decodeRequests: 0,
    encodeRequests: 0,
    payloads: 0,
    rejected: {
      unauthorized: 0,
      forbidden: 0,
      origin: 0,
      tooLarge: 0,
      badRequest: 0,
      mediaType: 0,
      notFound: 0,
      undecryptable: 0,
      unavailable: 0,
      internal: 0,
    },
  };

  function readBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      return Promise.reject(new HttpError(413, 'tooLarge', `request body over ${maxBody} bytes`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          reject(new HttpError(413, 'tooLarge', `request body over ${maxBody} bytes`));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  /** What the log line of a request says (filled in as the request is understood). */
  interface Seen {
    action: string;
    namespace: string;
    subject: string;
    payloads: number | '-';
  }

  async function handle(req: IncomingMessage, res: ServerResponse, seen: Seen): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    const origin = req.headers.origin;
    if (origin !== undefined) {
      res.setHeader('vary', 'origin');
      if (!origins.has(origin)) throw new HttpError(403, 'origin', 'origin not allowed');
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('access-control-max-age', '600');
      res.writeHead(204).end();
      return;
    }
    const action = new URL(req.url ?? '/', 'http://codec').pathname
      .split('/')
      .filter((s) => s !== '')
      .pop();
    if (req.method !== 'POST' || (action !== 'decode' && action !== 'encode')) {
      throw new HttpError(404, 'notFound', 'POST <endpoint>/decode or <endpoint>/encode');
    }
    seen.action = action;

    // Who is asking.
    if (verify) {
      const bearer = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer) {
        throw new HttpError(
          401,
          'unauthorized',
          'an access token is required (Authorization: Bearer …)',
          'no token',
        );
      }
      seen.subject = loggable(await verify(bearer));
    } else {
      seen.subject = auth === 'proxy' ? '(proxy)' : '(loopback)';
    }
    // For which namespace.
    const namespace = req.headers['x-namespace'];
    if (typeof namespace !== 'string' || !namespaces.has(namespace)) {
      seen.namespace = namespace === undefined ? '-' : '(not allowed)';
      throw new HttpError(403, 'forbidden', 'this codec server does not serve that namespace (X-Namespace)');
    }
    seen.namespace = loggable(namespace);
    if (action === 'encode' && !enableEncode) {
      throw new HttpError(403, 'forbidden', 'encode is disabled on this codec server', 'encode disabled');
    }
    if (!JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '')) {
      throw new HttpError(415, 'mediaType', 'send Content-Type: application/json');
    }

    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'badRequest', 'the body is not JSON');
    }
    const raw = (body as { payloads?: unknown } | null)?.payloads;
    if (!Array.isArray(raw)) throw new HttpError(400, 'badRequest', 'expected {"payloads": [...]}');
    seen.payloads = raw.length;
    if (raw.length > maxPayloads) throw new HttpError(413, 'tooLarge', `more than ${maxPayloads} payloads`);
    const payloads = raw.map(fromJson);
    let out: Payload[];
    if (action === 'decode') {
      payloads.forEach(requireCipherMetadata);
      try {
        out = await codec.decode(payloads);
      } catch (err) {
        if (!(err instanceof PayloadDecryptionError)) throw err;
        // The message names key ids and where the ring comes from: for the operator only.
        throw new HttpError(
          422,
          'undecryptable',
          'a payload cannot be decrypted with the keys of this codec server (unknown key, or altered)',
          err.message,
        );
      }
      stats.decodeRequests++;
    } else {
      out = await codec.encode(payloads);
      stats.encodeRequests++;
    }
    stats.payloads += out.length;
    res.setHeader('content-type', 'application/json');
    res.writeHead(200).end(JSON.stringify({ payloads: out.map(toJson) }));
  }

  const line = (seen: Seen, status: number, extra = '') =>
    `codec-server ${seen.action} namespace=${seen.namespace} subject=${seen.subject} ` +
    `payloads=${seen.payloads} status=${status}${extra}`;

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const seen: Seen = {
      action: req.method === 'OPTIONS' ? 'preflight' : '-',
      namespace: '-',
      subject: '-',
      payloads: '-',
    };
    handle(req, res, seen).then(
      () => {
        if (seen.action !== 'preflight') options.log?.(line(seen, res.statusCode));
      },
      (err: unknown) => {
        const e =
          err instanceof HttpError
            ? err
            : new HttpError(500, 'internal', 'internal error', (err as Error)?.name ?? 'error');
        stats.rejected[e.reason]++;
        options.log?.(
          line(seen, e.status, ` reason=${e.reason}${e.detail ? ` detail=${JSON.stringify(e.detail)}` : ''}`),
        );
        if (!res.headersSent) {
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          if (e.status === 401)
            res.setHeader(
              'www-authenticate',
              e.detail === 'no token' ? 'Bearer' : 'Bearer error="invalid_token"',
            );
          res.writeHead(e.status);
        }
        res.end(`${e.message}\n`);
      },
    );
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CODEC_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A name such as "localhost" must have resolved to loopback, or nothing is served unauthenticated.
  if (auth === 'none' && !isLoopbackHost(address.address)) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw exposed();
  }
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    uiEndpoint: url,
    auth,
    stats: () => structuredClone(stats),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
