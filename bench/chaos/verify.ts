/**
 * What the chaos run proves at the end, from the batch's records and the simulator's own log:
 * one record per item, every `ok` answer equal to the simulator's truth for the number, every
 * failure a code of the taxonomy, no protocol violation, the rate limit held in every 1-s window.
 *
 * The truth: the batch checks Virtual Operator numbers (`+990…`), whose answers the simulator
 * derives from the number alone (simulator/virtual-operator.ts), so they are the same before and
 * after a simulator restart and need no scenario.
 */
import type { BatchItem, BatchRecord } from '../../domain/batch.js';
import { isErrorCode } from '../../domain/errors.js';
import type { Api, Operation } from '../../domain/operations.js';
import type { CheckResult } from '../../domain/types.js';
import type { RequestLogEntry } from '../../simulator/request-log.js';
import {
  VIRTUAL_OPERATOR_SWAP_AGE_HOURS,
  virtualOperatorConnectivity,
  virtualOperatorRoaming,
  virtualOperatorSimSwapUnknown,
} from '../../simulator/virtual-operator.js';
import { maxInWindow } from '../stats.js';

const HOUR_MS = 3_600_000;

/** Every (operation, api) pair netcheck serves: the batch cycles through them. */
export const CHECK_KINDS: { operation: Operation; api: Api }[] = [
  { operation: 'sim-swap', api: 'camara' },
  { operation: 'sim-swap-date', api: 'camara' },
  { operation: 'device-connectivity', api: 'camara' },
  { operation: 'device-roaming', api: 'camara' },
  { operation: 'sim-swap', api: 'identity-insights' },
  { operation: 'sim-swap-date', api: 'identity-insights' },
  { operation: 'device-connectivity', api: 'identity-insights' },
  { operation: 'device-roaming', api: 'identity-insights' },
  { operation: 'carrier', api: 'identity-insights' },
];

/** Last two digits that take every Virtual Operator rule: 99 (SIM Swap unknown), 11, 22, even, odd. */
const ENDINGS = ['01', '02', '11', '22', '99', '37', '48', '53', '64', '75'];

/** The batch: one check per item, every kind in turn, unique numbers, maxAge on both sides of 500 h. */
export function chaosItems(count: number): BatchItem[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = CHECK_KINDS[i % CHECK_KINDS.length]!;
    const msisdn = `+990${String(i).padStart(7, '0')}${ENDINGS[Math.floor(i / CHECK_KINDS.length) % ENDINGS.length]}`;
    const item: BatchItem = { msisdn, operations: [kind.operation], api: kind.api, ref: `chaos-${i}` };
    if (kind.operation === 'sim-swap') item.maxAge = i % 2 === 0 ? 600 : 100;
    return item;
  });
}

export type Expected =
  { outcome: 'ok'; matches: (r: CheckResult) => string | undefined } | { outcome: 'failed'; code: string };

/** What the simulator answers for this item (faults aside). */
export function expected(item: BatchItem): Expected {
  const operation = item.operations[0]!;
  const api = item.api ?? 'camara';
  const msisdn = item.msisdn;
  if ((operation === 'sim-swap' || operation === 'sim-swap-date') && virtualOperatorSimSwapUnknown(msisdn)) {
    return { outcome: 'failed', code: 'UNKNOWN_NUMBER' };
  }
  const ok = (matches: (r: CheckResult) => string | undefined): Expected => ({ outcome: 'ok', matches });
  switch (operation) {
    case 'sim-swap': {
      const swapped = (item.maxAge ?? 240) >= VIRTUAL_OPERATOR_SWAP_AGE_HOURS;
      return ok((r) =>
        r.status === 'ok' && r.operation === 'sim-swap' && r.data.swapped === swapped
          ? undefined
          : `swapped should be ${swapped}`,
      );
    }
    case 'sim-swap-date':
      return ok((r) => {
        if (r.status !== 'ok' || r.operation !== 'sim-swap-date') return 'not a sim-swap-date result';
        const at = Date.parse(r.data.latestSimChange ?? '');
        // Vonage's answer is "500 h before the request": between the check's start and its end.
        const lo = Date.parse(r.timestamps.started) - VIRTUAL_OPERATOR_SWAP_AGE_HOURS * HOUR_MS - 2_000;
        const hi =
          Date.parse(r.timestamps.finished ?? r.timestamps.started) -
          VIRTUAL_OPERATOR_SWAP_AGE_HOURS * HOUR_MS +
          2_000;
        return at >= lo && at <= hi
          ? undefined
          : `latestSimChange ${r.data.latestSimChange} is not 500 h before the check`;
      });
    case 'device-connectivity': {
      const status = virtualOperatorConnectivity();
      return ok((r) =>
        r.status === 'ok' && r.operation === 'device-connectivity' && r.data.connectivityStatus === status
          ? undefined
          : `connectivityStatus should be ${status}`,
      );
    }
    case 'device-roaming': {
      const truth = virtualOperatorRoaming(msisdn);
      return ok((r) => {
        if (r.status !== 'ok' || r.operation !== 'device-roaming') return 'not a device-roaming result';
        if (r.data.roaming !== truth.roaming) return `roaming should be ${truth.roaming}`;
        const names = r.data.countryName ?? [];
        const want = truth.countryName ?? [];
        if (names.length > 0 || api === 'camara') {
          if (JSON.stringify(names) !== JSON.stringify(want))
            return `countryName should be ${JSON.stringify(want)}`;
        }
        if (api === 'camara' && r.data.countryCode !== truth.countryCode)
          return `countryCode should be ${truth.countryCode}`;
        return undefined;
      });
    }
    case 'carrier':
      // +990 has no country the simulator knows: a valid format, no carrier data.
      return ok((r) =>
        r.status === 'ok' && r.operation === 'carrier' && r.data.valid && !r.data.currentCarrier
          ? undefined
          : 'carrier should be valid without carrier data',
      );
  }
}

