/**
 * The committed contract (contract/v1/) as test helpers: its manifest, its golden vectors, and
 * validators for its JSON Schemas (ajv, draft 2020-12, with formats).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';

export const contractDir = path.resolve(import.meta.dirname, '..', '..', 'contract', 'v1');

// ajv-formats is CommonJS: depending on the loader the default import is the plugin or `module.exports`.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as FormatsPlugin;
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);

export function readContractFile<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(contractDir, name), 'utf8')) as T;
}

const compiled = new Map<string, ValidateFunction>();

/** The validator of one schema file of contract/v1 (e.g. `schemas/network-check.result.json`). */
export function schemaValidator(file: string): ValidateFunction {
  let fn = compiled.get(file);
  if (!fn) {
    fn = ajv.compile(readContractFile<object>(file));
    compiled.set(file, fn);
  }
  return fn;
}

/** Problems of `value` against a schema file: [] when it conforms. */
export function schemaProblems(file: string, value: unknown): string[] {
  const validate = schemaValidator(file);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e) => `${file}: ${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`,
  );
}

export interface Vectors {
  subject: { key: string; msisdn: string; subject: string }[];
  workflowId: { api: string; operation: string; subject: string; requestId: string; workflowId: string };
  batchFingerprint: { key: string; items: unknown[]; canonical: string; fingerprint: string };
  codec: {
    keyRing: string;
    payload: { metadata: Record<string, string>; data: string };
    plaintextBase64: string;
    ciphertexts: {
      keyId: string;
      ivBase64: string;
      associatedData: string;
      metadata: Record<string, string>;
      dataBase64: string;
    }[];
  };
}

export const vectors = (): Vectors => readContractFile<Vectors>('vectors.json');
