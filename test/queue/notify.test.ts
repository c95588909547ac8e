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
import { DELIVERY_CHANNEL, NOTIFY_PAYLOAD_MAX, needsClaim } from '../../src/queue/notify.ts';
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
    unlisten = await t.db.listen(DELIVERY_CHANNEL, (p) => payloads.push(p));
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
    // The channel is the database's, not the schema's: other test files' publishes (and their
    // wake-ups, '') arrive here too. Ours are the ones naming our endpoints.
    const ours = () => payloads.filter((p) => p.split(',').some((id) => id === a.id || id === b.id));
    await publishEvents(t.db, tenant, events);
    await waitFor('a notification', () => ours().length === 1);
    assert.deepEqual(ours()[0]!.split(',').sort(), [a.id, b.id].sort());

    await publishEvents(t.db, tenant, events, { handoff: handoffTaking(new Set([a.id])) });
    await waitFor('a second notification', () => ours().length === 2);
    assert.equal(ours()[1], b.id);
  });

  test('too many endpoints to name: an empty payload (any endpoint)', async () => {
    // Enough endpoints that their ids pass the payload's limit.
    const n = Math.ceil(NOTIFY_PAYLOAD_MAX / 20) + 1;
    for (let i = 0; i < n; i++) await insertEndpoint(t.db, tenant, { url: URL });
    await publishEvents(t.db, tenant, [{ type: 'order.paid', data: {} }]);
    // An empty payload (another test file's may arrive too), and none naming any of these.
    await waitFor('a notification', () => payloads.includes(''));
    const ids = new Set(
      (await t.db.query<{ id: string }>('SELECT id FROM endpoints WHERE tenant_id = $1', [tenant])).map(
        (r) => r.id,
      ),
    );
    assert.ok(!payloads.some((p) => p.split(',').some((id) => ids.has(id))), 'no payload names them');
  });
});
