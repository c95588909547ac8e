/**
 * Coalesced publishing (src/publish/together.ts): concurrent calls of one tenant do not queue
 * on each other's endpoint locks one commit at a time — they share one statement — and each keeps
 * its own batch id, deliveries, sequence numbers in call order, validation and answer.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { HeraldError } from '../../src/core/errors.ts';
import type { Db, Sql } from '../../src/db/db.ts';
import { type PublishResult, publishEvents } from '../../src/publish/publish-events.ts';
import { isPublishStatement } from '../../src/publish/publish-statements.ts';
import { insertEndpoint, insertTenant } from '../support/delivery-fixtures.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';

forEachStorage('coalesced publishing', (kind) => {
  let t: TestDb;
  let tenant: string;
  /** The storage, counting the publish statements that run through it. */
  let db: Db;
  let statements: number;
  before(async () => {
    t = await freshDb(kind);
    db = {
      ...t.db,
      query: <T>(sql: Sql, params?: readonly unknown[]) => {
        if (isPublishStatement(sql)) statements++;
        return t.db.query<T>(sql, params);
      },
    };
  });
  beforeEach(async () => {
    tenant = await insertTenant(t.db);
    statements = 0;
  });
  after(() => t.close());

  const publish = (i: number, type = 'order.paid') => publishEvents(db, tenant, [{ type, data: { i } }]);

  test('concurrent calls share one statement; each keeps its batch, deliveries and sequence', async () => {
    const ep = await insertEndpoint(t.db, tenant, { url: URL });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => publish(i)));
    // The first call went alone, at once; the 29 that came while it ran shared the next statement.
    assert.equal(statements, 2);
    assert.equal(new Set(results.map((r) => r.events[0]!.batchId)).size, 30);
    const rows = await t.db.query<{ id: string; batch_id: string; data: { i: number } }>(
      'SELECT id, batch_id, data FROM events WHERE tenant_id = $1',
      [tenant],
    );
    assert.equal(rows.length, 30);
    for (const [i, r] of results.entries()) {
      const event = r.events[0]!;
      assert.deepEqual(event.data, { i });
      const row = rows.find((x) => x.id === event.id)!;
      assert.equal(row.batch_id, event.batchId);
      assert.equal(r.deliveries.length, 1);
      assert.deepEqual(r.deliveries[0]!.eventIds, [event.id]);
      assert.equal(r.deliveries[0]!.endpointId, ep.id);
      // Gap-free, in the order the calls came.
      assert.equal(r.deliveries[0]!.sequence, i + 1);
    }
    const [last] = await t.db.query<{ last_sequence: number }>(
      'SELECT last_sequence FROM endpoints WHERE id = $1',
      [ep.id],
    );
    assert.equal(last!.last_sequence, 30);
  });

  test('each answer holds the sequences and times stored, several events and endpoints per call', async () => {
    const eps = [
      await insertEndpoint(t.db, tenant, { url: URL }),
      await insertEndpoint(t.db, tenant, { url: URL }),
      await insertEndpoint(t.db, tenant, { url: URL }),
    ];
    await t.db.query(`UPDATE endpoints SET event_types = '{order.paid}' WHERE id = $1`, [eps[2]!.id]);
    await publish(-1); // endpoints already past sequence 1
    const calls = Array.from({ length: 6 }, (_, i) =>
      publishEvents(db, tenant, [
        { type: 'order.paid', data: { i } },
        { type: 'order.sent', data: { i }, occurredAt: '2024-05-01T10:00:00+02:00' },
        { type: 'order.paid', data: { i: -i } },
      ]),
    );
    const results = await Promise.all(calls);
    const stored = await t.db.query<{ id: string; endpoint_id: string; sequence: number }>(
      'SELECT id, endpoint_id, sequence FROM deliveries WHERE tenant_id = $1',
      [tenant],
    );
    const events = await t.db.query<{ id: string; created_at: Date; occurred_at: Date | null }>(
      'SELECT id, created_at, occurred_at FROM events WHERE tenant_id = $1',
      [tenant],
    );
    for (const r of results) {
      // Two endpoints take every event, the third only order.paid: 8 deliveries a call.
      assert.equal(r.deliveries.length, 8);
      for (const d of r.deliveries) {
        const row = stored.find((x) => x.id === d.id)!;
        assert.deepEqual(
          { endpointId: row.endpoint_id, sequence: row.sequence },
          {
            endpointId: d.endpointId,
            sequence: d.sequence,
          },
        );
      }
      for (const e of r.events) {
        const row = events.find((x) => x.id === e.id)!;
        assert.equal(e.createdAt, row.created_at.toISOString());
        assert.equal(e.occurredAt, row.occurred_at?.toISOString() ?? null);
      }
      assert.equal(r.events[1]!.occurredAt, '2024-05-01T08:00:00.000Z');
    }
    // Gap-free per endpoint across the calls.
    for (const ep of eps) {
      const seqs = stored.filter((x) => x.endpoint_id === ep.id).map((x) => x.sequence);
      assert.deepEqual(
        seqs.sort((a, b) => a - b),
        seqs.map((_, i) => i + 1),
      );
    }
  });

  test('a call with bad data is refused alone; the others are written', async () => {
    await insertEndpoint(t.db, tenant, { url: URL });
    await t.db.query(
      `INSERT INTO event_types (name, schema) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING`,
      ['typed.event', JSON.stringify({ type: 'object', required: ['i'] })],
    );
    const calls = [
      publish(1, 'typed.event'),
      publishEvents(db, tenant, [{ type: 'typed.event', data: { other: true } }]),
      publish(3, 'typed.event'),
      publish(4, 'untyped.event'),
    ];
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const refusal = (settled[1] as PromiseRejectedResult).reason as HeraldError;
    assert.ok(refusal instanceof HeraldError);
    assert.equal(refusal.code, 'DATA_SCHEMA_MISMATCH');
    const written = settled.flatMap((s) =>
      s.status === 'fulfilled' ? [(s.value as PublishResult).deliveries[0]!.sequence] : [],
    );
    assert.deepEqual(written, [1, 2, 3]);
    const [n] = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE tenant_id = $1',
      [tenant],
    );
    assert.equal(n!.n, 3);
  });

  test('calls to a tenant that does not exist are all refused, and nothing is written', async () => {
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        publishEvents(db, 'ten_missing', [{ type: 'order.paid', data: { i } }]),
      ),
    );
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.equal(((s as PromiseRejectedResult).reason as HeraldError).code, 'TENANT_NOT_FOUND');
    }
    assert.equal(statements, 0);
  });
});
