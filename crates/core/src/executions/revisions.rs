//! `PutActionRevision` (a source action told of a new revision starts an
//! execution with it) and `ListDeployActionExecutionTargets` (the targets an
//! action execution deployed to: none for every action type cpjobs runs).

use serde_json::{Value, json};

use super::{Begin, Run, begin};
use crate::api::Caller;
use crate::error_code::ErrorCode;
use crate::fail::{Res, fail};
use crate::input::{opt_str, req_obj, req_str};
use crate::pipelines;
use crate::store::{Millis, Tx};

/// How many executions are read from the store at once when searching a
/// pipeline's history.
const PAGE: usize = 100;

/// `PutActionRevision`: a revision no kept execution of the pipeline gave
/// that action starts an execution whose source action carries it
/// (`newRevision: true`); a revision already used answers the execution
/// that used it and starts nothing (`newRevision: false`).
pub(crate) fn put_revision(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let stage_name = req_str(input, "stageName")?;
    let action_name = req_str(input, "actionName")?;
    let given = Value::Object(req_obj(input, "actionRevision")?.clone());
    let revision_id = req_str(&given, "revisionId")?.to_owned();
    let change_id = req_str(&given, "revisionChangeId")?.to_owned();
    let created = match given.get("created") {
        Some(c @ Value::Number(_)) => c.clone(),
        _ => return fail(ErrorCode::ValidationException, "actionRevision.created must be a timestamp"),
    };
    let p = pipelines::load(tx, &caller.account_id, pipeline)?;
    let plan = pipelines::plan(&p.declaration, region)?;
    let stage = super::plan_stage(&plan, pipeline, stage_name)?;
    let Some(action) = stage.actions.iter().find(|a| a.name == action_name) else {
        return fail(
            ErrorCode::ActionNotFoundException,
            format!("Action '{action_name}' does not exist in stage '{stage_name}' of pipeline '{pipeline}'"),
        );
    };
    // A revision belongs to a source; the service's own S3 source reads its
    // revision (the object's ETag) itself when it runs, so a revision given
    // from outside could only contradict it.
    if action.type_id.category != "Source" || !matches!(action.type_id.owner.as_str(), "Custom" | "ThirdParty") {
        return fail(
            ErrorCode::ValidationException,
            format!(
                "Action '{action_name}' is not a custom or third-party source action; only those take revisions from PutActionRevision"
            ),
        );
    }
    if let Some(used) = execution_with_revision(tx, caller, pipeline, stage_name, action_name, &revision_id)? {
        return Ok(json!({"newRevision": false, "pipelineExecutionId": used}));
    }
    // The execution runs with the pipeline's variable defaults, as one
    // started without overrides does.
    let variables = crate::pipeline_rules::start_variables(&p.declaration, &json!({}))?;
    let revision = json!({"revision": revision_id, "changeIdentifier": change_id, "created": created});
    let how = Begin {
        variables,
        token: None,
        trigger_type: Some("PutActionRevision".into()),
        trigger_detail: None,
        given_revisions: vec![(stage_name.to_owned(), action_name.to_owned(), revision)],
    };
    let run = begin(tx, caller, &p, how, region, now)?;
    Ok(json!({"newRevision": true, "pipelineExecutionId": run.id}))
}

/// The newest kept execution of the pipeline whose action had, or was
/// given, revision `id`.
fn execution_with_revision(
    tx: &mut dyn Tx,
    caller: &Caller,
    pipeline: &str,
    stage: &str,
    action: &str,
    id: &str,
) -> Res<Option<String>> {
    let is_it = |rev: &Value| rev.get("revision").and_then(Value::as_str) == Some(id);
    let mut offset = 0;
    loop {
        let rows = tx.list_executions(&caller.account_id, pipeline, offset, PAGE)?;
        for row in &rows {
            let run = Run::from_row(row)?;
            let given = run.given_revisions.iter().any(|(s, a, r)| s == stage && a == action && is_it(r));
            let ran = run
                .stages
                .iter()
                .filter(|s| s.name == stage)
                .flat_map(|s| &s.actions)
                .filter(|a| a.name == action)
                .flat_map(|a| a.current.iter().chain(&a.history))
                .any(|att| att.current_revision.as_ref().is_some_and(is_it));
            if given || ran {
                return Ok(Some(run.id));
            }
        }
        if rows.len() < PAGE {
            return Ok(None);
        }
        offset += rows.len();
    }
}

/// `ListDeployActionExecutionTargets`: cpjobs runs no action type that
/// reports deployment targets, so an action execution of the caller's
/// pipelines has none; the filters (checked against the model before) have
/// nothing to select from, and no page follows the first.
pub(crate) fn deploy_targets(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let id = req_str(input, "actionExecutionId")?;
    if let Some(token) = opt_str(input, "nextToken")? {
        // No answer ever carries a token, so none can be one of ours.
        return fail(ErrorCode::InvalidNextTokenException, format!("The next token '{token}' is not valid"));
    }
    let pipelines = match opt_str(input, "pipelineName")? {
        Some(name) => vec![pipelines::load(tx, &caller.account_id, name)?.name],
        None => all_pipelines(tx, caller)?,
    };
    for pipeline in &pipelines {
        if has_action_execution(tx, caller, pipeline, id)? {
            return Ok(json!({"targets": []}));
        }
    }
    fail(ErrorCode::ActionExecutionNotFoundException, format!("Action execution '{id}' does not exist"))
}

/// The names of every pipeline of the caller's account.
fn all_pipelines(tx: &mut dyn Tx, caller: &Caller) -> Res<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    loop {
        let rows = tx.list_pipelines(&caller.account_id, names.last().map(String::as_str), PAGE)?;
        let full = rows.len() == PAGE;
        names.extend(rows.into_iter().map(|r| r.name));
        if !full {
            return Ok(names);
        }
    }
}

/// Whether a kept execution of the pipeline has an action execution `id`.
fn has_action_execution(tx: &mut dyn Tx, caller: &Caller, pipeline: &str, id: &str) -> Res<bool> {
    let mut offset = 0;
    loop {
        let rows = tx.list_executions(&caller.account_id, pipeline, offset, PAGE)?;
        for row in &rows {
            let run = Run::from_row(row)?;
            let found = run
                .stages
                .iter()
                .flat_map(|s| &s.actions)
                .flat_map(|a| a.current.iter().chain(&a.history))
                .any(|att| att.id == id);
            if found {
                return Ok(true);
            }
        }
        if rows.len() < PAGE {
            return Ok(false);
        }
        offset += rows.len();
    }
}
