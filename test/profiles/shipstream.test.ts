/**
 * shipstream: golden bytes, the documented PHP check run on them, and the profile's defaults.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHIPSTREAM_RETRY_SCHEDULE, shipStreamProfile } from '../../src/profiles/shipstream.ts';
import { nextStep } from '../../src/rules/retry-policy.ts';
import { runPhp } from './php/php.ts';
import { event, renderInput } from './profile-input.ts';

const KEY = 'ss_secret_key_123';

const orderCreated = (sequence = 7) =>
  renderInput({
    secret: KEY,
    sequence,
    events: [event('msg_3', 'order:created', { order_id: 100001, note: 'a/b' })],
  });

test('golden bytes: {"topic","message_id","message"} with the sequence, base64 X-Plugin-Hmac-Sha256', () => {
  const out = shipStreamProfile.render(orderCreated());
  assert.equal(
    out.body,
    '{"topic":"order:created","message_id":7,"message":{"order_id":100001,"note":"a/b"}}',
  );
  assert.deepEqual(out.headers, {
    'content-type': 'application/json',
    'x-plugin-hmac-sha256': '+iCDfSijv1ecncXOTZqp/FjZz8jWs5IqjipuWY2YWpE=',
  });
  assert.match(String(shipStreamProfile.render(orderCreated(8)).body), /"message_id":8,/);
});

test("ShipStream's PHP check, base64_encode(hash_hmac('sha256', $json, $key, true)), verifies it", async () => {
  const out = shipStreamProfile.render(orderCreated());
  const verdict = async (body: string, key = KEY) =>
    JSON.parse(
      await runPhp('shipstream-receiver.php', [out.headers['x-plugin-hmac-sha256']!], body, {
        SHIPSTREAM_SECRET_KEY: key,
      }),
    ) as { verified: boolean; message_id: number };
  assert.deepEqual(await verdict(String(out.body)), {
    verified: true,
    topic: 'order:created',
    message_id: 7,
  });
  assert.equal((await verdict(String(out.body), 'other_key')).verified, false);
  assert.equal((await verdict(String(out.body).replace('100001', '100002'))).verified, false);
});

test('defaults: 3 s connect, 5 s total; first attempt plus 14 retries (1 min … 24 h), then failed', () => {
  assert.deepEqual(shipStreamProfile.timeouts, { connectMs: 3000, totalMs: 5000 });
  assert.deepEqual(
    SHIPSTREAM_RETRY_SCHEDULE,
    [60, 120, 240, 480, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400, 86400],
  );
  const noJitter = () => 0.5;
  const failed = { statusCode: 500 };
  assert.deepEqual(nextStep(failed, 1, SHIPSTREAM_RETRY_SCHEDULE, 0, noJitter), {
    status: 'pending',
    retryInMs: 60_000,
  });
  assert.deepEqual(nextStep(failed, 14, SHIPSTREAM_RETRY_SCHEDULE, 0, noJitter), {
    status: 'pending',
    retryInMs: 86_400_000,
  });
  // "Instead of making the 15th attempt [retry], ShipStream will mark the queued webhook call failed."
  assert.deepEqual(nextStep(failed, 15, SHIPSTREAM_RETRY_SCHEDULE, 0, noJitter), { status: 'failed' });
});
