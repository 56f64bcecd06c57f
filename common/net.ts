/**
 * What counts as this machine: the one loopback rule for listen addresses (the simulator, the
 * codec server) and for the hosts plain http:// may go to (the Vonage base URL, the codec's
 * OIDC issuer and its keys).
 */
import { isIP } from 'node:net';

/**
 * Whether a host name or address (brackets allowed) stays on this machine: `localhost`,
 * 127.0.0.0/8, ::1 in any spelling, and 127.x mapped into IPv6 (`::ffff:127.0.0.1`, or
 * `::ffff:7f00:1` as a URL writes it). Subdomains of localhost are not: the resolver may send
 * them to DNS (a `*.localhost` name can be a cluster's service), so they are remote here.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    return (
      h === '::1' ||
      /^(0{1,4}:){7}0{0,3}1$/.test(h) ||
      /^::ffff:127\./.test(h) ||
      /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h)
    );
  }
  return false;
}
