/**
 * The in-project CAMARA schemas and wire facts (simulator/camara-schemas.ts, simulator/wire.ts)
 * against the upstream OpenAPI files: version, paths, scopes, request and response schemas,
 * listed statuses and Generic error codes must agree.
 *
 * The upstream YAML is read from $NETCHECK_CAMARA_SPECS, else from the project's copy
 * (specs/camara/, source and licence in its README); when it is absent this comparison is
 * SKIPPED with the reason. The comparator itself is tested below on
 * small schemas whatever is present, so it is known to be able to fail.
 */
import { describe, expect, it } from 'vitest';
import {
  conformanceReport,
  deref,
  loadUpstream,
  normalizeSchema,
  pointer,
  schemaDifferences,
  upstreamSpecs,
  type OpenApiDoc,
} from '../support/camara-schemas.js';
import { CAMARA_OPERATIONS, type CamaraApi } from '../../simulator/wire.js';

const specs = upstreamSpecs();
if (!specs.present) console.warn(`[camara-conformance] SKIPPED: ${specs.skipReason ?? ''}`);

const APIS: CamaraApi[] = ['sim-swap', 'device-status'];

describe('the schema comparator', () => {
  const phone = { type: 'string', pattern: '^\\+?[0-9]{5,15}$', description: 'a number' };

  it('ignores annotations and the order of required and enum', () => {
    const a = { type: 'object', required: ['b', 'a'], properties: { a: phone, b: { enum: ['Y', 'X'] } } };
    const b = {
      type: 'object',
      description: 'x',
      example: { a: '1' },
      required: ['a', 'b'],
      properties: { a: { ...phone, example: '+1234567' }, b: { enum: ['X', 'Y'] } },
    };
    expect(schemaDifferences(normalizeSchema(a), normalizeSchema(b))).toEqual([]);
  });

  it('keeps a property called "description" (a name, not an annotation)', () => {
    const a = { type: 'object', properties: { description: { type: 'string' } } };
    expect(normalizeSchema(a)).toEqual(a);
  });

  it.each([
    ['a changed pattern', { ...phone, pattern: '^[0-9]{5,15}$' }, /\/pattern: project "\^\\\\\+\?/],
    ['a changed type', { ...phone, type: 'integer' }, /\/type: project "string", upstream "integer"/],
    ['a new keyword', { ...phone, maxLength: 16 }, /\/maxLength: project nothing, upstream 16/],
    ['a dropped keyword', { type: 'string' }, /\/pattern: project ".*", upstream nothing/],
  ])('reports %s', (_what, upstream, message) => {
    const diffs = schemaDifferences(normalizeSchema(phone), normalizeSchema(upstream));
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatch(message);
  });

  it('reports changed required fields, enums and additionalProperties', () => {
    const mine = { type: 'object', required: ['a'], properties: { s: { enum: ['A', 'B'] } } };
    const theirs = {
      type: 'object',
      required: ['a', 'b'],
      additionalProperties: false,
      properties: { s: { enum: ['A', 'B', 'C'] } },
    };
    const diffs = schemaDifferences(normalizeSchema(mine), normalizeSchema(theirs)).join('\n');
    expect(diffs).toMatch(/\/additionalProperties: project nothing, upstream false/);
    expect(diffs).toMatch(/\/properties\/s\/enum: project \["A","B"\], upstream \["A","B","C"\]/);
    expect(diffs).toMatch(/\/required: project \["a"\], upstream \["a","b"\]/);
  });

  it('follows local $refs', () => {
    const doc = {
      components: {
        schemas: { P: phone, R: { type: 'object', properties: { p: { $ref: '#/components/schemas/P' } } } },
      },
    };
    expect(deref(doc, { $ref: '#/components/schemas/R' })).toEqual({
      type: 'object',
      properties: { p: phone },
    });
  });
});

describe.skipIf(!specs.present)(
  `the in-project CAMARA schemas agree with the upstream YAML${specs.present ? ` in ${specs.dir}` : ` (skipped: ${specs.skipReason ?? ''})`}`,
  () => {
    const docs = Object.fromEntries(
      specs.present ? APIS.map((api) => [api, loadUpstream(api, specs.dir)]) : [],
    ) as Record<CamaraApi, OpenApiDoc>;

    it.each(APIS)('%s: no difference', (api) => {
      expect(conformanceReport(api, docs[api])).toEqual([]);
    });

    /** A deep copy of the upstream doc with one change made by `edit`. */
    function tampered(api: CamaraApi, edit: (doc: OpenApiDoc) => void): OpenApiDoc {
      const copy = structuredClone(docs[api]);
      edit(copy);
      return copy;
    }

    /** The parent object of a pointer's last segment, and that segment. */
    function parentOf(doc: OpenApiDoc, ptr: string): [Record<string, unknown>, string] {
      const segments = ptr.split('/');
      const key = segments.pop()!;
      const parent = pointer(doc, segments.join('/'));
      if (typeof parent !== 'object' || parent === null) throw new Error(`no ${ptr} in the spec`);
      return [parent as Record<string, unknown>, key.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    const set = (ptr: string, value: unknown) => (doc: OpenApiDoc) => {
      const [parent, key] = parentOf(doc, ptr);
      parent[key] = value;
    };
    const push = (ptr: string, value: unknown) => (doc: OpenApiDoc) => {
      const list = pointer(doc, ptr);
      if (!Array.isArray(list)) throw new Error(`${ptr} is not a list`);
      list.push(value);
    };
    const rename = (from: string, to: string) => (doc: OpenApiDoc) => {
      const [parent, key] = parentOf(doc, from);
      const [, newKey] = parentOf(doc, to);
      parent[newKey] = parent[key];
      delete parent[key];
    };

    it.each([
      [
        'sim-swap',
        'a maxAge bound',
        set('#/components/schemas/CreateCheckSimSwap/properties/maxAge/maximum', 4800),
        /sim-swap POST \/check request: \/properties\/maxAge\/maximum: project 2400, upstream 4800/,
      ],
      [
        'sim-swap',
        'the PhoneNumber pattern',
        set('#/components/schemas/PhoneNumber/pattern', '^\\+[0-9]{5,15}$'),
        /sim-swap POST \/retrieve-date request: \/properties\/phoneNumber\/pattern/,
      ],
      [
        'sim-swap',
        'a scope',
        set('#/paths/~1check/post/security/0/three_legged', ['check-sim-swap-v2']),
        /sim-swap POST \/check: scope: project check-sim-swap, upstream \["check-sim-swap-v2"\]/,
      ],
      [
        'sim-swap',
        'a 404 code',
        set('#/components/responses/Generic404/content/application~1json/example/code', 'NOT_FOUND'),
        /sim-swap POST \/check 404: code: project SIM_SWAP\.UNKNOWN_PHONE_NUMBER, upstream "NOT_FOUND"/,
      ],
      [
        'device-status',
        'the connectivity enum',
        push('#/components/schemas/ConnectivityStatus/enum', 'CONNECTED_VOICE'),
        /device-status POST \/connectivity 200: \/properties\/connectivityStatus\/enum/,
      ],
      [
        'device-status',
        'a required field',
        push('#/components/schemas/RoamingStatusResponse/required', 'countryCode'),
        /device-status POST \/roaming 200: \/required: project \["roaming"\], upstream \["countryCode","roaming"\]/,
      ],
      [
        'device-status',
        'a listed status',
        set('#/paths/~1roaming/post/responses/429', { $ref: '#/components/responses/Generic503' }),
        /device-status POST \/roaming: statuses: project 200,400,401,403,404,500,503, upstream 200,400,401,403,404,429,500,503/,
      ],
      [
        'device-status',
        'a path',
        rename('#/paths/~1connectivity', '#/paths/~1connectivity-status'),
        /device-status POST \/connectivity: no such operation upstream/,
      ],
      [
        'device-status',
        'the version',
        set('#/info/version', '0.6.0'),
        /device-status: version: project 0\.5\.0, upstream "0\.6\.0"/,
      ],
    ] as const)('%s: notices a change of %s', (api, _what, edit, message) => {
      const report = conformanceReport(api, tampered(api, edit));
      expect(report.length).toBeGreaterThan(0);
      expect(report.join('\n')).toMatch(message);
    });

    it('the simulator mounts every spec path under its Vonage base', () => {
      for (const facts of Object.values(CAMARA_OPERATIONS)) {
        expect(facts.path.endsWith(facts.specPath)).toBe(true);
        expect(Object.keys(docs[facts.api].paths as object)).toContain(facts.specPath);
      }
    });
  },
);
