-- Ids compare byte by byte. They are ASCII (prefixed, time-ordered, or chosen by the caller within
-- the id pattern), so the database's collation never changed what was equal; but every comparison
-- of a text key under a libc locale other than "C" — C.UTF-8 and en_US.UTF-8 included — goes
-- through strcoll() on copies of both strings, and a delivery's writes compare keys in a dozen
-- index descents. Under "C" they are a memcmp (docs/decisions.md, "Ids compare byte by byte").
-- Lists ordered by id (tenants, the API's id cursors) follow byte order on every database now;
-- that is the order time-ordered ids were made for.
-- Each ALTER rebuilds the indexes on the column (not the table): on a large installation, run
-- `herald migrate` before starting the new version.
ALTER TABLE tenants ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE api_keys
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN tenant_id TYPE text COLLATE "C";
ALTER TABLE idempotency_keys ALTER COLUMN tenant_id TYPE text COLLATE "C";
ALTER TABLE endpoints
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN tenant_id TYPE text COLLATE "C";
ALTER TABLE events
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN tenant_id TYPE text COLLATE "C";
ALTER TABLE deliveries
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN endpoint_id TYPE text COLLATE "C",
  ALTER COLUMN event_id TYPE text COLLATE "C";
ALTER TABLE attempts
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN delivery_id TYPE text COLLATE "C",
  ALTER COLUMN endpoint_id TYPE text COLLATE "C";
ALTER TABLE operational_events ALTER COLUMN id TYPE text COLLATE "C";
