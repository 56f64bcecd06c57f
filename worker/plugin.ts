/**
 * NetcheckPlugin: adds netcheck's workflows and Vonage activities to any Temporal worker.
 *
 *   const worker = await Worker.create({
 *     connection, taskQueue: 'netcheck',
 *     plugins: [new NetcheckPlugin({ applicationId, privateKey, baseUrl })],
 *   });
 *
 * A worker (or replay worker) with no workflows of its own gets netcheck's. A worker that has
 * its own workflowsPath or bundle must export netcheck's workflows from it
 * (`export * from 'netcheck/workflows'`), or run netcheck on a task queue of its own.
 *
 * One plugin instance may serve several workers, one after the other or at once: they share
 * one Vonage client (HTTP pools, JWT minter, request pacing), opened when the first of them
 * starts running and closed when the last one stops. The same instance goes on the
 * application's Client too (`new Client({ plugins: [plugin] })`): it brings the payload codec.
 *
 * A guest in the host's worker: it adds its activities (as `netcheck.<name>`, and the bare names
 * of older runs unless `legacyActivityNames: false`), and its workflows only where the worker
 * has none; it changes no worker-wide option the host has set (the sticky queue timeout only
 * when the host left it unset); with `encryption` it adds its codec after the host's own codecs
 * and refuses a host failure converter it cannot work with; when the worker starts, it checks
 * that the namespace has netcheck's search attributes and says what to run when not.
 */
import type { ClientOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimplePlugin } from '@temporalio/plugin';
import type { BundleOptions, ReplayWorkerOptions, Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps, type NetcheckActivities } from '../activities/index.js';
import { ConfigurationError, errorCodeOf } from '../domain/errors.js';
import {
  bundleMarksPlaintext,
  encryptingDataConverter,
  netcheckPayloadConverterPath,
} from '../codec/data-converter.js';
import { withEncryptionIdentity } from '../codec/policy.js';
import { codecEncryption } from '../codec/payload-codec.js';
import {
  missingAttributesWarning,
  SEARCH_ATTRIBUTE_NAMES,
  searchAttributeState,
} from '../cli/search-attributes.js';
import type { KeyRing } from '../codec/keyring.js';
import type { VonageConfig } from './config.js';
import { activityName, activityTypes } from '../domain/activity-names.js';
import { netcheckNexusHandler, type NetcheckNexusOptions } from './nexus.js';
import { isAcceptedRate, RATE_BOUNDS_TEXT } from '../domain/rate-limit.js';
import { QueueRateLimit } from './rate-limit.js';
import { workflowModulePath } from './workflow-path.js';
import { withNetcheckBundleOptions } from './bundle.js';

/** The workflow entry module, as source (tests, tsx) or compiled (dist/). */
export function netcheckWorkflowsPath(): string {
  return workflowModulePath('index');
}

export interface NetcheckPluginOptions extends VonageConfig {
  /** HTTP pool settings for the Vonage origin. */
  http?: ActivityDeps['http'];
  /**
   * Requests per second to Vonage, for every worker of the task queue together, activities and
   * local activities (fast mode) alike: each request goes at a slot leased from the queue's
   * `rateLimiter` workflow (one per task queue, started by the first lease), so no 1-s window
   * holds more than this many requests. Every worker of the queue should set the same value, and
   * their clocks should agree (NTP) to well within 10 ms. `http.maxRequestsPerSecond`, when set,
   * paces this plugin's workers alone instead.
   */
  rateLimit?: number;
  /**
   * Payload encryption key ring (NETCHECK_ENCRYPTION_KEYS): the worker and replay workers encrypt
   * with it, and the worker fails closed: a netcheck run whose input a client sent unencrypted
   * fails at once with CONFIGURATION (docs/security.md). Its workflow bundle must then carry
   * netcheck's payload converter (every bundle the plugin takes part in does).
   */
  encryption?: KeyRing;
  /**
   * Also serve the `netcheck` Nexus service (operations `check` and `batch`, worker/nexus.ts) on
   * the worker's task queue, for callers in other namespaces. Needs the subject key
   * (`subjectKey`, else NETCHECK_SUBJECT_KEY). Default false.
   */
  nexus?: boolean | NetcheckNexusOptions;
  /**
   * When a worker starts, the plugin checks that the namespace has netcheck's search attributes
   * (netcheck's workflows set them; a start without them is refused). `warn` (default): log
   * through the Temporal runtime's logger what is missing and the command that registers it.
   * `fail`: the worker stops at once and its run() rejects with a ConfigurationError. `off`: no check (e.g. a
   * key that may not list search attributes).
   */
  searchAttributeCheck?: 'warn' | 'fail' | 'off';
  /**
   * netcheck's activities are registered as `netcheck.<name>` (`netcheck.authorize`, …). With
   * `true` (default) the worker also serves the bare names (`authorize`, `pollToken`, …) that runs
   * started before the namespace still schedule, and refuses a host activity with one of them.
   * `false`: only the namespaced names, so a host activity named `authorize` can run beside
   * netcheck — set it once no run started by an older release is open (CHANGELOG.md, "Compatibility").
   */
  legacyActivityNames?: boolean;
}

