/**
 * Batch progress on stderr: a cli-progress bar on a terminal (done/total, rate, ETA, failures),
 * plain lines otherwise (at most one every few seconds, and a last one).
 */
import { SingleBar } from 'cli-progress';

export interface ProgressCounts {
  done: number;
  total: number;
  failed: number;
}

export interface ProgressView {
  update(counts: ProgressCounts): void;
  stop(): void;
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function progressView(options: { tty?: boolean; intervalMs?: number } = {}): ProgressView {
  const stream = process.stderr;
  const tty = options.tty ?? stream.isTTY;
  const started = Date.now();
  const rateOf = (done: number) => done / Math.max(0.001, (Date.now() - started) / 1000);
  let last: ProgressCounts = { done: 0, total: 0, failed: 0 };

  if (tty) {
    const bar = new SingleBar({
      stream,
      format: ' {bar} {value}/{total} checks | {rate}/s | ETA {etaText} | failed {failed}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    });
    let startedBar = false;
    return {
      update(counts) {
        last = counts;
        const rate = rateOf(counts.done);
        const payload = {
          rate: rate.toFixed(1),
          failed: counts.failed,
          etaText: counts.done >= counts.total ? '0 s' : eta((counts.total - counts.done) / rate),
        };
        if (!startedBar) {
          bar.start(counts.total, counts.done, payload);
          startedBar = true;
        } else {
          bar.setTotal(counts.total);
          bar.update(counts.done, payload);
        }
      },
      stop() {
        if (startedBar) bar.stop();
      },
    };
  }

  const intervalMs = options.intervalMs ?? 5_000;
  let lastPrinted = 0;
  let lastLine = '';
  const print = () => {
    const rate = rateOf(last.done);
    const remaining = last.total - last.done;
    const line =
      `progress: ${last.done}/${last.total} done, ${last.failed} failed, ${rate.toFixed(1)}/s` +
      (remaining > 0 && last.done > 0 ? `, ETA ${eta(remaining / rate)}` : '');
    if (line !== lastLine) stream.write(`${line}\n`);
    lastLine = line;
    lastPrinted = Date.now();
  };
  return {
    update(counts) {
      last = counts;
      if (Date.now() - lastPrinted >= intervalMs) print();
    },
    stop() {
      print();
    },
  };
}
