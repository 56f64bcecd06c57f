/**
 * netcheck's optional peer dependencies: the packages only some features load (a worker, tracing,
 * the dev server's download fallback), so that an application that only starts checks installs
 * `@temporalio/client` and netcheck, nothing heavier. Each is loaded where it is used; when one
 * is missing, the error names what to install.
 */
import { causeChain, MissingPackageError } from '../domain/errors.js';

/** Name → the range package.json asks for (peerDependencies, optional in peerDependenciesMeta). */
export const OPTIONAL_PACKAGES = {
  '@temporalio/worker': '^1.24.0',
  '@temporalio/interceptors-opentelemetry': '^1.24.0',
  '@temporalio/testing': '^1.24.0',
  '@opentelemetry/api': '^1.9.0',
  '@opentelemetry/exporter-trace-otlp-proto': '^0.57.2',
  '@opentelemetry/resources': '^1.30.1',
  '@opentelemetry/sdk-trace-base': '^1.30.1',
  '@opentelemetry/sdk-trace-node': '^1.30.1',
} as const;

export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** What each feature needs, all of it (one `npm install` line fixes it). */
export const FEATURE_PACKAGES = {
  worker: ['@temporalio/worker'],
  tracing: [
    '@temporalio/interceptors-opentelemetry',
    '@opentelemetry/api',
    '@opentelemetry/exporter-trace-otlp-proto',
    '@opentelemetry/resources',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/sdk-trace-node',
  ],
  testing: ['@temporalio/testing', '@temporalio/worker'],
} as const satisfies Record<string, readonly OptionalPackage[]>;

const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

/** The optional package whose absence made an import fail, if that is what happened. */
export function missingOptionalPackage(err: unknown): OptionalPackage | undefined {
  for (const link of causeChain(err)) {
    const code = (link as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !NOT_FOUND.has(code)) continue;
    const message = link instanceof Error ? link.message : '';
    // Node: "Cannot find package '@temporalio/worker' imported from …" / "Cannot find module '…'"
    const found = (Object.keys(OPTIONAL_PACKAGES) as OptionalPackage[]).find(
      (name) => message.includes(`'${name}'`) || message.includes(`'${name}/`),
    );
    if (found) return found;
  }
  return undefined;
}

/** The feature whose packages include `name` (the first listed). */
function featureOf(name: OptionalPackage): keyof typeof FEATURE_PACKAGES {
  const features = Object.keys(FEATURE_PACKAGES) as (keyof typeof FEATURE_PACKAGES)[];
  return features.find((f) => (FEATURE_PACKAGES[f] as readonly string[]).includes(name)) ?? 'worker';
}

/**
 * `err` as a MissingPackageError when an optional package was missing (naming every package of
 * its feature, with the ranges netcheck accepts), else `err` itself.
 */
export function explainMissingPackage(err: unknown, feature?: string): unknown {
  if (err instanceof MissingPackageError) return err;
  const missing = missingOptionalPackage(err);
  if (!missing) return err;
  const group = FEATURE_PACKAGES[featureOf(missing)];
  const names: OptionalPackage[] = [missing, ...group.filter((name) => name !== missing)];
  return new MissingPackageError(
    feature ?? `netcheck's ${featureOf(missing)} support`,
    names.map((name) => `${name}@${OPTIONAL_PACKAGES[name]}`),
    { cause: err },
  );
}

/** Runs `load` (a dynamic import); a missing optional package becomes a MissingPackageError. */
export async function importOptional<T>(feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw explainMissingPackage(err, feature);
  }
}
