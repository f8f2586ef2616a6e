//! Stage conditions (V2): `beforeEntry`, `onSuccess` and `onFailure`, each
//! one condition of up to five rules, as AWS's user guide describes them:
//! a condition is met when every rule passes.
//!
//! - `beforeEntry` runs when an execution enters the stage, before any
//!   action; not met, its result engages: `FAIL` fails the stage (and the
//!   execution), `SKIP` skips it (the execution goes on to the next stage).
//! - `onSuccess` runs once every action succeeded; not met, `ROLLBACK`
//!   fails the stage and rolls it back, `FAIL` fails it.
//! - `onFailure` runs when the stage fails; its result (`ROLLBACK`, or
//!   `RETRY` with a `retryConfiguration`) engages when its condition is met,
//!   or at once when it has none (the model documents the result as "for
//!   when the failure conditions are met").
//!
//! A rule that cannot tell yet (a `DeploymentWindow` outside its window)
//! keeps its condition `InProgress`: the execution waits in the stage and
//! the sweep evaluates it again when the window opens (or the rule's
//! `timeoutInMinutes` ends, which fails the rule). `OverrideStageCondition`
//! lets a waiting condition through. Every evaluation is kept in the
//! execution's document (its stage's `conditions`), for `GetPipelineState`
//! and `ListRuleExecutions`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::rules::{self, Verdict};
use super::{IN_PROGRESS, Run, StageRun, load_of, variables};
use crate::ErrorCode;
use crate::api::Caller;
use crate::fail::{Res, fail};
use crate::ids::uuid;
use crate::input::{opt_i64, opt_str, req_str, timestamp};
use crate::paging::{decode_offset, encode_offset};
use crate::pipelines::{self, Plan};
use crate::store::{Millis, Tx};

/// `BEFORE_ENTRY`, as `ConditionType` names it.
pub(crate) const BEFORE_ENTRY: &str = "BEFORE_ENTRY";
/// `ON_SUCCESS`, as `ConditionType` names it.
pub(crate) const ON_SUCCESS: &str = "ON_SUCCESS";
/// The failure condition (no `ConditionType` names it: it cannot be overridden).
pub(crate) const ON_FAILURE: &str = "ON_FAILURE";

/// How many times AWS retries a stage by itself ("one attempt is allowed
/// for automatic stage retry on failure", `RetryStageMetadata`).
pub(crate) const AUTO_RETRIES: u32 = 1;

/// One rule of a validated declaration.
#[derive(Debug, Clone)]
pub(crate) struct RulePlan {
    pub(crate) name: String,
    pub(crate) provider: String,
    pub(crate) configuration: Map<String, Value>,
    pub(crate) timeout_minutes: Option<i64>,
    pub(crate) raw: Value,
}

/// One condition: its rules and the result that engages.
#[derive(Debug, Clone)]
pub(crate) struct ConditionPlan {
    pub(crate) result: String,
    pub(crate) rules: Vec<RulePlan>,
}

/// A stage's conditions.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageConditions {
    pub(crate) before_entry: Option<ConditionPlan>,
    pub(crate) on_success: Option<ConditionPlan>,
    /// The failure condition: its result, retry mode and rules (empty: none).
    pub(crate) on_failure: Option<(ConditionPlan, String)>,
}

fn rule_plan(r: &Value) -> RulePlan {
    RulePlan {
        name: r.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        provider: r.pointer("/ruleTypeId/provider").and_then(Value::as_str).unwrap_or_default().to_owned(),
        configuration: r.get("configuration").and_then(Value::as_object).cloned().unwrap_or_default(),
        timeout_minutes: r.get("timeoutInMinutes").and_then(Value::as_i64),
        raw: r.clone(),
    }
}

/// The (one) condition of a `beforeEntry`/`onSuccess`/`onFailure` member.
fn first_condition(member: Option<&Value>) -> Option<&Value> {
    member?.get("conditions")?.as_array()?.first()
}

