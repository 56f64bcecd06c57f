/**
 * `npm run contract`: writes netcheck's cross-language contract (v1) under contract/v1/ — the
 * JSON Schemas of contract/schemas.ts, the manifest contract.json (names, ids, search attributes,
 * error codes, codec and batch facts, all read from the code) and the golden vectors — and prints
 * the CHANGELOG.md line a change of it needs. test/unit/contract.test.ts fails while the committed
 * files differ from what this writes, or while CHANGELOG.md does not name the contract's hash.
 *
 *   npm run contract            # write contract/v1/
 *   npm run contract -- --check # write nothing; exit 1 when contract/v1/ is out of date
 */
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import proto from '@temporalio/proto';
import * as prettier from 'prettier';
import { z } from 'zod';
import { subjectOf, SUBJECT_KEY_MIN_BYTES } from '../client/subject.js';
import { CIPHER, ENCRYPTED_ENCODING, METADATA_CIPHER, METADATA_KEY_ID } from '../codec/payload-codec.js';
import { KEY_BYTES, KEY_ID_PATTERN } from '../codec/keyring.js';
import { DEFAULT_TASK_QUEUE } from '../common/config.js';
import { BATCH_DEFAULTS } from '../domain/batch-options.js';
import { canonicalJson } from '../domain/canonical-json.js';
import {
  BATCH_BUSY,
  FIELD_LIMITS,
  MAX_OPERATIONS_PER_ITEM,
  PAGE_MAX_BYTES,
  PAGE_MAX_ITEMS,
} from '../domain/batch-pages.js';
import { ERROR_CODES } from '../domain/errors.js';
import {
  API_NAMES,
  defaultPurpose,
  MAX_AGE_DEFAULT,
  MAX_AGE_MAX,
  MAX_AGE_MIN,
  OPERATION_NAMES,
  OPERATIONS,
  PURPOSES,
  type Api,
} from '../domain/operations.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { NEXUS_BATCH_MAX_ITEMS, NEXUS_SERVICE_NAME } from '../worker/nexus.js';
import * as S from '../contract/schemas.js';

export const CONTRACT_VERSION = 1;
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const contractDir = path.join(root, 'contract', `v${CONTRACT_VERSION}`);

/** Files of contract/v1/, relative path → content. */
export type ContractFiles = Map<string, string>;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function schemaFile(schema: z.ZodType, io: 'input' | 'output', title?: string): string {
  const emitted = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Record<string, unknown>;
  return json(title && emitted.title === undefined ? { title, ...emitted } : emitted);
}

/** Every JSON Schema of the contract, by file name. */
function schemaFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'schemas/network-check.input.json': schemaFile(S.NetworkCheckInputSchema, 'input'),
    'schemas/network-check.result.json': schemaFile(S.CheckResultSchema, 'output'),
    'schemas/network-check.status.json': schemaFile(S.CheckProgressSchema, 'output'),
    'schemas/batch-check.input.json': schemaFile(S.BatchInputSchema, 'input'),
    'schemas/batch-check.result.json': schemaFile(S.BatchProgressSchema, 'output'),
    'schemas/batch-check.add-page.input.json': schemaFile(S.BatchPageSchema, 'input'),
    'schemas/batch-check.add-page.result.json': schemaFile(S.AddPageAckSchema, 'output'),
    'schemas/batch-result-page.result.json': schemaFile(S.ResultPageSchema, 'output'),
    'schemas/batch-item.json': schemaFile(S.BatchItemSchema, 'input'),
    'schemas/batch-record.json': schemaFile(S.BatchRecordSchema, 'output'),
    'schemas/nexus.check.input.json': schemaFile(S.NexusCheckInputSchema, 'input'),
    'schemas/nexus.batch.input.json': schemaFile(S.NexusBatchInputSchema, 'input'),
    'schemas/network-assess.input.json': schemaFile(S.AssessInputSchema, 'input'),
    'schemas/network-assess.result.json': schemaFile(S.AssessmentResultSchema, 'output'),
  };
  for (const { operation, api } of S.CHECK_PROFILES) {
    const { input, result } = S.checkSchemasFor(operation, api);
    files[`schemas/checks/${api}.${operation}.input.json`] = schemaFile(
      input,
      'input',
      `networkCheck input: ${operation} over ${api}`,
    );
    files[`schemas/checks/${api}.${operation}.result.json`] = schemaFile(
      result,
      'output',
      `networkCheck result: ${operation} over ${api}`,
    );
  }
  return files;
}

