/**
 * The stats routes' reads (src/api/routes/endpoint-stats.ts, operator-stats.ts): figures over one
 * time window of attempts, bucketed. Every attempts query reads an index over the window only
 * (`attempts (endpoint_id, started_at DESC)` per endpoint, `attempts (created_at)` for all), so its
 * cost is bounded by the window's attempts, never by the history.
 */
import { one, type Queryable } from '../db/db.ts';
import { nowSql } from '../queue/queue-time.ts';
import { type HealthRow, healthColumns } from './endpoint-health.ts';

/** The SQL for the bucket index of timestamp column `col`, given the parameters holding from and size. */
const bucketSql = (col: string, fromParam: string, sizeParam: string): string =>
  `floor(extract(epoch FROM ${col} - ${fromParam}::timestamptz) / ${sizeParam}::int)::int`;

export interface StatsRange {
  from: Date;
  to: Date;
  bucketSeconds: number;
}

export interface LastAttemptRow {
  last_started_at: Date | null;
  last_status_code: number | null;
  last_error_kind: string | null;
}

// The newest attempt of endpoint `e`, found by the index whatever the window.
const LAST_ATTEMPT_JOIN = `LEFT JOIN LATERAL (
    SELECT a.started_at AS last_started_at, a.status_code AS last_status_code, a.error_kind AS last_error_kind
    FROM attempts a WHERE a.endpoint_id = e.id ORDER BY a.started_at DESC LIMIT 1) la ON true`;

export type EndpointSummaryRow = LastAttemptRow & {
  id: string;
  attempts: number;
  succeeded: number;
  failing_since: Date | null;
};

/** Attempts and successes in the range, and the last attempt, of the tenant's endpoints among `ids`. */
export function endpointSummaries(
  q: Queryable,
  tenantId: string,
  ids: string[],
  range: Pick<StatsRange, 'from' | 'to'>,
): Promise<EndpointSummaryRow[]> {
  return q.query<EndpointSummaryRow>(
    `SELECT e.id, e.failing_since, la.*,
       (SELECT count(*) FROM attempts a
        WHERE a.endpoint_id = e.id AND a.started_at >= $3 AND a.started_at < $4)::int AS attempts,
       (SELECT count(*) FROM attempts a
        WHERE a.endpoint_id = e.id AND a.started_at >= $3 AND a.started_at < $4
          AND a.error_kind IS NULL)::int AS succeeded
     FROM endpoints e ${LAST_ATTEMPT_JOIN}
     WHERE e.tenant_id = $1 AND e.id = ANY($2::text[])
     ORDER BY e.id`,
    [tenantId, ids, range.from, range.to],
  );
}

/** The tenant's endpoint with its last attempt; undefined if it has none such. */
export function endpointLastAttempt(
  q: Queryable,
  tenantId: string,
  endpointId: string,
): Promise<(LastAttemptRow & { id: string; failing_since: Date | null }) | undefined> {
  return one(
    q,
    `SELECT e.id, e.failing_since, la.* FROM endpoints e ${LAST_ATTEMPT_JOIN}
     WHERE e.tenant_id = $1 AND e.id = $2`,
    [tenantId, endpointId],
  );
}

export interface EndpointBucketRow {
  bucket: number;
  attempts: number;
  succeeded: number;
  sum_ms: number;
  avg_ms: number;
  p95_ms: number;
}

/** One endpoint's attempts per bucket of the range (buckets without attempts are absent). */
export function endpointAttemptBuckets(
  q: Queryable,
  endpointId: string,
  range: StatsRange,
): Promise<EndpointBucketRow[]> {
  return q.query<EndpointBucketRow>(
    `SELECT ${bucketSql('started_at', '$2', '$4')} AS bucket,
       count(*)::int AS attempts,
       count(*) FILTER (WHERE error_kind IS NULL)::int AS succeeded,
       sum(duration_ms)::float8 AS sum_ms,
       avg(duration_ms)::float8 AS avg_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95_ms
     FROM attempts
     WHERE endpoint_id = $1 AND started_at >= $2 AND started_at < $3
     GROUP BY 1`,
    [endpointId, range.from, range.to, range.bucketSeconds],
  );
}

export interface EndpointRefRow {
  tenant_id: string;
  id: string;
  url: string;
  name: string | null;
}

/** The operator's endpoint figures: counts, and the first `limit` failing, disabled and circuit-open ones. */
export async function endpointTrouble(
  q: Queryable,
  limit: number,
  /** The queue's injected time (tests), or null for the database's now(): half-open as the claim decides it. */
  queueNow: Date | null,
) {
  const [counts] = await q.query<{ failing: number; disabled: number }>(
    `SELECT count(*) FILTER (WHERE active AND failing_since IS NOT NULL)::int AS failing,
       count(*) FILTER (WHERE NOT active)::int AS disabled
     FROM endpoints`,
  );
  const failing = await q.query<EndpointRefRow & { failing_since: Date }>(
    `SELECT tenant_id, id, url, name, failing_since FROM endpoints
     WHERE active AND failing_since IS NOT NULL ORDER BY failing_since, id LIMIT $1`,
    [limit],
  );
  const disabled = await q.query<
    EndpointRefRow & { disabled_reason: string | null; disabled_at: Date | null }
  >(
    `SELECT tenant_id, id, url, name, disabled_reason, disabled_at FROM endpoints
     WHERE NOT active ORDER BY disabled_at DESC NULLS LAST, id LIMIT $1`,
    [limit],
  );
  const circuitOpen = await q.query<EndpointRefRow & HealthRow>(
    `SELECT tenant_id, id, url, name, ${healthColumns(nowSql('$2'))}
     FROM endpoints WHERE active AND circuit_state = 'open'
     ORDER BY circuit_opened_at NULLS LAST, id LIMIT $1`,
    [limit, queueNow],
  );
  return {
    failingCount: counts?.failing ?? 0,
    disabledCount: counts?.disabled ?? 0,
    failing,
    disabled,
    circuitOpen,
  };
}

export interface AttemptBucketRow {
  bucket: number;
  succeeded: number;
  rejected: number;
  errored: number;
}

/** All attempts per bucket of the range, by outcome: succeeded, rejected (an HTTP status), errored. */
export function attemptBuckets(q: Queryable, range: StatsRange): Promise<AttemptBucketRow[]> {
  return q.query<AttemptBucketRow>(
    `SELECT ${bucketSql('created_at', '$1', '$3')} AS bucket,
       count(*) FILTER (WHERE error_kind IS NULL)::int AS succeeded,
       count(*) FILTER (WHERE error_kind = 'http_status')::int AS rejected,
       count(*) FILTER (WHERE error_kind IS NOT NULL AND error_kind <> 'http_status')::int AS errored
     FROM attempts WHERE created_at >= $1 AND created_at < $2
     GROUP BY 1`,
    [range.from, range.to, range.bucketSeconds],
  );
}
