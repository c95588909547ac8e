/**
 * Ed25519 keys of Standard Webhooks' asymmetric scheme, on the sending side: the secret key
 * `whsk_<base64 of the 32-byte seed>` Herald signs with (stored sealed like every secret) and the
 * public key `whpk_<base64 of the 32-byte raw key>` receivers verify `v1a,` signatures with — the
 * encodings of the specification's reference libraries. node:crypto only.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export const ED25519_SECRET_PREFIX = 'whsk_';
export const ED25519_PUBLIC_PREFIX = 'whpk_';
const SEED_BYTES = 32;

// PKCS#8 wraps a raw Ed25519 seed in a fixed 16-byte header: node:crypto imports it without JWK's
// need for the public half.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Whether a `standard` secret is an Ed25519 secret key (it then signs `v1a,`, not `v1,`). */
export function isEd25519Secret(secret: string): boolean {
  return secret.startsWith(ED25519_SECRET_PREFIX);
}

/**
 * The 32-byte seed of a `whsk_` key, or a sentence saying what is wrong with it.
 *
 * @example ed25519Seed('whsk_' + Buffer.alloc(32, 1).toString('base64')) // Buffer(32)
 */
export function ed25519Seed(secret: string): Buffer | string {
  const b64 = secret.slice(ED25519_SECRET_PREFIX.length);
  const bytes = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || bytes.length !== SEED_BYTES) {
    return `an Ed25519 secret key is ${ED25519_SECRET_PREFIX} followed by the base64 of its ${SEED_BYTES}-byte seed`;
  }
  return bytes;
}

/** @example generateEd25519Secret() // 'whsk_3q2+7w…=' */
export function generateEd25519Secret(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  return `${ED25519_SECRET_PREFIX}${seed.toString('base64')}`;
}

/** Every request of an endpoint signs with the same key: import it once (bounded, like standardKey). */
const privateKeys = new Map<string, KeyObject>();

function privateKeyOf(secret: string): KeyObject {
  let key = privateKeys.get(secret);
  if (!key) {
    const seed = ed25519Seed(secret);
    if (typeof seed === 'string') throw new Error(seed);
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    if (privateKeys.size >= 10_000) privateKeys.clear();
    privateKeys.set(secret, key);
  }
  return key;
}

/**
 * The `whpk_` public key of a `whsk_` secret key: what receivers verify with.
 *
 * @example ed25519PublicKey(generateEd25519Secret()) // 'whpk_…'
 */
export function ed25519PublicKey(secret: string): string {
  const x = privateKeyOf(secret).export({ format: 'jwk' }).x as string;
  return `${ED25519_PUBLIC_PREFIX}${Buffer.from(x, 'base64url').toString('base64')}`;
}

/**
 * One `v1a,` signature: Ed25519 over the same `id.timestamp.body` as `v1,`.
 *
 * @example ed25519Signature(secret, 'msg_1', 1614265330, '{"test": 2432232314}') // 'v1a,…'
 */
export function ed25519Signature(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Buffer,
): string {
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)]);
  return `v1a,${sign(null, signed, privateKeyOf(secret)).toString('base64')}`;
}
