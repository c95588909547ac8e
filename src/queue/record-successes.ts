/**
 * Recording a batch of successes on healthy endpoints — what nearly every batch is — without the
 * endpoint machinery of the whole recording statement (record-outcomes.ts): a success changes an
 * endpoint's row only when the endpoint was failing, had its adaptive limit below the cap, had
 * failures to forget, an open circuit or trouble reported. The statement checks exactly that first,
 * by primary key, and writes nothing when any endpoint of the batch is in such a state; the caller
 * then records the batch with the whole statement.
 *
 * Why: for the batches of one or two that low rates make (a delivery a second, or sequential
 * publishes), the whole statement cost PostgreSQL ~380 µs of CPU per call, this one ~260 µs — its
 * endpoint CTEs and the operational events' subqueries are started and evaluated even when they
 * find nothing. Batches of hundreds spread that thin and gain nothing measurable.
 */
import { prepared, type Queryable } from '../db/db.ts';
import {
  type AttemptRecord,
  attemptCtes,
  attemptRows,
  finishedHandoffsCte,
  INPUT_CTE,
  updatedCte,
} from './attempt-rows.ts';
import { nowParam } from './queue-time.ts';

// Every endpoint of the batch ($4, a JSON array of ids) is in the state a success leaves as it is:
// the conditions under which record-outcomes.ts's `endpoint_locks` would lock and write the row of
// an endpoint whose batch holds successes only.
const HEALTHY = `healthy AS MATERIALIZED (
  SELECT NOT EXISTS (
    SELECT 1 FROM json_array_elements_text($4::json) AS b(id) JOIN endpoints e ON e.id = b.id
    WHERE e.failing_since IS NOT NULL OR e.concurrency_limit IS NOT NULL OR e.consecutive_failures > 0
      OR e.circuit_state <> 'closed' OR e.trouble_reported_at IS NOT NULL
  ) AS ok
)`;
const ONLY_HEALTHY = '(SELECT ok FROM healthy)';

// Planned scan-free, as the whole statement is and for the same reason (its comment there).
const SUCCESS_SQL = prepared(
  'herald_record_successes',
  `WITH ${HEALTHY},
${INPUT_CTE},
${updatedCte(ONLY_HEALTHY)},
${attemptCtes(ONLY_HEALTHY)},
${finishedHandoffsCte('$5', ONLY_HEALTHY)}
SELECT 'd' AS kind, id FROM updated
UNION ALL SELECT 'x', NULL FROM healthy WHERE NOT ok`,
  { plan: 'scan-free', commit: 'async' },
);

/** Every attempt of the batch succeeded: the batch may go through {@link recordSuccesses}. */
export function plainSuccesses(records: readonly AttemptRecord[]): boolean {
  for (const r of records) if (r.status !== 'succeeded' || r.endpointGone) return false;
  return true;
}

/** The statement and its parameters (exported for plan tests). */
export function successStatement(
  records: readonly AttemptRecord[],
  opts: { workerId: string; now?: Date | null; finishedHandoffs?: readonly string[] },
) {
  const endpoints = [...new Set(records.map((r) => r.endpointId))];
  return {
    sql: SUCCESS_SQL,
    params: [
      nowParam(opts.now),
      opts.workerId,
      attemptRows(records),
      JSON.stringify(endpoints),
      opts.finishedHandoffs ?? [],
    ],
  };
}

/**
 * Writes a batch of successes ({@link plainSuccesses}) if none of its endpoints' rows has to change:
 * answers the deliveries moved on (the others' claims had been lost), or undefined — nothing
 * written — when an endpoint's state has to change, for the whole statement to record the batch.
 */
export async function recordSuccesses(
  q: Queryable,
  records: readonly AttemptRecord[],
  opts: { workerId: string; now?: Date | null; finishedHandoffs?: readonly string[] },
): Promise<string[] | undefined> {
  const { sql, params } = successStatement(records, opts);
  const rows = await q.query<{ kind: 'd' | 'x'; id: string }>(sql, params);
  const moved: string[] = [];
  for (const r of rows) {
    if (r.kind === 'x') return undefined;
    moved.push(r.id);
  }
  return moved;
}
