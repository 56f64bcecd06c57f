/**
 * The codec server over real HTTP: the Temporal remote-codec protocol (protobuf JSON, base64
 * fields), the token as the UI sends it (a path segment) and as the temporal CLI sends it
 * (Bearer), CORS for the configured UI origin only, size limits, and logs that hold counts only.
 * Also `netcheck codec-server` and `netcheck keygen` as a user runs them.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptionCodec, newKeyEntry, parseKeyRing } from '../../codec/index.js';
import { startCodecServer, type CodecServer } from '../../codec/server.js';
import { runCli, spawnCli } from '../cli/support.js';

const TOKEN = randomBytes(32).toString('base64url');
const UI = 'http://127.0.0.1:8233';
const NUMBER = '+447700900456';
const ring = parseKeyRing(`${newKeyEntry('k2')},${newKeyEntry('k1')}`, 'TEST');
const codec = new EncryptionCodec(ring);

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data?: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  ...(p.data ? { data: Buffer.from(p.data, 'base64') } : {}),
});

describe('the codec server', () => {
  let server: CodecServer;
  const logged: string[] = [];

  beforeAll(async () => {
    server = await startCodecServer({
      ring,
      token: TOKEN,
      port: 0,
      corsOrigins: [UI],
      maxBodyBytes: 64 * 1024,
      maxPayloads: 10,
      log: (line) => logged.push(line),
      logIntervalMs: 50,
    });
  });
  afterAll(() => server?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('decodes what the workers encrypted, with the token as the UI sends it (<endpoint>/decode)', async () => {
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload({ msisdn: NUMBER })]);
    expect(server.uiEndpoint).toBe(`${server.url}/${TOKEN}`);
    const res = await fetch(`${server.uiEndpoint}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI },
      body: JSON.stringify({ payloads: encrypted.map(toJson) }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { payloads } = (await res.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    expect(defaultPayloadConverter.fromPayload(fromJson(payloads[0]!))).toEqual({ msisdn: NUMBER });
  });

  it('encodes with the newest key and accepts the token as a Bearer header (temporal CLI --codec-auth)', async () => {
    const res = await post(
      '/encode',
      { payloads: [toJson(defaultPayloadConverter.toPayload('hello'))] },
      {
        authorization: `Bearer ${TOKEN}`,
      },
    );
    expect(res.status).toBe(200);
    const { payloads } = (await res.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    expect(Buffer.from(payloads[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k2');
    const [back] = await codec.decode([fromJson(payloads[0]!)]);
    expect(defaultPayloadConverter.fromPayload(back!)).toBe('hello');
  });

  it('refuses a missing or wrong token, another origin, wrong paths and methods', async () => {
    const body = { payloads: [] };
    expect((await post('/decode', body)).status).toBe(401);
    expect((await post(`/${'x'.repeat(43)}/decode`, body)).status).toBe(401);
    expect((await post('/decode', body, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await post(`/${TOKEN}/decode`, body, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(`/${TOKEN}/other`, body)).status).toBe(404);
    expect((await post(`/a/${TOKEN}/decode`, body)).status).toBe(404);
    expect((await fetch(`${server.uiEndpoint}/decode`)).status).toBe(404);
    expect((await post(`/${TOKEN}/decode`, body, { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('answers the CORS preflight for the UI origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.uiEndpoint}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('http://127.0.0.1:9999');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits the body size and the payload count, and rejects malformed bodies without echoing them', async () => {
    const big = await post(
      `/${TOKEN}/decode`,
      JSON.stringify({ payloads: [{ data: 'A'.repeat(70 * 1024) }] }),
    );
    expect(big.status).toBe(413);
    const many = await post(`/${TOKEN}/decode`, { payloads: Array.from({ length: 11 }, () => ({})) });
    expect(many.status).toBe(413);
    const bad = await post(`/${TOKEN}/decode`, `{"payloads": [{"data": "tel:${NUMBER}"}]}`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain(NUMBER);
    expect((await post(`/${TOKEN}/decode`, 'not json')).status).toBe(400);
  });

  it('an unknown key id is a 422 naming the key id, not a pass-through', async () => {
    const foreign = await new EncryptionCodec(parseKeyRing(newKeyEntry('k9'), 'OTHER')).encode([
      defaultPayloadConverter.toPayload({ msisdn: NUMBER }),
    ]);
    const res = await post(`/${TOKEN}/decode`, { payloads: foreign.map(toJson) });
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/key "k9"/);
  });

  it('logs counts only: no token, no payload, no number', async () => {
    await new Promise((r) => setTimeout(r, 120));
    const text = logged.join('\n');
    expect(text).toMatch(
      /codec server: \d+ decode and \d+ encode requests, \d+ payloads; rejected: .*unauthorized/,
    );
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(NUMBER);
    expect(text).not.toMatch(/447700900456/);
  });

  it('refuses to start with a short token', async () => {
    await expect(startCodecServer({ ring, token: 'short', port: 0 })).rejects.toThrow(/at least 32/);
  });
});

describe('netcheck codec-server and keygen', () => {
  it('keygen prints a key entry the ring accepts, and --token a token the server accepts', async () => {
    const entry = await runCli(['keygen', '--id', 'k7']);
    expect(entry.code).toBe(0);
    expect(parseKeyRing(entry.stdout.trim(), 'keygen').primary).toBe('k7');
    const token = await runCli(['keygen', '--token']);
    expect(token.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('exits 2 naming every missing setting', async () => {
    const run = await runCli(['codec-server', '--port', '0'], {
      env: { NETCHECK_ENCRYPTION_KEYS: 'k1:short', NETCHECK_CODEC_TOKEN: 'abc' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the key is 5 bytes|not base64/);
    expect(run.stderr).toMatch(/NETCHECK_CODEC_TOKEN is 3 characters; use at least 32/);
    expect(run.stderr).toMatch(/netcheck keygen/);
  });

  it('serves until SIGTERM, printing the endpoint without the token', async () => {
    const child = spawnCli(['codec-server', '--port', '0', '--ui-origin', UI], {
      NETCHECK_ENCRYPTION_KEYS: newKeyEntry('cli'),
      NETCHECK_CODEC_TOKEN: TOKEN,
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /codec server on (http:\/\/[\d.:]+)/.exec(stderr);
        if (m && stderr.includes('Ctrl-C')) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const res = await fetch(`${url}/${TOKEN}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"payloads":[]}',
    });
    expect(res.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('<NETCHECK_CODEC_TOKEN>');
    expect(stderr).not.toContain(TOKEN);
  });
});
