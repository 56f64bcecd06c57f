/**
 * The wire shapes of netcheck's Temporal contract (v1), as zod schemas: every JSON value a caller
 * in any language sends to netcheck's workflows (inputs, the batch's `addPage` update, Nexus
 * inputs) or reads back (results, queries, result records). `npm run contract`
 * (scripts/contract.ts) turns them into the JSON Schemas committed under contract/v1/, and
 * test/unit/contract.test.ts fails when those differ from what this file emits.
 *
 * The shapes are the code's own: the checks at the end of this file make `npm run typecheck`
 * fail when a schema and the TypeScript type it describes (domain/types.ts, domain/batch.ts,
 * worker/nexus.ts) disagree on a field, its optionality or its type. A field added to one of
 * those types must be added here too, then `npm run contract`, then a CHANGELOG.md line.
 *
 * Rules of v1: fields may be added (optional in what callers send; readers ignore fields they do
 * not know, so schemas of what netcheck returns allow them); nothing is removed, renamed or
 * changes meaning within v1.
 */
import { z } from 'zod';
import type {
  AddPageAck,
  BatchItem,
  BatchOptions,
  BatchPage,
  BatchPageItem,
  BatchProgress,
  BatchRecord,
  StoredRecord,
} from '../domain/batch.js';
import { BATCH_OPTION_LIMITS, CHECK_TIMEOUT_LIMITS } from '../domain/batch-options.js';
import { FIELD_LIMITS, MAX_OPERATIONS_PER_ITEM, PAGE_MAX_ITEMS } from '../domain/batch-pages.js';
import { ERROR_CODES, type ErrorCode } from '../domain/errors.js';
import {
  API_NAMES,
  MAX_AGE_MAX,
  MAX_AGE_MIN,
  OPERATION_NAMES,
  OPERATIONS,
  PURPOSES,
  type Api,
  type Operation,
} from '../domain/operations.js';
import type {
  CarrierData,
  CarrierNetwork,
  CheckError,
  CheckProgress,
  CheckRequest,
  CheckTimestamps,
  ConnectivityData,
  FailedCheckResult,
  NetworkCheckInput,
  OkCheckResult,
  RoamingData,
  SimSwapCheckData,
  SimSwapDateData,
} from '../domain/types.js';
import { RATE_LIMITS } from '../domain/rate-limit.js';
import { PROFILE_NAMES } from '../domain/profiles.js';
import type {
  AssessBatchOption,
  AssessInput,
  AssessmentResult,
  EvidenceMap,
  EvidenceSource,
  UnknownSignal,
} from '../domain/assess.js';
import {
  CONNECTIVITY_STATUSES,
  POLICY_LIMITS,
  RULE_ID,
  SIGNALS,
  VERDICTS,
  type CompiledPolicy,
  type Condition,
  type SignalName,
} from '../domain/policy.js';
import type { BatchInput } from '../workflows/batch.js';
import type { NexusBatchInput, NexusCheckInput } from '../worker/nexus.js';

/** What callers send: closed objects (a misspelt field is an error, not silently ignored). */
const input = z.strictObject;
/** What netcheck returns: open objects (v1 may add fields; ignore the ones you do not know). */
const output = z.looseObject;

// ---- scalars ----

export const Msisdn = z
  .string()
  .regex(/^\+[1-9]\d{4,14}$/)
  .meta({
    id: 'Msisdn',
    description: 'E.164: "+" then 5 to 15 digits, no leading zero, e.g. +447700900000.',
  });
export const OperationName = z
  .enum(OPERATION_NAMES as [Operation, ...Operation[]])
  .meta({ id: 'Operation', description: 'The check to run.' });
export const ApiName = z.enum(API_NAMES).meta({
  id: 'Api',
  description: 'Which Vonage API answers: camara (the CIBA flow) or identity-insights.',
});
export const Purpose = z.enum(PURPOSES).meta({
  id: 'Purpose',
  description: 'The DPV purpose the Vonage application is registered with.',
});
export const MaxAge = z
  .int()
  .min(MAX_AGE_MIN)
  .max(MAX_AGE_MAX)
  .meta({ id: 'MaxAge', description: 'SIM Swap check window in hours (default 240). sim-swap only.' });
