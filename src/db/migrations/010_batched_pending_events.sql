-- Retention keeps the payload of every event a pending delivery still has to send (issue 16). A
-- batched delivery (courier-invoice) holds several events in `event_ids`, and only the first is its
-- `event_id`: the others were purged while it waited (an endpoint disabled past the retention
-- window), and it then failed as payload_purged. Retention now reads the pending batched
-- deliveries' events first; this index holds exactly those deliveries, so ordinary ones write
-- nothing to it and the read does not scan the table.
CREATE INDEX deliveries_batched_pending ON deliveries (tenant_id)
  WHERE next_attempt_at IS NOT NULL AND cardinality(event_ids) > 1;
