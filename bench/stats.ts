/** Small statistics helpers: percentiles and per-second counts. */

/** Nearest-rank percentile of ascending-sorted values (q in 0–1). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Summary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    mean,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** How many of `times` (ms) fall in each whole second after `origin`. */
export function perSecond(times: number[], origin: number): number[] {
  const bins: number[] = [];
  for (const t of times) {
    const i = Math.max(0, Math.floor((t - origin) / 1000));
    while (bins.length <= i) bins.push(0);
    bins[i]!++;
  }
  return bins;
}

export const round = (value: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** Most of `times` (ms) within any span of `windowMs` (a window (t − windowMs, t]). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let head = 0, i = 0; i < sorted.length; i++) {
    while (sorted[head]! <= sorted[i]! - windowMs) head++;
    most = Math.max(most, i - head + 1);
  }
  return most;
}

/** A summary in whole units (milliseconds, as the reports print them). */
export function roundSummary(s: Summary): Summary {
  return {
    p50: round(s.p50, 0),
    p95: round(s.p95, 0),
    p99: round(s.p99, 0),
    mean: round(s.mean, 0),
    max: round(s.max, 0),
  };
}
