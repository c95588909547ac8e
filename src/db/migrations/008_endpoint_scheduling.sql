-- Fair, endpoint-aware claiming (src/queue/claim-deliveries.ts; docs/isolation.md).
--
-- The claim no longer takes due rows oldest first whatever their endpoint: it picks endpoints that
-- have something due and room under their limits, then each one's oldest due deliveries. For that
-- every endpoint row carries:
-- - next_due_at: a lower bound of its pending deliveries' next_attempt_at (NULL: nothing pending).
--   Every write that makes a delivery due lowers it (publishing in the same UPDATE that takes the
--   sequence numbers, everything else through the trigger below); only the claim raises it, when it
--   has taken every due delivery, and only if nobody lowered it meanwhile (due_version and
--   last_sequence unchanged).
-- - concurrency_limit: the adaptive limit on requests in flight (AIMD on timeouts, connection errors
--   and 5xx); NULL = the configured maximum.
-- - the circuit breaker: after consecutive failures the circuit opens until circuit_until; its due
--   deliveries wait without spending attempts, then one probe request decides whether it closes.
ALTER TABLE endpoints
  ADD COLUMN next_due_at timestamptz,
  ADD COLUMN due_version bigint NOT NULL DEFAULT 0,
  ADD COLUMN concurrency_limit integer,
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN circuit_state text NOT NULL DEFAULT 'closed' CHECK (circuit_state IN ('closed', 'open')),
  ADD COLUMN circuit_until timestamptz,
  ADD COLUMN circuit_reason text,
  ADD COLUMN circuit_opened_at timestamptz,
  ADD COLUMN circuit_trips integer NOT NULL DEFAULT 0;

UPDATE endpoints e SET next_due_at = (
  SELECT min(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.next_attempt_at IS NOT NULL);

-- The claim's first step: active endpoints in due order (inactive ones are never claimed, so their
-- deliveries simply wait, pending, until the endpoint is enabled again).
CREATE INDEX endpoints_due ON endpoints (next_due_at) WHERE active;

-- Each endpoint's pending deliveries in due order: its oldest due ones, and its next due time.
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at)
  WHERE next_attempt_at IS NOT NULL;
-- Requests in flight, cluster-wide: deliveries under a lease (an expired lease no longer counts).
CREATE INDEX deliveries_leased ON deliveries (tenant_id, endpoint_id, next_attempt_at)
  WHERE locked_by IS NOT NULL;
-- The claim no longer scans due rows across endpoints.
DROP INDEX IF EXISTS deliveries_due_at;

-- Every UPDATE that makes a delivery due — a retry scheduled by recording, a release, a manual retry
-- or recovery, re-enabling — lowers its endpoint's next_due_at and bumps due_version, so a claim
-- that read the endpoint before cannot raise next_due_at past it. Leased rows (locked_by set) are
-- left out: the claim that leased them accounts for their lease itself. One statement-level
-- trigger: a bulk recovery costs one UPDATE of each endpoint, not one per delivery.
CREATE FUNCTION herald_endpoint_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE endpoints e
  SET next_due_at = least(e.next_due_at, n.due), due_version = e.due_version + 1
  FROM (
    SELECT endpoint_id, min(next_attempt_at) AS due FROM herald_updated_deliveries
    WHERE next_attempt_at IS NOT NULL AND locked_by IS NULL
    GROUP BY endpoint_id
  ) n
  WHERE e.id = n.endpoint_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_due AFTER UPDATE ON deliveries
  REFERENCING NEW TABLE AS herald_updated_deliveries
  FOR EACH STATEMENT EXECUTE FUNCTION herald_endpoint_due();
