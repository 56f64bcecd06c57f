/**
 * What counts as this machine: the one loopback rule for listen addresses (the simulator, the
 * codec server) and for the hosts plain http:// may go to (the Vonage base URL, the codec's
 * OIDC issuer).
 */
import { isIP } from 'node:net';

/**
 * Whether a host name or address (brackets allowed) stays on this machine: localhost and its
 * subdomains (RFC 6761), 127.0.0.0/8, ::1 in any spelling, and IPv4-mapped 127.x.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}
