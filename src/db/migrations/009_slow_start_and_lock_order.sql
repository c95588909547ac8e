-- Slow start (docs/isolation.md): a new endpoint may have 8 requests in flight at first, and earns
-- one more with each success up to HERALD_MAX_IN_FLIGHT_PER_ENDPOINT (concurrency_limit NULL). A
-- receiver that never answers then holds 8 requests until its timeouts halve the limit and open its
-- circuit, not the whole per-endpoint maximum; a healthy one doubles its limit each round trip.
-- Endpoints that already exist keep their limit: they have been sending.
ALTER TABLE endpoints ALTER COLUMN concurrency_limit SET DEFAULT 8;

-- Writers of endpoint rows lock them in id order (publishing, recording attempts), so two of them
-- never wait on each other in a cycle. The due trigger updated its endpoints in whatever order its
-- plan read them, and could deadlock with a publish to the same endpoints: it now locks them in id
-- order first.
CREATE OR REPLACE FUNCTION herald_endpoint_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM endpoints e
  WHERE e.id IN (
    SELECT endpoint_id FROM herald_updated_deliveries WHERE next_attempt_at IS NOT NULL AND locked_by IS NULL)
  ORDER BY e.id
  FOR UPDATE OF e;
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