export interface RecordFindings {
  records: number;
  lost: number;
  duplicated: number;
  /** Records whose index is not an input item. */
  stray: number;
  byOutcome: Record<string, number>;
  failuresByCode: Record<string, number>;
  /** ok and equal to the truth / failed where the truth is a failure with that code. */
  asExpected: number;
  /** ok but not what the simulator says (a violation). */
  wrongAnswers: string[];
  /** failed with a code outside the taxonomy (a violation). */
  unknownCodes: string[];
  /** Σ polls, Σ authorizations − checks that authorized. */
  polls: number;
  /** Provider requests a fault-free run needs for these records (bc-authorizes + polls + checks, or one Identity Insights call). */
  neededRequests: number;
  reauthorizations: number;
  checksReauthorized: number;
}

const codeOf = (r: BatchRecord): string | undefined => r.result?.error?.code ?? r.error?.code;

export function checkRecords(items: BatchItem[], records: BatchRecord[]): RecordFindings {
  const seen = new Map<number, number>();
  const f: RecordFindings = {
    records: records.length,
    lost: 0,
    duplicated: 0,
    stray: 0,
    byOutcome: {},
    failuresByCode: {},
    asExpected: 0,
    wrongAnswers: [],
    unknownCodes: [],
    polls: 0,
    neededRequests: 0,
    reauthorizations: 0,
    checksReauthorized: 0,
  };
  for (const r of records) {
    const key = r.index;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const item = items[r.index];
    if (!item || item.operations[0] !== r.operation) {
      f.stray++;
      continue;
    }
    f.byOutcome[r.outcome] = (f.byOutcome[r.outcome] ?? 0) + 1;
    f.polls += r.result?.polls ?? 0;
    const auths = r.result?.authorizations ?? 0;
    if (r.result) f.neededRequests += r.result.api === 'camara' ? auths + (r.result.polls ?? 0) + 1 : 1;
    if (auths > 1) {
      f.reauthorizations += auths - 1;
      f.checksReauthorized++;
    }
    const want = expected(item);
    if (r.outcome === 'ok' && r.result) {
      const wrong = want.outcome === 'ok' ? want.matches(r.result) : `should have failed ${want.code}`;
      if (wrong) f.wrongAnswers.push(`item ${r.index} (${r.operation}, ${item.api}): ${wrong}`);
      else f.asExpected++;
      continue;
    }
    const code = codeOf(r) ?? '(none)';
    f.failuresByCode[code] = (f.failuresByCode[code] ?? 0) + 1;
    if (!isErrorCode(code)) f.unknownCodes.push(`item ${r.index}: ${r.outcome} with code ${code}`);
    else if (want.outcome === 'failed' && want.code === code) f.asExpected++;
  }
  for (let i = 0; i < items.length; i++) {
    const n = seen.get(i) ?? 0;
    if (n === 0) f.lost++;
    if (n > 1) f.duplicated += n - 1;
  }
  return f;
}

export interface LogFindings {
  requests: number;
  /** Injected faults by kind, from the log's `fault` field. */
  faults: Record<string, number>;
  /** Most requests the simulator received in any 1-s window, over all its processes. */
  maxInAnyWindow1s: number;
  /** Requests refused by the simulator's limiter. */
  rateLimited: number;
  byEndpoint: Record<string, Record<string, number>>;
}

export function checkLog(entries: RequestLogEntry[]): LogFindings {
  const faults: Record<string, number> = {};
  const byEndpoint: Record<string, Record<string, number>> = {};
  for (const e of entries) {
    if (e.fault) faults[e.fault] = (faults[e.fault] ?? 0) + 1;
    const ep = (byEndpoint[e.endpoint] ??= {});
    ep[String(e.status)] = (ep[String(e.status)] ?? 0) + 1;
  }
  return {
    requests: entries.length,
    faults,
    maxInAnyWindow1s: maxInWindow(
      entries.map((e) => Date.parse(e.time)),
      1000,
    ),
    rateLimited: faults['rate-limit'] ?? 0,
    byEndpoint,
  };
}
