-- `deliveries_event` becomes (event_id): an event's deliveries are found by the event id alone (the
-- tenant is a filter on those few rows). Leading with tenant_id, it matched any condition on the
-- tenant, and a generic plan made while the table was small costed it the same as the primary key
-- for the row probes `tenant_id = … AND id = …` of recording and releasing — whichever index the
-- planner met first won. After migration 020 rebuilt the indexes, that was this one: each probe
-- read every delivery of the tenant (2 s to record 500 outcomes after 10,000 deliveries).
-- test/queue/record-outcomes.test.ts checks the probes' index.
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id);
