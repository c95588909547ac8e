import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHandoffRoom, type HandoffRoomLimits } from '../../src/delivery/handoff-room.ts';

const want = (tenantId: string, endpointId: string) => ({ tenantId, endpointId, limit: null });
const limits = (over: Partial<HandoffRoomLimits> = {}): HandoffRoomLimits => ({
  free: 100,
  endpointRoom: () => 10,
  circuitOpen: () => false,
  ...over,
});

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
  // Released and finished: t1 has room again.
  room.release([want('t1', 'a'), want('t1', 'a')]);
  room.finished('t1');
  assert.equal(room.reserved, 1);
  assert.deepEqual(
    room.reserve([want('t1', 'b'), want('t1', 'b'), want('t1', 'b'), want('t1', 'b')], limits()),
    [true, true, true, false],
  );
});
