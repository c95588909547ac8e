/**
 * Endpoint URLs (and OAuth token URLs): what Herald will accept to send requests to. Shape rules
 * live here; whether the address may be reached at all is `checkUrlAllowed`, the one place the
 * SSRF guard is applied at registration.
 */
import type { Config } from '../config/config.ts';
import { invalid } from '../core/errors.ts';
import { type AddressPolicy, createAddressPolicy } from '../security/address-policy.ts';
import { checkUrl } from '../security/url-policy.ts';

export const MAX_URL_BYTES = 2048;

/**
 * Parses an absolute http(s) URL without credentials, or refuses it with INVALID_URL naming `path`.
 * Endpoints store the parsed form's `href` (the URL exactly as it will be requested), so lookups by
 * URL do not depend on how it was spelled (`HTTPS://Example.com` is `https://example.com/`).
 *
 * @example parseEndpointUrl('https://example.com/hooks', 'url').hostname // 'example.com'
 */
export function parseEndpointUrl(raw: string, path: string): URL {
  if (Buffer.byteLength(raw, 'utf8') > MAX_URL_BYTES) {
    throw invalid(path, `is longer than ${MAX_URL_BYTES} bytes`, 'INVALID_URL');
  }
  // The WHATWG parser silently drops tabs and newlines and trims spaces: refuse them instead of
  // requesting something other than what the caller wrote.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (/[\u0000-\u0020\u007f-\u009f]/.test(raw)) {
    throw invalid(path, 'must not contain spaces or control characters', 'INVALID_URL');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(path, 'is not an absolute URL', 'INVALID_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(path, 'must be an http or https URL', 'INVALID_URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(path, 'must not contain credentials; use the endpoint `auth` instead', 'INVALID_URL');
  }
  if (url.hostname === '') throw invalid(path, 'has no host', 'INVALID_URL');
  return url;
}

/**
 * Whether Herald may send requests to `url` at all: THE registration-time SSRF check for endpoint
 * and OAuth token URLs. An IP-literal host (in any spelling) or a loopback name must be allowed by
 * the address policy; DNS names are not resolved here — delivery re-checks every resolved address
 * at connect time, which also defeats DNS rebinding.
 *
 * @example await checkUrlAllowed(new URL('https://example.com/hook'), ctx.config, 'url')
 */
export async function checkUrlAllowed(url: URL, config: Config, path = 'url'): Promise<void> {
  const result = checkUrl(url.href, policyFor(config));
  if (!result.ok) throw invalid(path, result.message, result.code);
}

const policies = new WeakMap<Config, AddressPolicy>();
function policyFor(config: Config): AddressPolicy {
  let policy = policies.get(config);
  if (!policy) {
    policy = createAddressPolicy({
      allowPrivateNetworks: config.allowPrivateNetworks,
      allowedNetworks: config.allowedNetworks,
    });
    policies.set(config, policy);
  }
  return policy;
}

/**
 * The spellings to look a `?url=` up by: as given (rows written before normalisation, or an
 * unparseable query that simply matches nothing), and normalised like stored URLs.
 */
export function urlSpellings(raw: string): string[] {
  try {
    const normalised = new URL(raw).href;
    return normalised === raw ? [raw] : [raw, normalised];
  } catch {
    return [raw];
  }
}
