/**
 * Endpoint signing secrets. Herald generates Standard Webhooks secrets (`whsec_` + base64 of 32
 * random bytes); a caller may bring its own, e.g. the "private API key" a Courier Invoice receiver
 * already holds. Secrets are stored sealed (src/security/secret-box.ts), never in plain text.
 */
import { randomBytes } from 'node:crypto';
import { invalid } from '../core/errors.ts';
import type { ProfileName } from '../profiles/profile-names.ts';

export const MIN_SECRET_LENGTH = 8;
export const MAX_SECRET_LENGTH = 256;
/** The least key material a Standard Webhooks secret must decode to. */
export const MIN_STANDARD_KEY_BYTES = 16;

/** @example generateSecret() // 'whsec_2a3Zk…=' */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Refuses (VALIDATION_FAILED) a caller-chosen secret the profile cannot sign with: any secret is
 * printable ASCII of 8..256 characters; a `standard` secret is also base64 (optionally `whsec_`
 * prefixed), because Standard Webhooks keys with its decoded bytes.
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
  if (profile === 'standard') {
    const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    const bytes = Buffer.from(b64, 'base64');
    const unpadded = (s: string) => s.replace(/=+$/, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || unpadded(bytes.toString('base64')) !== unpadded(b64)) {
      throw invalid(path, 'a standard-profile secret must be base64, optionally prefixed with whsec_');
    }
    if (bytes.length < MIN_STANDARD_KEY_BYTES) {
      throw invalid(
        path,
        `a standard-profile secret must decode to at least ${MIN_STANDARD_KEY_BYTES} bytes`,
      );
    }
  }
}
