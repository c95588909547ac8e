import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import type { RenderInput } from '../../src/profiles/profile.ts';
import { standardProfile, standardSignature } from '../../src/profiles/standard.ts';
import { newSecret } from '../support/delivery-fixtures.ts';

function input(
  overrides: Partial<RenderInput> & { secret?: string; previous?: string; now?: Date } = {},
): RenderInput {
  const now = overrides.now ?? new Date();
  return {
    endpoint: {
      id: 'ep_1',
      options: {},
      secrets: {
        current: overrides.secret ?? newSecret(),
        ...(overrides.previous ? { previous: overrides.previous } : {}),
      },
    },
    sequence: 7,
    attempt: 2,
    events: [
      {
        id: 'msg_2Kx',
        type: 'invoice.paid',
        data: { invoice: 'in_1', amount: 1250, note: 'café / ünïcode' },
        occurredAt: new Date('2024-05-01T12:00:00.000Z'),
        createdAt: new Date('2024-05-01T12:00:01.000Z'),
      },
    ],
    clock: { now: () => now },
    ...overrides,
  };
}

test('signature matches the Standard Webhooks reference example', () => {
  // The example from the Standard Webhooks specification (and Svix's documentation).
  assert.equal(
    standardSignature(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    ),
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  );
});

test('golden bytes: body and headers for a fixed secret, time and event', () => {
  const out = standardProfile.render(
    input({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', now: new Date('2024-05-01T12:00:05.900Z') }),
  );
  assert.equal(
    out.body,
    '{"type":"invoice.paid","timestamp":"2024-05-01T12:00:00.000Z","data":{"invoice":"in_1","amount":1250,"note":"café / ünïcode"}}',
  );
  assert.deepEqual(out.headers, {
    'content-type': 'application/json',
    'webhook-id': 'msg_2Kx',
    'webhook-timestamp': '1714564805',
    'webhook-signature': standardSignature(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_2Kx',
      1714564805,
      out.body,
    ),
    'herald-event-type': 'invoice.paid',
    'herald-sequence': '7',
    'herald-attempt': '2',
  });
  assert.equal(
    out.headers['webhook-signature'], // Computed independently with the standardwebhooks library's own sign().
    'v1,8N4URInLu4MZ8VhTXksWXSNIPYaFkRteP2YjeM2hcZA=',
  );
});

test('timestamp falls back to the creation time when occurredAt is absent', () => {
  const base = input();
  const out = standardProfile.render({ ...base, events: [{ ...base.events[0]!, occurredAt: null }] });
  assert.equal(JSON.parse(String(out.body)).timestamp, '2024-05-01T12:00:01.000Z');
});

test('standardwebhooks and svix both verify the request', () => {
  const secret = newSecret();
  const out = standardProfile.render(input({ secret }));
  const payload = new StandardWebhook(secret).verify(String(out.body), out.headers) as { data: unknown };
  assert.deepEqual(payload.data, { invoice: 'in_1', amount: 1250, note: 'café / ünïcode' });
  new SvixWebhook(secret).verify(String(out.body), out.headers);
});

test('during rotation both the new and the previous secret verify', () => {
  const current = newSecret();
  const previous = newSecret();
  const out = standardProfile.render(input({ secret: current, previous }));
  assert.equal(out.headers['webhook-signature']!.split(' ').length, 2);
  for (const secret of [current, previous]) {
    new StandardWebhook(secret).verify(String(out.body), out.headers);
    new SvixWebhook(secret).verify(String(out.body), out.headers);
  }
  assert.throws(() => new StandardWebhook(newSecret()).verify(String(out.body), out.headers));
});

test('the webhook-id is the event id on every attempt', () => {
  const a = standardProfile.render(input({ attempt: 1 }));
  const b = standardProfile.render(input({ attempt: 5 }));
  assert.equal(a.headers['webhook-id'], b.headers['webhook-id']);
  assert.equal(b.headers['herald-attempt'], '5');
});

test('more than one event is refused', () => {
  const base = input();
  assert.throws(
    () => standardProfile.render({ ...base, events: [base.events[0]!, base.events[0]!] }),
    /one event/,
  );
});
