-- The console's view of a queue (issue 12): the jobs in flight, oldest
-- first, and the latest failures and timeouts, newest first, each read from
-- an index of that queue's jobs in those statuses alone (no scan of a
-- queue's history at millions of jobs). Partial, so the statuses a job
-- passes through most (Queued, Succeeded) do not maintain them.
CREATE INDEX jobs_in_flight ON jobs (queue, created, seq) WHERE status IN ('Dispatched', 'InProgress');
CREATE INDEX jobs_failures ON jobs (queue, updated) WHERE status IN ('Failed', 'TimedOut');
