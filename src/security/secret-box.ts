/**
 * Encryption of secrets at rest (endpoint secrets, auth tokens, OAuth client secrets) with
 * AES-256-GCM under HERALD_ENCRYPTION_KEY. Stored form: `v1:<iv>:<tag>:<ciphertext>`, base64url,
 * so a future key or algorithm change can be recognised per value.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretBox {
  /** Encrypts under the current key. */
  seal(plain: string): string;
  /** Decrypts with the current key, or else with any previous key. */
  open(sealed: string): string;
  /**
   * For a key rotation: the value sealed under the current key, or `undefined` when it already is.
   * Throws when no key opens it.
   */
  reseal(sealed: string): string | undefined;
}

export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

function keyBytes(base64Key: string): Buffer {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
  return key;
}

function openWith(key: Buffer, sealed: string): string | undefined {
  const [version, iv, tag, ct] = sealed.split(':');
  if (version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unrecognised sealed secret');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // GCM's tag check fails for any other key: that is how the key a value was sealed with is found.
    return undefined;
  }
}

/**
 * A box over the current key and, while a rotation is under way, the keys it replaces (they decrypt
 * only). The stored form carries no key id: GCM's authentication tag tells which key fits.
 *
 * @example createSecretBox(process.env.HERALD_ENCRYPTION_KEY, [oldKey]).open(row.secret_enc)
 */
export function createSecretBox(base64Key: string, previousKeys: readonly string[] = []): SecretBox {
  const key = keyBytes(base64Key);
  const previous = previousKeys.map(keyBytes);
  function openAny(sealed: string): { plain: string; current: boolean } {
    const plain = openWith(key, sealed);
    if (plain !== undefined) return { plain, current: true };
    for (const old of previous) {
      const p = openWith(old, sealed);
      if (p !== undefined) return { plain: p, current: false };
    }
    throw new Error('sealed secret does not open with the encryption key (nor any previous key)');
  }
  function seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ct.toString('base64url')}`;
  }
  return {
    seal,
    open: (sealed) => openAny(sealed).plain,
    reseal(sealed) {
      const { plain, current } = openAny(sealed);
      return current ? undefined : seal(plain);
    },
  };
}
