/**
 * Traces across publish → attempts, exported over OTLP/HTTP to a loopback receiver: the publish's
 * SERVER span continues the caller's traceparent, its context is stored with the events, and every
 * attempt — claimed from the database as another worker would, or handed over in memory as in
 * `herald serve`, a retry included — is a CLIENT span under it. An endpoint with forwardTraceparent
 * receives each attempt's traceparent; its signature is unchanged.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { activeTracing, startTracing } from '../../src/tracing/tracing.ts';
import { readTracingConfig } from '../../src/tracing/tracing-config.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { type Receiver, startReceiver, waitFor } from '../support/delivery-fixtures.ts';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  SPAN_KIND_CLIENT,
  SPAN_KIND_SERVER,
  STATUS_ERROR,
  startOtlpReceiver,
} from '../support/otlp-receiver.ts';
import { forEachStorage } from '../support/storage.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const ROUTE_SPAN = 'POST /v1/tenants/{tenantId}/events';

forEachStorage('delivery traces', (kind) => {
  let otlp: OtlpReceiver;
  let stopTracing: () => Promise<void>;
  let t: TestApp;
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<DeliveryDispatcher | Receiver> = [];
  let tenantN = 0;

  before(async () => {
    otlp = await startOtlpReceiver();
    // A schedule delay longer than any test: spans arrive only when flushed, so the tests wait on
    // the flush, never on a timer.
    stopTracing = await startTracing(
      readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '600000' }),
    );
    // Built with tracing on: the publish route gets its span hooks.
    t = await makeTestApp(kind);
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await ('url' in x ? x.close() : x.stop({ graceMs: 0 }));
    delete t.ctx.handoff;
  });
  after(async () => {
    await t.close();
    await stopTracing();
    await otlp.close();
    await agent.close();
  });

  /** `handoffOnly`: no LISTEN and a long poll, so only a handoff makes a delivery go out soon. */
  function dispatcher(handoffOnly = false): DeliveryDispatcher {
    const d = createDispatcher({
      db: t.ctx.db,
      secretBox: t.ctx.secretBox,
      agent,
      random: () => 0.5,
      ...(handoffOnly ? { listen: false } : {}),
      config: { pollIntervalMs: handoffOnly ? 60_000 : 50 },
    });
    open.push(d);
    return d;
  }

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    open.push(r);
    return r;
  }

  async function tenantWithEndpoint(
    r: Receiver,
    fields: Record<string, unknown> = {},
  ): Promise<{ tenant: string; endpointId: string; secret: string }> {
    const tenant = `trace${++tenantN}`;
    assert.equal((await t.request('POST', '/v1/tenants', { id: tenant, name: tenant })).statusCode, 201);
    const res = await t.request('POST', `/v1/tenants/${tenant}/endpoints`, { url: r.url, ...fields });
    assert.equal(res.statusCode, 201, res.body);
    return { tenant, endpointId: res.json().id, secret: res.json().secret };
  }

  function publish(tenant: string, body: unknown, headers: Record<string, string> = {}) {
    return t.app.inject({
      method: 'POST',
      url: `/v1/tenants/${tenant}/events`,
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });
  }

  /** Flushes the tracer and answers the spans of `traceId` once `n` of them have arrived. */
  async function spansOf(traceId: string, n: number): Promise<ReceivedSpan[]> {
    return waitFor(`${n} spans of trace ${traceId}`, async () => {
      await activeTracing()!.forceFlush();
      const spans = otlp.spans.filter((s) => s.traceId === traceId);
      return spans.length >= n && spans;
    });
  }

  test('a publish continuing a traceparent, and each attempt — a retry included — as its child', async () => {
    const r = await receiver();
    // The first attempt fails, the retry (due at once) succeeds.
    r.handle((_req, res, i) => {
      res.statusCode = i === 0 ? 500 : 200;
      res.end(i === 0 ? 'not yet' : 'ok');
    });
    const { tenant, endpointId, secret } = await tenantWithEndpoint(r, {
      retrySchedule: [0],
      forwardTraceparent: true,
    });
    // A worker claiming from the database: the context comes from the stored event.
    await dispatcher().start();
    const res = await publish(
      tenant,
      { type: 'invoice.paid', data: { n: 1 } },
      { traceparent: `00-${TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=v1' },
    );
    assert.equal(res.statusCode, 202, res.body);
    const eventId = res.json().id;
    await waitFor('two attempts', () => r.requests.length === 2);

    const spans = await spansOf(TRACE, 3);
    const server = spans.find((s) => s.kind === SPAN_KIND_SERVER)!;
    assert.equal(server.name, ROUTE_SPAN);
    assert.equal(server.parentSpanId, CALLER_SPAN);
    assert.equal(server.traceState, 'vendor=v1');
    assert.equal(server.resource['service.name'], 'herald');
    assert.equal(server.attributes['herald.tenant_id'], tenant);
    assert.equal(server.attributes['herald.event_count'], 1);
    assert.deepEqual(server.attributes['herald.event_ids'], [eventId]);
    assert.deepEqual(server.attributes['herald.event_types'], ['invoice.paid']);
    assert.equal(server.attributes['herald.delivery_count'], 1);
    assert.equal(server.attributes['http.route'], '/v1/tenants/{tenantId}/events');
    assert.equal(server.attributes['http.response.status_code'], 202);

    // The publish span's context is what the event keeps.
    const [row] = await t.ctx.db.query<{ trace_context: string }>(
      'SELECT trace_context FROM events WHERE tenant_id = $1 AND id = $2',
      [tenant, eventId],
    );
    assert.equal(row?.trace_context, `00-${TRACE}-${server.spanId}-01 vendor=v1`);

    const [deliveryId] = (
      await t.ctx.db.query<{ id: string }>('SELECT id FROM deliveries WHERE event_id = $1', [eventId])
    ).map((d) => d.id);
    const attempts = spans
      .filter((s) => s.kind === SPAN_KIND_CLIENT)
      .sort((a, b) => Number(a.attributes['herald.attempt']) - Number(b.attributes['herald.attempt']));
    assert.equal(attempts.length, 2);
    for (const [i, a] of attempts.entries()) {
      assert.equal(a.name, 'POST');
      assert.equal(a.parentSpanId, server.spanId, 'each attempt is a child of the publish');
      assert.equal(a.traceState, 'vendor=v1');
      assert.equal(a.attributes['herald.attempt'], i + 1);
      assert.equal(a.attributes['herald.tenant_id'], tenant);
      assert.equal(a.attributes['herald.endpoint_id'], endpointId);
      assert.equal(a.attributes['herald.delivery_id'], deliveryId);
      assert.equal(a.attributes['herald.event_id'], eventId);
      assert.equal(a.attributes['herald.event_type'], 'invoice.paid');
      assert.equal(a.attributes['url.full'], r.url);
      assert.equal(a.attributes['http.request.method'], 'POST');
    }
    const [failed, succeeded] = attempts as [ReceivedSpan, ReceivedSpan];
    assert.equal(failed.attributes['http.response.status_code'], 500);
    assert.equal(failed.attributes['herald.outcome'], 'http_status');
    assert.equal(failed.attributes['herald.next_step'], 'retrying');
    assert.equal(failed.attributes['error.type'], '500');
    assert.deepEqual(failed.status, { code: STATUS_ERROR, message: 'HTTP 500' });
    assert.equal(succeeded.attributes['http.response.status_code'], 200);
    assert.equal(succeeded.attributes['herald.outcome'], 'succeeded');
    assert.equal(succeeded.attributes['herald.next_step'], 'succeeded');
    assert.equal(succeeded.status.code, 0);

    // Forwarded: each request carries its own attempt's context, and still verifies.
    for (const [i, req] of r.requests.entries()) {
      assert.equal(req.headers['traceparent'], `00-${TRACE}-${attempts[i]!.spanId}-01`);
      assert.equal(req.headers['tracestate'], 'vendor=v1');
      new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
    }
  });

  test('handed over in memory (herald serve): a batch publish starts a trace of its own', async () => {
    const r = await receiver();
    const { tenant } = await tenantWithEndpoint(r, { forwardTraceparent: true });
    const d = dispatcher(true);
    await d.start();
    await waitFor('the first claim done', () => d.inFlight === 0);
    t.ctx.handoff = d.handoff;
    const res = await publish(tenant, {
      events: [
        { type: 'order.created', data: { n: 1 } },
        { type: 'order.shipped', data: { n: 2 } },
      ],
    });
    assert.equal(res.statusCode, 202, res.body);
    const ids = res.json().data.map((e: { id: string }) => e.id);
    await waitFor('two receipts', () => r.requests.length === 2);

    const traceId = (r.requests[0]!.headers['traceparent'] as string).split('-')[1]!;
    const spans = await spansOf(traceId, 3);
    const server = spans.find((s) => s.kind === SPAN_KIND_SERVER)!;
    assert.equal(server.parentSpanId, '', 'no traceparent came in: the publish is the root');
    assert.equal(server.attributes['herald.event_count'], 2);
    assert.deepEqual(server.attributes['herald.event_ids'], ids);
    assert.deepEqual(server.attributes['herald.event_types'], ['order.created', 'order.shipped']);
    const attempts = spans.filter((s) => s.kind === SPAN_KIND_CLIENT);
    assert.equal(attempts.length, 2);
    assert.deepEqual(attempts.map((a) => a.attributes['herald.event_id']).sort(), [...ids].sort());
    for (const a of attempts) {
      assert.equal(a.parentSpanId, server.spanId);
      assert.equal(a.attributes['herald.outcome'], 'succeeded');
    }
    assert.deepEqual(
      r.requests.map((q) => q.headers['traceparent']).sort(),
      attempts.map((a) => `00-${traceId}-${a.spanId}-01`).sort(),
    );
    assert.equal(r.requests[0]!.headers['tracestate'], undefined);
  });

  test('a refused publish has its span too, with its status code', async () => {
    const trace = '6bf92f3577b34da6a3ce929d0e0e4736';
    const res = await publish(
      'nobody',
      { type: 'invoice.paid', data: {} },
      { traceparent: `00-${trace}-${CALLER_SPAN}-01` },
    );
    assert.equal(res.statusCode, 404, res.body);
    const bad = await publish(
      'nobody',
      { type: 'invoice.paid' },
      { traceparent: `00-${trace}-${CALLER_SPAN}-01` },
    );
    assert.equal(bad.statusCode, 400, bad.body);
    const spans = await spansOf(trace, 2);
    assert.deepEqual(spans.map((s) => s.attributes['http.response.status_code']).sort(), [400, 404]);
    for (const s of spans) {
      assert.equal(s.kind, SPAN_KIND_SERVER);
      assert.equal(s.parentSpanId, CALLER_SPAN);
      assert.equal(s.status.code, 0, "a 4xx is the caller's, not an error of the server");
      assert.equal(s.attributes['herald.tenant_id'], 'nobody');
    }
  });

  test('an endpoint without forwardTraceparent gets no trace headers, traced or not', async () => {
    const r = await receiver();
    const { tenant } = await tenantWithEndpoint(r);
    await dispatcher().start();
    const res = await publish(
      tenant,
      { type: 'invoice.paid', data: {} },
      { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
    );
    assert.equal(res.statusCode, 202, res.body);
    await waitFor('a receipt', () => r.requests.length === 1);
    assert.equal(r.requests[0]!.headers['traceparent'], undefined);
    assert.equal(r.requests[0]!.headers['tracestate'], undefined);
  });
});
