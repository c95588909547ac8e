import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHandoffRoom, type HandoffRoomLimits } from '../../src/delivery/handoff-room.ts';
import type { HandoffWanted } from '../../src/queue/handoff.ts';

const want = (tenantId: string, endpointId: string): HandoffWanted => ({ tenantId, endpointId, limit: null });
const limits = (over: Partial<HandoffRoomLimits> = {}): HandoffRoomLimits => {
  const endpointRoom = over.endpointRoom ?? (() => 10);
  const endpointAheadRoom = over.endpointAheadRoom ?? endpointRoom;
  return {
    free: 100,
    endpointRoom,
    endpointAheadRoom,
    endpointBehindRoom: endpointAheadRoom,
    behindFree: 0,
    circuitOpen: () => false,
    ...over,
  };
};

test('handoff room: only what can start now — free slots, endpoint room, tenant room, closed circuits', () => {
  const room = createHandoffRoom(3);
  // The dispatcher's free slots bound the whole publish.
  assert.deepEqual(room.reserve([want('t1', 'a'), want('t1', 'a')], limits({ free: 1 })), [true, false]);
  // Endpoint room counts reservations not yet accepted: 'a' has room for 2, one is reserved.
  assert.deepEqual(
    room.reserve([want('t1', 'a'), want('t1', 'a')], limits({ endpointRoom: (id) => (id === 'a' ? 2 : 10) })),
    [true, false],
  );
  // Tenant t1 has 2 reserved of its 3; a request in flight takes the last.
  room.started('t1');
  assert.deepEqual(room.reserve([want('t1', 'b'), want('t2', 'c')], limits()), [false, true]);
  // An open circuit goes through the claim.
  assert.deepEqual(room.reserve([want('t3', 'd')], limits({ circuitOpen: (id) => id === 'd' })), [false]);
  assert.equal(room.reserved, 3);
  assert.equal(room.tenantRoom('t1'), 0, 'two reserved and one in flight of 3');
  assert.equal(room.tenantRoom('t2'), 2);
  // Released and finished: t1 has room again.
  room.release([want('t1', 'a'), want('t1', 'a')]);
  room.finished('t1');
  assert.equal(room.reserved, 1);
  assert.deepEqual(
    room.reserve([want('t1', 'b'), want('t1', 'b'), want('t1', 'b'), want('t1', 'b')], limits()),
    [true, true, true, false],
  );
});

test('handoff room: ahead of what can start, up to the endpoint ahead room, without taking tenant room', () => {
  const room = createHandoffRoom(2);
  // 'a' can start 1 now and hold 3 more ahead; its tenant has room for 2 in flight.
  const l = limits({ endpointRoom: () => 1, endpointAheadRoom: () => 4 });
  assert.deepEqual(
    room.reserve([want('t1', 'a'), want('t1', 'a'), want('t1', 'a'), want('t1', 'a'), want('t1', 'a')], l),
    [true, true, true, true, false],
  );
  // The tenant is at its limit in flight: nothing more starts now for it, but 'b' may still hold
  // ahead behind its own requests (its now-room is used up).
  room.started('t1');
  room.started('t1');
  room.release([want('t1', 'a'), want('t1', 'a'), want('t1', 'a'), want('t1', 'a')]);
  assert.deepEqual(
    room.reserve([want('t1', 'c')], limits({ endpointRoom: () => 1, endpointAheadRoom: () => 4 })),
    [false],
  );
  assert.deepEqual(
    room.reserve([want('t1', 'b')], limits({ endpointRoom: () => 0, endpointAheadRoom: () => 4 })),
    [true],
  );
  // The dispatcher's free slots bound ahead deliveries too.
  assert.deepEqual(
    room.reserve(
      [want('t2', 'd'), want('t2', 'd')],
      limits({ free: 1, endpointRoom: () => 0, endpointAheadRoom: () => 9 }),
    ),
    [true, false],
  );
});

test('handoff room: behind the ahead room, within the endpoint behind room and the behind budget, taking no room', () => {
  const room = createHandoffRoom(2);
  // 'a' starts 1, holds 1 more ahead and 3 more behind; 2 may be held behind in all.
  const l = limits({
    free: 2,
    endpointRoom: () => 1,
    endpointAheadRoom: () => 2,
    endpointBehindRoom: () => 5,
    behindFree: 2,
  });
  const wanted = [want('t1', 'a'), want('t1', 'a'), want('t1', 'a'), want('t1', 'a'), want('t1', 'a')];
  assert.deepEqual(room.reserve(wanted, l), [true, true, true, true, false]);
  assert.deepEqual(
    wanted.map((w) => w.heldBehind === true),
    [false, false, true, true, false],
  );
  // Held behind takes none of the dispatcher's free room: only the two before them do.
  assert.equal(room.reserved, 2);
  // The behind budget counts reservations not yet released: none is left for 'b'.
  assert.deepEqual(
    room.reserve(
      [want('t2', 'b')],
      limits({ free: 0, endpointRoom: () => 0, endpointBehindRoom: () => 9, behindFree: 2 }),
    ),
    [false],
  );
  // Released, the budget is back; with no free room at all a delivery may still be held behind,
  // and an open circuit still goes through the claim.
  room.release(wanted.slice(0, 4));
  assert.equal(room.reserved, 0);
  const b = [want('t2', 'b'), want('t2', 'c')];
  assert.deepEqual(
    room.reserve(
      b,
      limits({
        free: 0,
        endpointRoom: () => 0,
        endpointBehindRoom: () => 9,
        behindFree: 2,
        circuitOpen: (id) => id === 'c',
      }),
    ),
    [true, false],
  );
  assert.equal(b[0]!.heldBehind, true);
});
