-- Version 2: the transitions into stages that someone disabled or enabled
-- (DisableStageTransition, EnableStageTransition), one row per stage; a stage
-- without a row has its transition enabled, as every stage of a new pipeline.
CREATE TABLE stage_transitions (
    account_id      TEXT NOT NULL,
    pipeline_name   TEXT NOT NULL,
    stage_name      TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    changed_by      TEXT NOT NULL,
    changed_at      BIGINT NOT NULL,
    disabled_reason TEXT,
    PRIMARY KEY (account_id, pipeline_name, stage_name)
);
