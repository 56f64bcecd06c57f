/**
 * The one registry of the environment variables netcheck reads: for each, who reads it (its
 * roles), what it takes (a zod schema of its text, whose messages say what to set), its default,
 * whether it is a secret and which variable names a file holding it (every secret has one).
 *
 * Every reader goes through this module (`readSetting`, `settingText`, `rawSetting`,
 * `readSecret`); nothing else touches `process.env` for a setting of its own, and
 * test/unit/settings.test.ts fails naming the file and the variable when something does. The
 * configuration tables of README.md and docs/ are generated from it (`npm run docs:settings`), and
 * test/deploy/compose.test.ts holds docker-compose.yml to it (each service sets only variables
 * of its role, secrets arrive as files).
 *
 * To add a variable: add its entry below (roles, group, summary, schema, default; `secret` and
 * `file` for a secret), read it with `readSetting`/`readSecret`, run `npm run docs:settings`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigurationError, InvalidRequestError } from '../domain/errors.js';
import { API_NAMES, isApi, parsePurposeSetting } from '../domain/operations.js';
import {
  DEFAULT_PROFILE,
  isProfile,
  PROFILE_NAMES,
  profileTaskQueue,
  type Profile,
} from '../domain/profiles.js';
import { isAcceptedRate, RATE_BOUNDS_TEXT } from '../domain/rate-limit.js';
import { durationOrProblem } from '../domain/timeouts.js';

/** Who reads a variable: the process (or library) it configures. */
export const ROLES = ['client', 'worker', 'codec-server', 'cli', 'simulator', 'dev'] as const;
export type Role = (typeof ROLES)[number];

/** What each role is, for the docs. */
export const ROLE_TEXT: Record<Role, string> = {
  client: 'client API and every command that starts or reads checks',
  worker: '`netcheck worker` and the plugin',
  'codec-server': '`netcheck codec-server`',
  cli: 'the `netcheck` command itself',
  simulator: '`netcheck simulator`',
  dev: '`netcheck dev`, `npm run cluster`, build scripts',
};

/** Sections of the docs' tables. */
export const GROUPS = [
  'temporal',
  'vonage',
  'netcheck',
  'encryption',
  'codec-server',
  'observability',
  'tooling',
] as const;
export type SettingGroup = (typeof GROUPS)[number];

/** The values the library's defaults name; the registry owns them. */
export const DEFAULT_TASK_QUEUE = 'netcheck';
export const DEFAULT_API_BASE_URL = 'https://api-eu.vonage.com';
export const DEFAULT_NAMESPACE = 'default';

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingDefinition {
  roles: readonly Role[];
  group: SettingGroup;
  /** One line of Markdown: what it sets. */
  summary: string;
  /** The default as the docs say it (Markdown); absent: none. */
  default?: string;
  /** The text `readSetting` parses when the variable is unset. */
  defaultValue?: string;
  /** Parses the variable's text (trimmed, never empty); its messages name the variable. */
  schema?: z.ZodType;
  /** The message when it is unset and has no default: the variable is required. */
  required?: string;
  /** Set but empty is an error (the schema's message for ''), not "unset". */
  emptyIsError?: true;
  /** A secret: never in a log, an error or a compose file as a plain value; `file` names the variable of its file. */
  secret?: true;
  /** The variable that names a file holding this secret (`<NAME>_FILE`, or the older `VONAGE_PRIVATE_KEY_PATH`). */
  file?: string;
  /** This variable names a file that holds the value of that secret. */
  fileOf?: string;
  /** Read by a library netcheck hands the environment to, not by netcheck's own code. */
  readBy?: string;
  /** A name prefix (e.g. `TEMPORAL_GRPC_META_*`): every variable that starts with it. */
  prefix?: true;
  /** Meant only for this (e.g. the bundled simulator): said in the docs and by the contract test. */
  onlyFor?: string;
  /** No longer has an effect: what to do instead (setting it is reported, not ignored silently). */
  removed?: string;
  /** Leave out of the docs' tables (a system variable netcheck also reads). */
  internal?: true;
}

// ---- schemas of common kinds (each message names the variable and what to set) ----

function boolean(name: string) {
  return z.string().transform((text, ctx) => {
    const value = text.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    ctx.addIssue({
      code: 'custom',
      message: `${name} is ${JSON.stringify(text.slice(0, 20))}: use true or false.`,
    });
    return z.NEVER;
  });
}

