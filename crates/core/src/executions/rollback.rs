//! Stage rollback: `RollbackStage`, and the automatic rollback of a stage
//! whose `onFailure` (or `onSuccess` condition) says `ROLLBACK`.
//!
//! A rollback is a new execution (`executionType: ROLLBACK`, its
//! `rollbackMetadata` naming the target) that runs only the rolled-back
//! stage, with what the target execution had when it entered that stage:
//! its artifacts (so its source revisions) and the output variables of the
//! actions before the stage. The target is an execution of the pipeline's
//! current version that succeeded the stage and was not itself a rollback;
//! the automatic rollback takes the newest such execution.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{IN_PROGRESS, Run, advance_and_save, execution_not_found, load, views};
use crate::ErrorCode;
use crate::api::Caller;
use crate::fail::{Res, fail};
use crate::ids::uuid;
use crate::input::req_str;
use crate::pipelines;
use crate::store::{Millis, Tx};

/// What makes an execution a rollback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Rollback {
    /// The execution rolled back to.
    pub target: String,
    /// The one stage the execution runs.
    pub stage: String,
    /// The output variables of the actions before the stage in the target,
    /// by namespace.
    #[serde(default)]
    pub namespaces: BTreeMap<String, Value>,
    /// The target's `sourceRevisions`, which the rollback runs with.
    #[serde(default)]
    pub source_revisions: Vec<Value>,
}

/// How many executions are searched for an automatic rollback's target.
const TARGET_SEARCH: usize = 100;

/// Whether `run` can be rolled back to for `stage` at pipeline version `version`.
fn succeeded_stage(run: &Run, stage: &str, version: i64) -> bool {
    run.rollback.is_none()
        && run.pipeline_version == version
        && run.stages.iter().any(|s| s.name == stage && s.status.as_deref() == Some("Succeeded"))
}

/// The newest execution other than `run` that an automatic rollback of
/// `stage` goes back to, if any.
pub(crate) fn automatic_target(tx: &mut dyn Tx, run: &Run, stage: &str) -> Res<Option<String>> {
    for row in tx.list_executions(&run.account_id, &run.pipeline_name, 0, TARGET_SEARCH)? {
        if row.id == run.id {
            continue;
        }
        let other = Run::from_row(&row)?;
        if succeeded_stage(&other, stage, run.pipeline_version) {
            return Ok(Some(other.id));
        }
    }
    Ok(None)
}

/// Starts a rollback execution of `stage` to `target` and runs it as far
/// as it goes now. `trigger` is `ManualRollback` or `AutomatedRollback`.
pub(crate) fn begin(
    tx: &mut dyn Tx,
    target: &Run,
    stage: &str,
    trigger: &str,
    trigger_detail: String,
    region: &str,
    now: Millis,
) -> Res<Run> {
    let plan = pipelines::plan_of(&target.declaration, region)?;
    let si = target.stages.iter().position(|s| s.name == stage).unwrap_or(0);
    // The variables the stage's actions may refer to: those of earlier stages.
    let mut namespaces = BTreeMap::new();
    for (s, sp) in target.stages.iter().zip(&plan.stages).take(si) {
        for (a, ap) in s.actions.iter().zip(&sp.actions) {
            if let (Some(ns), Some(vars)) =
                (&ap.namespace, a.current.as_ref().and_then(|c| c.output_variables.as_ref()))
            {
                namespaces.insert(ns.clone(), vars.clone());
            }
        }
    }
    let mut run = Run {
        id: uuid(),
        account_id: target.account_id.clone(),
        pipeline_name: target.pipeline_name.clone(),
        pipeline_version: target.pipeline_version,
        declaration: target.declaration.clone(),
        status: IN_PROGRESS.into(),
        status_summary: None,
        stop_reason: None,
        trigger_detail,
        started: now,
        updated: now,
        stages: target
            .stages
            .iter()
            .map(|s| super::StageRun {
                name: s.name.clone(),
                status: None,
                actions: s
                    .actions
                    .iter()
                    .map(|a| super::ActionRun {
                        name: a.name.clone(),
                        run_order: a.run_order,
                        current: None,
                        history: vec![],
                    })
                    .collect(),
                conditions: vec![],
                retries: Default::default(),
            })
            .collect(),
        artifacts: target.artifacts.clone(),
        waiting_for: None,
        client_request_token: None,
        variables: target.variables.clone(),
        trigger_type: Some(trigger.into()),
        given_revisions: vec![],
        rollback: Some(Rollback {
            target: target.id.clone(),
            stage: stage.into(),
            namespaces,
            source_revisions: views::source_revisions(target),
        }),
        rollbacks: vec![],
        marked: Vec::new(),
    };
    tx.insert_execution(&run.to_row(0))?;
    advance_and_save(tx, &mut run, 0, &plan, region, now)?;
    Ok(run)
}

/// `RollbackStage`.
pub(crate) fn rollback_stage(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let stage = req_str(input, "stageName")?;
    let target_id = req_str(input, "targetPipelineExecutionId")?;
    let p = pipelines::load(tx, &caller.account_id, pipeline)?;
    let plan = pipelines::plan(&p.declaration, region)?;
    let sp = super::plan_stage(&plan, pipeline, stage)?;
    let target = match load(tx, target_id)? {
        Some((run, _)) if run.account_id == caller.account_id && run.pipeline_name == pipeline => run,
        _ => return Err(execution_not_found(target_id, pipeline)),
    };
    let unable = |why: String| {
        fail::<Value>(
            ErrorCode::UnableToRollbackStageException,
            format!("Stage '{stage}' cannot be rolled back to pipeline execution '{target_id}': {why}"),
        )
    };
    if sp.actions.iter().any(|a| a.type_id.category == "Source") {
        return unable("a stage with a source action cannot be rolled back".into());
    }
    if target.pipeline_version != p.version {
        return fail(
            ErrorCode::PipelineExecutionOutdatedException,
            format!(
                "Pipeline execution '{target_id}' ran version {} of pipeline '{pipeline}', which is now at version {}",
                target.pipeline_version, p.version
            ),
        );
    }
    if target.rollback.is_some() {
        return unable("it is itself a rollback".into());
    }
    if !succeeded_stage(&target, stage, p.version) {
        return unable("it did not succeed in the stage".into());
    }
    // A stage holds one execution at a time (whatever the mode: a rollback
    // replaces what the stage is running, which must be finished first).
    let busy = tx
        .executions_at_stage(&caller.account_id, pipeline, stage)?
        .iter()
        .map(Run::from_row)
        .collect::<Res<Vec<_>>>()?
        .iter()
        .any(|o| o.stages.iter().any(|s| s.name == stage && s.status.as_deref() == Some(IN_PROGRESS)));
    if busy {
        return fail(
            ErrorCode::ConflictException,
            format!("Stage '{stage}' is running an execution; roll it back when the stage is done"),
        );
    }
    let by = format!("arn:aws:iam::{}:root", caller.account_id);
    let run = begin(tx, &target, stage, "ManualRollback", by, region, now)?;
    Ok(json!({"pipelineExecutionId": run.id}))
}