/**
 * After a worker dies, its sticky queue holds the workflow for this long before another worker
 * takes it. CIBA's interval and expires_in keep running meanwhile, so keep it short.
 */
const STICKY_SCHEDULE_TO_START_MS = 3_000;

type ActivityFunction = (...args: unknown[]) => Promise<unknown>;

/**
 * The Vonage client behind the plugin's activities, counted by the worker runs that use it:
 * opened for the first run, closed after the last, opened again for a later one. The
 * activities handed to Temporal are stable functions that call the current client's.
 */
class VonageLease {
  #current: NetcheckActivities | undefined;
  #runs = 0;
  /** By activity type: `netcheck.<name>`, and the bare `<name>` too with `legacy`. */
  readonly activities: Record<string, ActivityFunction>;

  constructor(
    legacy: boolean,
    private readonly open: () => NetcheckActivities,
  ) {
    const first = open(); // checks the options now, not at the first check
    this.#current = first;
    const activities: Record<string, ActivityFunction> = {};
    for (const name of Object.keys(first)) {
      const call: ActivityFunction = (...args) =>
        (this.#client()[name as keyof NetcheckActivities] as ActivityFunction)(...args);
      for (const type of activityTypes(name, legacy)) activities[type] = call;
    }
    this.activities = activities;
  }

  #client(): NetcheckActivities {
    return (this.#current ??= this.open());
  }

  async during(run: () => Promise<void>): Promise<void> {
    this.#runs++;
    this.#client();
    try {
      await run();
    } finally {
      if (--this.#runs === 0) {
        const client = this.#current;
        this.#current = undefined;
        await client?.close();
      }
    }
  }
}

/** Every rate the plugin takes is within RATE_LIMITS (0.1–10,000 requests per second). */
function checkedRateLimit(rateLimit: number | undefined, perClient?: number): number | undefined {
  const problems = (
    [
      ['rateLimit', rateLimit],
      ['http.maxRequestsPerSecond', perClient],
    ] as const
  )
    .filter(([, value]) => value !== undefined && !isAcceptedRate(value))
    .map(
      ([name, value]) =>
        `${name} must be a positive number of requests per second ${RATE_BOUNDS_TEXT} (got ${String(value)}).`,
    );
  if (problems.length > 0) throw new ConfigurationError(problems);
  return rateLimit;
}

/** A worker's workflows: its own bundle or path if it has one, else netcheck's. */
function withNetcheckWorkflows<T extends Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>>(
  options: T,
): T {
  if (options.workflowBundle || options.workflowsPath) return options;
  return { ...options, workflowsPath: netcheckWorkflowsPath() };
}

/**
 * The host's DataConverter with netcheck's encryption added. Payload codecs encode in array
 * order, so netcheck's codec goes last: it encrypts what the host's codecs (compression, say)
 * made, and decrypts first. The host's payload converter stays. netcheck's failure converter
 * (it moves failure messages into the encrypted payloads) is needed: a host failure converter
 * of its own is refused, since one worker can have only one.
 */
export function composeDataConverter(
  host: DataConverter | undefined,
  netcheck: DataConverter,
  where: 'worker' | 'client' = 'worker',
): DataConverter {
  if (!host) return netcheck;
  const problems: string[] = [];
  if (
    host.failureConverterPath !== undefined &&
    netcheck.failureConverterPath !== undefined &&
    host.failureConverterPath !== netcheck.failureConverterPath
  ) {
    problems.push(
      `the ${where}'s dataConverter has a failureConverterPath of its own (${host.failureConverterPath}), and netcheck's encryption needs ` +
        `its own failure converter (failure messages move into encrypted payloads). Remove yours, or leave \`encryption\` out of the plugin ` +
        `and add netcheck's codec to your DataConverter yourself: payloadCodecs: [...yours, new EncryptionCodec(ring)] from 'netcheck/codec' ` +
        `(failure messages then stay readable in history).`,
    );
  }
  if (
    host.payloadConverterPath !== undefined &&
    netcheck.payloadConverterPath !== undefined &&
    host.payloadConverterPath !== netcheck.payloadConverterPath
  ) {
    problems.push(
      `the ${where}'s dataConverter has a payloadConverterPath of its own; netcheck's needs another.`,
    );
  }
  if (problems.length > 0) throw new ConfigurationError(problems.map((p) => `netcheck plugin: ${p}`));
  const hostCodecs = host.payloadCodecs ?? [];
  // The host composed a netcheck encrypting codec in already (this one, or its own from
  // netcheck/codec): encrypt once.
  const hostEncrypts = hostCodecs.some((codec) => codecEncryption(codec)?.mode === 'keys');
  const added = hostEncrypts
    ? []
    : (netcheck.payloadCodecs ?? []).filter((codec) => !hostCodecs.includes(codec));
  return {
    ...netcheck,
    ...host,
    failureConverterPath: host.failureConverterPath ?? netcheck.failureConverterPath,
    payloadCodecs: [...hostCodecs, ...added],
  };
}

/** Namespaces whose missing search attributes this process has reported: once is enough. */
const reportedNamespaces = new Set<string>();

/**
 * Notes that this process has told the user about the namespace's missing search attributes
 * (`netcheck worker` does before it starts its worker), so its plugins do not say it again.
 */
export function searchAttributesReported(namespace: string): void {
  reportedNamespaces.add(namespace);
}

export class NetcheckPlugin extends SimplePlugin {
  readonly #queueLimit: QueueRateLimit | undefined;
  readonly #dataConverter: DataConverter | undefined;
  readonly #clientDataConverter: DataConverter | undefined;
  readonly #encryption: KeyRing | undefined;
  readonly #searchAttributeCheck: 'warn' | 'fail' | 'off';
  readonly #activities: Readonly<Record<string, ActivityFunction>>;