export const Subject = z
  .string()
  .regex(/^[0-9a-f]{32}$/)
  .meta({
    id: 'Subject',
    description: 'Keyed hash of the number (docs/contract.md, "Subject"): 32 lowercase hex characters.',
  });
export const ErrorCodeName = z
  .enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]])
  .meta({ id: 'ErrorCode', description: 'contract.json "errorCodes" says what each code means.' });
const count = z.int().min(0);
const isoTime = z.iso.datetime({ offset: true });
export const BatchIdText = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/)
  .meta({
    id: 'BatchId',
    description: '1–200 letters, digits and . _ : - starting with a letter or digit; also the workflow id.',
  });

// ---- one check ----

const checkOptionsShape = {
  skipFirstWait: z
    .boolean()
    .optional()
    .describe('Poll the token endpoint at once instead of waiting `interval` first (default false).'),
  maxAuthorizations: z
    .int()
    .min(1)
    .optional()
    .describe('How many bc-authorize requests in all when authorizations expire (default 2).'),
  fast: z
    .boolean()
    .optional()
    .describe('Run the HTTP steps as local activities in the workflow worker (default false).'),
};

const checkRequestShape = {
  msisdn: Msisdn,
  operation: OperationName,
  api: ApiName.optional().describe('Default camara; carrier runs over identity-insights only.'),
  maxAge: MaxAge.optional(),
  purpose: Purpose.optional().describe('Default: what Vonage documents for the operation and API.'),
};

export const CheckRequestSchema = input(checkRequestShape).meta({ id: 'CheckRequest' });

export const NetworkCheckInputSchema = input({
  ...checkRequestShape,
  ...checkOptionsShape,
  correlationId: z
    .uuid()
    .optional()
    .describe('Sent as x-correlator on every call of this check; generated by the workflow if absent.'),
  subject: Subject.optional().describe('Sets the NetcheckSubject search attribute when the start did not.'),
  batchId: BatchIdText.optional().describe('Set by batchCheck on its children only; leave it out.'),
}).meta({ id: 'NetworkCheckInput', title: 'networkCheck workflow input' });

export const SimSwapCheckDataSchema = output({ swapped: z.boolean() }).meta({ id: 'SimSwapCheckData' });
export const SimSwapDateDataSchema = output({
  latestSimChange: isoTime
    .nullable()
    .optional()
    .describe('Absent or null when the provider knows of no SIM change.'),
  monitoredPeriod: z
    .number()
    .int()
    .optional()
    .describe(
      'Profile camara (SIM Swap 2.1.0): days the operator monitors; with a null date, no change in that time.',
    ),
}).meta({ id: 'SimSwapDateData' });
export const ConnectivityDataSchema = output({
  connectivityStatus: z.enum(['CONNECTED_DATA', 'CONNECTED_SMS', 'NOT_CONNECTED']),
}).meta({ id: 'ConnectivityData' });
export const RoamingDataSchema = output({
  roaming: z.boolean(),
  countryCode: z.int().optional().describe('Mobile country code of the visited network.'),
  countryName: z.array(z.string()).optional(),
}).meta({ id: 'RoamingData' });
export const CarrierNetworkSchema = output({
  name: z.string().optional(),
  networkType: z.string().optional().describe('e.g. MOBILE, FIXED, VOIP, as the provider reports it.'),
  networkCode: z.string().optional().describe('MCC+MNC.'),
  countryCode: z.string().optional().describe('ISO 3166-1 alpha-2.'),
}).meta({ id: 'CarrierNetwork' });
export const CarrierDataSchema = output({
  valid: z.boolean().describe('Whether the number is in a format carriers may assign to users.'),
  countryCode: z.string().optional().describe('ISO 3166-1 alpha-2 country of the number.'),
  countryName: z.string().optional(),
  originalCarrier: CarrierNetworkSchema.optional(),
  currentCarrier: CarrierNetworkSchema.optional(),
  ported: z.boolean().optional(),
}).meta({ id: 'CarrierData' });

export const DATA_SCHEMAS = {
  'sim-swap': SimSwapCheckDataSchema,
  'sim-swap-date': SimSwapDateDataSchema,
  'device-connectivity': ConnectivityDataSchema,
  'device-roaming': RoamingDataSchema,
  carrier: CarrierDataSchema,
} as const satisfies Record<Operation, z.ZodType>;

