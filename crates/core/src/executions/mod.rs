//! Pipeline executions: the engine that runs stages in order and actions by
//! `runOrder` (equal run orders in parallel), hands artifacts on by name, and
//! the operations that start, stop, retry and approve executions (the read
//! views are in [`views`]).
//!
//! An execution's whole run state is one document ([`Run`]) updated with a
//! revision guard, so two job results for parallel actions of one execution
//! can never overwrite each other: the loser's transaction is retried.
//! Invariant: a stage starts only when every earlier stage succeeded, a run
//! order only when every lower one in its stage succeeded; a stage fails once
//! an action failed and none of its actions is still in progress. Unless the
//! pipeline's `executionMode` is `PARALLEL`, a stage holds one execution at a
//! time: the others wait at its entrance, and the one that leaves it lets the
//! newest waiter in (`SUPERSEDED`, where a newer arrival replaces an older
//! waiter, which ends `Superseded`) or the oldest (`QUEUED`).

use crate::error_code::ErrorCode;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::action_types;
use crate::api::{ApiError, Caller};
use crate::artifacts::SourceRevision;
use crate::clients;
use crate::credentials::ArtifactObject;
use crate::fail::{Fail, Res, fail, lost_race};
use crate::ids::{short_id, uuid};
use crate::input::{opt_bool, opt_str, req_obj, req_str, timestamp};
use crate::jobs;
use crate::pipelines::{self, Plan};
use crate::store::{ExecutionRow, JsonText, Millis, StoreError, Tx};
use stage_end::{Flow, retry_actions};

pub(crate) mod conditions;
mod revisions;
mod rollback;
pub(crate) mod rules;
mod stage_end;
mod transitions;
mod variables;
mod views;

pub(crate) use conditions::{list as list_rule_executions, override_condition};
pub(crate) use revisions::{deploy_targets, put_revision};
pub(crate) use rollback::rollback_stage;
pub(crate) use rules::list_types as list_rule_types;
pub(crate) use transitions::{disable as disable_transition, enable as enable_transition};
pub(crate) use views::{get, list, list_actions, state};

/// An artifact's place in the artifact store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Artifact {
    pub name: String,
    pub bucket: String,
    pub key: String,
    pub revision: Option<String>,
}

impl Artifact {
    /// The `Artifact` shape of job data.
    pub(crate) fn to_job_json(&self) -> Value {
        let mut v = json!({"name": self.name, "location": {"type": "S3", "s3Location": {"bucketName": self.bucket, "objectKey": self.key}}});
        if let Some(r) = &self.revision {
            v["revision"] = json!(r);
        }
        v
    }

    fn to_detail_json(&self) -> Value {
        json!({"name": self.name, "s3location": {"bucket": self.bucket, "key": self.key}})
    }
}

/// One run of one action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Attempt {
    pub id: String,
    pub status: String,
    pub started: Millis,
    pub updated: Millis,
    pub summary: Option<String>,
    pub external_execution_id: Option<String>,
    pub external_execution_url: Option<String>,
    pub percent_complete: Option<i64>,
    pub error: Option<(String, String)>,
    pub token: Option<String>,
    pub current_revision: Option<Value>,
    pub inputs: Vec<Artifact>,
    pub outputs: Vec<Artifact>,
    pub output_variables: Option<Value>,
    pub updated_by: Option<String>,
    pub job_id: Option<String>,
    /// When an action the service runs itself (Manual approval) expires, or
    /// (S3 source) when the sweep copies its object.
    #[serde(default)]
    pub deadline: Option<Millis>,
    /// The object an S3 source action copies: `(bucket, key)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_source: Option<(String, String)>,
    /// The action's configuration with its variable references resolved,
    /// when it had any (else the declaration's configuration is it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_configuration: Option<Map<String, Value>>,
}

/// An action's attempts in one execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ActionRun {
    pub name: String,
    pub run_order: i64,
    pub current: Option<Attempt>,
    pub history: Vec<Attempt>,
}

/// A stage's state in one execution (`None`: not reached).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StageRun {
    pub name: String,
    pub status: Option<String>,
    pub actions: Vec<ActionRun>,
    /// Every evaluation of the stage's conditions, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<conditions::ConditionRun>,
    /// The stage's retries, automatic and manual.
    #[serde(default, skip_serializing_if = "conditions::Retries::is_none")]
    pub retries: conditions::Retries,
}

