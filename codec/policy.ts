/**
 * Fail closed on payloads (docs/security.md, "Fail closed"): a client without keys never sends
 * a number in the clear to a task queue whose workers encrypt.
 *
 * - Workers advertise their policy in their Temporal identity (what DescribeTaskQueue lists for
 *   each poller, and what each workflow task they take records in history), as one token:
 *   `netcheck/enc=on:<key id>` (they encrypt with that key: key ids are public, every encrypted
 *   payload carries one), `netcheck/enc=on:<key id>/clear-until:<ISO time>` (they encrypt, and
 *   NETCHECK_ALLOW_PLAINTEXT_UNTIL lets unencrypted inputs through until then), or
 *   `netcheck/enc=off` (no key ring). No key material, ever.
 * - Before a client without keys starts a run, `ensureEncryptionMatches` reads those identities:
 *   the pollers Temporal has seen on the task queue lately (a few minutes), else — no worker
 *   polling — the identities in the newest runs of the queue. If any worker there encrypts, the
 *   start is refused with a ConfigurationError naming NETCHECK_ENCRYPTION_KEYS (CLI exit 2),
 *   unless every encrypting worker advertises an open migration window. No evidence at all (a
 *   new queue, no worker yet): the client cannot know and goes on (the zero-config path); a
 *   worker with a ring then fails such a run at once with CONFIGURATION.
 * - A client with keys starts at once (no lookup). Answers are kept per client, namespace and
 *   task queue for CACHE_MS, so a batch or a loop of checks asks once.
 */
import type { Client } from '@temporalio/client';
// @temporalio/proto is CommonJS without named exports for Node's ESM loader.
import proto from '@temporalio/proto';
import { settingText } from '../common/settings.js';
import { causeChain, ConfigurationError as ConfigError } from '../domain/errors.js';
import { KEY_ID_PATTERN, type KeyRing } from './keyring.js';
import { codecEncryption, type CodecEncryption } from './payload-codec.js';

const { TaskQueueType, TaskQueueKind } = proto.temporal.api.enums.v1;

/** The identity token's prefix. */
export const ENCRYPTION_IDENTITY_PREFIX = 'netcheck/enc=';
const TOKEN = /(?:^|\s)netcheck\/enc=(\S*)/;

/** What a worker advertises. */
export interface AdvertisedEncryption {
  /** Whether it encrypts (has a key ring). */
  encrypts: boolean;
  /** The id of its encrypting key. */
  keyId?: string;
  /** NETCHECK_ALLOW_PLAINTEXT_UNTIL, ISO 8601. */
  clearUntil?: string;
}

/** The identity token for a worker with this ring (or none): `netcheck/enc=on:<id>[/clear-until:<iso>]` or `netcheck/enc=off`. */
export function encryptionIdentityToken(ring: KeyRing | undefined): string {
  if (!ring) return `${ENCRYPTION_IDENTITY_PREFIX}off`;
  const until = ring.allowPlaintextUntil ? `/clear-until:${ring.allowPlaintextUntil.toISOString()}` : '';
  return `${ENCRYPTION_IDENTITY_PREFIX}on:${ring.primary}${until}`;
}

/**
 * A worker identity with the policy token: the host's own identity is kept (the SDK's default,
 * `<pid>@<host>`, when it has none) and a token already in it is replaced.
 */
export function withEncryptionIdentity(identity: string, ring: KeyRing | undefined): string {
  const own = identity.replace(/(?:^|\s+)netcheck\/enc=\S*/g, '').trim();
  return `${own} ${encryptionIdentityToken(ring)}`.trim();
}

/** The policy in a worker identity, or undefined when it has no (valid) netcheck token. */
export function parseEncryptionIdentity(
  identity: string | null | undefined,
): AdvertisedEncryption | undefined {
  const value = TOKEN.exec(identity ?? '')?.[1];
  if (value === undefined) return undefined;
  if (value === 'off') return { encrypts: false };
  const match = /^on:([^/\s]+)(?:\/clear-until:(\S+))?$/.exec(value);
  if (!match || !KEY_ID_PATTERN.test(match[1]!)) return undefined;
  const clearUntil = match[2] !== undefined && Number.isFinite(Date.parse(match[2])) ? match[2] : undefined;
  return { encrypts: true, keyId: match[1]!, ...(clearUntil ? { clearUntil } : {}) };
}

