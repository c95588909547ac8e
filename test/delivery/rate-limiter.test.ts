import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRateLimiter } from '../../src/delivery/rate-limiter.ts';

test('allows a burst of one second, then one request per interval', () => {
  const limiter = createRateLimiter();
  let now = 1_000_000;
  for (let i = 0; i < 5; i++) assert.equal(limiter.take('ep', 5, now), 0, `request ${i} of the burst`);
  assert.equal(limiter.take('ep', 5, now), 200, 'the sixth waits for the next token');
  now += 200;
  assert.equal(limiter.take('ep', 5, now), 0, 'the deferred request returns when its token is there');
  assert.equal(limiter.take('ep', 5, now), 200, 'the next one waits again');
});

test('deferrals are spread one interval apart instead of all returning at once', () => {
  const limiter = createRateLimiter();
  const now = 0;
  assert.equal(limiter.take('ep', 10, now), 0);
  for (let i = 0; i < 9; i++) limiter.take('ep', 10, now);
  const delays = [1, 2, 3, 4].map(() => limiter.take('ep', 10, now));
  assert.deepEqual(delays, [100, 200, 300, 400]);
});

test('refills over time up to the burst size, and keys are independent', () => {
  const limiter = createRateLimiter();
  assert.equal(limiter.take('a', 2, 0), 0);
  assert.equal(limiter.take('a', 2, 0), 0);
  assert.ok(limiter.take('a', 2, 0) > 0);
  assert.equal(limiter.take('b', 2, 0), 0, 'another endpoint has its own bucket');
  // Long idle: the bucket is full again, but never above one second's worth.
  assert.equal(limiter.take('a', 2, 100_000), 0);
  assert.equal(limiter.take('a', 2, 100_000), 0);
  assert.ok(limiter.take('a', 2, 100_000) > 0);
});

test('rates below one per second still let one request through', () => {
  const limiter = createRateLimiter();
  assert.equal(limiter.take('slow', 0.5, 0), 0);
  assert.equal(limiter.take('slow', 0.5, 0), 2000);
});