// ---- golden vectors: fixed inputs, the contract's algorithms written out from docs/contract.md ----

/** 32 bytes made from a label: fixed test keys, never used anywhere but here. */
const testBytes = (label: string, n = 32) => createHash('sha256').update(label).digest().subarray(0, n);

function codecVectors() {
  const Payload = proto.temporal.api.common.v1.Payload;
  const data = Buffer.from(JSON.stringify({ msisdn: '+447700900001', operation: 'sim-swap', api: 'camara' }));
  const plain = Buffer.from(
    Payload.encode({ metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data }).finish(),
  );
  const keys = [
    { id: 'k20261201', key: testBytes('netcheck contract v1 test key k20261201') },
    { id: 'legacy.k-0', key: testBytes('netcheck contract v1 test key legacy.k-0') },
  ];
  return {
    note: 'Test keys: never use them for anything else.',
    keyRing: keys.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(','),
    payload: { metadata: { encoding: 'json/plain' }, data: data.toString('utf8') },
    plaintextBase64: plain.toString('base64'),
    ciphertexts: keys.map(({ id, key }, i) => {
      const iv = testBytes(`netcheck contract v1 test iv ${i}`, 12);
      const aad = `netcheck-payload/v1|${id}`;
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        keyId: id,
        ivBase64: iv.toString('base64'),
        associatedData: aad,
        metadata: {
          [METADATA_ENCODING_KEY]: ENCRYPTED_ENCODING,
          [METADATA_KEY_ID]: id,
          [METADATA_CIPHER]: CIPHER,
        },
        dataBase64: sealed.toString('base64'),
      };
    }),
  };
}

function vectors() {
  const subjectKeys = [
    'netcheck-contract-v1-subject-key-0123456789abcdef',
    'clé de sujet du contrat netcheck v1 — 32 octets et plus',
  ];
  const subjects = [
    { key: subjectKeys[0]!, msisdn: '+447700900001' },
    { key: subjectKeys[0]!, msisdn: '+14155550100' },
    { key: subjectKeys[1]!, msisdn: '+447700900001' },
  ].map((v) => ({ ...v, subject: subjectOf(v.msisdn, v.key) }));
  const key = subjectKeys[0]!;
  const items = [
    { msisdn: '+447700900001', operations: ['sim-swap', 'device-roaming'], maxAge: 24, ref: 'cust-1' },
    {
      msisdn: '+447700900002',
      operations: ['carrier'],
      api: 'identity-insights',
      ref: 'a "quoted" ré\u2028f\n',
    },
    { msisdn: '+447700900001', operations: ['sim-swap'], maxAge: 24, purpose: 'FraudPreventionAndDetection' },
  ];
  const canonical = canonicalJson(items);
  const fingerprint = createHmac('sha256', key)
    .update(`netcheck-batch-input:v1:${canonical}`)
    .digest('base64url')
    .slice(0, 32);
  const subject = subjects[0]!.subject;
  return {
    subject: subjects,
    workflowId: {
      api: 'camara',
      operation: 'sim-swap',
      subject,
      requestId: 'order-4711',
      workflowId: `netcheck-camara-sim-swap-${subject}-order-4711`,
    },
    batchFingerprint: { key, items, canonical, fingerprint },
    codec: codecVectors(),
  };
}

// ---- the manifest ----

