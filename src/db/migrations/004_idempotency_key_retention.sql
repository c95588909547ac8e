-- The retention job deletes Idempotency-Keys older than the retention window in chunks; without an
-- index each chunk would scan the whole table.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
