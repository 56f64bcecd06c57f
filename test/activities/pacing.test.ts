import { describe, expect, it } from 'vitest';
import { createPacer, PACING_MARGIN_MS } from '../../activities/http.js';
import { ConfigurationError } from '../../domain/errors.js';

/** Most of `times` (ms) within any span shorter than `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    most = Math.max(most, times.filter((t) => t >= times[i]! && t < times[i]! + windowMs).length);
  }
  return most;
}

describe('createPacer (http.maxRequestsPerSecond)', () => {
  it('never starts more than the limit within 1 s, and keeps up the rate', async () => {
    const pacer = createPacer(5);
    const t0 = Date.now();
    const starts = await Promise.all(
      Array.from({ length: 12 }, async () => {
        await pacer.take();
        return Date.now();
      }),
    );
    expect(maxInWindow(starts, 1000)).toBeLessThanOrEqual(5);
    // 12 requests at 5 per window: the last two start in the third window.
    expect(Math.max(...starts) - t0).toBeGreaterThanOrEqual(2 * (1000 + PACING_MARGIN_MS) - 5);
    // …and not a whole window later (the bound is loose: a loaded machine runs timers late).
    expect(Math.max(...starts) - t0).toBeLessThan(3 * 1000);
  });

  it('spaces requests 1/limit s apart below 1 request per second', async () => {
    const pacer = createPacer(0.5);
    const t0 = Date.now();
    await pacer.take();
    const first = Date.now() - t0;
    await pacer.take();
    const second = Date.now() - t0;
    expect(first).toBeLessThan(1000);
    expect(second).toBeGreaterThanOrEqual(2000 + PACING_MARGIN_MS - 5);
  }, 10_000);

  it('gives the turn up when the signal aborts', async () => {
    const pacer = createPacer(1);
    await pacer.take();
    const controller = new AbortController();
    const waiting = pacer.take(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
  });

  it('refuses a limit that is not a positive number', () => {
    expect(() => createPacer(0)).toThrow(ConfigurationError);
    expect(() => createPacer(Number.NaN)).toThrow(/maxRequestsPerSecond must be a positive number/);
  });
});

describe('createPacer: priorities', () => {
  it('serves started flows (high) before requests that start new ones (low), then in call order', async () => {
    const pacer = createPacer(4);
    const order: string[] = [];
    const take = (name: string, priority: 'high' | 'normal' | 'low') =>
      pacer.take(undefined, priority).then(() => order.push(name));
    // The first request goes at once; the rest wait for their spaced turns and are served by priority.
    const all = [
      take('low1', 'low'),
      take('low2', 'low'),
      take('low3', 'low'),
      take('low4', 'low'),
      take('low5', 'low'),
      take('low6', 'low'),
      take('normal1', 'normal'),
      take('high1', 'high'),
      take('high2', 'high'),
    ];
    expect(pacer.waiting()).toEqual({ high: 2, normal: 1, low: 5 });
    await Promise.all(all);
    expect(order.slice(1)).toEqual(['high1', 'high2', 'normal1', 'low2', 'low3', 'low4', 'low5', 'low6']);
  }, 10_000);
});

describe('createPacer: untilAnswered (bulk chunks)', () => {
  it('counts a request as sent when its answer arrives: the request n places later waits for it', async () => {
    let clock = 0;
    const pacer = createPacer(2, () => clock, { untilAnswered: true });
    const first = await pacer.take();
    expect(first).toBeTypeOf('function');
    clock = 600; // past the spacing gap (1025 / 2 ms)
    const second = await pacer.take();
    clock = 5_000; // long after any window: still the first request is not answered
    let third = false;
    const waiting = pacer.take().then((release) => {
      third = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(third).toBe(false);
    first!(); // answered at 5,000: the third may go at 5,000 + 1,025
    clock = 6_025 + PACING_MARGIN_MS;
    second!();
    (await waiting)!();
    expect(third).toBe(true);
  });
});
