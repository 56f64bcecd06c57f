/**
 * workflows/patches.ts is the one list of patch ids: every id a workflow asks `patched()` (or
 * `deprecatePatch()`) for is listed there with when it was added and when it may be deprecated,
 * every listed id is asked for, and no workflow spells an id inline. Reads the sources; no server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as patches from '../../workflows/patches.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const DIRS = ['workflows', 'domain'];

/** The code without its comments (which mention `patched(id)` in prose). */
function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function sources(): Array<{ file: string; text: string }> {
  return DIRS.flatMap((dir) =>
    readdirSync(path.join(root, dir))
      .filter((f) => f.endsWith('.ts') && f !== 'patches.ts')
      .map((f) => ({
        file: `${dir}/${f}`,
        text: withoutComments(readFileSync(path.join(root, dir, f), 'utf8')),
      })),
  );
}

/** Arguments of patched(…), deprecatePatch(…) and the helpers that forward to them (since, this.patched). */
const CALL = /\b(?:patched|deprecatePatch|since)\(\s*([^()\s,]+)\s*\)/g;
/** Constant name → patch id, every string constant of patches.ts. */
const ID_CONSTANTS = new Map<string, string>();
for (const [name, value] of Object.entries(patches) as Array<[string, unknown]>) {
  if (typeof value === 'string') ID_CONSTANTS.set(name, value);
}

describe('workflows/patches.ts', () => {
  const calls = sources().flatMap(({ file, text }) =>
    [...text.matchAll(CALL)].map((m) => ({ file, arg: m[1]! })).filter(({ arg }) => arg !== 'patchId'),
  );

  it('finds the patch checks of the workflows', () => {
    expect(calls.length).toBeGreaterThanOrEqual(patches.PATCHES.length);
  });

  it('every patch check names its id by a constant from patches.ts, never inline', () => {
    const inline = calls.filter(({ arg }) => /^['"`]/.test(arg));
    expect(inline, 'ids spelled inline: import them from workflows/patches.ts').toEqual([]);
    const unknown = calls.filter(({ arg }) => !ID_CONSTANTS.has(arg));
    expect(unknown, 'ids that are not constants of workflows/patches.ts').toEqual([]);
    const localIds = sources().flatMap(({ file, text }) =>
      [...text.matchAll(/^(?:export )?const (\w+) = '([a-z0-9-]+)';/gm)]
        .filter((m) => [...ID_CONSTANTS.values()].includes(m[2]!))
        .map((m) => `${file}: ${m[1]} = '${m[2]}'`),
    );
    expect(localIds, 'patch ids defined outside workflows/patches.ts').toEqual([]);
  });

  it('lists every id once, each asked for by some workflow, with when it came and when it may go', () => {
    const ids = patches.PATCHES.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ID_CONSTANTS.values()].sort()).toEqual([...ids].sort());
    const used = new Set(calls.map(({ arg }) => ID_CONSTANTS.get(arg)));
    expect(ids.filter((id) => !used.has(id))).toEqual([]);
    for (const patch of patches.PATCHES) {
      expect(patch.added.date, patch.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(patch.added.release, patch.id).toMatch(/^(\d+\.\d+\.\d+|Unreleased)$/);
      expect(patch.deprecateFrom.length, patch.id).toBeGreaterThan(0);
    }
  });
});
