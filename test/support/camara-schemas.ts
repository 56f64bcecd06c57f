/**
 * CAMARA body validation for the tests, and the comparison of the in-project schemas with the
 * upstream OpenAPI files.
 *
 * Validation uses only what lives in the project (simulator/camara-schemas.ts), with ajv: a
 * second, independent JSON Schema implementation beside the zod one the simulator runs.
 *
 * The comparison (used by test/simulator/camara-conformance.test.ts) reads the upstream YAML
 * from $NETCHECK_CAMARA_SPECS, else from the project's copy (specs/camara/, with its source and
 * licence); when neither is there the conformance test is skipped with the reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { parse } from 'yaml';
import {
  CAMARA_COMPONENTS,
  CAMARA_ERROR_CODES,
  CAMARA_SCHEMAS,
  ERROR_INFO_SCHEMA,
  type JsonSchema,
} from '../../simulator/camara-schemas.js';
import {
  CAMARA_APIS,
  CAMARA_OPERATION_NAMES,
  CAMARA_OPERATIONS,
  type CamaraApi,
  type CamaraOperation,
} from '../../simulator/wire.js';

// ---------------------------------------------------------------------------------------------
// Validation against the in-project schemas
// ---------------------------------------------------------------------------------------------

// ajv-formats is CommonJS: depending on the loader the default import is the plugin or `module.exports`.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as FormatsPlugin;

// Strict schema checking (an unknown keyword in a hand-written schema is an error); type
// strictness off because the spec's `anyOf: [{required: …}]` branches carry no `type`.
const ajv = new Ajv({ allErrors: true, strictTypes: false });
addFormats(ajv);

const compiled = new Map<JsonSchema, ValidateFunction>();

function validator(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map(
      (e) =>
        `  - ${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
    )
    .join('\n');
}

function run(schema: JsonSchema, body: unknown, what: string): void {
  const fn = validator(schema);
  if (!fn(body)) {
    throw new Error(
      `${what} does not match the CAMARA spec:\n${formatErrors(fn.errors)}\nbody: ${JSON.stringify(body)}`,
    );
  }
}

function label(operation: CamaraOperation): string {
  const { api, specPath } = CAMARA_OPERATIONS[operation];
  return `${api} POST ${specPath}`;
}

/** Throws with readable errors when `body` is not a valid request body of the operation. */
export function validateRequest(operation: CamaraOperation, body: unknown): void {
  run(CAMARA_SCHEMAS[operation].request, body, `${label(operation)} request`);
}

/** Whether the operation's spec lists `status`. */
export function definesStatus(operation: CamaraOperation, status: number): boolean {
  return Object.hasOwn(CAMARA_SCHEMAS[operation].responses, status);
}

/**
 * Throws when `body` is not what the spec defines for the operation answering `status` (also
 * when the spec lists no such status: use validateErrorInfo for those, e.g. 429).
 */
export function validateResponse(operation: CamaraOperation, status: number, body: unknown): void {
  const responses: Readonly<Record<number, JsonSchema>> = CAMARA_SCHEMAS[operation].responses;
  const schema = responses[status];
  if (!schema) {
    throw new Error(
      `${label(operation)}: status ${status} is not defined by CAMARA ${CAMARA_OPERATIONS[operation].api}`,
    );
  }
  run(schema, body, `${label(operation)} ${status} response`);
}

/** Validates an error body against ErrorInfo (for statuses the spec does not list, e.g. 429). */
export function validateErrorInfo(body: unknown): void {
  run(ERROR_INFO_SCHEMA, body, 'CAMARA ErrorInfo');
}

// ---------------------------------------------------------------------------------------------
// The upstream OpenAPI files and the comparison
// ---------------------------------------------------------------------------------------------

