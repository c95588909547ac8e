/**
 * The publish statements' shapes (src/publish/publish-statements.ts): a call runs the statement of
 * its shape — no delivery, all handed over, all rows, or both — and each writes what the whole
 * statement would: events, sequence numbers, delivery rows for what is not handed over, one handoff
 * row for what is, and nothing at all when its candidates are stale.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { newId } from '../../src/core/ids.ts';
import type { Db, Sql } from '../../src/db/db.ts';
import {
  insertDeliveries,
  insertEventsAndDeliveries,
  type NewDelivery,
} from '../../src/publish/publish-sql.ts';
import {
  INSERT_DELIVERIES,
  PUBLISH,
  PUBLISH_ONE_ENDPOINT,
  publishStatementFor,
  type Shape,
  shapeOf,
} from '../../src/publish/publish-statements.ts';
import { insertEndpoint, insertTenant } from '../support/delivery-fixtures.ts';
import { waitFor } from '../support/poll.ts';
import { forEachStorage, freshDb, type TestDb } from '../support/storage.ts';

const URL = 'http://127.0.0.1:9/hook';
const CLAIM_AS = { workerId: 'worker-a', now: null };

test('shapeOf: from how many deliveries are handed over', () => {
  assert.equal(shapeOf(0, 0), 'none');
  assert.equal(shapeOf(3, 3), 'handed');
  assert.equal(shapeOf(3, 0), 'rows');
  assert.equal(shapeOf(3, 1), 'mixed');
});

test('each statement numbers only the parameters it uses', () => {
  assert.ok(!PUBLISH.none.params.includes('counts'));
  assert.ok(!PUBLISH.handed.params.includes('due'));
  assert.ok(!PUBLISH.rows.params.includes('handoff'));
  assert.ok(PUBLISH.mixed.params.includes('due') && PUBLISH.mixed.params.includes('handoff'));
  assert.ok(!PUBLISH_ONE_ENDPOINT.handed.params.includes('due'));
  for (const s of [
    ...Object.values(PUBLISH),
    ...Object.values(PUBLISH_ONE_ENDPOINT),
    ...Object.values(INSERT_DELIVERIES),
  ]) {
    const text = typeof s.sql === 'string' ? s.sql : s.sql.text;
    const used = new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    assert.deepEqual(
      [...used].sort((a, b) => a - b),
      s.params.map((_, i) => i + 1),
    );
  }
});

forEachStorage('publish statements by shape', (kind) => {
  let t: TestDb;
  let tenant: string;
  /** The storage, noting the statements that run through it. */
  let db: Db;
  let ran: Sql[];
  before(async () => {
    t = await freshDb(kind);
    db = {
      ...t.db,
      query: <T>(sql: Sql, params?: readonly unknown[]) => {
        ran.push(sql);
        return t.db.query<T>(sql, params);
      },
    };
  });
  beforeEach(async () => {
    tenant = await insertTenant(t.db);
    ran = [];
  });
  after(() => t.close());

  const event = () => {
    const id = newId('msg');
    return { id, json: JSON.stringify([{ id, type: 'invoice.created', data: { n: 1 }, batch_id: 'bat_1' }]) };
  };
  const delivery = (endpointId: string, eventId: string, handedOver: boolean): NewDelivery => ({
    id: newId('dlv'),
    endpointId,
    eventIds: [eventId],
    eventType: 'invoice.created',
    fifo: false,
    ...(handedOver ? { leaseMs: 30_000 } : {}),
  });
  const count = async (sql: string) => Number((await t.db.query<{ n: number }>(sql, [tenant]))[0]!.n);
  const lastSequence = async (endpointId: string) =>
    Number(
      (
        await t.db.query<{ s: number }>('SELECT last_sequence AS s FROM endpoints WHERE id = $1', [
          endpointId,
        ])
      )[0]!.s,
    );

  /** One endpoint per entry, and an event's delivery to each, handed over or not as the entry says. */
  async function planned(handedOver: readonly boolean[]) {
    const eps = await Promise.all(handedOver.map(() => insertEndpoint(t.db, tenant, { url: URL })));
    const ev = event();
    return { eps, ev, planned: eps.map((e, i) => delivery(e.id, ev.id, handedOver[i]!)) };
  }
  /** Each shape with deliveries, and deliveries of that shape. */
  const WITH_DELIVERIES = [
    ['handed', [true]],
    ['rows', [false]],
    ['mixed', [true, false]],
  ] as const;

  async function publish(shape: Shape, handedOver: boolean[]) {
    const { eps, ev, planned: p } = await planned(handedOver);
    const out = await insertEventsAndDeliveries(db, tenant, ev.json, [ev.id], p, CLAIM_AS);
    assert.deepEqual(ran, [publishStatementFor(shape, handedOver.length).sql], `the ${shape} statement ran`);
    return { eps, ev, out };
  }

  test('no delivery: the event alone, with its stored time', async () => {
    const { ev, out } = await publish('none', []);
    assert.equal(out.stale, false);
    assert.deepEqual(out.deliveries, []);
    assert.ok(out.stored.get(ev.id)?.created_at instanceof Date);
    assert.equal(await count('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1'), 1);
    assert.equal(await count('SELECT count(*)::int AS n FROM handoffs WHERE tenant_id = $1'), 0);
  });

  test('all handed over: sequences taken, one handoff row, no delivery rows', async () => {
    const { eps, out } = await publish('handed', [true, true]);
    assert.deepEqual(
      out.deliveries.map((d) => [d.sequence, d.handoffId !== null]),
      [
        [1, true],
        [1, true],
      ],
    );
    for (const e of eps) assert.equal(await lastSequence(e.id), 1);
    assert.equal(await count('SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1'), 0);
    const [h] = await t.db.query<{ worker_id: string; counts: Record<string, number> }>(
      'SELECT worker_id, counts FROM handoffs WHERE tenant_id = $1',
      [tenant],
    );
    assert.equal(h!.worker_id, 'worker-a');
    assert.deepEqual(h!.counts, { [eps[0]!.id]: 1, [eps[1]!.id]: 1 });
  });

  test('all rows: pending rows with their sequences, the endpoints due now, no handoff', async () => {
    const { eps, out } = await publish('rows', [false, false]);
    assert.ok(out.deliveries.every((d) => d.sequence === 1 && d.handoffId === null));
    const rows = await t.db.query<{ endpoint_id: string; sequence: number; status: string }>(
      'SELECT endpoint_id, sequence, status FROM deliveries WHERE tenant_id = $1 ORDER BY endpoint_id',
      [tenant],
    );
    assert.deepEqual(
      rows.map((r) => [r.endpoint_id, Number(r.sequence), r.status]),
      eps.map((e) => [e.id, 1, 'pending']).sort(),
    );
    const due = await count(
      'SELECT count(*)::int AS n FROM endpoints WHERE tenant_id = $1 AND next_due_at <= now()',
    );
    assert.equal(due, 2);
    assert.equal(await count('SELECT count(*)::int AS n FROM handoffs WHERE tenant_id = $1'), 0);
  });

  test('both: a row for the one not handed over, the handoff for the other', async () => {
    const { eps } = await publish('mixed', [true, false]);
    const rows = await t.db.query<{ endpoint_id: string }>(
      'SELECT endpoint_id FROM deliveries WHERE tenant_id = $1',
      [tenant],
    );
    assert.deepEqual(
      rows.map((r) => r.endpoint_id),
      [eps[1]!.id],
    );
    const [h] = await t.db.query<{ counts: Record<string, number> }>(
      'SELECT counts FROM handoffs WHERE tenant_id = $1',
      [tenant],
    );
    assert.deepEqual(h!.counts, { [eps[0]!.id]: 1 });
  });

  test('one endpoint: its own statement, without the ordered lock, takes every sequence of the call', async () => {
    for (const [shape, handed] of [
      ['handed', [true, true]],
      ['rows', [false, false]],
      ['mixed', [true, false]],
    ] as const) {
      const ep = await insertEndpoint(t.db, tenant, { url: URL });
      const a = event();
      const b = event();
      const json = JSON.stringify([...JSON.parse(a.json), ...JSON.parse(b.json)]);
      const p = [delivery(ep.id, a.id, handed[0]), delivery(ep.id, b.id, handed[1])];
      ran = [];
      const out = await insertEventsAndDeliveries(db, tenant, json, [a.id, b.id], p, CLAIM_AS);
      assert.deepEqual(ran, [PUBLISH_ONE_ENDPOINT[shape].sql], shape);
      const text = typeof ran[0] === 'string' ? ran[0] : ran[0]!.text;
      assert.doesNotMatch(text, /FOR NO KEY UPDATE/, shape);
      assert.deepEqual(
        out.deliveries.map((d) => [d.sequence, d.handoffId !== null]),
        [
          [1, handed[0]],
          [2, handed[1]],
        ],
        shape,
      );
      assert.equal(await lastSequence(ep.id), 2, shape);
      const due = await count(
        `SELECT count(*)::int AS n FROM endpoints WHERE tenant_id = $1 AND id = '${ep.id}' AND next_due_at <= now()`,
      );
      assert.equal(due, shape === 'handed' ? 0 : 1, `${shape}: due now exactly when it got rows`);
    }
  });

  test("another tenant's endpoint, one or several: no sequence taken, nothing written for it", async () => {
    const other = await insertTenant(t.db);
    for (const n of [1, 2]) {
      const theirs = await Promise.all(
        Array.from({ length: n }, () => insertEndpoint(t.db, other, { url: URL })),
      );
      const ev = event();
      const out = await insertEventsAndDeliveries(
        db,
        tenant,
        ev.json,
        [ev.id],
        theirs.map((e) => delivery(e.id, ev.id, true)),
        CLAIM_AS,
      );
      assert.deepEqual(out.deliveries, [], `${n} endpoint(s)`);
      for (const e of theirs) assert.equal(await lastSequence(e.id), 0);
    }
    assert.equal(await count('SELECT count(*)::int AS n FROM handoffs WHERE tenant_id = $1'), 0);
  });

  test('a publish that waited for another on the same endpoints takes the sequences after its', async (c) => {
    if (kind === 'pglite') return c.skip('one connection: no concurrent transactions');
    for (const n of [1, 2]) {
      const eps = await Promise.all(
        Array.from({ length: n }, () => insertEndpoint(t.db, tenant, { url: URL })),
      );
      const [first, second] = [event(), event()];
      let release = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      let locked = false;
      // The first holds its endpoint rows, written, until told to commit.
      const firstDone = t.db.transaction(async (tx) => {
        const p = eps.map((e) => delivery(e.id, first.id, true));
        await insertEventsAndDeliveries(tx, tenant, first.json, [first.id], p, CLAIM_AS);
        locked = true;
        await held;
      });
      await waitFor('the first publish holds its locks', () => locked);
      const secondDone = insertEventsAndDeliveries(
        t.db,
        tenant,
        second.json,
        [second.id],
        eps.map((e) => delivery(e.id, second.id, true)),
        CLAIM_AS,
      );
      await waitFor('the second publish waits for them', async () => {
        const [w] = await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        return w!.n > 0;
      });
      release();
      await firstDone;
      const out = await secondDone;
      // It locked each row in the version the first wrote, and wrote the next one from it.
      assert.deepEqual(
        out.deliveries.map((d) => d.sequence),
        eps.map(() => 2),
        `${n} endpoint(s)`,
      );
      for (const e of eps) assert.equal(await lastSequence(e.id), 2);
      tenant = await insertTenant(t.db);
    }
  });

  test('endpoint rows are reached by key, never by the tenant, whatever the statistics say', async () => {
    // Many small tenants, analysed: a generic plan made on these statistics had read the endpoints
    // of the publishing tenant through its tenant index — all of them, for a tenant with thousands.
    await t.db.query(
      `INSERT INTO tenants (id, name) SELECT 'ten_plan_' || g, 'p' FROM generate_series(1, 200) g`,
    );
    await t.db.query(
      `INSERT INTO endpoints (id, tenant_id, url, secret_enc)
       SELECT 'ep_plan_' || g, 'ten_plan_' || (1 + g % 200), 'http://127.0.0.1:9/x', 'x' FROM generate_series(1, 2000) g`,
    );
    await t.db.exec('ANALYZE endpoints');
    for (const statement of [PUBLISH.handed, PUBLISH.mixed, PUBLISH_ONE_ENDPOINT.handed]) {
      const sql = statement.sql as { text: string };
      const value = (k: string) =>
        k === 'counts'
          ? `'[{"id":"ep_plan_1","n":1,"leased":1}]'`
          : k === 'events' || k === 'due' || k === 'handed'
            ? `'[]'`
            : k === 'lease'
              ? '1000'
              : k === 'tenant' || k === 'handoff' || k === 'worker'
                ? `'x'`
                : 'NULL';
      const plan = await t.db.transaction(async (tx) => {
        await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan');
        await tx.exec(`PREPARE publish_plan AS ${sql.text}`);
        const rows = await tx.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN EXECUTE publish_plan(${statement.params.map(value).join(', ')})`,
        );
        await tx.exec('DEALLOCATE publish_plan');
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      assert.doesNotMatch(plan, /Seq Scan on endpoints/, plan);
      // Every read of endpoint rows goes by their key or address, never by the tenant alone.
      const lines = plan.split('\n');
      lines.forEach((line, i) => {
        if (!/Scan (using \w+ )?on endpoints/.test(line)) return;
        const cond = lines.slice(i + 1, i + 4).find((l) => /(Index|TID|Recheck) Cond:/.test(l)) ?? '';
        assert.match(cond, /\(id = |\(ctid = /, `${line}\n${cond}`);
      });
      assert.doesNotMatch(plan, /endpoints_tenant_url/, plan);
    }
    await t.db.query(`DELETE FROM endpoints WHERE id LIKE 'ep_plan_%'`);
    await t.db.query(`DELETE FROM tenants WHERE id LIKE 'ten_plan_%'`);
  });

  test('stale candidates: no shape writes anything', async () => {
    for (const [shape, handedOver] of [['none', []] as const, ...WITH_DELIVERIES]) {
      const { eps, ev, planned: p } = await planned(handedOver);
      ran = [];
      const out = await insertEventsAndDeliveries(db, tenant, ev.json, [ev.id], p, CLAIM_AS, {
        endpoints: '-1',
        catalog: '-1',
      });
      assert.deepEqual(ran, [publishStatementFor(shape, handedOver.length).sql]);
      assert.equal(out.stale, true, shape);
      assert.deepEqual(out.deliveries, []);
      for (const e of eps) assert.equal(await lastSequence(e.id), 0, shape);
    }
    assert.equal(await count('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1'), 0);
    assert.equal(await count('SELECT count(*)::int AS n FROM handoffs WHERE tenant_id = $1'), 0);
    assert.equal(await count('SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1'), 0);
  });

  test('in a transaction (caller-chosen ids): the deliveries statement of the shape', async () => {
    for (const [shape, handedOver] of WITH_DELIVERIES) {
      const { planned: p } = await planned(handedOver);
      ran = [];
      const out = await insertDeliveries(db, tenant, p, CLAIM_AS);
      assert.deepEqual(ran, [INSERT_DELIVERIES[shape].sql]);
      assert.deepEqual(
        out.map((d) => [d.sequence, d.handoffId !== null]),
        handedOver.map((h) => [1, h]),
        shape,
      );
    }
  });
});