export const CheckTimestampsSchema = output({
  started: isoTime,
  authorized: isoTime.optional(),
  tokenIssued: isoTime.optional(),
  checked: isoTime.optional(),
  finished: isoTime,
}).meta({ id: 'CheckTimestamps' });

export const CheckErrorSchema = output({ code: ErrorCodeName, message: z.string() }).meta({
  id: 'CheckError',
});

function resultBase(api: z.ZodType<Api>) {
  return {
    api,
    profile: z
      .enum(['vonage', 'camara'])
      .optional()
      .describe('The operator profile of the worker (docs/profiles.md); absent: vonage.'),
    apiVersion: z.string().optional().describe('The version of the CAMARA API that answered, with profile.'),
    correlationId: z.string().describe('The x-correlator sent on every request of this check.'),
    requestId: z.string().optional().describe("Identity Insights' request_id, for support cases."),
    polls: count.describe('Token-endpoint polls made (0 over identity-insights).'),
    authorizations: count.describe('bc-authorize requests made (0 over identity-insights).'),
    timestamps: CheckTimestampsSchema,
  };
}

function okResult<O extends Operation>(operation: O, api: z.ZodType<Api> = ApiName) {
  return output({
    ...resultBase(api),
    operation: z.literal(operation),
    status: z.literal('ok'),
    data: DATA_SCHEMAS[operation],
    missing: z
      .array(z.string())
      .optional()
      .describe('Fields the provider could not give (absent from data).'),
    missingCodes: z
      .record(z.string(), z.string())
      .optional()
      .describe('For each entry of missing, the Identity Insights status code that left it out.'),
  });
}

function failedResult(operation: z.ZodType<Operation>, api: z.ZodType<Api> = ApiName) {
  return output({
    ...resultBase(api),
    operation,
    status: z.literal('failed'),
    error: CheckErrorSchema.describe('Final for this number: see errorCodes in contract.json.'),
  });
}

export const OkResultSchemas = {
  'sim-swap': okResult('sim-swap').meta({ id: 'OkSimSwapResult' }),
  'sim-swap-date': okResult('sim-swap-date').meta({ id: 'OkSimSwapDateResult' }),
  'device-connectivity': okResult('device-connectivity').meta({ id: 'OkDeviceConnectivityResult' }),
  'device-roaming': okResult('device-roaming').meta({ id: 'OkDeviceRoamingResult' }),
  carrier: okResult('carrier').meta({ id: 'OkCarrierResult' }),
} as const;
export const FailedCheckResultSchema = failedResult(OperationName).meta({ id: 'FailedCheckResult' });

export const CheckResultSchema = z.union([...Object.values(OkResultSchemas), FailedCheckResultSchema]).meta({
  id: 'CheckResult',
  title: 'networkCheck workflow result',
  description: 'status "ok" (data has the operation\'s fields) or "failed" (error.code says why).',
});

/** The input and result of one operation over one API, with `operation` and `api` fixed. */
export function checkSchemasFor(operation: Operation, api: Api) {
  const req = input({
    msisdn: Msisdn,
    operation: z.literal(operation),
    // The workflow takes a missing api as camara (carrier included: send identity-insights).
    api: api === 'camara' ? z.literal(api).optional() : z.literal(api),
    ...(operation === 'sim-swap' ? { maxAge: MaxAge.optional() } : {}),
    ...(operation === 'carrier' ? {} : { purpose: Purpose.optional() }),
    ...checkOptionsShape,
    correlationId: NetworkCheckInputSchema.shape.correlationId,
    subject: NetworkCheckInputSchema.shape.subject,
  });
  const ok = okResult(operation, z.literal(api));
  const failed = failedResult(z.literal(operation), z.literal(api));
  return { input: req, result: z.union([ok, failed]) };
}

/** Every (operation, api) pair netcheck serves. */
export const CHECK_PROFILES = OPERATION_NAMES.flatMap((operation) =>
  (OPERATIONS[operation].apis as readonly Api[]).map((api) => ({ operation, api })),
);

