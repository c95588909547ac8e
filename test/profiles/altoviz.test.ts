/**
 * altoviz: golden bytes, and the check Altoviz documents (HMAC-SHA256 of the body with the webhook
 * secret, compared with X-SIGNATURE).
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { test } from 'node:test';
import { altovizProfile } from '../../src/profiles/altoviz.ts';
import { event, renderInput } from './profile-input.ts';

const SECRET = 'av_secret_key_123';

const customerCreated = () =>
  renderInput({
    secret: SECRET,
    endpointId: 'ep_1233',
    events: [event('msg_4', 'CustomerCreated', { id: 370, companyName: 'Auchan hypermarché', value: 0.0 })],
  });

/** Altoviz's three steps: extract X-SIGNATURE, HMAC-SHA256 the body with the secret, compare. */
function altovizVerifies(headers: Record<string, string>, body: string, secret: string): boolean {
  const extracted = Buffer.from(headers['x-signature'] ?? '', 'hex');
  const calculated = createHmac('sha256', secret).update(body).digest();
  return extracted.length === calculated.length && timingSafeEqual(extracted, calculated);
}

test('golden bytes: {"id": endpoint id, "type", "data"} and X-SIGNATURE, the hex HMAC of the body', () => {
  const out = altovizProfile.render(customerCreated());
  assert.equal(
    out.body,
    '{"id":"ep_1233","type":"CustomerCreated","data":{"id":370,"companyName":"Auchan hypermarché","value":0}}',
  );
  assert.deepEqual(out.headers, {
    'content-type': 'application/json',
    'x-signature': '026584d231ef23fff91a4578d980913c5a7050d59abe7ad7548ce90d2e882ab9',
  });
});

test('the documented check verifies it; another secret or body does not', () => {
  const out = altovizProfile.render(customerCreated());
  const body = String(out.body);
  assert.ok(altovizVerifies(out.headers, body, SECRET));
  assert.ok(!altovizVerifies(out.headers, body, 'other_secret'));
  assert.ok(!altovizVerifies(out.headers, body.replace('370', '371'), SECRET));
});
