/**
 * Conformance of the `camara` operator profile with the current CAMARA release files (copied
 * into specs/camara/current/, with their source and licence; nothing outside the project is
 * read): the wire facts on both sides (domain/profiles.ts for netcheck, simulator/camara-profile.ts
 * for the simulator) against each file's version, server URL, paths and security scopes; then
 * netcheck's requests and the simulator's answers, over real HTTP, validated with ajv against the
 * files' request and response schemas, errors included (each status's documented codes).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCamaraClient, type CamaraClient } from '../../activities/profiles/camara.js';
import { checkSpecOf } from '../../activities/profiles/wire.js';
import { CAMARA_OPERATION_NAMES, type CamaraOperation } from '../../domain/index.js';
import { CAMARA_PROFILE_OPERATIONS, camaraProfileScope } from '../../domain/profiles.js';
import { CAMARA_PROFILE_APIS } from '../../simulator/camara-profile.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { makeKeys } from '../support/keys.js';
import { deref, type OpenApiDoc } from '../support/camara-schemas.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SPECS = path.resolve(here, '../../specs/camara/current');
const FILES = {
  'sim-swap': 'sim-swap-r3.3.yaml',
  'device-reachability-status': 'device-reachability-status-r1.2.yaml',
  'device-roaming-status': 'device-roaming-status-r1.2.yaml',
} as const;
type SpecApi = keyof typeof FILES;

const docs = Object.fromEntries(
  Object.entries(FILES).map(([api, file]) => [
    api,
    parse(readFileSync(path.join(SPECS, file), 'utf8')) as OpenApiDoc,
  ]),
) as Record<SpecApi, OpenApiDoc>;

// ajv-formats is CommonJS: depending on the loader the default import is the plugin or `module.exports`.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as FormatsPlugin;
// OpenAPI 3.0 schemas: `nullable`, `example`, `discriminator` are not JSON Schema keywords.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

interface OpenApiOperation {
  security: { openId: string[] }[];
  requestBody: { content: { 'application/json': { schema: unknown } } };
  responses: Record<string, { content?: { 'application/json'?: { schema: unknown } } }>;
}

function specOf(operation: CamaraOperation): {
  doc: OpenApiDoc;
  base: string;
  op: OpenApiOperation;
  relPath: string;
} {
  const facts = CAMARA_PROFILE_OPERATIONS[operation];
  const doc = docs[facts.api];
  const server = (doc.servers as { url: string }[])[0]!.url; // {apiRoot}/sim-swap/v2
  const base = server.replace('{apiRoot}', '');
  const relPath = facts.path.slice(base.length);
  const paths = doc.paths as Record<string, { post: OpenApiOperation }>;
  const op = deref(doc, paths[relPath]?.post) as OpenApiOperation;
  return { doc, base, op, relPath };
}

function validate(schema: unknown, value: unknown, what: string): void {
  const check = ajv.compile(schema as object);
  expect(check(value), `${what}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(value)}`).toBe(true);
}

describe('the camara profile wire facts agree with the release files', () => {
  for (const operation of CAMARA_OPERATION_NAMES) {
    it(`${operation}: version, path, api-scope (netcheck and simulator)`, () => {
      const facts = CAMARA_PROFILE_OPERATIONS[operation];
      const { doc, base, op, relPath } = specOf(operation);
      expect((doc.info as { version: string }).version).toBe(facts.version);
      expect(facts.path.startsWith(base)).toBe(true);
      expect(op, `no POST ${relPath} in ${FILES[facts.api]}`).toBeDefined();
      expect(op.security.flatMap((s) => s.openId)).toContain(facts.apiScope);
      expect(CAMARA_PROFILE_APIS[operation]).toEqual({ path: facts.path, apiScope: facts.apiScope });
    });
  }
});

const { privateKey, publicKey } = makeKeys();
const clientId = randomUUID();
const KNOWN = '+447700900301';
const NEVER = '+447700900302';
const UNKNOWN = '+447700900303';
let sim: Simulator;
let client: CamaraClient;

beforeAll(async () => {
  sim = await startSimulator({
    applicationId: clientId,
    publicKey,
    port: 0,
    interval: 0,
    expiresIn: 30,
    scenarios: {
      numbers: {
        [KNOWN]: {
          lastSimChangeHoursAgo: 5,
          connectivity: 'CONNECTED_SMS',
          roaming: { roaming: true, countryCode: 262, countryName: ['DE'] },
        },
        [NEVER]: { lastSimChange: null, connectivity: 'NOT_CONNECTED', roaming: { roaming: false } },
        [UNKNOWN]: { unknown: true },
      },
    },
  });
  client = createCamaraClient({
    applicationId: clientId,
    privateKey,
    baseUrl: sim.url,
    camara: { issuer: sim.url, keyId: 'conformance' },
  });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});

/** A three-legged token for `operation` on `msisdn`, through the profile's client (discovery, client assertion). */
async function tokenFor(operation: CamaraOperation, msisdn: string): Promise<string> {
  const correlationId = randomUUID();
  const auth = await client.postFormWithAppJwt(
    'bc-authorize',
    '',
    { login_hint: `tel:${msisdn}`, scope: camaraProfileScope(operation, 'FraudPreventionAndDetection') },
    correlationId,
  );
  expect(auth.answer.status, JSON.stringify(auth.answer.body)).toBe(200);
  const authReqId = (auth.answer.body as { auth_req_id: string }).auth_req_id;
  for (let i = 0; i < 5; i++) {
    const poll = await client.postFormWithAppJwt(
      'token',
      '',
      { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId },
      correlationId,
    );
    if (poll.answer.status === 200) return (poll.answer.body as { access_token: string }).access_token;
  }
  throw new Error('no token');
}