function port(name: string) {
  return z.coerce
    .number({ error: `${name} must be a TCP port number, e.g. 9464.` })
    .int(`${name} must be a whole TCP port number, e.g. 9464.`)
    .min(1, `${name} must be between 1 and 65535.`)
    .max(65535, `${name} must be between 1 and 65535.`);
}

function nonEmpty(name: string, what: string) {
  return z.string().min(1, `${name} is empty: ${what}.`);
}

function httpUrl(name: string, example: string) {
  return z.url({ protocol: /^https?$/, error: `${name} must be an http(s) URL such as ${example}.` });
}

function list(name: string, itemPattern: RegExp, what: string) {
  return z.string().transform((text, ctx) => {
    const items = text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    const bad = items.filter((item) => !itemPattern.test(item));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${name}: ${bad.map((b) => JSON.stringify(b.slice(0, 40))).join(', ')} ${what}.`,
      });
      return z.NEVER;
    }
    return items;
  });
}

function duration(name: string) {
  return z.string().superRefine((text, ctx) => {
    const { problem } = durationOrProblem(text, name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** A host name or address (no scheme, no port). */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;

// ---- the registry ----

export const SETTINGS = {
  // --- Temporal connection (@temporalio/envconfig reads most of them) ---
  TEMPORAL_ADDRESS: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'Temporal frontend, `host:port`',
    default: '`localhost:7233`',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_NAMESPACE: {
    roles: ['client', 'worker', 'cli', 'codec-server'],
    group: 'temporal',
    summary:
      'namespace of the checks; the codec server decodes for it when `NETCHECK_CODEC_NAMESPACES` is unset',
    default: '`default`',
    defaultValue: DEFAULT_NAMESPACE,
    schema: nonEmpty('TEMPORAL_NAMESPACE', 'unset it or name a namespace'),
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_API_KEY: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'API key of a Temporal Cloud namespace',
    secret: true,
    file: 'TEMPORAL_API_KEY_FILE',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_API_KEY_FILE: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'a file holding `TEMPORAL_API_KEY` (one of the two)',
    fileOf: 'TEMPORAL_API_KEY',
  },
  TEMPORAL_PROFILE: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'profile of the Temporal config file to use',
    default: '`default`',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_CONFIG_FILE: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'the Temporal config file (TOML) with the profiles',
    default: "the Temporal CLI's",
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'connect over TLS (`true`), with `TEMPORAL_TLS_*` for certificates',
    default: 'on with an API key',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_CLIENT_CERT_PATH: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'client certificate for mTLS (or `TEMPORAL_TLS_CLIENT_CERT_DATA`)',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_CLIENT_CERT_DATA: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'client certificate for mTLS, PEM text',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_CLIENT_KEY_DATA: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'client key for mTLS, PEM text',
    secret: true,
    file: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_CLIENT_KEY_PATH: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'a file holding the client key for mTLS',
    fileOf: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: "the server's CA certificate (or `TEMPORAL_TLS_SERVER_CA_CERT_DATA`)",
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: "the server's CA certificate, PEM text",
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_SERVER_NAME: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'TLS server name to verify',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: "skip the server's host name check (tests only)",
    default: '`false`',
    readBy: '@temporalio/envconfig',
  },
  TEMPORAL_GRPC_META_: {
    roles: ['client', 'worker', 'cli'],
    group: 'temporal',
    summary: 'gRPC metadata sent with every call (`TEMPORAL_GRPC_META_<NAME>`)',
    readBy: '@temporalio/envconfig',
    prefix: true,
  },

  // --- Vonage (the workers' application) ---
  VONAGE_APPLICATION_ID: {
    roles: ['worker'],
    group: 'vonage',
    summary: 'the Vonage application id',
    default: 'required',
    required: 'VONAGE_APPLICATION_ID is not set: use your Vonage application id (a UUID).',
    emptyIsError: true,
    schema: z.string().min(1, 'VONAGE_APPLICATION_ID is empty: use your Vonage application id (a UUID).'),
  },
  VONAGE_PRIVATE_KEY: {
    roles: ['worker'],
    group: 'vonage',
    summary: "the application's private key, PEM text (literal `\\n` accepted)",
    default: 'required (this or the file)',
    secret: true,
    file: 'VONAGE_PRIVATE_KEY_PATH',
  },
  VONAGE_PRIVATE_KEY_PATH: {
    roles: ['worker'],
    group: 'vonage',
    summary: "a file holding the application's private key (PEM)",
    fileOf: 'VONAGE_PRIVATE_KEY',
  },
  VONAGE_API_BASE_URL: {
    roles: ['worker'],
    group: 'vonage',
    summary: 'origin of the Vonage APIs (https; plain http only to loopback, see `NETCHECK_SIMULATOR_HOST`)',
    default: `\`${DEFAULT_API_BASE_URL}\``,
    defaultValue: DEFAULT_API_BASE_URL,
    emptyIsError: true,
    schema: httpUrl('VONAGE_API_BASE_URL', DEFAULT_API_BASE_URL),
  },
  VONAGE_IDENTITY_INSIGHTS_PATH: {
    roles: ['worker'],
    group: 'vonage',
    summary: "Identity Insights' path under the base URL",
    default: '`/identity-insights/v1/requests`',
    emptyIsError: true,
    schema: z
      .string()
      .regex(
        /^\/[^\s?#]*$/,
        'VONAGE_IDENTITY_INSIGHTS_PATH must be a URL path such as /identity-insights/v1/requests or /v0.1/identity-insights.',
      ),
  },
  NETCHECK_ALLOW_INSECURE_HTTP: {
    roles: ['worker'],
    group: 'vonage',
    summary: 'allow a plain `http://` Vonage base URL to any host (a closed test network only; warned)',
    default: '`false`',
    schema: z.string().transform((text) => /^(1|true|yes)$/i.test(text)),
  },
  NETCHECK_SIMULATOR_HOST: {
    roles: ['worker'],
    group: 'vonage',
    summary:
      "the bundled simulator's host (the compose service `simulator`): plain `http://` is accepted to that host alone, only when `VONAGE_API_BASE_URL` points at it, and the worker says so loudly at start",
    onlyFor: 'the bundled Vonage simulator (docker-compose.yml, `npm run cluster`)',
    schema: z
      .string()
      .regex(HOST, 'NETCHECK_SIMULATOR_HOST must be a host name such as simulator (no scheme, no port).'),
  },

  // --- netcheck: task queue, defaults of checks, limits ---
  NETCHECK_TASK_QUEUE: {
    roles: ['client', 'worker', 'cli'],
    group: 'netcheck',
    summary: 'task queue of the workers and of the clients that start checks',
    default: `\`${DEFAULT_TASK_QUEUE}\``,
    defaultValue: DEFAULT_TASK_QUEUE,
    emptyIsError: true,
    schema: nonEmpty('NETCHECK_TASK_QUEUE', 'unset it or name a task queue'),
  },
  NETCHECK_RATE_LIMIT: {
    roles: ['worker'],
    group: 'netcheck',
    summary: 'Vonage requests per second for all workers of the task queue together',
    default: `none (${RATE_BOUNDS_TEXT} when set)`,
    emptyIsError: true,
    schema: z.coerce
      .number({ error: 'NETCHECK_RATE_LIMIT must be a number of requests per second, e.g. 50.' })
      .refine(
        isAcceptedRate,
        `NETCHECK_RATE_LIMIT must be a number of requests per second ${RATE_BOUNDS_TEXT}, e.g. 50.`,
      ),
  },
  NETCHECK_SUBJECT_KEY: {
    roles: ['client'],
    group: 'netcheck',
    summary:
      'key that hashes numbers into subjects (workflow ids, `NetcheckSubject`), at least 32 bytes, the same on every client (and on workers serving the Nexus service)',
    default: 'required by clients',
    secret: true,
    file: 'NETCHECK_SUBJECT_KEY_FILE',
  },
  NETCHECK_SUBJECT_KEY_FILE: {
    roles: ['client'],
    group: 'netcheck',
    summary: 'a file holding `NETCHECK_SUBJECT_KEY` (one of the two)',
    fileOf: 'NETCHECK_SUBJECT_KEY',
  },
  NETCHECK_API: {
    roles: ['client'],
    group: 'netcheck',
    summary: 'API of checks that name none: `camara` or `identity-insights`',
    default: '`camara` (`identity-insights` for `carrier`)',
    schema: z.string().superRefine((text, ctx) => {
      if (!isApi(text))
        ctx.addIssue({
          code: 'custom',
          message: `NETCHECK_API must be one of ${API_NAMES.join(', ')} (got ${JSON.stringify(text.slice(0, 40))}).`,
        });
    }),
  },
  NETCHECK_PURPOSE: {
    roles: ['client'],
    group: 'netcheck',
    summary:
      'purpose of checks that name none: one purpose, or one per API family (`sim-swap=…,device-status=…`)',
    default: 'what Vonage documents per operation',
    schema: z.string().superRefine((text, ctx) => {
      const { problem } = parsePurposeSetting(text, 'NETCHECK_PURPOSE');
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${problem}.` });
    }),
  },
  NETCHECK_PROFILE: {
    roles: ['client', 'worker'],
    group: 'netcheck',
    summary:
      'operator profile (docs/profiles.md): `vonage`, or `camara` for any operator on the current CAMARA releases; a worker serves one, and its default task queue is `netcheck-camara`',
    default: '`vonage`',
    defaultValue: 'vonage',
    emptyIsError: true,
    schema: z.string().superRefine((text, ctx) => {
      if (!isProfile(text))
        ctx.addIssue({
          code: 'custom',
          message: `NETCHECK_PROFILE must be one of ${PROFILE_NAMES.join(', ')} (got ${JSON.stringify(text.slice(0, 40))}).`,
        });
    }),
  },
  NETCHECK_OIDC_ISSUER: {
    roles: ['worker'],
    group: 'netcheck',
    summary:
      "profile `camara`: the operator's OpenID issuer; endpoints from `<issuer>/.well-known/openid-configuration` (https; plain http only to loopback)",
    default: 'required with `NETCHECK_PROFILE=camara`',
    emptyIsError: true,
    schema: httpUrl('NETCHECK_OIDC_ISSUER', 'https://auth.operator.example'),
  },
  NETCHECK_CLIENT_ID: {
    roles: ['worker'],
    group: 'netcheck',
    summary: 'profile `camara`: the client id the operator registered for this back end',
    default: 'required with `NETCHECK_PROFILE=camara`',
    emptyIsError: true,
    schema: nonEmpty('NETCHECK_CLIENT_ID', 'use the client id the operator gave you'),
  },
  NETCHECK_API_ROOT: {
    roles: ['worker'],
    group: 'netcheck',
    summary: "profile `camara`: the operator's CAMARA `apiRoot` (SIM swap at `{apiRoot}/sim-swap/v2`)",
    default: 'required with `NETCHECK_PROFILE=camara`',
    emptyIsError: true,
    schema: httpUrl('NETCHECK_API_ROOT', 'https://api.operator.example'),
  },
  NETCHECK_PRIVATE_KEY_PATH: {
    roles: ['worker'],
    group: 'netcheck',
    summary:
      'profile `camara`: a file holding the client-assertion private key (PEM, RSA or EC); unset: the Vonage key variables',
    default: 'the Vonage key',
  },
  NETCHECK_PRIVATE_KEY_FILE: {
    roles: ['worker'],
    group: 'netcheck',
    summary: 'the same as `NETCHECK_PRIVATE_KEY_PATH` (set only one)',
    default: 'the Vonage key',
  },
  NETCHECK_KEY_ID: {
    roles: ['worker'],
    group: 'netcheck',
    summary: 'profile `camara`: the `kid` of the client-assertion key, as registered with the operator',
    default: 'required with `NETCHECK_PROFILE=camara`',
    emptyIsError: true,
    schema: nonEmpty('NETCHECK_KEY_ID', 'use the key id (kid) you registered with the operator'),
  },
  NETCHECK_CHECK_TIMEOUT: {
    roles: ['client'],
    group: 'netcheck',
    summary: "each check's execution timeout, a duration (`30m`, `2h`; 1 s to 366 days)",
    default: '`1h`',
    schema: duration('NETCHECK_CHECK_TIMEOUT'),
  },
  NETCHECK_BATCH_TIMEOUT: {
    roles: ['client'],
    group: 'netcheck',
    summary: "a batch's execution timeout, all its runs together (a duration)",
    default: '`7d`',
    schema: duration('NETCHECK_BATCH_TIMEOUT'),
  },
  NETCHECK_POLICY: {
    roles: ['client', 'cli'],
    group: 'netcheck',
    summary: 'the policy file of `netcheck assess` / `assessNumber`',
    default: 'the built-in policy',
  },
  NETCHECK_CLIENT_IDENTITY: {
    roles: ['client', 'cli'],
    group: 'netcheck',
    summary: 'who starts the runs (a service, team or person), recorded with every run this client starts',
    default: "the SDK's `<pid>@<host>`",
  },
  NETCHECK_WORKFLOW_BUNDLE: {
    roles: ['worker'],
    group: 'netcheck',
    summary:
      'a prebuilt workflow bundle (`npm run build:bundle`) the worker loads instead of bundling at start',
    default: '`dist/workflow-bundle.js` when current',
  },

  // --- payload encryption ---
  NETCHECK_ENCRYPTION_KEYS: {
    roles: ['client', 'worker', 'codec-server', 'cli'],
    group: 'encryption',
    summary: 'payload key ring, `<key-id>:<base64 of 32 bytes>,…`, newest (encrypting) first',
    default: 'none: payloads in the clear (warned)',
    secret: true,
    file: 'NETCHECK_ENCRYPTION_KEYS_FILE',
  },
  NETCHECK_ENCRYPTION_KEYS_FILE: {
    roles: ['client', 'worker', 'codec-server', 'cli'],
    group: 'encryption',
    summary: 'a file holding the key ring (one entry a line or comma-separated; one of the two)',
    fileOf: 'NETCHECK_ENCRYPTION_KEYS',
  },
  NETCHECK_ENCRYPTION: {
    roles: ['client', 'worker', 'cli'],
    group: 'encryption',
    summary: '`off`: deliberately unencrypted (no key may be set); `on`: a key ring is required',
    default: 'keys when a ring is set',
  },
  NETCHECK_ALLOW_PLAINTEXT_UNTIL: {
    roles: ['worker', 'client'],
    group: 'encryption',
    summary: 'workers with a ring let unencrypted inputs through until this ISO date (a migration window)',
  },

  // --- codec server ---
  NETCHECK_CODEC_OIDC_ISSUER: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'accept OIDC access tokens of this issuer (also `--oidc-issuer`)',
    default: 'none: loopback only',
  },
  NETCHECK_CODEC_OIDC_AUDIENCE: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'audiences of those tokens, comma-separated (also `--oidc-audience`)',
  },
  NETCHECK_CODEC_OIDC_ALGORITHMS: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'allowed token signature algorithms, comma-separated',
    default: 'every asymmetric one',
  },
  NETCHECK_CODEC_NAMESPACES: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'namespaces it decodes for (`X-Namespace`), comma-separated',
    default: '`TEMPORAL_NAMESPACE`',
    schema: list('NETCHECK_CODEC_NAMESPACES', /^[A-Za-z0-9._-]+$/, 'is not a namespace name'),
  },
  NETCHECK_CODEC_ENABLE_ENCODE: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'serve `/encode` too',
    default: '`false`',
    schema: boolean('NETCHECK_CODEC_ENABLE_ENCODE'),
  },
  NETCHECK_CODEC_BEHIND_AUTH_PROXY: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'an authenticating proxy stands in front: allows a non-loopback bind without OIDC',
    default: '`false`',
    schema: boolean('NETCHECK_CODEC_BEHIND_AUTH_PROXY'),
  },
  NETCHECK_CODEC_UI_ORIGINS: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'UI origins allowed by CORS, comma-separated (also `--ui-origin`)',
    default: 'none',
  },
  NETCHECK_CODEC_TOKEN: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'removed: the static token travelled in a URL',
    secret: true,
    file: 'NETCHECK_CODEC_TOKEN_FILE',
    removed: 'use NETCHECK_CODEC_OIDC_ISSUER and NETCHECK_CODEC_OIDC_AUDIENCE (docs/security.md)',
  },
  NETCHECK_CODEC_TOKEN_FILE: {
    roles: ['codec-server'],
    group: 'codec-server',
    summary: 'removed, like `NETCHECK_CODEC_TOKEN`',
    fileOf: 'NETCHECK_CODEC_TOKEN',
    removed: 'use NETCHECK_CODEC_OIDC_ISSUER and NETCHECK_CODEC_OIDC_AUDIENCE (docs/security.md)',
  },

  // --- observability (worker) ---
  NETCHECK_METRICS_PORT: {
    roles: ['worker'],
    group: 'observability',
    summary: 'serve Prometheus metrics at `http://<host>:<port>/metrics`',
    default: 'none: no endpoint',
    schema: port('NETCHECK_METRICS_PORT'),
  },
  NETCHECK_METRICS_HOST: {
    roles: ['worker'],
    group: 'observability',
    summary: 'address the metrics endpoint binds',
    default: '`127.0.0.1`',
    defaultValue: '127.0.0.1',
  },
  NETCHECK_HEALTH_PORT: {
    roles: ['worker'],
    group: 'observability',
    summary: 'serve `/healthz` and `/readyz` on this port',
    default: 'none: no endpoint',
    schema: port('NETCHECK_HEALTH_PORT'),
  },
  NETCHECK_HEALTH_HOST: {
    roles: ['worker'],
    group: 'observability',
    summary: 'address the health endpoint binds',
    default: '`127.0.0.1`',
    defaultValue: '127.0.0.1',
  },
  OTEL_SDK_DISABLED: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: '`true` turns tracing off whatever else is set',
    default: '`false`',
  },
  OTEL_TRACES_EXPORTER: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: '`otlp`, `console`, both comma-separated, or `none`',
    default: 'none (otlp when an endpoint is set)',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'OTLP collector (HTTP/protobuf, e.g. `http://otel-collector:4318`); turns tracing on',
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'the full traces URL instead of `OTEL_EXPORTER_OTLP_ENDPOINT`',
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'must be `http/protobuf` when set (also `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`)',
  },
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'as `OTEL_EXPORTER_OTLP_PROTOCOL`, for traces',
  },
  OTEL_EXPORTER_OTLP_: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: "the exporter's other settings, e.g. `OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer …`",
    readBy: 'OpenTelemetry SDK',
    prefix: true,
  },
  OTEL_SERVICE_NAME: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'service name of the spans',
    default: '`netcheck-worker`',
    readBy: 'OpenTelemetry SDK',
  },
  OTEL_RESOURCE_ATTRIBUTES: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'more resource attributes, `key=value,…`',
    readBy: 'OpenTelemetry SDK',
  },
  OTEL_TRACES_SAMPLER: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'sampling, e.g. `parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.1`',
    readBy: 'OpenTelemetry SDK',
  },
  OTEL_TRACES_SAMPLER_ARG: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: "the sampler's argument",
    readBy: 'OpenTelemetry SDK',
  },
  OTEL_BSP_: {
    roles: ['worker', 'client'],
    group: 'observability',
    summary: 'batch span processor settings (`OTEL_BSP_SCHEDULE_DELAY`, …)',
    readBy: 'OpenTelemetry SDK',
    prefix: true,
  },

  // --- the command, local stacks, tooling ---
  NETCHECK_STATE_DIR: {
    roles: ['cli', 'simulator', 'dev'],
    group: 'tooling',
    summary: "where `netcheck dev` and the simulator keep their files (keys, the stack's state)",
    default: '`.netcheck`',
    defaultValue: '.netcheck',
  },
  NETCHECK_DEBUG: {
    roles: ['cli'],
    group: 'tooling',
    summary: 'print the stack of an unexpected error',
    default: 'off',
  },
  TEMPORAL_CLI_PATH: {
    roles: ['cli', 'dev'],
    group: 'tooling',
    summary: 'the Temporal CLI binary `netcheck dev` runs',
    default: '`temporal` on `PATH`, else `.temporal/bin/temporal`',
  },
  NETCHECK_PG_BIN: {
    roles: ['dev'],
    group: 'tooling',
    summary: 'folder with `initdb` and `pg_ctl` for `npm run cluster`',
    default: '`/usr/lib/postgresql/<n>/bin`',
  },
  NETCHECK_TEMPORAL_SERVER_DIR: {
    roles: ['dev'],
    group: 'tooling',
    summary: 'Temporal Server binaries for `npm run cluster`',
    default: '`.temporal/server-v1.29.1/`',
  },
  PATH: {
    roles: ['cli', 'dev'],
    group: 'tooling',
    summary: 'where `netcheck dev` looks for `temporal`',
    internal: true,
  },
} as const satisfies Record<string, SettingDefinition>;

