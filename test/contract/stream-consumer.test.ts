/**
 * The stream consumer of examples/stream, fed from a file standing in for the stream: every
 * message gets its records, the consumer reads no further ahead than one window of what the sink
 * has taken, a repeat in a window is checked once, and a consumer restarted from an earlier
 * offset (a crash before the commit) checks nothing again.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { BatchItem } from '../../domain/batch.js';
import { consume, type SinkRecord, type StreamMessage } from '../../examples/stream/consumer.js';
import { numberWith, simulatorStats, useTestWorker } from '../support/harness.js';

const ctx = useTestWorker('stream');

/** The file as a stream: one JSON item per line, its line number as the offset. */
async function* fileStream(file: string, reads: number[] = []): AsyncIterable<StreamMessage> {
  let offset = 0;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    if (line.trim() === '') continue;
    reads.push(offset);
    yield { offset: offset++, item: JSON.parse(line) as BatchItem };
  }
}

describe('a stream of numbers into netcheck batches', () => {
  it('records for every message, one window read ahead at most, repeats in a window checked once, a replay checks nothing again', async () => {
    const { env, taskQueue } = ctx;
    const [a, b, d, e] = await Promise.all(
      [0, 1, 2, 3].map(() => numberWith(env.simulatorUrl, { interval: 0.2, lastSimChangeHoursAgo: 5 })),
    );
    const lines: BatchItem[] = [
      { msisdn: a!, operations: ['sim-swap'], ref: 'm0' },
      { msisdn: b!, operations: ['sim-swap', 'device-roaming'], ref: 'm1' },
      { msisdn: a!, operations: ['sim-swap'], ref: 'm2 (a again, same window)' },
      { msisdn: 'not a number', operations: ['sim-swap'], ref: 'm3' },
      { msisdn: d!, operations: ['device-connectivity'], ref: 'm4' },
      { msisdn: a!, operations: ['sim-swap'], ref: 'm5 (a again, next window)' },
      { msisdn: e!, operations: ['carrier'], ref: 'm6' },
    ];
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'netcheck-stream-')), 'numbers.ndjson');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const streamId = `numbers-${randomUUID()}`;
    const options = { streamId, windowSize: 3, pageSize: 2, taskQueue, subjectKey: 'k'.repeat(32) };

    // Back-pressure: when offset o is read, every record of the windows before o's is in the sink.
    const sink = new Map<string, SinkRecord>();
    const reads: number[] = [];
    const sinkAtRead: number[] = [];
    const offsetsInSink = () => new Set([...sink.values()].map((r) => r.offset));
    const commits: number[] = [];
    async function* watched(): AsyncIterable<StreamMessage> {
      for await (const message of fileStream(file, reads)) {
        sinkAtRead[message.offset] = offsetsInSink().size;
        yield message;
      }
    }
    const summary = await consume(env.client, watched(), {
      ...options,
      onRecord: (r) => void sink.set(`${r.batchId}|${r.index}|${r.operation}`, r),
      onCommit: (next) => void commits.push(next),
    });
    expect(summary).toEqual({ windows: 3, records: 8, nextOffset: 7 });
    expect(commits).toEqual([3, 6, 7]);
    expect(reads).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Offsets 3 and 6 open windows: they were read only after the previous windows' offsets were all in the sink.
    expect(sinkAtRead[3]).toBeGreaterThanOrEqual(3);
    expect(sinkAtRead[6]).toBeGreaterThanOrEqual(6);

    const records = [...sink.values()];
    const at = (offset: number) => records.filter((r) => r.offset === offset);
    expect(at(0)[0]).toMatchObject({ batchId: `${streamId}-0`, outcome: 'ok', ref: 'm0' });
    expect(at(1).map((r) => r.outcome)).toEqual(['ok', 'ok']);
    // The same number twice in a window: one check, both records carry its result.
    expect(at(2)[0]).toMatchObject({ outcome: 'ok', duplicateOf: 0 });
    expect(at(2)[0]!.result!.correlationId).toBe(at(0)[0]!.result!.correlationId);
    expect(at(3)[0]).toMatchObject({
      batchId: `${streamId}-3`,
      outcome: 'invalid',
      error: { code: 'INVALID_INPUT' },
    });
    // In another window: checked again.
    expect(at(5)[0]).toMatchObject({ outcome: 'ok' });
    expect(at(5)[0]!.duplicateOf).toBeUndefined();
    expect(at(5)[0]!.result!.correlationId).not.toBe(at(0)[0]!.result!.correlationId);
    expect(at(6)[0]).toMatchObject({
      batchId: `${streamId}-6`,
      outcome: 'ok',
      result: { api: 'identity-insights' },
    });

    // A crash before the commit of offset 3: the consumer restarts from 0. Same batches, same
    // records, and not one more request to the provider.
    const requests = async () =>
      (await Promise.all([a, b, d, e].map((n) => simulatorStats(env.simulatorUrl, n)))).map((s) => s.total);
    const before = await requests();
    const replayed = new Map<string, SinkRecord>();
    const again = await consume(env.client, fileStream(file), {
      ...options,
      onRecord: (r) => void replayed.set(`${r.batchId}|${r.index}|${r.operation}`, r),
    });
    expect(again).toEqual(summary);
    expect([...replayed.keys()].sort()).toEqual([...sink.keys()].sort());
    for (const [key, record] of replayed) {
      expect(record.result?.correlationId).toBe(sink.get(key)!.result?.correlationId);
    }
    expect(await requests()).toEqual(before);

    // Resuming from a commit reads only what follows it.
    const resumed: SinkRecord[] = [];
    const tail = await consume(env.client, fileStream(file), {
      ...options,
      fromOffset: 6,
      onRecord: (r) => void resumed.push(r),
    });
    expect(tail).toEqual({ windows: 1, records: 1, nextOffset: 7 });
    expect(resumed.map((r) => [r.batchId, r.offset])).toEqual([[`${streamId}-6`, 6]]);
  });
});
