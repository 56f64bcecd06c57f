/**
 * Validates CAMARA request and response bodies against the OpenAPI files in
 * `../shared/specs/camara/` (or `$NETCHECK_CAMARA_SPECS`). Each YAML document is added to ajv
 * whole under its own `$id`, and schemas are referenced by JSON pointer into it, so every
 * `#/components/...` ref resolves exactly as the spec writes it. OpenAPI 3.0 extras
 * (`example`, `discriminator`, …) are ignored (`strict: false`); ajv implements `nullable`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { parse } from 'yaml';

export type CamaraApi = 'sim-swap' | 'device-status';

const SPEC_FILES: Record<CamaraApi, string> = {
  'sim-swap': 'sim-swap-v0.4.0.yaml',
  'device-status': 'device-status-v0.5.0.yaml',
};

/** How Vonage mounts each API; the spec paths are relative to it. */
const VONAGE_BASE: Record<CamaraApi, string> = {
  'sim-swap': '/camara/sim-swap/v040',
  'device-status': '/camara/device-status/v050',
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function camaraSpecsDir(): string {
  const dir = process.env.NETCHECK_CAMARA_SPECS ?? path.resolve(repoRoot, '../shared/specs/camara');
  if (!existsSync(dir)) {
    throw new Error(
      `CAMARA OpenAPI files not found in ${dir}; clone shared/ beside the repo or set NETCHECK_CAMARA_SPECS`,
    );
  }
  return dir;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, OperationObject | undefined> | undefined>;
  components?: { responses?: Record<string, unknown> };
}
interface OperationObject {
  requestBody?: unknown;
  responses?: Record<string, unknown>;
}

// ajv-formats is CommonJS: depending on the loader the default import is the plugin or `module.exports`.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as FormatsPlugin;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

const docs = new Map<CamaraApi, OpenApiDoc>();
const compiled = new Map<string, ValidateFunction>();

function docId(api: CamaraApi): string {
  return `https://netcheck.invalid/camara/${SPEC_FILES[api]}`;
}

function doc(api: CamaraApi): OpenApiDoc {
  let d = docs.get(api);
  if (!d) {
    d = parse(readFileSync(path.join(camaraSpecsDir(), SPEC_FILES[api]), 'utf8')) as OpenApiDoc;
    ajv.addSchema(d, docId(api));
    docs.set(api, d);
  }
  return d;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function validator(api: CamaraApi, pointer: string[]): ValidateFunction {
  const ref = `${docId(api)}#/${pointer.map(escapePointer).join('/')}`;
  let fn = compiled.get(ref);
  if (!fn) {
    fn = ajv.compile({ $ref: ref });
    compiled.set(ref, fn);
  }
  return fn;
}

/** `/camara/sim-swap/v040/check` or `/check` → `/check`. */
function specPath(api: CamaraApi, urlPath: string): string {
  const base = VONAGE_BASE[api];
  return urlPath.startsWith(`${base}/`) ? urlPath.slice(base.length) : urlPath;
}

function operation(api: CamaraApi, urlPath: string): { path: string; op: OperationObject } {
  const p = specPath(api, urlPath);
  const op = doc(api).paths[p]?.post;
  if (!op) throw new Error(`${api}: no POST ${p} in ${SPEC_FILES[api]}`);
  return { path: p, op };
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map(
      (e) =>
        `  - ${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
    )
    .join('\n');
}

function run(fn: ValidateFunction, body: unknown, what: string): void {
  if (!fn(body)) {
    throw new Error(
      `${what} does not match the CAMARA spec:\n${formatErrors(fn.errors)}\nbody: ${JSON.stringify(body)}`,
    );
  }
}

/** Throws with readable ajv errors when `body` is not a valid request body of POST `urlPath`. */
export function validateRequest(api: CamaraApi, urlPath: string, body: unknown): void {
  const { path: p } = operation(api, urlPath);
  run(
    validator(api, ['paths', p, 'post', 'requestBody', 'content', 'application/json', 'schema']),
    body,
    `${api} POST ${p} request`,
  );
}

/** Whether the spec defines `status` for POST `urlPath`. */
export function definesStatus(api: CamaraApi, urlPath: string, status: number): boolean {
  return operation(api, urlPath).op.responses?.[String(status)] !== undefined;
}

/**
 * Throws when `body` is not what the spec defines for POST `urlPath` answering `status`
 * (also when the spec defines no such status: use validateErrorInfo for those).
 */
export function validateResponse(api: CamaraApi, urlPath: string, status: number, body: unknown): void {
  const { path: p, op } = operation(api, urlPath);
  const response = op.responses?.[String(status)] as { $ref?: string } | undefined;
  if (!response) {
    throw new Error(`${api} POST ${p}: status ${status} is not defined by ${SPEC_FILES[api]}`);
  }
  // Generic responses are `$ref: '#/components/responses/GenericNNN'`; follow it to keep the pointer direct.
  const pointer =
    typeof response.$ref === 'string'
      ? [
          ...response.$ref
            .replace(/^#\//, '')
            .split('/')
            .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')),
          'content',
          'application/json',
          'schema',
        ]
      : ['paths', p, 'post', 'responses', String(status), 'content', 'application/json', 'schema'];
  run(validator(api, pointer), body, `${api} POST ${p} ${status} response`);
}

/** Validates an error body against the spec's ErrorInfo (for statuses the spec does not list, e.g. 429). */
export function validateErrorInfo(api: CamaraApi, body: unknown): void {
  doc(api);
  run(validator(api, ['components', 'schemas', 'ErrorInfo']), body, `${api} ErrorInfo`);
}