export type SettingName = keyof typeof SETTINGS;
type Schemas = { [N in SettingName]: (typeof SETTINGS)[N] extends { schema: infer S } ? S : undefined };
/** The parsed value of a setting: its schema's output, else its text. */
export type SettingValue<N extends SettingName> = Schemas[N] extends z.ZodType
  ? z.output<Schemas[N]>
  : string;

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}

/** The registry entry of a variable name, a prefix entry included (`TEMPORAL_GRPC_META_FOO`). */
export function settingOf(name: string): (SettingDefinition & { name: string }) | undefined {
  if (isSettingName(name)) return { name, ...(SETTINGS[name] as SettingDefinition) };
  for (const [prefix, def] of Object.entries(SETTINGS) as [string, SettingDefinition][]) {
    if (def.prefix && name.startsWith(prefix)) return { name: prefix, ...def };
  }
  return undefined;
}

/** The names a role reads. */
export function settingsFor(role: Role): SettingName[] {
  return SETTING_NAMES.filter((name) => (SETTINGS[name].roles as readonly Role[]).includes(role));
}

function definition(name: SettingName): SettingDefinition {
  return SETTINGS[name];
}

// ---- reading ----

/** The variable exactly as set (undefined when unset). The one place netcheck reads `process.env` for a setting. */
export function rawSetting(name: SettingName, env: Env = process.env): string | undefined {
  return env[name];
}