/// A pipeline execution's run state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Run {
    pub id: String,
    pub account_id: String,
    pub pipeline_name: String,
    pub pipeline_version: i64,
    /// The declaration the execution runs (a snapshot: updates to the
    /// pipeline apply to later executions), as text: the engine reads it
    /// through [`pipelines::plan_of`], which parses each declaration once.
    pub declaration: Box<RawValue>,
    pub status: String,
    pub status_summary: Option<String>,
    pub stop_reason: Option<String>,
    pub trigger_detail: String,
    pub started: Millis,
    pub updated: Millis,
    pub stages: Vec<StageRun>,
    /// Artifacts produced so far, by name.
    pub artifacts: BTreeMap<String, Artifact>,
    /// The stage this execution waits to enter while another execution
    /// occupies it (`SUPERSEDED` and `QUEUED` modes).
    #[serde(default)]
    pub waiting_for: Option<String>,
    /// `clientRequestToken` of the start request, for idempotent retries.
    #[serde(default)]
    pub client_request_token: Option<String>,
    /// The pipeline-level variables the execution runs with (name, value), in
    /// declaration order: the start's values, else the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<(String, String)>,
    /// What started the execution (`TriggerType`), when it was not
    /// `StartPipelineExecution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_type: Option<String>,
    /// Revisions given to source actions before the execution reached them
    /// (`PutActionRevision`): (stage, action, revision in the
    /// `currentRevision` shape of a job result).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given_revisions: Vec<(String, String, Value)>,
    /// The parts this execution had reached when it was read from the store
    /// (marked then already): a save marks only the parts reached since.
    /// Not stored.
    #[serde(skip)]
    pub marked: Vec<String>,
    /// What makes the execution a rollback (`executionType: ROLLBACK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<rollback::Rollback>,
    /// Rollbacks this step of the engine asked for: (stage, target
    /// execution), begun once the run is saved (so the stage is free).
    #[serde(skip)]
    pub rollbacks: Vec<(String, String)>,
}

const IN_PROGRESS: &str = "InProgress";

/// A Manual approval not answered within 7 days fails, as in AWS, unless
/// the action's `timeoutInMinutes` says otherwise.
pub(crate) const APPROVAL_TIMEOUT_MS: Millis = 7 * 24 * 3600 * 1000;

/// How many recent executions a `clientRequestToken` is looked for in.
const IDEMPOTENCY_WINDOW: usize = 100;

impl Run {
    fn any_in_progress(&self) -> bool {
        self.stages.iter().flat_map(|s| &s.actions).any(|a| a.current.as_ref().is_some_and(|c| c.status == IN_PROGRESS))
    }

    /// The attempt with this action execution id, with its stage and action names.
    pub(crate) fn attempt_mut(&mut self, attempt_id: &str) -> Option<&mut Attempt> {
        self.stages
            .iter_mut()
            .flat_map(|s| s.actions.iter_mut())
            .filter_map(|a| a.current.as_mut())
            .find(|c| c.id == attempt_id)
    }

    /// The earliest deadline of an in-progress action, or time a waiting
    /// condition is evaluated again, while the run is unfinished.
    fn next_deadline(&self) -> Option<Millis> {
        if !matches!(self.status.as_str(), IN_PROGRESS | "Stopping") {
            return None;
        }
        let actions = self
            .stages
            .iter()
            .flat_map(|s| &s.actions)
            .filter_map(|a| a.current.as_ref())
            .filter(|c| c.status == IN_PROGRESS)
            .filter_map(|c| c.deadline)
            .min();
        [actions, conditions::next_wake(self)].into_iter().flatten().min()
    }

    fn to_row(&self, revision: i64) -> ExecutionRow {
        ExecutionRow {
            id: self.id.clone(),
            account_id: self.account_id.clone(),
            pipeline_name: self.pipeline_name.clone(),
            status: self.status.clone(),
            started: self.started,
            updated: self.updated,
            revision,
            wake_at: self.next_deadline(),
            stage: self.stages.iter().find(|s| s.status.as_deref() == Some(IN_PROGRESS)).map(|s| s.name.clone()),
            waiting_for: self.waiting_for.clone(),
            // Straight to text: a `Value` tree in between would be built only to be written out.
            doc: JsonText::of(self),
        }
    }

    /// The parts of the pipeline this execution reached, as
    /// [`Tx::mark_reached`] keeps them: each stage with a status, and each
    /// action with an attempt (see [`part`]).
    pub(crate) fn reached_parts(&self) -> Vec<String> {
        let mut parts = Vec::new();
        for s in self.stages.iter().filter(|s| s.status.is_some()) {
            parts.push(part(&s.name, None));
            parts.extend(s.actions.iter().filter(|a| a.current.is_some()).map(|a| part(&s.name, Some(&a.name))));
        }
        parts
    }

    /// Writes down the parts this execution reached since it was read (a
    /// part, once reached, stays reached): each is marked once per execution,
    /// not at every save, since job results save executions at the writer's pace.
    fn mark(&self, tx: &mut dyn Tx) -> Res<()> {
        let mut parts = self.reached_parts();
        parts.retain(|p| !self.marked.contains(p));
        if parts.is_empty() {
            return Ok(());
        }
        Ok(tx.mark_reached(&self.account_id, &self.pipeline_name, &self.id, &parts)?)
    }

    fn from_row(row: &ExecutionRow) -> Res<Run> {
        let mut run: Run = serde_json::from_str(row.doc.as_str())
            .map_err(|e| Fail::Store(StoreError::Backend(format!("stored execution is unreadable: {e}"))))?;
        run.marked = run.reached_parts();
        Ok(run)
    }
}

/// The name of a stage, or of an action in it, as the store's marks of
/// reached parts know it (stage and action names cannot hold a `/`).
pub(crate) fn part(stage: &str, action: Option<&str>) -> String {
    match action {
        None => stage.to_owned(),
        Some(a) => format!("{stage}/{a}"),
    }
}

