/**
 * Helpers of the consumer-project test (pack.test.ts): the TypeScript blocks of the docs, a
 * fresh npm project that installs the packed tarball, and sizes of what it installed.
 */
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const root = path.resolve(import.meta.dirname, '..', '..');
export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** One fenced TypeScript block of a Markdown file. */
export interface DocBlock {
  /** The Markdown file, relative to the repository (README.md, docs/library.md). */
  doc: string;
  /** 1-based line of the block's first code line in that file. */
  line: number;
  code: string;
  /** Why it is not compiled, when a `<!-- not-compiled: reason -->` comment stands before it. */
  skip?: string;
  /** Where it goes in the consumer project: the path its first-line comment names, else a file of its own. */
  file: string;
}

const FENCE = /^```(ts|typescript)\s*$/;
const NOT_COMPILED = /^<!--\s*not-compiled:\s*(.+?)\s*-->$/;
/** A first line `// src/workflows.ts` (or `// test/x.test.ts (vitest)`) names the block's file. */
const NAMED_FILE = /^\/\/\s*((?:[\w.-]+\/)*[\w.-]+\.ts)\b/;

/** Every ```ts block of the given Markdown files (paths relative to the repository). */
export function docBlocks(docs: readonly string[]): DocBlock[] {
  const blocks: DocBlock[] = [];
  for (const doc of docs) {
    const lines = readFileSync(path.join(root, doc), 'utf8').split('\n');
    let count = 0;
    for (let i = 0; i < lines.length; i++) {
      if (!FENCE.test(lines[i]!.trim()) || lines[i]!.startsWith(' ')) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end]!.trim() !== '```') end++;
      const code = lines.slice(start, end).join('\n');
      let before = i - 1;
      while (before >= 0 && lines[before]!.trim() === '') before--;
      const skip = before >= 0 ? NOT_COMPILED.exec(lines[before]!.trim())?.[1] : undefined;
      const named = NAMED_FILE.exec(lines[start] ?? '')?.[1];
      const base = doc.replace(/\.md$/, '').replace(/[/\\]/g, '-');
      count++;
      blocks.push({
        doc,
        line: start + 1,
        code,
        ...(skip ? { skip } : {}),
        file: named ?? path.join('blocks', `${base}-${count}.ts`),
      });
      i = end;
    }
  }
  return blocks;
}

/** Markdown files whose TypeScript blocks are compiled: README.md and docs/*.md. */
export function documentedFiles(): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** Bytes of every file under `dir` (apparent sizes; symlinks counted as links, not followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(full);
    else total += lstatSync(full).size;
  }
  return total;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface Lock {
  packages: Record<string, { version?: string; dev?: boolean; peer?: boolean }>;
}

export function lockfile(): Lock {
  return JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Lock;
}

/** `name@<the version package-lock.json holds>`. */
export function locked(name: string, lock: Lock = lockfile()): string {
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return `${name}@${version}`;
}

/** npm errors that mean no registry could be reached (and nothing useful was cached). */
export const OFFLINE =
  /E(AI_AGAIN|NOTFOUND|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH)|ENOTCACHED|network request to .* failed|getaddrinfo/i;

/** `npm install` in `dir`, from the local cache where it can. */
export async function npmInstall(dir: string, specs: readonly string[]): Promise<void> {
  await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    cwd: dir,
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}
