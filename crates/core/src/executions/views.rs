//! Read views of executions: `GetPipelineExecution`, `ListPipelineExecutions`,
//! `GetPipelineState` and `ListActionExecutions`, built from the stored run
//! documents in the model's shapes. Nothing here writes.

use serde_json::{Value, json};

use std::collections::HashMap;

use super::{Artifact, Attempt, IN_PROGRESS, Run, conditions, load_of, part};
use crate::action_types::{self, ActionTypeId};
use crate::api::Caller;
use crate::fail::Res;
use crate::input::{opt_i64, opt_str, req_str, timestamp};
use crate::paging::{decode_offset, encode_offset};
use crate::pipelines;
use crate::secrets::Secrets;
use crate::store::{Millis, StoreError, Tx};

/// The `executionMode` of the run's declaration, as declared (absent: the default).
fn execution_mode(run: &Run) -> Res<Value> {
    #[derive(serde::Deserialize)]
    struct Mode {
        #[serde(rename = "executionMode")]
        mode: Option<Value>,
    }
    let m: Mode = serde_json::from_str(run.declaration.get())
        .map_err(|e| StoreError::Backend(format!("stored declaration is unreadable: {e}")))?;
    Ok(m.mode.unwrap_or_else(|| json!("SUPERSEDED")))
}

fn summary_json(run: &Run) -> Res<Value> {
    let mut v = json!({
        "pipelineExecutionId": run.id,
        "status": run.status,
        "startTime": timestamp(run.started),
        "lastUpdateTime": timestamp(run.updated),
        "sourceRevisions": source_revisions(run),
        "trigger": trigger_json(run),
        "executionMode": execution_mode(run)?,
    });
    execution_type(run, &mut v);
    if let Some(s) = &run.status_summary {
        v["statusSummary"] = json!(s);
    }
    if let Some(r) = &run.stop_reason {
        v["stopTrigger"] = json!({"reason": r});
    }
    Ok(v)
}

/// `executionType` and, for a rollback, `rollbackMetadata`.
fn execution_type(run: &Run, v: &mut Value) {
    match &run.rollback {
        Some(rb) => {
            v["executionType"] = json!("ROLLBACK");
            v["rollbackMetadata"] = json!({"rollbackTargetPipelineExecutionId": rb.target});
        }
        None => v["executionType"] = json!("STANDARD"),
    }
}

