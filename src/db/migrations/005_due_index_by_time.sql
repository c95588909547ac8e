-- The claim's index keyed on the due time alone. A delivery is pending exactly when it has a
-- next_attempt_at (every write keeps that true, and the CHECK makes it a rule), so the claim can ask
-- for `next_attempt_at <= now()` without `status = 'pending'`. That matters for the plan: with no or
-- stale statistics the planner guesses `status = 'pending'` at 0.5 % of the table and would then
-- fetch and sort every due row on each claim (O(backlog) per batch); a range on the time alone is
-- estimated generously, so the plan is an ordered index scan that stops after the batch.
UPDATE deliveries SET next_attempt_at = NULL WHERE status <> 'pending' AND next_attempt_at IS NOT NULL;
UPDATE deliveries SET next_attempt_at = now() WHERE status = 'pending' AND next_attempt_at IS NULL;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_due_when_pending
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL));
CREATE INDEX deliveries_due_at ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
DROP INDEX deliveries_due;
