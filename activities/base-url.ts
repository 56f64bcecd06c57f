/**
 * Transport policy for the Vonage base URL: the application JWT, the access tokens and the phone
 * numbers travel on it, so plain http:// is refused unless it stays on this machine (loopback:
 * the simulator in tests and `netcheck dev`) or NETCHECK_ALLOW_INSECURE_HTTP=1 says otherwise —
 * then with a warning.
 */

import { isLoopbackHost } from '../common/net.js';
import { readSetting, settingText } from '../common/settings.js';

export function insecureHttpAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return readSetting('NETCHECK_ALLOW_INSECURE_HTTP', env) === true;
}

/**
 * NETCHECK_SIMULATOR_HOST: the bundled simulator's host, the one host plain http:// may go to by
 * this opt-in (docker-compose.yml's `simulator` service). Undefined when unset.
 */
export function simulatorHost(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return settingText('NETCHECK_SIMULATOR_HOST', env)?.toLowerCase();
}

/**
 * Why NETCHECK_SIMULATOR_HOST may not be used with this base URL: it is only for the bundled
 * simulator, so the base URL must be plain http:// to exactly that host (with real Vonage, unset it).
 */
export function simulatorHostProblem(
  baseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const host = simulatorHost(env);
  if (!host || !baseUrl) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined; // reported as "not a URL" elsewhere
  }
  if (url.protocol === 'http:' && url.hostname.toLowerCase() === host) return undefined;
  return (
    `NETCHECK_SIMULATOR_HOST=${host} is only for the bundled Vonage simulator, but VONAGE_API_BASE_URL is ${url.origin}: ` +
    'unset NETCHECK_SIMULATOR_HOST for real Vonage (docker-compose.prod.yml does), or point VONAGE_API_BASE_URL at http://' +
    `${host}:<port>.`
  );
}

/** Why this base URL may not be used, or undefined when it may (https, loopback, or opted in). */
export function insecureBaseUrlProblem(
  baseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!baseUrl) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined; // reported as "not a URL" elsewhere
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname) || insecureHttpAllowed(env)) return undefined;
  if (url.hostname.toLowerCase() === simulatorHost(env)) return undefined; // the bundled simulator, by opt-in
  return (
    `The Vonage API base URL ${url.origin} is plain http:// to another host: the application JWT, ` +
    'access tokens and phone numbers would cross the network unencrypted. Use https://, or set ' +
    'NETCHECK_ALLOW_INSECURE_HTTP=1 to allow it anyway (a closed test network only). For the bundled ' +
    `simulator, NETCHECK_SIMULATOR_HOST=${url.hostname} allows that one host.`
  );
}

const warned = new Set<string>();
/** Warns once per origin when plain http:// to another host is in use by opt-in. */
export function warnIfInsecure(url: URL, warn: (line: string) => void = (l) => console.warn(l)): void {
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname) || warned.has(url.origin)) return;
  warned.add(url.origin);
  if (url.hostname.toLowerCase() === simulatorHost()) return; // said at start: simulatorLine()
  warn(
    `netcheck: warning: NETCHECK_ALLOW_INSECURE_HTTP is set; credentials and phone numbers go to ${url.origin} unencrypted.`,
  );
}

/** The worker's start-up line for NETCHECK_SIMULATOR_HOST: loud, so it is never mistaken for production. */
export function simulatorLine(baseUrl: string): string {
  return (
    `netcheck: WARNING: talking plain http to the bundled Vonage SIMULATOR at ${baseUrl} (NETCHECK_SIMULATOR_HOST): ` +
    'test traffic only, nothing reaches Vonage. For real Vonage unset NETCHECK_SIMULATOR_HOST and use https:// (docker-compose.prod.yml).'
  );
}