export const SPEC_FILES: Record<CamaraApi, string> = {
  'sim-swap': 'sim-swap-v0.4.0.yaml',
  'device-status': 'device-status-v0.5.0.yaml',
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface UpstreamSpecs {
  dir: string;
  /** Where `dir` came from. */
  from: 'NETCHECK_CAMARA_SPECS' | 'the project';
  present: boolean;
  /** Why the conformance test is skipped, when it is. */
  skipReason?: string;
}

/** Where the upstream CAMARA YAML is, and whether it is there. */
export function upstreamSpecs(): UpstreamSpecs {
  const env = process.env.NETCHECK_CAMARA_SPECS;
  // Absent (a fresh clone): the conformance test skips and says why.
  const dir = env ?? path.resolve(repoRoot, 'specs/camara'); // copied into the project (specs/camara/README.md)
  const from = env === undefined ? 'the project' : 'NETCHECK_CAMARA_SPECS';
  const missing = Object.values(SPEC_FILES).filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length === 0) return { dir, from, present: true };
  return {
    dir,
    from,
    present: false,
    skipReason:
      `upstream CAMARA OpenAPI files not found (${missing.join(', ')} in ${dir}, from ${from}); ` +
      'set NETCHECK_CAMARA_SPECS to the folder holding them to run this comparison',
  };
}

export type OpenApiDoc = Record<string, unknown>;

