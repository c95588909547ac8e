/**
 * Tracing off (no OTEL_* endpoint) and tracing on with nothing sampled: no tracer, no span, nothing
 * exported — yet a caller's traceparent is still kept with its events and forwarded to endpoints that
 * asked, and with sampler always_off forwarding still sends a valid (unsampled) traceparent.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { createDispatcher, type DeliveryDispatcher } from '../../src/delivery/dispatcher.ts';
import { parseTraceparent } from '../../src/tracing/trace-context.ts';
import { activeTracing, startTracing } from '../../src/tracing/tracing.ts';
import { readTracingConfig } from '../../src/tracing/tracing-config.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { type Receiver, startReceiver, waitFor } from '../support/delivery-fixtures.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts';
import { forEachStorage, type StorageKind } from '../support/storage.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

/** A test app, a dispatcher and a receiver, with a tenant whose endpoint forwards traceparent. */
function harness(kind: StorageKind) {
  const agent = new Agent({ connect: { timeout: 1000 } });
  const open: Array<DeliveryDispatcher | Receiver> = [];
  let n = 0;
  const h = {
    t: undefined as unknown as TestApp,
    async start() {
      h.t = await makeTestApp(kind);
    },
    async cleanUp() {
      for (const x of open.splice(0).reverse()) await ('url' in x ? x.close() : x.stop({ graceMs: 0 }));
    },
    async close() {
      await h.t.close();
      await agent.close();
    },
    /** Publishes one event to a fresh tenant's forwarding endpoint; answers what the receiver got. */
    async deliver(headers: Record<string, string>) {
      const r = await startReceiver();
      open.push(r);
      const tenant = `off${++n}`;
      assert.equal((await h.t.request('POST', '/v1/tenants', { id: tenant, name: tenant })).statusCode, 201);
      const ep = await h.t.request('POST', `/v1/tenants/${tenant}/endpoints`, {
        url: r.url,
        forwardTraceparent: true,
      });
      assert.equal(ep.statusCode, 201, ep.body);
      const d = createDispatcher({
        db: h.t.ctx.db,
        secretBox: h.t.ctx.secretBox,
        agent,
        config: { pollIntervalMs: 50 },
      });
      open.push(d);
      await d.start();
      const res = await h.t.app.inject({
        method: 'POST',
        url: `/v1/tenants/${tenant}/events`,
        headers: { authorization: `Bearer ${h.t.adminKey}`, 'content-type': 'application/json', ...headers },
        payload: JSON.stringify({ type: 'invoice.paid', data: {} }),
      });
      assert.equal(res.statusCode, 202, res.body);
      await waitFor('a receipt', () => r.requests.length === 1);
      const [row] = await h.t.ctx.db.query<{ trace_context: string | null }>(
        'SELECT trace_context FROM events WHERE tenant_id = $1',
        [tenant],
      );
      return { headers: r.requests[0]!.headers, stored: row!.trace_context };
    },
  };
  return h;
}

forEachStorage('tracing', (kind) => {
  describe('off (no endpoint set)', () => {
    const h = harness(kind);
    before(async () => {
      // What start.ts does with an environment naming no endpoint: nothing starts.
      await startTracing(
        readTracingConfig({ OTEL_SERVICE_NAME: 'herald', OTEL_TRACES_SAMPLER: 'always_on' }),
      );
      assert.equal(activeTracing(), null);
      await h.start();
    });
    afterEach(() => h.cleanUp());
    after(() => h.close());

    test("a caller's traceparent is kept with the event and forwarded as it came", async () => {
      const got = await h.deliver({
        traceparent: `00-${TRACE}-${CALLER_SPAN}-01`,
        tracestate: 'congo=t61rcWkgMzE',
      });
      assert.equal(got.stored, `00-${TRACE}-${CALLER_SPAN}-01 congo=t61rcWkgMzE`);
      assert.equal(got.headers['traceparent'], `00-${TRACE}-${CALLER_SPAN}-01`);
      assert.equal(got.headers['tracestate'], 'congo=t61rcWkgMzE');
    });

    test('without a valid traceparent nothing is kept and nothing is forwarded', async () => {
      const cases: Array<Record<string, string>> = [
        {},
        { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01`, tracestate: 'a=b' },
      ];
      for (const headers of cases) {
        const got = await h.deliver(headers);
        assert.equal(got.stored, null);
        assert.equal(got.headers['traceparent'], undefined);
        assert.equal(got.headers['tracestate'], undefined);
      }
    });
  });

  describe('on, sampler always_off', () => {
    const h = harness(kind);
    let otlp: OtlpReceiver;
    let stop: () => Promise<void>;
    before(async () => {
      otlp = await startOtlpReceiver();
      stop = await startTracing(
        readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER: 'always_off' }),
      );
      await h.start();
    });
    afterEach(() => h.cleanUp());
    after(async () => {
      await h.close();
      await stop();
      await otlp.close();
    });

    test('nothing is exported; forwarding still sends a valid traceparent, not sampled', async () => {
      const fresh = await h.deliver({});
      const sent = parseTraceparent(fresh.headers['traceparent']);
      assert.ok(sent, `a valid traceparent: ${fresh.headers['traceparent']}`);
      assert.equal(sent.traceFlags, 0);
      // The publish's (unsampled) context is kept, so a worker's parent-based sampler agrees.
      assert.equal(parseTraceparent(fresh.stored!)?.traceId, sent.traceId);

      const continued = await h.deliver({ traceparent: `00-${TRACE}-${CALLER_SPAN}-01` });
      const forwarded = parseTraceparent(continued.headers['traceparent']);
      assert.equal(forwarded?.traceId, TRACE);
      assert.notEqual(forwarded?.spanId, CALLER_SPAN, "the attempt's own span id");
      assert.equal(forwarded?.traceFlags, 0);

      await activeTracing()!.forceFlush();
      assert.deepEqual(otlp.requests, [], 'no export request at all');
    });
  });
});
