/**
 * The committed contract (contract/v1/) is what the code emits, a change of it is in
 * CHANGELOG.md, and its schemas describe what netcheck really writes: every input, result,
 * update and result page of the recorded histories (test/fixtures/histories) validates.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  changelogTag,
  committedContract,
  contractHash,
  contractDiff,
  generateContract,
  root,
} from '../../scripts/contract.js';
import { schemaProblems, readContractFile } from '../contract/schemas.js';

const generated = await generateContract();

describe('the committed contract', () => {
  it('is what contract/schemas.ts and the code emit (run `npm run contract` after a change)', () => {
    expect(contractDiff(generated, committedContract())).toEqual([]);
  });

  it('is named in CHANGELOG.md by its hash (a change of the contract needs a changelog line)', () => {
    const changelog = path.join(root, 'CHANGELOG.md');
    const text = existsSync(changelog) ? readFileSync(changelog, 'utf8') : '';
    const tag = changelogTag(generated);
    expect(
      text.includes(tag),
      `CHANGELOG.md must name "${tag}" in a line that says what changed (npm run contract prints it)`,
    ).toBe(true);
  });

  it('lists every schema file it holds, and each compiles as JSON Schema 2020-12', () => {
    const manifest = readContractFile<{ schemas: string[]; version: number; hash: string }>('contract.json');
    expect(manifest.version).toBe(1);
    expect(manifest.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const onDisk = [...committedContract().keys()].filter((f) => f.startsWith('schemas/')).sort();
    expect(manifest.schemas).toEqual(onDisk);
    for (const file of manifest.schemas) expect(() => schemaProblems(file, {})).not.toThrow();
  });

  it('carries a hash of all its files, which any change of a schema changes', () => {
    const { hash } = JSON.parse(generated.get('contract.json')!) as { hash: string };
    expect(hash).toBe(contractHash(generated));
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const edited = new Map(generated);
    const name = 'schemas/batch-item.json';
    edited.set(name, edited.get(name)!.replace('"msisdn"', '"msisdn2"'));
    expect(contractHash(edited)).not.toBe(hash);
  });
});

// ---- the schemas against recorded histories ----

interface RawPayload {
  metadata?: Record<string, string>;
  data?: string;
}
type HistoryEvent = Record<string, unknown> & { eventType: string };

/**
 * Check results recorded before Identity Insights (netcheck 0.1) have no `api`: it was camara.
 * Filled in, so the old histories are checked for everything else.
 */
function withApi(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withApi);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([k, v]) => [k, withApi(v)] as const);
  const object = Object.fromEntries(entries) as Record<string, unknown>;
  return 'correlationId' in object && 'timestamps' in object && !('api' in object)
    ? { api: 'camara', ...object }
    : object;
}

function decode(payloads: { payloads?: RawPayload[] } | undefined): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    const encoding = Buffer.from(p.metadata?.encoding ?? '', 'base64').toString();
    expect(encoding).toBe('json/plain');
    return withApi(JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8')));
  });
}

function attributes<T>(event: HistoryEvent, name: string): T {
  return event[name] as T;
}

/** The children batchCheck starts, and the schemas of their input and result. */
const CHILD_SCHEMAS: Record<string, { input: string; result: string }> = {
  networkCheck: { input: 'schemas/network-check.input.json', result: 'schemas/network-check.result.json' },
  networkAssess: {
    input: 'schemas/network-assess.input.json',
    result: 'schemas/network-assess.result.json',
  },
  batchResultPage: {
    input: 'schemas/batch-result-page.result.json',
    result: 'schemas/batch-result-page.result.json',
  },
};

const historyDir = path.join(root, 'test', 'fixtures', 'histories');
const histories = readdirSync(historyDir).filter((f) => f.endsWith('.json'));

describe('the schemas describe what netcheck writes (recorded histories)', () => {
  it.each(histories)('%s', (file) => {
    const { events } = JSON.parse(readFileSync(path.join(historyDir, file), 'utf8')) as {
      events: HistoryEvent[];
    };
    const started = attributes<{ workflowType: { name: string }; input?: { payloads?: RawPayload[] } }>(
      events[0]!,
      'workflowExecutionStartedEventAttributes',
    );
    const type = started.workflowType.name;
    const [input] = decode(started.input);
    const problems: string[] = [];
    let checked = 0;
    const check = (schema: string, value: unknown) => {
      checked++;
      if (schema.startsWith('schemas/')) problems.push(...schemaProblems(schema, value));
      else problems.push(`${schema}: add it to contract/schemas.ts`);
    };
    if (type === 'networkCheck') {
      check('schemas/network-check.input.json', input);
      const { operation, api = 'camara' } = input as { operation: string; api?: string };
      check(`schemas/checks/${api}.${operation}.input.json`, input);
    } else if (type === 'networkAssess') {
      check('schemas/network-assess.input.json', input);
    } else {
      expect(type, `workflow type ${type} has no schema in contract/v1: add it to contract/schemas.ts`).toBe(
        'batchCheck',
      );
      // `carried` is set by continue-as-new only, never by a caller.
      const { carried: _carried, ...callerInput } = input as Record<string, unknown>;
      check('schemas/batch-check.input.json', callerInput);
    }
    for (const event of events) {
      if (event.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED') {
        const [result] = decode(
          attributes<{ result?: { payloads?: RawPayload[] } }>(
            event,
            'workflowExecutionCompletedEventAttributes',
          ).result,
        );
        if (type === 'networkCheck') {
          check('schemas/network-check.result.json', result);
          const { operation, api } = result as { operation: string; api: string };
          check(`schemas/checks/${api}.${operation}.result.json`, result);
        } else if (type === 'networkAssess') check('schemas/network-assess.result.json', result);
        else check('schemas/batch-check.result.json', result);
      }
      if (event.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED') {
        const accepted = attributes<{
          acceptedRequest: { input: { name: string; args?: { payloads?: RawPayload[] } } };
        }>(event, 'workflowExecutionUpdateAcceptedEventAttributes');
        expect(accepted.acceptedRequest.input.name).toBe('addPage');
        check('schemas/batch-check.add-page.input.json', decode(accepted.acceptedRequest.input.args)[0]);
      }
      if (event.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED') {
        const completed = attributes<{ outcome: { success?: { payloads?: RawPayload[] } } }>(
          event,
          'workflowExecutionUpdateCompletedEventAttributes',
        );
        if (completed.outcome.success) {
          check('schemas/batch-check.add-page.result.json', decode(completed.outcome.success)[0]);
        }
      }
      if (event.eventType === 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED') {
        const child = attributes<{ workflowType: { name: string }; input?: { payloads?: RawPayload[] } }>(
          event,
          'startChildWorkflowExecutionInitiatedEventAttributes',
        );
        const [childInput] = decode(child.input);
        // A result page's input is its result.
        check(
          CHILD_SCHEMAS[child.workflowType.name]?.input ?? `(no schema for ${child.workflowType.name})`,
          childInput,
        );
      }
      if (event.eventType === 'EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED') {
        const child = attributes<{ workflowType: { name: string }; result?: { payloads?: RawPayload[] } }>(
          event,
          'childWorkflowExecutionCompletedEventAttributes',
        );
        const [result] = decode(child.result);
        check(
          CHILD_SCHEMAS[child.workflowType.name]?.result ?? `(no schema for ${child.workflowType.name})`,
          result,
        );
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(1);
  });
});