fn condition_plan(c: Option<&Value>, default: &str) -> ConditionPlan {
    ConditionPlan {
        result: c.and_then(|c| c.get("result")).and_then(Value::as_str).unwrap_or(default).to_owned(),
        rules: c
            .and_then(|c| c.get("rules"))
            .and_then(Value::as_array)
            .map(|l| l.iter().map(rule_plan).collect())
            .unwrap_or_default(),
    }
}

/// The conditions of a stage declaration (as [`check`] let it through).
pub(crate) fn of_stage(s: &Value) -> StageConditions {
    let entry = s.get("beforeEntry").filter(|v| !v.is_null());
    let success = s.get("onSuccess").filter(|v| !v.is_null());
    let failure = s.get("onFailure").filter(|v| !v.is_null());
    StageConditions {
        before_entry: entry.map(|m| condition_plan(first_condition(Some(m)), "FAIL")),
        on_success: success.map(|m| condition_plan(first_condition(Some(m)), "ROLLBACK")),
        on_failure: failure.map(|m| {
            let outer = m.get("result").and_then(Value::as_str).unwrap_or("ROLLBACK");
            let plan = condition_plan(first_condition(Some(m)), outer);
            let mode = m.pointer("/retryConfiguration/retryMode").and_then(Value::as_str).unwrap_or("FAILED_ACTIONS");
            (plan, mode.to_owned())
        }),
    }
}

/// Checks a stage's conditions: which results each member takes, and rules
/// cpjobs can run. References in rules are checked with the actions'.
pub(crate) fn check(s: &Value, is_source_stage: bool, region: &str) -> Res<()> {
    let stage = s.get("name").and_then(Value::as_str).unwrap_or_default();
    let refuse =
        |why: String| fail::<()>(ErrorCode::InvalidStageDeclarationException, format!("Stage '{stage}': {why}"));
    let members: [(&str, &[&str]); 3] = [
        ("beforeEntry", &["FAIL", "SKIP"]),
        ("onSuccess", &["ROLLBACK", "FAIL"]),
        ("onFailure", &["ROLLBACK", "RETRY"]),
    ];
    for (member, allowed) in members {
        let Some(m) = s.get(member).filter(|v| !v.is_null()) else { continue };
        let outer = m.get("result").and_then(Value::as_str);
        let cond = first_condition(Some(m));
        if member != "onFailure" && cond.is_none() {
            return refuse(format!("{member} needs a condition"));
        }
        let result = cond.and_then(|c| c.get("result")).and_then(Value::as_str).or(outer);
        let Some(result) = result.or(match member {
            "beforeEntry" => Some("FAIL"),
            "onSuccess" => Some("ROLLBACK"),
            _ => None,
        }) else {
            return refuse("onFailure needs a result: ROLLBACK or RETRY".into());
        };
        if !allowed.contains(&result) {
            return refuse(format!("{member} takes the result {}, not {result}", allowed.join(" or ")));
        }
        if member == "onFailure" && cond.and_then(|c| c.get("result")).is_some() && outer.is_some_and(|o| o != result) {
            return refuse(format!(
                "onFailure's result {} and its condition's result {result} differ",
                outer.unwrap_or_default()
            ));
        }
        if m.get("retryConfiguration").is_some_and(|v| !v.is_null()) && result != "RETRY" {
            return refuse(format!("{member} has a retryConfiguration but its result is {result}, not RETRY"));
        }
        if result == "ROLLBACK" && is_source_stage {
            return refuse("a stage with a source action cannot be rolled back".into());
        }
        let rules = cond.and_then(|c| c.get("rules")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        if member != "onFailure" && rules.is_empty() {
            return refuse(format!("the condition of {member} needs at least one rule"));
        }
        let mut names = std::collections::HashSet::new();
        for r in rules {
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
            if !names.insert(name) {
                return refuse(format!("the rule name '{name}' is used twice in {member}"));
            }
            rules::check(r, stage, region)?;
        }
    }
    Ok(())
}

/// One evaluation of one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RuleRun {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub status: String,
    pub started: Millis,
    pub updated: Millis,
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<(String, String)>,
    /// The configuration with its references resolved.
    pub resolved: Map<String, Value>,
}