export function loadUpstream(api: CamaraApi, dir: string): OpenApiDoc {
  return parse(readFileSync(path.join(dir, SPEC_FILES[api]), 'utf8')) as OpenApiDoc;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The node at a local JSON pointer (`#/components/schemas/X`), or undefined. */
export function pointer(doc: OpenApiDoc, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported (got ${ref})`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = Array.isArray(node) ? (node as unknown[])[Number(key)] : isObject(node) ? node[key] : undefined;
  }
  return node;
}

/** A copy of `node` with every local `$ref` replaced by what it points to. */
export function deref(doc: OpenApiDoc, node: unknown, depth = 0): unknown {
  if (depth > 50) throw new Error('$ref nesting deeper than 50: a cycle?');
  if (Array.isArray(node)) return node.map((n) => deref(doc, n, depth + 1));
  if (!isObject(node)) return node;
  if (typeof node.$ref === 'string') return deref(doc, pointer(doc, node.$ref), depth + 1);
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(doc, v, depth + 1)]));
}

/** Keywords that document a schema without constraining the bodies it accepts. */
const ANNOTATIONS = new Set([
  'description',
  'example',
  'examples',
  'title',
  'summary',
  'discriminator',
  'externalDocs',
  'deprecated',
  'xml',
]);

/**
 * A schema reduced to what decides which bodies it accepts: annotations dropped, `required`
 * and `enum` sorted (their order means nothing), everything else kept, so an unexpected new
 * keyword upstream shows up as a difference.
 */
export function normalizeSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(normalizeSchema);
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([p, s]) => [p, normalizeSchema(s)]));
    } else if ((key === 'required' || key === 'enum') && Array.isArray(value)) {
      out[key] = [...(value as unknown[])].sort();
    } else {
      out[key] = normalizeSchema(value);
    }
  }
  return out;
}

/** Every difference between two (normalized) schemas, as `<pointer>: project …, upstream …`. */
export function schemaDifferences(project: unknown, upstream: unknown, at = ''): string[] {
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  if (isObject(project) && isObject(upstream)) {
    const keys = [...new Set([...Object.keys(project), ...Object.keys(upstream)])].sort();
    return keys.flatMap((k) => schemaDifferences(project[k], upstream[k], `${at}/${k}`));
  }
  if (Array.isArray(project) && Array.isArray(upstream) && project.length === upstream.length) {
    return project.flatMap((v, i) => schemaDifferences(v, upstream[i], `${at}/${i}`));
  }
  if (JSON.stringify(project) === JSON.stringify(upstream)) return [];
  return [`${at || '(root)'}: project ${show(project)}, upstream ${show(upstream)}`];
}

function compare(what: string, project: unknown, upstream: unknown): string[] {
  return schemaDifferences(normalizeSchema(project), normalizeSchema(upstream)).map((d) => `${what}: ${d}`);
}

/** A JSON pointer segment for a key such as `/check`. */
function esc(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function statusKeys(responses: unknown): number[] {
  return isObject(responses)
    ? Object.keys(responses)
        .map(Number)
        .sort((a, b) => a - b)
    : [];
}

/**
 * Everything in which the project disagrees with one upstream spec: version, each operation's
 * path, scope, request schema, listed statuses, response schemas and Generic error codes, and
 * the named component schemas. Empty when they agree.
 */
export function conformanceReport(api: CamaraApi, doc: OpenApiDoc): string[] {
  const out: string[] = [];
  const info = doc.info as { version?: unknown } | undefined;
  if (info?.version !== CAMARA_APIS[api].version) {
    out.push(
      `${api}: version: project ${CAMARA_APIS[api].version}, upstream ${JSON.stringify(info?.version)}`,
    );
  }
  for (const op of CAMARA_OPERATION_NAMES.filter((o) => CAMARA_OPERATIONS[o].api === api)) {
    const facts = CAMARA_OPERATIONS[op];
    const where = `${api} POST ${facts.specPath}`;
    const post = pointer(doc, `#/paths/${esc(facts.specPath)}/post`);
    if (!isObject(post)) {
      out.push(`${where}: no such operation upstream`);
      continue;
    }
    // Scope: every security requirement of the operation must name the project's api-scope.
    const security = Array.isArray(post.security) ? (post.security as unknown[]) : [];
    const scopes = security.flatMap((req) => (isObject(req) ? Object.values(req).flat() : []));
    if (scopes.length !== 1 || scopes[0] !== facts.apiScope) {
      out.push(`${where}: scope: project ${facts.apiScope}, upstream ${JSON.stringify(scopes)}`);
    }
    const body = isObject(post.requestBody) ? deref(doc, post.requestBody) : undefined;
    const requestSchema = pointer({ body }, '#/body/content/application~1json/schema');
    out.push(...compare(`${where} request`, CAMARA_SCHEMAS[op].request, requestSchema));

    const projectResponses: Readonly<Record<number, JsonSchema>> = CAMARA_SCHEMAS[op].responses;
    const upstreamStatuses = statusKeys(post.responses);
    const projectStatuses = statusKeys(projectResponses);
    if (JSON.stringify(upstreamStatuses) !== JSON.stringify(projectStatuses)) {
      out.push(
        `${where}: statuses: project ${projectStatuses.join(',')}, upstream ${upstreamStatuses.join(',')}`,
      );
    }
    for (const status of upstreamStatuses) {
      const response = deref(doc, (post.responses as Record<string, unknown>)[String(status)]);
      const media =
        isObject(response) && isObject(response.content) ? response.content['application/json'] : undefined;
      const schema = isObject(media) ? media.schema : undefined;
      if (projectResponses[status])
        out.push(...compare(`${where} ${status}`, projectResponses[status], schema));
      // The Generic error responses carry the code the simulator answers by default.
      const codes: Readonly<Record<number, string>> = CAMARA_ERROR_CODES[api];
      const exampleCode = isObject(media) && isObject(media.example) ? media.example.code : undefined;
      if (status >= 400 && exampleCode !== codes[status]) {
        out.push(
          `${where} ${status}: code: project ${codes[status] ?? 'nothing'}, upstream ${JSON.stringify(exampleCode)}`,
        );
      }
    }
  }
  const components: Readonly<Record<string, JsonSchema>> = CAMARA_COMPONENTS[api];
  for (const [name, schema] of Object.entries(components)) {
    out.push(
      ...compare(
        `${api} components/schemas/${name}`,
        schema,
        deref(doc, pointer(doc, `#/components/schemas/${name}`)),
      ),
    );
  }
  return out;
}
