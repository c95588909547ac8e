/**
 * How many limits' worth of an endpoint's deliveries a dispatcher holds ahead follows how fast its
 * requests finish (src/delivery/endpoint-pace.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEndpointPace } from '../../src/delivery/endpoint-pace.ts';

test('an endpoint never heard from, or a fast one, gets the most; a slow one fewer, down to 1', () => {
  const pace = createEndpointPace({ maxAhead: 8, holdMs: 5_000 });
  assert.equal(pace.aheadFor('new'), 8);
  pace.observe('fast', 20);
  assert.equal(pace.aheadFor('fast'), 8);
  pace.observe('slow', 2_000);
  assert.equal(pace.aheadFor('slow'), 2, '5 s of 2 s requests');
  pace.observe('hanging', 15_000);
  assert.equal(pace.aheadFor('hanging'), 1, 'never fewer than what can start now');
  assert.deepEqual(pace.reduced(), { slow: 2, hanging: 1 }, 'only those held to fewer are named');
});

test('the pace is a moving average: one slow request does not undo a fast endpoint, a slowdown does', () => {
  const pace = createEndpointPace({ maxAhead: 8, holdMs: 5_000 });
  for (let i = 0; i < 20; i++) pace.observe('ep', 10);
  pace.observe('ep', 15_000);
  assert.equal(pace.aheadFor('ep'), 1, 'average ~3 s after one 15 s request among 10 ms ones');
  for (let i = 0; i < 20; i++) pace.observe('ep', 10);
  assert.equal(pace.aheadFor('ep'), 8, 'back to fast');
  assert.deepEqual(pace.reduced(), {});
});

test('at most maxTracked endpoints are remembered, the least recently heard forgotten first', () => {
  const pace = createEndpointPace({ maxAhead: 4, holdMs: 1_000, maxTracked: 2 });
  pace.observe('a', 1_000);
  pace.observe('b', 1_000);
  pace.observe('a', 1_000);
  pace.observe('c', 1_000);
  assert.deepEqual(pace.reduced(), { a: 1, c: 1 }, 'b was heard least recently');
  assert.equal(pace.aheadFor('b'), 4);
  assert.deepEqual(Object.keys(pace.reduced(1)).length, 1, 'the claim gets at most maxReduced of them');
});

test('handed-over deliveries are held behind as far as the endpoint pace allows, once it has been heard from', () => {
  const pace = createEndpointPace({ maxAhead: 8, holdMs: 5_000, maxBehind: 100 });
  assert.equal(pace.behindFor('new'), 8, 'never heard from: no further than ahead');
  pace.observe('fast', 20);
  assert.equal(pace.behindFor('fast'), 100, '250 limits fit in 5 s; at most maxBehind');
  pace.observe('brisk', 200);
  assert.equal(pace.behindFor('brisk'), 25, '5 s of 200 ms requests');
  pace.observe('slow', 2_000);
  assert.equal(pace.behindFor('slow'), 2, 'as far as ahead');
  pace.observe('hanging', 15_000);
  assert.equal(pace.behindFor('hanging'), 1, 'only what can start now');
});