export const CheckProgressSchema = output({
  phase: z.enum(['validating', 'authorizing', 'waiting', 'polling', 'checking', 'done']),
  operation: OperationName,
  polls: count,
  authorizations: count,
  intervalSeconds: z.number().optional().describe('Current poll interval in seconds.'),
  nextPollAt: isoTime.optional(),
  deadline: isoTime.optional().describe('When the current authorization expires.'),
  result: CheckResultSchema.optional(),
}).meta({ id: 'CheckProgress', title: 'networkCheck "status" query answer' });

// ---- assessments (networkAssess; domain/assess.ts, domain/policy.ts) ----

export const SignalNameSchema = z
  .enum(SIGNALS as unknown as [SignalName, ...SignalName[]])
  .meta({ id: 'Signal', description: 'A network signal a policy can use.' });
export const VerdictSchema = z.enum(VERDICTS).meta({ id: 'Verdict' });

/** A compiled condition (docs/assess.md has the forms a policy file may use). */
export const ConditionSchema: z.ZodType<Condition> = z
  .union([
    input({
      kind: z.literal('sim_swap.within'),
      hours: z.int().min(POLICY_LIMITS.minHours).max(POLICY_LIMITS.maxHours),
    }),
    input({ kind: z.literal('roaming') }),
    input({
      kind: z.literal('roaming.outside'),
      countries: z
        .array(z.string().regex(/^[A-Z]{2}$/))
        .min(1)
        .max(POLICY_LIMITS.listItems),
    }),
    input({ kind: z.literal('connectivity'), statuses: z.array(z.enum(CONNECTIVITY_STATUSES)).min(1) }),
    input({ kind: z.literal('carrier_changed') }),
    input({ kind: z.literal('unknown'), signals: z.array(SignalNameSchema).min(1) }),
    input({
      kind: z.literal('all'),
      get of() {
        return z.array(ConditionSchema).min(1).max(POLICY_LIMITS.listItems);
      },
    }),
    input({
      kind: z.literal('any'),
      get of() {
        return z.array(ConditionSchema).min(1).max(POLICY_LIMITS.listItems);
      },
    }),
    input({
      kind: z.literal('not'),
      get of() {
        return ConditionSchema;
      },
    }),
  ])
  .meta({ id: 'Condition' });

export const CompiledPolicySchema = input({
  format: z.literal(1),
  name: z.string().max(POLICY_LIMITS.name).optional(),
  rules: z
    .array(input({ id: z.string().regex(RULE_ID), when: ConditionSchema, then: VerdictSchema }))
    .max(POLICY_LIMITS.rules),
  default: VerdictSchema,
}).meta({
  id: 'CompiledPolicy',
  description: 'A policy as compiled by the client (docs/assess.md); its version is computed from it.',
});

export const AssessInputSchema = input({
  msisdn: Msisdn,
  api: ApiName.optional().describe('identity-insights (one request) or camara (a check per signal).'),
  purpose: z
    .string()
    .max(FIELD_LIMITS.purpose)
    .optional()
    .describe('One purpose, or one per API family (sim-swap=…,device-status=…).'),
  ...checkOptionsShape,
  policy: CompiledPolicySchema,
  correlationId: z.string().optional().describe('x-correlator of every request; generated if absent.'),
  subject: Subject.optional(),
  batchId: BatchIdText.optional().describe('Set by batchCheck on its children only; leave it out.'),
  profile: z
    .enum(PROFILE_NAMES)
    .optional()
    .describe(
      "The workers' operator profile when not vonage: camara has no Identity Insights (carrier unknown).",
    ),
}).meta({ id: 'AssessInput', title: 'networkAssess workflow input' });

export const EvidenceSourceSchema = output({
  api: ApiName,
  via: z.string().describe('The insights asked (identity-insights) or the check that ran.'),
  requestId: z.string().optional(),
  workflowId: z.string().optional().describe('The check workflow that answered (camara road).'),
}).meta({ id: 'EvidenceSource' });

const evidenceOf = <V extends z.ZodType>(value: V) =>
  output({ value, observedAt: isoTime, source: EvidenceSourceSchema });

