-- Every index of `deliveries` takes a new entry on each insert and on each update that is not HOT —
-- the claim and the recorded outcome both change indexed columns, so a delivery pays for each index
-- three times. Two indexes repeated what others give (docs/performance.md, "Where the time goes"):
-- - the primary key becomes (tenant_id, id): every read of a delivery by id knows its tenant, and
--   the key now serves a tenant's deliveries newest first, which `deliveries_tenant` did;
-- - an endpoint's deliveries are listed by sequence (newest first) through the unique
--   (endpoint_id, sequence), which `deliveries_endpoint` (endpoint_id, id DESC) repeated.
-- Measured on one connection (20,000 deliveries published, claimed and recorded in batches of 200):
-- 5 + 7 + 5 µs of the database's CPU less per delivery, of ~139.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey;
ALTER TABLE deliveries ADD PRIMARY KEY (tenant_id, id);
DROP INDEX deliveries_tenant;
DROP INDEX deliveries_endpoint;