/// Loads an execution with its revision.
pub(crate) fn load(tx: &mut dyn Tx, id: &str) -> Res<Option<(Run, i64)>> {
    match tx.get_execution(id)? {
        Some(row) => Ok(Some((Run::from_row(&row)?, row.revision))),
        None => Ok(None),
    }
}

/// Saves an execution if nobody changed it since `revision` was read.
pub(crate) fn save(tx: &mut dyn Tx, run: &Run, revision: i64) -> Res<()> {
    if !tx.update_execution(&run.to_row(revision), revision)? {
        return lost_race("execution");
    }
    run.mark(tx)
}

pub(crate) fn execution_not_found(id: &str, pipeline: &str) -> Fail {
    ApiError::client(
        ErrorCode::PipelineExecutionNotFoundException,
        format!("Pipeline execution '{id}' does not exist in pipeline '{pipeline}'"),
    )
    .into()
}

/// Loads an execution of the caller's pipeline or answers not found.
fn load_of(tx: &mut dyn Tx, caller: &Caller, pipeline: &str, id: &str) -> Res<(Run, i64)> {
    pipelines::load(tx, &caller.account_id, pipeline)?;
    match load(tx, id)? {
        Some((run, rev)) if run.account_id == caller.account_id && run.pipeline_name == pipeline => Ok((run, rev)),
        _ => Err(execution_not_found(id, pipeline)),
    }
}

/// `StartPipelineExecution`.
pub(crate) fn start(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let name = req_str(input, "name")?;
    let p = pipelines::load(tx, &caller.account_id, name)?;
    let token = opt_str(input, "clientRequestToken")?.map(str::to_owned);
    if let Some(t) = &token {
        // A retried request (same token) answers the execution it started.
        for row in tx.list_executions(&caller.account_id, name, 0, IDEMPOTENCY_WINDOW)? {
            let run = Run::from_row(&row)?;
            if run.client_request_token.as_ref() == Some(t) {
                return Ok(json!({"pipelineExecutionId": run.id}));
            }
        }
    }
    let variables = crate::pipeline_rules::start_variables(&p.declaration, input)?;
    let how = Begin { variables, token, trigger_type: None, trigger_detail: None, given_revisions: vec![] };
    let run = begin(tx, caller, &p, how, region, now)?;
    Ok(json!({"pipelineExecutionId": run.id}))
}

/// What an execution starts with beyond its pipeline.
pub(crate) struct Begin {
    /// The pipeline-level variables (name, value).
    pub variables: Vec<(String, String)>,
    /// `clientRequestToken` of the start request.
    pub token: Option<String>,
    /// The trigger, when it is not `StartPipelineExecution`.
    pub trigger_type: Option<String>,
    /// The trigger's detail, when it is not the caller's root ARN (a
    /// webhook's ARN, a watching source action's name).
    pub trigger_detail: Option<String>,
    /// Revisions given to source actions (see [`Run::given_revisions`]).
    pub given_revisions: Vec<(String, String, Value)>,
}

/// Starts an execution of pipeline `p` and runs it as far as it goes now.
pub(crate) fn begin(
    tx: &mut dyn Tx,
    caller: &Caller,
    p: &crate::store::PipelineRow,
    how: Begin,
    region: &str,
    now: Millis,
) -> Res<Run> {
    let plan = pipelines::plan(&p.declaration, region)?;
    let declaration = serde_json::value::to_raw_value(&p.declaration)
        .map_err(|e| StoreError::Backend(format!("declaration does not serialize: {e}")))?;
    let mut run = Run {
        id: uuid(),
        account_id: caller.account_id.clone(),
        pipeline_name: p.name.clone(),
        pipeline_version: p.version,
        declaration,
        status: IN_PROGRESS.into(),
        status_summary: None,
        stop_reason: None,
        trigger_detail: how.trigger_detail.unwrap_or_else(|| format!("arn:aws:iam::{}:root", caller.account_id)),
        started: now,
        updated: now,
        stages: plan
            .stages
            .iter()
            .map(|s| StageRun {
                name: s.name.clone(),
                status: None,
                actions: s
                    .actions
                    .iter()
                    .map(|a| ActionRun { name: a.name.clone(), run_order: a.run_order, current: None, history: vec![] })
                    .collect(),
                conditions: vec![],
                retries: Default::default(),
            })
            .collect(),
        artifacts: BTreeMap::new(),
        waiting_for: None,
        client_request_token: how.token,
        variables: how.variables,
        trigger_type: how.trigger_type,
        given_revisions: how.given_revisions,
        marked: Vec::new(),
        rollback: None,
        rollbacks: vec![],
    };
    tx.insert_execution(&run.to_row(0))?;
    run.mark(tx)?;
    advance_and_save(tx, &mut run, 0, &plan, region, now)?;
    Ok(run)
}

fn status(a: &ActionRun) -> Option<&str> {
    a.current.as_ref().map(|c| c.status.as_str())
}

