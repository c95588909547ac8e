/**
 * The standard profile signing with Ed25519 (`v1a,`) when the endpoint's secret is a `whsk_` key:
 * the Standard Webhooks reference libraries' test vector, a rendered request checked by the verify
 * library and by node:crypto directly, and the rotation overlap (Ed25519 → Ed25519, HMAC → Ed25519).
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { test } from 'node:test';
import { verifyWebhook, WebhookVerificationError } from 'herald/verify';
import {
  ed25519PublicKey,
  ed25519Signature,
  generateEd25519Secret,
} from '../../src/profiles/ed25519-keys.ts';
import type { RenderedRequest } from '../../src/profiles/profile.ts';
import { standardProfile } from '../../src/profiles/standard.ts';
import { event, FIXED_NOW, FIXED_UNIX, renderInput } from './profile-input.ts';

function render(secret: string, previous?: string): RenderedRequest {
  return standardProfile.render(
    renderInput({
      secret,
      ...(previous ? { previous } : {}),
      events: [event('evt_1', 'invoice.paid', { amount: 12.5, note: 'café' })],
    }),
  );
}

function verifies(key: string, req: RenderedRequest): boolean {
  try {
    verifyWebhook({ profile: 'standard', secret: key, body: req.body, headers: req.headers, now: FIXED_NOW });
    return true;
  } catch (err) {
    assert.ok(err instanceof WebhookVerificationError, String(err));
    return false;
  }
}

test('the Standard Webhooks reference vector: the same seed, message and time give the same v1a signature', () => {
  // From the specification's reference Go library (libraries/go/webhook_asymmetric_test.go).
  const secret = 'whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=';
  assert.equal(
    ed25519Signature(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    'v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==',
  );
});

test('generated keys: whsk_ + a 32-byte seed, and the whpk_ public key of 32 bytes', () => {
  const secret = generateEd25519Secret();
  assert.match(secret, /^whsk_[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(generateEd25519Secret(), secret);
  assert.match(ed25519PublicKey(secret), /^whpk_[A-Za-z0-9+/]{43}=$/);
});

test('a whsk_ endpoint sends one v1a signature over id.timestamp.body, checked by node:crypto directly', () => {
  const secret = generateEd25519Secret();
  const req = render(secret);
  assert.equal(req.headers['webhook-id'], 'evt_1');
  assert.equal(req.headers['webhook-timestamp'], String(FIXED_UNIX));
  const [entry, ...rest] = req.headers['webhook-signature']!.split(' ');
  assert.deepEqual(rest, []);
  assert.match(entry!, /^v1a,/);
  // A receiver with nothing but the raw public key and the specification.
  const raw = Buffer.from(ed25519PublicKey(secret).slice('whpk_'.length), 'base64');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  const content = Buffer.from(`evt_1.${FIXED_UNIX}.${req.body}`);
  const signature = Buffer.from(entry!.slice('v1a,'.length), 'base64');
  assert.ok(cryptoVerify(null, content, key, signature));
  assert.ok(!cryptoVerify(null, Buffer.from(`evt_1.${FIXED_UNIX}.${req.body} `), key, signature));
});

test('the verify library: the endpoint’s whpk_ key verifies, a tampered body or another key does not', () => {
  const secret = generateEd25519Secret();
  const req = render(secret);
  assert.ok(verifies(ed25519PublicKey(secret), req));
  assert.ok(!verifies(ed25519PublicKey(secret), { ...req, body: String(req.body).replace('12.5', '125') }));
  assert.ok(!verifies(ed25519PublicKey(generateEd25519Secret()), req));
});

test('rotation overlap: both Ed25519 keys sign, and each public key verifies', () => {
  const old = generateEd25519Secret();
  const current = generateEd25519Secret();
  const req = render(current, old);
  const entries = req.headers['webhook-signature']!.split(' ');
  assert.equal(entries.length, 2);
  assert.ok(entries.every((e) => e.startsWith('v1a,')));
  assert.ok(verifies(ed25519PublicKey(current), req));
  assert.ok(verifies(ed25519PublicKey(old), req));
  assert.ok(!verifies(ed25519PublicKey(generateEd25519Secret()), req));
});

test('rotation from HMAC to Ed25519: v1 and v1a side by side, the old whsec_ and the new whpk_ both verify', () => {
  const old = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
  const current = generateEd25519Secret();
  const req = render(current, old);
  const versions = req.headers['webhook-signature']!.split(' ').map((e) => e.slice(0, e.indexOf(',')));
  assert.deepEqual(versions, ['v1a', 'v1']);
  assert.ok(verifies(old, req));
  assert.ok(verifies(ed25519PublicKey(current), req));
});
