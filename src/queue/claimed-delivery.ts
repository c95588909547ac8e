/**
 * A delivery as the dispatcher holds it, claimed (claim-deliveries.ts) or handed over by publishing
 * (src/publish/handoff-port.ts): the delivery, its endpoint's configuration and its events — all that
 * sending it needs, read in the statement that gave it to this worker.
 */
import type { HandedOverRow } from './handed-over-row.ts';

export interface ClaimedEvent {
  id: string;
  type: string;
  data: unknown;
  /** True when the retention job removed the payload. */
  purged: boolean;
  occurredAt: Date | null;
  createdAt: Date;
}

export type EndpointAuthSealed = string | null;

export interface ClaimedEndpoint {
  id: string;
  url: string;
  secretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
  headers: Record<string, string>;
  profile: string;
  profileOptions: Record<string, unknown>;
  authEnc: EndpointAuthSealed;
  retrySchedule: number[] | null;
  connectTimeoutMs: number | null;
  totalTimeoutMs: number | null;
  rateLimitPerSecond: number | null;
  /** Send each attempt's `traceparent` (src/delivery/attempt-trace.ts); absent: false. */
  forwardTraceparent?: boolean;
  /** Its limit on requests in flight when claimed (adaptive; 1 while its circuit probes). */
  maxInFlight?: number;
}

export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  endpointId: string;
  eventType: string;
  sequence: number;
  fifo: boolean;
  /** The number of the attempt this claim makes (1 for the first). */
  attemptNumber: number;
  endpoint: ClaimedEndpoint;
  /** In the delivery's order; a missing event shows as purged. */
  events: ClaimedEvent[];
  /**
   * The W3C trace context of the publish that created its events, as stored
   * (src/tracing/trace-context.ts); null or absent: none was kept.
   */
  traceContext?: string | null;
  /** Set by the dispatcher: when it got the claim (performance.now()), to bound how long it holds it. */
  heldSince?: number;
  /**
   * Handed over past its endpoint's ahead room: it waits in the endpoint's backlog line, and counts
   * against the budget of deliveries held behind, not against the claim room (src/delivery/handoff-room.ts).
   */
  heldBehind?: boolean;
  /** Handed over by publishing: its row is not written yet (src/queue/handed-over-row.ts). */
  handoff?: HandedOverRow;
  /** Set by the dispatcher for handed-over deliveries: their share of the publish's event bytes. */
  heldBytes?: number;
  /** Set by the dispatcher: handed over by publishing in its process (fresh: it goes first). */
  handedOver?: boolean;
}

/** The endpoint columns sending needs, as selected by {@link ENDPOINT_CONFIG_COLUMNS}. */
export interface EndpointConfigRow {
  url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_until: Date | null;
  headers: Record<string, string>;
  profile: string;
  profile_options: Record<string, unknown>;
  auth_enc: string | null;
  retry_schedule: number[] | null;
  connect_timeout_ms: number | null;
  total_timeout_ms: number | null;
  rate_limit_per_second: number | null;
  /** Selected always; optional so rows made by hand need not name it (absent: false). */
  forward_traceparent?: boolean;
}

/** The columns of `endpoints e` that {@link toClaimedEndpoint} reads. */
export const ENDPOINT_CONFIG_COLUMNS = `e.url, e.secret_enc, e.previous_secret_enc, e.previous_secret_until,
  e.headers, e.profile, e.profile_options, e.auth_enc, e.retry_schedule, e.connect_timeout_ms,
  e.total_timeout_ms, e.rate_limit_per_second, e.forward_traceparent`;

export function toClaimedEndpoint(id: string, row: EndpointConfigRow): ClaimedEndpoint {
  return {
    id,
    url: row.url,
    secretEnc: row.secret_enc,
    previousSecretEnc: row.previous_secret_enc,
    previousSecretUntil: row.previous_secret_until,
    headers: row.headers ?? {},
    profile: row.profile,
    profileOptions: row.profile_options ?? {},
    authEnc: row.auth_enc,
    retrySchedule: row.retry_schedule,
    connectTimeoutMs: row.connect_timeout_ms,
    totalTimeoutMs: row.total_timeout_ms,
    rateLimitPerSecond: row.rate_limit_per_second,
    forwardTraceparent: row.forward_traceparent === true,
  };
}