async function exchange(operation: CamaraOperation, msisdn: string, body?: unknown) {
  const token = await tokenFor(operation, msisdn);
  const request = body ?? checkSpecOf(client, operation).body({ msisdn, maxAge: 240 });
  const { answer } = await client.postJsonWithToken(
    CAMARA_PROFILE_OPERATIONS[operation].path,
    request,
    token,
    randomUUID(),
  );
  return { request, status: answer.status, body: answer.body };
}

describe("netcheck's requests and the simulator's answers validate against the release files", () => {
  for (const operation of CAMARA_OPERATION_NAMES) {
    it(`${operation}: request, 200 answers, 404 IDENTIFIER_NOT_FOUND, 422 UNNECESSARY_IDENTIFIER`, async () => {
      const { op } = specOf(operation);
      const requestSchema = op.requestBody.content['application/json'].schema;
      const responseSchema = (status: number) =>
        op.responses[String(status)]!.content!['application/json']!.schema;
      for (const msisdn of [KNOWN, NEVER]) {
        const ok = await exchange(operation, msisdn);
        validate(requestSchema, ok.request, `${operation} request`);
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        validate(responseSchema(200), ok.body, `${operation} 200`);
      }
      const missing = await exchange(operation, UNKNOWN);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ code: 'IDENTIFIER_NOT_FOUND' });
      validate(responseSchema(404), missing.body, `${operation} 404`);
      // With a three-legged token the number must not be sent again.
      const named = operation.startsWith('sim-swap')
        ? { phoneNumber: KNOWN }
        : { device: { phoneNumber: KNOWN } };
      validate(requestSchema, named, `${operation} request naming the number`);
      const unnecessary = await exchange(operation, KNOWN, named);
      expect(unnecessary.status).toBe(422);
      expect(unnecessary.body).toMatchObject({ code: 'UNNECESSARY_IDENTIFIER' });
      validate(responseSchema(422), unnecessary.body, `${operation} 422`);
    });
  }

  it('the validation can fail: a Device Status 0.5 answer is not a Device Reachability Status 1.1 one', () => {
    const schema = specOf('device-connectivity').op.responses['200']!.content!['application/json']!.schema;
    const check = ajv.compile(schema as object);
    expect(check({ connectivityStatus: 'CONNECTED_DATA' })).toBe(false);
    expect(check({ lastStatusTime: '2026-01-01T00:00:00Z', reachable: true, connectivity: ['DATA'] })).toBe(
      true,
    );
  });

  it('a token of another api-scope answers 403, as the files define it', async () => {
    const token = await tokenFor('sim-swap', KNOWN);
    const { answer } = await client.postJsonWithToken(
      CAMARA_PROFILE_OPERATIONS['device-roaming'].path,
      {},
      token,
      randomUUID(),
    );
    expect(answer.status).toBe(403);
    validate(
      specOf('device-roaming').op.responses['403']!.content!['application/json']!.schema,
      answer.body,
      '403',
    );
  });
});
