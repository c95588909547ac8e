/**
 * Span helpers over a running tracer (tracing.ts): spans start under an explicit parent — an
 * incoming or stored W3C trace context — so a delivery attempt made by another process, minutes
 * later, still joins the trace of the publish that created it. Callers only get here when
 * `activeTracing()` answered a tracer.
 */
import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { TraceContext } from './trace-context.ts';
import type { Tracing } from './tracing.ts';

export type { Attributes, Span };

/** A context whose span is `parent` (remote: from a header or the database); none: a new trace. */
export function parentContext(t: Tracing, parent: TraceContext | null): Context {
  const root = t.api.ROOT_CONTEXT;
  if (parent === null) return root;
  return t.api.trace.setSpanContext(root, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.traceFlags,
    isRemote: true,
    ...(parent.traceState !== undefined ? { traceState: t.traceState(parent.traceState) } : {}),
  });
}

/** The trace context a span passes on: its own ids and flags, and its parent's tracestate. */
export function spanTraceContext(span: Span): TraceContext {
  const c = span.spanContext();
  const state = c.traceState?.serialize();
  return {
    traceId: c.traceId,
    spanId: c.spanId,
    traceFlags: c.traceFlags,
    ...(state ? { traceState: state } : {}),
  };
}

/**
 * A SERVER span for an incoming request, continuing the caller's trace when it sent one.
 *
 * @example const span = startServerSpan(t, 'POST /v1/tenants/{tenantId}/events', incoming, { 'http.request.method': 'POST' })
 */
export function startServerSpan(
  t: Tracing,
  name: string,
  incoming: TraceContext | null,
  attributes: Attributes,
): Span {
  return t.tracer.startSpan(name, { kind: t.api.SpanKind.SERVER, attributes }, parentContext(t, incoming));
}

/** A CLIENT span for an outgoing request, under `parent` (a stored context; null: a new trace). */
export function startClientSpan(
  t: Tracing,
  name: string,
  parent: TraceContext | null,
  attributes: Attributes,
): Span {
  return t.tracer.startSpan(name, { kind: t.api.SpanKind.CLIENT, attributes }, parentContext(t, parent));
}

/** Ends `span` with more attributes; `error` marks it failed (status ERROR with that message). */
export function endSpan(t: Tracing, span: Span, attributes: Attributes, error?: string): void {
  span.setAttributes(attributes);
  if (error !== undefined) span.setStatus({ code: t.api.SpanStatusCode.ERROR, message: error });
  span.end();
}

/** A URL as spans show it, and its host and port (OpenTelemetry's `url.full`, `server.*`). */
export interface SpanUrl {
  full: string;
  address: string;
  port: number;
}

const spanUrls = new Map<string, SpanUrl>();

/**
 * `url` fit for a span: never its credentials, and its query's values replaced by `REDACTED` —
 * receivers put tokens there, and spans leave Herald for a tracing backend. Parsed once per URL.
 *
 * @example spanUrl('https://hooks.example/in?token=abc').full // 'https://hooks.example/in?token=REDACTED'
 */
export function spanUrl(url: string): SpanUrl {
  let out = spanUrls.get(url);
  if (out === undefined) {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const keys = [...u.searchParams.keys()];
    if (keys.length > 0) u.search = keys.map((k) => `${encodeURIComponent(k)}=REDACTED`).join('&');
    out = {
      full: u.href,
      address: u.hostname,
      port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
    };
    if (spanUrls.size >= 10_000) spanUrls.clear();
    spanUrls.set(url, out);
  }
  return out;
}
