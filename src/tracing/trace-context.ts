/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as Herald reads, keeps and forwards it,
 * without the OpenTelemetry SDK: a publish's incoming `traceparent` is kept with its events even
 * when tracing is off, and forwarded to receivers that asked for it, so this must cost no SDK load.
 *
 * The stored form (events.trace_context, migration 016) is the `traceparent`, then — when there is
 * one — a space and the `tracestate`. A traceparent holds no space, so the first one splits them.
 */

/** A parsed `traceparent`: ids in lower-case hex, flags as a number (bit 0: sampled). */
export interface Traceparent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** A trace context: its traceparent and, if any, its tracestate (vendors' entries, passed on as is). */
export interface TraceContext extends Traceparent {
  traceState?: string;
}

// version-traceid-parentid-flags; a future version may append fields after another '-'.
const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** The spec's floor for what a vendor must pass on; longer lists are dropped rather than cut. */
export const MAX_TRACESTATE_LENGTH = 512;
// List members are printable ASCII; the header as a whole (commas, optional spaces) is too.
const TRACESTATE_RE = /^[\u0020-\u007e]+$/;

/**
 * Parses a `traceparent` header; null when absent or invalid (then the call starts a new trace, as
 * the spec says a receiver must).
 *
 * @example parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') // { traceId: '4bf9…', spanId: '00f0…', traceFlags: 1 }
 */
export function parseTraceparent(header: string | string[] | undefined): Traceparent | null {
  if (typeof header !== 'string') return null;
  const m = TRACEPARENT_RE.exec(header.trim());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is forbidden; version 00 has exactly these four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return null;
  return { traceId: traceId!, spanId: spanId!, traceFlags: Number.parseInt(flags!, 16) };
}

/** A `tracestate` header worth passing on, or undefined (absent, empty, too long or not ASCII). */
export function cleanTracestate(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const s = header.trim();
  if (s.length === 0 || s.length > MAX_TRACESTATE_LENGTH || !TRACESTATE_RE.test(s)) return undefined;
  return s;
}

/**
 * The `traceparent` header for a context, always version 00 (what this implementation speaks).
 *
 * @example formatTraceparent({ traceId, spanId, traceFlags: 1 }) // '00-<traceId>-<spanId>-01'
 */
export function formatTraceparent(c: Traceparent): string {
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The incoming headers' trace context, or null without a valid `traceparent`. */
export function traceContextFromHeaders(
  traceparent: string | string[] | undefined,
  tracestate: string | string[] | undefined,
): TraceContext | null {
  const parent = parseTraceparent(traceparent);
  if (!parent) return null;
  const state = cleanTracestate(tracestate);
  return state === undefined ? parent : { ...parent, traceState: state };
}

/** The stored form of a trace context (events.trace_context). */
export function storeTraceContext(c: TraceContext): string {
  const parent = formatTraceparent(c);
  return c.traceState === undefined ? parent : `${parent} ${c.traceState}`;
}

/** A stored trace context read back; null when there is none (or it no longer parses). */
export function readStoredTraceContext(stored: string | null | undefined): TraceContext | null {
  if (!stored) return null;
  const space = stored.indexOf(' ');
  if (space < 0) return parseTraceparent(stored);
  return traceContextFromHeaders(stored.slice(0, space), stored.slice(space + 1));
}
