import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEndpointSlots } from '../../src/delivery/endpoint-slots.ts';
import { createHeldClaims } from '../../src/delivery/held-claims.ts';
import type { ClaimedDelivery } from '../../src/queue/claimed-delivery.ts';

const delivery = (id: string, endpointId = 'ep_1') =>
  ({ id, endpointId, endpoint: {} }) as unknown as ClaimedDelivery;

function heldWith(opts: { leaseMs?: number; maxBytes?: number; perEndpoint?: number } = {}) {
  const slots = createEndpointSlots(opts.perEndpoint ?? 64, () => {});
  const held = createHeldClaims({ leaseMs: opts.leaseMs ?? 1000, maxBytes: opts.maxBytes ?? 100, slots });
  return { held, slots };
}

test('the byte budget counts reservations and handed-over deliveries until each one leaves', () => {
  const { held } = heldWith({ maxBytes: 100 });
  assert.equal(held.fits(100), true);
  held.reserve(60);
  assert.equal(held.fits(50), false, 'a reservation counts');
  const [a, b] = [delivery('a'), delivery('b')];
  held.reserve(-60);
  held.hold([a, b], 0, { bytes: 60 }); // handed over: 30 bytes each
  assert.equal(held.fits(41), false);
  held.letGo(a);
  assert.equal(held.fits(70), true, "a's share is freed");
  held.letGo(a);
  assert.equal(held.fits(71), false, 'letting go twice frees it once');
  held.letGo(b);
  assert.equal(held.fits(100), true);
  assert.equal(a.handedOver, true);
});

test('a claim is stale once held unsent for more than half its lease; claims carry no bytes', () => {
  const { held } = heldWith({ leaseMs: 1000, maxBytes: 10 });
  const d = delivery('d');
  assert.equal(held.isStale(d, 1e9), false, 'never held: not ours to judge');
  held.hold([d], 100);
  assert.equal(held.isStale(d, 600), false);
  assert.equal(held.isStale(d, 601), true);
  assert.equal(held.fits(10), true, 'claimed deliveries do not count against the bytes');
  assert.equal(d.handedOver, undefined);
});

test('held deliveries come out ready in arrival order, across many holds', () => {
  const { held } = heldWith();
  const all = Array.from({ length: 3000 }, (_, i) => delivery(`d${i}`));
  for (let i = 0; i < all.length; i += 100) held.hold(all.slice(i, i + 100), 0);
  assert.equal(held.ready, 3000);
  const out: string[] = [];
  for (let i = 0; i < 2000; i++) out.push(held.nextReady()!.id);
  held.hold([delivery('late')], 0);
  for (let d = held.nextReady(); d; d = held.nextReady()) out.push(d.id);
  assert.deepEqual(out, [...all.map((d) => d.id), 'late']);
  assert.equal(held.ready, 0);
  assert.equal(held.nextReady(), undefined);
});

test("an endpoint's held deliveries are taken back whether ready or waiting for a slot", () => {
  const { held, slots } = heldWith({ perEndpoint: 1 });
  const [a1, a2, b1, a3] = [
    delivery('a1', 'a'),
    delivery('a2', 'a'),
    delivery('b1', 'b'),
    delivery('a3', 'a'),
  ];
  held.hold([a1, a2, b1, a3], 0);
  assert.equal(slots.admit(held.nextReady()!), 'start'); // a1 in flight
  assert.equal(slots.admit(held.nextReady()!), 'queued'); // a2 waits for a's slot
  const taken = held.takeOf('a');
  assert.deepEqual(taken.map((d) => d.id).sort(), ['a2', 'a3']);
  assert.equal(slots.waiting, 0);
  assert.equal(held.ready, 1);
  assert.equal(held.nextReady()!.id, 'b1');
});

test('taking everything back empties the ready line and the waiting lines', () => {
  const { held, slots } = heldWith({ perEndpoint: 1 });
  held.hold([delivery('a1', 'a'), delivery('a2', 'a'), delivery('b1', 'b')], 0);
  slots.admit(held.nextReady()!);
  slots.admit(held.nextReady()!);
  assert.deepEqual(
    held
      .takeAll()
      .map((d) => d.id)
      .sort(),
    ['a2', 'b1'],
  );
  assert.equal(held.ready, 0);
  assert.equal(slots.waiting, 0);
});
