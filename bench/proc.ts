/**
 * Resource figures of a child process from /proc (Linux): CPU seconds (utime + stime) and peak
 * resident memory (VmHWM). Sampled by the parent, so the child needs no cooperation.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

export interface ProcSample {
  /** utime + stime, seconds. */
  cpuSeconds: number;
  /** Peak resident set size so far, MiB (VmHWM). */
  peakRssMiB: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return {
      cpuSeconds: (utime + stime) / CLK_TCK,
      peakRssMiB: hwm ? Number(hwm[1]) / 1024 : NaN,
    };
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** CPU used between two samples (0 when either is missing). */
export function cpuBetween(before: ProcSample | undefined, after: ProcSample | undefined): number {
  return before && after ? after.cpuSeconds - before.cpuSeconds : 0;
}

/**
 * The nice value the bench and the chaos run give the simulator: it stands in for Vonage, which
 * does not share netcheck's CPU, so a busy machine must not bunch its receipt times.
 */
export const SIMULATOR_PRIORITY = -10;