/// The revisions the execution's source actions gave it (a rollback's are
/// its target's).
pub(super) fn source_revisions(run: &Run) -> Vec<Value> {
    if let Some(rb) = &run.rollback {
        return rb.source_revisions.clone();
    }
    run.stages
        .first()
        .map(|s| {
            s.actions
                .iter()
                .filter_map(|a| {
                    let rev = a.current.as_ref()?.current_revision.as_ref()?;
                    let mut v = json!({"actionName": a.name});
                    if let Some(r) = rev.get("revision") {
                        v["revisionId"] = r.clone();
                    }
                    if let Some(r) = rev.get("revisionSummary") {
                        v["revisionSummary"] = r.clone();
                    }
                    Some(v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `GetPipelineExecution`.
pub(crate) fn get(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let id = req_str(input, "pipelineExecutionId")?;
    let (run, _) = load_of(tx, caller, pipeline, id)?;
    let revisions: Vec<Value> = run
        .artifacts
        .values()
        .filter_map(|a| a.revision.as_ref().map(|r| artifact_revision_json(&run, &a.name, r)))
        .collect();
    let mut v = json!({
        "pipelineName": run.pipeline_name,
        "pipelineVersion": run.pipeline_version,
        "pipelineExecutionId": run.id,
        "status": run.status,
        "artifactRevisions": revisions,
        "trigger": trigger_json(&run),
        "executionMode": execution_mode(&run)?,
    });
    execution_type(&run, &mut v);
    if let Some(s) = &run.status_summary {
        v["statusSummary"] = json!(s);
    }
    if !run.variables.is_empty() {
        v["variables"] = run.variables.iter().map(|(n, x)| json!({"name": n, "resolvedValue": x})).collect();
    }
    Ok(json!({"pipelineExecution": v}))
}

/// `ListPipelineExecutions`, newest first; `maxResults` default 100.
pub(crate) fn list(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let account = &caller.account_id;
    let read = || -> Res<(usize, usize)> {
        let limit = opt_i64(input, "maxResults")?.unwrap_or(100).clamp(1, 100) as usize;
        Ok((limit, decode_offset(opt_str(input, "nextToken")?)?))
    };
    let (limit, offset) = match read() {
        Ok(r) => r,
        // An unknown pipeline is refused first, as it always was.
        Err(e) => {
            pipelines::load(tx, account, pipeline)?;
            return Err(e);
        }
    };
    let mut rows = tx.list_executions(account, pipeline, offset, limit + 1)?;
    // Executions go with their pipeline: only an empty page needs to know
    // whether the pipeline is there (the console's list asks this for every
    // pipeline, and loading a declaration costs more than the page).
    if rows.is_empty() {
        pipelines::load(tx, account, pipeline)?;
    }
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items = rows.iter().map(|r| summary_json(&Run::from_row(r)?)).collect::<Res<Vec<_>>>()?;
    let mut out = json!({"pipelineExecutionSummaries": items});
    if more {
        out["nextToken"] = json!(encode_offset(offset + limit));
    }
    Ok(out)
}

fn action_execution_json(att: &Attempt) -> Value {
    let mut v = json!({
        "actionExecutionId": att.id,
        "status": att.status,
        "lastStatusChange": timestamp(att.updated),
    });
    if let Some(s) = &att.summary {
        v["summary"] = json!(s);
    }
    if let Some(t) = att.token.as_ref().filter(|_| att.status == IN_PROGRESS) {
        v["token"] = json!(t);
    }
    if let Some(u) = &att.updated_by {
        v["lastUpdatedBy"] = json!(u);
    }
    if let Some(x) = &att.external_execution_id {
        v["externalExecutionId"] = json!(x);
    }
    if let Some(x) = &att.external_execution_url {
        v["externalExecutionUrl"] = json!(x);
    }
    if let Some(p) = att.percent_complete {
        v["percentComplete"] = json!(p);
    }
    if let Some((code, message)) = &att.error {
        v["errorDetails"] = json!({"code": code, "message": message});
    }
    v
}

/// How many executions [`state`] reads at a time.
const STATE_PAGE: usize = 100;

/// The parts (stages, and actions in them) of `declaration`, as [`part`] names them.
fn parts_of(declaration: &Value) -> Vec<String> {
    let mut parts = Vec::new();
    for s in declaration.get("stages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let sname = s.get("name").and_then(Value::as_str).unwrap_or_default();
        parts.push(part(sname, None));
        for a in s.get("actions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            parts.push(part(sname, Some(a.get("name").and_then(Value::as_str).unwrap_or_default())));
        }
    }
    parts
}

/// For each part of a pipeline, the latest execution that reached it.
struct Latest {
    runs: Vec<Run>,
    /// Part -> index in `runs`.
    by_part: HashMap<String, usize>,
}

impl Latest {
    /// The latest execution that reached stage `stage` (or its action `action`).
    fn of(&self, stage: &str, action: Option<&str>) -> Option<&Run> {
        self.by_part.get(&part(stage, action)).map(|&i| &self.runs[i])
    }

    /// From the store's marks ([`Tx::latest_reached`]): a read per part
    /// and per execution named, however long the history. `None` when the
    /// store's marks may be incomplete, or do not match the executions they
    /// name (then the history decides).
    fn marked(tx: &mut dyn Tx, account: &str, pipeline: &str, declaration: &Value) -> Res<Option<Latest>> {
        let Some(found) = tx.latest_reached(account, pipeline, &parts_of(declaration))? else { return Ok(None) };
        let mut latest = Latest { runs: Vec::new(), by_part: HashMap::new() };
        let mut at: HashMap<String, usize> = HashMap::new();
        for (p, id) in found {
            let i = match at.get(&id) {
                Some(&i) => i,
                None => {
                    let Some(row) = tx.get_execution(&id)? else { return Ok(None) };
                    latest.runs.push(Run::from_row(&row)?);
                    at.insert(id, latest.runs.len() - 1);
                    latest.runs.len() - 1
                }
            };
            if !latest.runs[i].reached_parts().contains(&p) {
                return Ok(None);
            }
            latest.by_part.insert(p, i);
        }
        Ok(Some(latest))
    }

    /// From the history, newest first, a page at a time, until every part
    /// is accounted for (a part nothing reached costs a read of the whole
    /// history: for pipelines stored before the marks were kept).
    fn from_history(tx: &mut dyn Tx, account: &str, pipeline: &str, declaration: &Value) -> Res<Latest> {
        let parts = parts_of(declaration);
        let mut latest = Latest { runs: Vec::new(), by_part: HashMap::new() };
        loop {
            let page = tx.list_executions(account, pipeline, latest.runs.len(), STATE_PAGE)?;
            let last = page.len() < STATE_PAGE;
            for row in &page {
                let run = Run::from_row(row)?;
                for p in run.reached_parts() {
                    if parts.contains(&p) {
                        latest.by_part.entry(p).or_insert(latest.runs.len());
                    }
                }
                latest.runs.push(run);
            }
            if last || latest.by_part.len() == parts.len() {
                return Ok(latest);
            }
        }
    }
}

/// `GetPipelineState`: for each stage and action of the current declaration,
/// the latest execution that reached it, however many later executions did not.
pub(crate) fn state(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let name = req_str(input, "name")?;
    let p = pipelines::load(tx, &caller.account_id, name)?;
    let latest = match Latest::marked(tx, &caller.account_id, name, &p.declaration)? {
        Some(latest) => latest,
        None => Latest::from_history(tx, &caller.account_id, name, &p.declaration)?,
    };
    let transitions = super::transitions::inbound_states(tx, &caller.account_id, name)?;
    let mut stage_states = Vec::new();
    for (si, s) in
        p.declaration.get("stages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate()
    {
        let sname = s.get("name").and_then(Value::as_str).unwrap_or_default();
        let mut st = json!({"stageName": sname});
        // As AWS shows it: no transition leads into the first stage.
        if si > 0 {
            st["inboundTransitionState"] = transitions
                .iter()
                .find(|(n, _)| n == sname)
                .map_or_else(|| json!({"enabled": true}), |(_, v)| v.clone());
        }
        let reached = latest.of(sname, None).and_then(|r| {
            r.stages.iter().find(|x| x.name == sname).and_then(|x| x.status.as_ref().map(|status| (r, status)))
        });
        if let Some((r, status)) = reached {
            let kind = if r.rollback.is_some() { "ROLLBACK" } else { "STANDARD" };
            st["latestExecution"] = json!({"pipelineExecutionId": r.id, "status": status, "type": kind});
            let stage_run = r.stages.iter().find(|x| x.name == sname);
            for (kind, member) in [
                (conditions::BEFORE_ENTRY, "beforeEntryConditionState"),
                (conditions::ON_SUCCESS, "onSuccessConditionState"),
                (conditions::ON_FAILURE, "onFailureConditionState"),
            ] {
                if let Some(c) = stage_run.and_then(|x| conditions::state_json(x, kind)) {
                    st[member] = c;
                }
            }
            if let Some(retries) = stage_run.map(|x| &x.retries).filter(|r| !r.is_none()) {
                let mut m = json!({});
                if retries.auto > 0 {
                    m["autoStageRetryAttempt"] = json!(retries.auto);
                }
                if retries.manual > 0 {
                    m["manualStageRetryAttempt"] = json!(retries.manual);
                }
                if let Some(t) = &retries.latest {
                    m["latestRetryTrigger"] = json!(t);
                }
                st["retryStageMetadata"] = m;
            }
        }
        let mut action_states = Vec::new();
        for a in s.get("actions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            let aname = a.get("name").and_then(Value::as_str).unwrap_or_default();
            let mut ast = json!({"actionName": aname});
            // The console's link to the action's resource, as AWS fills it from the type's template.
            let def = match a.get("actionTypeId").map(ActionTypeId::from_json) {
                Some(Ok(id)) => action_types::find(tx, &id, &caller.account_id)?,
                _ => None,
            };
            if let Some(def) = &def
                && let Some(template) = def.entity_url_template.as_deref()
            {
                ast["entityUrl"] = json!(action_types::fill_config(template, a.get("configuration"), def));
            }
            let att = latest.of(sname, Some(aname)).and_then(|r| {
                r.stages
                    .iter()
                    .filter(|x| x.name == sname)
                    .flat_map(|x| &x.actions)
                    .find(|x| x.name == aname)
                    .and_then(|x| x.current.as_ref())
            });
            if let Some(att) = att {
                if let Some(rev) = &att.current_revision {
                    ast["currentRevision"] = json!({
                        "revisionId": rev.get("revision").cloned().unwrap_or(Value::Null),
                        "revisionChangeId": rev.get("changeIdentifier").cloned().unwrap_or(Value::Null),
                        "created": rev.get("created").cloned().unwrap_or(timestamp(att.updated)),
                    });
                }
                ast["latestExecution"] = action_execution_json(att);
            }
            action_states.push(ast);
        }
        st["actionStates"] = json!(action_states);
        stage_states.push(st);
    }
    Ok(json!({
        "pipelineName": name,
        "pipelineVersion": p.version,
        "stageStates": stage_states,
        "created": timestamp(p.created),
        "updated": timestamp(p.updated),
    }))
}

/// `ListActionExecutions`: the actions of one execution, or of every execution
/// (executions newest first), each execution's newest first; `maxResults` default 100.
pub(crate) fn list_actions(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    pipelines::load(tx, &caller.account_id, pipeline)?;
    let limit = opt_i64(input, "maxResults")?.unwrap_or(100).clamp(1, 100) as usize;
    let offset = decode_offset(opt_str(input, "nextToken")?)?;
    // One more than the page, to know whether another page follows.
    let wanted = offset + limit + 1;
    let mut details: Vec<Value> = Vec::new();
    let mut secrets = Secrets::new(&caller.account_id);
    match input.pointer("/filter/pipelineExecutionId").and_then(Value::as_str) {
        Some(id) => {
            let run = load_of(tx, caller, pipeline, id)?.0;
            details = action_details(tx, &mut secrets, &run, region)?;
        }
        // Every execution's actions, executions newest first, read a page of
        // executions at a time until the requested page is covered.
        None => {
            let mut at = 0;
            loop {
                let rows = tx.list_executions(&caller.account_id, pipeline, at, EXECUTION_PAGE)?;
                for row in &rows {
                    details.extend(action_details(tx, &mut secrets, &Run::from_row(row)?, region)?);
                }
                if details.len() >= wanted || rows.len() < EXECUTION_PAGE {
                    break;
                }
                at += rows.len();
            }
        }
    }
    let more = details.len() > offset + limit;
    let page: Vec<Value> = details.into_iter().skip(offset).take(limit).collect();
    let mut out = json!({"actionExecutionDetails": page});
    if more {
        out["nextToken"] = json!(encode_offset(offset + limit));
    }
    Ok(out)
}

/// How many executions `ListActionExecutions` reads from the store at once.
const EXECUTION_PAGE: usize = 100;

/// The action executions of one run, newest first (by start time; equal
/// start times keep the pipeline's order).
fn action_details(tx: &mut dyn Tx, secrets: &mut Secrets<'_>, run: &Run, region: &str) -> Res<Vec<Value>> {
    let mut details: Vec<(Millis, Value)> = Vec::new();
    let plan = pipelines::plan_of(&run.declaration, region)?;
    for (stage, sp) in run.stages.iter().zip(&plan.stages) {
        for (a, ap) in stage.actions.iter().zip(&sp.actions) {
            // Secret values never leave the service outside job data.
            let mut configuration = ap.configuration.clone();
            secrets.mask(tx, &ap.type_id, &mut configuration)?;
            for att in a.history.iter().chain(a.current.iter()) {
                let resolved = match &att.resolved_configuration {
                    Some(r) => {
                        let mut r = r.clone();
                        secrets.mask(tx, &ap.type_id, &mut r)?;
                        r
                    }
                    None => configuration.clone(),
                };
                let mut result = json!({});
                if let Some(x) = &att.external_execution_id {
                    result["externalExecutionId"] = json!(x);
                }
                if let Some(s) = &att.summary {
                    result["externalExecutionSummary"] = json!(s);
                }
                if let Some(u) = &att.external_execution_url {
                    result["externalExecutionUrl"] = json!(u);
                }
                if let Some((code, message)) = &att.error {
                    result["errorDetails"] = json!({"code": code, "message": message});
                }
                let mut input_v = json!({
                    "actionTypeId": ap.type_id.to_json(),
                    "configuration": configuration,
                    "resolvedConfiguration": resolved,
                    "region": ap.raw.get("region").cloned().unwrap_or(json!(region)),
                    "inputArtifacts": att.inputs.iter().map(Artifact::to_detail_json).collect::<Vec<_>>(),
                });
                if let Some(r) = ap.raw.get("roleArn") {
                    input_v["roleArn"] = r.clone();
                }
                if let Some(n) = ap.raw.get("namespace") {
                    input_v["namespace"] = n.clone();
                }
                let mut output = json!({
                    "outputArtifacts": if att.status == "Succeeded" { att.outputs.iter().map(Artifact::to_detail_json).collect::<Vec<_>>() } else { vec![] },
                    "executionResult": result,
                });
                if let Some(ov) = &att.output_variables {
                    output["outputVariables"] = ov.clone();
                }
                let mut d = json!({
                    "pipelineExecutionId": run.id,
                    "actionExecutionId": att.id,
                    "pipelineVersion": run.pipeline_version,
                    "stageName": stage.name,
                    "actionName": a.name,
                    "startTime": timestamp(att.started),
                    "lastUpdateTime": timestamp(att.updated),
                    "status": att.status,
                    "input": input_v,
                    "output": output,
                });
                if let Some(u) = &att.updated_by {
                    d["updatedBy"] = json!(u);
                }
                details.push((att.started, d));
            }
        }
    }
    details.sort_by_key(|d| std::cmp::Reverse(d.0));
    Ok(details.into_iter().map(|d| d.1).collect())
}

/// The execution's `trigger`: what started it, and on whose behalf.
fn trigger_json(run: &Run) -> Value {
    let kind = run.trigger_type.as_deref().unwrap_or("StartPipelineExecution");
    json!({"triggerType": kind, "triggerDetail": run.trigger_detail})
}

/// An `ArtifactRevision`: the artifact's revision, with the change id and
/// time of the revision the action that produced it reported or was given.
fn artifact_revision_json(run: &Run, artifact: &str, revision: &str) -> Value {
    let mut v = json!({"name": artifact, "revisionId": revision});
    let producer = run
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| a.current.as_ref())
        .find(|att| att.outputs.iter().any(|o| o.name == artifact && o.revision.as_deref() == Some(revision)));
    if let Some(rev) = producer.and_then(|att| att.current_revision.as_ref()) {
        if let Some(change) = rev.get("changeIdentifier") {
            v["revisionChangeIdentifier"] = change.clone();
        }
        if let Some(created) = rev.get("created") {
            v["created"] = created.clone();
        }
    }
    v
}
