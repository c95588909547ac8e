/**
 * Endpoint signing secrets. Herald generates Standard Webhooks secrets (`whsec_` + base64 of 32
 * random bytes), or for the `ed25519` signature scheme an Ed25519 secret key (`whsk_`); a caller may
 * bring its own, e.g. the "private API key" a Courier Invoice receiver already holds. Secrets are
 * stored sealed (src/security/secret-box.ts), never in plain text.
 *
 * The secret decides the scheme, as in Svix and the Standard Webhooks libraries: a `standard`
 * endpoint whose secret is a `whsk_` key signs `v1a,` (Ed25519), any other signs `v1,` (HMAC). A
 * receiver of an Ed25519 endpoint never needs the secret key: what the API shows in its place is
 * the `whpk_` public key (`receiverKey`).
 */
import { randomBytes } from 'node:crypto';
import { invalid } from '../core/errors.ts';
import {
  ED25519_PUBLIC_PREFIX,
  ED25519_SECRET_PREFIX,
  ed25519PublicKey,
  ed25519Seed,
  generateEd25519Secret,
  isEd25519Secret,
} from '../profiles/ed25519-keys.ts';
import type { ProfileName } from '../profiles/profile-names.ts';

/** How a `standard` endpoint signs: `v1,` HMAC-SHA256 (the default) or `v1a,` Ed25519. */
export const SIGNATURE_SCHEMES = ['hmac-sha256', 'ed25519'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const MIN_SECRET_LENGTH = 8;
export const MAX_SECRET_LENGTH = 256;
/** The least key material a Standard Webhooks secret must decode to. */
export const MIN_STANDARD_KEY_BYTES = 16;

/** @example generateSecret() // 'whsec_2a3Zk…=';  generateSecret('ed25519') // 'whsk_…' */
export function generateSecret(scheme: SignatureScheme = 'hmac-sha256'): string {
  return scheme === 'ed25519' ? generateEd25519Secret() : `whsec_${randomBytes(32).toString('base64')}`;
}

/** The scheme a secret signs with under `profile` (only `standard` has a choice). */
export function signatureSchemeOf(secret: string, profile: ProfileName): SignatureScheme {
  return profile === 'standard' && isEd25519Secret(secret) ? 'ed25519' : 'hmac-sha256';
}

/**
 * What a receiver verifies with: the `whpk_` public key of an Ed25519 secret key, else the secret
 * itself. Answers show this, so the secret key of an Ed25519 endpoint never leaves Herald.
 */
export function receiverKey(secret: string, profile: ProfileName): string {
  return signatureSchemeOf(secret, profile) === 'ed25519' ? ed25519PublicKey(secret) : secret;
}

/** The `whpk_` key stored beside an Ed25519 endpoint's sealed secret (null for HMAC). */
export function publicKeyColumn(secret: string, profile: ProfileName): string | null {
  return signatureSchemeOf(secret, profile) === 'ed25519' ? ed25519PublicKey(secret) : null;
}

/**
 * The secret to store for a create or a rotation: the caller's (validated; `scheme`, when also
 * given, must be the one it signs with) or a generated one of `scheme`.
 *
 * @example resolveSecret({ signatureScheme: 'ed25519' }, 'standard') // 'whsk_…'
 */
export function resolveSecret(
  input: { secret?: string | undefined; signatureScheme?: SignatureScheme | undefined },
  profile: ProfileName,
  fallbackScheme: SignatureScheme = 'hmac-sha256',
): string {
  const { secret, signatureScheme } = input;
  if (signatureScheme === 'ed25519' && profile !== 'standard') {
    throw invalid('signatureScheme', `ed25519 is a scheme of the standard profile, not of ${profile}`);
  }
  if (secret === undefined) {
    return generateSecret(profile === 'standard' ? (signatureScheme ?? fallbackScheme) : 'hmac-sha256');
  }
  validateSecret(secret, profile);
  if (signatureScheme !== undefined && signatureSchemeOf(secret, profile) !== signatureScheme) {
    throw invalid(
      'signatureScheme',
      `is ${signatureScheme} but the secret given is ${signatureScheme === 'ed25519' ? 'not a whsk_ Ed25519 key' : 'a whsk_ Ed25519 key'}`,
    );
  }
  return secret;
}

/**
 * Refuses (with `path`) a key a receiver cannot verify `standard` deliveries with: `whpk_` must be
 * the base64 of a 32-byte Ed25519 public key; a `whsk_` secret key belongs to the sender.
 */
export function validateReceiverKey(key: string, path: string): void {
  if (key.startsWith(ED25519_SECRET_PREFIX)) {
    throw invalid(
      path,
      `a whsk_ key is the sender's secret key: verify with its ${ED25519_PUBLIC_PREFIX} public key`,
    );
  }
  if (key.startsWith(ED25519_PUBLIC_PREFIX)) {
    const b64 = key.slice(ED25519_PUBLIC_PREFIX.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || Buffer.from(b64, 'base64').length !== 32) {
      throw invalid(path, 'a whpk_ key is the base64 of a 32-byte Ed25519 public key');
    }
    return;
  }
  validateSecret(key, 'standard', path);
}

/**
 * Refuses (VALIDATION_FAILED) a caller-chosen secret the profile cannot sign with: any secret is
 * printable ASCII of 8..256 characters; a `standard` secret is also base64 (optionally `whsec_`
 * prefixed), because Standard Webhooks keys with its decoded bytes, or an Ed25519 `whsk_` key —
 * which no other profile accepts, so that prefix always means Ed25519.
 *
 * @example validateSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'standard')
 */
export function validateSecret(secret: string, profile: ProfileName, path = 'secret'): void {
  if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH) {
    throw invalid(path, `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`);
  }
  if (!/^[\u0021-\u007e]+$/.test(secret)) {
    throw invalid(path, 'must be printable ASCII without spaces');
  }
  if (isEd25519Secret(secret)) {
    if (profile !== 'standard') {
      throw invalid(path, `a whsk_ Ed25519 key signs only with the standard profile, not ${profile}`);
    }
    const seed = ed25519Seed(secret);
    if (typeof seed === 'string') throw invalid(path, seed);
    return;
  }
  if (profile === 'standard') {
    const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    const bytes = Buffer.from(b64, 'base64');
    const unpadded = (s: string) => s.replace(/=+$/, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || unpadded(bytes.toString('base64')) !== unpadded(b64)) {
      throw invalid(
        path,
        'a standard-profile secret must be base64, optionally prefixed with whsec_, or an Ed25519 whsk_ key',
      );
    }
    if (bytes.length < MIN_STANDARD_KEY_BYTES) {
      throw invalid(
        path,
        `a standard-profile secret must decode to at least ${MIN_STANDARD_KEY_BYTES} bytes`,
      );
    }
  }
}