  /** Throws a ConfigurationError when the options are wrong (no worker is needed to find out). */
  constructor(options: NetcheckPluginOptions) {
    const searchAttributeCheck = options.searchAttributeCheck ?? 'warn';
    if (!['warn', 'fail', 'off'].includes(searchAttributeCheck)) {
      throw new ConfigurationError([
        `searchAttributeCheck must be warn, fail or off (got ${JSON.stringify(searchAttributeCheck)}).`,
      ]);
    }
    const legacyActivityNames = options.legacyActivityNames ?? true;
    if (typeof legacyActivityNames !== 'boolean') {
      throw new ConfigurationError([
        `legacyActivityNames must be true or false (got ${JSON.stringify(legacyActivityNames)}).`,
      ]);
    }
    const rateLimit = checkedRateLimit(options.rateLimit, options.http?.maxRequestsPerSecond);
    const ownPacing = options.http?.maxRequestsPerSecond !== undefined;
    const queueLimit = rateLimit !== undefined && !ownPacing ? new QueueRateLimit(rateLimit) : undefined;
    let lease: VonageLease;
    try {
      lease = new VonageLease(legacyActivityNames, () =>
        createActivities({
          applicationId: options.applicationId,
          privateKey: options.privateKey,
          baseUrl: options.baseUrl,
          ...(options.identityInsightsPath !== undefined
            ? { identityInsightsPath: options.identityInsightsPath }
            : {}),
          http: { ...options.http, ...(queueLimit ? { leaseSlots: queueLimit.lease } : {}) },
          // NETCHECK_PROFILE=camara: the operator profile's client (activities/profiles/camara.ts).
          ...(options.camara ? { camara: options.camara } : {}),
        }),
      );
    } catch (err) {
      if (errorCodeOf(err) !== 'CONFIGURATION') throw err;
      throw new ConfigurationError([`netcheck plugin: ${(err as Error).message}`], { cause: err });
    }
    super({
      name: 'netcheck',
      activities: lease.activities,
      // The Vonage client, and the rate limiter's own worker, live as long as the worker runs.
      runContext: (next) => lease.during(queueLimit ? () => queueLimit.during(next) : next),
      ...(options.nexus
        ? { nexusServices: [netcheckNexusHandler(options.nexus === true ? {} : options.nexus)] }
        : {}),
    });
    this.#queueLimit = queueLimit;
    // Payload encryption (NETCHECK_ENCRYPTION_KEYS) for workers, replay workers and clients,
    // composed with the host's own DataConverter (not through SimplePlugin, which replaces its codecs).
    // A worker's codec marks payloads that arrive unencrypted, for netcheck's workflows to refuse.
    this.#dataConverter = options.encryption
      ? encryptingDataConverter(options.encryption, { worker: true })
      : undefined;
    this.#clientDataConverter = options.encryption ? encryptingDataConverter(options.encryption) : undefined;
    this.#encryption = options.encryption;
    this.#searchAttributeCheck = searchAttributeCheck;
    this.#activities = lease.activities;
  }

