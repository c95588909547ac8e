/**
 * An endpoint's health as the API, /metrics and the operator's stats show it: its circuit breaker
 * and its adaptive concurrency limit (migration 008, docs/isolation.md). Recording attempts keeps
 * them (src/queue/record-outcomes.ts); here they are only read, and reset when an endpoint is
 * re-enabled. No write of the API accepts them.
 */
import type { Queryable } from '../db/db.ts';
import { disabledEventsSql, insertOutboxSql, notOperational } from '../queue/operational-outbox.ts';

/**
 * `half_open`: stored as open, but its cool-down is over, so the next claim lets one probe through
 * (the same test as src/queue/claim-deliveries.ts).
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface EndpointHealth {
  circuit: CircuitState;
  circuitReason: string | null;
  circuitOpenedAt: string | null;
  circuitUntil: string | null;
  consecutiveFailures: number;
  /**
   * Its adaptive limit on requests in flight; null = the configured maximum. A new endpoint starts at
   * 8 (slow start); failures halve it, successes add one each.
   */
  concurrencyLimit: number | null;
}

export interface HealthRow {
  circuit_state: string;
  circuit_probing: boolean;
  circuit_reason: string | null;
  circuit_opened_at: Date | null;
  circuit_until: Date | null;
  consecutive_failures: number;
  concurrency_limit: number | null;
}

/**
 * The columns {@link toHealth} reads, for a SELECT or RETURNING on `endpoints`. `now` is the SQL for
 * the current time: the database's clock by default, as the claim uses in production.
 *
 * @example `SELECT id, ${healthColumns()} FROM endpoints WHERE …`
 */
export const healthColumns = (now = 'now()'): string =>
  `circuit_state, circuit_reason, circuit_opened_at, circuit_until, consecutive_failures, concurrency_limit,
  (circuit_state = 'open' AND (circuit_until IS NULL OR circuit_until <= ${now})) AS circuit_probing`;

function circuitOf(r: Pick<HealthRow, 'circuit_state' | 'circuit_probing'>): CircuitState {
  if (r.circuit_state !== 'open') return 'closed';
  return r.circuit_probing ? 'half_open' : 'open';
}

export function toHealth(r: HealthRow): EndpointHealth {
  return {
    circuit: circuitOf(r),
    circuitReason: r.circuit_reason,
    circuitOpenedAt: r.circuit_opened_at?.toISOString() ?? null,
    circuitUntil: r.circuit_until?.toISOString() ?? null,
    consecutiveFailures: r.consecutive_failures,
    concurrencyLimit: r.concurrency_limit,
  };
}

/**
 * The assignments that put an endpoint back in the state of a new one: circuit closed, no failure
 * streak, not throttled. For re-enabling: the operator or tenant says the receiver is fixed, and
 * its resumed deliveries should not wait out a cool-down from before.
 */
export const RESET_HEALTH_SQL = `circuit_state = 'closed', circuit_until = NULL, circuit_reason = NULL,
  circuit_opened_at = NULL, circuit_trips = 0, consecutive_failures = 0, concurrency_limit = DEFAULT`;

export interface HealthCounts {
  /** Active endpoints whose circuit is open, half-open ones included: their deliveries wait. */
  circuitOpen: number;
  /**
   * Active endpoints failing and held below the configured maximum of requests in flight (a new
   * endpoint below it that has not failed is only starting slowly).
   */
  throttled: number;
}

/**
 * How many active endpoints have an open circuit or a lowered limit, for /metrics and `GET /v1/stats`.
 * Inactive endpoints are left out: nothing is claimed for them anyway, and re-enabling resets them.
 *
 * @example const { circuitOpen, throttled } = await endpointHealthCounts(db)
 */
export async function endpointHealthCounts(q: Queryable): Promise<HealthCounts> {
  const [row] = await q.query<{ circuit_open: number; throttled: number }>(
    `SELECT count(*) FILTER (WHERE circuit_state = 'open')::int AS circuit_open,
       count(*) FILTER (WHERE concurrency_limit IS NOT NULL AND consecutive_failures > 0)::int AS throttled
     FROM endpoints WHERE active`,
  );
  return { circuitOpen: row?.circuit_open ?? 0, throttled: row?.throttled ?? 0 };
}

export interface DisabledEndpoint {
  id: string;
  tenantId: string;
  url: string;
  failingSince: Date;
}

/**
 * Disables, with `reason`, every active endpoint failing continuously since `failingSince` or
 * earlier (src/delivery/auto-disable.ts); answers those it disabled. The same statement writes an
 * `endpoint.disabled` operational event for each (src/queue/operational-outbox.ts), so none is lost
 * and none is made for a change that did not commit.
 */
export async function disableEndpointsFailingSince(
  q: Queryable,
  opts: { now: Date; failingSince: Date; reason: string },
): Promise<DisabledEndpoint[]> {
  const rows = await q.query<{ id: string; tenant_id: string; url: string; failing_since: Date }>(
    `WITH disabled AS (
       UPDATE endpoints
       SET active = false, disabled_reason = $3, disabled_at = $1, updated_at = $1,
         trouble_reported_at = CASE WHEN ${notOperational('tenant_id')} THEN coalesce(trouble_reported_at, $1) END
       WHERE active AND failing_since IS NOT NULL AND failing_since <= $2
       RETURNING id, tenant_id, url, failing_since, disabled_reason, disabled_at
     ),
     operational AS (${insertOutboxSql(disabledEventsSql(), '$1::timestamptz')})
     SELECT id, tenant_id, url, failing_since FROM disabled`,
    [opts.now, opts.failingSince, opts.reason],
  );
  return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, url: r.url, failingSince: r.failing_since }));
}
