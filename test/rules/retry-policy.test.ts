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

test('schedule indexing: the first attempt is immediate, entry k the wait after attempt k+1', () => {
  const schedule = [5, 300];
  assert.equal(retryDelayMs(schedule, 1, noJitter), 5000);
  assert.equal(retryDelayMs(schedule, 2, noJitter), 300_000);
  assert.equal(retryDelayMs(schedule, 3, noJitter), null);
  // The README's "retried after 5 s, 5 min, …, 24 h": nine retries, ten attempts.
  assert.deepEqual(DEFAULT_RETRY_SCHEDULE, [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
});

test('[2, 5] is three attempts: now, +2 s, +5 s; [] is the first attempt only', () => {
  const failed = { statusCode: 500 };
  const steps = [1, 2, 3].map((attempt) => nextStep(failed, attempt, [2, 5], 0, noJitter));
  assert.deepEqual(steps, [
    { status: 'pending', retryInMs: 2000 },
    { status: 'pending', retryInMs: 5000 },
    { status: 'failed' },
  ]);
  assert.deepEqual(nextStep(failed, 1, [], 0, noJitter), { status: 'failed' });
});

test('jitter stays within ±20 %', () => {
  assert.equal(
    retryDelayMs([100], 1, () => 0),
    80_000,
  );
  assert.equal(
    retryDelayMs([100], 1, () => 0.999999),
    120_000,
  );
  assert.equal(
    retryDelayMs([0], 1, () => 0),
    0,
  );
});

test('outcomes: 2xx succeeds, anything else retries until the schedule is used up', () => {
  const now = 0;
  assert.deepEqual(nextStep({ statusCode: 204 }, 1, [1], now, noJitter), { status: 'succeeded' });
  assert.deepEqual(nextStep({ statusCode: 302 }, 1, [1], now, noJitter), {
    status: 'pending',
    retryInMs: 1000,
  });
  assert.deepEqual(nextStep({}, 1, [1], now, noJitter), { status: 'pending', retryInMs: 1000 });
  assert.deepEqual(nextStep({ statusCode: 500 }, 2, [1], now, noJitter), { status: 'failed' });
});

test('Retry-After on 429/503 lengthens the wait, bounded to 24 h, never shortens it', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.deepEqual(nextStep({ statusCode: 429, retryAfter: '120' }, 1, [5], now, noJitter), {
    status: 'pending',
    retryInMs: 120_000,
  });
  assert.deepEqual(nextStep({ statusCode: 503, retryAfter: '1' }, 1, [5], now, noJitter), {
    status: 'pending',
    retryInMs: 5000,
  });
  assert.deepEqual(nextStep({ statusCode: 429, retryAfter: '999999' }, 1, [5], now, noJitter), {
    status: 'pending',
    retryInMs: MAX_RETRY_AFTER_MS,
  });
  assert.deepEqual(
    nextStep({ statusCode: 503, retryAfter: 'Tue, 01 Jan 2030 00:10:00 GMT' }, 1, [5], now, noJitter),
    { status: 'pending', retryInMs: 600_000 },
  );
  // Only 429 and 503 carry a meaningful Retry-After.
  assert.deepEqual(nextStep({ statusCode: 500, retryAfter: '120' }, 1, [5], now, noJitter), {
    status: 'pending',
    retryInMs: 5000,
  });
  // An exhausted schedule fails even when the receiver asks for later.
  assert.deepEqual(nextStep({ statusCode: 429, retryAfter: '10' }, 2, [5], now, noJitter), {
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
