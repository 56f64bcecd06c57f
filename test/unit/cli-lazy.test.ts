/**
 * The CLI loads a command's action module only when that command runs: `netcheck --help` and the
 * light commands must not pay for @temporalio/client and the rest. So no chain of static imports
 * from cli/program.ts reaches a cli/commands/<name>.ts action module or a @temporalio/ package
 * (but @temporalio/common: domain/errors.ts builds its failures with it); each command declares
 * its flags in cli/commands/<name>.flags.ts and imports its action with import().
 * Type-only imports are erased, so they do not count; `import { type X }` does (it stays as
 * `import {}` under verbatimModuleSyntax).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = 'cli/program.ts';
const COMMANDS_DIR = 'cli/commands';

interface Imports {
  /** Specifiers loaded when the module loads. */
  static: string[];
  /** Specifiers of `import()` calls. */
  dynamic: string[];
}

/** The static and dynamic import specifiers of a module's text (type-only ones left out). */
function importSpecifiers(text: string, fileName = 'x.ts'): Imports {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: Imports = { static: [], dynamic: [] };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      if (!statement.importClause?.isTypeOnly) found.static.push(statement.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(statement) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      if (!statement.isTypeOnly) found.static.push(statement.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      !statement.isTypeOnly &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      ts.isStringLiteral(statement.moduleReference.expression)
    ) {
      found.static.push(statement.moduleReference.expression.text);
    }
  }
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.dynamic.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The project file a relative specifier names (`./x.js` names `./x.ts`), if any. */
function resolve(from: string, specifier: string): string | undefined {
  const base = path.join(path.dirname(from), specifier);
  return [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')].find((candidate) =>
    existsSync(path.join(ROOT, candidate)),
  );
}

function importsOfFile(file: string): Imports {
  return importSpecifiers(readFileSync(path.join(ROOT, file), 'utf8'), file);
}

/** Every module loaded with `file`, each with the chain of static imports that loads it. */
function staticClosure(entry: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const specifier of importsOfFile(file).static) {
      const chain = [...chains.get(file)!];
      if (!specifier.startsWith('.')) {
        if (!chains.has(specifier)) chains.set(specifier, [...chain, specifier]);
        continue;
      }
      const target = resolve(file, specifier);
      if (target === undefined || chains.has(target)) continue;
      chains.set(target, [...chain, target]);
      queue.push(target);
    }
  }
  return chains;
}

const commandFiles = readdirSync(path.join(ROOT, COMMANDS_DIR)).filter(
  (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'),
);
const flagModules = commandFiles.filter((name) => name.endsWith('.flags.ts'));
const actionModules = commandFiles.filter((name) => !name.endsWith('.flags.ts'));

/** Loaded with the program today, and light: domain/errors.ts imports ApplicationFailure from it. */
const ALLOWED_PACKAGES = new Set(['@temporalio/common']);

/** What must never load with the program: a command's action module, or @temporalio/*. */
function heavy(module: string): boolean {
  if (module.startsWith('@temporalio/')) return !ALLOWED_PACKAGES.has(module);
  return path.dirname(module) === COMMANDS_DIR && module.endsWith('.ts') && !module.endsWith('.flags.ts');
}

describe('the CLI loads command actions lazily', () => {
  it('tells static imports from type-only ones and import()', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C } from './c.js';",
      "import './d.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "type G = typeof import('./g.js').g;",
      "async function h() { const { h } = await import('./h.js'); return h; }",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual({
      static: ['./a.js', './c.js', './d.js', './e.js'],
      dynamic: ['./h.js'],
    });
  });

  it('finds a static import of an action module from cli/program.ts', () => {
    const text = "import { checkCommand } from './commands/check.js';";
    const targets = importSpecifiers(text).static.map((s) => resolve(ENTRY, s));
    expect(targets).toEqual(['cli/commands/check.ts']);
    expect(targets.filter((t) => t !== undefined && heavy(t))).toEqual(['cli/commands/check.ts']);
    expect(heavy('@temporalio/client')).toBe(true);
    expect(heavy('@temporalio/worker')).toBe(true);
    expect(heavy('cli/commands/check.flags.ts')).toBe(false);
  });

  it('loads no action module and no @temporalio/ package with cli/program.ts', () => {
    const closure = staticClosure(ENTRY);
    expect(closure.size).toBeGreaterThan(10);
    const offending = [...closure].filter(([module]) => heavy(module)).map(([, chain]) => chain.join(' → '));
    expect(offending).toEqual([]);
  });

  it('registers every command through its .flags.ts module', () => {
    const closure = staticClosure(ENTRY);
    expect(flagModules.length).toBeGreaterThan(0);
    for (const flags of flagModules) expect(closure.has(`${COMMANDS_DIR}/${flags}`), flags).toBe(true);
  });

  it('has a .flags.ts module beside every action module (or one that imports it lazily)', () => {
    const lazilyImported = new Set(
      flagModules.flatMap((flags) => {
        const file = `${COMMANDS_DIR}/${flags}`;
        return importsOfFile(file).dynamic.map((specifier) => resolve(file, specifier));
      }),
    );
    const without = actionModules.filter(
      (action) =>
        !flagModules.includes(action.replace(/\.ts$/, '.flags.ts')) &&
        !lazilyImported.has(`${COMMANDS_DIR}/${action}`),
    );
    expect(actionModules.length).toBeGreaterThan(0);
    expect(without).toEqual([]);
  });
});
