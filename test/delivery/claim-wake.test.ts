/**
 * Which notifications wake a claim (src/queue/notify.ts, `needsClaim`): a publish names the
 * endpoints of the rows it left due, and a dispatcher that already holds a limit's worth of one
 * such endpoint waiting here — the last claim left it short of room — does not claim for it; the
 * outcomes of its requests claim again when that runs low. Another endpoint's notification does.
 *
 * Each storage's notifications are this file's alone: the channel is the schema's (notify.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import type { Db, Sql } from '../../src/db/db.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { publishEvents } from '../../src/publish/publish-events.ts';
import {
  insertEndpoint,
  insertTenant,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

forEachStorage('claims woken by notifications', (kind) => {
  let t: TestDb;
  const agent = new Agent({ connect: { timeout: 1000 } });
  before(async () => {
    t = await freshDb(kind);
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  test('a notification naming only an endpoint held a limit ahead wakes no claim; one naming another does', async () => {
    // Claims finished, and claims out now.
    let claims = 0;
    let claiming = 0;
    const db: Db = {
      ...t.db,
      query: <T>(sql: Sql, params?: readonly unknown[]) => {
        const counted = typeof sql !== 'string' && sql.name === 'herald_claim';
        if (counted) claiming++;
        return t.db.query<T>(sql, params).finally(() => {
          if (counted) {
            claiming--;
            claims++;
          }
        });
      },
    };
    // `held` never answers while the test runs; `other` answers at once.
    const held: Receiver = await startReceiver(() => {});
    const other: Receiver = await startReceiver();
    const heldTenant = await insertTenant(t.db);
    const otherTenant = await insertTenant(t.db);
    await insertEndpoint(t.db, heldTenant, { url: held.url });
    await insertEndpoint(t.db, otherTenant, { url: other.url });
    const events = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'invoice.paid', data: { i } }));
    // Two in flight to an endpoint, two limits' worth held; a long poll: only notifications wake it.
    const d = createDispatcher({
      db,
      secretBox: testSecretBox,
      agent,
      random: () => 0.5,
      config: { pollIntervalMs: 60_000, maxInFlightPerEndpoint: 2, claimAhead: 2, batchSize: 200 },
    });
    try {
      await d.start();
      // The start's own claim, done before anything is due: the next is the notification's.
      await waitFor('the first claim', () => claims === 1 && claiming === 0);
      // Ten due (no handoff here): the claim takes four — two out, two waiting — and is left short.
      await publishEvents(t.db, heldTenant, events(10));
      await waitFor('two requests out, no claim out', () => held.requests.length === 2 && claiming === 0);
      const before = claims;
      // Its notification names only the endpoint held: no claim. The next names another: a claim,
      // which runs after the first notification was handled (they arrive in order).
      await publishEvents(t.db, heldTenant, events(1));
      await publishEvents(t.db, otherTenant, events(1));
      await waitFor('the other endpoint served', () => other.requests.length === 1);
      assert.equal(claims - before, 1);
      assert.equal(held.requests.length, 2);
    } finally {
      await d.stop({ graceMs: 0 });
      await held.close();
      await other.close();
    }
  });
});
