/**
 * Support for the no-leak proof: a recording proxy in front of the simulator (it learns every
 * credential the worker sends or receives: application JWTs, access tokens), the spellings of a
 * phone number to look for, history text with every base64 field decoded next to it, and a result
 * file without the numbers the user put in.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { parse as parseCsv } from 'csv-parse/sync';

export interface RecordingProxy {
  url: string;
  /** Every Bearer credential sent (JWTs, access tokens), every access_token and auth_req_id received. */
  secrets: Set<string>;
  close(): Promise<void>;
}

/** Forwards every request to `target` and remembers the credentials in both directions. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const secrets = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (bearer) secrets.add(bearer);
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'x-correlator', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(new URL(req.url ?? '/', target), {
        method: req.method ?? 'GET',
        headers,
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
      })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          try {
            const parsed = JSON.parse(body.toString('utf8')) as {
              access_token?: unknown;
              auth_req_id?: unknown;
            };
            for (const value of [parsed.access_token, parsed.auth_req_id]) {
              if (typeof value === 'string') secrets.add(value);
            }
          } catch {
            // not JSON
          }
          const out: Record<string, string> = {};
          answer.headers.forEach((value, name) => {
            if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name))
              out[name] = value;
          });
          res.writeHead(answer.status, out).end(body);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secrets,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The ways a number can be written: E.164, digits only, the last 10 digits, the CIBA login_hint (encoded or not). */
export function spellings(msisdn: string): string[] {
  const digits = msisdn.replace(/^\+/, '');
  return [msisdn, digits, digits.slice(-10), `tel:%2B${digits}`, `tel:${msisdn}`, `%2B${digits}`];
}

const { History } = proto.temporal.api.history.v1;

/** A history as JSON text, followed by every base64 field decoded (so payloads and failures are seen as text). */
export function historyText(history: proto.temporal.api.history.v1.IHistory): string {
  const json = JSON.stringify(
    History.toObject(History.fromObject(history), { bytes: String, longs: String, enums: String }),
  );
  return withDecodedBase64(json);
}

/** `text` plus the UTF-8 of every base64-looking JSON string in it. */
export function withDecodedBase64(text: string): string {
  const decoded: string[] = [];
  for (const m of text.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)) {
    decoded.push(Buffer.from(m[1]!, 'base64').toString('utf8'));
  }
  return `${text}\n${decoded.join('\n')}`;
}

/** The needles found in `haystack`, for a readable assertion. */
export function found(haystack: string, needles: Iterable<string>): string[] {
  return [...needles].filter((n) => n.length > 0 && haystack.includes(n));
}

/** A result file without its msisdn column (CSV) or field (JSON lines): the user's own input, echoed. */
export function withoutMsisdnColumn(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.csv')) {
    const rows = parseCsv<Record<string, string>>(text, { columns: true });
    return JSON.stringify(rows.map(({ msisdn: _m, ...rest }) => rest));
  }
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const { msisdn: _m, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(rest);
    })
    .join('\n');
}