/// Moves an execution forward as far as it can go now: finishes stages whose
/// actions all succeeded, starts the next run order or stage, fails a stage
/// whose failed action has no sibling still running, finishes a stop.
pub(crate) fn advance(tx: &mut dyn Tx, run: &mut Run, plan: &Plan, region: &str, now: Millis) -> Res<Vec<String>> {
    run.updated = now;
    // Stages this execution left, whose waiters may now enter.
    let mut released = Vec::new();
    loop {
        match run.status.as_str() {
            IN_PROGRESS => {}
            "Stopping" => {
                if !run.any_in_progress() {
                    run.status = "Stopped".into();
                    run.waiting_for = None;
                    for s in run.stages.iter_mut().filter(|s| s.status.as_deref() == Some(IN_PROGRESS)) {
                        s.status = Some("Stopped".into());
                        conditions::end_waiting(s, "Cancelled", now);
                        released.push(s.name.clone());
                    }
                }
                return Ok(released);
            }
            _ => return Ok(released),
        }
        // Stages left behind: succeeded, skipped, or (a rollback) not its one stage.
        let rollback = run.rollback.as_ref().map(|rb| rb.stage.clone());
        let Some(si) = run.stages.iter().position(|s| {
            !matches!(s.status.as_deref(), Some("Succeeded" | "Skipped"))
                && rollback.as_ref().is_none_or(|stage| *stage == s.name)
        }) else {
            run.status = "Succeeded".into();
            return Ok(released);
        };
        if run.stages[si].status.is_none() {
            if must_wait(tx, run, &plan.mode, &run.stages[si].name)? {
                run.waiting_for = Some(run.stages[si].name.clone());
                if plan.mode == "SUPERSEDED" {
                    supersede_waiters(tx, run, now)?;
                }
                return Ok(released);
            }
            run.waiting_for = None;
            run.stages[si].status = Some(IN_PROGRESS.into());
        }
        match stage_end::entry(run, plan, si, now) {
            Flow::Go => {}
            Flow::Wait => return Ok(released),
            Flow::Left => {
                released.push(run.stages[si].name.clone());
                continue;
            }
        }
        let stage = &mut run.stages[si];
        let any_failed = stage.actions.iter().any(|a| matches!(status(a), Some("Failed") | Some("Abandoned")));
        let any_running = stage.actions.iter().any(|a| status(a) == Some(IN_PROGRESS));
        if any_failed {
            if any_running {
                return Ok(released);
            }
            match stage_end::failed(tx, run, plan, si, now)? {
                Flow::Go => continue,
                Flow::Wait => return Ok(released),
                Flow::Left => {
                    released.push(run.stages[si].name.clone());
                    continue;
                }
            }
        }
        let Some(order) = stage.actions.iter().filter(|a| status(a) != Some("Succeeded")).map(|a| a.run_order).min()
        else {
            match stage_end::succeeded(tx, run, plan, si, now)? {
                Flow::Wait => return Ok(released),
                Flow::Go | Flow::Left => {
                    released.push(run.stages[si].name.clone());
                    continue;
                }
            }
        };
        let to_start: Vec<usize> = (0..stage.actions.len())
            .filter(|&i| stage.actions[i].run_order == order && stage.actions[i].current.is_none())
            .collect();
        if to_start.is_empty() {
            return Ok(released); // the run order is still in progress
        }
        for ai in to_start {
            start_action(tx, run, plan, si, ai, region, now)?;
        }
    }
}

/// Other unfinished executions of the run's pipeline that are in `stage` or
/// wait to enter it, oldest first.
fn at_stage(tx: &mut dyn Tx, run: &Run, stage: &str) -> Res<Vec<(Run, i64)>> {
    tx.executions_at_stage(&run.account_id, &run.pipeline_name, stage)?
        .iter()
        .filter(|row| row.id != run.id)
        .map(|row| Ok((Run::from_row(row)?, row.revision)))
        .collect()
}

fn occupies(run: &Run, stage: &str) -> bool {
    run.stages.iter().any(|s| s.name == stage && s.status.as_deref() == Some(IN_PROGRESS))
}

/// Whether the run (in execution mode `m`) must wait before entering
/// `stage`: the transition into it is disabled, another execution is in it,
/// or (`QUEUED`) an older one waits for it.
fn must_wait(tx: &mut dyn Tx, run: &Run, m: &str, stage: &str) -> Res<bool> {
    if transitions::inbound_disabled(tx, run, stage)? {
        return Ok(true);
    }
    if m == "PARALLEL" {
        return Ok(false);
    }
    Ok(at_stage(tx, run, stage)?.iter().any(|(o, _)| {
        occupies(o, stage)
            || (m == "QUEUED"
                && o.waiting_for.as_deref() == Some(stage)
                && (o.started, o.id.as_str()) < (run.started, run.id.as_str()))
    }))
}

/// `SUPERSEDED`: the run now waiting at its stage replaces older waiters there.
fn supersede_waiters(tx: &mut dyn Tx, run: &Run, now: Millis) -> Res<()> {
    let Some(stage) = run.waiting_for.as_deref() else { return Ok(()) };
    for (mut o, rev) in at_stage(tx, run, stage)? {
        if o.waiting_for == run.waiting_for && o.status == IN_PROGRESS {
            for s in &mut o.stages {
                conditions::end_waiting(s, "Abandoned", now);
            }
            o.status = "Superseded".into();
            o.status_summary = Some(format!("Superseded by pipeline execution {}", run.id));
            o.waiting_for = None;
            o.updated = now;
            save(tx, &o, rev)?;
        }
    }
    Ok(())
}