/** Each gathered signal: its value, when the provider answered, where it came from. */
export const EvidenceMapSchema = output({
  sim_swap: evidenceOf(
    output({
      latestSimChange: isoTime.nullable().describe('The latest SIM change; null: none known.'),
    }),
  ).optional(),
  roaming: evidenceOf(RoamingDataSchema).optional(),
  connectivity: evidenceOf(ConnectivityDataSchema).optional(),
  carrier: evidenceOf(
    output({
      changed: z.boolean().describe('The current network differs from the original one.'),
      originalCarrier: CarrierNetworkSchema.optional(),
      currentCarrier: CarrierNetworkSchema.optional(),
    }),
  ).optional(),
}).meta({ id: 'Evidence' });

export const UnknownSignalSchema = output({
  signal: SignalNameSchema,
  code: ErrorCodeName,
  message: z.string(),
  source: EvidenceSourceSchema,
}).meta({ id: 'UnknownSignal' });

export const AssessmentResultSchema = output({
  verdict: VerdictSchema,
  reasons: z.array(z.string()).describe('Ids of the rules that fired, in policy order.'),
  evidence: EvidenceMapSchema,
  unknown: z.array(UnknownSignalSchema),
  policyVersion: z.string().regex(/^[0-9a-f]{16}$/),
  policyName: z.string().optional(),
  signals: z.array(SignalNameSchema),
  api: ApiName,
  correlationId: z.string(),
  timestamps: output({ started: isoTime, finished: isoTime }),
}).meta({ id: 'AssessmentResult', title: 'networkAssess workflow result' });

// ---- batches ----

const limit = (name: keyof typeof BATCH_OPTION_LIMITS) =>
  z.int().min(BATCH_OPTION_LIMITS[name].min).max(BATCH_OPTION_LIMITS[name].max).optional();

export const BatchOptionsSchema = input({
  ...checkOptionsShape,
  maxAuthorizations: limit('maxAuthorizations').describe('bc-authorize requests per check (default 2).'),
  concurrency: limit('concurrency').describe('Most checks in flight at once (default 100).'),
  dedupe: z
    .boolean()
    .optional()
    .describe('Honour duplicateOf marks: check a repeated item once, fan its result out (default true).'),
  continueAsNewAfter: limit('continueAsNewAfter').describe(
    'Checks per run before continue-as-new (default 2000).',
  ),
  resultPageSize: limit('resultPageSize').describe('Records per stored result page (default 200).'),
  bulk: z.boolean().optional().describe('Bulk mode (docs/bulk.md): no child workflow per check.'),
  chunkSize: limit('chunkSize').describe('Bulk only: checks per chunk activity (default 200).'),
  chunkConcurrency: limit('chunkConcurrency').describe('Bulk only: chunk activities at once (default 4).'),
  rateLimit: z
    .number()
    .min(RATE_LIMITS.min)
    .max(RATE_LIMITS.max)
    .optional()
    .describe('Bulk only: requests per second to Vonage for the whole batch.'),
  checkTimeout: z
    .int()
    .min(CHECK_TIMEOUT_LIMITS.min)
    .max(CHECK_TIMEOUT_LIMITS.max)
    .optional()
    .describe("Per-check batches: each check's execution timeout in milliseconds (default 1 hour)."),
  assess: input({ policy: CompiledPolicySchema, profile: z.enum(PROFILE_NAMES).optional() })
    .optional()
    .describe(
      'An assessment batch: each item is a networkAssess with this policy (items take operation "assess").',
    ),
}).meta({ id: 'BatchOptions' });

export const BatchInputSchema = input({
  batchId: BatchIdText,
  options: BatchOptionsSchema.optional(),
}).meta({ id: 'BatchInput', title: 'batchCheck workflow input' });

const batchItemShape = {
  msisdn: Msisdn,
  operations: z
    .array(OperationName)
    .min(1)
    .max(MAX_OPERATIONS_PER_ITEM)
    .describe('Each operation is its own check and its own result record.'),
  api: ApiName.optional().describe("Default: the operation's (camara; identity-insights for carrier)."),
  maxAge: MaxAge.optional(),
  purpose: Purpose.optional(),
  ref: z
    .string()
    .max(FIELD_LIMITS.ref)
    .optional()
    .describe("The caller's own reference, copied into the item's records."),
};

export const BatchItemSchema = input(batchItemShape).meta({ id: 'BatchItem' });

