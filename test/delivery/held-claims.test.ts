import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHeldClaims } from '../../src/delivery/held-claims.ts';
import type { ClaimedDelivery } from '../../src/queue/claim-deliveries.ts';

const delivery = (id: string) => ({ id }) as ClaimedDelivery;

test('the byte budget counts reservations and held deliveries until each one leaves', () => {
  const held = createHeldClaims({ leaseMs: 1000, maxBytes: 100 });
  assert.equal(held.fits(100), true);
  held.reserve(60);
  assert.equal(held.fits(50), false, 'a reservation counts');
  const [a, b] = [delivery('a'), delivery('b')];
  held.reserve(-60);
  held.hold([a, b], 0, 60); // handed over: 30 bytes each
  assert.equal(held.fits(41), false);
  held.letGo(a);
  assert.equal(held.fits(70), true, "a's share is freed");
  held.letGo(a);
  assert.equal(held.fits(71), false, 'letting go twice frees it once');
  held.letGo(b);
  assert.equal(held.fits(100), true);
});

test('a claim is stale once held unsent for more than half its lease; claims carry no bytes', () => {
  const held = createHeldClaims({ leaseMs: 1000, maxBytes: 10 });
  const d = delivery('d');
  assert.equal(held.isStale(d, 1e9), false, 'never held: not ours to judge');
  held.hold([d], 100);
  assert.equal(held.isStale(d, 600), false);
  assert.equal(held.isStale(d, 601), true);
  assert.equal(held.fits(10), true, 'claimed deliveries do not count against the bytes');
});