/** The variable's text, trimmed; undefined when unset or empty. */
export function settingText(name: SettingName, env: Env = process.env): string | undefined {
  const text = rawSetting(name, env)?.trim();
  return text ? text : undefined;
}

/** The variables of a prefix entry that are set (e.g. every `OTEL_EXPORTER_OTLP_*`). */
export function settingsWithPrefix(prefix: SettingName, env: Env = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (name.startsWith(prefix) && value !== undefined) out[name] = value;
  return out;
}

function parse<N extends SettingName>(
  name: N,
  text: string,
): { value?: SettingValue<N>; problems: string[] } {
  const schema = definition(name).schema;
  if (!schema) return { value: text as SettingValue<N>, problems: [] };
  const parsed = schema.safeParse(text);
  if (parsed.success) return { value: parsed.data as SettingValue<N>, problems: [] };
  return { problems: parsed.error.issues.map((issue) => issue.message) };
}

/**
 * The setting's value: its text (trimmed) parsed by its schema, else its default, else
 * undefined. An empty variable counts as unset, except where the schema refuses empty text
 * (`NETCHECK_TASK_QUEUE=` is an error, not the default). Throws a ConfigurationError whose
 * messages name the variable.
 */
export function readSetting<N extends SettingName>(
  name: N,
  env: Env = process.env,
): SettingValue<N> | undefined {
  const problems: string[] = [];
  const value = collectSetting(name, env, problems);
  if (problems.length > 0) throw new ConfigurationError(problems);
  return value;
}