/// One evaluation of a stage's condition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ConditionRun {
    /// `BEFORE_ENTRY`, `ON_SUCCESS` or `ON_FAILURE`.
    pub kind: String,
    pub status: String,
    pub summary: Option<String>,
    pub updated: Millis,
    pub rules: Vec<RuleRun>,
    /// When a waiting condition is evaluated again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// A stage's retries (`RetryStageMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Retries {
    pub auto: u32,
    pub manual: u32,
    pub latest: Option<String>,
}

impl Retries {
    pub(crate) fn is_none(&self) -> bool {
        *self == Retries::default()
    }
}

/// What evaluating a condition came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Met {
    Yes,
    No,
    /// Not yet known: the execution waits in the stage.
    Waiting,
}

fn latest<'a>(stage: &'a StageRun, kind: &str) -> Option<&'a ConditionRun> {
    stage.conditions.iter().rev().find(|c| c.kind == kind)
}

/// Evaluates (or, while it waits, evaluates again) the condition `kind` of
/// stage `si`, recording it in the run. A condition already met or
/// overridden in this stage run stays so: the engine asks at every step.
fn evaluate(run: &mut Run, plan: &Plan, si: usize, kind: &str, cond: &ConditionPlan, now: Millis) -> Met {
    if let Some(c) = latest(&run.stages[si], kind)
        && kind != ON_FAILURE
        && matches!(c.status.as_str(), "Succeeded" | "Overridden")
    {
        return Met::Yes;
    }
    let waiting = latest(&run.stages[si], kind).is_some_and(|c| c.status == IN_PROGRESS);
    let mut c = if waiting {
        run.stages[si].conditions.iter().rposition(|c| c.kind == kind).map(|i| run.stages[si].conditions.remove(i))
    } else {
        None
    }
    .unwrap_or_else(|| ConditionRun {
        kind: kind.into(),
        status: IN_PROGRESS.into(),
        summary: None,
        updated: now,
        rules: Vec::new(),
        wake: None,
        updated_by: None,
    });
    let mut wake: Option<Millis> = None;
    let mut failed = false;
    for (i, r) in cond.rules.iter().enumerate() {
        if c.rules.len() <= i {
            c.rules.push(RuleRun {
                id: uuid(),
                name: r.name.clone(),
                provider: r.provider.clone(),
                status: IN_PROGRESS.into(),
                started: now,
                updated: now,
                summary: None,
                error: None,
                resolved: Map::new(),
            });
        }
        let rr = &mut c.rules[i];
        if rr.status != IN_PROGRESS {
            failed |= rr.status == "Failed";
            continue;
        }
        if failed {
            rr.status = "Abandoned".into();
            rr.updated = now;
            continue;
        }
        rr.updated = now;
        let verdict = match variables::resolve_map(run, plan, &r.configuration) {
            Ok(resolved) => {
                let v = rules::evaluate(&r.provider, &resolved, now);
                rr.resolved = resolved;
                v
            }
            Err(u) => Verdict::Fail(
                "ConfigurationError".into(),
                format!(
                    "The configuration of rule '{}' refers to {}, which has no value in this execution",
                    r.name, u.reference
                ),
            ),
        };
        let deadline = r.timeout_minutes.map(|m| rr.started + m * 60_000);
        match verdict {
            Verdict::Pass(s) => {
                rr.status = "Succeeded".into();
                rr.summary = Some(s);
            }
            Verdict::Later(_, s) if deadline.is_some_and(|d| d <= now) => {
                rr.status = "Failed".into();
                let m = format!("{s}: the rule's timeout ended");
                rr.summary = Some(m.clone());
                rr.error = Some(("RuleTimedOut".into(), m));
                failed = true;
            }
            Verdict::Later(at, s) => {
                rr.summary = Some(s);
                let at = [at, deadline].into_iter().flatten().min();
                wake = match (wake, at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            Verdict::Fail(code, message) => {
                rr.status = "Failed".into();
                rr.summary = Some(message.clone());
                rr.error = Some((code, message));
                failed = true;
            }
        }
    }
    if failed {
        for rr in c.rules.iter_mut().filter(|r| r.status == IN_PROGRESS) {
            rr.status = "Abandoned".into();
        }
    }
    let met = if failed {
        Met::No
    } else if c.rules.iter().all(|r| r.status == "Succeeded") {
        Met::Yes
    } else {
        Met::Waiting
    };
    c.updated = now;
    c.wake = if met == Met::Waiting { wake } else { None };
    (c.status, c.summary) = match met {
        Met::Yes => ("Succeeded".into(), None),
        Met::No => {
            let failed = c.rules.iter().find(|r| r.status == "Failed").map(|r| r.name.clone()).unwrap_or_default();
            ("Failed".into(), Some(format!("Rule '{failed}' failed")))
        }
        Met::Waiting => (IN_PROGRESS.into(), Some("Waiting for the condition's rules".into())),
    };
    run.stages[si].conditions.push(c);
    met
}

/// What the engine does at a stage's entrance, after success, or after failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on as if the stage had no such condition.
    Go,
    /// Wait in the stage for the condition.
    Wait,
    /// Engage this result (`FAIL`, `SKIP`, `ROLLBACK`, `RETRY`).
    Engage(String),
}

/// The `beforeEntry` condition of stage `si`.
pub(crate) fn entry(run: &mut Run, plan: &Plan, si: usize, now: Millis) -> Step {
    let Some(cond) = plan.stages[si].conditions.before_entry.clone() else { return Step::Go };
    match evaluate(run, plan, si, BEFORE_ENTRY, &cond, now) {
        Met::Yes => Step::Go,
        Met::Waiting => Step::Wait,
        Met::No => Step::Engage(cond.result),
    }
}

/// The `onSuccess` condition of stage `si`, whose actions all succeeded.
pub(crate) fn success(run: &mut Run, plan: &Plan, si: usize, now: Millis) -> Step {
    let Some(cond) = plan.stages[si].conditions.on_success.clone() else { return Step::Go };
    match evaluate(run, plan, si, ON_SUCCESS, &cond, now) {
        Met::Yes => Step::Go,
        Met::Waiting => Step::Wait,
        Met::No => Step::Engage(cond.result),
    }
}

/// The `onFailure` of stage `si`, whose actions failed: the result when it
/// engages (with the retry mode), else `Go` (the stage fails).
pub(crate) fn failure(run: &mut Run, plan: &Plan, si: usize, now: Millis) -> (Step, String) {
    let Some((cond, mode)) = plan.stages[si].conditions.on_failure.clone() else { return (Step::Go, String::new()) };
    if cond.rules.is_empty() {
        return (Step::Engage(cond.result), mode);
    }
    let step = match evaluate(run, plan, si, ON_FAILURE, &cond, now) {
        Met::Yes => Step::Engage(cond.result),
        Met::Waiting => Step::Wait,
        Met::No => Step::Go,
    };
    (step, mode)
}

/// Marks the conditions still waiting in a stage `status` (`Cancelled`
/// when the execution stops, `Abandoned` when it is superseded).
pub(crate) fn end_waiting(stage: &mut StageRun, status: &str, now: Millis) {
    for c in stage.conditions.iter_mut().filter(|c| c.status == IN_PROGRESS) {
        c.status = status.into();
        c.updated = now;
        c.wake = None;
        for r in c.rules.iter_mut().filter(|r| r.status == IN_PROGRESS) {
            r.status = "Abandoned".into();
            r.updated = now;
        }
    }
}

/// The earliest time a waiting condition of the run is evaluated again.
pub(crate) fn next_wake(run: &Run) -> Option<Millis> {
    run.stages
        .iter()
        .filter(|s| s.status.as_deref() == Some(IN_PROGRESS))
        .flat_map(|s| s.conditions.iter())
        .filter(|c| c.status == IN_PROGRESS)
        .filter_map(|c| c.wake)
        .min()
}

/// The `StageConditionState` of `kind` in a stage run, if it ran there.
pub(crate) fn state_json(stage: &StageRun, kind: &str) -> Option<Value> {
    let c = latest(stage, kind)?;
    let rule_states: Vec<Value> = c
        .rules
        .iter()
        .map(|r| {
            let mut e = json!({"ruleExecutionId": r.id, "status": r.status, "lastStatusChange": timestamp(r.updated)});
            if let Some(s) = &r.summary {
                e["summary"] = json!(s);
            }
            if let Some((code, message)) = &r.error {
                e["errorDetails"] = json!({"code": code, "message": message});
            }
            json!({"ruleName": r.name, "latestExecution": e})
        })
        .collect();
    let mut latest = json!({"status": c.status, "lastStatusChange": timestamp(c.updated)});
    let mut stage_latest = json!({"status": c.status});
    if let Some(s) = &c.summary {
        latest["summary"] = json!(s);
        stage_latest["summary"] = json!(s);
    }
    Some(json!({
        "latestExecution": stage_latest,
        "conditionStates": [{"latestExecution": latest, "ruleStates": rule_states}],
    }))
}

/// `OverrideStageCondition`: lets an execution's waiting `beforeEntry` (or
/// `onSuccess`) condition through, as if its rules had passed.
pub(crate) fn override_condition(
    tx: &mut dyn Tx,
    caller: &Caller,
    input: &Value,
    region: &str,
    now: Millis,
) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    let stage_name = req_str(input, "stageName")?;
    let id = req_str(input, "pipelineExecutionId")?;
    let kind = req_str(input, "conditionType")?;
    let p = pipelines::load(tx, &caller.account_id, pipeline)?;
    let stages = p.declaration.get("stages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    if !stages.iter().any(|s| s.get("name").and_then(Value::as_str) == Some(stage_name)) {
        return super::no_such_stage(pipeline, stage_name);
    }
    let not_overridable = |why: &str| {
        fail::<Value>(
            ErrorCode::ConditionNotOverridableException,
            format!(
                "The {kind} condition of stage '{stage_name}' in pipeline execution '{id}' cannot be overridden: {why}"
            ),
        )
    };
    let Ok((mut run, rev)) = load_of(tx, caller, pipeline, id) else {
        return not_overridable("the pipeline has no such execution");
    };
    let Some(si) = run.stages.iter().position(|s| s.name == stage_name) else {
        return not_overridable("the execution has no such stage");
    };
    let stage = &mut run.stages[si];
    let waiting = stage.status.as_deref() == Some(IN_PROGRESS)
        && run.status == IN_PROGRESS
        && stage.conditions.last().is_some_and(|c| c.kind == kind && c.status == IN_PROGRESS);
    if !waiting {
        return not_overridable("it is not waiting");
    }
    if let Some(c) = stage.conditions.last_mut() {
        c.status = "Overridden".into();
        c.summary = Some("Overridden".into());
        c.updated = now;
        c.wake = None;
        c.updated_by = Some(format!("arn:aws:iam::{}:root", caller.account_id));
        for r in c.rules.iter_mut().filter(|r| r.status == IN_PROGRESS) {
            r.status = "Abandoned".into();
            r.updated = now;
        }
    }
    let plan = pipelines::plan_of(&run.declaration, region)?;
    super::advance_and_save(tx, &mut run, rev, &plan, region, now)?;
    Ok(json!({}))
}

