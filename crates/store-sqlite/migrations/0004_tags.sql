-- Version 4: resource tags, one row per resource and key (the resource key is
-- the domain's). A file of version 3 kept a custom action type's tags in its
-- body (what CreateCustomActionType was given): the live ones move here,
-- reserved `aws:` keys left out, a repeated key keeping its last value.
CREATE TABLE tags (
    resource TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (resource, key)
) WITHOUT ROWID;
INSERT OR REPLACE INTO tags (resource, key, value)
    SELECT 'actiontype/' || a.key, json_extract(t.value, '$.key'), json_extract(t.value, '$.value')
    FROM action_types a, json_each(a.body, '$.tags') t
    WHERE a.owner = 'Custom' AND json_extract(a.body, '$.deleted') = 0
      AND json_type(t.value, '$.key') = 'text' AND json_type(t.value, '$.value') = 'text'
      AND lower(substr(json_extract(t.value, '$.key'), 1, 4)) <> 'aws:';
