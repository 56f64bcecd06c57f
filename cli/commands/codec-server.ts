/**
 * `netcheck codec-server`: the remote codec for the Temporal UI and CLI, from the same key ring
 * as the workers (NETCHECK_ENCRYPTION_KEYS / NETCHECK_ENCRYPTION_KEYS_FILE), verifying the
 * callers' OIDC access tokens (NETCHECK_CODEC_OIDC_*); and `netcheck keygen`, which prints a new
 * key ring entry or a random token.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadKeyRing, newKeyEntry } from '../../codec/keyring.js';
import {
  DEFAULT_CODEC_PORT,
  OIDC_ALGORITHMS,
  startCodecServer,
  type CodecOidcOptions,
} from '../../codec/server.js';
import { isLoopbackHost } from '../../common/net.js';
import { collectSetting, rawSetting, settingText, type SettingName } from '../../common/settings.js';
import { ConfigurationError as ConfigError } from '../../domain/errors.js';
import { EXIT, type ExitCode } from '../errors.js';

export interface CodecServerFlags {
  host?: string;
  port?: number;
  uiOrigin?: string[];
  maxBody?: number;
  tlsCert?: string;
  tlsKey?: string;
  /** OIDC issuer URL (NETCHECK_CODEC_OIDC_ISSUER). */
  oidcIssuer?: string;
  /** Accepted token audiences (NETCHECK_CODEC_OIDC_AUDIENCE, comma-separated). */
  oidcAudience?: string[];
  /** Allowed signature algorithms (NETCHECK_CODEC_OIDC_ALGORITHMS, comma-separated). */
  oidcAlgorithm?: string[];
  /** Allowed namespaces (NETCHECK_CODEC_NAMESPACES, comma-separated; default TEMPORAL_NAMESPACE or "default"). */
  namespace?: string[];
  /** Serve /encode (NETCHECK_CODEC_ENABLE_ENCODE). */
  enableEncode?: boolean;
  /** An authenticating proxy stands in front (NETCHECK_CODEC_BEHIND_AUTH_PROXY). */
  behindAuthProxy?: boolean;
}

function readSecretFile(variable: string, file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    problems.push(
      `${variable} (${file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`,
    );
    return undefined;
  }
}

/** Comma-separated values of a variable, plus repeated flag values. */
function list(flag: string[] | undefined, value: string | undefined): string[] {
  return [...(flag ?? []), ...(value ?? '').split(',')].map((v) => v.trim()).filter((v) => v !== '');
}

/** A boolean variable: true/1/yes or false/0/no (unset or empty: false); anything else is a problem. */
function envFlag(
  env: NodeJS.ProcessEnv,
  name: 'NETCHECK_CODEC_ENABLE_ENCODE' | 'NETCHECK_CODEC_BEHIND_AUTH_PROXY',
  problems: string[],
): boolean {
  return collectSetting(name, env, problems) === true;
}

/** The settings of the codec server from flags and environment, or every problem with them. */
export function codecServerSettings(flags: CodecServerFlags, env: NodeJS.ProcessEnv, problems: string[]) {
  const issuer = (flags.oidcIssuer ?? rawSetting('NETCHECK_CODEC_OIDC_ISSUER', env))?.trim() || undefined;
  const audience = list(
    flags.oidcAudience,
    flags.oidcAudience ? undefined : rawSetting('NETCHECK_CODEC_OIDC_AUDIENCE', env),
  );
  const algorithms = list(
    flags.oidcAlgorithm,
    flags.oidcAlgorithm ? undefined : rawSetting('NETCHECK_CODEC_OIDC_ALGORITHMS', env),
  );
  if (issuer && audience.length === 0)
    problems.push(
      'NETCHECK_CODEC_OIDC_ISSUER is set without NETCHECK_CODEC_OIDC_AUDIENCE (--oidc-audience): name the audience of the access tokens.',
    );
  if (!issuer && audience.length > 0)
    problems.push('NETCHECK_CODEC_OIDC_AUDIENCE is set without NETCHECK_CODEC_OIDC_ISSUER (--oidc-issuer).');
  const badAlgorithms = algorithms.filter((a) => !OIDC_ALGORITHMS.includes(a));
  if (badAlgorithms.length > 0)
    problems.push(
      `NETCHECK_CODEC_OIDC_ALGORITHMS: ${badAlgorithms.join(', ')} not allowed; use some of ${OIDC_ALGORITHMS.join(', ')}.`,
    );
  const oidc: CodecOidcOptions | undefined =
    issuer && audience.length > 0
      ? { issuer, audience, ...(algorithms.length > 0 ? { algorithms } : {}) }
      : undefined;

  const namespacesGiven = list(
    flags.namespace,
    flags.namespace ? undefined : rawSetting('NETCHECK_CODEC_NAMESPACES', env),
  );
  const namespaces =
    namespacesGiven.length > 0 ? namespacesGiven : [settingText('TEMPORAL_NAMESPACE', env) ?? 'default'];
  const enableEncode = flags.enableEncode === true || envFlag(env, 'NETCHECK_CODEC_ENABLE_ENCODE', problems);
  const behindAuthProxy =
    flags.behindAuthProxy === true || envFlag(env, 'NETCHECK_CODEC_BEHIND_AUTH_PROXY', problems);

  // The static token of earlier versions travelled in the UI's endpoint URL: it is gone. Where
  // callers were relying on it and nothing replaces it, refuse rather than serve unauthenticated.
  const warnings: string[] = [];
  for (const name of ['NETCHECK_CODEC_TOKEN', 'NETCHECK_CODEC_TOKEN_FILE'] satisfies SettingName[]) {
    if (!settingText(name, env)) continue;
    const gone = `${name} is no longer used: the codec server takes no static token (it travelled in the UI's endpoint URL).`;
    if (oidc || behindAuthProxy) warnings.push(`${gone} Unset it.`);
    else
      problems.push(
        `${gone} Set NETCHECK_CODEC_OIDC_ISSUER and NETCHECK_CODEC_OIDC_AUDIENCE so the codec server verifies the access ` +
          'token the Temporal UI forwards (codec.passAccessToken), then unset it; for development on loopback without ' +
          'authentication, just unset it. See docs/security.md.',
      );
  }

  const origins = list(flags.uiOrigin, rawSetting('NETCHECK_CODEC_UI_ORIGINS', env));
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || parsed.origin !== origin.replace(/\/+$/, ''))
      problems.push(`UI origin ${JSON.stringify(origin)} is not an origin such as http://127.0.0.1:8233.`);
  }
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey))
    problems.push('Give both --tls-cert and --tls-key, or neither.');
  const tls =
    flags.tlsCert && flags.tlsKey
      ? {
          cert: readSecretFile('--tls-cert', flags.tlsCert, problems) ?? '',
          key: readSecretFile('--tls-key', flags.tlsKey, problems) ?? '',
        }
      : undefined;

  const host = flags.host ?? '127.0.0.1';
  if (!oidc && !behindAuthProxy && !isLoopbackHost(host)) {
    problems.push(
      `--host ${host} is beyond loopback and nothing authenticates the callers: anyone who reaches the codec server ` +
        'could decrypt every payload. Set NETCHECK_CODEC_OIDC_ISSUER and NETCHECK_CODEC_OIDC_AUDIENCE (--oidc-issuer, ' +
        '--oidc-audience); or, if an authenticating proxy stands in front, NETCHECK_CODEC_BEHIND_AUTH_PROXY=true ' +
        '(--behind-auth-proxy); or bind it to 127.0.0.1.',
    );
  }
  return { host, oidc, namespaces, enableEncode, behindAuthProxy, origins, tls, warnings };
}

