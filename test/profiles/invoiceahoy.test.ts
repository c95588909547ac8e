/**
 * invoiceahoy: golden bytes, and the verification snippet of InvoiceAhoy's document, run as written.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { invoiceAhoyProfile } from '../../src/profiles/invoiceahoy.ts';
import { event, renderInput } from './profile-input.ts';

const SECRET = 'ia_secret_key_123';

/** InvoiceAhoy's "Verifying a request", unchanged but for returning the verdict. */
export function invoiceAhoyVerifies(
  req: { headers: Record<string, string | string[] | undefined> },
  payload: string,
  secret: string,
): boolean {
  const signature = req.headers['x-ia-signature'];
  const hash = crypto.createHmac('sha256', secret).update(payload).digest('hex');
  if (hash === signature) {
    return true; // Request is verified
  }
  return false; // Request could not be verified
}

const invoiceUpdated = () =>
  renderInput({
    secret: SECRET,
    events: [event('a056V7R7NmNRjl70', 'invoice.updated', { id: 'WAz8eIbvDR60rouK', total: 12.5 })],
  });

test('golden bytes: {"id","type","payload"} and x-ia-signature, the hex HMAC of the body', () => {
  const out = invoiceAhoyProfile.render(invoiceUpdated());
  assert.equal(
    out.body,
    '{"id":"a056V7R7NmNRjl70","type":"invoice.updated","payload":{"id":"WAz8eIbvDR60rouK","total":12.5}}',
  );
  assert.deepEqual(out.headers, {
    'content-type': 'application/json',
    'x-ia-signature': 'b7c42473f4ff556b18900d5b832db45bf7353eb01793594fdf4d2c2e62d81571',
  });
});

test("the document's Node snippet verifies it; another secret or body does not", () => {
  const out = invoiceAhoyProfile.render(invoiceUpdated());
  const body = String(out.body);
  assert.ok(invoiceAhoyVerifies(out, body, SECRET));
  assert.ok(!invoiceAhoyVerifies(out, body, 'another_secret'));
  assert.ok(!invoiceAhoyVerifies(out, body.replace('12.5', '13.5'), SECRET));
});

test('one event per request', () => {
  const two = renderInput({ secret: SECRET, events: [event('a', 't', {}), event('b', 't', {})] });
  assert.throws(() => invoiceAhoyProfile.render(two), /one event per request/);
});
