/**
 * An attempt's part in tracing (src/tracing/): its CLIENT span, a child of the trace context stored
 * with the event at publish (migration 016), and the `traceparent` an endpoint with
 * `forwardTraceparent` receives. deliver-one.ts calls these only when tracing is on, or the
 * endpoint forwards: an untraced attempt makes no span and allocates nothing here.
 */
import type { ClaimedDelivery } from '../queue/claimed-delivery.ts';
import type { NextStepLabel } from '../rules/delivery-status.ts';
import { endSpan, type Span, spanTraceContext, spanUrl, startClientSpan } from '../tracing/spans.ts';
import { formatTraceparent, readStoredTraceContext } from '../tracing/trace-context.ts';
import type { Tracing } from '../tracing/tracing.ts';

/** The span of one attempt, named `POST` as OpenTelemetry names HTTP client spans. */
export function startAttemptSpan(t: Tracing, d: ClaimedDelivery): Span {
  const url = spanUrl(d.endpoint.url);
  return startClientSpan(t, 'POST', readStoredTraceContext(d.traceContext), {
    'http.request.method': 'POST',
    'url.full': url.full,
    'server.address': url.address,
    'server.port': url.port,
    'herald.tenant_id': d.tenantId,
    'herald.endpoint_id': d.endpointId,
    'herald.delivery_id': d.id,
    'herald.event_id': d.events[0]?.id ?? '',
    'herald.event_type': d.eventType,
    'herald.event_count': d.events.length,
    'herald.attempt': d.attemptNumber,
    'herald.sequence': d.sequence,
    'herald.profile': d.endpoint.profile,
  });
}

/** What an attempt came to, as its span records it. */
export interface AttemptSpanResult {
  statusCode?: number | undefined;
  /** The failure's kind (docs/design.md, glossary: outcome); absent: it succeeded. */
  errorKind?: string | undefined;
  errorMessage?: string | undefined;
}

/**
 * Ends the attempt's span: `herald.outcome` (succeeded, or the failure's kind), `herald.next_step`
 * (succeeded, retrying, failed; `released` for a request abandoned on drain, which is no attempt)
 * and, on failure, status ERROR.
 */
export function endAttemptSpan(
  t: Tracing,
  span: Span,
  r: AttemptSpanResult,
  next: NextStepLabel | 'released',
): void {
  const failed = r.errorKind !== undefined && next !== 'released';
  endSpan(
    t,
    span,
    {
      'herald.outcome': r.errorKind ?? 'succeeded',
      'herald.next_step': next,
      ...(r.statusCode !== undefined ? { 'http.response.status_code': r.statusCode } : {}),
      ...(failed
        ? { 'error.type': r.errorKind === 'http_status' ? String(r.statusCode) : r.errorKind! }
        : {}),
    },
    failed ? (r.errorMessage ?? r.errorKind) : undefined,
  );
}

/**
 * Adds `traceparent` (and `tracestate`) to the request of an endpoint that forwards them: the
 * attempt span's context when tracing is on, else the publish's stored one; nothing when there is
 * neither. Headers only: no profile signs these, so the signed bytes are the same.
 */
export function addTraceHeaders(
  headers: Record<string, string>,
  d: ClaimedDelivery,
  span: Span | null,
): void {
  const c = span !== null ? spanTraceContext(span) : readStoredTraceContext(d.traceContext);
  if (c === null) return;
  headers['traceparent'] = formatTraceparent(c);
  if (c.traceState !== undefined) headers['tracestate'] = c.traceState;
}
