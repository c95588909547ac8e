/**
 * The isolation property (docs/isolation.md): for any mix of endpoint behaviours — fast, slow,
 * hanging, failing, resetting — in the same tenant or another, with their backlogs older than
 * everyone else's, every healthy endpoint gets all its deliveries while the hanging ones still hang.
 *
 * The hanging endpoints' timeout (60 s) is far beyond the wait here, so the healthy deliveries can
 * only arrive if nothing of theirs waits on a hanging request: not a slot, not claim room, not a
 * batch — and never more requests are out at once than the dispatcher's concurrency. (Before the claim went by endpoint, a hanging endpoint's older backlog was claimed into
 * memory and held the dispatcher's claim room until its leases ran out.)
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { Agent } from 'undici';
import { newId } from '../../src/core/ids.ts';
import type { Queryable } from '../../src/db/db.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import {
  insertEndpoint,
  insertEvent,
  insertTenant,
  type Receiver,
  startReceiver,
  testSecretBox,
  waitFor,
} from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

type Behaviour = 'slow' | 'hanging' | 'failing' | 'resetting';

const CONCURRENCY = 16;
const PER_ENDPOINT = 4;

// At most three hanging endpoints: with four requests each they hold 12 of the 16 slots, the most
// any mix may take (that is the per-endpoint cap's job); everything else must still flow.
const mix = fc
  .record({
    noisy: fc.array(
      fc.record({
        behaviour: fc.constantFrom<Behaviour>('slow', 'hanging', 'failing', 'resetting'),
        sameTenant: fc.boolean(),
        backlog: fc.integer({ min: 5, max: 60 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    healthy: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
  })
  .filter(({ noisy }) => noisy.filter((n) => n.behaviour === 'hanging').length <= 3);

/** `n` due deliveries to the endpoint in one statement, all `ageMs` old (older = claimed first). */
async function backlog(q: Queryable, tenantId: string, endpointId: string, n: number, ageMs: number) {
  const eventId = await insertEvent(q, tenantId, {});
  await q.query(
    `WITH seq AS (UPDATE endpoints SET last_sequence = last_sequence + $4,
       next_due_at = least(next_due_at, now() - $5 * interval '1 millisecond')
       WHERE id = $2 RETURNING last_sequence)
     INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, fifo, next_attempt_at)
     SELECT $6 || i, $1, $2, $3, ARRAY[$3], 'invoice.created', seq.last_sequence - $4 + i, false,
       now() - $5 * interval '1 millisecond'
     FROM seq, generate_series(1, $4) AS i`,
    [tenantId, endpointId, eventId, n, ageMs, `${newId('dlv')}_`],
  );
}

forEachStorage('isolation property', (kind) => {
  let t: TestDb;
  const agent = new Agent({ connect: { timeout: 1000 }, connections: CONCURRENCY });
  before(async () => {
    t = await freshDb(kind);
  });
  after(async () => {
    await agent.close();
    await t.close();
  });

  test('for any mix of behaviours, every healthy endpoint gets all its deliveries while others hang', async () => {
    await fc.assert(
      fc.asyncProperty(mix, async ({ noisy, healthy }) => {
        const hung: ServerResponse[] = [];
        const receivers: Receiver[] = [];
        // Requests open at the receivers, and the most at once: never above the concurrency.
        let open = 0;
        let peakOpen = 0;
        const receiver = async (behaviour: Behaviour | 'fast') => {
          const r = await startReceiver((_req, res) => {
            open++;
            peakOpen = Math.max(peakOpen, open);
            res.once('close', () => open--);
            if (behaviour === 'hanging') hung.push(res);
            else if (behaviour === 'slow') setTimeout(() => res.end('ok'), 50);
            else if (behaviour === 'failing') res.writeHead(500).end('no');
            else if (behaviour === 'resetting') res.socket?.destroy();
            else res.end('ok');
          });
          receivers.push(r);
          return r;
        };
        const tenant = await insertTenant(t.db);
        const other = await insertTenant(t.db);
        const dispatcher = createDispatcher({
          db: t.db,
          secretBox: testSecretBox,
          agent,
          random: () => 0.5,
          config: {
            concurrency: CONCURRENCY,
            maxInFlightPerEndpoint: PER_ENDPOINT,
            maxInFlightPerTenant: 1_000,
            batchSize: 8,
            pollIntervalMs: 50,
          },
        });
        try {
          // The noisy backlogs first and older: claimed oldest-first, they would come first.
          for (const n of noisy) {
            const r = await receiver(n.behaviour);
            const e = await insertEndpoint(t.db, n.sameTenant ? tenant : other, {
              url: r.url,
              totalTimeoutMs: 60_000,
              retrySchedule: [60],
            });
            await backlog(t.db, n.sameTenant ? tenant : other, e.id, n.backlog, 60_000);
          }
          const healthyIds: string[] = [];
          for (const count of healthy) {
            const r = await receiver('fast');
            const e = await insertEndpoint(t.db, tenant, { url: r.url });
            await backlog(t.db, tenant, e.id, count, 0);
            healthyIds.push(e.id);
          }
          await dispatcher.start();
          const expected = healthy.reduce((a, b) => a + b, 0);
          await waitFor(
            'every healthy delivery to succeed',
            async () => {
              const [row] = await t.db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = ANY($1) AND status = 'succeeded'`,
                [healthyIds],
              );
              return row!.n === expected;
            },
            { timeoutMs: 20_000, intervalMs: 20 },
          );
          // The hanging requests are still out: the healthy ones did not wait for them.
          const hanging = noisy.filter((n) => n.behaviour === 'hanging').length;
          if (hanging > 0) assert.ok(hung.some((res) => !res.writableEnded));
          assert.ok(peakOpen <= CONCURRENCY, `${peakOpen} requests open at once, above ${CONCURRENCY}`);
        } finally {
          await dispatcher.stop({ graceMs: 0 });
          for (const r of receivers) await r.close();
          await t.db.query(`DELETE FROM deliveries WHERE status = 'pending'`);
        }
      }),
      {
        numRuns: 8,
        examples: [
          // Found by this property: two hanging endpoints held their deliveries claimed ahead
          // (3 × their limit each) and those took the whole claim room of a 16-request dispatcher.
          [
            {
              noisy: [
                { behaviour: 'hanging', sameTenant: false, backlog: 11 },
                { behaviour: 'hanging', sameTenant: true, backlog: 12 },
              ],
              healthy: [10, 4],
            },
          ],
        ],
      },
    );
  });
});