/**
 * An item as the client sends it in a page. Its values are not checked here: an item that is not
 * valid is recorded `invalid` with the reason (one record per operation), the page is not refused.
 */
export const BatchPageItemSchema = input({
  msisdn: z
    .string()
    .max(FIELD_LIMITS.msisdn + 1)
    .describe('E.164, as in BatchItem.'),
  operations: z
    .array(z.string().max(FIELD_LIMITS.operation + 1))
    .max(MAX_OPERATIONS_PER_ITEM)
    .describe('Operation names, without repeats; each is one check and one record.'),
  api: z
    .string()
    .max(FIELD_LIMITS.api + 1)
    .optional(),
  maxAge: z.number().optional(),
  purpose: z
    .string()
    .max(FIELD_LIMITS.purpose + 1)
    .optional(),
  ref: z
    .string()
    .max(FIELD_LIMITS.ref + 1)
    .optional()
    .describe(`Longer than ${FIELD_LIMITS.ref} characters makes the item invalid.`),
  index: count.describe('Position of the item in the whole input, from 0, without gaps.'),
  subject: Subject.optional(),
  duplicateOf: z
    .partialRecord(OperationName, count)
    .optional()
    .describe('Per operation: the index of the earlier item that runs the same check (dedupe).'),
}).meta({
  id: 'BatchPageItem',
  description: "A BatchItem, numbered; values that are not valid make the item's records `invalid`.",
});

export const BatchPageSchema = input({
  pageIndex: count.describe('0, 1, 2 … in order; a page already received is acknowledged and ignored.'),
  items: z.array(BatchPageItemSchema).max(PAGE_MAX_ITEMS),
  last: z.boolean().describe('True on the last page: no input follows.'),
}).meta({ id: 'BatchPage', title: 'batchCheck "addPage" update argument' });

export const AddPageAckSchema = output({
  accepted: z.boolean().describe('False when the page had already been received: nothing was added.'),
  nextPageIndex: count,
}).meta({ id: 'AddPageAck', title: 'batchCheck "addPage" update result' });

const RecordOutcomeSchema = z.enum(['ok', 'failed', 'invalid', 'cancelled']);

const recordShape = {
  index: count.describe('Position of the item in the input.'),
  ref: z.string().optional(),
  operation: z.string().describe('The operation as given (it may be invalid).'),
  result: CheckResultSchema.optional().describe('For ok and failed.'),
  assessment: AssessmentResultSchema.optional().describe('An assessment batch: the verdict (outcome ok).'),
  error: CheckErrorSchema.optional().describe('Why an item was invalid or cancelled.'),
  duplicateOf: count.optional().describe('Set when this record repeats the check of an earlier item.'),
};

export const BatchRecordSchema = output({ ...recordShape, outcome: RecordOutcomeSchema }).meta({
  id: 'BatchRecord',
  title: 'One result record per (input item, operation)',
});

export const StoredRecordSchema = output({
  ...recordShape,
  outcome: z
    .enum([...RecordOutcomeSchema.options, 'duplicate'])
    .describe('"duplicate": take outcome, result and error from the record of (duplicateOf, operation).'),
}).meta({ id: 'StoredRecord' });

export const ResultPageSchema = z
  .array(StoredRecordSchema)
  .meta({ id: 'ResultPage', title: 'batchResultPage workflow result' });

export const BatchProgressSchema = output({
  batchId: z.string(),
  state: z.enum(['receiving', 'running', 'completed', 'cancelled']),
  total: count.describe('Records expected so far (items × operations received).'),
  inputComplete: z.boolean(),
  pagesReceived: count,
  done: count,
  inFlight: count,
  queued: count,
  byOutcome: z.record(RecordOutcomeSchema, count),
  byErrorCode: z.record(z.string(), count),
  duplicates: count,
  resultPages: count.describe('Result pages stored so far: workflows <batchId>/results/0 … n-1.'),
  runs: count.describe('Workflow runs so far (continue-as-new).'),
  bulk: z.literal(true).optional(),
  chunks: count.optional(),
}).meta({ id: 'BatchProgress', title: 'batchCheck result and "progress" query answer' });

// ---- Nexus (worker/nexus.ts) ----

