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
import { type PreparedSql, prepared, type Queryable } from '../db/db.ts';
import {
  type AttemptRecord,
  attemptCtes,
  attemptRows,
  createdCtes,
  finishedHandoffsCte,
  freshAttemptsCte,
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

// Successes of deliveries handed over by publishing, none of whose rows is written yet — what
// `herald serve` records nearly always: only the rows and their first attempts are written, so the
// claimed rows' UPDATE, the attempts that may repeat an earlier write and the superseded interrupted
// ones are left out of the statement: their executor start-up, paid on every call whatever they
// find, is the small batches' cost (a scratch loop of both statements in turns, the backend's CPU:
// a batch of one ~285 → ~250 µs, of three ~113 → ~97 µs a delivery; batches of 100 the same). A row
// already there (a late result after recovery wrote it) answers 'r': the batch then goes through
// SUCCESS_SQL.
const UNWRITTEN = `unwritten AS MATERIALIZED (
  SELECT NOT EXISTS (SELECT 1 FROM input WHERE row_ctid IS NOT NULL) AS ok
)`;
const ONLY_HEALTHY_UNWRITTEN = `(${ONLY_HEALTHY} AND (SELECT ok FROM unwritten))`;
const HANDED_OVER_SQL = prepared(
  'herald_record_handed_over_successes',
  `WITH ${HEALTHY},
${INPUT_CTE},
${UNWRITTEN},
${createdCtes(ONLY_HEALTHY_UNWRITTEN)},
${freshAttemptsCte(ONLY_HEALTHY_UNWRITTEN)},
${finishedHandoffsCte('$5', ONLY_HEALTHY_UNWRITTEN)}
SELECT 'd' AS kind, id FROM created
UNION ALL SELECT 'x', NULL FROM healthy WHERE NOT ok
UNION ALL SELECT 'r', NULL FROM healthy, unwritten WHERE healthy.ok AND NOT unwritten.ok`,
  { plan: 'scan-free', commit: 'async' },
);

/** Every attempt of the batch succeeded: the batch may go through {@link recordSuccesses}. */
export function plainSuccesses(records: readonly AttemptRecord[]): boolean {
  for (const r of records) if (r.status !== 'succeeded' || r.endpointGone) return false;
  return true;
}

/** Every delivery of the batch was handed over by publishing (its row may still be unwritten). */
const allHandedOver = (records: readonly AttemptRecord[]) => records.every((r) => r.handoff !== undefined);

type SuccessOptions = { workerId: string; now?: Date | null; finishedHandoffs?: readonly string[] };

/** Both success statements' parameters. */
function successParams(records: readonly AttemptRecord[], opts: SuccessOptions): unknown[] {
  const endpoints = [...new Set(records.map((r) => r.endpointId))];
  return [
    nowParam(opts.now),
    opts.workerId,
    attemptRows(records),
    JSON.stringify(endpoints),
    opts.finishedHandoffs ?? [],
  ];
}

/**
 * The statement and its parameters (exported for plan tests): for handed-over deliveries only
 * (`handedOver`), or any.
 */
export function successStatement(
  records: readonly AttemptRecord[],
  opts: SuccessOptions,
  handedOver = false,
) {
  return { sql: handedOver ? HANDED_OVER_SQL : SUCCESS_SQL, params: successParams(records, opts) };
}

/**
 * Writes a batch of successes ({@link plainSuccesses}) if none of its endpoints' rows has to change:
 * answers the deliveries moved on (the others' claims had been lost), or undefined — nothing
 * written — when an endpoint's state has to change, for the whole statement to record the batch.
 */
export async function recordSuccesses(
  q: Queryable,
  records: readonly AttemptRecord[],
  opts: SuccessOptions,
): Promise<string[] | undefined> {
  // One batch parameter for both statements: serialising the batch is the statement's Node-side cost.
  const params = successParams(records, opts);
  if (allHandedOver(records)) {
    const answer = await run(q, HANDED_OVER_SQL, params);
    if (answer !== 'rows written') return answer;
  }
  const answer = await run(q, SUCCESS_SQL, params);
  return answer === 'rows written' ? undefined : answer;
}

/** The deliveries moved on; undefined: an endpoint's state must change; or some rows were written before. */
async function run(
  q: Queryable,
  sql: PreparedSql,
  params: unknown[],
): Promise<string[] | undefined | 'rows written'> {
  const rows = await q.query<{ kind: 'd' | 'x' | 'r'; id: string }>(sql, params);
  const moved: string[] = [];
  for (const r of rows) {
    if (r.kind === 'x') return undefined;
    if (r.kind === 'r') return 'rows written';
    moved.push(r.id);
  }
  return moved;
}
