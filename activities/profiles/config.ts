/**
 * The `camara` profile's worker configuration (docs/profiles.md): NETCHECK_OIDC_ISSUER,
 * NETCHECK_CLIENT_ID, NETCHECK_API_ROOT, NETCHECK_KEY_ID and the client-assertion key
 * (NETCHECK_PRIVATE_KEY_PATH or NETCHECK_PRIVATE_KEY_FILE; unset: the Vonage key variables).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readPrivateKey } from '../../common/config.js';
import { collectSetting, rawSetting } from '../../common/settings.js';
import { isLoopbackHost } from '../../common/net.js';
import { insecureHttpAllowed } from '../base-url.js';

/** What the `camara` profile adds to the Vonage client's dependencies. */
export interface CamaraProfileConfig {
  /** The operator's OpenID issuer (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  /** The `kid` of the client-assertion key, as registered with the operator. */
  keyId: string;
}

export interface LoadedCamaraProfile extends CamaraProfileConfig {
  clientId: string;
  apiRoot: string;
  privateKey: KeyObject;
}

/** Why this URL may not carry credentials and numbers: plain http to a host other than loopback. */
export function transportProblem(
  name: string,
  value: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} is not a URL.`;
  }
  if (url.username || url.password || url.search || url.hash) {
    return `${name} must not carry credentials, a query or a fragment.`;
  }
  if (url.protocol === 'https:' || isLoopbackHost(url.hostname) || insecureHttpAllowed(env)) return undefined;
  return `${name} (${url.origin}) is plain http:// to another host: client assertions, access tokens and phone numbers would cross the network unencrypted. Use https:// (plain http only to loopback, or with NETCHECK_ALLOW_INSECURE_HTTP=1 on a closed test network).`;
}

/** A PEM private key usable for `private_key_jwt`: RSA (RS256) or EC P-256 (ES256). */
export function parseAssertionKey(pem: string, source: string, problems: string[]): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch {
    problems.push(`${source} does not hold a PEM private key.`);
    return undefined;
  }
  const ok =
    key.asymmetricKeyType === 'rsa' ||
    (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  if (!ok) {
    problems.push(`${source} must be an RSA or EC P-256 private key (client assertions are RS256 or ES256).`);
    return undefined;
  }
  return key;
}

function readAssertionKey(env: NodeJS.ProcessEnv, problems: string[]): KeyObject | undefined {
  const path = rawSetting('NETCHECK_PRIVATE_KEY_PATH', env)?.trim();
  const file = rawSetting('NETCHECK_PRIVATE_KEY_FILE', env)?.trim();
  if (path && file) {
    problems.push('Set only one of NETCHECK_PRIVATE_KEY_PATH and NETCHECK_PRIVATE_KEY_FILE.');
    return undefined;
  }
  const chosen = path
    ? { name: 'NETCHECK_PRIVATE_KEY_PATH', file: path }
    : file
      ? { name: 'NETCHECK_PRIVATE_KEY_FILE', file }
      : undefined;
  if (!chosen) return readPrivateKey(env, problems); // the Vonage key variables
  const source = `${chosen.name} (${chosen.file})`;
  let pem: string;
  try {
    pem = readFileSync(chosen.file, 'utf8');
  } catch (err) {
    problems.push(`${source} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
    return undefined;
  }
  return parseAssertionKey(pem, source, problems);
}

/** Reads the profile's settings; adds every problem to `problems` (undefined when any). */
export function loadCamaraProfileConfig(
  env: NodeJS.ProcessEnv,
  problems: string[],
): LoadedCamaraProfile | undefined {
  const before = problems.length;
  const need = (name: string, value: string | undefined) => {
    if (value === undefined)
      problems.push(`${name} is not set; NETCHECK_PROFILE=camara needs it (docs/profiles.md).`);
    return value;
  };
  const issuer = need('NETCHECK_OIDC_ISSUER', collectSetting('NETCHECK_OIDC_ISSUER', env, problems));
  const clientId = need('NETCHECK_CLIENT_ID', collectSetting('NETCHECK_CLIENT_ID', env, problems));
  const apiRoot = need('NETCHECK_API_ROOT', collectSetting('NETCHECK_API_ROOT', env, problems));
  const keyId = need('NETCHECK_KEY_ID', collectSetting('NETCHECK_KEY_ID', env, problems));
  const privateKey = readAssertionKey(env, problems);
  for (const [name, value] of [
    ['NETCHECK_OIDC_ISSUER', issuer],
    ['NETCHECK_API_ROOT', apiRoot],
  ] as const) {
    const problem = value === undefined ? undefined : transportProblem(name, value, env);
    if (problem) problems.push(problem);
  }
  if (problems.length > before || !issuer || !clientId || !apiRoot || !keyId || !privateKey) return undefined;
  return {
    issuer: issuer.replace(/\/+$/, ''),
    clientId,
    apiRoot: apiRoot.replace(/\/+$/, ''),
    keyId,
    privateKey,
  };
}
