-- Version 3: every declaration version of a pipeline. A file of version 2 gets
-- its pipelines' current versions (the older ones were never kept).
CREATE TABLE pipeline_versions (
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    declaration TEXT NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (account_id, name, version)
);
INSERT INTO pipeline_versions (account_id, name, version, declaration, created)
    SELECT account_id, name, version, declaration, updated FROM pipelines;
