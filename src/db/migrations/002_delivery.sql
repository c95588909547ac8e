-- The delivery engine's tables. The queue is the `deliveries` table itself: a delivery is due when
-- status = 'pending' and next_attempt_at <= now(). Claiming sets next_attempt_at to now() + lease,
-- so a worker that dies simply lets its deliveries fall due again when the lease runs out.

CREATE TABLE events (
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           text NOT NULL,
  type         text NOT NULL,
  -- json, not jsonb: the payload keeps its key order, which byte-exact wire formats depend on.
  -- NULL once the retention job has purged the payload.
  data         json,
  origin       text,
  occurred_at  timestamptz,
  batch_id     text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_tenant_created ON events (tenant_id, created_at DESC, id DESC);
CREATE INDEX events_created ON events (created_at);

-- An Idempotency-Key header names the whole publish call (one event or a batch).
CREATE TABLE idempotency_keys (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key         text NOT NULL,
  event_ids   text[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);

CREATE TABLE deliveries (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL,
  endpoint_id      text NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  -- The first (usually only) event; event_ids lists all of a batched delivery's events in order.
  event_id         text NOT NULL,
  event_ids        text[] NOT NULL,
  event_type       text NOT NULL,
  sequence         bigint NOT NULL,
  -- pending | succeeded | failed | cancelled
  status           text NOT NULL DEFAULT 'pending',
  fifo             boolean NOT NULL DEFAULT false,
  attempt_count    integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  locked_by        text,
  last_status_code integer,
  last_error       text,
  last_attempt_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  UNIQUE (endpoint_id, sequence)
);
-- The claim index: only pending rows, in due order.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant ON deliveries (tenant_id, id DESC);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id DESC);
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id);
-- fifo: find an endpoint's lowest pending sequence quickly.
CREATE INDEX deliveries_fifo ON deliveries (endpoint_id, sequence) WHERE status = 'pending' AND fifo;

CREATE TABLE attempts (
  id               text PRIMARY KEY,
  delivery_id      text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  tenant_id        text NOT NULL,
  endpoint_id      text NOT NULL,
  attempt_number   integer NOT NULL,
  started_at       timestamptz NOT NULL,
  duration_ms      integer NOT NULL,
  status_code      integer,
  -- NULL on success; otherwise timeout | connect_error | blocked_address | http_status | ...
  error_kind       text,
  error_message    text,
  request_headers  jsonb,
  response_headers jsonb,
  response_excerpt text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_number);
CREATE INDEX attempts_created ON attempts (created_at);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, started_at DESC);

-- Maintenance jobs (lease reaping, retention, auto-disable) are taken by one instance at a time:
-- a job runs where `UPDATE maintenance SET locked_until = … WHERE locked_until < now()` wins.
CREATE TABLE maintenance (
  job           text PRIMARY KEY,
  locked_by     text,
  locked_until  timestamptz NOT NULL DEFAULT 'epoch',
  last_run_at   timestamptz
);
