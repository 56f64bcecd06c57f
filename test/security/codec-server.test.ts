/**
 * The codec server over real HTTP, against a real OpenID issuer that this test serves on
 * loopback (discovery document + JWKS, keys made with jose at test time): the Temporal
 * remote-codec protocol (protobuf JSON, base64 fields), the OIDC access token as the Temporal UI
 * forwards it (`codec.passAccessToken`: `Authorization: Bearer …`), the X-Namespace allow-list,
 * /encode off unless enabled, exact JSON content type, required cipher metadata, answers that
 * name no key id or path, one log line per request (subject, namespace, count; never data or a
 * token), and the bind rules: loopback may run without auth, anything else needs OIDC or an
 * explicit "an authenticating proxy stands in front". Also `netcheck codec-server` and
 * `netcheck keygen` as a user runs them.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptionCodec, newKeyEntry, parseKeyRing } from '../../codec/index.js';
import { startCodecServer, type CodecServer, type CodecServerOptions } from '../../codec/server.js';
import { runCli, spawnCli } from '../cli/support.js';

const UI = 'http://127.0.0.1:8233';
const NUMBER = '+447700900456';
const AUDIENCE = 'temporal-codec';
const SUBJECT = 'user-7f3a9c';
/** Where the ring "comes from": it must never reach a caller. */
const RING_SOURCE = `/etc/netcheck/keys-${randomBytes(4).toString('hex')}`;
const ring = parseKeyRing(`${newKeyEntry('k2')},${newKeyEntry('k1')}`, RING_SOURCE);
const codec = new EncryptionCodec(ring);

type JsonPayload = { metadata: Record<string, string>; data?: string };
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  ...(p.data ? { data: Buffer.from(p.data, 'base64') } : {}),
});
const encryptedNumber = async () =>
  (await codec.encode([defaultPayloadConverter.toPayload({ msisdn: NUMBER })])).map(toJson);

