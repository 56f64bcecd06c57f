/**
 * The DataConverter that encrypts: the payload codec (outside the workflow sandbox, as Temporal
 * runs codecs) and the failure converter that moves failure messages into encrypted payloads.
 * Workers (through the plugin), replay workers, the client API and every CLI command build it
 * from the same configuration, so whatever one writes the others read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { loadKeyRing, type KeyRing } from './keyring.js';
import { EncryptionCodec, KeylessCodec } from './payload-codec.js';

/** A string in the failure converter module, so a prebuilt workflow bundle that includes it can be recognised. */
export const FAILURE_CONVERTER_MARKER = 'netcheck:encoding-failure-converter/v1';

/**
 * Whether a prebuilt workflow bundle was built with netcheck's failure converter
 * (`bundleWorkflowCode({ failureConverterPath: netcheckFailureConverterPath() })`); without it,
 * failure messages raised in workflow code would stay readable in history.
 */
export function bundleEncodesFailures(codePath: string): boolean {
  return readFileSync(codePath, 'utf8').includes(FAILURE_CONVERTER_MARKER);
}

/**
 * Path of the failure converter module (`failureConverterPath`): the compiled `.cjs` in dist/,
 * the `.cts` source otherwise. A worker that brings its own pre-built workflow bundle must pass
 * it to `bundleWorkflowCode({ failureConverterPath })` too, or workflow failure messages stay clear.
 */
export function netcheckFailureConverterPath(): string {
  for (const name of ['./failure-converter.cjs', './failure-converter.cts']) {
    const candidate = fileURLToPath(new URL(name, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('netcheck codec/failure-converter not found: is the package installed completely?');
}

/** The encrypting DataConverter for a key ring. */
export function encryptingDataConverter(ring: KeyRing): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(ring)],
    failureConverterPath: netcheckFailureConverterPath(),
  };
}

/**
 * The DataConverter of a process without keys: payloads in the clear, and a clear error (not
 * "Unknown encoding") when it meets an encrypted one.
 */
export function keylessDataConverter(): DataConverter {
  return { payloadCodecs: [new KeylessCodec()] };
}

/**
 * The DataConverter of netcheck's own clients and workers, from the environment
 * (NETCHECK_ENCRYPTION_KEYS or NETCHECK_ENCRYPTION_KEYS_FILE): encrypting, or keyless when no key
 * is configured. Throws a ConfigError for a bad key ring.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const ring = loadKeyRing(env);
  return ring ? encryptingDataConverter(ring) : keylessDataConverter();
}