function manifest(schemaNames: string[]) {
  const keyword = (values?: readonly string[], description?: string) => ({
    type: 'Keyword',
    ...(values ? { values } : {}),
    ...(description ? { description } : {}),
  });
  const searchAttributeValues: Record<string, ReturnType<typeof keyword>> = {
    NetcheckOperation: keyword(
      [...OPERATION_NAMES, 'assess'],
      'Set at start by the client (else by the workflow); "assess" on an assessment.',
    ),
    NetcheckApi: keyword(API_NAMES, 'Set at start by the client (else by the workflow).'),
    NetcheckSubject: keyword(undefined, 'The subject of the number; set at start by the client.'),
    NetcheckBatchId: keyword(undefined, 'The batch id, on a batch and on each of its checks.'),
    NetcheckOutcome: keyword(['ok', 'failed'], 'Set by the workflow when the check ends.'),
    NetcheckErrorCode: keyword(Object.keys(ERROR_CODES), 'Set by the workflow when a check fails.'),
    NetcheckVerdict: keyword(
      ['allow', 'review', 'block'],
      'Set by networkAssess when it reaches its verdict.',
    ),
  };
  return {
    contract: 'netcheck',
    version: CONTRACT_VERSION,
    hash: '',
    docs: 'docs/contract.md',
    taskQueue: { default: DEFAULT_TASK_QUEUE, setting: 'NETCHECK_TASK_QUEUE' },
    workflows: {
      networkCheck: {
        input: 'schemas/network-check.input.json',
        inputByProfile: 'schemas/checks/<api>.<operation>.input.json',
        result: 'schemas/network-check.result.json',
        resultByProfile: 'schemas/checks/<api>.<operation>.result.json',
        queries: { status: 'schemas/network-check.status.json' },
        workflowId: 'netcheck-<api>-<operation>-<subject>-<requestId>',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        searchAttributesAtStart: ['NetcheckOperation', 'NetcheckApi', 'NetcheckSubject'],
      },
      batchCheck: {
        input: 'schemas/batch-check.input.json',
        result: 'schemas/batch-check.result.json',
        queries: { progress: 'schemas/batch-check.result.json' },
        updates: {
          addPage: {
            input: 'schemas/batch-check.add-page.input.json',
            result: 'schemas/batch-check.add-page.result.json',
            busyFailureType: BATCH_BUSY,
          },
        },
        workflowId: '<batchId>',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowTaskTimeoutSeconds: 20,
        searchAttributesAtStart: ['NetcheckBatchId'],
        memo: { netcheckInput: 'the batch input fingerprint (docs/contract.md)' },
        checkWorkflowId: '<batchId>/<index>/<operation>',
      },
      networkAssess: {
        input: 'schemas/network-assess.input.json',
        result: 'schemas/network-assess.result.json',
        workflowId: 'netcheck-<api>-assess-<subject>-<requestId>',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        searchAttributesAtStart: ['NetcheckOperation', 'NetcheckApi', 'NetcheckSubject'],
        checkWorkflowId: '<assessment workflow id>/<operation> (camara road)',
        docs: 'docs/assess.md',
      },
      batchResultPage: {
        result: 'schemas/batch-result-page.result.json',
        workflowId: '<batchId>/results/<n>',
      },
    },
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((key) => [key.name, searchAttributeValues[key.name] ?? keyword()]),
    ),
    operations: Object.fromEntries(
      OPERATION_NAMES.map((operation) => [
        operation,
        {
          apis: OPERATIONS[operation].apis,
          defaultApi: (OPERATIONS[operation].apis as readonly Api[]).includes('camara')
            ? 'camara'
            : OPERATIONS[operation].apis[0],
          defaultPurpose: Object.fromEntries(
            (OPERATIONS[operation].apis as readonly Api[]).map((api) => [
              api,
              defaultPurpose(operation, api) ?? null,
            ]),
          ),
        },
      ]),
    ),
    apis: API_NAMES,
    purposes: PURPOSES,
    maxAge: { min: MAX_AGE_MIN, max: MAX_AGE_MAX, default: MAX_AGE_DEFAULT, unit: 'hours' },
    errorCodes: Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, { retryable, outcome }]) => [code, { retryable, outcome }]),
    ),
    subject: {
      algorithm: 'HMAC-SHA256',
      key: 'the UTF-8 bytes of NETCHECK_SUBJECT_KEY, as written',
      keyMinBytes: SUBJECT_KEY_MIN_BYTES,
      message: 'the UTF-8 bytes of the E.164 number',
      output: 'the first 32 characters of the lowercase hex digest',
    },
    batchFingerprint: {
      algorithm: 'HMAC-SHA256',
      key: 'the subject key',
      message: 'netcheck-batch-input:v1:<canonical JSON of the first page of items>',
      output: 'the first 32 characters of the base64url digest (no padding)',
    },
    codec: {
      encoding: ENCRYPTED_ENCODING,
      metadata: { keyId: METADATA_KEY_ID, cipher: METADATA_CIPHER },
      cipher: CIPHER,
      keyBytes: KEY_BYTES,
      ivBytes: 12,
      tagBytes: 16,
      data: 'IV ‖ ciphertext ‖ tag',
      plaintext: 'the protobuf encoding of the whole temporal.api.common.v1.Payload',
      associatedData: 'netcheck-payload/v1|<key id>',
      keyIdPattern: KEY_ID_PATTERN.source,
      keyRing:
        'NETCHECK_ENCRYPTION_KEYS: <key id>:<base64 of 32 bytes>, comma-separated, newest (encrypting) first',
    },
    batch: {
      defaults: BATCH_DEFAULTS,
      pageMaxItems: PAGE_MAX_ITEMS,
      pageMaxBytes: PAGE_MAX_BYTES,
      maxOperationsPerItem: MAX_OPERATIONS_PER_ITEM,
      fieldLimits: FIELD_LIMITS,
    },
    nexus: {
      service: NEXUS_SERVICE_NAME,
      operations: {
        check: { input: 'schemas/nexus.check.input.json', output: 'schemas/network-check.result.json' },
        batch: {
          input: 'schemas/nexus.batch.input.json',
          output: 'schemas/batch-check.result.json',
          maxItems: NEXUS_BATCH_MAX_ITEMS,
        },
      },
    },
    schemas: schemaNames,
    vectors: 'vectors.json',
  };
}

