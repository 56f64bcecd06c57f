/**
 * The DataConverter that encrypts: the payload codec (outside the workflow sandbox, as Temporal
 * runs codecs) and the failure converter that moves failure messages into encrypted payloads.
 * Workers (through the plugin), replay workers, the client API and every CLI command build it
 * from the same configuration, so whatever one writes the others read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { ConfigurationError } from '../domain/errors.js';
import { loadEncryption, type KeyRing } from './keyring.js';
import { EncryptionCodec, KeylessCodec } from './payload-codec.js';
import { PAYLOAD_CONVERTER_MARKER } from './payload-converter.js';

export { PAYLOAD_CONVERTER_MARKER };

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
  return codecModulePath('failure-converter', ['cjs', 'cts']);
}

/**
 * Path of netcheck's payload converter for the workflow sandbox (codec/payload-converter.ts, or
 * its compiled .js in dist/): default conversions plus the mark on values that arrived
 * unencrypted, which netcheck's workflows refuse when their worker has a key ring. The netcheck
 * plugin adds it to every bundle it takes part in (`configureBundler`); only the workflow
 * bundler loads it.
 */
export function netcheckPayloadConverterPath(): string {
  return codecModulePath('payload-converter', ['js', 'ts']);
}

/** A module beside this one, compiled (dist/) or source (a checkout): the first extension found. */
function codecModulePath(name: string, extensions: readonly string[]): string {
  for (const extension of extensions) {
    const candidate = fileURLToPath(new URL(`./${name}.${extension}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigurationError([
    `netcheck's codec/${name} is missing: the package is installed incompletely; install netcheck again`,
  ]);
}

/**
 * Whether a prebuilt workflow bundle (its file, or `{ code }`) carries netcheck's payload
 * converter: without it, a worker with a key ring could not tell an input that arrived
 * unencrypted from one it decrypted, and would run it.
 */
export function bundleMarksPlaintext(bundle: string | { code: string }): boolean {
  const code = typeof bundle === 'string' ? readFileSync(bundle, 'utf8') : bundle.code;
  return code.includes(PAYLOAD_CONVERTER_MARKER);
}

/**
 * The encrypting DataConverter for a key ring. A worker's (`{ worker: true }`, as the plugin
 * makes it) also marks payloads that arrive unencrypted, for its workflows to refuse them.
 */
export function encryptingDataConverter(ring: KeyRing, options: { worker?: boolean } = {}): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(ring, { markPlaintext: options.worker === true })],
    failureConverterPath: netcheckFailureConverterPath(),
  };
}

/**
 * The DataConverter of a process without keys: payloads in the clear, and a clear error (not
 * "Unknown encoding") when it meets an encrypted one. `declaredOff`: NETCHECK_ENCRYPTION=off.
 */
export function keylessDataConverter(options: { declaredOff?: boolean } = {}): DataConverter {
  return { payloadCodecs: [new KeylessCodec(options)] };
}

/**
 * The DataConverter of netcheck's own clients, from the environment (NETCHECK_ENCRYPTION_KEYS or
 * NETCHECK_ENCRYPTION_KEYS_FILE, NETCHECK_ENCRYPTION): encrypting, or keyless when no key is
 * configured. Throws a ConfigError for a bad key ring, an empty key variable, keys with
 * NETCHECK_ENCRYPTION=off or none with NETCHECK_ENCRYPTION=on.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const { ring, mode } = loadEncryption(env);
  return ring ? encryptingDataConverter(ring) : keylessDataConverter({ declaredOff: mode === 'off' });
}
