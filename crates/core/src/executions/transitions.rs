//! Stage transitions: `DisableStageTransition` and `EnableStageTransition`,
//! and what they do to executions.
//!
//! A pipeline has one transition between each two neighbouring stages; AWS
//! names it from either side, as the `Inbound` transition of the later stage
//! or the `Outbound` transition of the earlier one, and `GetPipelineState`
//! shows it as the later stage's `inboundTransitionState`. So cpjobs keeps it
//! once, under the stage it leads into. The first stage has no transition
//! into it and the last none out of it: naming those is refused.
//!
//! An execution that finishes the stage before a disabled transition waits
//! there as it waits for an occupied stage (`waiting_for`), so the execution
//! modes apply: in `SUPERSEDED` a newer arrival replaces it. Enabling the
//! transition lets the waiters go on as a stage that frees lets them in: the
//! newest (`SUPERSEDED`), the oldest (`QUEUED`) or all (`PARALLEL`).
//! Executions already past the transition are not affected.

use crate::ErrorCode;
use serde_json::{Value, json};

use super::{IN_PROGRESS, Run, advance_and_save};
use crate::api::Caller;
use crate::fail::{Res, fail};
use crate::input::{req_str, timestamp};
use crate::pipelines;
use crate::store::{Millis, TransitionRow, Tx};

/// The stage whose inbound transition `input` names (`stageName` and
/// `transitionType`), in the caller's pipeline `pipelineName`.
fn target_stage(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<(String, String)> {
    let pipeline = req_str(input, "pipelineName")?;
    let stage = req_str(input, "stageName")?;
    let kind = req_str(input, "transitionType")?;
    let p = pipelines::load(tx, &caller.account_id, pipeline)?;
    let stages: Vec<&str> = p
        .declaration
        .get("stages")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|s| s.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    let Some(i) = stages.iter().position(|s| *s == stage) else {
        return super::no_such_stage(pipeline, stage);
    };
    let into = match kind {
        "Inbound" if i == 0 => {
            return fail(
                ErrorCode::ValidationException,
                format!("Stage '{stage}' is the first stage of pipeline '{pipeline}': no transition leads into it"),
            );
        }
        "Inbound" => stages[i],
        "Outbound" => match stages.get(i + 1) {
            Some(next) => next,
            None => {
                return fail(
                    ErrorCode::ValidationException,
                    format!(
                        "Stage '{stage}' is the last stage of pipeline '{pipeline}': no transition leads out of it"
                    ),
                );
            }
        },
        other => {
            return fail(
                ErrorCode::ValidationException,
                format!("transitionType '{other}' is not valid: use Inbound or Outbound"),
            );
        }
    };
    Ok((p.name, into.to_owned()))
}

/// Who changed a transition, as `lastChangedBy` shows it.
fn changed_by(caller: &Caller) -> String {
    format!("arn:aws:iam::{}:root", caller.account_id)
}

/// `DisableStageTransition`: executions that reach the transition from now on wait there.
pub(crate) fn disable(tx: &mut dyn Tx, caller: &Caller, input: &Value, now: Millis) -> Res<Value> {
    let reason = req_str(input, "reason")?.to_owned();
    let (pipeline, stage) = target_stage(tx, caller, input)?;
    tx.put_transition(&TransitionRow {
        account_id: caller.account_id.clone(),
        pipeline_name: pipeline,
        stage_name: stage,
        enabled: false,
        changed_by: changed_by(caller),
        changed_at: now,
        disabled_reason: Some(reason),
    })?;
    Ok(json!({}))
}

/// `EnableStageTransition`: the transition opens, and the executions waiting
/// at it go on as the execution mode lets them.
pub(crate) fn enable(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let (pipeline, stage) = target_stage(tx, caller, input)?;
    tx.put_transition(&TransitionRow {
        account_id: caller.account_id.clone(),
        pipeline_name: pipeline.clone(),
        stage_name: stage.clone(),
        enabled: true,
        changed_by: changed_by(caller),
        changed_at: now,
        disabled_reason: None,
    })?;
    let waiters: Vec<(Run, i64)> = tx
        .executions_at_stage(&caller.account_id, &pipeline, &stage)?
        .iter()
        .map(|row| Ok((Run::from_row(row)?, row.revision)))
        .collect::<Res<Vec<_>>>()?
        .into_iter()
        .filter(|(o, _)| o.status == IN_PROGRESS && o.waiting_for.as_deref() == Some(stage.as_str()))
        .collect();
    // The store lists them oldest first; the newest decides the mode.
    let Some((newest, _)) = waiters.last() else { return Ok(json!({})) };
    let mode = pipelines::plan_of(&newest.declaration, region)?.mode.clone();
    let chosen: Vec<(Run, i64)> = match mode.as_str() {
        "PARALLEL" => waiters,
        "QUEUED" => waiters.into_iter().take(1).collect(),
        _ => waiters.into_iter().last().into_iter().collect(),
    };
    for (run, _) in chosen {
        // Each advance may change the others (the stage fills): read it afresh.
        let Some((mut run, rev)) = super::load(tx, &run.id)? else { continue };
        if run.status != IN_PROGRESS || run.waiting_for.as_deref() != Some(stage.as_str()) {
            continue;
        }
        let plan = pipelines::plan_of(&run.declaration, region)?;
        advance_and_save(tx, &mut run, rev, &plan, region, now)?;
    }
    Ok(json!({}))
}

/// Whether the transition into `stage` of the run's pipeline is disabled now
/// (the pipeline's, not the run's declaration's: transitions are the
/// pipeline's). The first stage has none, and costs no read.
pub(crate) fn inbound_disabled(tx: &mut dyn Tx, run: &Run, stage: &str) -> Res<bool> {
    if run.stages.first().is_some_and(|s| s.name == stage) {
        return Ok(false);
    }
    Ok(tx.transitions(&run.account_id, &run.pipeline_name)?.iter().any(|t| t.stage_name == stage && !t.enabled))
}

/// The `inboundTransitionState` of each stage but the first, for `GetPipelineState`.
pub(crate) fn inbound_states(tx: &mut dyn Tx, account: &str, pipeline: &str) -> Res<Vec<(String, Value)>> {
    Ok(tx
        .transitions(account, pipeline)?
        .into_iter()
        .map(|t| {
            let mut v = json!({
                "enabled": t.enabled,
                "lastChangedBy": t.changed_by,
                "lastChangedAt": timestamp(t.changed_at),
            });
            if let Some(r) = t.disabled_reason {
                v["disabledReason"] = json!(r);
            }
            (t.stage_name, v)
        })
        .collect())
}
