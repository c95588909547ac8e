/**
 * API keys: random, with a recognisable prefix (`hk_admin_…`, `hk_live_…`) so a leaked key is easy to
 * spot in logs and by secret scanners. Only a SHA-256 digest is stored; lookups hash the presented
 * key and compare digests in constant time.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ADMIN_KEY_PREFIX = 'hk_admin_';
export const TENANT_KEY_PREFIX = 'hk_live_';

export function generateKey(prefix: string): string {
  return prefix + randomBytes(24).toString('base64url');
}

/** Every authenticated request hashes its key: the one-shot `hash` costs about half a Hash object. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/**
 * The part of a key that lists may show: its type prefix and the first 4 random characters.
 * (The random part is base64url and may itself contain `_`, so the prefix is matched, not searched.)
 */
export function displayPrefix(key: string): string {
  const prefix = [ADMIN_KEY_PREFIX, TENANT_KEY_PREFIX].find((p) => key.startsWith(p)) ?? '';
  return key.slice(0, prefix.length + 4);
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
