/**
 * Herald's verifier against other senders and receivers: the `standardwebhooks` library both ways,
 * and Herald's own profile renderers (src/profiles/) round-tripped through verify.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  type VerificationErrorCode,
  verifyWebhook,
  verifyWebhookDetailed,
  WebhookVerificationError,
} from 'herald/verify';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { altovizProfile } from '../../src/profiles/altoviz.ts';
import { corrigoProProfile } from '../../src/profiles/corrigopro.ts';
import { courierInvoiceProfile } from '../../src/profiles/courier-invoice.ts';
import { invoiceAhoyProfile } from '../../src/profiles/invoiceahoy.ts';
import type { Profile, RenderInput } from '../../src/profiles/profile.ts';
import { shipStreamProfile } from '../../src/profiles/shipstream.ts';
import { standardProfile } from '../../src/profiles/standard.ts';

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;

function rejects(fn: () => unknown, code: VerificationErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof WebhookVerificationError && err.code === code);
}

describe('verify standard ⇄ standardwebhooks', () => {
  const body = JSON.stringify({
    type: 'invoice.paid',
    timestamp: '2026-03-01T12:00:00.000Z',
    data: { a: 'é/' },
  });

  test('signed by the standardwebhooks library, verified by Herald', () => {
    const secret = whsec();
    const now = new Date();
    const signature = new StandardWebhook(secret).sign('msg_lib', now, body);
    const headers = {
      'webhook-id': 'msg_lib',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    };
    assert.deepEqual(verifyWebhook({ profile: 'standard', secret, body, headers }), JSON.parse(body));
    rejects(
      () => verifyWebhook({ profile: 'standard', secret: whsec(), body, headers }),
      'INVALID_SIGNATURE',
    );
    rejects(
      () => verifyWebhook({ profile: 'standard', secret, body: body.replace('é', 'e'), headers }),
      'INVALID_SIGNATURE',
    );
  });

  test('signed by Herald (the standard profile, during a rotation), verified by the library and by Herald', () => {
    const current = whsec();
    const previous = whsec();
    const rendered = standardProfile.render(renderInput({ current, previous }));
    for (const secret of [current, previous]) {
      const lib = new StandardWebhook(secret).verify(rendered.body, rendered.headers);
      const ours = verifyWebhook({
        profile: 'standard',
        secret,
        body: rendered.body,
        headers: rendered.headers,
      });
      assert.deepEqual(ours, lib);
    }
    // What the library refuses, Herald refuses.
    const other = whsec();
    assert.throws(() => new StandardWebhook(other).verify(rendered.body, rendered.headers));
    rejects(
      () =>
        verifyWebhook({ profile: 'standard', secret: other, body: rendered.body, headers: rendered.headers }),
      'INVALID_SIGNATURE',
    );
  });
});

function renderInput(
  secrets: { current: string; previous?: string },
  options: Record<string, unknown> = {},
): RenderInput {
  return {
    endpoint: { id: 'ep_01ROUNDTRIP', options, secrets },
    sequence: 12,
    attempt: 1,
    events: [
      {
        id: 'evt_1',
        type: 'invoice.created',
        data: { invoice: 'in/1', total: 12.5, note: 'café ünï' },
        occurredAt: null,
        createdAt: new Date(),
      },
    ],
    clock: { now: () => new Date() },
  };
}

describe('round trip: render with each profile, verify with herald/verify', () => {
  const cases: { profile: Profile; secret: string; accountNumber?: string }[] = [
    { profile: standardProfile, secret: whsec() },
    { profile: courierInvoiceProfile, secret: 'courier-private-key', accountNumber: 'ACC-77' },
    { profile: invoiceAhoyProfile, secret: 'ia-secret-key' },
    { profile: shipStreamProfile, secret: 'shipstream-secret' },
    { profile: altovizProfile, secret: 'altoviz-secret' },
  ];
  for (const c of cases) {
    test(c.profile.name, () => {
      const input = renderInput(
        { current: c.secret },
        c.accountNumber ? { accountNumber: c.accountNumber } : {},
      );
      const { body, headers } = c.profile.render(input);
      const opts = {
        profile: c.profile.name,
        secret: c.secret,
        headers,
        ...(c.accountNumber ? { accountNumber: c.accountNumber } : {}),
      };
      const payload = verifyWebhook({ ...opts, body });
      assert.deepEqual(payload, JSON.parse(body.toString()));
      const wrong = c.profile.name === 'standard' ? whsec() : `${c.secret}x`;
      rejects(() => verifyWebhook({ ...opts, secret: wrong, body }), 'INVALID_SIGNATURE');
      const tampered = body.toString().replace('in/1', 'in/2').replace('in\\/1', 'in\\/2');
      assert.notEqual(tampered, body.toString());
      rejects(() => verifyWebhook({ ...opts, body: tampered }), 'INVALID_SIGNATURE');
    });
  }
});

test('round trip corrigopro: the rendered body and Event-Type, with the bearer token the sender adds', () => {
  const token = 'corrigo-static-token';
  const { body, headers } = corrigoProProfile.render(renderInput({ current: 'unused-secret' }));
  // The sender adds Authorization from the endpoint's auth (src/delivery), not the profile.
  const sent = { ...headers, authorization: `Bearer ${token}` };
  const v = verifyWebhookDetailed({ profile: 'corrigopro', secret: token, body, headers: sent });
  assert.deepEqual(v.payload, JSON.parse(body.toString()));
  assert.equal(v.eventType, 'invoice.created');
  assert.match(v.id ?? '', /^[0-9a-f-]{36}$/);
  rejects(
    () => verifyWebhook({ profile: 'corrigopro', secret: 'other-token', body, headers: sent }),
    'INVALID_SIGNATURE',
  );
  rejects(() => verifyWebhook({ profile: 'corrigopro', secret: token, body, headers }), 'MISSING_HEADER');
});
