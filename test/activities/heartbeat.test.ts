/**
 * withHeartbeat: a remote activity heartbeats while it runs, repeating the progress it last
 * recorded (or the previous attempt's), so the ticks never erase what a retry needs; local
 * activities and direct calls do not heartbeat.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { activityHeartbeat, HEARTBEAT_EVERY_MS, withHeartbeat } from '../../activities/context.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordHeartbeats(env: MockActivityEnvironment): unknown[] {
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  return beats;
}

describe('withHeartbeat', () => {
  it('a remote activity that records nothing heartbeats without details while it waits', async () => {
    const env = new MockActivityEnvironment({ isLocal: false });
    const beats = recordHeartbeats(env);
    const slow = withHeartbeat(async (x: number) => {
      await pause(HEARTBEAT_EVERY_MS * 2.5);
      return x * 2;
    });
    expect(await env.run(slow, 21)).toBe(42);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.every((d) => d === undefined)).toBe(true);
    // It stopped with the activity.
    const count = beats.length;
    await pause(HEARTBEAT_EVERY_MS * 1.5);
    expect(beats).toHaveLength(count);
  });

  it('the ticks repeat the previous attempt’s details, then what this attempt recorded', async () => {
    const env = new MockActivityEnvironment({ isLocal: false, attempt: 2, heartbeatDetails: { polls: 3 } });
    const beats = recordHeartbeats(env);
    await env.run(
      withHeartbeat(async () => {
        await pause(HEARTBEAT_EVERY_MS * 1.5);
        activityHeartbeat({ polls: 4 });
        await pause(HEARTBEAT_EVERY_MS * 1.5);
      }),
    );
    expect(beats[0]).toEqual({ polls: 3 });
    expect(beats.at(-1)).toEqual({ polls: 4 });
    expect(beats.slice(beats.findIndex((d) => (d as { polls: number }).polls === 4))).not.toContainEqual({
      polls: 3,
    });
  });

  it('a local activity does not heartbeat, and a direct call runs unchanged', async () => {
    const env = new MockActivityEnvironment({ isLocal: true });
    const beats = recordHeartbeats(env);
    const slow = withHeartbeat(async () => {
      activityHeartbeat({ polls: 1 });
      await pause(HEARTBEAT_EVERY_MS * 1.5);
      return 'done';
    });
    expect(await env.run(slow)).toBe('done');
    expect(beats).toEqual([]);
    expect(await slow()).toBe('done');
  });
});