/** How a client's DataConverter stands: its netcheck codec says, else NETCHECK_ENCRYPTION of the environment. */
export function clientEncryption(client: Client, env: NodeJS.ProcessEnv = process.env): CodecEncryption {
  for (const codec of client.options.loadedDataConverter.payloadCodecs) {
    const said = codecEncryption(codec);
    if (said) return said;
  }
  // A client made without netcheck's DataConverter never encrypts with netcheck's keys.
  return { mode: settingText('NETCHECK_ENCRYPTION', env)?.toLowerCase() === 'off' ? 'off' : 'unset' };
}

/** Where the answer came from, for messages and tests. */
export interface QueueEncryption {
  /** Advertised policies of the workers found (empty: none found, or none says). */
  workers: AdvertisedEncryption[];
  /** `pollers`: the queue's recent pollers. `history`: the newest runs of the queue. `none`: nothing found. */
  source: 'pollers' | 'history' | 'none';
}

/** How many recent runs of the queue are read when no worker is polling. */
const HISTORY_RUNS = 3;
/** Events read from the start of each such run (its first workflow task is among them). */
const HISTORY_EVENTS = 10;

/**
 * What the workers of a task queue advertise: the pollers Temporal lists (workflow and activity
 * tasks), else the identities that took workflow tasks in the queue's newest runs.
 */
export async function queueEncryption(client: Client, taskQueue: string): Promise<QueueEncryption> {
  const { namespace } = client.options;
  const service = client.workflowService;
  const describe = (taskQueueType: number) =>
    service.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType,
    });
  const described = await Promise.all([
    describe(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    describe(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
  ]);
  const identities = described.flatMap((d) => (d.pollers ?? []).map((p) => p.identity));
  if (identities.length > 0) return { workers: advertised(identities), source: 'pollers' };
  const workers = await recentRunsEncryption(client, taskQueue);
  return { workers, source: workers.length > 0 ? 'history' : 'none' };
}

/**
 * What the workers that took the first workflow tasks of the queue's newest runs advertised
 * (their identity is in each WorkflowTaskStarted/Completed event): the record that outlasts the
 * pollers Temporal lists, for when no worker is polling.
 */
export async function recentRunsEncryption(
  client: Client,
  taskQueue: string,
): Promise<AdvertisedEncryption[]> {
  const { namespace } = client.options;
  const service = client.workflowService;
  const { executions } = await service.listWorkflowExecutions({
    namespace,
    pageSize: HISTORY_RUNS,
    query: `TaskQueue = ${JSON.stringify(taskQueue)}`,
  });
  const seen: (string | null | undefined)[] = [];
  for (const execution of (executions ?? []).slice(0, HISTORY_RUNS)) {
    const { history } = await service.getWorkflowExecutionHistory({
      namespace,
      execution: execution.execution,
      maximumPageSize: HISTORY_EVENTS,
    });
    for (const event of history?.events ?? []) {
      seen.push(
        event.workflowTaskStartedEventAttributes?.identity,
        event.workflowTaskCompletedEventAttributes?.identity,
        event.workflowTaskFailedEventAttributes?.identity,
      );
    }
  }
  return advertised(seen);
}

function advertised(identities: (string | null | undefined)[]): AdvertisedEncryption[] {
  return identities.map(parseEncryptionIdentity).filter((a): a is AdvertisedEncryption => a !== undefined);
}

/** How long an answer is kept per client, namespace and task queue. */
export const CACHE_MS = 15_000;
type CacheEntry = { until: number; answer: Promise<QueueEncryption> };
const cache = new WeakMap<Client, Map<string, CacheEntry>>();

/** queueEncryption, asked at most once per CACHE_MS per client and queue (a failed lookup is not kept). */
function cachedQueueEncryption(client: Client, taskQueue: string): Promise<QueueEncryption> {
  let entries = cache.get(client);
  if (!entries) cache.set(client, (entries = new Map<string, CacheEntry>()));
  const key = `${client.options.namespace}\u0000${taskQueue}`;
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.until > now) return hit.answer;
  const answer = queueEncryption(client, taskQueue);
  entries.set(key, { until: now + CACHE_MS, answer });
  answer.catch(() => entries.delete(key));
  return answer;
}