export const NexusCheckInputSchema = input({
  ...checkRequestShape,
  ...checkOptionsShape,
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/)
    .optional()
    .describe(
      'Idempotency key: the same number, operation, api and requestId is one check. Default: the Nexus request id.',
    ),
  correlationId: NetworkCheckInputSchema.shape.correlationId,
}).meta({ id: 'NexusCheckInput', title: 'Nexus netcheck/check input' });

export const NexusBatchInputSchema = input({
  batchId: BatchIdText,
  items: z.array(BatchItemSchema).min(1).max(1_000),
  options: BatchOptionsSchema.optional(),
}).meta({ id: 'NexusBatchInput', title: 'Nexus netcheck/batch input' });

// ---- the checks that keep these schemas the code's own (compile time only) ----

type Present<T> = Exclude<T, undefined | null>;
/** T without index signatures (the open objects' `[k: string]: unknown`). */
type Known<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
/** Keys whose type is not just `undefined` (`error?: undefined` marks a field that is never there). */
type RealKeys<T> = { [K in keyof T]-?: [Present<T[K]>] extends [never] ? never : K }[keyof T] & string;
type Optional<T, K extends keyof T> = object extends Pick<T, K> ? true : false;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** A leaf agrees when one side narrows the other (the schema may be stricter than `string`). */
type Compatible<A, B> = [A] extends [B] ? true : [B] extends [A] ? true : false;

/**
 * Every disagreement between a TypeScript type and a schema's output type, as readable paths;
 * `never` when they agree field by field (names, optionality, and types down to the leaves).
 */
type Mismatch<T, S, P extends string> = [Present<T>] extends [readonly (infer TE)[]]
  ? [Present<S>] extends [readonly (infer SE)[]]
    ? Mismatch<TE, SE, `${P}[]`>
    : `${P}: an array in the type, not in the schema`
  : [Present<T>] extends [object]
    ? [Present<S>] extends [object]
      ? string extends keyof Present<T>
        ? Compatible<Present<T>, Present<S>> extends true
          ? never
          : `${P}: the record types differ`
        : Fields<Known<Present<T>>, Known<Present<S>>, P>
      : `${P}: an object in the type, not in the schema`
    : Compatible<Present<T>, Present<S>> extends true
      ? never
      : `${P}: the types differ`;

type Fields<T, S, P extends string> =
  | { [K in Exclude<RealKeys<T>, RealKeys<S>>]: `${P}.${K}: in the type, not in the schema` }[Exclude<
      RealKeys<T>,
      RealKeys<S>
    >]
  | { [K in Exclude<RealKeys<S>, RealKeys<T>>]: `${P}.${K}: in the schema, not in the type` }[Exclude<
      RealKeys<S>,
      RealKeys<T>
    >]
  | {
      [K in RealKeys<T> & RealKeys<S>]:
        | (Same<Optional<T, K>, Optional<S, K>> extends true ? never : `${P}.${K}: optional on one side only`)
        | Mismatch<T[K], S[K], `${P}.${K}`>;
    }[RealKeys<T> & RealKeys<S>];

/**
 * Compiles only when `M` is never; otherwise the error names each mismatching field. An error
 * below means a type gained, lost or changed a field: change the schema above to match, run
 * `npm run contract`, and add the CHANGELOG.md line it prints.
 */
function agree<M extends never>(): M | undefined {
  return undefined;
}
type Out<S extends z.ZodType> = Known<z.output<S>>;

agree<Mismatch<CheckRequest, Out<typeof CheckRequestSchema>, 'CheckRequest'>>();
agree<Mismatch<NetworkCheckInput, Out<typeof NetworkCheckInputSchema>, 'NetworkCheckInput'>>();
agree<Mismatch<SimSwapCheckData, Out<typeof SimSwapCheckDataSchema>, 'SimSwapCheckData'>>();
agree<Mismatch<SimSwapDateData, Out<typeof SimSwapDateDataSchema>, 'SimSwapDateData'>>();
agree<Mismatch<ConnectivityData, Out<typeof ConnectivityDataSchema>, 'ConnectivityData'>>();
agree<Mismatch<RoamingData, Out<typeof RoamingDataSchema>, 'RoamingData'>>();
agree<Mismatch<CarrierNetwork, Out<typeof CarrierNetworkSchema>, 'CarrierNetwork'>>();
agree<Mismatch<CarrierData, Out<typeof CarrierDataSchema>, 'CarrierData'>>();
agree<Mismatch<CheckTimestamps, Out<typeof CheckTimestampsSchema>, 'CheckTimestamps'>>();
agree<Mismatch<CheckError, Out<typeof CheckErrorSchema>, 'CheckError'>>();
agree<
  Mismatch<OkCheckResult<'sim-swap'>, Out<(typeof OkResultSchemas)['sim-swap']>, 'OkCheckResult<sim-swap>'>