/** As readSetting, but adds what is wrong to `problems` (for loaders that report every problem at once). */
export function collectSetting<N extends SettingName>(
  name: N,
  env: Env,
  problems: string[],
): SettingValue<N> | undefined {
  const def = definition(name);
  const raw = rawSetting(name, env);
  let text = raw?.trim();
  if (raw !== undefined && text === '' && def.emptyIsError) {
    // Set but empty: an error (e.g. a task queue), not "use the default".
    const empty = def.schema?.safeParse('');
    problems.push(
      ...(empty?.error?.issues.map((issue) => issue.message) ?? [
        `${name} is empty: unset it or give a value.`,
      ]),
    );
    return undefined;
  }
  if (!text) text = def.defaultValue;
  if (text === undefined) {
    if (def.required) problems.push(def.required);
    return undefined;
  }
  const { value, problems: found } = parse(name, text);
  problems.push(...found);
  return value;
}

/**
 * A secret from its variable or from the file its file variable names (one of the two): the
 * value (a file's trailing newline and spaces removed) and where it came from, for messages that
 * must never quote it. Undefined when neither is set. Adds to `problems`: both set, a file that
 * cannot be read.
 */
export function collectSecret(
  name: SettingName,
  env: Env,
  problems: string[],
): { value: string; source: string } | undefined {
  const def = definition(name);
  const inline = rawSetting(name, env);
  const fileName = def.file as SettingName | undefined;
  const file = fileName ? rawSetting(fileName, env)?.trim() : undefined;
  if (inline !== undefined && inline !== '' && file) {
    problems.push(`Set only one of ${name} and ${fileName} (a file holding it).`);
    return undefined;
  }
  if (file) {
    try {
      return { value: readFileSync(file, 'utf8').replace(/\s+$/, ''), source: `${fileName} (${file})` };
    } catch (err) {
      problems.push(
        `${fileName} (${file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`,
      );
      return undefined;
    }
  }
  if (inline === undefined) return undefined;
  return { value: inline, source: name };
}

