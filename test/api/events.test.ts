import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deliveryChannel } from '../../src/queue/notify.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

interface EndpointOptions {
  eventTypes?: string[];
  active?: boolean;
  disabled?: boolean;
  filter?: unknown;
  ignoreOrigins?: string[];
  profile?: string;
  ordering?: 'none' | 'fifo';
}

/** Creates an endpoint through the API; `disabled` does what the auto-disable job does. */
async function addEndpoint(t: TestApp, tenantId: string, o: EndpointOptions = {}): Promise<string> {
  const { disabled, ...fields } = o;
  const res = await t.request('POST', `/v1/tenants/${tenantId}/endpoints`, {
    url: 'http://127.0.0.1:9/hook',
    ...fields,
    ...(o.profile === 'courier-invoice' ? { profileOptions: { accountNumber: 'A-1001' } } : {}),
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id as string;
  if (disabled) {
    await t.ctx.db.query(
      `UPDATE endpoints SET active = false, disabled_at = now(), disabled_reason = 'failing' WHERE id = $1`,
      [id],
    );
  }
  return id;
}

interface Row {
  endpoint_id: string;
  event_id: string;
  event_ids: string[];
  event_type: string;
  sequence: number;
  status: string;
  fifo: boolean;
}

forEachStorage('publishing events', (kind) => {
  let t: TestApp;
  let n = 0;
  before(async () => {
    t = await makeTestApp(kind);
  });
  after(() => t.close());

  /** A fresh tenant per test, so counts and sequences start from nothing. */
  async function tenant(): Promise<string> {
    const id = `t${++n}`;
    const res = await t.request('POST', '/v1/tenants', { id, name: id });
    assert.equal(res.statusCode, 201, res.body);
    return id;
  }
  const deliveries = (tenantId: string) =>
    t.ctx.db.query<Row>(
      `SELECT endpoint_id, event_id, event_ids, event_type, sequence, status, fifo FROM deliveries
       WHERE tenant_id = $1 ORDER BY endpoint_id, sequence`,
      [tenantId],
    );
  const count = async (table: string, tenantId: string) =>
    (
      await t.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [
        tenantId,
      ])
    )[0]!.n;
  const publish = (tenantId: string, body: unknown, key?: string) =>
    key === undefined
      ? t.request('POST', `/v1/tenants/${tenantId}/events`, body)
      : t.app.inject({
          method: 'POST',
          url: `/v1/tenants/${tenantId}/events`,
          headers: { authorization: `Bearer ${t.adminKey}`, 'idempotency-key': key },
          payload: body as object,
        });

  test('one event: 202 with the event, one pending delivery per matching endpoint, due now', async () => {
    const tid = await tenant();
    const a = await addEndpoint(t, tid);
    const b = await addEndpoint(t, tid, { ordering: 'fifo' });
    const res = await publish(tid, {
      type: 'invoice.created',
      data: { id: 'inv_1', amount: 5 },
      origin: 'billing',
      occurredAt: '2024-05-01T10:00:00+02:00',
    });
    assert.equal(res.statusCode, 202, res.body);
    const ev = res.json();
    assert.match(ev.id, /^msg_[0-9A-Z]{26}$/);
    assert.equal(ev.tenantId, tid);
    assert.equal(ev.type, 'invoice.created');
    assert.deepEqual(ev.data, { id: 'inv_1', amount: 5 });
    assert.equal(ev.origin, 'billing');
    assert.equal(ev.occurredAt, '2024-05-01T08:00:00.000Z');
    assert.match(ev.batchId, /^bat_/);
    assert.ok(!Number.isNaN(Date.parse(ev.createdAt)));
    assert.equal(res.headers['idempotent-replayed'], undefined);

    const rows = await deliveries(tid);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.event_id, ev.id);
      assert.deepEqual(r.event_ids, [ev.id]);
      assert.equal(r.event_type, 'invoice.created');
      assert.equal(r.sequence, 1);
      assert.equal(r.status, 'pending');
      assert.equal(r.fifo, r.endpoint_id === b);
    }
    assert.deepEqual(rows.map((r) => r.endpoint_id).sort(), [a, b].sort());
    const [due] = await t.ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'pending'
       AND next_attempt_at <= now() AND completed_at IS NULL`,
      [tid],
    );
    assert.equal(due!.n, 2);
  });

  test('a batch is one call: {data}, one batch id, strictly increasing sequences per endpoint', async () => {
    const tid = await tenant();
    const a = await addEndpoint(t, tid);
    const b = await addEndpoint(t, tid, { eventTypes: ['invoice.*'] });
    const first = await publish(tid, { type: 'invoice.created', data: { i: 0 } });
    assert.equal(first.statusCode, 202);
    const events = [
      { type: 'invoice.paid', data: { i: 1 } },
      { type: 'customer.created', data: { i: 2 } },
      { type: 'invoice.voided', data: { i: 3 }, id: 'my-own-id' },
    ];
    const res = await publish(tid, { events });
    assert.equal(res.statusCode, 202, res.body);
    const data = res.json().data;
    assert.equal(data.length, 3);
    assert.deepEqual(
      data.map((e: { type: string }) => e.type),
      events.map((e) => e.type),
    );
    assert.equal(data[2].id, 'my-own-id');
    assert.equal(new Set(data.map((e: { batchId: string }) => e.batchId)).size, 1);
    assert.notEqual(data[0].batchId, first.json().batchId);
    // Stored under the batch id the call answered (a caller's id: the transaction's path).
    const stored = await t.ctx.db.query<{ batch_id: string }>(
      'SELECT DISTINCT batch_id FROM events WHERE tenant_id = $1 AND id = ANY($2::text[])',
      [tid, data.map((e: { id: string }) => e.id)],
    );
    assert.deepEqual(
      stored.map((r) => r.batch_id),
      [data[0].batchId],
    );

    const rows = await deliveries(tid);
    const seqOf = (ep: string) => rows.filter((r) => r.endpoint_id === ep);
    assert.deepEqual(
      seqOf(a).map((r) => [r.sequence, r.event_id]),
      [
        [1, first.json().id],
        [2, data[0].id],
        [3, data[1].id],
        [4, 'my-own-id'],
      ],
    );
    assert.deepEqual(
      seqOf(b).map((r) => [r.sequence, r.event_id]),
      [
        [1, first.json().id],
        [2, data[0].id],
        [3, 'my-own-id'],
      ],
    );
    const [{ last }] = (await t.ctx.db.query('SELECT last_sequence AS last FROM endpoints WHERE id = $1', [
      a,
    ])) as [{ last: number }];
    assert.equal(last, 4);
  });

  test('concurrent publishes to the same endpoints get distinct, gapless sequences', async () => {
    const tid = await tenant();
    const eps = [await addEndpoint(t, tid), await addEndpoint(t, tid), await addEndpoint(t, tid)];
    const calls = Array.from({ length: 12 }, (_, i) =>
      publish(tid, {
        events: [
          { type: 'a.b', data: { i } },
          { type: 'a.c', data: { i } },
        ],
      }),
    );
    for (const res of await Promise.all(calls)) assert.equal(res.statusCode, 202, res.body);
    const rows = await deliveries(tid);
    for (const ep of eps) {
      assert.deepEqual(
        rows.filter((r) => r.endpoint_id === ep).map((r) => r.sequence),
        Array.from({ length: 24 }, (_, i) => i + 1),
      );
    }
  });

  test('matching: types with wildcards, ignored origins, filters; inactive and disabled get nothing', async () => {
    const tid = await tenant();
    const other = await tenant();
    const ep = {
      all: await addEndpoint(t, tid, { eventTypes: ['*'] }),
      invoices: await addEndpoint(t, tid, { eventTypes: ['invoice.*'] }),
      exact: await addEndpoint(t, tid, { eventTypes: ['customer.created', 'invoice.paid'] }),
      ignoring: await addEndpoint(t, tid, { ignoreOrigins: ['import', 'sync'] }),
      filtered: await addEndpoint(t, tid, {
        filter: { $or: [{ 'data.amount': { $gte: 100 } }, { type: 'customer.created' }] },
      }),
      inactive: await addEndpoint(t, tid, { active: false }),
      disabled: await addEndpoint(t, tid, { disabled: true }),
    };
    const otherTenants = await addEndpoint(t, other);
    const res = await publish(tid, {
      events: [
        { type: 'invoice.paid', data: { amount: 150 } },
        { type: 'invoice.created', data: { amount: 50 }, origin: 'import' },
        { type: 'customer.created', data: {}, origin: 'crm' },
        { type: 'invoiced', data: { amount: 1 } },
      ],
    });
    assert.equal(res.statusCode, 202, res.body);
    const ids = res.json().data.map((e: { id: string }) => e.id) as string[];
    const rows = await deliveries(tid);
    const got = (endpoint: string) =>
      rows
        .filter((r) => r.endpoint_id === endpoint)
        .map((r) => ids.indexOf(r.event_id))
        .sort();
    assert.deepEqual(got(ep.all), [0, 1, 2, 3]);
    assert.deepEqual(got(ep.invoices), [0, 1]);
    assert.deepEqual(got(ep.exact), [0, 2]);
    assert.deepEqual(got(ep.ignoring), [0, 2, 3]);
    assert.deepEqual(got(ep.filtered), [0, 2]);
    assert.deepEqual(got(ep.inactive), []);
    assert.deepEqual(got(ep.disabled), []);
    assert.equal((await deliveries(other)).filter((r) => r.endpoint_id === otherTenants).length, 0);
  });

  test('courier-invoice endpoints get one delivery per call holding all their events, in order', async () => {
    const tid = await tenant();
    const courier = await addEndpoint(t, tid, { profile: 'courier-invoice', eventTypes: ['invoice.*'] });
    const standard = await addEndpoint(t, tid);
    const res = await publish(tid, {
      events: [
        { type: 'invoice.created', data: { n: 1 } },
        { type: 'customer.created', data: { n: 2 } },
        { type: 'invoice.paid', data: { n: 3 } },
        { type: 'invoice.voided', data: { n: 4 } },
      ],
    });
    assert.equal(res.statusCode, 202, res.body);
    const ids = res.json().data.map((e: { id: string }) => e.id) as string[];
    const rows = await deliveries(tid);
    const batched = rows.filter((r) => r.endpoint_id === courier);
    assert.equal(batched.length, 1);
    assert.deepEqual(batched[0]!.event_ids, [ids[0], ids[2], ids[3]]);
    assert.equal(batched[0]!.event_id, ids[0]);
    assert.equal(batched[0]!.event_type, 'invoice.created');
    assert.equal(batched[0]!.sequence, 1);
    assert.equal(rows.filter((r) => r.endpoint_id === standard).length, 4);

    // The batched delivery shows on each of its events, not only the first.
    const detail = await t.request('GET', `/v1/tenants/${tid}/events/${ids[2]}`);
    assert.equal(detail.statusCode, 200, detail.body);
    const eps = detail
      .json()
      .deliveries.map((d: { endpointId: string }) => d.endpointId)
      .sort();
    assert.deepEqual(eps, [courier, standard].sort());
    const other = await t.request('GET', `/v1/tenants/${tid}/events/${ids[1]}`);
    assert.deepEqual(
      other.json().deliveries.map((d: { endpointId: string }) => d.endpointId),
      [standard],
    );
  });

  test('idempotency by id: a repeat answers with the first event and creates nothing', async () => {
    const tid = await tenant();
    await addEndpoint(t, tid);
    const body = { id: 'order-1', type: 'order.placed', data: { total: 10, items: [1, 2] } };
    const first = await publish(tid, body);
    assert.equal(first.statusCode, 202, first.body);
    const again = await publish(tid, { ...body, data: { items: [1, 2], total: 10.0 }, origin: 'retry' });
    assert.equal(again.statusCode, 202, again.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json(), first.json());
    assert.equal(await count('events', tid), 1);
    assert.equal(await count('deliveries', tid), 1);

    const conflict = await publish(tid, { ...body, data: { total: 11, items: [1, 2] } });
    assert.equal(conflict.statusCode, 409, conflict.body);
    assert.equal(conflict.json().error.code, 'IDEMPOTENCY_CONFLICT');
    assert.equal(conflict.json().error.details[0].path, 'id');
    const otherType = await publish(tid, { ...body, type: 'order.cancelled' });
    assert.equal(otherType.statusCode, 409);

    // In a batch: the repeat answers with the first event, the new one is created; a conflict
    // anywhere refuses the whole call.
    const mixed = await publish(tid, { events: [body, { type: 'order.placed', data: { total: 3 } }] });
    assert.equal(mixed.statusCode, 202, mixed.body);
    assert.equal(mixed.headers['idempotent-replayed'], undefined);
    assert.deepEqual(mixed.json().data[0], first.json());
    assert.equal(await count('events', tid), 2);
    assert.equal(await count('deliveries', tid), 2);
    const refused = await publish(tid, {
      events: [
        { type: 'x.y', data: {} },
        { ...body, data: {} },
      ],
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.details[0].path, 'events.1.id');
    assert.equal(await count('events', tid), 2);
  });

  test('idempotency by id holds under concurrent repeats', async () => {
    const tid = await tenant();
    await addEndpoint(t, tid);
    const body = { id: 'dup', type: 'a.b', data: { x: 1 } };
    const answers = await Promise.all(Array.from({ length: 6 }, () => publish(tid, body)));
    for (const res of answers) assert.equal(res.statusCode, 202, res.body);
    assert.equal(new Set(answers.map((r) => r.json().createdAt)).size, 1);
    assert.equal(await count('events', tid), 1);
    assert.equal(await count('deliveries', tid), 1);
  });

  test('Idempotency-Key names the whole call: a repeat answers with the first events', async () => {
    const tid = await tenant();
    await addEndpoint(t, tid);
    const body = {
      events: [
        { type: 'a.b', data: { n: 1 } },
        { type: 'a.c', data: { n: 2 } },
      ],
    };
    const first = await publish(tid, body, 'call-1');
    assert.equal(first.statusCode, 202, first.body);
    const again = await publish(tid, body, 'call-1');
    assert.equal(again.statusCode, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json(), first.json());
    assert.equal(await count('events', tid), 2);
    assert.equal(await count('deliveries', tid), 2);

    const different = await publish(tid, { events: [{ type: 'a.b', data: { n: 9 } }] }, 'call-1');
    assert.equal(different.statusCode, 409, different.body);
    assert.equal(different.json().error.code, 'IDEMPOTENCY_CONFLICT');

    // The key is per tenant, and a single event works the same way.
    const single = { type: 'a.b', data: { n: 1 } };
    const answers = await Promise.all(Array.from({ length: 5 }, () => publish(tid, single, 'call-2')));
    for (const res of answers) assert.equal(res.statusCode, 202, res.body);
    assert.equal(new Set(answers.map((r) => r.json().id)).size, 1);
    assert.equal(await count('events', tid), 3);
    assert.equal(await count('idempotency_keys', tid), 2);

    const tooLong = await publish(tid, single, 'k'.repeat(256));
    assert.equal(tooLong.statusCode, 400);
    assert.equal(tooLong.json().error.code, 'VALIDATION_FAILED');
  });

  test('data is validated against the event type schema; unknown types are accepted', async () => {
    const tid = await tenant();
    await addEndpoint(t, tid);
    const created = await t.request('POST', '/v1/event-types', {
      name: 'invoice.issued',
      schema: {
        type: 'object',
        properties: { amount: { type: 'integer', minimum: 0 } },
        required: ['amount'],
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const bad = await publish(tid, { type: 'invoice.issued', data: { amount: -1 } });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().error.code, 'DATA_SCHEMA_MISMATCH');
    assert.equal(bad.json().error.details[0].path, 'data.amount');
    const badInBatch = await publish(tid, {
      events: [
        { type: 'invoice.issued', data: { amount: 1 } },
        { type: 'invoice.issued', data: {} },
      ],
    });
    assert.equal(badInBatch.statusCode, 400);
    assert.equal(badInBatch.json().error.details[0].path, 'events.1.data.amount');
    assert.equal(await count('events', tid), 0);

    assert.equal((await publish(tid, { type: 'invoice.issued', data: { amount: 3 } })).statusCode, 202);
    assert.equal((await publish(tid, { type: 'not.in.catalog', data: { anything: true } })).statusCode, 202);
    assert.equal(await count('events', tid), 2);
  });

  test('bad input answers 4xx with a code and writes nothing', async () => {
    const tid = await tenant();
    await addEndpoint(t, tid);
    const many = Array.from({ length: 101 }, () => ({ type: 'a.b', data: {} }));
    const cases: Array<[unknown, number, string]> = [
      [{ type: 'a.b' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'a.b', data: [1, 2] }, 400, 'VALIDATION_FAILED'],
      [{ type: 'a.b', data: 'text' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'has space', data: {} }, 400, 'VALIDATION_FAILED'],
      [{ type: 'a.b', data: {}, extra: 1 }, 400, 'VALIDATION_FAILED'],
      [{ type: 'a.b', data: {}, occurredAt: 'yesterday' }, 400, 'VALIDATION_FAILED'],
      // Past the year 9999 once the offset (or a leap second) is applied: stored, then 500, before.
      [{ type: 'a.b', data: {}, occurredAt: '9999-12-31T23:00:00-05:00' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'a.b', data: {}, occurredAt: '9999-12-31T23:59:60Z' }, 400, 'VALIDATION_FAILED'],
      [
        {
          events: [
            { type: 'a.b', data: {} },
            { type: 'a.b', data: {}, occurredAt: '9999-12-31T23:30:00-01:00' },
          ],
        },
        400,
        'VALIDATION_FAILED',
      ],
      [{ type: 'a.b', data: {}, id: 'bad id' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'a.b', data: {}, origin: '' }, 400, 'VALIDATION_FAILED'],
      [{ events: [] }, 400, 'VALIDATION_FAILED'],
      [{ events: many }, 400, 'VALIDATION_FAILED'],
      [{ events: [{ type: 'a.b', data: {} }], type: 'a.b' }, 400, 'VALIDATION_FAILED'],
      [
        {
          events: [
            { id: 'same', type: 'a.b', data: {} },
            { id: 'same', type: 'a.b', data: {} },
          ],
        },
        400,
        'VALIDATION_FAILED',
      ],
      [{ type: 'a.b', data: {}, origin: 'nul \u0000 char' }, 400, 'VALIDATION_FAILED'],
      ['{"type": "a.b", "data": ', 400, 'INVALID_JSON'],
    ];
    for (const [body, status, code] of cases) {
      const res = await publish(tid, body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body).slice(0, 80)} → ${res.body}`);
      assert.equal(res.json().error.code, code);
    }
    assert.equal(await count('events', tid), 0);
    assert.equal(await count('deliveries', tid), 0);
    const [{ last }] = (await t.ctx.db.query(
      'SELECT max(last_sequence)::int AS last FROM endpoints WHERE tenant_id = $1',
      [tid],
    )) as [{ last: number }];
    assert.equal(last, 0);

    const missing = await publish('no-such-tenant', { type: 'a.b', data: {} });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'TENANT_NOT_FOUND');
  });

  test('occurredAt is answered as stored (a leap second rolls over, offsets become Z)', async () => {
    const tid = await tenant();
    const leap = await publish(tid, { type: 'a.b', data: {}, occurredAt: '2016-12-31T23:59:60Z' });
    assert.equal(leap.statusCode, 202, leap.body);
    assert.equal(leap.json().occurredAt, '2017-01-01T00:00:00.000Z');
    const got = await t.request('GET', `/v1/tenants/${tid}/events/${leap.json().id}`);
    assert.equal(got.json().occurredAt, '2017-01-01T00:00:00.000Z');
  });

  test('an event stored with an occurredAt past the year 9999 (before it was refused) still reads', async () => {
    const tid = await tenant();
    const ok = await publish(tid, { type: 'a.b', data: {} });
    await t.ctx.db.query(`UPDATE events SET occurred_at = '10000-01-01T04:00:00Z' WHERE id = $1`, [
      ok.json().id,
    ]);
    const list = await t.request('GET', `/v1/tenants/${tid}/events`);
    assert.equal(list.statusCode, 200, list.body);
    const got = await t.request('GET', `/v1/tenants/${tid}/events/${ok.json().id}`);
    assert.equal(got.statusCode, 200, got.body);
  });

  test('publishing wakes the dispatchers with a NOTIFY', async () => {
    const tid = await tenant();
    await addEndpoint(t, tid);
    let notified = 0;
    const unlisten = await t.ctx.db.listen(await deliveryChannel(t.ctx.db), () => notified++);
    try {
      assert.equal((await publish(tid, { type: 'a.b', data: {} })).statusCode, 202);
      for (let i = 0; i < 50 && notified === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(notified > 0, 'a notification arrived');
    } finally {
      await unlisten();
    }
  });

  test('list (newest first, by type, paged) and get with per-endpoint delivery status', async () => {
    const tid = await tenant();
    const ep = await addEndpoint(t, tid, { eventTypes: ['invoice.*'] });
    const one = await publish(tid, { type: 'invoice.created', data: { n: 0 } });
    const batch = await publish(tid, {
      events: Array.from({ length: 5 }, (_, i) => ({
        type: i % 2 ? 'note.added' : 'invoice.paid',
        data: { n: i + 1 },
      })),
    });
    const newestFirst = [...batch.json().data].reverse().concat([one.json()]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/tenants/${tid}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.request('GET', url);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.json().data.length <= 2);
      for (const e of res.json().data) {
        assert.deepEqual(Object.keys(e).sort(), [
          'batchId',
          'createdAt',
          'data',
          'id',
          'occurredAt',
          'origin',
          'tenantId',
          'type',
        ]);
        seen.push(e.id);
      }
      cursor = res.json().nextCursor;
    } while (cursor);
    // Events of one call share createdAt; within it the order is by id, newest-first overall.
    assert.deepEqual(new Set(seen), new Set(newestFirst.map((e) => e.id)));
    assert.equal(seen.length, 6);
    assert.equal(seen[5], one.json().id);

    const notes = await t.request('GET', `/v1/tenants/${tid}/events?type=note.added`);
    assert.deepEqual(
      notes.json().data.map((e: { type: string }) => e.type),
      ['note.added', 'note.added'],
    );

    // Payloads keep the publisher's key order (byte-exact wire formats depend on it).
    const ordered = await publish(tid, { type: 'x.y', data: { zeta: 1, alpha: { b: 2, a: 1 } } });
    assert.match(ordered.body, /"data":\{"zeta":1,"alpha":\{"b":2,"a":1\}\}/);
    const orderedGot = await t.request('GET', `/v1/tenants/${tid}/events/${ordered.json().id}`);
    assert.match(orderedGot.body, /"data":\{"zeta":1,"alpha":\{"b":2,"a":1\}\}/);

    const got = await t.request('GET', `/v1/tenants/${tid}/events/${one.json().id}`);
    assert.equal(got.statusCode, 200, got.body);
    assert.deepEqual(got.json().data, { n: 0 });
    assert.equal(got.json().deliveries.length, 1);
    const d = got.json().deliveries[0];
    assert.equal(d.endpointId, ep);
    assert.equal(d.status, 'pending');
    assert.equal(d.sequence, 1);
    assert.equal(d.attemptCount, 0);
    assert.equal(d.lastStatusCode, null);
    assert.match(d.deliveryId, /^dlv_/);
    const note = batch.json().data[1];
    assert.deepEqual((await t.request('GET', `/v1/tenants/${tid}/events/${note.id}`)).json().deliveries, []);

    const bad = await t.request('GET', `/v1/tenants/${tid}/events?cursor=nope!`);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'INVALID_CURSOR');
    const forged = Buffer.from('123', 'utf8').toString('base64url');
    assert.equal(
      (await t.request('GET', `/v1/tenants/${tid}/events?cursor=${forged}`)).json().error.code,
      'INVALID_CURSOR',
    );
  });

  test('list by time window (since and until inclusive, to the millisecond) and type, paged within the filters', async () => {
    const tid = await tenant();
    const times = [
      '2024-03-01T10:00:00.000100Z',
      '2024-03-02T10:00:00.250900Z',
      '2024-03-03T10:00:00.500000Z',
      '2024-03-04T10:00:00.750000Z',
    ];
    const ids: string[] = [];
    for (const [i, at] of times.entries()) {
      const ev = (await publish(tid, { type: i % 2 ? 'note.added' : 'invoice.paid', data: { i } })).json();
      await t.ctx.db.query('UPDATE events SET created_at = $2 WHERE tenant_id = $1 AND id = $3', [
        tid,
        at,
        ev.id,
      ]);
      ids.push(ev.id as string);
    }
    const list = async (query: string) => {
      const res = await t.request('GET', `/v1/tenants/${tid}/events?${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { data: Array<{ id: string; createdAt: string }>; nextCursor: string | null };
    };
    const idsOf = async (query: string) => (await list(query)).data.map((e) => e.id);

    assert.deepEqual(await idsOf('since=2024-03-02T00:00:00Z'), [ids[3], ids[2], ids[1]]);
    assert.deepEqual(await idsOf('until=2024-03-02T23:59:59Z'), [ids[1], ids[0]]);
    // An event's createdAt as answered (milliseconds) names it at both ends.
    const second = (await list('since=2024-03-02T00:00:00Z&until=2024-03-02T23:59:59Z')).data[0]!;
    assert.equal(second.createdAt, '2024-03-02T10:00:00.250Z');
    assert.deepEqual(await idsOf(`since=${second.createdAt}&until=${second.createdAt}`), [ids[1]]);
    assert.deepEqual(await idsOf('since=2024-03-02T00:00:00%2B01:00&type=invoice.paid'), [ids[2]]);
    assert.deepEqual(await idsOf('since=2025-01-01T00:00:00Z'), []);

    // Following nextCursor with the same filters pages through the matches only.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=1&since=2024-03-01T12:00:00Z${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [ids[3], ids[2], ids[1]]);

    for (const [query, path] of [
      ['since=2024-03-03T00:00:00Z&until=2024-03-02T00:00:00Z', 'querystring.until'],
      ['since=yesterday', 'querystring.since'],
      ['until=2016-12-31T23:59:60Z', 'querystring.until'],
    ] as const) {
      const res = await t.request('GET', `/v1/tenants/${tid}/events?${query}`);
      assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.ok(
        res.json().error.details.some((d: { path?: string }) => d.path === path),
        `${query}: ${res.body}`,
      );
    }
  });

  test("another tenant's events are 404, and so is a missing tenant", async () => {
    const a = await tenant();
    const b = await tenant();
    const keyB = (await t.request('POST', `/v1/tenants/${b}/api-keys`, {})).json().key as string;
    const ev = (await publish(a, { type: 'a.b', data: {} })).json();

    const asB = await t.request('GET', `/v1/tenants/${a}/events/${ev.id}`, undefined, keyB);
    assert.equal(asB.statusCode, 404);
    assert.equal(asB.json().error.code, 'TENANT_NOT_FOUND');
    const underB = await t.request('GET', `/v1/tenants/${b}/events/${ev.id}`, undefined, keyB);
    assert.equal(underB.statusCode, 404);
    assert.equal(underB.json().error.code, 'EVENT_NOT_FOUND');
    const publishAsB = await t.request('POST', `/v1/tenants/${a}/events`, { type: 'a.b', data: {} }, keyB);
    assert.equal(publishAsB.statusCode, 404);
    assert.equal(await count('events', a), 1);
    const ownList = await t.request('GET', `/v1/tenants/${b}/events`, undefined, keyB);
    assert.deepEqual(ownList.json(), { data: [], nextCursor: null });
    const publishOwn = await t.request('POST', `/v1/tenants/${b}/events`, { type: 'a.b', data: {} }, keyB);
    assert.equal(publishOwn.statusCode, 202);

    for (const url of ['/v1/tenants/nobody/events', `/v1/tenants/nobody/events/${ev.id}`]) {
      const res = await t.request('GET', url);
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error.code, 'TENANT_NOT_FOUND');
    }
  });
});
