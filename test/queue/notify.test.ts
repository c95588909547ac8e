/**
 * A publish's NOTIFY names the endpoints of the deliveries it left due (src/publish/publish-sql.ts),
 * and a dispatcher claims on it only when one of them is not already held here (`needsClaim`,
 * src/queue/notify.ts): during a burst, publishes past the handoff's room made two claims in three
 * come back empty.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { publishEvents } from '../../src/publish/publish-events.ts';
import type { DeliveryHandoff } from '../../src/queue/handoff.ts';
import { DELIVERY_CHANNEL, deliveryChannel, NOTIFY_PAYLOAD_MAX, needsClaim } from '../../src/queue/notify.ts';
import { insertEndpoint, insertTenant, waitFor } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

test('needsClaim: an empty payload always; else only when a named endpoint is not held here', () => {
  const held = new Set(['ep_a', 'ep_b']);
  const holds = (id: string) => held.has(id);
  assert.equal(needsClaim('', holds), true);
  assert.equal(needsClaim('ep_a', holds), false);
  assert.equal(needsClaim('ep_a,ep_b', holds), false);
  assert.equal(needsClaim('ep_a,ep_c', holds), true);
  assert.equal(
    needsClaim('ep_c', () => false),
    true,
  );
});

forEachStorage('publish notifications', (kind) => {
  let t: TestDb;
  let tenant: string;
  let payloads: string[];
  let unlisten: () => Promise<void>;
  before(async () => {
    t = await freshDb(kind);
    payloads = [];
    unlisten = await t.db.listen(await deliveryChannel(t.db), (p) => payloads.push(p));
  });
  beforeEach(async () => {
    tenant = await insertTenant(t.db);
    payloads.length = 0;
  });
  after(async () => {
    await unlisten();
    await t.close();
  });

  /** A handoff that takes the deliveries of `taken` endpoints and none of the others. */
  const handoffTaking = (taken: ReadonlySet<string>): DeliveryHandoff => ({
    workerId: 'w-notify',
    leaseMs: 30_000,
    defaultTotalTimeoutMs: 15_000,
    queueNow: () => null,
    reserve: (wanted) => wanted.map((w) => taken.has(w.endpointId)),
    accept: () => {},
  });

  test('names each endpoint left due once; handed-over ones are not named', async () => {
    const a = await insertEndpoint(t.db, tenant, { url: URL });
    const b = await insertEndpoint(t.db, tenant, { url: URL });
    const events = [
      { type: 'order.paid', data: { n: 1 } },
      { type: 'order.paid', data: { n: 2 } },
    ];
    await publishEvents(t.db, tenant, events);
    await waitFor('a notification', () => payloads.length === 1);
    assert.deepEqual(payloads[0]!.split(',').sort(), [a.id, b.id].sort());

    await publishEvents(t.db, tenant, events, { handoff: handoffTaking(new Set([a.id])) });
    await waitFor('a second notification', () => payloads.length === 2);
    assert.equal(payloads[1], b.id);
  });

  test("the channel is the schema's: another schema's publishes do not arrive", async () => {
    const channel = await deliveryChannel(t.db);
    assert.equal(channel, t.schema ? `${DELIVERY_CHANNEL}.${t.schema}` : DELIVERY_CHANNEL);
    if (kind !== 'postgres') return; // one embedded database per test file: nothing else to hear
    const other = await freshDb('postgres');
    try {
      const otherTenant = await insertTenant(other.db);
      await insertEndpoint(other.db, otherTenant, { url: URL });
      await publishEvents(other.db, otherTenant, [{ type: 'order.paid', data: {} }]);
      const ep = await insertEndpoint(t.db, tenant, { url: URL });
      await publishEvents(t.db, tenant, [{ type: 'order.paid', data: {} }]);
      // Notifications arrive in commit order: the other schema's would have come first.
      await waitFor('our notification', () => payloads.length > 0);
      assert.deepEqual(payloads, [ep.id]);
    } finally {
      await other.close();
    }
  });

  test('too many endpoints to name: an empty payload (any endpoint)', async () => {
    // Enough endpoints that their ids pass the payload's limit.
    const n = Math.ceil(NOTIFY_PAYLOAD_MAX / 20) + 1;
    for (let i = 0; i < n; i++) await insertEndpoint(t.db, tenant, { url: URL });
    await publishEvents(t.db, tenant, [{ type: 'order.paid', data: {} }]);
    await waitFor('a notification', () => payloads.length === 1);
    assert.deepEqual(payloads, ['']);
  });
});