  #withDataConverter<T extends { dataConverter?: DataConverter }>(options: T, where: 'worker' | 'client'): T {
    const netcheck = where === 'worker' ? this.#dataConverter : this.#clientDataConverter;
    if (!netcheck) return options;
    return { ...options, dataConverter: composeDataConverter(options.dataConverter, netcheck, where) };
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    // SimplePlugin would replace a host activity of the same name without a word: refuse instead.
    const theirs = (options.activities ?? {}) as Record<string, unknown>;
    const taken = Object.keys(theirs).filter(
      (name) => Object.hasOwn(this.#activities, name) && theirs[name] !== this.#activities[name],
    );
    if (taken.length > 0) {
      // A bare name is served only for runs started before netcheck's activities were namespaced.
      const legacy = taken.filter((name) => activityName(name) === name);
      throw new ConfigurationError([
        `netcheck plugin: the worker registers activities named ${taken.join(', ')}, which netcheck's plugin registers too ` +
          `(its activities: ${Object.keys(this.#activities).join(', ')}). ` +
          (legacy.length > 0
            ? `netcheck serves ${legacy.join(', ')} only for runs started by a release before its activities became netcheck.<name>: ` +
              'once none of those is open, set legacyActivityNames: false in the plugin options and yours can stay. Until then, '
            : '') +
          'rename yours, or run netcheck on a task queue of its own.',
      ]);
    }
    const configured = this.#withDataConverter(
      withNetcheckWorkflows(super.configureWorker(options)),
      'worker',
    );
    this.#queueLimit?.bind(configured);
    if (this.#encryption) refuseUnmarkedBundle(configured);
    return {
      ...configured,
      // The encryption policy, for clients to read before they send anything (codec/policy.ts):
      // the host's identity (or the SDK's default) with `netcheck/enc=on:<key id>` or `=off`.
      identity: withEncryptionIdentity(
        configured.identity ?? `${process.pid}@${os.hostname()}`,
        this.#encryption,
      ),
      // Only when the host left it unset (Temporal's default is 10 s): a worker-wide setting.
      // (Duration's string form is typed by a package eslint cannot see: name the type here.)
      stickyQueueScheduleToStartTimeout:
        (configured.stickyQueueScheduleToStartTimeout as number | string | undefined) ??
        STICKY_SCHEDULE_TO_START_MS,
    };
  }

  /**
   * Bundles the plugin takes part in (a worker that bundles at start, `npm run build:bundle`)
   * get netcheck's payload converter, which carries the mark of an input that arrived
   * unencrypted to the workflows; a host's own payloadConverterPath stays.
   */
  override configureBundler(options: BundleOptions): BundleOptions {
    // The same as netcheckBundlerPlugin(), which needs no credentials (`npm run build:bundle`).
    return withNetcheckBundleOptions(super.configureBundler(options));
  }

  /** Replay workers (Worker.runReplayHistories) get netcheck's workflows like the others. */
  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    return this.#withDataConverter(withNetcheckWorkflows(super.configureReplayWorker(options)), 'worker');
  }

