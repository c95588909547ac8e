-- The due trigger goes: every writer that makes a delivery due now lowers its endpoint's
-- next_due_at and moves due_version in its own statement (recording's retries, releases, manual
-- retry and recovery, re-enabling; publishing always did). The statement-level trigger captured
-- every updated row of every UPDATE of deliveries in a transition table — the claims and the
-- successes it then ignored included — and ran two more queries over it: ~5 % of the database's
-- CPU in the end-to-end benchmark. Recording now folds the lowering into the endpoint update it
-- makes anyway for a failed attempt (docs/decisions.md, "Writers lower next_due_at themselves").
-- All Herald processes must run this version or later: an older one would schedule retries
-- without lowering next_due_at, and they would wait for the endpoint's next claim.
DROP TRIGGER deliveries_due ON deliveries;
DROP FUNCTION herald_endpoint_due();
