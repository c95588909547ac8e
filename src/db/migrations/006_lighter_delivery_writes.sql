-- Every delivery writes an event, a delivery and an attempt row; each foreign key on them is a
-- trigger that looks up (and share-locks) the parent row per inserted row, and each B-tree one more
-- index insertion. Two of the foreign keys guard nothing the writes do not already guarantee:
-- - deliveries.endpoint_id: a delivery is only inserted by the statement that locks its endpoint row
--   (FOR UPDATE, to take its sequence number), so the endpoint exists and cannot go away meanwhile.
-- - attempts.delivery_id: attempts are inserted only for deliveries that the same statement finds.
-- Their ON DELETE CASCADE is done by deleting an endpoint's (or tenant's) deliveries and attempts
-- explicitly, in the deleting transaction (src/store/endpoint-removal.ts).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_endpoint_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;

-- created_at of events and attempts only serves time ranges (retention, the dashboard's windows),
-- and rows arrive in time order: a BRIN index answers those at a fraction of a B-tree's upkeep.
DROP INDEX attempts_created;
CREATE INDEX attempts_created ON attempts USING brin (created_at) WITH (autosummarize = on);
DROP INDEX events_created;
CREATE INDEX events_created ON events USING brin (created_at) WITH (autosummarize = on);