/// Advances a run, saves it, then lets waiters into the stages it left (in
/// the same transaction, after the save, so they see the stage free).
pub(crate) fn advance_and_save(
    tx: &mut dyn Tx,
    run: &mut Run,
    rev: i64,
    plan: &Plan,
    region: &str,
    now: Millis,
) -> Res<()> {
    let released = advance(tx, run, plan, region, now)?;
    save(tx, run, rev)?;
    // Rollbacks go first: the stage they roll back is theirs before any waiter's.
    for (stage, target) in std::mem::take(&mut run.rollbacks) {
        if let Some((t, _)) = load(tx, &target)? {
            rollback::begin(tx, &t, &stage, "AutomatedRollback", run.id.clone(), region, now)?;
        }
    }
    if plan.mode == "PARALLEL" {
        return Ok(()); // nobody waits
    }
    for stage in released {
        let waiters: Vec<(Run, i64)> = at_stage(tx, run, &stage)?
            .into_iter()
            .filter(|(o, _)| o.status == IN_PROGRESS && o.waiting_for.as_deref() == Some(stage.as_str()))
            .collect();
        // Oldest first from the store: QUEUED takes the first, SUPERSEDED the last.
        let next = if plan.mode == "QUEUED" { waiters.into_iter().next() } else { waiters.into_iter().last() };
        if let Some((mut o, orev)) = next {
            let oplan = pipelines::plan_of(&o.declaration, region)?;
            advance_and_save(tx, &mut o, orev, &oplan, region, now)?;
        }
    }
    Ok(())
}

/// Starts one action: a job for `ThirdParty` / `Custom` types, a token for
/// Manual approval. An action type that vanished fails the action.
fn start_action(
    tx: &mut dyn Tx,
    run: &mut Run,
    plan: &Plan,
    si: usize,
    ai: usize,
    region: &str,
    now: Millis,
) -> Res<()> {
    let ap = &plan.stages[si].actions[ai];
    let inputs: Vec<Artifact> = ap.inputs.iter().filter_map(|n| run.artifacts.get(n).cloned()).collect();
    let outputs: Vec<Artifact> = ap
        .outputs
        .iter()
        .map(|n| Artifact {
            name: n.clone(),
            bucket: plan.bucket.clone(),
            key: format!("{}/{}/{}", plan.name, n, short_id()),
            revision: None,
        })
        .collect();
    let mut att = Attempt {
        id: uuid(),
        status: IN_PROGRESS.into(),
        started: now,
        updated: now,
        summary: None,
        external_execution_id: None,
        external_execution_url: None,
        percent_complete: None,
        error: None,
        token: None,
        current_revision: None,
        inputs,
        outputs,
        output_variables: None,
        updated_by: None,
        job_id: None,
        deadline: None,
        s3_source: None,
        resolved_configuration: None,
    };
    // A revision given for this action (`PutActionRevision`) is its revision
    // from the start: the job's output artifacts carry it, and a result that
    // names none keeps it.
    let stage_name = &plan.stages[si].name;
    if let Some((_, _, given)) = run.given_revisions.iter().find(|(s, a, _)| s == stage_name && *a == ap.name) {
        let id = given.get("revision").and_then(Value::as_str).map(str::to_owned);
        for o in &mut att.outputs {
            o.revision.clone_from(&id);
        }
        att.current_revision = Some(given.clone());
    }
    let resolved = match variables::resolve_configuration(run, plan, ap) {
        Ok(resolved) => resolved,
        Err(unresolved) => {
            // A value the execution does not have fails the action before it starts, as in AWS.
            let secret = action_types::find(tx, &ap.type_id, &run.account_id)?
                .is_some_and(|d| d.properties.iter().any(|p| p.secret && p.name == unresolved.property));
            let message = unresolved.message(&ap.name, secret);
            att.status = "Failed".into();
            att.summary = Some(message.clone());
            att.error = Some(("ConfigurationError".into(), message));
            None
        }
    };
    let configuration = resolved.as_ref().unwrap_or(&ap.configuration);
    if att.status != IN_PROGRESS {
        // Failed already: nothing to start.
    } else if ap.type_id.is_manual_approval() {
        att.token = Some(uuid());
        att.deadline = Some(now + ap.timeout_minutes.map_or(APPROVAL_TIMEOUT_MS, |m| m * 60_000));
    } else if ap.type_id.is_s3_source() {
        // The copy is I/O outside the store: it is due now, and the service
        // carries it out after this transaction (see `pending_sources`).
        let conf = |k: &str| configuration.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        att.s3_source = Some((conf("S3Bucket"), conf("S3ObjectKey")));
        att.deadline = Some(now);
    } else {
        match action_types::find(tx, &ap.type_id, &run.account_id)? {
            None => {
                att.status = "Failed".into();
                att.error =
                    Some(("ActionTypeNotFound".into(), format!("{} is no longer available", ap.type_id.describe())));
            }
            Some(def) => {
                let client = if def.id.owner == "ThirdParty" {
                    match clients::for_action(tx, &run.account_id, &run.pipeline_name, &plan.stages[si].name, &ap.name)?
                    {
                        Some(c) => Some(c.client_id),
                        None => {
                            att.status = "Failed".into();
                            att.error =
                                Some(("ConfigurationError".into(), "The action has no third-party client".into()));
                            None
                        }
                    }
                } else {
                    None
                };
                if att.status == IN_PROGRESS {
                    let mut data = json!({
                        "actionTypeId": ap.type_id.to_json(),
                        "actionConfiguration": {"configuration": configuration},
                        "pipelineContext": {
                            "pipelineName": run.pipeline_name,
                            "stage": {"name": plan.stages[si].name},
                            "action": {"name": ap.name, "actionExecutionId": att.id},
                            "pipelineArn": pipelines::arn(region, &run.account_id, &run.pipeline_name),
                            "pipelineExecutionId": run.id,
                        },
                        "inputArtifacts": att.inputs.iter().map(Artifact::to_job_json).collect::<Vec<_>>(),
                        "outputArtifacts": att.outputs.iter().map(Artifact::to_job_json).collect::<Vec<_>>(),
                    });
                    if let Some(k) = &plan.encryption_key {
                        data["encryptionKey"] = k.clone();
                    }
                    let job = jobs::enqueue(tx, &def, run, &att.id, client, data, now)?;
                    att.job_id = Some(job);
                }
            }
        }
    }
    att.resolved_configuration = resolved;
    let slot = &mut run.stages[si].actions[ai];
    if let Some(old) = slot.current.take() {
        slot.history.push(old);
    }
    slot.current = Some(att);
    Ok(())
}

