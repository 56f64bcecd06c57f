/**
 * Optional JSON-lines request log: one line per Vonage request. Numbers are masked and no
 * credential (application JWT, access token) is ever written: entries are built from an
 * explicit allow-list of fields, never from headers or bodies.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { maskMsisdn } from '../domain/msisdn.js';

export interface RequestLogEntry {
  /** ISO-8601 time the request was received (simulator clock). */
  time: string;
  method: string;
  /** Path without the query string. */
  path: string;
  endpoint: string;
  /** HTTP status, or "drop" / "timeout". */
  status: number | string;
  /** Wall-clock ms from receipt to answer (or to the fault decision). */
  latencyMs: number;
  /** Masked, e.g. `+44*******001`. */
  msisdn?: string;
  xCorrelator?: string;
  /** Which injected fault produced the answer, if any. */
  fault?: string;
}

export class RequestLog {
  private readonly stream: WriteStream;

  private constructor(stream: WriteStream) {
    this.stream = stream;
  }

  static async open(path: string): Promise<RequestLog> {
    const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    await once(stream, 'open');
    return new RequestLog(stream);
  }

  write(entry: Omit<RequestLogEntry, 'msisdn'> & { msisdn?: string | undefined }): void {
    const { msisdn, ...rest } = entry;
    const line: RequestLogEntry = msisdn ? { ...rest, msisdn: maskMsisdn(msisdn) } : rest;
    this.stream.write(`${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    if (this.stream.closed) return;
    this.stream.end();
    await once(this.stream, 'close');
  }
}
