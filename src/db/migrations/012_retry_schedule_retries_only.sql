-- retrySchedule lists only the waits before retries: the first attempt is always immediate and no
-- longer takes an entry (docs/decisions.md, "Schedule indexing"). Entry 0 of a stored schedule was
-- that first attempt's delay, which was never used; dropping it keeps every endpoint's attempts
-- and waits exactly as they were. ([0] becomes {}: the first attempt only.)
UPDATE endpoints SET retry_schedule = retry_schedule[2:] WHERE retry_schedule IS NOT NULL;
