-- Version 1: the tables. The queue index leads with what a claim filters on
-- (queue, status, created); ANALYZE is never run, because the bundled SQLite's
-- STAT4 would re-plan every claim.
CREATE TABLE action_types (
    key        TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    owner      TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE pipelines (
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    declaration TEXT NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE executions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    account_id    TEXT NOT NULL,
    pipeline_name TEXT NOT NULL,
    status        TEXT NOT NULL,
    started       INTEGER NOT NULL,
    updated       INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    wake_at       INTEGER,
    stage         TEXT,
    waiting_for   TEXT,
    doc           TEXT NOT NULL
);
CREATE INDEX executions_in_stage ON executions (account_id, pipeline_name, stage) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_waiting ON executions (account_id, pipeline_name, waiting_for) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_due ON executions (wake_at) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_by_pipeline ON executions (account_id, pipeline_name, started DESC, seq DESC);
CREATE TABLE jobs (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    queue               TEXT NOT NULL,
    account_id          TEXT NOT NULL,
    pipeline_name       TEXT NOT NULL,
    execution_id        TEXT NOT NULL,
    action_execution_id TEXT NOT NULL,
    client_id           TEXT,
    status              TEXT NOT NULL,
    nonce               TEXT,
    lease_until         INTEGER,
    timeout_at          INTEGER NOT NULL,
    created             INTEGER NOT NULL,
    updated             INTEGER NOT NULL,
    query_value         TEXT,
    data                TEXT NOT NULL,
    result              TEXT
);
CREATE INDEX jobs_queue ON jobs (queue, status, created, seq);
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE status = 'Dispatched';
CREATE INDEX jobs_timeouts ON jobs (timeout_at) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE INDEX jobs_by_execution ON jobs (execution_id) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE INDEX jobs_by_pipeline ON jobs (account_id, pipeline_name) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    client_token  TEXT NOT NULL,
    owner_account TEXT NOT NULL,
    queue         TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    pipeline_name TEXT NOT NULL,
    stage_name    TEXT NOT NULL,
    action_name   TEXT NOT NULL,
    created       INTEGER NOT NULL
);
CREATE INDEX clients_by_pipeline ON clients (account_id, pipeline_name);
CREATE INDEX clients_by_owner ON clients (owner_account, client_id);
