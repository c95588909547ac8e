/** What a dispatcher remembers of open circuits (src/delivery/local-circuits.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalCircuits } from '../../src/delivery/local-circuits.ts';

test('a circuit is open until the time it was opened for, then forgotten; closing forgets it at once', () => {
  let now = 1_000;
  const circuits = createLocalCircuits(() => now);
  assert.equal(circuits.openFor('ep_1'), 0, 'never seen open');
  circuits.opened('ep_1', 31_000);
  circuits.opened('ep_2', 31_000);
  assert.equal(circuits.openFor('ep_1'), 30_000);
  now = 30_999;
  assert.equal(circuits.openFor('ep_1'), 1);
  now = 31_000;
  assert.equal(circuits.openFor('ep_1'), 0, 'cooled down');
  circuits.closed('ep_2');
  now = 0;
  assert.equal(circuits.openFor('ep_2'), 0, 'closed, whatever the time said');
});
