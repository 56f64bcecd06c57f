/** Where netcheck's workflow modules are, for workers that bundle them at start. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../domain/errors.js';

/** A module of workflows/ (`index`, `rate-limiter`), as source (tests, tsx) or compiled (dist/). */
export function workflowModulePath(name: string): string {
  for (const file of [`../workflows/${name}.js`, `../workflows/${name}.ts`]) {
    const candidate = fileURLToPath(new URL(file, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigurationError([
    'netcheck workflows not found next to worker/: is the package installed completely?',
  ]);
}
