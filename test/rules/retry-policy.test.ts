import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_RETRY_SCHEDULE,
  MAX_RETRY_AFTER_MS,
  nextStep,
  parseRetryAfter,
  retryDelayMs,
} from '../../src/rules/retry-policy.ts';

const noJitter = () => 0.5;

test('schedule indexing: entry k is the wait after attempt k; n entries allow n attempts', () => {
  const schedule = [0, 5, 300];
  assert.equal(retryDelayMs(schedule, 1, noJitter), 5000);
  assert.equal(retryDelayMs(schedule, 2, noJitter), 300_000);
  assert.equal(retryDelayMs(schedule, 3, noJitter), null);
  assert.equal(DEFAULT_RETRY_SCHEDULE.length, 10);
});

test('jitter stays within ±20 %', () => {
  assert.equal(
    retryDelayMs([0, 100], 1, () => 0),
    80_000,
  );
  assert.equal(
    retryDelayMs([0, 100], 1, () => 0.999999),
    120_000,
  );
  assert.equal(
    retryDelayMs([0, 0], 1, () => 0),
    0,
  );
});

test('outcomes: 2xx succeeds, anything else retries until the schedule is used up', () => {
  const now = 0;
  assert.deepEqual(nextStep({ statusCode: 204 }, 1, [0, 1], now, noJitter), { status: 'succeeded' });
  assert.deepEqual(nextStep({ statusCode: 302 }, 1, [0, 1], now, noJitter), {
    status: 'pending',
    retryInMs: 1000,
  });
  assert.deepEqual(nextStep({}, 1, [0, 1], now, noJitter), { status: 'pending', retryInMs: 1000 });
  assert.deepEqual(nextStep({ statusCode: 500 }, 2, [0, 1], now, noJitter), { status: 'failed' });
});

test('Retry-After on 429/503 lengthens the wait, bounded to 24 h, never shortens it', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.deepEqual(nextStep({ statusCode: 429, retryAfter: '120' }, 1, [0, 5], now, noJitter), {
    status: 'pending',
    retryInMs: 120_000,
  });
  assert.deepEqual(nextStep({ statusCode: 503, retryAfter: '1' }, 1, [0, 5], now, noJitter), {
    status: 'pending',
    retryInMs: 5000,
  });
  assert.deepEqual(nextStep({ statusCode: 429, retryAfter: '999999' }, 1, [0, 5], now, noJitter), {
    status: 'pending',
    retryInMs: MAX_RETRY_AFTER_MS,
  });
  assert.deepEqual(
    nextStep({ statusCode: 503, retryAfter: 'Tue, 01 Jan 2030 00:10:00 GMT' }, 1, [0, 5], now, noJitter),
    { status: 'pending', retryInMs: 600_000 },
  );
  // Only 429 and 503 carry a meaningful Retry-After.
  assert.deepEqual(nextStep({ statusCode: 500, retryAfter: '120' }, 1, [0, 5], now, noJitter), {
    status: 'pending',
    retryInMs: 5000,
  });
  // An exhausted schedule fails even when the receiver asks for later.
  assert.deepEqual(nextStep({ statusCode: 429, retryAfter: '10' }, 2, [0, 5], now, noJitter), {
    status: 'failed',
  });
});

test('parseRetryAfter understands delta-seconds and HTTP dates only', () => {
  assert.equal(parseRetryAfter('0', 0), 0);
  assert.equal(parseRetryAfter(' 30 ', 0), 30_000);
  assert.equal(parseRetryAfter('soon', 0), null);
  assert.equal(parseRetryAfter('-5', 0), null);
  assert.equal(parseRetryAfter(undefined, 0), null);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:29:00Z')), 0);
});