/// Fails the actions of due executions whose deadline passed (expired
/// approvals), and evaluates again the conditions whose wake time came;
/// returns how many of each. At most `limit` executions per call.
pub(crate) fn expire_due(tx: &mut dyn Tx, region: &str, now: Millis, limit: usize) -> Res<(usize, usize)> {
    let (mut expired, mut evaluated) = (0, 0);
    for row in tx.due_executions(now, limit)? {
        let run = Run::from_row(&row)?;
        let due: Vec<String> = run
            .stages
            .iter()
            .flat_map(|s| &s.actions)
            .filter_map(|a| a.current.as_ref())
            .filter(|c| c.status == IN_PROGRESS && c.s3_source.is_none() && c.deadline.is_some_and(|d| d <= now))
            .map(|c| c.id.clone())
            .collect();
        for id in due {
            let outcome = Outcome::Failed {
                code: "ApprovalExpired".into(),
                message: "The approval was not answered within its timeout".into(),
                external_execution_id: None,
            };
            finish_action(tx, &row.id, &id, outcome, None, region, now)?;
            expired += 1;
        }
        // A condition waiting for its window: evaluated again.
        if conditions::next_wake(&run).is_some_and(|w| w <= now)
            && let Some((mut run, rev)) = load(tx, &row.id)?
        {
            let plan = pipelines::plan_of(&run.declaration, region)?;
            advance_and_save(tx, &mut run, rev, &plan, region, now)?;
            evaluated += 1;
        }
    }
    Ok((expired, evaluated))
}

/// An S3 source action waiting for its object to be copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceCopy {
    pub execution_id: String,
    pub attempt_id: String,
    pub account_id: String,
    pub source: ArtifactObject,
    pub artifact: ArtifactObject,
}

/// S3 source actions whose copy is due, from at most `limit` executions.
pub(crate) fn pending_sources(tx: &mut dyn Tx, now: Millis, limit: usize) -> Res<Vec<SourceCopy>> {
    let mut out = Vec::new();
    for row in tx.due_executions(now, limit)? {
        let run = Run::from_row(&row)?;
        for c in run.stages.iter().flat_map(|s| &s.actions).filter_map(|a| a.current.as_ref()) {
            let (Some((bucket, key)), Some(artifact)) = (&c.s3_source, c.outputs.first()) else { continue };
            if c.status == IN_PROGRESS {
                out.push(SourceCopy {
                    execution_id: run.id.clone(),
                    attempt_id: c.id.clone(),
                    account_id: run.account_id.clone(),
                    source: ArtifactObject { bucket: bucket.clone(), key: key.clone() },
                    artifact: ArtifactObject { bucket: artifact.bucket.clone(), key: artifact.key.clone() },
                });
            }
        }
    }
    Ok(out)
}

/// Records the result of an S3 source copy: the revision on success, the
/// reason on failure. An action no longer in progress ignores it.
pub(crate) fn finish_source(
    tx: &mut dyn Tx,
    copy: &SourceCopy,
    result: Result<&SourceRevision, &str>,
    region: &str,
    now: Millis,
) -> Res<()> {
    let outcome = match result {
        Ok(rev) => Outcome::Succeeded {
            details: Some(json!({
                "summary": format!("s3://{}/{} (ETag {})", copy.source.bucket, copy.source.key, rev.etag),
            })),
            revision: Some(json!({"revision": rev.revision_id, "changeIdentifier": rev.etag})),
            output_variables: Some(json!({"ETag": rev.etag, "ObjectKey": copy.source.key})),
        },
        Err(message) => {
            Outcome::Failed { code: "JobFailed".into(), message: message.to_owned(), external_execution_id: None }
        }
    };
    finish_action(tx, &copy.execution_id, &copy.attempt_id, outcome, None, region, now)
}

