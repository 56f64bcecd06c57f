/**
 * Scenario files: what the simulator answers for numbers that are not Virtual Operator
 * numbers, plus per-number flow settings and scripted faults. Validated with zod so a typo
 * fails loudly with the path of the bad field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isE164 } from '../domain/msisdn.js';
import { identityInsightsScenarioFields } from './identity-insights-scenario.js';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

const ConnectivitySchema = z.enum(['CONNECTED_DATA', 'CONNECTED_SMS', 'NOT_CONNECTED']);

const RoamingSchema = z.strictObject({
  roaming: z.boolean(),
  countryCode: z.number().int().optional(),
  countryName: z.array(z.string()).optional(),
});

/**
 * Endpoint classes a scripted fault can target. `identity-insights` is the class of the
 * Identity Insights route (one JWT request); `any` matches every request of the number.
 */
export const FAULT_ENDPOINTS = ['bc-authorize', 'token', 'camara', 'identity-insights', 'any'] as const;
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

const ProblemSchema = z.strictObject({
  /** Default `https://developer.vonage.com/api-errors#scripted`. */
  type: z.string().min(1).optional(),
  /** Default the status's reason phrase. */
  title: z.string().optional(),
  /** Default the fault's `message`, else `Scripted fault <status>`. */
  detail: z.string().optional(),
  /** Default a random UUID. */
  instance: z.string().optional(),
});

/** The body forms a status fault can answer with; at most one may be given (default CAMARA). */
const BODY_FORMS = ['error', 'problem', 'body'] as const;

const FaultSchema = z
  .strictObject({
    /** Which requests of the number the fault applies to; default `any`. */
    endpoint: z.enum(FAULT_ENDPOINTS).optional(),
    /** Answer with this HTTP status. */
    status: z.number().int().min(400).max(599).optional(),
    /** CAMARA `code` of the body (default from the status). */
    code: z.string().min(1).optional(),
    /** CAMARA `message`, OAuth `error_description` or default problem `detail`. */
    message: z.string().optional(),
    /** Answer `{error, error_description}` (OAuth style) instead of a CAMARA body. */
    error: z.string().min(1).optional(),
    /** Answer an RFC 7807 body `{type, title, detail, instance}` instead of a CAMARA body. */
    problem: ProblemSchema.optional(),
    /** Answer this raw text as the body (`""` for an empty body) instead of a CAMARA body. */
    body: z.string().optional(),
    /** Content-Type of the answer (default: JSON; `text/html` for a non-empty `body`; none for an empty one). */
    contentType: z.string().min(1).optional(),
    /** `Retry-After` header: seconds, or a raw header value (an HTTP date, garbage, …). */
    retryAfter: z.union([nonNegative, z.string().min(1)]).optional(),
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
    const extras = (
      ['code', 'message', 'error', 'problem', 'body', 'contentType', 'retryAfter'] as const
    ).filter((k) => fault[k] !== undefined);
    if (fault.status === undefined && extras.length > 0) {
      ctx.addIssue({ code: 'custom', message: `${extras.join(', ')} only go with status` });
    }
    const forms = BODY_FORMS.filter((k) => fault[k] !== undefined);
    if (forms.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `give at most one of error, problem, body (got ${forms.join(', ')})`,
      });
    }
    if (fault.code !== undefined && forms.length > 0) {
      ctx.addIssue({ code: 'custom', message: `code goes with a CAMARA body, not with ${forms.join(', ')}` });
    }
    if (fault.message !== undefined && fault.body !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'message does not go with body: the body is sent as given' });
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
    /** false: no operator the application can reach serves the number: bc-authorize answers 404 (RFC 7807). */
    operatorServes: z.boolean().optional(),
    /** true: the number is not on the application's allowlist: bc-authorize answers 403 (RFC 7807). */
    allowlistBlocked: z.boolean().optional(),
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
  /**
   * true: the application has no Network Application linked: every bc-authorize answers 400
   * "No Network Application associated with Vonage Application: <id>"; false undoes it.
   */
  noNetworkApplication: z.boolean().optional(),
  /**
   * true: the CAMARA SIM Swap routes (`/camara/sim-swap/v040/check`, `/retrieve-date`) answer as
   * retired routes would, 404 like any path the simulator does not serve (Vonage retired them on
   * 2025-11-23); false undoes it. Device Status and the OAuth endpoints are unaffected.
   */
  retiredSimSwap: z.boolean().optional(),
  /**
   * Which +990 numbers Identity Insights answers as Vonage's Virtual Operator: `documented`
   * (default) the ten Vonage lists (+990123400, +990123411, … +990123499), any other +990 number
   * INVALID_NUMBER_FORMAT; `every-number` every +990 number by the CIBA road's rules (load tests
   * that need many distinct numbers; not what Vonage answers).
   */
  identityInsightsVirtualOperator: z.enum(['documented', 'every-number']).optional(),
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
  private noNetworkApplicationValue: boolean | undefined;
  private retiredSimSwapValue = false;
  private identityInsightsVirtualOperatorValue: 'documented' | 'every-number' = 'documented';

  add(file: ParsedScenarioFile): void {
    if (file.noNetworkApplication !== undefined) this.noNetworkApplicationValue = file.noNetworkApplication;
    if (file.retiredSimSwap !== undefined) this.retiredSimSwapValue = file.retiredSimSwap;
    if (file.identityInsightsVirtualOperator !== undefined) {
      this.identityInsightsVirtualOperatorValue = file.identityInsightsVirtualOperator;
    }
    if (file.defaults) this.defaultsValue = { ...this.defaultsValue, ...file.defaults };
    for (const [msisdn, entry] of Object.entries(file.numbers ?? {})) {
      this.numbers.set(msisdn, { entry, faults: [...(entry.faults ?? [])] });
    }
  }

  get defaults(): ScenarioDefaults {
    return this.defaultsValue;
  }

  /** Whether the CAMARA SIM Swap routes answer as retired (`retiredSimSwap`). */
  get retiredSimSwap(): boolean {
    return this.retiredSimSwapValue;
  }

  /** Which +990 numbers Identity Insights answers as the Virtual Operator. */
  get identityInsightsVirtualOperator(): 'documented' | 'every-number' {
    return this.identityInsightsVirtualOperatorValue;
  }

  /** The scenario's `noNetworkApplication`, if any scenario set it. */
  get noNetworkApplication(): boolean | undefined {
    return this.noNetworkApplicationValue;
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
