-- Herald's schema. Words from the glossary: tenant, event type, endpoint, event, delivery, attempt.
-- Ids are text: prefixed, time-ordered (see src/core/ids.ts), so `ORDER BY id` is creation order and
-- cursor pagination is a plain range scan.

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Tenant API keys. Only a SHA-256 of the key is kept; `prefix` is what lists show.
CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name         text,
  prefix       text NOT NULL,
  key_hash     text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE event_types (
  name        text PRIMARY KEY,
  description text,
  schema      jsonb,
  example     jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE endpoints (
  id                      text PRIMARY KEY,
  tenant_id               text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  url                     text NOT NULL,
  name                    text,
  description             text,
  event_types             text[] NOT NULL DEFAULT '{*}',
  active                  boolean NOT NULL DEFAULT true,
  -- Secrets and auth are encrypted at rest (AES-256-GCM, src/security/secret-box.ts).
  secret_enc              text NOT NULL,
  previous_secret_enc     text,
  previous_secret_until   timestamptz,
  headers                 jsonb NOT NULL DEFAULT '{}',
  profile                 text NOT NULL DEFAULT 'standard',
  profile_options         jsonb NOT NULL DEFAULT '{}',
  auth_enc                text,
  auth_type               text,
  retry_schedule          integer[],
  connect_timeout_ms      integer,
  total_timeout_ms        integer,
  rate_limit_per_second   integer,
  ordering                text NOT NULL DEFAULT 'none',
  filter                  jsonb,
  ignore_origins          text[] NOT NULL DEFAULT '{}',
  metadata                jsonb NOT NULL DEFAULT '{}',
  -- The last sequence number handed out; each delivery takes the next one.
  last_sequence           bigint NOT NULL DEFAULT 0,
  failing_since           timestamptz,
  disabled_reason         text,
  disabled_at             timestamptz,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, id);
CREATE INDEX endpoints_tenant_url ON endpoints (tenant_id, url);