/** An OpenID issuer on loopback: its discovery document and JWKS, with an RS256 and an ES256 key. */
interface Issuer {
  url: string;
  kids: string[];
  keys: { alg: string; kid: string; privateKey: CryptoKey }[];
  close(): Promise<void>;
}
async function startIssuer(discoveryIssuer?: (url: string) => string): Promise<Issuer> {
  const keys = await Promise.all(
    (['RS256', 'ES256'] as const).map(async (alg) => {
      const pair = await generateKeyPair(alg, { extractable: true });
      return { alg, kid: `kid-${alg}-${randomBytes(6).toString('hex')}`, ...pair };
    }),
  );
  const jwks = {
    keys: await Promise.all(
      keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' })),
    ),
  };
  let url = '';
  const server = http.createServer((req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer: discoveryIssuer ? discoveryIssuer(url) : url, jwks_uri: `${url}/jwks` }
        : req.url === '/jwks'
          ? jwks
          : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    kids: keys.map((k) => k.kid),
    keys: keys.map(({ alg, kid, privateKey }) => ({ alg, kid, privateKey })),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface TokenOptions {
  issuer?: string;
  audience?: string;
  subject?: string;
  /** Seconds from now (negative: in the past). */
  expiresIn?: number;
  key?: { alg: string; kid: string; privateKey: CryptoKey };
}

describe('the codec server with OIDC', () => {
  let issuer: Issuer;
  let server: CodecServer;
  const logged: string[] = [];

  const token = (o: TokenOptions = {}) => {
    const key = o.key ?? issuer.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'openid' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(o.issuer ?? issuer.url)
      .setAudience(o.audience ?? AUDIENCE)
      .setSubject(o.subject ?? SUBJECT)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (o.expiresIn ?? 300))
      .sign(key.privateKey);
  };

  const post = (
    path: string,
    body: unknown,
    headers: Record<string, string | undefined> = {},
    to: CodecServer = server,
  ) =>
    fetch(`${to.url}${path}`, {
      method: 'POST',
      headers: Object.fromEntries(
        Object.entries({ 'content-type': 'application/json', 'x-namespace': 'fraud', ...headers }).filter(
          (e): e is [string, string] => e[1] !== undefined,
        ),
      ),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    issuer = await startIssuer();
    server = await startCodecServer({
      ring,
      port: 0,
      oidc: { issuer: issuer.url, audience: AUDIENCE },
      namespaces: ['fraud', 'default'],
      corsOrigins: [UI],
      maxBodyBytes: 64 * 1024,
      maxPayloads: 10,
      log: (line) => logged.push(line),
    });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  it('decodes for a valid access token, as the UI sends it (Bearer, X-Namespace, its origin); no secret in the URL', async () => {
    expect(server.auth).toBe('oidc');
    expect(server.uiEndpoint).toBe(server.url);
    expect(new URL(server.uiEndpoint).pathname).toBe('/');
    const res = await post(
      '/decode',
      { payloads: await encryptedNumber() },
      {
        authorization: `Bearer ${await token()}`,
        origin: UI,
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
    expect(defaultPayloadConverter.fromPayload(fromJson(payloads[0]!))).toEqual({ msisdn: NUMBER });
    // Any key of the issuer's set, and the endpoint mounted at any depth (only the last segment counts).
    const es = await post(
      '/codec/decode',
      { payloads: await encryptedNumber() },
      {
        authorization: `Bearer ${await token({ key: issuer.keys[1]! })}`,
      },
    );
    expect(es.status).toBe(200);
  });

  it('refuses a missing, expired, foreign-issuer, wrong-audience, unsigned or unknown-key token with 401', async () => {
    const body = { payloads: await encryptedNumber() };
    const foreign = await generateKeyPair('RS256');
    const cases: [string, string | undefined][] = [
      ['missing', undefined],
      ['not a bearer', `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['expired', `Bearer ${await token({ expiresIn: -600 })}`],
      ['another issuer', `Bearer ${await token({ issuer: 'https://idp.example.com/' })}`],
      ['another audience', `Bearer ${await token({ audience: 'some-other-api' })}`],
      [
        'unsigned (alg none)',
        `Bearer ${new UnsecuredJWT({ sub: SUBJECT }).setIssuer(issuer.url).setAudience(AUDIENCE).setExpirationTime('5m').encode()}`,
      ],
      [
        'signed with a key not in the issuer set',
        `Bearer ${await token({ key: { alg: 'RS256', kid: issuer.kids[0]!, privateKey: foreign.privateKey } })}`,
      ],
      ['garbage', 'Bearer not.a.jwt'],
    ];
    for (const [why, authorization] of cases) {
      const res = await post('/decode', body, { authorization });
      expect(res.status, why).toBe(401);
      expect(res.headers.get('www-authenticate'), why).toMatch(/^Bearer/);
      const text = await res.text();
      expect(text, why).not.toContain(NUMBER);
      for (const kid of issuer.kids) expect(text, why).not.toContain(kid);
    }
  });

  it('serves only the allowed namespaces (X-Namespace), even to a valid token: 403', async () => {
    const body = { payloads: await encryptedNumber() };
    const authorization = `Bearer ${await token()}`;
    expect((await post('/decode', body, { authorization, 'x-namespace': 'payments' })).status).toBe(403);
    expect((await post('/decode', body, { authorization, 'x-namespace': undefined })).status).toBe(403);
    expect((await post('/decode', body, { authorization, 'x-namespace': 'default' })).status).toBe(200);
  });

  it('/encode is off unless enabled (403), and encodes with the newest key when it is', async () => {
    const hello = { payloads: [toJson(defaultPayloadConverter.toPayload('hello'))] };
    const off = await post('/encode', hello, { authorization: `Bearer ${await token()}` });
    expect(off.status).toBe(403);
    expect(await off.text()).toMatch(/encode is disabled/);

    const withEncode = await startCodecServer({
      ring,
      port: 0,
      oidc: { issuer: issuer.url, audience: AUDIENCE },
      namespaces: ['fraud'],
      enableEncode: true,
    });
    try {
      expect((await post('/encode', hello, {}, withEncode)).status).toBe(401);
      const res = await post('/encode', hello, { authorization: `Bearer ${await token()}` }, withEncode);
      expect(res.status).toBe(200);
      const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
      expect(Buffer.from(payloads[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k2');
      const [back] = await codec.decode([fromJson(payloads[0]!)]);
      expect(defaultPayloadConverter.fromPayload(back!)).toBe('hello');
    } finally {
      await withEncode.close();
    }
  });

  it('parses only JSON: any other content type is 415', async () => {
    const body = JSON.stringify({ payloads: await encryptedNumber() });
    const authorization = `Bearer ${await token()}`;
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/jsonp',
      'text/json',
      'application/json; charset=latin1',
      'application/json-patch+json',
    ]) {
      expect((await post('/decode', body, { authorization, 'content-type': type })).status, type).toBe(415);
    }
    const withCharset = await post('/decode', body, {
      authorization,
      'content-type': 'application/json; charset=UTF-8',
    });
    expect(withCharset.status).toBe(200);
  });

  it('requires the cipher metadata of an encrypted payload (400), even one that would decrypt', async () => {
    const [payload] = await encryptedNumber();
    const authorization = `Bearer ${await token()}`;
    for (const field of ['encryption-cipher', 'encryption-key-id']) {
      const { [field]: _dropped, ...metadata } = payload!.metadata;
      const res = await post('/decode', { payloads: [{ ...payload, metadata }] }, { authorization });
      expect(res.status, field).toBe(400);
      expect(await res.text()).not.toContain(NUMBER);
    }
  });

  it('an undecryptable payload is a 422 that names no key id and no path (the log has them)', async () => {
    const foreign = await new EncryptionCodec(parseKeyRing(newKeyEntry('k9'), 'OTHER')).encode([
      defaultPayloadConverter.toPayload({ msisdn: NUMBER }),
    ]);
    const res = await post(
      '/decode',
      { payloads: foreign.map(toJson) },
      { authorization: `Bearer ${await token()}` },
    );
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(text).not.toMatch(/k9|k2|k1/);
    expect(text).not.toContain(RING_SOURCE);
    expect(text).not.toContain('/etc/');
    expect(logged.join('\n')).toMatch(/status=422 reason=undecryptable detail=".*k9/);
  });

  it('answers the CORS preflight for the UI origin only, allowing the Authorization header', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
    const other = await preflight('http://127.0.0.1:9999');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const authorization = `Bearer ${await token()}`;
    const evil = await post('/decode', { payloads: [] }, { authorization, origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
  });

  it('limits the body size and the payload count, and rejects malformed bodies without echoing them', async () => {
    const authorization = `Bearer ${await token()}`;
    const big = await post('/decode', JSON.stringify({ payloads: [{ data: 'A'.repeat(70 * 1024) }] }), {
      authorization,
    });
    expect(big.status).toBe(413);
    const many = await post(
      '/decode',
      { payloads: Array.from({ length: 11 }, () => ({})) },
      { authorization },
    );
    expect(many.status).toBe(413);
    const bad = await post('/decode', `{"payloads": [{"data": "tel:${NUMBER}"}]}`, { authorization });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain(NUMBER);
    expect((await post('/decode', 'not json', { authorization })).status).toBe(400);
    expect((await post('/other', { payloads: [] }, { authorization })).status).toBe(404);
    expect((await fetch(`${server.url}/decode`)).status).toBe(404);
  });

  it('logs one line per request with subject, namespace and payload count; never data or a token', async () => {
    const before = logged.length;
    const phoneSubject = '+44 7700 900999';
    const bearer = await token({ subject: phoneSubject });
    const payloads = [...(await encryptedNumber()), ...(await encryptedNumber())];
    expect((await post('/decode', { payloads }, { authorization: `Bearer ${bearer}` })).status).toBe(200);
    const expired = await token({ expiresIn: -600 });
    expect((await post('/decode', { payloads }, { authorization: `Bearer ${expired}` })).status).toBe(401);
    const lines = logged.slice(before);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^codec-server decode namespace=fraud subject=sha256:[0-9a-f]{16} payloads=2 status=200$/,
    );
    expect(lines[1]).toMatch(
      /^codec-server decode namespace=- subject=- payloads=- status=401 reason=unauthorized detail="ERR_JWT_EXPIRED/,
    );

    const all = logged.join('\n');
    expect(all).toMatch(new RegExp(`decode namespace=fraud subject=${SUBJECT} payloads=1 status=200`));
    expect(all).toMatch(/namespace=\(not allowed\) subject=user-7f3a9c payloads=- status=403/);
    for (const secret of [
      bearer,
      expired,
      bearer.split('.')[2]!,
      NUMBER,
      NUMBER.slice(1),
      '7700 900999',
      payloads[0]!.data!,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toMatch(/447700900456/);
  });
});

describe('where the codec server may run without OIDC', () => {
  const body = async () => ({ payloads: await encryptedNumber() });
  const decode = async (url: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: JSON.stringify(await body()),
    });

  it('on loopback (development): no token needed, namespaces still checked', async () => {
    const server = await startCodecServer({ ring, port: 0 });
    try {
      expect(server.auth).toBe('none');
      expect((await decode(server.url)).status).toBe(200);
      expect((await decode(server.url, { 'x-namespace': 'other' })).status).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('beyond loopback: refuses to start, saying what to set', async () => {
    for (const host of ['0.0.0.0', '::']) {
      await expect(startCodecServer({ ring, host, port: 0 })).rejects.toThrow(
        /NETCHECK_CODEC_OIDC_ISSUER[\s\S]*NETCHECK_CODEC_BEHIND_AUTH_PROXY/,
      );
    }
  });

  it('beyond loopback with an authenticating proxy declared in front: starts', async () => {
    const server = await startCodecServer({ ring, host: '0.0.0.0', port: 0, behindAuthProxy: true });
    try {
      expect(server.auth).toBe('proxy');
      const port = new URL(server.url).port;
      expect((await decode(`http://127.0.0.1:${port}`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('beyond loopback with OIDC: starts and requires tokens', async () => {
    const issuer = await startIssuer();
    const server = await startCodecServer({
      ring,
      host: '0.0.0.0',
      port: 0,
      oidc: { issuer: issuer.url, audience: AUDIENCE },
    });
    try {
      expect((await decode(`http://127.0.0.1:${new URL(server.url).port}`)).status).toBe(401);
    } finally {
      await server.close();
      await issuer.close();
    }
  });

  it('refuses the static token of earlier versions, and an issuer it cannot trust', async () => {
    await expect(
      startCodecServer({ ring, port: 0, token: 'x'.repeat(43) } as CodecServerOptions),
    ).rejects.toThrow(/no longer takes a static token/);
    const lying = await startIssuer(() => 'https://someone-else.example.com');
    try {
      await expect(
        startCodecServer({ ring, port: 0, oidc: { issuer: lying.url, audience: AUDIENCE } }),
      ).rejects.toThrow(/names the issuer/);
    } finally {
      await lying.close();
    }
    await expect(
      startCodecServer({ ring, port: 0, oidc: { issuer: 'http://idp.example.com', audience: AUDIENCE } }),
    ).rejects.toThrow(/must use https/);
    await expect(
      startCodecServer({
        ring,
        port: 0,
        oidc: { issuer: 'https://idp.example.com', audience: AUDIENCE, algorithms: ['HS256'] },
      }),
    ).rejects.toThrow(/HS256/);
  });
});

/** Waits for the CLI's startup banner; returns the URL it prints. */
function served(child: ReturnType<typeof spawnCli>, output: { stderr: string }): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      output.stderr += d.toString();
      const m = /codec server on (http:\/\/[\d.:]+)/.exec(output.stderr);
      if (m && output.stderr.includes('Ctrl-C')) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output.stderr}`)));
  });
}

async function stop(child: ReturnType<typeof spawnCli>): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

describe('netcheck codec-server and keygen', () => {
  const keys = newKeyEntry('cli');

  it('keygen prints a key entry the ring accepts, and --token a random token', async () => {
    const entry = await runCli(['keygen', '--id', 'k7']);
    expect(entry.code).toBe(0);
    expect(parseKeyRing(entry.stdout.trim(), 'keygen').primary).toBe('k7');
    const token = await runCli(['keygen', '--token']);
    expect(token.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('exits 2 naming every bad setting', async () => {
    const run = await runCli(['codec-server', '--port', '0'], {
      env: {
        NETCHECK_ENCRYPTION_KEYS: 'k1:short',
        NETCHECK_CODEC_OIDC_ISSUER: 'https://idp.example.com/',
        NETCHECK_CODEC_ENABLE_ENCODE: 'maybe',
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the key is 5 bytes|not base64/);
    expect(run.stderr).toMatch(/NETCHECK_CODEC_OIDC_ISSUER is set without NETCHECK_CODEC_OIDC_AUDIENCE/);
    expect(run.stderr).toMatch(/NETCHECK_CODEC_ENABLE_ENCODE is "maybe"/);
  });

  it('beyond loopback without OIDC: exits 2 saying what to set; with --behind-auth-proxy it serves', async () => {
    const refused = await runCli(['codec-server', '--host', '0.0.0.0', '--port', '0'], {
      env: { NETCHECK_ENCRYPTION_KEYS: keys },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/NETCHECK_CODEC_OIDC_ISSUER/);
    expect(refused.stderr).toMatch(/NETCHECK_CODEC_BEHIND_AUTH_PROXY=true \(--behind-auth-proxy\)/);

    const child = spawnCli(['codec-server', '--host', '0.0.0.0', '--port', '0', '--behind-auth-proxy'], {
      NETCHECK_ENCRYPTION_KEYS: keys,
    });
    const output = { stderr: '' };
    const url = await served(child, output);
    expect(output.stderr).toMatch(/Callers: +none here: the authenticating proxy in front/);
    expect((await fetch(`${url.replace('0.0.0.0', '127.0.0.1')}/decode`, { method: 'POST' })).status).toBe(
      403,
    );
    expect(await stop(child)).toBe(0);
  });

  it('refuses the old NETCHECK_CODEC_TOKEN instead of silently serving without it', async () => {
    const run = await runCli(['codec-server', '--port', '0'], {
      env: { NETCHECK_ENCRYPTION_KEYS: keys, NETCHECK_CODEC_TOKEN: randomBytes(32).toString('base64url') },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/NETCHECK_CODEC_TOKEN is no longer used/);
    expect(run.stderr).toMatch(/NETCHECK_CODEC_OIDC_ISSUER/);
  });

  it('with OIDC from the environment: decodes for a valid token, logs the subject, until SIGTERM', async () => {
    const issuer = await startIssuer();
    try {
      const child = spawnCli(['codec-server', '--port', '0', '--ui-origin', UI], {
        NETCHECK_ENCRYPTION_KEYS: keys,
        NETCHECK_CODEC_OIDC_ISSUER: issuer.url,
        NETCHECK_CODEC_OIDC_AUDIENCE: `other,${AUDIENCE}`,
        NETCHECK_CODEC_NAMESPACES: 'fraud',
      });
      const output = { stderr: '' };
      const url = await served(child, output);
      const key = issuer.keys[0]!;
      const bearer = await new SignJWT({})
        .setProtectedHeader({ alg: key.alg, kid: key.kid })
        .setIssuer(issuer.url)
        .setAudience(AUDIENCE)
        .setSubject('cli-user')
        .setExpirationTime('5m')
        .sign(key.privateKey);
      const cliCodec = new EncryptionCodec(parseKeyRing(keys, 'TEST'));
      const encrypted = await cliCodec.encode([defaultPayloadConverter.toPayload({ msisdn: NUMBER })]);
      const call = (authorization?: string) =>
        fetch(`${url}/decode`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-namespace': 'fraud',
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({ payloads: encrypted.map(toJson) }),
        });
      expect((await call()).status).toBe(401);
      const ok = await call(`Bearer ${bearer}`);
      expect(ok.status).toBe(200);
      const { payloads } = (await ok.json()) as { payloads: JsonPayload[] };
      expect(defaultPayloadConverter.fromPayload(fromJson(payloads[0]!))).toEqual({ msisdn: NUMBER });
      expect(await stop(child)).toBe(0);
      expect(output.stderr).toMatch(
        /Callers: +OIDC access tokens of http:\/\/127\.0\.0\.1:\d+ for other, temporal-codec/,
      );
      expect(output.stderr).toMatch(/Namespaces: +fraud; \/encode disabled/);
      expect(output.stderr).toMatch(
        /codec-server decode namespace=fraud subject=cli-user payloads=1 status=200/,
      );
      expect(output.stderr).not.toContain(bearer);
      expect(output.stderr).not.toContain(NUMBER);
    } finally {
      await issuer.close();
    }
  });
});