/// Whether an action execution is still in progress (so a continuation job
/// for it has someone waiting for its result).
pub(crate) fn attempt_in_progress(tx: &mut dyn Tx, execution_id: &str, attempt_id: &str) -> Res<bool> {
    Ok(match load(tx, execution_id)? {
        Some((mut run, _)) => run.attempt_mut(attempt_id).is_some_and(|a| a.status == IN_PROGRESS),
        None => false,
    })
}

/// What a worker or approver reported for an action.
pub(crate) enum Outcome {
    /// The action succeeded.
    Succeeded { details: Option<Value>, revision: Option<Value>, output_variables: Option<Value> },
    /// The action goes on with another job (`continuationToken`).
    Continues { details: Option<Value>, job_id: String },
    /// The action failed.
    Failed { code: String, message: String, external_execution_id: Option<String> },
}

/// Applies an outcome to an in-progress action and advances the execution.
/// An action that is no longer in progress (abandoned) ignores it.
pub(crate) fn finish_action(
    tx: &mut dyn Tx,
    execution_id: &str,
    attempt_id: &str,
    outcome: Outcome,
    by: Option<String>,
    region: &str,
    now: Millis,
) -> Res<()> {
    let Some((mut run, rev)) = load(tx, execution_id)? else { return Ok(()) };
    let plan = pipelines::plan_of(&run.declaration, region)?;
    let Some(att) = run.attempt_mut(attempt_id) else { return Ok(()) };
    if att.status != IN_PROGRESS {
        return Ok(());
    }
    att.updated = now;
    if by.is_some() {
        att.updated_by = by;
    }
    let apply_details = |att: &mut Attempt, d: &Option<Value>| {
        if let Some(d) = d {
            if let Some(s) = d.get("summary").and_then(Value::as_str) {
                att.summary = Some(s.into());
            }
            if let Some(s) = d.get("externalExecutionUrl").and_then(Value::as_str) {
                att.external_execution_url = Some(s.into());
            }
            if let Some(s) = d.get("externalExecutionId").and_then(Value::as_str) {
                att.external_execution_id = Some(s.into());
            }
            if let Some(p) = d.get("percentComplete").and_then(Value::as_i64) {
                att.percent_complete = Some(p);
            }
        }
    };
    let mut produced = Vec::new();
    match outcome {
        Outcome::Succeeded { details, revision, output_variables } => {
            apply_details(att, &details);
            att.status = "Succeeded".into();
            if let Some(rev) = revision.as_ref().and_then(|r| r.get("revision")).and_then(Value::as_str) {
                for o in &mut att.outputs {
                    o.revision = Some(rev.into());
                }
            }
            if revision.is_some() {
                att.current_revision = revision;
            }
            att.output_variables = output_variables;
            produced = att.outputs.clone();
        }
        Outcome::Continues { details, job_id } => {
            apply_details(att, &details);
            att.job_id = Some(job_id);
        }
        Outcome::Failed { code, message, external_execution_id } => {
            att.status = "Failed".into();
            att.summary = Some(message.clone());
            att.error = Some((code, message));
            if external_execution_id.is_some() {
                att.external_execution_id = external_execution_id;
            }
        }
    }
    for a in produced {
        run.artifacts.insert(a.name.clone(), a);
    }
    advance_and_save(tx, &mut run, rev, &plan, region, now)
}

/// `StopPipelineExecution`.
pub(crate) fn stop(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let id = req_str(input, "pipelineExecutionId")?;
    let abandon = opt_bool(input, "abandon")?.unwrap_or(false);
    let (mut run, rev) = load_of(tx, caller, pipeline, id)?;
    match run.status.as_str() {
        IN_PROGRESS => {}
        "Stopping" if !abandon => {
            return fail(
                ErrorCode::DuplicatedStopRequestException,
                format!("Pipeline execution '{id}' is already stopping"),
            );
        }
        "Stopping" => {}
        other => {
            return fail(
                ErrorCode::PipelineExecutionNotStoppableException,
                format!("Pipeline execution '{id}' cannot be stopped: its status is {other}"),
            );
        }
    }
    run.stop_reason = opt_str(input, "reason")?.map(str::to_owned);
    run.status = "Stopping".into();
    if abandon {
        for job in tx.unfinished_jobs_of_execution(id)? {
            jobs::cancel(tx, job, "The pipeline execution was stopped and its in-progress actions abandoned", now)?;
        }
        for a in run.stages.iter_mut().flat_map(|s| s.actions.iter_mut()) {
            if let Some(c) = a.current.as_mut().filter(|c| c.status == IN_PROGRESS) {
                c.status = "Abandoned".into();
                c.updated = now;
            }
        }
    }
    let plan = pipelines::plan_of(&run.declaration, region)?;
    advance_and_save(tx, &mut run, rev, &plan, region, now)?;
    Ok(json!({"pipelineExecutionId": id}))
}

