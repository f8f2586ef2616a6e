-- Version 1: the tables, as the SQLite store's version 4 has them. Text keys
-- that lists order or page by use the "C" collation, so every database sorts
-- them byte by byte as SQLite does, whatever locale the cluster was made with.
-- Times are milliseconds since the Unix epoch, passed in by the domain.
CREATE TABLE action_types (
    key        TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT NOT NULL,
    owner      TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE pipelines (
    account_id  TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    declaration TEXT NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE pipeline_versions (
    account_id  TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    declaration TEXT NOT NULL,
    created     BIGINT NOT NULL,
    PRIMARY KEY (account_id, name, version)
);
-- `seq` orders rows of equal time by insertion, as SQLite's rowid does.
CREATE TABLE executions (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id    TEXT COLLATE "C" NOT NULL,
    pipeline_name TEXT COLLATE "C" NOT NULL,
    status        TEXT NOT NULL,
    started       BIGINT NOT NULL,
    updated       BIGINT NOT NULL,
    revision      BIGINT NOT NULL,
    wake_at       BIGINT,
    stage         TEXT,
    waiting_for   TEXT,
    doc           TEXT NOT NULL
);
CREATE INDEX executions_in_stage ON executions (account_id, pipeline_name, stage) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_waiting ON executions (account_id, pipeline_name, waiting_for) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_due ON executions (wake_at) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_by_pipeline ON executions (account_id, pipeline_name, started DESC, seq DESC);
CREATE TABLE jobs (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT COLLATE "C" NOT NULL UNIQUE,
    queue               TEXT COLLATE "C" NOT NULL,
    account_id          TEXT COLLATE "C" NOT NULL,
    pipeline_name       TEXT COLLATE "C" NOT NULL,
    execution_id        TEXT COLLATE "C" NOT NULL,
    action_execution_id TEXT NOT NULL,
    client_id           TEXT,
    status              TEXT NOT NULL,
    nonce               TEXT,
    lease_until         BIGINT,
    timeout_at          BIGINT NOT NULL,
    created             BIGINT NOT NULL,
    updated             BIGINT NOT NULL,
    query_value         TEXT,
    data                TEXT NOT NULL,
    result              TEXT
);
-- The queue: only queued jobs, led by what a claim filters on, so a claim
-- reads the head of its own queue whatever else the table holds.
CREATE INDEX jobs_queued ON jobs (queue, created, seq) WHERE status = 'Queued';
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE status = 'Dispatched';
CREATE INDEX jobs_timeouts ON jobs (timeout_at) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE INDEX jobs_by_execution ON jobs (execution_id) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE INDEX jobs_by_pipeline ON jobs (account_id, pipeline_name) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE TABLE clients (
    client_id     TEXT COLLATE "C" PRIMARY KEY,
    client_token  TEXT NOT NULL,
    owner_account TEXT COLLATE "C" NOT NULL,
    queue         TEXT COLLATE "C" NOT NULL,
    account_id    TEXT COLLATE "C" NOT NULL,
    pipeline_name TEXT COLLATE "C" NOT NULL,
    stage_name    TEXT NOT NULL,
    action_name   TEXT NOT NULL,
    created       BIGINT NOT NULL
);
CREATE INDEX clients_by_pipeline ON clients (account_id, pipeline_name);
CREATE INDEX clients_by_owner ON clients (owner_account, client_id);
CREATE TABLE tags (
    resource TEXT COLLATE "C" NOT NULL,
    key      TEXT COLLATE "C" NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (resource, key)
);