>();
agree<
  Mismatch<
    OkCheckResult<'sim-swap-date'>,
    Out<(typeof OkResultSchemas)['sim-swap-date']>,
    'OkCheckResult<sim-swap-date>'
  >
>();
agree<
  Mismatch<
    OkCheckResult<'device-connectivity'>,
    Out<(typeof OkResultSchemas)['device-connectivity']>,
    'OkCheckResult<device-connectivity>'
  >
>();
agree<
  Mismatch<
    OkCheckResult<'device-roaming'>,
    Out<(typeof OkResultSchemas)['device-roaming']>,
    'OkCheckResult<device-roaming>'
  >
>();
agree<
  Mismatch<OkCheckResult<'carrier'>, Out<(typeof OkResultSchemas)['carrier']>, 'OkCheckResult<carrier>'>
>();
agree<Mismatch<FailedCheckResult, Out<typeof FailedCheckResultSchema>, 'FailedCheckResult'>>();
agree<
  Mismatch<Omit<CheckProgress, 'result'>, Omit<Out<typeof CheckProgressSchema>, 'result'>, 'CheckProgress'>
>();
agree<Mismatch<BatchOptions, Out<typeof BatchOptionsSchema>, 'BatchOptions'>>();
agree<Mismatch<Omit<BatchInput, 'carried'>, Out<typeof BatchInputSchema>, 'BatchInput'>>();
agree<Mismatch<BatchItem, Out<typeof BatchItemSchema>, 'BatchItem'>>();
agree<Mismatch<BatchPageItem, Out<typeof BatchPageItemSchema>, 'BatchPageItem'>>();
agree<Mismatch<Omit<BatchPage, 'items'>, Omit<Out<typeof BatchPageSchema>, 'items'>, 'BatchPage'>>();
agree<Mismatch<AddPageAck, Out<typeof AddPageAckSchema>, 'AddPageAck'>>();
agree<Mismatch<Omit<BatchRecord, 'result'>, Omit<Out<typeof BatchRecordSchema>, 'result'>, 'BatchRecord'>>();
agree<
  Mismatch<Omit<StoredRecord, 'result'>, Omit<Out<typeof StoredRecordSchema>, 'result'>, 'StoredRecord'>
>();
agree<Mismatch<BatchProgress, Out<typeof BatchProgressSchema>, 'BatchProgress'>>();
agree<Mismatch<NexusCheckInput, Out<typeof NexusCheckInputSchema>, 'NexusCheckInput'>>();
agree<
  Mismatch<
    Omit<NexusBatchInput, 'items'>,
    Omit<Out<typeof NexusBatchInputSchema>, 'items'>,
    'NexusBatchInput'
  >
>();
agree<Mismatch<AssessInput, Out<typeof AssessInputSchema>, 'AssessInput'>>();
agree<Mismatch<CompiledPolicy, Out<typeof CompiledPolicySchema>, 'CompiledPolicy'>>();
agree<Mismatch<AssessBatchOption, Out<typeof BatchOptionsSchema>['assess'], 'AssessBatchOption'>>();
agree<Mismatch<EvidenceSource, Out<typeof EvidenceSourceSchema>, 'EvidenceSource'>>();
agree<Mismatch<UnknownSignal, Out<typeof UnknownSignalSchema>, 'UnknownSignal'>>();
agree<Mismatch<EvidenceMap, Out<typeof EvidenceMapSchema>, 'EvidenceMap'>>();
agree<Mismatch<AssessmentResult, Out<typeof AssessmentResultSchema>, 'AssessmentResult'>>();