/// `RetryStageExecution`: re-runs the failed (or all) actions of a failed or
/// stopped stage of the pipeline's latest execution.
pub(crate) fn retry_stage(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let stage_name = req_str(input, "stageName")?;
    let id = req_str(input, "pipelineExecutionId")?;
    let all = req_str(input, "retryMode")? == "ALL_ACTIONS";
    let (mut run, rev) = load_of(tx, caller, pipeline, id)?;
    let Some(si) = run.stages.iter().position(|s| s.name == stage_name) else {
        return fail(
            ErrorCode::StageNotFoundException,
            format!("Stage '{stage_name}' does not exist in pipeline execution '{id}'"),
        );
    };
    if tx.list_executions(&caller.account_id, pipeline, 0, 1)?.first().map(|r| r.id.as_str()) != Some(id) {
        return fail(
            ErrorCode::NotLatestPipelineExecutionException,
            format!("Pipeline execution '{id}' is not the latest execution of pipeline '{pipeline}'"),
        );
    }
    let stage = &mut run.stages[si];
    if !matches!(stage.status.as_deref(), Some("Failed") | Some("Stopped"))
        || matches!(run.status.as_str(), IN_PROGRESS | "Stopping")
    {
        return fail(
            ErrorCode::StageNotRetryableException,
            format!("Stage '{stage_name}' of pipeline execution '{id}' is not in a failed or stopped state"),
        );
    }
    let plan = pipelines::plan_of(&run.declaration, region)?;
    if plan.mode != "PARALLEL" && at_stage(tx, &run, stage_name)?.iter().any(|(o, _)| occupies(o, stage_name)) {
        return fail(
            ErrorCode::ConflictException,
            format!("Stage '{stage_name}' is in use by another pipeline execution; retry when it is free"),
        );
    }
    let stage = &mut run.stages[si];
    retry_actions(stage, all);
    stage.retries.manual += 1;
    stage.retries.latest = Some("ManualStageRetry".into());
    stage.status = Some(IN_PROGRESS.into());
    run.status = IN_PROGRESS.into();
    run.status_summary = None;
    run.stop_reason = None;
    advance_and_save(tx, &mut run, rev, &plan, region, now)?;
    Ok(json!({"pipelineExecutionId": id}))
}

/// `PutApprovalResult`.
pub(crate) fn put_approval(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, now: Millis) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let stage_name = req_str(input, "stageName")?;
    let action_name = req_str(input, "actionName")?;
    let token = req_str(input, "token")?;
    let result = req_obj(input, "result")?;
    let approved = result.get("status").and_then(Value::as_str) == Some("Approved");
    let summary = result.get("summary").and_then(Value::as_str).unwrap_or_default().to_owned();
    let p = pipelines::load(tx, &caller.account_id, pipeline)?;
    let plan = pipelines::plan(&p.declaration, region)?;
    let stage = plan_stage(&plan, pipeline, stage_name)?;
    if !stage.actions.iter().any(|a| a.name == action_name && a.type_id.is_manual_approval()) {
        return fail(
            ErrorCode::ActionNotFoundException,
            format!("Stage '{stage_name}' has no manual approval action named '{action_name}'"),
        );
    }
    let mut offset = 0;
    loop {
        let rows = tx.list_executions(&caller.account_id, pipeline, offset, 50)?;
        if rows.is_empty() {
            return fail(
                ErrorCode::InvalidApprovalTokenException,
                format!("The approval token is not valid for action '{action_name}'"),
            );
        }
        offset += rows.len();
        for row in rows {
            let run = Run::from_row(&row)?;
            let Some(att) = run
                .stages
                .iter()
                .filter(|s| s.name == stage_name)
                .flat_map(|s| s.actions.iter())
                .filter(|a| a.name == action_name)
                .filter_map(|a| a.current.as_ref())
                .find(|c| c.token.as_deref() == Some(token))
            else {
                continue;
            };
            if att.status != IN_PROGRESS {
                return fail(
                    ErrorCode::ApprovalAlreadyCompletedException,
                    format!("The approval for action '{action_name}' was already completed"),
                );
            }
            let id = att.id.clone();
            let outcome = if approved {
                Outcome::Succeeded {
                    details: Some(json!({"summary": summary})),
                    revision: None,
                    output_variables: None,
                }
            } else {
                Outcome::Failed { code: "Rejected".into(), message: summary.clone(), external_execution_id: None }
            };
            let by = format!("arn:aws:iam::{}:root", caller.account_id);
            finish_action(tx, &run.id, &id, outcome, Some(by), region, now)?;
            return Ok(json!({"approvedAt": timestamp(now)}));
        }
    }
}

/// AWS's answer for a stage the pipeline does not declare.
fn no_such_stage<T>(pipeline: &str, stage: &str) -> Res<T> {
    fail(ErrorCode::StageNotFoundException, format!("Stage '{stage}' does not exist in pipeline '{pipeline}'"))
}

/// The stage named `stage` in `plan` (of pipeline `pipeline`), or [`no_such_stage`].
fn plan_stage<'p>(plan: &'p Plan, pipeline: &str, stage: &str) -> Res<&'p pipelines::StagePlan> {
    match plan.stages.iter().find(|s| s.name == stage) {
        Some(s) => Ok(s),
        None => no_such_stage(pipeline, stage),
    }
}
