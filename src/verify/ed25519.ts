/**
 * Standard Webhooks' asymmetric scheme on the receiving side: `v1a,<base64 Ed25519 signature>` of
 * `id.timestamp.body`, checked with the endpoint's public key `whpk_<base64 of the 32-byte raw key>`.
 * Sending (and the `whsk_` secret key) lives in src/profiles/ed25519-keys.ts; this file repeats
 * only the key encoding, so the library keeps depending on node:crypto alone.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { WebhookVerificationError } from './verification-error.ts';

export const PUBLIC_KEY_PREFIX = 'whpk_';
const SECRET_KEY_PREFIX = 'whsk_';
// SubjectPublicKeyInfo wraps a raw Ed25519 key in a fixed 12-byte header.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SIGNATURE_BYTES = 64;

/** Whether a verifier secret is an Ed25519 public key (it checks `v1a,`, not `v1,`). */
export function isPublicKey(secret: unknown): secret is string {
  return typeof secret === 'string' && secret.startsWith(PUBLIC_KEY_PREFIX);
}

/**
 * Refuses, as INVALID_OPTIONS, keys no `v1a,` signature can be checked with: a `whsk_` secret key
 * (the sender's; receivers hold the public key) or a `whpk_` key that is not 32 bytes of base64.
 */
export function checkStandardKey(secret: unknown): void {
  if (typeof secret !== 'string') return;
  if (secret.startsWith(SECRET_KEY_PREFIX)) {
    throw new WebhookVerificationError(
      'INVALID_OPTIONS',
      'a whsk_ key is the sender’s Ed25519 secret key: verify with the endpoint’s whpk_ public key',
    );
  }
  if (isPublicKey(secret)) publicKeyObject(secret);
}

const keys = new Map<string, KeyObject>();

/** The KeyObject of a `whpk_` key (imported once per key: a verifier checks many requests). */
export function publicKeyObject(publicKey: string): KeyObject {
  let key = keys.get(publicKey);
  if (!key) {
    const b64 = publicKey.slice(PUBLIC_KEY_PREFIX.length);
    const raw = Buffer.from(b64, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || raw.length !== 32) {
      throw new WebhookVerificationError(
        'INVALID_OPTIONS',
        'a whpk_ key is the base64 of a 32-byte Ed25519 public key',
      );
    }
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (keys.size >= 1000) keys.clear();
    keys.set(publicKey, key);
  }
  return key;
}

/** Whether `signature` (the base64 after `v1a,`) is the key's Ed25519 signature of `signed`. */
export function ed25519Verifies(publicKey: string, signed: Buffer, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  // A malformed entry is just another signature that does not match.
  if (bytes.length !== SIGNATURE_BYTES) return false;
  return verify(null, signed, publicKeyObject(publicKey), bytes);
}
