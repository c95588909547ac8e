-- An attempt's primary key leads with its delivery, so the index by (delivery_id, attempt_number)
-- that a delivery's attempts were read by is the key itself: one index entry fewer for every attempt
-- recorded (docs/decisions.md, "Fewer index entries per delivery"). The id stays in the key: an
-- attempt written again (a batch retried after a failed write) or an `interrupted` one (whose id is
-- fixed by delivery and attempt number) is still found as the same attempt.
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts ADD PRIMARY KEY (delivery_id, attempt_number, id);
DROP INDEX attempts_delivery;
