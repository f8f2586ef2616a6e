-- The latest execution that reached each part, kept as rows of each
-- execution's own. `latest_reached` held one row per part, which every
-- execution reaching that part upserted: its row lock, held to COMMIT,
-- made the job results of one pipeline wait for each other's commits
-- (1.3 ms per upsert under load, and one pipeline's results one at a time).
-- Here an execution adds its (part, started, seq) rows and never touches
-- another's, so results of one pipeline commit in parallel; the latest per
-- part is the head of the primary key, read backwards.
--
-- `latest_reached` stays: nodes of the version before keep writing it during
-- a rolling upgrade, and readers take the later of both tables, so no mark
-- is lost while old and new nodes run side by side.
CREATE TABLE reached (
    account_id    TEXT COLLATE "C" NOT NULL,
    pipeline_name TEXT COLLATE "C" NOT NULL,
    part          TEXT COLLATE "C" NOT NULL,
    started       BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    execution_id  TEXT NOT NULL,
    PRIMARY KEY (account_id, pipeline_name, part, started, seq)
);
