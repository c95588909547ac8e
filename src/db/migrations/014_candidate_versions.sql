-- Publishing keeps each tenant's candidate endpoints (and the published types' schemas) in memory
-- and checks, inside its one statement, that they are still current (src/publish/candidate-cache.ts):
-- a version per tenant that every write to what publishing reads of its endpoints moves, and one for
-- the event-type catalog. Triggers move them, so no write path can forget to. Columns publishing
-- does not read, or reads only as a hint (last_sequence, next_due_at, health, the adaptive limit),
-- are left out: the hot path's updates fire nothing.
ALTER TABLE tenants ADD COLUMN endpoints_version int8 NOT NULL DEFAULT 0;

CREATE TABLE catalog_version (
  id int PRIMARY KEY CHECK (id = 1),
  version int8 NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE FUNCTION herald_bump_endpoints_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = OLD.tenant_id;
  ELSE
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = NEW.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER endpoints_version_on_insert_delete
  AFTER INSERT OR DELETE ON endpoints
  FOR EACH ROW EXECUTE FUNCTION herald_bump_endpoints_version();

-- Only when a column publishing reads really changes: recording outcomes rewrites `active` and
-- `circuit_state` with their own values on most of its updates.
CREATE TRIGGER endpoints_version_on_update
  AFTER UPDATE ON endpoints
  FOR EACH ROW WHEN (
    OLD.url IS DISTINCT FROM NEW.url
    OR OLD.event_types IS DISTINCT FROM NEW.event_types
    OR OLD.active IS DISTINCT FROM NEW.active
    OR OLD.secret_enc IS DISTINCT FROM NEW.secret_enc
    OR OLD.previous_secret_enc IS DISTINCT FROM NEW.previous_secret_enc
    OR OLD.previous_secret_until IS DISTINCT FROM NEW.previous_secret_until
    OR OLD.headers IS DISTINCT FROM NEW.headers
    OR OLD.profile IS DISTINCT FROM NEW.profile
    OR OLD.profile_options IS DISTINCT FROM NEW.profile_options
    OR OLD.auth_enc IS DISTINCT FROM NEW.auth_enc
    OR OLD.retry_schedule IS DISTINCT FROM NEW.retry_schedule
    OR OLD.connect_timeout_ms IS DISTINCT FROM NEW.connect_timeout_ms
    OR OLD.total_timeout_ms IS DISTINCT FROM NEW.total_timeout_ms
    OR OLD.rate_limit_per_second IS DISTINCT FROM NEW.rate_limit_per_second
    OR OLD.ordering IS DISTINCT FROM NEW.ordering
    OR OLD.filter IS DISTINCT FROM NEW.filter
    OR OLD.ignore_origins IS DISTINCT FROM NEW.ignore_origins
    OR OLD.circuit_state IS DISTINCT FROM NEW.circuit_state)
  EXECUTE FUNCTION herald_bump_endpoints_version();

CREATE FUNCTION herald_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END $$;

-- Per row, not per statement: an insert that conflicts, or a delete of nothing, changes nothing.
CREATE TRIGGER event_types_version_on_write
  AFTER INSERT OR DELETE OR UPDATE ON event_types
  FOR EACH ROW EXECUTE FUNCTION herald_bump_catalog_version();