/** sha256 over every file, the manifest's own `hash` left empty. */
export function contractHash(files: ContractFiles): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) {
    let content = files.get(name)!;
    // The manifest counts with an empty hash (the same text once formatted: only the value differs).
    if (name === 'contract.json') content = content.replace(/"hash": "[^"]*"/, '"hash": ""');
    hash.update(`${name}\n${content}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The files as the project's prettier writes JSON, so `npm run format` leaves them as they are. */
async function formatted(files: ContractFiles): Promise<ContractFiles> {
  const options = (await prettier.resolveConfig(path.join(contractDir, 'contract.json'))) ?? {};
  const out: ContractFiles = new Map();
  for (const [name, content] of files)
    out.set(name, await prettier.format(content, { ...options, parser: 'json' }));
  return out;
}

/** What `npm run contract` writes, in memory. */
export async function generateContract(): Promise<ContractFiles> {
  const files: ContractFiles = new Map(Object.entries(schemaFiles()));
  files.set('vectors.json', json(vectors()));
  const info = manifest([...files.keys()].filter((f) => f.startsWith('schemas/')).sort());
  files.set('contract.json', json(info));
  const draft = await formatted(files);
  draft.set('contract.json', json({ ...info, hash: contractHash(draft) }));
  return formatted(draft);
}

/** The short form CHANGELOG.md must name: `contract v1 sha256:<first 16 hex>`. */
export function changelogTag(files: ContractFiles): string {
  const { hash } = JSON.parse(files.get('contract.json')!) as { hash: string };
  return `contract v${CONTRACT_VERSION} ${hash.slice(0, 'sha256:'.length + 16)}`;
}

/** The files under contract/v1/ as they are on disk. */
export function committedContract(dir = contractDir): ContractFiles {
  const files: ContractFiles = new Map();
  const walk = (sub: string) => {
    if (!existsSync(path.join(dir, sub))) return;
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.json')) files.set(rel, readFileSync(path.join(dir, rel), 'utf8'));
    }
  };
  walk('');
  return files;
}

/** Names of the files that differ (missing, extra or changed). */
export function contractDiff(expected: ContractFiles, actual: ContractFiles): string[] {
  const names = new Set([...expected.keys(), ...actual.keys()]);
  return [...names].filter((name) => expected.get(name) !== actual.get(name)).sort();
}

async function main(argv: string[]): Promise<number> {
  const files = await generateContract();
  const tag = changelogTag(files);
  const changelog = path.join(root, 'CHANGELOG.md');
  const noted = existsSync(changelog) && readFileSync(changelog, 'utf8').includes(tag);
  const stale = contractDiff(files, committedContract());
  if (argv.includes('--check')) {
    if (stale.length > 0)
      console.error(
        `contract/v${CONTRACT_VERSION} is out of date: ${stale.join(', ')}. Run npm run contract.`,
      );
    if (!noted) console.error(`CHANGELOG.md does not name ${tag}.`);
    return stale.length > 0 || !noted ? 1 : 0;
  }
  rmSync(path.join(contractDir, 'schemas'), { recursive: true, force: true });
  for (const [name, content] of files) {
    mkdirSync(path.dirname(path.join(contractDir, name)), { recursive: true });
    writeFileSync(path.join(contractDir, name), content);
  }
  console.log(
    stale.length > 0
      ? `contract/v${CONTRACT_VERSION}: ${stale.length} file(s) written (${stale.join(', ')})`
      : `contract/v${CONTRACT_VERSION} is up to date`,
  );
  if (!noted) {
    console.log(
      `\nCHANGELOG.md must name this contract. Add under "## Unreleased", saying what changed:\n` +
        `- Contract: <what changed> (${tag}).`,
    );
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