/** Forgets every cached answer of a client (tests, or after reconfiguring workers). */
export function forgetQueueEncryption(client: Client): void {
  cache.delete(client);
}

/** gRPC codes that say this client may not look, not that Temporal is down. */
const NOT_ALLOWED = new Set([7 /* PERMISSION_DENIED */, 12 /* UNIMPLEMENTED */, 16 /* UNAUTHENTICATED */]);

function grpcCode(err: unknown): number | undefined {
  for (const link of causeChain(err, 4)) {
    const code = link instanceof Error ? (link as { code?: unknown }).code : undefined;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** Migration windows still open: every encrypting worker found lets unencrypted inputs through until then. */
function openWindow(workers: AdvertisedEncryption[], now: number): string | undefined {
  const encrypting = workers.filter((w) => w.encrypts);
  const ends = encrypting.map((w) => (w.clearUntil ? Date.parse(w.clearUntil) : Number.NaN));
  if (ends.length === 0 || ends.some((end) => !(end > now))) return undefined;
  return new Date(Math.min(...ends)).toISOString();
}

const warned = new Set<string>();

/**
 * Refuses (ConfigurationError, CLI exit 2) to start a run on `taskQueue` when this client has no
 * key ring and the queue's workers encrypt. Called by startCheck and startBatch before they send
 * anything; a client with keys returns at once.
 */
export async function ensureEncryptionMatches(client: Client, taskQueue: string): Promise<void> {
  const own = clientEncryption(client);
  if (own.mode === 'keys') return;
  let found: QueueEncryption;
  try {
    found = await cachedQueueEncryption(client, taskQueue);
  } catch (err) {
    // NETCHECK_ENCRYPTION=off: the deployment said it is unencrypted; a client that may not look goes on.
    if (own.mode === 'off') return;
    const code = grpcCode(err);
    if (code === undefined || !NOT_ALLOWED.has(code)) throw err;
    throw new ConfigError(
      [
        `This client has no encryption keys and cannot tell whether the workers of task queue "${taskQueue}" encrypt ` +
          `(it may not describe the task queue: ${(err as Error).message}). Set NETCHECK_ENCRYPTION_KEYS ` +
          '(or NETCHECK_ENCRYPTION_KEYS_FILE) to the key ring of the workers, or NETCHECK_ENCRYPTION=off if this ' +
          'deployment is deliberately unencrypted.',
      ],
      { cause: err },
    );
  }
  const encrypting = found.workers.filter((w) => w.encrypts);
  if (encrypting.length === 0) return;
  const window = openWindow(found.workers, Date.now());
  if (window) {
    const key = `${client.options.namespace}\u0000${taskQueue}`;
    if (!warned.has(key)) {
      warned.add(key);
      process.emitWarning(
        `netcheck: this client has no NETCHECK_ENCRYPTION_KEYS; the workers of task queue "${taskQueue}" encrypt ` +
          `but accept unencrypted inputs until ${window} (NETCHECK_ALLOW_PLAINTEXT_UNTIL). Set the key ring before then.`,
      );
    }
    return;
  }
  const keyIds = [...new Set(encrypting.map((w) => w.keyId).filter(Boolean))];
  const where = found.source === 'pollers' ? 'seen polling it' : 'seen in its latest runs';
  throw new ConfigError([
    `The workers of task queue "${taskQueue}" encrypt payloads (key ${keyIds.map((id) => `"${id}"`).join(', ')}, ` +
      `${where}), but this client has no key ring: nothing was sent, so no number reached Temporal in the clear. ` +
      'Set NETCHECK_ENCRYPTION_KEYS (or NETCHECK_ENCRYPTION_KEYS_FILE) to the same key ring as the workers' +
      (own.mode === 'off' ? ', and unset NETCHECK_ENCRYPTION=off' : '') +
      '. `netcheck keygen` makes a key; docs/security.md says how to share a ring.',
  ]);
}
