/**
 * Transport policy for the Vonage base URL: the application JWT, the access tokens and the phone
 * numbers travel on it, so plain http:// is refused unless it stays on this machine (loopback:
 * the simulator in tests and `netcheck dev`) or NETCHECK_ALLOW_INSECURE_HTTP=1 says otherwise —
 * then with a warning.
 */

/** localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

export function insecureHttpAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.NETCHECK_ALLOW_INSECURE_HTTP?.trim() ?? '');
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
  return (
    `The Vonage API base URL ${url.origin} is plain http:// to another host: the application JWT, ` +
    'access tokens and phone numbers would cross the network unencrypted. Use https://, or set ' +
    'NETCHECK_ALLOW_INSECURE_HTTP=1 to allow it anyway (a closed test network only).'
  );
}

const warned = new Set<string>();
/** Warns once per origin when plain http:// to another host is in use by opt-in. */
export function warnIfInsecure(url: URL, warn: (line: string) => void = (l) => console.warn(l)): void {
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname) || warned.has(url.origin)) return;
  warned.add(url.origin);
  warn(
    `netcheck: warning: NETCHECK_ALLOW_INSECURE_HTTP is set; credentials and phone numbers go to ${url.origin} unencrypted.`,
  );
}
