/**
 * The benchmark's numbers: Virtual Operator numbers (`+990…`, known to the simulator without a
 * scenario), one per check so no two checks share a flow. None ends in `99` (those answer 404).
 */
import type { CheckRequest } from '../domain/types.js';

/** `run` keeps the numbers of different runs apart (0–99). */
export function benchRequests(count: number, run: number): CheckRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    msisdn: `+990${String(run).padStart(2, '0')}${String(i).padStart(7, '0')}0`,
    operation: 'sim-swap' as const,
    maxAge: 240,
  }));
}
