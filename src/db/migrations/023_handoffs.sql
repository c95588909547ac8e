-- A delivery handed over in memory (src/queue/handoff.ts) is no longer inserted claimed and then
-- updated with its outcome: its row is written once, in its final state, when the outcome is
-- recorded. Until then one `handoffs` row per publish statement stands in for the rows not written
-- yet, under the worker's lease (docs/decisions.md, "A handed-over delivery's row is written once").
--
-- - `deliveries`: the deliveries handed over, a JSON array of {i: id, e: endpoint id, v: event ids,
--   t: event type, k: its place among the endpoint's deliveries of the statement}, kept as text
--   and uncompressed out of line (STORAGE EXTERNAL): nothing parses it unless the handoff is read
--   or recovered, and compressing a batch's JSON cost more than writing it whole.
-- - `bases`: each endpoint's last sequence before the statement (a delivery's sequence is its base
--   plus its `k`); `counts`: how many deliveries each endpoint was handed, counted as in flight by
--   claims until the handoff is deleted.
-- - The worker deletes the row with the record of its last delivery. A row whose lease ran out (the
--   worker died) is turned into pending rows for the deliveries not recorded yet, each with an
--   `interrupted` attempt, and deleted (src/queue/handoff-recovery.ts).
-- All Herald processes must run this version or later: an older one neither recovers an expired
-- handoff (a process of this version dying while only older ones run would leave its deliveries
-- unsent until one of this version starts) nor counts handoffs as requests in flight.
CREATE TABLE handoffs (
  id          text COLLATE "C" PRIMARY KEY,
  tenant_id   text NOT NULL,
  worker_id   text NOT NULL,
  lease_until timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  bases       jsonb NOT NULL,
  counts      jsonb NOT NULL,
  deliveries  text NOT NULL
);
ALTER TABLE handoffs ALTER COLUMN deliveries SET STORAGE EXTERNAL;
CREATE INDEX handoffs_lease ON handoffs (lease_until);

-- The deliveries handed over and not recorded yet, shaped as `deliveries` rows: pending, leased by
-- the worker until the handoff's lease ends, attempt 1 under way. Those whose endpoint was deleted
-- meanwhile are left out (recording writes nothing for them).
CREATE VIEW handed_over_deliveries AS
SELECT d.i AS id, h.tenant_id, d.e AS endpoint_id, d.v[1] AS event_id, d.v AS event_ids,
  d.t AS event_type, (h.bases ->> d.e)::int8 + d.k AS sequence, 'pending'::text AS status,
  false AS fifo, 1 AS attempt_count, h.lease_until AS next_attempt_at, h.worker_id AS locked_by,
  NULL::int AS last_status_code, NULL::text AS last_error, NULL::timestamptz AS last_attempt_at,
  h.created_at, NULL::timestamptz AS completed_at
FROM handoffs h
CROSS JOIN LATERAL jsonb_to_recordset(h.deliveries::jsonb) AS d(i text, e text, v text[], t text, k int8)
WHERE EXISTS (SELECT 1 FROM endpoints e WHERE e.id = d.e)
  AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.tenant_id = h.tenant_id AND x.id = d.i);

-- Every delivery the API can show: the rows, and those handed over whose rows are not written yet.
CREATE VIEW all_deliveries AS
SELECT id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status, fifo,
  attempt_count, next_attempt_at, locked_by, last_status_code, last_error, last_attempt_at,
  created_at, completed_at
FROM deliveries
UNION ALL
SELECT id, tenant_id, endpoint_id, event_id, event_ids, event_type, sequence, status, fifo,
  attempt_count, next_attempt_at, locked_by, last_status_code, last_error, last_attempt_at,
  created_at, completed_at
FROM handed_over_deliveries;