/// How many executions `ListRuleExecutions` reads from the store at once.
const EXECUTION_PAGE: usize = 100;

/// `ListRuleExecutions`: the rule evaluations of one execution, or of every
/// execution (newest first), each execution's newest first; `maxResults`
/// default 100.
pub(crate) fn list(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    let pipeline = req_str(input, "pipelineName")?;
    pipelines::load(tx, &caller.account_id, pipeline)?;
    let limit = opt_i64(input, "maxResults")?.unwrap_or(100).clamp(1, 100) as usize;
    let offset = decode_offset(opt_str(input, "nextToken")?)?;
    let wanted = offset + limit + 1;
    let mut details = Vec::new();
    // `latestInPipelineExecution` names one execution too; with `startTimeRange`
    // `Latest`, only the latest evaluation of each rule of each stage is listed.
    let latest_in = input.pointer("/filter/latestInPipelineExecution");
    let latest_id = latest_in.and_then(|l| l.get("pipelineExecutionId")).and_then(Value::as_str);
    let id = input.pointer("/filter/pipelineExecutionId").and_then(Value::as_str);
    if let (Some(a), Some(b)) = (id, latest_id)
        && a != b
    {
        return fail(
            ErrorCode::ValidationException,
            "filter.pipelineExecutionId and filter.latestInPipelineExecution.pipelineExecutionId name different executions",
        );
    }
    match id.or(latest_id) {
        Some(id) => {
            details = rule_details(&load_of(tx, caller, pipeline, id)?.0, region)?;
            if latest_in.and_then(|l| l.get("startTimeRange")).and_then(Value::as_str) == Some("Latest") {
                let mut seen = std::collections::HashSet::new();
                details.retain(|d| seen.insert((d["stageName"].clone(), d["ruleName"].clone())));
            }
        }
        None => {
            let mut at = 0;
            loop {
                let rows = tx.list_executions(&caller.account_id, pipeline, at, EXECUTION_PAGE)?;
                for row in &rows {
                    details.extend(rule_details(&Run::from_row(row)?, region)?);
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
    let mut out = json!({"ruleExecutionDetails": page});
    if more {
        out["nextToken"] = json!(encode_offset(offset + limit));
    }
    Ok(out)
}

/// The rule evaluations of one run, newest first.
fn rule_details(run: &Run, region: &str) -> Res<Vec<Value>> {
    let plan = pipelines::plan_of(&run.declaration, region)?;
    // Keyed by start time, then by place in the document (later evaluations come later there),
    // so evaluations started in the same millisecond still list newest first.
    let mut out: Vec<((Millis, usize), Value)> = Vec::new();
    for (stage, sp) in run.stages.iter().zip(&plan.stages) {
        for c in &stage.conditions {
            let declared = match c.kind.as_str() {
                BEFORE_ENTRY => sp.conditions.before_entry.as_ref(),
                ON_SUCCESS => sp.conditions.on_success.as_ref(),
                _ => sp.conditions.on_failure.as_ref().map(|(p, _)| p),
            };
            for r in &c.rules {
                let rp = declared.and_then(|d| d.rules.iter().find(|x| x.name == r.name));
                let mut result = json!({});
                if let Some(s) = &r.summary {
                    result["externalExecutionSummary"] = json!(s);
                }
                if let Some((code, message)) = &r.error {
                    result["errorDetails"] = json!({"code": code, "message": message});
                }
                let mut input = json!({
                    "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": r.provider, "version": "1"},
                    "configuration": rp.map(|p| p.configuration.clone()).unwrap_or_default(),
                    "resolvedConfiguration": r.resolved,
                    "region": rp.and_then(|p| p.raw.get("region")).cloned().unwrap_or(json!(region)),
                    "inputArtifacts": [],
                });
                if let Some(role) = rp.and_then(|p| p.raw.get("roleArn")) {
                    input["roleArn"] = role.clone();
                }
                let mut d = json!({
                    "pipelineExecutionId": run.id,
                    "ruleExecutionId": r.id,
                    "pipelineVersion": run.pipeline_version,
                    "stageName": stage.name,
                    "ruleName": r.name,
                    "startTime": timestamp(r.started),
                    "lastUpdateTime": timestamp(r.updated),
                    "status": r.status,
                    "input": input,
                    "output": {"executionResult": result},
                });
                if let Some(by) = &c.updated_by {
                    d["updatedBy"] = json!(by);
                }
                out.push(((r.started, out.len()), d));
            }
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.0));
    Ok(out.into_iter().map(|d| d.1).collect())
}
