/**
 * `npm run docs:settings`: rewrites the configuration tables of README.md and docs/*.md from the
 * settings registry (common/settings.ts). A table lives between
 *
 *   <!-- settings:begin groups=temporal,vonage -->   (and/or roles=codec-server; names=A,B adds those)
 *   <!-- settings:end -->
 *
 * and lists, in registry order, every variable the filter selects (removed and internal ones
 * left out). test/unit/settings.test.ts fails when a table differs from what this writes.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../cli/stack/temporal-cli.js';
import { GROUPS, ROLES, SETTINGS, type SettingDefinition } from '../common/settings.js';

const BEGIN = /<!-- settings:begin ([^>]*?) -->\n[\s\S]*?<!-- settings:end -->/g;

/** The files that may hold tables. */
export function docFiles(root = projectRoot): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join('docs', name));
  return ['README.md', ...docs];
}

function selected(spec: string): [string, SettingDefinition][] {
  const filters = Object.fromEntries(
    spec
      .trim()
      .split(/\s+/)
      .map((part) => part.split('='))
      .map(([key, value]) => [key!, (value ?? '').split(',').filter(Boolean)]),
  ) as { groups?: string[]; roles?: string[]; names?: string[] };
  for (const group of filters.groups ?? []) {
    if (!(GROUPS as readonly string[]).includes(group))
      throw new Error(`settings table: no group "${group}"`);
  }
  for (const role of filters.roles ?? []) {
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`settings table: no role "${role}"`);
  }
  return (Object.entries(SETTINGS) as [string, SettingDefinition][]).filter(([name, def]) => {
    if (def.removed || def.internal) return false;
    if (filters.names?.includes(name)) return true; // named ones join the selection
    if (!filters.groups && !filters.roles) return false;
    if (filters.groups && !filters.groups.includes(def.group)) return false;
    if (filters.roles && !def.roles.some((role) => filters.roles!.includes(role))) return false;
    return true;
  });
}

function row(name: string, def: SettingDefinition): string[] {
  let meaning = def.summary;
  if (def.secret) meaning += ` — secret: prefer the file, \`${def.file}\``;
  if (def.onlyFor) meaning += ` — only for ${def.onlyFor}`;
  if (def.readBy) meaning += ` (read by ${def.readBy})`;
  return [`\`${def.prefix ? `${name}*` : name}\``, def.roles.join(', '), meaning, def.default ?? ''];
}

/** A Markdown table, padded the way prettier pads one. */
function table(rows: string[][]): string {
  const header = ['variable', 'read by', 'meaning', 'default'];
  const width = (s: string) => [...s].length;
  const widths = header.map((h, i) => Math.max(width(h), 3, ...rows.map((r) => width(r[i]!))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function renderTable(spec: string): string {
  return table(selected(spec).map(([name, def]) => row(name, def)));
}

/** Each file with tables, as it should read. */
export function renderTables(root = projectRoot): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of docFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    if (!text.includes('<!-- settings:begin')) continue;
    out.set(
      file,
      text.replace(
        BEGIN,
        (_all, spec: string) =>
          `<!-- settings:begin ${spec} -->\n\n${renderTable(spec)}\n\n<!-- settings:end -->`,
      ),
    );
  }
  return out;
}

/** The files whose tables differ from the registry's. */
export function tableDrift(root = projectRoot): string[] {
  const drift: string[] = [];
  for (const [file, text] of renderTables(root)) {
    if (readFileSync(path.join(root, file), 'utf8') !== text)
      drift.push(`${file}: a settings table differs from common/settings.ts`);
  }
  return drift;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const check = process.argv.includes('--check');
  if (check) {
    const drift = tableDrift();
    for (const line of drift) console.error(line);
    process.exit(drift.length > 0 ? 1 : 0);
  }
  for (const [file, text] of renderTables()) {
    if (readFileSync(path.join(projectRoot, file), 'utf8') === text) continue;
    writeFileSync(path.join(projectRoot, file), text);
    console.log(`rewrote the settings tables of ${file}`);
  }
}
