-- `events.tenant_id` loses its foreign key, as `deliveries` and `attempts` did (migration 006): it
-- ran a trigger per event inserted — a lookup and a key-share lock of the tenant row, ~4 µs of the
-- database's time per event (bench/database-phases.ts, publish step, runs in turns). Publishing
-- now takes that lock once per statement (src/publish/publish-sql.ts), and deleting a tenant deletes
-- its events itself, after the tenant row (src/store/tenants.ts), so no publish leaves events behind
-- (docs/decisions.md, "No foreign keys on the delivery hot path").
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_tenant_id_fkey;