/** collectSecret that throws one ConfigurationError. */
export function readSecret(
  name: SettingName,
  env: Env = process.env,
): { value: string; source: string } | undefined {
  const problems: string[] = [];
  const secret = collectSecret(name, env, problems);
  if (problems.length > 0) throw new ConfigurationError(problems);
  return secret;
}

// ---- what several readers share ----

/**
 * The task queue: `explicit` (a flag, an option), else NETCHECK_TASK_QUEUE, else the profile's
 * (`profile`, else NETCHECK_PROFILE): `netcheck`, or `netcheck-camara` for the camara profile.
 */
export function resolveTaskQueue(explicit?: string, env: Env = process.env, profile?: Profile): string {
  if (explicit !== undefined) return explicit;
  if (rawSetting('NETCHECK_TASK_QUEUE', env) !== undefined) {
    return readSetting('NETCHECK_TASK_QUEUE', env) ?? DEFAULT_TASK_QUEUE;
  }
  return profileTaskQueue(resolveProfile(profile, env), DEFAULT_TASK_QUEUE);
}

/** The operator profile: `explicit` (--profile, an option), else NETCHECK_PROFILE, else `vonage`. */
export function resolveProfile(explicit?: Profile, env: Env = process.env): Profile {
  if (explicit !== undefined) {
    // A caller's option (the CLI's --profile is checked by commander already).
    if (!isProfile(explicit)) {
      throw new InvalidRequestError(
        `profile must be one of ${PROFILE_NAMES.join(', ')} (got ${JSON.stringify(String(explicit).slice(0, 40))})`,
      );
    }
    return explicit;
  }
  const value = readSetting('NETCHECK_PROFILE', env);
  return isProfile(value) ? value : DEFAULT_PROFILE;
}

