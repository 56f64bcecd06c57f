/**
 * `netcheck codec-server`: the remote codec for the Temporal UI and CLI, from the same key ring
 * as the workers (NETCHECK_ENCRYPTION_KEYS / NETCHECK_ENCRYPTION_KEYS_FILE); and `netcheck
 * keygen`, which prints a new key ring entry or a random token.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadKeyRing, newKeyEntry } from '../../codec/keyring.js';
import { DEFAULT_CODEC_PORT, startCodecServer, tokenProblem } from '../../codec/server.js';
import { ConfigurationError as ConfigError } from '../../domain/errors.js';
import { EXIT, type ExitCode } from '../errors.js';

export interface CodecServerFlags {
  host?: string;
  port?: number;
  uiOrigin?: string[];
  maxBody?: number;
  tlsCert?: string;
  tlsKey?: string;
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

/** The token from NETCHECK_CODEC_TOKEN or the file named by NETCHECK_CODEC_TOKEN_FILE. */
export function codecTokenFromEnv(env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const inline = env.NETCHECK_CODEC_TOKEN?.trim();
  const file = env.NETCHECK_CODEC_TOKEN_FILE?.trim();
  if (inline && file) {
    problems.push('Set only one of NETCHECK_CODEC_TOKEN and NETCHECK_CODEC_TOKEN_FILE.');
    return undefined;
  }
  const token = file ? readSecretFile('NETCHECK_CODEC_TOKEN_FILE', file, problems) : inline;
  if (file && token === undefined) return undefined;
  const problem = tokenProblem(token, file ? `NETCHECK_CODEC_TOKEN_FILE (${file})` : 'NETCHECK_CODEC_TOKEN');
  if (problem) problems.push(problem);
  return problem ? undefined : token;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
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
  const token = codecTokenFromEnv(env, problems);
  const origins = [
    ...(flags.uiOrigin ?? []),
    ...(env.NETCHECK_CODEC_UI_ORIGINS ?? '').split(',').map((o) => o.trim()),
  ].filter((o) => o !== '');
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
  if (problems.length > 0 || !ring || !token) throw new ConfigError(problems);

  const host = flags.host ?? '127.0.0.1';
  if (!isLoopback(host) && !tls) {
    console.error(
      `warning: the codec server listens on ${host} over plain http: decoded payloads (phone numbers) and ` +
        'the token cross the network in the clear. Serve it with --tls-cert/--tls-key or behind a TLS proxy.',
    );
  }
  const server = await startCodecServer({
    ring,
    token,
    host,
    port: flags.port ?? DEFAULT_CODEC_PORT,
    corsOrigins: origins,
    ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}),
    ...(tls ? { tls } : {}),
    log: (line) => console.error(line),
  });
  console.error(
    [
      `netcheck codec server on ${server.url} (key ring: ${ring.keys.size} key${ring.keys.size > 1 ? 's' : ''}, encrypting with "${ring.primary}")`,
      `  Temporal UI:  codec endpoint ${server.url}/<NETCHECK_CODEC_TOKEN>${origins.length ? ` (CORS: ${origins.join(', ')})` : ' — no UI origin allowed yet: add --ui-origin <the UI origin>'}`,
      `  temporal CLI: --codec-endpoint ${server.url} --codec-auth "Bearer <NETCHECK_CODEC_TOKEN>"`,
      'Only request counts are logged. Ctrl-C stops it.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve());
  });
  await server.close();
  return EXIT.OK;
}

/** `netcheck keygen`: a new key ring entry, or (--token) a random token for the codec server or NETCHECK_SUBJECT_KEY. */
export function keygenCommand(flags: { id?: string; token?: boolean }): Promise<ExitCode> {
  console.log(flags.token ? randomBytes(32).toString('base64url') : newKeyEntry(flags.id));
  return Promise.resolve(EXIT.OK);
}
