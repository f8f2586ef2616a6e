-- The console's reads (issue 12). A queue's latest failures and
-- timeouts, newest first, read from the head of an index of the queue's
-- finished-badly jobs alone, so the read stays short at millions of jobs.
-- Partial, so claims and acknowledgements (which never enter these
-- statuses) do not maintain it; the predicate is written with OR, as in
-- 0002, for the same reason: no temporary b-tree per job update.
CREATE INDEX jobs_failures ON jobs (queue, updated) WHERE (status = 'Failed' OR status = 'TimedOut');

-- The latest execution that reached each part (stage, action) of a
-- pipeline, kept as executions are written, so GetPipelineState reads a
-- row per part instead of walking the history back to the last execution
-- that reached a stage (issue 12). `marks_complete`: the pipeline was
-- created with this table in place, so a part with no row was never
-- reached; pipelines from before keep reading their history.
CREATE TABLE latest_reached (
    account_id    TEXT NOT NULL,
    pipeline_name TEXT NOT NULL,
    part          TEXT NOT NULL,
    execution_id  TEXT NOT NULL,
    started       INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    PRIMARY KEY (account_id, pipeline_name, part)
) WITHOUT ROWID;
ALTER TABLE pipelines ADD COLUMN marks_complete INTEGER NOT NULL DEFAULT 0;
