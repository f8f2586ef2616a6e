-- The console's view of a queue (issue 12): the jobs in flight, oldest
-- first, and the latest failures and timeouts, newest first, each read from
-- an index of that queue's jobs in those statuses alone (no scan of a
-- queue's history at millions of jobs). Partial, so the statuses a job
-- passes through most (Queued, Succeeded) do not maintain them.
CREATE INDEX jobs_in_flight ON jobs (queue, created, seq) WHERE status IN ('Dispatched', 'InProgress');
CREATE INDEX jobs_failures ON jobs (queue, updated) WHERE status IN ('Failed', 'TimedOut');

-- The latest execution that reached each part (stage, action) of a
-- pipeline, kept as executions are written, so GetPipelineState reads a
-- row per part instead of walking the history back to the last execution
-- that reached a stage. `marks_complete`: the pipeline was created with
-- this table in place, so a part with no row was never reached; pipelines
-- from before keep reading their history.
CREATE TABLE latest_reached (
    account_id    TEXT COLLATE "C" NOT NULL,
    pipeline_name TEXT COLLATE "C" NOT NULL,
    part          TEXT COLLATE "C" NOT NULL,
    execution_id  TEXT NOT NULL,
    started       BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    PRIMARY KEY (account_id, pipeline_name, part)
);
ALTER TABLE pipelines ADD COLUMN marks_complete BOOLEAN NOT NULL DEFAULT false;
