/**
 * Scenario files: what the simulator answers for numbers that are not Virtual Operator
 * numbers, plus per-number flow settings and scripted faults. Validated with zod so a typo
 * fails loudly with the path of the bad field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isE164 } from '../domain/msisdn.js';
import { identityInsightsScenarioFields } from './identity-insights.js';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

const ConnectivitySchema = z.enum(['CONNECTED_DATA', 'CONNECTED_SMS', 'NOT_CONNECTED']);

const RoamingSchema = z.strictObject({
  roaming: z.boolean(),
  countryCode: z.number().int().optional(),
  countryName: z.array(z.string()).optional(),
});

export const FAULT_ENDPOINTS = ['bc-authorize', 'token', 'camara', 'identity-insights', 'any'] as const;
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

const FaultSchema = z
  .strictObject({
    /** Which requests of the number the fault applies to; default `any`. */
    endpoint: z.enum(FAULT_ENDPOINTS).optional(),
    /** Answer with this HTTP status. */
    status: z.number().int().min(400).max(599).optional(),
    /** CAMARA `code` of the body (default from the status). */
    code: z.string().min(1).optional(),
    message: z.string().optional(),
    /** Answer `{error, error_description}` (OAuth style) instead of a CAMARA body. */
    error: z.string().min(1).optional(),
    /** `Retry-After` header, seconds. */
    retryAfter: nonNegative.optional(),
    /** Destroy the connection without answering. */
    drop: z.literal(true).optional(),
    /** Hold the request this long without answering, then destroy the connection. */
    timeoutMs: z.number().int().positive().optional(),
    /** Delay this request, then answer normally. */
    delayMs: z.number().int().nonnegative().optional(),
  })
  .superRefine((fault, ctx) => {
    const kinds = (['status', 'drop', 'timeoutMs', 'delayMs'] as const).filter((k) => fault[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a fault needs exactly one of status, drop, timeoutMs, delayMs (got ${kinds.join(', ') || 'none'})`,
      });
    }
    const extras = (['code', 'message', 'error', 'retryAfter'] as const).filter(
      (k) => fault[k] !== undefined,
    );
    if (fault.status === undefined && extras.length > 0) {
      ctx.addIssue({ code: 'custom', message: `${extras.join(', ')} only go with status` });
    }
  });

const flowFields = {
  /** `authorization_pending` answers before the token. */
  pendingPolls: z.number().int().nonnegative().optional(),
  /** Seconds until the auth_req_id expires. */
  expiresIn: positive.optional(),
  /** Minimum seconds between polls. */
  interval: nonNegative.optional(),
  /** Access-token lifetime, seconds. */
  tokenExpiresIn: positive.optional(),
  /** The subscriber refuses: `access_denied` once the pending polls are used up. */
  denied: z.boolean().optional(),
};

const dataFields = {
  /** ISO-8601 date-time of the last SIM change, or null when never swapped. */
  lastSimChange: z.iso.datetime({ offset: true }).nullable().optional(),
  /** Alternative to lastSimChange: the last change was this many hours before each request. */
  lastSimChangeHoursAgo: nonNegative.optional(),
  connectivity: ConnectivitySchema.optional(),
  roaming: RoamingSchema.optional(),
};

function oneSimChangeForm(
  entry: { lastSimChange?: unknown; lastSimChangeHoursAgo?: unknown },
  ctx: z.RefinementCtx,
) {
  if (entry.lastSimChange !== undefined && entry.lastSimChangeHoursAgo !== undefined) {
    ctx.addIssue({ code: 'custom', message: 'give lastSimChange or lastSimChangeHoursAgo, not both' });
  }
}

const NumberEntrySchema = z
  .strictObject({
    ...flowFields,
    ...dataFields,
    /** The operator does not know the number: CAMARA calls answer 404 (bc-authorize still works). */
    unknown: z.boolean().optional(),
    /** Scripted faults, each consumed by the first matching request of this number. */
    faults: z.array(FaultSchema).optional(),
    ...identityInsightsScenarioFields,
  })
  .superRefine(oneSimChangeForm);

const DefaultsSchema = z.strictObject({ ...flowFields, ...dataFields }).superRefine(oneSimChangeForm);

const NumberKeySchema = z.string().refine(isE164, {
  message: 'number keys must be E.164 with a leading + (e.g. "+447700900001")',
});

export const ScenarioFileSchema = z.strictObject({
  description: z.string().optional(),
  numbers: z.record(NumberKeySchema, NumberEntrySchema).optional(),
  /** Apply to every number in `numbers` that does not set the field; flow fields apply to all numbers. */
  defaults: DefaultsSchema.optional(),
});

/** A scenario file as written (JSON / object literal). */
export type ScenarioFile = z.input<typeof ScenarioFileSchema>;
export type ParsedScenarioFile = z.output<typeof ScenarioFileSchema>;
export type NumberEntry = z.output<typeof NumberEntrySchema>;
export type ScenarioDefaults = z.output<typeof DefaultsSchema>;
export type Fault = z.output<typeof FaultSchema>;
export type Connectivity = z.output<typeof ConnectivitySchema>;
export type Roaming = z.output<typeof RoamingSchema>;

export class ScenarioValidationError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`Invalid scenario file ${source}:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ScenarioValidationError';
  }
}

function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

/** Validates a scenario object; throws ScenarioValidationError listing every problem with its path. */
export function parseScenarioFile(value: unknown, source = '(inline)'): ParsedScenarioFile {
  const result = ScenarioFileSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ScenarioValidationError(
    source,
    result.error.issues.map((issue) => {
      // A bad record key carries the key schema's own messages one level down.
      const inner = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : '';
      return `${issuePath(issue.path)}: ${inner || issue.message}`;
    }),
  );
}

/** Reads and validates a JSON scenario file. */
export async function loadScenarioFile(path: string): Promise<ParsedScenarioFile> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScenarioValidationError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseScenarioFile(json, path);
}

/** Endpoint class a request belongs to, for matching scripted faults. */
export type RequestEndpointClass = Exclude<FaultEndpoint, 'any'>;

interface NumberState {
  entry: NumberEntry;
  faults: Fault[];
}

/** The scenarios in force: merged from the file and from runtime additions. */
export class ScenarioStore {
  private readonly numbers = new Map<string, NumberState>();
  private defaultsValue: ScenarioDefaults = {};

  add(file: ParsedScenarioFile): void {
    if (file.defaults) this.defaultsValue = { ...this.defaultsValue, ...file.defaults };
    for (const [msisdn, entry] of Object.entries(file.numbers ?? {})) {
      this.numbers.set(msisdn, { entry, faults: [...(entry.faults ?? [])] });
    }
  }

  get defaults(): ScenarioDefaults {
    return this.defaultsValue;
  }

  entry(msisdn: string): NumberEntry | undefined {
    return this.numbers.get(msisdn)?.entry;
  }

  /** Removes and returns the first scripted fault of the number that applies to this endpoint. */
  takeFault(msisdn: string, endpoint: RequestEndpointClass): Fault | undefined {
    const state = this.numbers.get(msisdn);
    if (!state) return undefined;
    const index = state.faults.findIndex((f) => (f.endpoint ?? 'any') === 'any' || f.endpoint === endpoint);
    if (index < 0) return undefined;
    return state.faults.splice(index, 1)[0];
  }
}
