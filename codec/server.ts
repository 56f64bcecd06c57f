/**
 * The codec server: the `/encode` and `/decode` endpoints of Temporal's remote codec protocol,
 * for the Temporal Web UI and the `temporal` CLI (`--codec-endpoint`), so people can read
 * encrypted histories while the Temporal service only ever stores ciphertext.
 *
 * - Body: `{"payloads":[{"metadata":{"<k>":"<base64>"},"data":"<base64>"}]}` (protobuf JSON),
 *   answered in the same form. Only the last path segment chooses encode or decode.
 * - Access: a token, at least 32 characters, sent either as `Authorization: Bearer <token>`
 *   (the `temporal` CLI: `--codec-auth "Bearer <token>"`), or as the path segment before
 *   `/decode` — what the Web UI can send: it calls `<codec endpoint>/decode` and adds an
 *   Authorization header only with the user's OIDC access token over https, so the UI is given
 *   the endpoint `http://host:port/<token>`. Compared in constant time.
 * - CORS: only for the configured UI origins (preflight included); other origins get 403.
 * - Limits: request body size and payloads per request; a body is never echoed.
 * - Logging: counts only — requests, payloads, rejections by reason — never a payload, a
 *   header or a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { ConfigurationError as ConfigError } from '../domain/errors.js';
import type { KeyRing } from './keyring.js';
import { EncryptionCodec, PayloadDecryptionError } from './payload-codec.js';

export const DEFAULT_CODEC_PORT = 8234;
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_PAYLOADS = 2_000;
export const MIN_TOKEN_LENGTH = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;

export interface CodecServerOptions {
  ring: KeyRing;
  /** The access token (≥ 32 characters of A-Z a-z 0-9 _ -). */
  token: string;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 8234; 0 = any free port). */
  port?: number;
  /** Origins of the Temporal UI allowed by CORS, e.g. http://127.0.0.1:8233. */
  corsOrigins?: string[];
  maxBodyBytes?: number;
  maxPayloads?: number;
  /** PEM certificate and key: serve https (needed when the UI passes the user's access token). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where the periodic counts go (default: nowhere). */
  log?: (line: string) => void;
  /** How often counts are logged when they changed (default 60 s). */
  logIntervalMs?: number;
}

export interface CodecStats {
  decodeRequests: number;
  encodeRequests: number;
  payloads: number;
  rejected: Record<
    'unauthorized' | 'origin' | 'tooLarge' | 'badRequest' | 'notFound' | 'undecryptable' | 'internal',
    number
  >;
}

export interface CodecServer {
  /** http(s)://host:port */
  url: string;
  /** The endpoint to give the Temporal UI (`--ui-codec-endpoint`): the URL with the token as its path. */
  uiEndpoint: string;
  stats(): CodecStats;
  close(): Promise<void>;
}

/** Problems with a token, for configuration messages. */
export function tokenProblem(token: string | undefined, source: string): string | undefined {
  if (!token)
    return `${source} is not set: the codec server needs an access token (make one with \`netcheck keygen --token\`).`;
  if (token.length < MIN_TOKEN_LENGTH)
    return `${source} is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (\`netcheck keygen --token\` makes one).`;
  if (!TOKEN_PATTERN.test(token))
    return `${source} may hold only A-Z, a-z, 0-9, "_" and "-" (it travels in a URL path); \`netcheck keygen --token\` makes one.`;
  return undefined;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: keyof CodecStats['rejected'],
    message: string,
  ) {
    super(message);
  }
}

/** Standard or URL-safe base64, padded or not (protobuf JSON accepts both). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const isBase64 = (s: string) => BASE64.test(s) && s.replace(/=+$/, '').length % 4 !== 1;

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

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    ...(p.data ? { data: Buffer.from(p.data).toString('base64') } : {}),
  };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const problem = tokenProblem(options.token, 'The codec server token');
  if (problem) throw new ConfigError([problem]);
  const codec = new EncryptionCodec(options.ring);
  const tokenDigest = digest(options.token);
  const origins = new Set((options.corsOrigins ?? []).map((o) => o.replace(/\/+$/, '')));
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxPayloads = options.maxPayloads ?? DEFAULT_MAX_PAYLOADS;
  const stats: CodecStats = {
    decodeRequests: 0,
    encodeRequests: 0,
    payloads: 0,
    rejected: {
      unauthorized: 0,
      origin: 0,
      tooLarge: 0,
      badRequest: 0,
      notFound: 0,
      undecryptable: 0,
      internal: 0,
    },
  };
  const matches = (candidate: string | undefined) =>
    candidate !== undefined && timingSafeEqual(digest(candidate), tokenDigest);

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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) throw new HttpError(403, 'origin', 'origin not allowed');
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('access-control-max-age', '600');
      res.writeHead(204).end();
      return;
    }
    const segments = new URL(req.url ?? '/', 'http://codec').pathname.split('/').filter((s) => s !== '');
    const action = segments.pop();
    if (req.method !== 'POST' || (action !== 'decode' && action !== 'encode') || segments.length > 1) {
      throw new HttpError(404, 'notFound', 'POST <endpoint>/decode or <endpoint>/encode');
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!matches(segments[0]) && !matches(bearer)) {
      throw new HttpError(401, 'unauthorized', 'missing or wrong codec token');
    }
    if (!/json/i.test(req.headers['content-type'] ?? '')) {
      throw new HttpError(415, 'badRequest', 'send application/json');
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
    if (raw.length > maxPayloads) throw new HttpError(413, 'tooLarge', `more than ${maxPayloads} payloads`);
    const payloads = raw.map(fromJson);
    let out: Payload[];
    try {
      out = action === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
    } catch (err) {
      if (err instanceof PayloadDecryptionError) throw new HttpError(422, 'undecryptable', err.message);
      throw err;
    }
    if (action === 'decode') stats.decodeRequests++;
    else stats.encodeRequests++;
    stats.payloads += out.length;
    res.setHeader('content-type', 'application/json');
    res.writeHead(200).end(JSON.stringify({ payloads: out.map(toJson) }));
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error');
      stats.rejected[e.reason]++;
      if (!res.headersSent) {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        if (e.status === 401) res.setHeader('www-authenticate', 'Bearer');
        res.writeHead(e.status);
      }
      res.end(`${e.message}\n`);
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CODEC_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const summary = () => {
    const rejected = Object.entries(stats.rejected)
      .filter(([, n]) => n > 0)
      .map(([why, n]) => `${n} ${why}`);
    return (
      `codec server: ${stats.decodeRequests} decode and ${stats.encodeRequests} encode requests, ` +
      `${stats.payloads} payloads${rejected.length ? `; rejected: ${rejected.join(', ')}` : ''}`
    );
  };
  let last = summary();
  const timer = options.log
    ? setInterval(() => {
        const now = summary();
        if (now !== last) options.log?.(now);
        last = now;
      }, options.logIntervalMs ?? 60_000)
    : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    uiEndpoint: `${url}/${options.token}`,
    stats: () => structuredClone(stats),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        if (options.log && summary() !== last) options.log(summary());
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