export async function codecServerCommand(
  flags: CodecServerFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const problems: string[] = [];
  let ring;
  try {
    ring = loadKeyRing(env);
    if (!ring) {
      problems.push(
        'No encryption keys: set NETCHECK_ENCRYPTION_KEYS (or NETCHECK_ENCRYPTION_KEYS_FILE) to the same key ring as the workers.',
      );
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const settings = codecServerSettings(flags, env, problems);
  if (problems.length > 0 || !ring) throw new ConfigError(problems);
  const { host, oidc, namespaces, enableEncode, behindAuthProxy, origins, tls } = settings;
  for (const warning of settings.warnings) console.error(`warning: ${warning}`);

  if (!isLoopbackHost(host) && !tls) {
    console.error(
      `warning: the codec server listens on ${host} over plain http: decoded payloads (phone numbers) and ` +
        'access tokens cross the network in the clear, and the Temporal UI forwards access tokens only over https. ' +
        'Serve it with --tls-cert/--tls-key or behind a TLS proxy.',
    );
  }
  const server = await startCodecServer({
    ring,
    host,
    port: flags.port ?? DEFAULT_CODEC_PORT,
    ...(oidc ? { oidc } : {}),
    behindAuthProxy,
    namespaces,
    enableEncode,
    corsOrigins: origins,
    ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}),
    ...(tls ? { tls } : {}),
    log: (line) => console.error(line),
  });
  const who =
    server.auth === 'oidc'
      ? `OIDC access tokens of ${oidc!.issuer} for ${[oidc!.audience].flat().join(', ')}`
      : server.auth === 'proxy'
        ? 'none here: the authenticating proxy in front (NETCHECK_CODEC_BEHIND_AUTH_PROXY)'
        : 'none (loopback only, for development)';
  console.error(
    [
      `netcheck codec server on ${server.url} (key ring: ${ring.keys.size} key${ring.keys.size > 1 ? 's' : ''}, encrypting with "${ring.primary}")`,
      `  Callers:      ${who}`,
      `  Namespaces:   ${namespaces.join(', ')}; /encode ${enableEncode ? 'enabled' : 'disabled'}`,
      `  Temporal UI:  codec endpoint ${server.uiEndpoint}${server.auth === 'oidc' ? ' with codec.passAccessToken' : ''}` +
        (origins.length
          ? ` (CORS: ${origins.join(', ')})`
          : ' — no UI origin allowed yet: add --ui-origin <the UI origin>'),
      `  temporal CLI: --codec-endpoint ${server.url}${server.auth === 'oidc' ? ' --codec-auth "Bearer <your access token>"' : ''}`,
      'One line per request (action, namespace, subject, payload count, status). Ctrl-C stops it.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve());
  });
  await server.close();
  return EXIT.OK;
}

/** `netcheck keygen`: a new key ring entry, or (--token) a random token, e.g. for NETCHECK_SUBJECT_KEY. */
export function keygenCommand(flags: { id?: string; token?: boolean }): Promise<ExitCode> {
  console.log(flags.token ? randomBytes(32).toString('base64url') : newKeyEntry(flags.id));
  return Promise.resolve(EXIT.OK);
}
