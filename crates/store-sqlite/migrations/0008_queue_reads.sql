-- The console's view of a queue (issue 12): its latest failures and
-- timeouts, newest first, read from the head of an index of the queue's
-- finished-badly jobs alone, so the read stays short at millions of jobs.
-- Partial, so claims and acknowledgements (which never enter these
-- statuses) do not maintain it; the predicate is written with OR, as in
-- 0002, for the same reason: no temporary b-tree per job update.
CREATE INDEX jobs_failures ON jobs (queue, updated) WHERE (status = 'Failed' OR status = 'TimedOut');
