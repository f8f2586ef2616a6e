-- Version 6: webhooks (PutWebhook), one row per account and name. `id` is the
-- random part of the webhook's URL, by which its POSTs find it; `definition`
-- is the domain's JSON (its secret sealed).
CREATE TABLE webhooks (
    account_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    id             TEXT NOT NULL UNIQUE,
    definition     TEXT NOT NULL,
    registered     INTEGER NOT NULL,
    last_triggered INTEGER,
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
