/**
 * What a client and a batch exchange: the items and their bounds, how an item is cut to size
 * and cut into input pages (PageBuilder, pure, so a client that resends after a crash cuts the
 * same pages), the check request an (item, operation) stands for, and the ids of child checks
 * and result pages.
 *
 * Workflow-safe: deterministic, no I/O, no Node built-ins, no workflow APIs.
 */
import type { BatchItem, BatchPageItem } from './batch.js';
import {
  DEFAULT_API,
  defaultPurpose,
  isOperation,
  MAX_AGE_DEFAULT,
  OPERATIONS,
  type Api,
  type Operation,
} from './operations.js';
import type { CheckRequest } from './types.js';
import { InvalidRequestError } from './errors.js';
import { checkRequestProblem } from './validate.js';

/**
 * Longest accepted text of an item's fields, in characters. Beyond these an item cannot be
 * valid anyway (a number, a purpose, an operation or an API name), or it would bloat every
 * page, record and history it travels through (a ref). The client cuts longer values to one
 * character over the limit before sending, so a page stays small and the item is recorded
 * `invalid` with the reason.
 */
export const FIELD_LIMITS = {
  msisdn: 32,
  ref: 256,
  /** One purpose, or one per API family (`sim-swap=…,device-status=…`: up to 78 characters today). */
  purpose: 128,
  operation: 32,
  api: 32,
} as const;

/** More operations than this on one item is a caller's bug, not a value to record. */
export const MAX_OPERATIONS_PER_ITEM = 16;

/**
 * A page the client sends holds at most this many items and this many bytes (as JSON), well
 * under Temporal's 2 MB payload limit: the update that carries it is stored in history.
 */
export const PAGE_MAX_ITEMS = 5_000;
/**
 * The most items one batch takes (startBatch and `netcheck batch`), beside the CLI's byte cap
 * (MAX_INPUT_BYTES): one batch's records, dedupe map and progress stay within what a client and
 * a week's execution timeout can carry. A bigger input is several batches.
 */
export const MAX_BATCH_ITEMS = 1_000_000;
export const PAGE_MAX_BYTES = 256 * 1024;
export const DEFAULT_PAGE_ITEMS = 500;

/** The ApplicationFailure type of a page refused because the queue is full: send it again shortly. */
export const BATCH_BUSY = 'BATCH_BUSY';

/** UTF-8 length of a string, without TextEncoder (not in every workflow sandbox). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

export const jsonBytes = (value: unknown): number => utf8Length(JSON.stringify(value) ?? '');

/** The API a check of `operation` uses when nothing names one: camara, or the one API that serves it. */
export function defaultApiFor(operation: string): Api {
  if (!isOperation(operation)) return DEFAULT_API;
  const apis = OPERATIONS[operation].apis as readonly Api[];
  return apis.includes(DEFAULT_API) ? DEFAULT_API : apis[0]!;
}

/** The check request of one (item, operation), with the API resolved. */
export function requestOf(item: BatchItem, operation: string): CheckRequest {
  return {
    msisdn: item.msisdn,
    operation: operation as Operation,
    api: item.api ?? defaultApiFor(operation),
    ...(item.maxAge !== undefined ? { maxAge: item.maxAge } : {}),
    ...(item.purpose !== undefined ? { purpose: item.purpose } : {}),
  };
}

/** What makes an (item, operation) invalid beyond the check request itself: an overlong ref. */
export function itemFieldProblem(item: BatchItem): string | undefined {
  if (typeof item.ref === 'string' && item.ref.length > FIELD_LIMITS.ref) {
    return `ref is longer than ${FIELD_LIMITS.ref} characters; shorten it`;
  }
  return undefined;
}

/**
 * What two checks must share to be one check: number, operation, API, purpose and (sim-swap)
 * maxAge, as the workflow will resolve them. Undefined for a request that is not valid (it is
 * recorded `invalid`, never deduplicated).
 */
export function dedupeKey(item: BatchItem, operation: string): string | undefined {
  const request = requestOf(item, operation);
  if (checkRequestProblem(request) || itemFieldProblem(item)) return undefined;
  const api = request.api ?? DEFAULT_API;
  const purpose = request.purpose ?? defaultPurpose(request.operation, api) ?? '';
  const maxAge = request.operation === 'sim-swap' ? (request.maxAge ?? MAX_AGE_DEFAULT) : '';
  return [request.operation, api, purpose, maxAge, request.msisdn].join('|');
}

/**
 * An item as the client sends it: fields over FIELD_LIMITS cut to one character over the limit
 * (so the batch still sees them as too long and records why), operations without repeats.
 * Throws InvalidRequestError for more than MAX_OPERATIONS_PER_ITEM operations (the input is
 * wrong, not the batch).
 */
export function boundedItem(item: BatchItem, index: number): BatchPageItem {
  const cut = (value: unknown, limit: number) =>
    typeof value === 'string' && value.length > limit ? value.slice(0, limit + 1) : value;
  const operations = Array.isArray(item.operations)
    ? [...new Set(item.operations.map((o) => cut(o, FIELD_LIMITS.operation) as Operation))]
    : item.operations;
  if (Array.isArray(operations) && operations.length > MAX_OPERATIONS_PER_ITEM) {
    throw new InvalidRequestError(
      `item ${index} has ${operations.length} operations; at most ${MAX_OPERATIONS_PER_ITEM} (there are ${Object.keys(OPERATIONS).length} operations)`,
    );
  }
  const out: BatchPageItem = {
    ...item,
    index,
    msisdn: cut(item.msisdn, FIELD_LIMITS.msisdn) as string,
    operations,
  };
  if (item.ref !== undefined) out.ref = cut(item.ref, FIELD_LIMITS.ref) as string;
  if (item.purpose !== undefined) out.purpose = cut(item.purpose, FIELD_LIMITS.purpose) as string;
  if (item.api !== undefined) out.api = cut(item.api, FIELD_LIMITS.api) as Api;
  return out;
}

/**
 * Cuts a stream of items into pages of at most `maxItems` items and PAGE_MAX_BYTES bytes. Pure
 * and deterministic, so a client that resends after a crash cuts the same pages.
 */
export class PageBuilder {
  private items: BatchPageItem[] = [];
  private bytes = 0;
  constructor(private readonly maxItems: number = DEFAULT_PAGE_ITEMS) {}

  /** Adds an item; returns the page it closes when this item does not fit in the current one. */
  add(item: BatchPageItem): BatchPageItem[] | undefined {
    const size = jsonBytes(item) + 1;
    let full: BatchPageItem[] | undefined;
    if (this.items.length > 0 && (this.items.length >= this.maxItems || this.bytes + size > PAGE_MAX_BYTES)) {
      full = this.items;
      this.items = [];
      this.bytes = 0;
    }
    this.items.push(item);
    this.bytes += size;
    return full;
  }

  /** The last page (possibly empty). */
  finish(): BatchPageItem[] {
    const last = this.items;
    this.items = [];
    this.bytes = 0;
    return last;
  }
}
export const resultPageId = (batchId: string, page: number) => `${batchId}/results/${page}`;
export const checkId = (batchId: string, index: number, operation: string) =>
  `${batchId}/${index}/${operation}`;
