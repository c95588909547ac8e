-- Operational webhooks (docs/design.md, "Operational webhooks"; docs/decisions.md): Herald tells the
-- operator about its own events — an endpoint disabled, a circuit opened or closed, a delivery
-- exhausted, an endpoint recovered — by webhook, delivered by its own engine.
--
-- The operator's endpoints for them belong to a reserved tenant, `_herald` (src/core/operational-tenant.ts),
-- so they are signed, retried, recorded and shown like any endpoint's. An existing tenant of that
-- id would have its endpoints receive Herald's events: stop rather than guess.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM tenants WHERE id = '_herald') THEN
    RAISE EXCEPTION 'A tenant with the id "_herald" exists, and Herald now reserves that id for its operational webhooks. Move its endpoints to a tenant of another id, delete it, and start Herald again.';
  END IF;
END $$;

INSERT INTO tenants (id, name) VALUES ('_herald', 'Herald operational webhooks');

-- The outbox: each row is one operational event, written by the same statement as the change it
-- reports (recording attempts, auto-disable), so the two commit together or not at all. A pump in
-- every process with a dispatcher (src/delivery/operational-pump.ts) publishes each row as an event
-- of `_herald` under the row's id — a repeat of an id publishes nothing — and then deletes it.
-- `claimed_until`: a pump's lease on the row, so pumps of several processes do not all publish it.
CREATE TABLE operational_events (
  id            text PRIMARY KEY,
  type          text NOT NULL,
  -- json, not jsonb: the payload keeps the key order it was built in, as events' data does.
  payload       json NOT NULL,
  created_at    timestamptz NOT NULL,
  claimed_until timestamptz
);

-- When Herald first reported trouble with the endpoint (its circuit opened, a delivery of it was
-- exhausted, it was disabled) since it last succeeded: its next success reports it recovered and
-- clears this. NULL: nothing reported. Re-enabling leaves it, so a recovery after one is reported too.
ALTER TABLE endpoints ADD COLUMN trouble_reported_at timestamptz;

-- Ids for outbox rows made inside a statement: `<prefix>_` and 26 Crockford base32 characters, the
-- millisecond time first, as src/core/ids.ts makes them in JS.
CREATE FUNCTION herald_new_id(prefix text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  t bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  body text := '';
BEGIN
  FOR i IN 1..10 LOOP
    body := substr(alphabet, (t % 32)::int + 1, 1) || body;
    t := t / 32;
  END LOOP;
  FOR i IN 1..16 LOOP
    body := body || substr(alphabet, floor(random() * 32)::int + 1, 1);
  END LOOP;
  RETURN prefix || '_' || body;
END $$;
