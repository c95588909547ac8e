import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newId } from '../../src/core/ids.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { forEachStorage } from '../support/storage.ts';

async function addEndpoint(
  t: TestApp,
  tenantId: string,
  o: { eventTypes?: string[]; profile?: string; active?: boolean } = {},
): Promise<string> {
  const res = await t.request('POST', `/v1/tenants/${tenantId}/endpoints`, {
    url: 'http://127.0.0.1:9/hook',
    ...o,
    ...(o.profile === 'courier-invoice' ? { profileOptions: { accountNumber: 'A-1001' } } : {}),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

interface DeliveryJson {
  id: string;
  endpointId: string;
  eventId: string;
  eventIds: string[];
  eventType: string;
  status: string;
  sequence: number;
  attemptCount: number;
  nextAttemptAt: string | null;
  completedAt: string | null;
}

forEachStorage('deliveries', (kind) => {
  let t: TestApp;
  let n = 0;
  before(async () => {
    t = await makeTestApp(kind);
  });
  after(() => t.close());

  async function tenant(): Promise<{ id: string; key: string }> {
    const id = `d${++n}`;
    assert.equal((await t.request('POST', '/v1/tenants', { id, name: id })).statusCode, 201);
    const key = (await t.request('POST', `/v1/tenants/${id}/api-keys`, {})).json().key as string;
    return { id, key };
  }
  const publish = async (tid: string, body: unknown) => {
    const res = await t.request('POST', `/v1/tenants/${tid}/events`, body);
    assert.equal(res.statusCode, 202, res.body);
    return res.json();
  };
  const sql = (text: string, params: unknown[] = []) => t.ctx.db.query<Record<string, unknown>>(text, params);
  const list = async (tid: string, query = '') => {
    const res = await t.request('GET', `/v1/tenants/${tid}/deliveries${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { data: DeliveryJson[]; nextCursor: string | null };
  };

  test('list: newest first, by endpoint, status, event (batched ones too) and event type, paged', async () => {
    const { id: tid } = await tenant();
    const all = await addEndpoint(t, tid);
    const courier = await addEndpoint(t, tid, { profile: 'courier-invoice', eventTypes: ['invoice.*'] });
    const batch = await publish(tid, {
      events: [
        { type: 'invoice.created', data: { n: 1 } },
        { type: 'note.added', data: { n: 2 } },
        { type: 'invoice.paid', data: { n: 3 } },
      ],
    });
    const single = await publish(tid, { type: 'invoice.voided', data: { n: 4 } });

    const everything = await list(tid);
    assert.equal(everything.data.length, 6);
    assert.equal(everything.nextCursor, null);
    const ids = everything.data.map((d) => d.id);
    assert.deepEqual(ids, [...ids].sort().reverse());
    assert.deepEqual(Object.keys(everything.data[0]!).sort(), [
      'attemptCount',
      'completedAt',
      'createdAt',
      'endpointId',
      'eventId',
      'eventIds',
      'eventType',
      'id',
      'lastAttemptAt',
      'lastError',
      'lastStatusCode',
      'nextAttemptAt',
      'sequence',
      'status',
      'tenantId',
    ]);

    const ofCourier = await list(tid, `?endpointId=${courier}`);
    assert.equal(ofCourier.data.length, 2);
    assert.deepEqual(ofCourier.data.map((d) => d.sequence).sort(), [1, 2]);
    assert.deepEqual(ofCourier.data.find((d) => d.sequence === 1)!.eventIds, [
      batch.data[0].id,
      batch.data[2].id,
    ]);

    const paid = await list(tid, `?eventId=${batch.data[2].id}`);
    assert.deepEqual(paid.data.map((d) => d.endpointId).sort(), [all, courier].sort());
    const note = await list(tid, `?eventId=${batch.data[1].id}`);
    assert.deepEqual(
      note.data.map((d) => d.endpointId),
      [all],
    );
    const voided = await list(tid, `?eventId=${single.id}&endpointId=${courier}`);
    assert.equal(voided.data.length, 1);
    assert.deepEqual(voided.data[0]!.eventIds, [single.id]);

    await sql(
      `UPDATE deliveries SET status = 'failed', completed_at = now(), next_attempt_at = NULL WHERE id = $1`,
      [ids[0]],
    );
    assert.deepEqual(
      (await list(tid, '?status=failed')).data.map((d) => d.id),
      [ids[0]],
    );
    assert.equal((await list(tid, '?status=pending')).data.length, 5);

    // By event type: a batched delivery is listed under its first event's type.
    const notes = await list(tid, '?eventType=note.added');
    assert.deepEqual(
      notes.data.map((d) => [d.endpointId, d.eventType]),
      [[all, 'note.added']],
    );
    assert.equal((await list(tid, '?eventType=invoice.voided&endpointId=' + all)).data.length, 1);
    assert.equal((await list(tid, '?eventType=invoice.refunded')).data.length, 0);

    const first = await list(tid, '?limit=4');
    assert.equal(first.data.length, 4);
    assert.ok(first.nextCursor);
    const second = await list(tid, `?limit=4&cursor=${first.nextCursor}`);
    assert.deepEqual(
      [...first.data, ...second.data].map((d) => d.id),
      ids,
    );
    assert.equal(second.nextCursor, null);

    // One endpoint's deliveries: newest first by its sequence, paged by the same cursor; a cursor
    // that is another endpoint's delivery starts no page.
    const ofAll = await list(tid, `?endpointId=${all}`);
    assert.deepEqual(
      ofAll.data.map((d) => d.sequence),
      [4, 3, 2, 1],
    );
    const page1 = await list(tid, `?endpointId=${all}&limit=3`);
    const page2 = await list(tid, `?endpointId=${all}&limit=3&cursor=${page1.nextCursor}`);
    assert.deepEqual(
      [...page1.data, ...page2.data].map((d) => d.sequence),
      [4, 3, 2, 1],
    );
    assert.equal(page2.nextCursor, null);
    const othersCursor = Buffer.from(ofCourier.data[0]!.id).toString('base64url');
    assert.deepEqual(await list(tid, `?endpointId=${all}&cursor=${othersCursor}`), {
      data: [],
      nextCursor: null,
    });

    const badType = await t.request('GET', `/v1/tenants/${tid}/deliveries?eventType=${'x'.repeat(200)}`);
    assert.equal(badType.statusCode, 400);
    const badStatus = await t.request('GET', `/v1/tenants/${tid}/deliveries?status=lost`);
    assert.equal(badStatus.statusCode, 400);
    assert.equal(badStatus.json().error.code, 'VALIDATION_FAILED');
    assert.deepEqual(await list(tid, '?eventId=no-such-event'), { data: [], nextCursor: null });
  });

  test('get: a delivery with its attempts, oldest first; 404s', async () => {
    const { id: tid } = await tenant();
    const other = await tenant();
    const ep = await addEndpoint(t, tid);
    const ev = await publish(tid, { type: 'a.b', data: {} });
    const [d] = (await list(tid)).data;
    const started = new Date('2024-03-01T10:00:00Z');
    for (const [num, status, kind] of [
      [2, 200, null],
      [1, 503, 'http_status'],
    ] as const) {
      await sql(
        `INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms,
           status_code, error_kind, error_message, request_headers, response_headers, response_excerpt)
         VALUES ($1, $2, $3, $4, $5, $6, 12, $7, $8, $9, $10::jsonb, $11::jsonb, $12)`,
        [
          newId('atm'),
          d!.id,
          tid,
          ep,
          num,
          new Date(started.getTime() + num * 1000),
          status,
          kind,
          kind ? 'Service Unavailable' : null,
          JSON.stringify({ 'webhook-id': ev.id }),
          JSON.stringify({ 'content-type': 'text/plain' }),
          kind ? 'try later' : 'ok',
        ],
      );
    }
    const res = await t.request('GET', `/v1/tenants/${tid}/deliveries/${d!.id}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.id, d!.id);
    assert.equal(body.eventId, ev.id);
    assert.equal(body.attempts.length, 2);
    assert.deepEqual(body.attempts[0], {
      id: body.attempts[0].id,
      attemptNumber: 1,
      startedAt: '2024-03-01T10:00:01.000Z',
      durationMs: 12,
      statusCode: 503,
      errorKind: 'http_status',
      errorMessage: 'Service Unavailable',
      requestHeaders: { 'webhook-id': ev.id },
      responseHeaders: { 'content-type': 'text/plain' },
      responseExcerpt: 'try later',
    });
    assert.equal(body.attempts[1].attemptNumber, 2);
    assert.equal(body.attempts[1].errorKind, null);

    const missing = await t.request('GET', `/v1/tenants/${tid}/deliveries/dlv_nope`);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'DELIVERY_NOT_FOUND');
    const elsewhere = await t.request('GET', `/v1/tenants/${other.id}/deliveries/${d!.id}`);
    assert.equal(elsewhere.json().error.code, 'DELIVERY_NOT_FOUND');
    const withOtherKey = await t.request(
      'GET',
      `/v1/tenants/${tid}/deliveries/${d!.id}`,
      undefined,
      other.key,
    );
    assert.equal(withOtherKey.statusCode, 404);
    assert.equal(withOtherKey.json().error.code, 'TENANT_NOT_FOUND');
    for (const url of ['/v1/tenants/nobody/deliveries', `/v1/tenants/nobody/deliveries/${d!.id}`]) {
      const r = await t.request('GET', url);
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error.code, 'TENANT_NOT_FOUND');
    }
  });

  test('retry: a finished delivery is pending and due again, attempts kept; one in flight is left alone', async () => {
    const { id: tid, key } = await tenant();
    const other = await tenant();
    await addEndpoint(t, tid);
    await publish(tid, { events: [1, 2, 3].map((i) => ({ type: 'a.b', data: { i } })) });
    const [failed, waiting, inFlight] = (await list(tid)).data.map((d) => d.id) as [string, string, string];
    await sql(
      `UPDATE deliveries SET status = 'failed', attempt_count = 3, last_status_code = 500,
         completed_at = now(), next_attempt_at = NULL WHERE id = $1`,
      [failed],
    );
    await sql(`UPDATE deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`, [waiting]);
    await sql(
      `UPDATE deliveries SET locked_by = 'worker-1', attempt_count = 1,
         next_attempt_at = now() + interval '1 minute' WHERE id = $1`,
      [inFlight],
    );

    const retried = await t.request('POST', `/v1/tenants/${tid}/deliveries/${failed}/retry`, undefined, key);
    assert.equal(retried.statusCode, 202, retried.body);
    const r = retried.json() as DeliveryJson & { lastStatusCode: number };
    assert.equal(r.status, 'pending');
    assert.equal(r.completedAt, null);
    assert.equal(r.attemptCount, 3);
    assert.equal(r.lastStatusCode, 500);
    assert.ok(Date.parse(r.nextAttemptAt!) <= Date.now() + 1000);
    const [due] = await sql(`SELECT next_attempt_at <= now() AS due FROM deliveries WHERE id = $1`, [failed]);
    assert.equal(due!['due'], true);

    const madeDue = (await t.request('POST', `/v1/tenants/${tid}/deliveries/${waiting}/retry`)).json();
    assert.ok(Date.parse(madeDue.nextAttemptAt) <= Date.now() + 1000);

    const before = await sql(`SELECT next_attempt_at, locked_by FROM deliveries WHERE id = $1`, [inFlight]);
    const untouched = await t.request('POST', `/v1/tenants/${tid}/deliveries/${inFlight}/retry`);
    assert.equal(untouched.statusCode, 202);
    assert.deepEqual(
      await sql(`SELECT next_attempt_at, locked_by FROM deliveries WHERE id = $1`, [inFlight]),
      before,
    );

    const cross = await t.request('POST', `/v1/tenants/${other.id}/deliveries/${failed}/retry`);
    assert.equal(cross.statusCode, 404);
    assert.equal(cross.json().error.code, 'DELIVERY_NOT_FOUND');
    const crossKey = await t.request(
      'POST',
      `/v1/tenants/${tid}/deliveries/${failed}/retry`,
      undefined,
      other.key,
    );
    assert.equal(crossKey.statusCode, 404);
  });

  test('recover: re-queues the endpoint’s failed deliveries created in the window', async () => {
    const { id: tid } = await tenant();
    const other = await tenant();
    const ep = await addEndpoint(t, tid);
    const ep2 = await addEndpoint(t, tid);
    const otherEp = await addEndpoint(t, other.id);
    await publish(tid, { events: [1, 2, 3, 4].map((i) => ({ type: 'a.b', data: { i } })) });
    const mine = (await list(tid, `?endpointId=${ep}`)).data.sort((a, b) => a.sequence - b.sequence);
    const days = ['2024-01-01', '2024-01-05', '2024-01-10', '2024-01-06'];
    for (const [i, d] of mine.entries()) {
      await sql(
        `UPDATE deliveries SET status = $2, completed_at = now(), next_attempt_at = NULL, created_at = $3
         WHERE id = $1`,
        [d.id, i === 3 ? 'succeeded' : 'failed', `${days[i]}T12:00:00Z`],
      );
    }
    await sql(
      `UPDATE deliveries SET status = 'failed', completed_at = now(), next_attempt_at = NULL, created_at = '2024-01-05T12:00:00Z'
       WHERE endpoint_id = $1`,
      [ep2],
    );
    const recover = (endpoint: string, body: unknown, tenantId = tid) =>
      t.request('POST', `/v1/tenants/${tenantId}/endpoints/${endpoint}/recover`, body);

    // A dry run counts what would go out and changes nothing, however often it is asked.
    const failedNow = async () =>
      (
        await sql(`SELECT id FROM deliveries WHERE endpoint_id = $1 AND status = 'failed' ORDER BY id`, [ep])
      ).map((r) => r['id']);
    const failedBefore = await failedNow();
    for (const [body, count] of [
      [{ since: '2024-01-02T00:00:00Z', until: '2024-01-09T00:00:00Z' }, 1],
      [{ since: '2024-01-01T00:00:00Z' }, 3],
      [{ since: '2024-01-05T12:00:00Z', until: '2024-01-05T12:00:00Z' }, 1],
      [{ since: '2024-02-01T00:00:00Z' }, 0],
    ] as const) {
      const dry = await recover(ep, { ...body, dryRun: true });
      assert.equal(dry.statusCode, 200, dry.body);
      assert.deepEqual(dry.json(), { wouldRecover: count }, JSON.stringify(body));
    }
    assert.deepEqual(await failedNow(), failedBefore);
    assert.equal((await recover(ep, { since: '2024-01-01T00:00:00Z', dryRun: false })).statusCode, 202);
    await sql(
      `UPDATE deliveries SET status = 'failed', completed_at = now(), next_attempt_at = NULL WHERE id = ANY($1::text[])`,
      [failedBefore],
    );

    const res = await recover(ep, { since: '2024-01-02T00:00:00Z', until: '2024-01-09T00:00:00Z' });
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { recovered: 1 });
    const after1 = await sql(`SELECT id, status, completed_at FROM deliveries WHERE endpoint_id = $1`, [ep]);
    const statusOf = (id: string) => after1.find((r) => r['id'] === id)!['status'];
    assert.equal(statusOf(mine[1]!.id), 'pending');
    assert.equal(statusOf(mine[0]!.id), 'failed');
    assert.equal(statusOf(mine[2]!.id), 'failed');
    assert.equal(statusOf(mine[3]!.id), 'succeeded');

    assert.deepEqual((await recover(ep, { since: '2024-01-01T00:00:00Z' })).json(), { recovered: 2 });
    assert.deepEqual((await recover(ep, { since: '2024-01-01T00:00:00Z' })).json(), { recovered: 0 });
    const [left] = await sql(
      `SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND status = 'failed'`,
      [ep2],
    );
    assert.equal(left!['n'], 4, "another endpoint's deliveries are not touched");

    const cases: Array<[string, unknown, number, string]> = [
      [ep, { since: '2024-01-09T00:00:00Z', until: '2024-01-02T00:00:00Z' }, 400, 'VALIDATION_FAILED'],
      [ep, { since: 'last week' }, 400, 'VALIDATION_FAILED'],
      [ep, { since: '2016-12-31T23:59:60Z' }, 400, 'VALIDATION_FAILED'],
      [ep, {}, 400, 'VALIDATION_FAILED'],
      [ep, { since: '2024-01-01T00:00:00Z', extra: 1 }, 400, 'VALIDATION_FAILED'],
      ['ep_missing', { since: '2024-01-01T00:00:00Z' }, 404, 'ENDPOINT_NOT_FOUND'],
      ['ep_missing', { since: '2024-01-01T00:00:00Z', dryRun: true }, 404, 'ENDPOINT_NOT_FOUND'],
      [ep, { since: '2024-01-01T00:00:00Z', dryRun: 'yes' }, 400, 'VALIDATION_FAILED'],
      [
        ep,
        { since: '2024-01-09T00:00:00Z', until: '2024-01-02T00:00:00Z', dryRun: true },
        400,
        'VALIDATION_FAILED',
      ],
      [otherEp, { since: '2024-01-01T00:00:00Z' }, 404, 'ENDPOINT_NOT_FOUND'],
    ];
    for (const [endpoint, body, status, code] of cases) {
      const r = await recover(endpoint, body);
      assert.equal(r.statusCode, status, `${JSON.stringify(body)} → ${r.body}`);
      assert.equal(r.json().error.code, code);
    }
    const viaOtherKey = await t.request(
      'POST',
      `/v1/tenants/${tid}/endpoints/${ep}/recover`,
      { since: '2024-01-01T00:00:00Z' },
      other.key,
    );
    assert.equal(viaOtherKey.statusCode, 404);
    const noTenant = await recover(ep, { since: '2024-01-01T00:00:00Z' }, 'nobody');
    assert.equal(noTenant.json().error.code, 'TENANT_NOT_FOUND');
  });

  test('emulator: one event of the type (its example, or data) to this endpoint only, due now', async () => {
    const { id: tid } = await tenant();
    const other = await tenant();
    const created = await t.request('POST', '/v1/event-types', {
      name: 'emu.tested',
      schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      example: { n: 7, note: 'example' },
    });
    assert.equal(created.statusCode, 201, created.body);
    await t.request('POST', '/v1/event-types', { name: 'emu.bare' });
    // Subscribed to other types and inactive: the emulator sends anyway; the '*' endpoint gets nothing.
    const target = await addEndpoint(t, tid, { eventTypes: ['unrelated.*'], active: false });
    const bystander = await addEndpoint(t, tid);
    await publish(tid, { type: 'warm.up', data: {} }); // target's sequence stays untouched by this

    const res = await t.request('POST', `/v1/tenants/${tid}/endpoints/${target}/test`, {
      eventType: 'emu.tested',
    });
    assert.equal(res.statusCode, 202, res.body);
    const { event, deliveryId } = res.json();
    assert.equal(event.type, 'emu.tested');
    assert.equal(event.origin, 'herald.test');
    assert.deepEqual(event.data, { n: 7, note: 'example' });
    assert.match(deliveryId, /^dlv_/);
    const rows = await sql(
      `SELECT id, endpoint_id, sequence, status, next_attempt_at <= now() AS due FROM deliveries WHERE event_id = $1`,
      [event.id],
    );
    assert.deepEqual(rows, [
      { id: deliveryId, endpoint_id: target, sequence: 1, status: 'pending', due: true },
    ]);

    const withData = await t.request('POST', `/v1/tenants/${tid}/endpoints/${target}/test`, {
      eventType: 'emu.tested',
      data: { n: 1 },
    });
    assert.equal(withData.statusCode, 202, withData.body);
    assert.deepEqual(withData.json().event.data, { n: 1 });
    const [seq] = await sql('SELECT sequence FROM deliveries WHERE id = $1', [withData.json().deliveryId]);
    assert.equal(seq!['sequence'], 2);
    const unknownWithData = await t.request('POST', `/v1/tenants/${tid}/endpoints/${target}/test`, {
      eventType: 'not.catalogued',
      data: { x: 1 },
    });
    assert.equal(unknownWithData.statusCode, 202);

    const before = await sql('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [tid]);
    const cases: Array<[string, unknown, number, string]> = [
      [target, { eventType: 'emu.tested', data: { n: 'x' } }, 400, 'DATA_SCHEMA_MISMATCH'],
      [target, { eventType: 'emu.bare' }, 400, 'VALIDATION_FAILED'],
      [target, { eventType: 'not.catalogued' }, 400, 'VALIDATION_FAILED'],
      [target, {}, 400, 'VALIDATION_FAILED'],
      [target, { eventType: 'emu.tested', data: [1] }, 400, 'VALIDATION_FAILED'],
      ['ep_missing', { eventType: 'emu.tested' }, 404, 'ENDPOINT_NOT_FOUND'],
      ['ep_missing', { eventType: 'emu.bare' }, 404, 'ENDPOINT_NOT_FOUND'],
    ];
    for (const [endpoint, body, status, code] of cases) {
      const r = await t.request('POST', `/v1/tenants/${tid}/endpoints/${endpoint}/test`, body);
      assert.equal(r.statusCode, status, `${JSON.stringify(body)} → ${r.body}`);
      assert.equal(r.json().error.code, code);
    }
    const cross = await t.request('POST', `/v1/tenants/${other.id}/endpoints/${target}/test`, {
      eventType: 'emu.tested',
    });
    assert.equal(cross.statusCode, 404);
    assert.equal(cross.json().error.code, 'ENDPOINT_NOT_FOUND');
    const crossKey = await t.request(
      'POST',
      `/v1/tenants/${tid}/endpoints/${target}/test`,
      { eventType: 'emu.tested' },
      other.key,
    );
    assert.equal(crossKey.statusCode, 404);
    assert.deepEqual(await sql('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', [tid]), before);
    const [b] = await sql('SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1', [bystander]);
    assert.equal(b!['n'], 1, 'only the warm-up event reached the other endpoint');
  });
});