/**
 * NETCHECK_CHECK_TIMEOUT and NETCHECK_BATCH_TIMEOUT as set (an empty one included: it is an
 * error there), for domain/timeouts.ts, which parses them with the options they stand in for.
 */
export function timeoutSettings(env: Env = process.env): {
  NETCHECK_CHECK_TIMEOUT?: string;
  NETCHECK_BATCH_TIMEOUT?: string;
} {
  const check = rawSetting('NETCHECK_CHECK_TIMEOUT', env);
  const batch = rawSetting('NETCHECK_BATCH_TIMEOUT', env);
  return {
    ...(check !== undefined ? { NETCHECK_CHECK_TIMEOUT: check } : {}),
    ...(batch !== undefined ? { NETCHECK_BATCH_TIMEOUT: batch } : {}),
  };
}

// ---- checking an environment against the registry (the compose contract test, start-up checks) ----

export interface EnvironmentProblem {
  variable: string;
  problem: string;
}

/**
 * What is wrong with the variables an environment sets for a process of these roles, by the
 * registry alone: a name netcheck does not read, one another role reads, a secret given as a
 * plain value (it must come from its file variable), a removed one, a value its schema refuses.
 * `inherited` names variables that are not the deployment's own (the OS's, the image's).
 */
export function environmentProblems(
  roles: readonly Role[],
  env: Env,
  options: { inherited?: readonly string[] } = {},
): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || options.inherited?.includes(variable)) continue;
    const def = settingOf(variable);
    if (!def) {
      problems.push({
        variable,
        problem: `${variable} is not a variable netcheck reads (common/settings.ts lists them)`,
      });
      continue;
    }
    if (!def.roles.some((role) => roles.includes(role))) {
      problems.push({
        variable,
        problem: `${variable} is read by ${def.roles.join(', ')}, not by ${roles.join(', ')}: leave it out here`,
      });
      continue;
    }
    if (def.removed)
      problems.push({ variable, problem: `${variable} no longer has an effect: ${def.removed}` });
    if (def.secret && value !== '') {
      problems.push({
        variable,
        problem: `${variable} is a secret given as a plain value (visible in \`docker inspect\`): pass it as a file with ${def.file}`,
      });
    }
    if (def.schema && isSettingName(variable) && value.trim() !== '') {
      for (const message of parse(variable, value.trim()).problems)
        problems.push({ variable, problem: message });
    }
  }
  return problems;
}
