/**
 * Standard Webhooks' asymmetric scheme in the verify library: `v1a,` signatures checked with a
 * `whpk_` public key. The signing here is node:crypto alone (not Herald's sender), so the verifier
 * is checked against an independent implementation of the specification; test/profiles/
 * standard-ed25519.test.ts checks Herald's sender against this verifier and the reference vector.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { test } from 'node:test';
import { type VerificationErrorCode, verifyWebhook, WebhookVerificationError } from 'herald/verify';
import { NOW, NOW_S } from './vectors.ts';

function rejects(fn: () => unknown, code: VerificationErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebhookVerificationError, `expected a WebhookVerificationError, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** A key pair as a receiver would be handed its public half: `whpk_` + base64 of the raw 32 bytes. */
function keyPair(): { privateKey: KeyObject; whpk: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return { privateKey, whpk: `whpk_${raw.toString('base64')}` };
}

const BODY = Buffer.from(
  JSON.stringify({ type: 'invoice.paid', timestamp: NOW.toISOString(), data: { n: 1 } }),
);

function signed(keys: KeyObject[], body = BODY, at = NOW_S) {
  const content = Buffer.concat([Buffer.from(`msg_1.${at}.`), body]);
  return {
    body,
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(at),
      'webhook-signature': keys.map((k) => `v1a,${sign(null, content, k).toString('base64')}`).join(' '),
    },
  };
}

const A = keyPair();
const B = keyPair();
const verify = (secret: string | string[], msg: ReturnType<typeof signed>) =>
  verifyWebhook({ profile: 'standard', secret, ...msg, now: NOW });

test('a v1a signature made with node:crypto verifies with the whpk_ key', () => {
  assert.deepEqual(verify(A.whpk, signed([A.privateKey])), JSON.parse(BODY.toString()));
});

test('a tampered body, a tampered signature or another key is INVALID_SIGNATURE', () => {
  const msg = signed([A.privateKey]);
  rejects(
    () => verify(A.whpk, { ...msg, body: Buffer.from(BODY.toString().replace('1', '2')) }),
    'INVALID_SIGNATURE',
  );
  rejects(() => verify(B.whpk, msg), 'INVALID_SIGNATURE');
  const sig = msg.headers['webhook-signature'];
  const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
  rejects(
    () => verify(A.whpk, { ...msg, headers: { ...msg.headers, 'webhook-signature': flipped } }),
    'INVALID_SIGNATURE',
  );
  // Not 64 bytes: just a signature that does not match.
  rejects(
    () => verify(A.whpk, { ...msg, headers: { ...msg.headers, 'webhook-signature': 'v1a,AAAA' } }),
    'INVALID_SIGNATURE',
  );
  // The timestamp and id are signed too.
  rejects(
    () => verify(A.whpk, { ...msg, headers: { ...msg.headers, 'webhook-id': 'msg_2' } }),
    'INVALID_SIGNATURE',
  );
});

test('rotation overlap: a header with both keys’ signatures verifies with either public key', () => {
  const both = signed([B.privateKey, A.privateKey]);
  assert.ok(verify(A.whpk, both));
  assert.ok(verify(B.whpk, both));
  // The receiver may hold both while it switches; a third key alone does not verify.
  assert.ok(verify([keyPair().whpk, B.whpk], both));
  rejects(() => verify(keyPair().whpk, both), 'INVALID_SIGNATURE');
});

test('v1 and v1a side by side (a rotation from HMAC to Ed25519): each key checks its own entries', () => {
  const msg = signed([A.privateKey]);
  const withV1 = {
    ...msg,
    headers: { ...msg.headers, 'webhook-signature': `v1,AAAA ${msg.headers['webhook-signature']}` },
  };
  assert.ok(verify(A.whpk, withV1));
  rejects(() => verify('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', withV1), 'INVALID_SIGNATURE');
  assert.ok(verify(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', A.whpk], withV1));
});

test('the timestamp tolerance applies to v1a as to v1', () => {
  rejects(() => verify(A.whpk, signed([A.privateKey], BODY, NOW_S - 301)), 'TIMESTAMP_OUT_OF_TOLERANCE');
});

test('a header without the entries the keys check is INVALID_HEADER, saying which key fits', () => {
  const msg = signed([A.privateKey]);
  rejects(
    () => verify('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', msg),
    'INVALID_HEADER',
    /no v1 signature .*whpk_/,
  );
  const v1Only = { ...msg, headers: { ...msg.headers, 'webhook-signature': 'v1,AAAA' } };
  rejects(() => verify(A.whpk, v1Only), 'INVALID_HEADER', /no v1a signature/);
});

test('a whsk_ secret key or a malformed whpk_ key is INVALID_OPTIONS', () => {
  const msg = signed([A.privateKey]);
  const seed = `whsk_${Buffer.alloc(32, 1).toString('base64')}`;
  rejects(() => verify(seed, msg), 'INVALID_OPTIONS', /whpk_ public key/);
  rejects(() => verify('whpk_c2hvcnQ=', msg), 'INVALID_OPTIONS', /32-byte/);
  rejects(() => verify(`whpk_${'!'.repeat(44)}`, msg), 'INVALID_OPTIONS', /32-byte/);
});
