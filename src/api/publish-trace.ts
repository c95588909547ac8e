/**
 * The publish call's part in tracing (src/tracing/): a SERVER span per `POST …/events`, continuing
 * the caller's W3C `traceparent`/`tracestate`, and the trace context stored with the call's events
 * (migration 016) — the span's when tracing is on, else the caller's header as it came, so a
 * receiver that asked for it still gets the caller's trace (forwardTraceparent).
 *
 * The span's hooks are added to the route only when tracing runs as the API is built
 * (src/server/start.ts starts tracing first): untraced, a publish pays for nothing here but
 * reading one header.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PublishResult } from '../publish/types.ts';
import { endSpan, type Span, spanTraceContext, startServerSpan } from '../tracing/spans.ts';
import { storeTraceContext, traceContextFromHeaders } from '../tracing/trace-context.ts';
import { activeTracing, type Tracing } from '../tracing/tracing.ts';

const ROUTE = '/v1/tenants/{tenantId}/events';
/** Event ids and types a span lists, at most: a batch of 100 would make every span heavy. */
const MAX_LISTED = 10;

const spans = new WeakMap<FastifyRequest, { t: Tracing; span: Span }>();

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
type AbortHook = (req: FastifyRequest) => Promise<void>;

/**
 * The publish route's hooks when tracing is on (spread into its options), else none.
 *
 * @example app.post('/v1/tenants/:tenantId/events', { ...publishSpanHooks(), schema }, handler)
 */
export function publishSpanHooks():
  | { onRequest: Hook; onResponse: Hook; onRequestAbort: AbortHook }
  | object {
  const t = activeTracing();
  if (t === null) return {};
  return {
    // After authentication (the app's own onRequest hooks run first): a refused key makes no span.
    async onRequest(req) {
      const incoming = traceContextFromHeaders(req.headers['traceparent'], req.headers['tracestate']);
      const span = startServerSpan(t, `POST ${ROUTE}`, incoming, {
        'http.request.method': 'POST',
        'http.route': ROUTE,
        'url.path': req.url.split('?', 1)[0]!,
        'herald.tenant_id': (req.params as { tenantId?: string }).tenantId ?? '',
      });
      spans.set(req, { t, span });
    },
    async onResponse(req, reply) {
      const s = spans.get(req);
      if (!s) return;
      spans.delete(req);
      const code = reply.statusCode;
      // A 4xx is the caller's mistake, not the server's (OpenTelemetry's rule for SERVER spans).
      endSpan(s.t, s.span, { 'http.response.status_code': code }, code >= 500 ? `HTTP ${code}` : undefined);
    },
    async onRequestAbort(req) {
      const s = spans.get(req);
      if (!s) return;
      spans.delete(req);
      endSpan(s.t, s.span, { 'herald.aborted': true });
    },
  };
}

/**
 * The trace context to store with the call's events (src/tracing/trace-context.ts): the publish
 * span's, else the caller's valid `traceparent` (with its `tracestate`), else none.
 */
export function publishTraceContext(req: FastifyRequest): string | undefined {
  const s = activeTracing() === null ? undefined : spans.get(req);
  if (s) return storeTraceContext(spanTraceContext(s.span));
  const incoming = req.headers['traceparent'];
  if (incoming === undefined) return undefined;
  const c = traceContextFromHeaders(incoming, req.headers['tracestate']);
  return c === null ? undefined : storeTraceContext(c);
}

/** Records what the call published on its span (when it has one). */
export function annotatePublish(req: FastifyRequest, result: PublishResult): void {
  const s = activeTracing() === null ? undefined : spans.get(req);
  if (!s) return;
  const ids = result.events.slice(0, MAX_LISTED).map((e) => e.id);
  const types = [...new Set(result.events.map((e) => e.type))].slice(0, MAX_LISTED);
  s.span.setAttributes({
    'herald.event_count': result.events.length,
    'herald.event_ids': ids,
    'herald.event_types': types,
    'herald.delivery_count': result.deliveries.length,
    'herald.replayed': result.replayed,
  });
}
