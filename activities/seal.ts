/**
 * Sealing of CAMARA access tokens, so workflow history never holds one in the clear.
 *
 * - Key: HKDF-SHA256 over the worker's Vonage private key (DER pkcs8 bytes as IKM), fixed salt
 *   `netcheck/token-seal/v1`, info `netcheck access token AES-256-GCM key`, 32 bytes. Every
 *   worker holding the same application key derives the same sealing key; nobody else can.
 * - Key id: 8 more HKDF bytes (info `netcheck access token key id`), base64url. It names the key
 *   without revealing it, so a token sealed before the Vonage key was rotated is recognised.
 * - Cipher: AES-256-GCM, random 12-byte IV, 16-byte tag.
 * - AAD: `v2|<key id>|<operation>|<msisdn>|<correlationId>|<workflowId>|<runId>`: a sealed token
 *   only opens in the check and the workflow run it was issued to (the ids come from the
 *   activity's context; outside Temporal they are empty).
 * - Format: `v2.<key id>.<base64url iv>.<base64url ciphertext||tag>`.
 *
 * A sealed token that does not open — another key id (a rotated key, or a worker with another
 * key), an older format, another check or run (a reset) — is UNAUTHENTICATED: the workflow then
 * authorizes once more and gets a token sealed by this worker, instead of failing the run.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Operation } from '../domain/index.js';
import { netcheckFailure } from '../domain/index.js';

export const SEAL_SALT = 'netcheck/token-seal/v1';
export const SEAL_INFO = 'netcheck access token AES-256-GCM key';
export const SEAL_KEY_ID_INFO = 'netcheck access token key id';
const VERSION = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a sealed token is bound to. */
export interface SealContext {
  operation: Operation;
  msisdn: string;
  correlationId: string;
  /** The workflow run (default: the current activity's; empty outside Temporal). */
  workflowId?: string;
  runId?: string;
}

export interface TokenSealer {
  /** The id of this worker's sealing key. */
  readonly keyId: string;
  sealToken(token: string, context: SealContext): string;
  openToken(sealed: string, context: SealContext): string;
}

function currentRun(): { workflowId: string; runId: string } {
  let execution: { workflowId: string; runId: string } | undefined;
  try {
    execution = Context.current().info.workflowExecution;
  } catch {
    // called outside an activity (tests, the benchmark's raw flow)
  }
  return { workflowId: execution?.workflowId ?? '', runId: execution?.runId ?? '' };
}

function aad(keyId: string, context: SealContext): Buffer {
  const run = currentRun();
  const workflowId = context.workflowId ?? run.workflowId;
  const runId = context.runId ?? run.runId;
  return Buffer.from(
    [VERSION, keyId, context.operation, context.msisdn, context.correlationId, workflowId, runId].join('|'),
    'utf8',
  );
}

/** Derives the sealing key once; seal/open are then cheap, synchronous calls. */
export function createTokenSealer(privateKey: KeyObject): TokenSealer {
  const ikm = privateKey.export({ type: 'pkcs8', format: 'der' });
  const key = Buffer.from(hkdfSync('sha256', ikm, SEAL_SALT, SEAL_INFO, 32));
  const keyId = Buffer.from(hkdfSync('sha256', ikm, SEAL_SALT, SEAL_KEY_ID_INFO, 8)).toString('base64url');

  const cannotOpen = (why: string) =>
    netcheckFailure(
      'UNAUTHENTICATED',
      `The sealed access token cannot be used here (${why}); a new authorization follows. If this repeats, ` +
        'run every worker of this task queue with the same Vonage application id and private key',
    );

  return {
    keyId,
    sealToken(token, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(keyId, context));
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${keyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    openToken(sealed, context) {
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      if (parts.length !== 4 || parts[0] !== VERSION) throw cannotOpen('sealed in another format');
      if (parts[1] !== keyId) {
        throw cannotOpen(
          `sealed with key ${parts[1]?.slice(0, 16)}, this worker's key is ${keyId}: a rotated key`,
        );
      }
      const iv = Buffer.from(parts[2] ?? '', 'base64url');
      const body = Buffer.from(parts[3] ?? '', 'base64url');
      if (iv.length !== IV_BYTES || body.length <= TAG_BYTES) throw cannotOpen('malformed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(keyId, context));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw cannotOpen('issued to another check or workflow run, or altered');
      }
    },
  };
}
