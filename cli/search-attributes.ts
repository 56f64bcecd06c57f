/**
 * netcheck's search attributes on a namespace: which are missing, and registering them
 * (idempotent: listed first, "already exists" from a concurrent setup counts as success).
 */
import type { Client } from '@temporalio/client';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { UsageError } from './errors.js';

const { temporal } = proto;

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

export const SEARCH_ATTRIBUTE_NAMES: readonly string[] = SEARCH_ATTRIBUTES.map((key) => key.name);

export interface SearchAttributeState {
  /** Registered as Keyword. */
  present: string[];
  /** Not registered at all. */
  missing: string[];
  /** Registered with another type: netcheck cannot use them. */
  wrongType: Array<{ name: string; type: string }>;
}

function typeName(type: number | null | undefined): string {
  const name = temporal.api.enums.v1.IndexedValueType[type ?? 0] ?? String(type);
  return name.replace('INDEXED_VALUE_TYPE_', '');
}

export async function searchAttributeState(client: Client, namespace: string): Promise<SearchAttributeState> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const state: SearchAttributeState = { present: [], missing: [], wrongType: [] };
  for (const name of SEARCH_ATTRIBUTE_NAMES) {
    const type = customAttributes?.[name];
    if (type === undefined || type === null) state.missing.push(name);
    else if (type === KEYWORD) state.present.push(name);
    else state.wrongType.push({ name, type: typeName(type) });
  }
  return state;
}

function isAlreadyExists(err: unknown): boolean {
  const e = err as { code?: number; message?: string } | undefined;
  // gRPC ALREADY_EXISTS = 6
  return e?.code === 6 || /already exists/i.test(e?.message ?? '');
}

/** Adds the missing attributes; returns what was added and what was there already. */
export async function registerSearchAttributes(
  client: Client,
  namespace: string,
): Promise<{ added: string[]; present: string[] }> {
  const state = await searchAttributeState(client, namespace);
  if (state.wrongType.length > 0) {
    throw new UsageError(
      `These search attributes exist on namespace "${namespace}" with another type; netcheck needs Keyword:\n` +
        state.wrongType.map((w) => `  - ${w.name} is ${w.type}`).join('\n') +
        '\n  Remove them (temporal operator search-attribute remove) or use another namespace.',
    );
  }
  const added: string[] = [];
  for (const name of state.missing) {
    try {
      await client.connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { [name]: KEYWORD },
      });
      added.push(name);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      state.present.push(name);
    }
  }
  return { added, present: state.present };
}

/** One line for the worker to print when attributes are missing, naming the command that fixes it. */
export function missingAttributesWarning(state: SearchAttributeState, namespace: string): string | undefined {
  if (state.missing.length === 0 && state.wrongType.length === 0) return undefined;
  const parts: string[] = [];
  if (state.missing.length > 0) parts.push(`missing: ${state.missing.join(', ')}`);
  if (state.wrongType.length > 0) {
    parts.push(`wrong type (need Keyword): ${state.wrongType.map((w) => `${w.name}=${w.type}`).join(', ')}`);
  }
  return (
    `WARNING: netcheck's search attributes are not registered on namespace "${namespace}" (${parts.join('; ')}).\n` +
    '  Checks started by the netcheck client will be refused until they are. Run `netcheck setup` once ' +
    '(with the same TEMPORAL_* settings) to register them.'
  );
}
