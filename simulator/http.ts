/** Small HTTP helpers shared by the endpoint modules: replies, error bodies, body parsing. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What an endpoint handler answers; the server writes it. */
export interface Reply {
  status: number;
  /** Sent as JSON (`Content-Type: application/json` unless `headers` say otherwise). */
  body?: unknown;
  /** Sent as given instead of `body`, with no Content-Type unless `headers` set one. */
  raw?: string;
  headers?: Record<string, string>;
  /** The injected fault that shaped this answer (for the request log), if any. */
  fault?: string;
}

export const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new BodyTooLargeError(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** `Authorization: Bearer <token>` → token, else undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** CAMARA error body `{status, code, message}`. */
export function camaraError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Reply {
  return { status, body: { status, code, message }, ...(headers ? { headers } : {}) };
}

/** OAuth / CIBA error body `{error, error_description}`. */
export function oauthError(error: string, description: string, status = 400): Reply {
  return { status, body: { error, error_description: description } };
}

/** The `type` of Vonage's RFC 7807 bodies: its error page with a fragment naming the kind. */
export function problemType(kind: string): string {
  return `https://developer.vonage.com/api-errors#${kind}`;
}

/** RFC 7807 problem body, the way Vonage answers authentication and authorization failures. */
export function problem(status: number, title: string, detail: string, kind: string): Reply {
  return { status, body: { type: problemType(kind), title, detail, instance: randomUUID() } };
}

/** Default CAMARA code for an HTTP status. */
export function defaultCode(status: number): string {
  const codes: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    422: 'UNPROCESSABLE_ENTITY',
    429: 'TOO_MANY_REQUESTS',
    500: 'INTERNAL',
    501: 'NOT_IMPLEMENTED',
    502: 'BAD_GATEWAY',
    503: 'UNAVAILABLE',
    504: 'TIMEOUT',
  };
  return codes[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
}

/** CAMARA x-correlator pattern (Commonalities design guide). */
export const X_CORRELATOR = /^[a-zA-Z0-9_:;./<>{}-]{0,256}$/;

/**
 * Parses an `application/x-www-form-urlencoded` body; a repeated parameter is an error
 * (OAuth 2.0 §3.1: parameters must not be included more than once).
 */
export function parseForm(
  body: string,
): { ok: true; params: Map<string, string> } | { ok: false; error: string } {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (params.has(key)) return { ok: false, error: `parameter ${key} is repeated` };
    params.set(key, value);
  }
  return { ok: true, params };
}
