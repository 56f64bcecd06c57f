/**
 * A batch's input, client side: the fingerprint that ties a batch id to its input, the items
 * with the caller's defaults, bounded, hashed (the subject), deduplicated and cut into pages
 * sent in order (skipping the pages the batch already has).
 */
import { createHmac } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { BatchItem, BatchPageItem } from '../domain/batch.js';
import { canonicalJson } from '../domain/canonical-json.js';
import { boundedItem, dedupeKey, PageBuilder } from '../domain/batch-pages.js';
import { isE164 } from '../domain/msisdn.js';
import { defaultPurpose, isOperation } from '../domain/operations.js';
import type { batchCheck } from '../workflows/batch.js';
import { BatchConflictError, BatchTooLargeError } from './batch-errors.js';
import { sendPage } from './batch-send.js';
import { purposeSettingOf, type ClientDefaults } from './index.js';
import { subjectOf } from './subject.js';

/**
 * Memo key of the input fingerprint: an HMAC (keyed with the subject key, so it reveals nothing
 * of the numbers) of the first page of items. Batches started before it existed have none and
 * are not checked.
 */
export const INPUT_FINGERPRINT_MEMO = 'netcheckInput';

export function inputFingerprint(head: BatchItem[], key: string | Uint8Array): string {
  return createHmac('sha256', key)
    .update(`netcheck-batch-input:v1:${canonicalJson(head)}`)
    .digest('base64url')
    .slice(0, 32);
}

/** Takes up to `n` items off the input, and the whole input again (those items first). */
export async function peek(
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  n: number,
): Promise<{ head: BatchItem[]; all: AsyncIterable<BatchItem> }> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const head: BatchItem[] = [];
  let done = false;
  while (head.length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
  }
  async function* all(): AsyncIterable<BatchItem> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, all: all() };
}

/** Throws BatchConflictError when the batch was started with another input fingerprint. */
export async function ensureSameInput(
  workflow: WorkflowHandle<typeof batchCheck>,
  fingerprint: string,
): Promise<void> {
  const { memo } = await workflow.describe();
  const theirs = memo?.[INPUT_FINGERPRINT_MEMO];
  if (typeof theirs === 'string' && theirs !== fingerprint) throw new BatchConflictError(workflow.workflowId);
}

/** The item with the batch's defaults for what it does not name. */
export function withDefaults(item: BatchItem, defaults: ClientDefaults): BatchItem {
  const out: BatchItem = { ...item };
  if (out.api === undefined && defaults.api !== undefined) out.api = defaults.api;
  const setting = purposeSettingOf(defaults);
  if (out.purpose === undefined && setting !== undefined) {
    // Only where a purpose is sent at all (carrier sends none); each check then sends the one
    // its API family takes from the setting (resolvePurpose).
    // `out`, not `item`: an item that is not an object (null, say) is recorded invalid, not thrown on.
    const needs = (Array.isArray(out.operations) ? out.operations : []).some(
      (op) => isOperation(op) && defaultPurpose(op, out.api ?? 'camara') !== undefined,
    );
    if (needs) out.purpose = setting;
  }
  return out;
}

/** Numbers, bounds, hashes and dedupes the items in input order, and sends pages from `from` on. */
export async function sendPages(
  workflow: WorkflowHandle<typeof batchCheck>,
  items: Iterable<BatchItem> | AsyncIterable<BatchItem>,
  opts: {
    pageSize: number;
    from: number;
    key: string | Uint8Array;
    dedupe: boolean;
    defaults: ClientDefaults;
    maxItems: number;
  },
): Promise<void> {
  const firstSeen = new Map<string, number>();
  const pages = new PageBuilder(opts.pageSize);
  let pageIndex = 0;
  const send = async (pageItems: BatchPageItem[], last: boolean) => {
    // Pages the batch already has (an earlier, interrupted start) are skipped, not resent.
    if (pageIndex >= opts.from) await sendPage(workflow, { pageIndex, items: pageItems, last });
    pageIndex++;
  };

  let index = 0;
  for await (const item of items) {
    if (index >= opts.maxItems) {
      // Part of the input is in the batch already: cancel it rather than leave a partial batch running.
      await workflow.cancel();
      throw new BatchTooLargeError(opts.maxItems, workflow.workflowId);
    }
    const entry = boundedItem(withDefaults(item, opts.defaults), index);
    if (isE164(entry.msisdn)) {
      entry.subject = subjectOf(entry.msisdn, opts.key);
      for (const operation of opts.dedupe && Array.isArray(entry.operations) ? entry.operations : []) {
        const key = dedupeKey(entry, operation);
        if (key === undefined) continue;
        const seenAt = firstSeen.get(key);
        if (seenAt === undefined) firstSeen.set(key, index);
        else (entry.duplicateOf ??= {})[operation] = seenAt;
      }
    }
    index++;
    // A page is sent once the next item shows it is full (so the last page is known as last).
    const full = pages.add(entry);
    if (full) await send(full, false);
  }
  await send(pages.finish(), true);
}
