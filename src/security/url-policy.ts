/**
 * Registration-time check of an endpoint URL. It refuses what is wrong on its face — not http(s),
 * credentials in the URL, too long, or a host that *is* a blocked address (an IP literal in any
 * spelling, or a loopback name). It does no DNS: a name's addresses may change after registration
 * (DNS rebinding), so names are judged where it counts, on every connect (guarded-dispatcher.ts).
 */
import type { AddressPolicy } from './address-policy.ts';
import { parseHostAddress, withPrivateNetworksHint } from './address-policy.ts';

/** Longest URL accepted, as the original string and once normalised. */
export const MAX_URL_LENGTH = 2048;

export type UrlCheck =
  | { ok: true; url: URL }
  | { ok: false; code: 'INVALID_URL' | 'BLOCKED_ADDRESS'; message: string };

/** Names that every resolver maps to loopback; refusing them here gives a clear error at registration. */
function loopbackNameAddress(hostname: string): string | undefined {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  if (name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.localdomain') {
    return '127.0.0.1';
  }
  if (name === 'ip6-localhost' || name === 'ip6-loopback') return '::1'; // Debian's /etc/hosts
  return undefined;
}

const invalid = (message: string): UrlCheck => ({ ok: false, code: 'INVALID_URL', message });
const blocked = (message: string): UrlCheck => ({ ok: false, code: 'BLOCKED_ADDRESS', message });

/**
 * Checks an endpoint URL without DNS; names are left to the connect-time guard.
 * @example checkUrl('http://127.0.0.1/', policy) // { ok: false, code: 'BLOCKED_ADDRESS', … }
 */
export function checkUrl(url: string, policy: AddressPolicy): UrlCheck {
  if (url.length > MAX_URL_LENGTH) return invalid(`The URL is longer than ${MAX_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalid('The URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return invalid('The URL must use http or https');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Credentials in a URL end up in logs and attempt records; endpoints have an `auth` option.
    return invalid('The URL must not contain a user name or password; use the endpoint auth option');
  }
  if (parsed.href.length > MAX_URL_LENGTH) {
    return invalid(`The URL is longer than ${MAX_URL_LENGTH} characters once normalised`);
  }
  if (parsed.hostname === '') return invalid('The URL has no host');
  // WHATWG parsing already canonicalised numeric spellings (2130706433 → 127.0.0.1); parseHostAddress
  // reads them again so the check does not rely on that alone.
  const address = parseHostAddress(parsed.hostname) ?? loopbackNameAddress(parsed.hostname);
  if (address !== undefined && !policy.isAllowed(address)) {
    const range = policy.classify(address);
    return blocked(withPrivateNetworksHint(`The URL's host ${parsed.hostname} is a ${range} address`, range));
  }
  return { ok: true, url: parsed };
}