  /** On the application's Client: netcheck's payload codec, composed with the client's own. */
  override configureClient(options: ClientOptions): ClientOptions {
    return this.#withDataConverter(super.configureClient(options), 'client');
  }

  /** Checks the namespace's search attributes before the worker polls (searchAttributeCheck). */
  override async runWorker(worker: Worker, next: (w: Worker) => Promise<void>): Promise<void> {
    const problem = await this.#checkSearchAttributes(worker);
    if (!problem) return super.runWorker(worker, next);
    // 'fail': a worker that never ran keeps its native resources and a hold on its connection.
    // Run it and stop it at once (it polls for a moment), then fail with what is missing.
    const running = super.runWorker(worker, next);
    let settled = false;
    void running.finally(() => (settled = true)).catch(() => undefined);
    while (!settled && worker.getState() === 'INITIALIZED') await sleep(10);
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    throw problem;
  }

  /** The search attribute check; returns the error to fail the run with ('fail'), else logs. */
  async #checkSearchAttributes(worker: Worker): Promise<ConfigurationError | undefined> {
    const client = worker.client;
    if (this.#searchAttributeCheck === 'off' || !client) return; // replay workers have no client
    const { namespace } = worker.options;
    if (this.#searchAttributeCheck === 'warn' && reportedNamespaces.has(namespace)) return;
    const { Runtime } = await import('@temporalio/worker');
    const logger = Runtime.instance().logger;
    let message: string | undefined;
    try {
      const state = await searchAttributeState(client, namespace);
      message = missingAttributesWarning(state, namespace);
      if (message && state.missing.length > 0) {
        message +=
          '\n  Or with the Temporal CLI: temporal operator search-attribute create --namespace ' +
          `${JSON.stringify(namespace)} ${state.missing.map((name) => `--name ${name} --type Keyword`).join(' ')}`;
      }
    } catch (err) {
      logger.warn(
        `netcheck plugin: could not list the search attributes of namespace "${namespace}" (${(err as Error).message}); ` +
          `netcheck needs ${SEARCH_ATTRIBUTE_NAMES.join(', ')} (Keyword): ` +
          '`netcheck setup` registers them. Set searchAttributeCheck: "off" to skip this check.',
      );
      return;
    }
    if (!message) return;
    if (this.#searchAttributeCheck === 'fail')
      return new ConfigurationError([message.replace(/^WARNING: /, '')]);
    logger.warn(message);
    searchAttributesReported(namespace);
    return undefined;
  }
}

/**
 * With a key ring, the workflows must see the mark of an input that arrived unencrypted, or they
 * would run it: a prebuilt bundle must carry netcheck's payload converter, and a worker that
 * bundles at start must not bring a payload converter of its own in its place.
 */
function refuseUnmarkedBundle(options: WorkerOptions): void {
  const bundle = options.workflowBundle;
  const how =
    "build it with the netcheck plugin in bundleWorkflowCode({ plugins: [plugin] }) or `npm run build:bundle -- --encrypt-failures` (both add netcheck's payload converter)";
  if (bundle) {
    const code =
      'code' in bundle ? { code: bundle.code } : 'codePath' in bundle ? bundle.codePath : undefined;
    if (code !== undefined && !bundleMarksPlaintext(code)) {
      throw new ConfigurationError([
        `netcheck plugin: with \`encryption\`, the workflow bundle must carry netcheck's payload converter, which lets its ` +
          `workflows refuse numbers a client sent unencrypted; ${typeof code === 'string' ? code : 'the bundle given as code'} does not: ${how}.`,
      ]);
    }
    return;
  }
  const own = options.dataConverter?.payloadConverterPath;
  if (own !== undefined && own !== netcheckPayloadConverterPath()) {
    throw new ConfigurationError([
      `netcheck plugin: with \`encryption\`, the workflows need netcheck's payload converter (it lets them refuse numbers a ` +
        `client sent unencrypted), and this worker's dataConverter brings its own (${own}). Bundle the workflows ahead of time ` +
        'with a payload converter wrapped in plaintextMarkingConverter() (netcheck/codec) and pass the bundle as workflowBundle.',
    ]);
  }
}

/** Sugar for `new NetcheckPlugin(options)`. */
export function netcheckPlugin(options: NetcheckPluginOptions): NetcheckPlugin {
  return new NetcheckPlugin(options);
}
