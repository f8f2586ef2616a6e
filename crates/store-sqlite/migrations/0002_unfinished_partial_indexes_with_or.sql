-- Version 2: the partial indexes of unfinished jobs written with OR, not IN (...):
-- SQLite evaluates an IN list of more than two constants through a temporary
-- b-tree, twice per index at every job update (see `unfinished!` in src/tx.rs,
-- which queries repeat word for word so SQLite uses these indexes).
DROP INDEX jobs_timeouts;
DROP INDEX jobs_by_execution;
DROP INDEX jobs_by_pipeline;
CREATE INDEX jobs_timeouts ON jobs (timeout_at) WHERE (status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress');
CREATE INDEX jobs_by_execution ON jobs (execution_id) WHERE (status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress');
CREATE INDEX jobs_by_pipeline ON jobs (account_id, pipeline_name) WHERE (status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress');
