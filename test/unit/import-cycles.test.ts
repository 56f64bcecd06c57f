/**
 * No import circle between netcheck's source files. A circle means two modules are one job split
 * in two (or one job in the wrong file), and it makes the load order decide which of them sees
 * the other's bindings still undefined. Every static import and re-export counts, type-only ones
 * too (they still tie the files together); dynamic `import()` counts as well.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Not source: the tests, build output, dependencies, examples (their own packages). */
const SKIP = new Set(['node_modules', 'dist', 'test', 'test-results', 'examples', 'contract']);

/** Every .ts file of the source tree, relative to the root. */
function sourceFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || (dir === ROOT && SKIP.has(entry.name))) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
      files.push(path.relative(ROOT, full));
  }
  return files;
}

/** The project files a file imports (relative specifiers; `./x.js` names `./x.ts`). */
export function importsOf(file: string, text: string, known: ReadonlySet<string>): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const out = new Set<string>();
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = path.join(path.dirname(file), fileName);
    const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')];
    const target = candidates.find((candidate) => known.has(candidate));
    if (target) out.add(target);
  }
  return [...out];
}

/** The circles of a graph: its strongly connected components of more than one file, or a self-import (Tarjan). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    order.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, order.get(next)!));
      }
    }
    if (low.get(node) !== order.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!order.has(node)) visit(node);
  return found;
}

describe('the import graph', () => {
  it('finds a circle when there is one (and none in a chain)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(
      circles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([]);
    const known = new Set(['x/a.ts', 'x/b.ts', 'y/index.ts']);
    const text = "import type { B } from './b.js';\nexport * from '../y/index.js';\nimport 'zod';";
    expect(importsOf('x/a.ts', text, known).sort()).toEqual(['x/b.ts', 'y/index.ts']);
  });

  it('has no circle between source files', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const known = new Set(files);
    const graph = new Map(
      files.map((file) => [file, importsOf(file, readFileSync(path.join(ROOT, file), 'utf8'), known)]),
    );
    expect(circles(graph).map((component) => component.join(' ↔ '))).toEqual([]);
  });
});
