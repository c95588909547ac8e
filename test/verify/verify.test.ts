import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createVerifier,
  VERIFY_PROFILES,
  type VerificationErrorCode,
  verifyWebhook,
  verifyWebhookDetailed,
  WebhookVerificationError,
} from 'herald/verify';
import { CASES, NOW, NOW_S } from './vectors.ts';

function rejects(fn: () => unknown, code: VerificationErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebhookVerificationError, `expected a WebhookVerificationError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('every Herald profile has a verifier', () => {
  assert.deepEqual([...VERIFY_PROFILES].sort(), [
    'altoviz',
    'corrigopro',
    'courier-invoice',
    'invoiceahoy',
    'shipstream',
    'standard',
  ]);
});

for (const c of CASES) {
  describe(`verify ${c.profile}`, () => {
    const base = { profile: c.profile, accountNumber: c.accountNumber, now: NOW };

    test('a correctly signed request verifies and returns the parsed body', () => {
      const { body, headers } = c.sign(c.secret);
      const payload = verifyWebhook({ ...base, secret: c.secret, body, headers });
      assert.deepEqual(payload, JSON.parse(body.toString('utf8')));
      // The same bytes as a string verify too.
      assert.deepEqual(
        verifyWebhook({ ...base, secret: c.secret, body: body.toString('utf8'), headers }),
        payload,
      );
    });

    test('header names are matched in any letter case, also from a fetch Headers', () => {
      const { body, headers } = c.sign(c.secret);
      const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      verifyWebhook({ ...base, secret: c.secret, body, headers: upper });
      verifyWebhook({ ...base, secret: c.secret, body, headers: lower });
      verifyWebhook({ ...base, secret: c.secret, body, headers: new Headers(headers) });
    });

    test('a tampered body is refused', () => {
      const { body, headers } = c.sign(c.secret);
      const tampered = Buffer.from(body.toString('utf8').replace('}', ',"x":1}'));
      const code = c.profile === 'corrigopro' ? null : 'INVALID_SIGNATURE';
      if (code) rejects(() => verifyWebhook({ ...base, secret: c.secret, body: tampered, headers }), code);
      else {
        // A bearer token does not cover the body: that is CorrigoPro's format, and the docs say so.
        assert.ok(verifyWebhook({ ...base, secret: c.secret, body: tampered, headers }));
      }
      // One byte changed anywhere, not only appended.
      const flipped = Buffer.from(body);
      const at = body.indexOf('e', 12); // a letter, so the body stays JSON
      flipped[at] = flipped[at]! ^ 1;
      if (code) rejects(() => verifyWebhook({ ...base, secret: c.secret, body: flipped, headers }), code);
    });

    test('the wrong secret is refused', () => {
      const { body, headers } = c.sign(c.otherSecret);
      rejects(() => verifyWebhook({ ...base, secret: c.secret, body, headers }), 'INVALID_SIGNATURE');
    });

    test('a missing proof header is refused with MISSING_HEADER', () => {
      const { body, headers } = c.sign(c.secret);
      const without = Object.fromEntries(
        Object.entries(headers).filter(([k]) => k.toLowerCase() !== c.header),
      );
      rejects(() => verifyWebhook({ ...base, secret: c.secret, body, headers: without }), 'MISSING_HEADER');
      rejects(
        () => verifyWebhook({ ...base, secret: c.secret, body, headers: { ...without, [c.header]: '' } }),
        'MISSING_HEADER',
      );
    });

    if (c.timed) {
      test('a stale or future timestamp is refused; the tolerance is 5 minutes by default', () => {
        for (const at of [NOW_S - 301, NOW_S + 301]) {
          const { body, headers } = c.sign(c.secret, at);
          rejects(
            () => verifyWebhook({ ...base, secret: c.secret, body, headers }),
            'TIMESTAMP_OUT_OF_TOLERANCE',
          );
          assert.ok(verifyWebhook({ ...base, secret: c.secret, body, headers, tolerance: 400 }));
        }
        const { body, headers } = c.sign(c.secret, NOW_S - 300);
        assert.ok(verifyWebhook({ ...base, secret: c.secret, body, headers }));
        // `now` may be a clock function or epoch milliseconds.
        assert.ok(verifyWebhook({ ...base, now: () => NOW, secret: c.secret, body, headers }));
        assert.ok(verifyWebhook({ ...base, now: NOW.getTime(), secret: c.secret, body, headers }));
      });
    } else {
      test('the format has no timestamp, so an old request still verifies', () => {
        const { body, headers } = c.sign(c.secret);
        assert.ok(
          verifyWebhook({ ...base, now: new Date('2040-01-01T00:00:00Z'), secret: c.secret, body, headers }),
        );
      });
    }

    test('rotation: with two secrets, a request signed with either one verifies', () => {
      for (const signer of [c.secret, c.otherSecret]) {
        const { body, headers } = c.sign(signer);
        assert.ok(verifyWebhook({ ...base, secret: [c.otherSecret, c.secret], body, headers }));
      }
      const { body, headers } = c.sign('neither-of-them-secret');
      rejects(
        () => verifyWebhook({ ...base, secret: [c.otherSecret, c.secret], body, headers }),
        'INVALID_SIGNATURE',
      );
    });

    test('a correctly signed body that is not JSON is refused with INVALID_BODY', () => {
      const { body, headers } = c.sign(c.secret, NOW_S, Buffer.from('not json {'));
      rejects(() => verifyWebhook({ ...base, secret: c.secret, body, headers }), 'INVALID_BODY');
    });

    test('a parsed object instead of the raw body is a usage error', () => {
      const { body, headers } = c.sign(c.secret);
      rejects(
        () =>
          verifyWebhook({
            ...base,
            secret: c.secret,
            body: JSON.parse(body.toString()) as unknown as string,
            headers,
          }),
        'INVALID_OPTIONS',
      );
    });
  });
}

describe('verify standard specifics', () => {
  const c = CASES.find((x) => x.profile === 'standard')!;

  test("Standard Webhooks' published test vector", () => {
    const payload = verifyWebhook({
      profile: 'standard',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      body: '{"test": 2432232314}',
      headers: {
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      },
      now: new Date(1614265330 * 1000),
    });
    assert.deepEqual(payload, { test: 2432232314 });
  });

  test('a rotated request carries two signatures; each key alone verifies it', () => {
    const one = c.sign(c.secret);
    const two = c.sign(c.otherSecret);
    const headers = {
      ...one.headers,
      'webhook-signature': `${one.headers['webhook-signature']} ${two.headers['webhook-signature']}`,
    };
    for (const secret of [c.secret, c.otherSecret]) {
      assert.ok(verifyWebhook({ profile: 'standard', secret, body: one.body, headers, now: NOW }));
    }
    rejects(
      () =>
        verifyWebhook({ profile: 'standard', secret: 'whsec_AAAAAAAA', body: one.body, headers, now: NOW }),
      'INVALID_SIGNATURE',
    );
  });

  test('unknown signature versions are skipped; none at all is INVALID_HEADER', () => {
    const { body, headers } = c.sign(c.secret);
    const mixed = { ...headers, 'webhook-signature': `v1a,abc ${headers['webhook-signature']}` };
    assert.ok(verifyWebhook({ profile: 'standard', secret: c.secret, body, headers: mixed, now: NOW }));
    rejects(
      () =>
        verifyWebhook({
          profile: 'standard',
          secret: c.secret,
          body,
          headers: { ...headers, 'webhook-signature': 'v2,abc' },
          now: NOW,
        }),
      'INVALID_HEADER',
    );
  });

  test('a malformed timestamp is INVALID_HEADER; a missing id is MISSING_HEADER', () => {
    const { body, headers } = c.sign(c.secret);
    rejects(
      () =>
        verifyWebhook({
          profile: 'standard',
          secret: c.secret,
          body,
          headers: { ...headers, 'webhook-timestamp': '2026-03-01' },
          now: NOW,
        }),
      'INVALID_HEADER',
    );
    const { 'webhook-id': _, ...noId } = headers;
    rejects(
      () => verifyWebhook({ profile: 'standard', secret: c.secret, body, headers: noId, now: NOW }),
      'MISSING_HEADER',
    );
  });

  test('the detailed result names the message id, event type and signing time', () => {
    const { body, headers } = c.sign(c.secret);
    const v = verifyWebhookDetailed({ profile: 'standard', secret: c.secret, body, headers, now: NOW });
    assert.equal(v.id, 'msg_1');
    assert.equal(v.eventType, 'invoice.created');
    assert.equal(v.signedAt?.getTime(), NOW_S * 1000);
  });
});

describe('verify courier-invoice specifics', () => {
  const c = CASES.find((x) => x.profile === 'courier-invoice')!;

  test('the account number is part of the signed message', () => {
    const { body, headers } = c.sign(c.secret);
    const opts = { profile: 'courier-invoice', secret: c.secret, body, headers, now: NOW };
    rejects(() => verifyWebhook({ ...opts, accountNumber: '1043' }), 'INVALID_SIGNATURE');
    rejects(() => verifyWebhook(opts), 'INVALID_OPTIONS');
    assert.ok(verifyWebhook({ ...opts, accountNumber: 1042 }));
  });

  test('a body without an integer timestamp is INVALID_BODY', () => {
    for (const text of ['{"Data":[]}', '{"timestamp":"1","Data":[]}', '{"timestamp":1.5,"Data":[]}', '[]']) {
      const { body, headers } = c.sign(c.secret, NOW_S, Buffer.from(text));
      rejects(
        () =>
          verifyWebhook({
            profile: 'courier-invoice',
            secret: c.secret,
            accountNumber: '1042',
            body,
            headers,
          }),
        'INVALID_BODY',
      );
    }
  });

  test('the signature is checked over the exact bytes: re-encoding the same JSON does not verify', () => {
    const { body, headers } = c.sign(c.secret);
    const reencoded = JSON.stringify(JSON.parse(body.toString())); // "é" instead of "\u00e9", "/" for "\/"
    assert.notEqual(reencoded, body.toString());
    rejects(
      () =>
        verifyWebhook({
          profile: 'courier-invoice',
          secret: c.secret,
          accountNumber: '1042',
          body: reencoded,
          headers,
          now: NOW,
        }),
      'INVALID_SIGNATURE',
    );
  });

  test('hex is compared case-insensitively', () => {
    const { body, headers } = c.sign(c.secret);
    const upper = { 'X-CI-AUTH': headers['X-CI-AUTH']!.toUpperCase() };
    assert.ok(
      verifyWebhook({
        profile: 'courier-invoice',
        secret: c.secret,
        accountNumber: '1042',
        body,
        headers: upper,
        now: NOW,
      }),
    );
  });
});

describe('verify corrigopro specifics', () => {
  test('the scheme must be Bearer (any case); another scheme is INVALID_HEADER', () => {
    const body = '{"Header":{"Action":"WoCreated","MessageId":"m1"}}';
    const ok = verifyWebhookDetailed({
      profile: 'corrigopro',
      secret: 'tok',
      body,
      headers: { authorization: 'bearer tok' },
    });
    assert.equal(ok.eventType, 'WoCreated');
    assert.equal(ok.id, 'm1');
    rejects(
      () =>
        verifyWebhook({
          profile: 'corrigopro',
          secret: 'tok',
          body,
          headers: { authorization: 'Basic dG9r' },
        }),
      'INVALID_HEADER',
    );
    rejects(
      () =>
        verifyWebhook({
          profile: 'corrigopro',
          secret: 'tok',
          body,
          headers: { authorization: 'Bearer tok2' },
        }),
      'INVALID_SIGNATURE',
    );
  });
});

describe('verify options', () => {
  test('an unknown profile is UNKNOWN_PROFILE, at set-up time too', () => {
    rejects(
      () => verifyWebhook({ profile: 'stripe', secret: 's', body: '{}', headers: {} }),
      'UNKNOWN_PROFILE',
    );
    rejects(() => createVerifier({ profile: '__proto__', secret: 's' }), 'UNKNOWN_PROFILE');
  });

  test('an empty secret or a negative tolerance is INVALID_OPTIONS', () => {
    rejects(() => createVerifier({ profile: 'altoviz', secret: '' }), 'INVALID_OPTIONS');
    rejects(() => createVerifier({ profile: 'altoviz', secret: [] }), 'INVALID_OPTIONS');
    rejects(
      () => createVerifier({ profile: 'standard', secret: 'whsec_AAAA', tolerance: -1 }),
      'INVALID_OPTIONS',
    );
  });

  test('createVerifier binds the settings once', () => {
    const c = CASES.find((x) => x.profile === 'altoviz')!;
    const verifier = createVerifier({ profile: 'altoviz', secret: c.secret });
    const { body, headers } = c.sign(c.secret);
    assert.deepEqual(verifier.verify(body, headers), JSON.parse(body.toString()));
    assert.equal(verifier.verifyDetailed(body, headers).eventType, 'CustomerCreated');
  });
});
