//! The rules of a declaration that depend on its `pipelineType`, its
//! pipeline-level variables and its action namespaces, and the variables a
//! `StartPipelineExecution` may set. AWS documents them in the model: V2
//! features (variables, triggers, stage conditions, the `QUEUED` and
//! `PARALLEL` modes) need `pipelineType` `V2`; a variable is declared once;
//! an execution sets only declared variables, each once.
//!
//! Variable references in action configuration are checked here too (see
//! [`check_references`]).
//!
//! What cpjobs does not run is refused rather than stored and ignored: a
//! trigger (it needs a `CodeStarSourceConnection` source, which cpjobs has
//! not), and stage conditions with results or rules cpjobs does not run
//! (see [`crate::executions::conditions::check`]).

use crate::ErrorCode;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::fail::{Res, fail};
use crate::input::opt_list;
use crate::variables;

/// Namespaces an action cannot take: the pipeline's own variables live in them.
const RESERVED_NAMESPACES: &[&str] = &["codepipeline", "variables"];

/// The stage members that declare conditions.
const CONDITION_MEMBERS: &[&str] = &["beforeEntry", "onSuccess", "onFailure"];

/// Whether `v` is a member that says something: present, and not null or an empty list.
fn given(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// Checks the declaration's V2 features, variables, namespaces and stage
/// conditions (`region`: the pipeline's, which rules may not leave).
pub(crate) fn check(decl: &Value, region: &str) -> Res<()> {
    let v2 = decl.get("pipelineType").and_then(Value::as_str) == Some("V2");
    let stages = opt_list(decl, "stages")?;
    if !v2 {
        let needs_v2 = |what: String| {
            fail::<()>(
                ErrorCode::ValidationException,
                format!("{what} is available for V2 pipelines only: set pipelineType to V2"),
            )
        };
        if let Some(mode @ ("QUEUED" | "PARALLEL")) = decl.get("executionMode").and_then(Value::as_str) {
            return needs_v2(format!("Execution mode {mode}"));
        }
        if given(decl.get("variables")) {
            return needs_v2("Pipeline-level variables (variables)".into());
        }
        if given(decl.get("triggers")) {
            return needs_v2("A trigger (triggers)".into());
        }
        for s in stages {
            if let Some(m) = CONDITION_MEMBERS.iter().find(|m| given(s.get(**m))) {
                let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
                return needs_v2(format!("The {m} condition of stage '{name}'"));
            }
        }
    }
    if let Some(t) = opt_list(decl, "triggers")?.first() {
        let action = t.pointer("/gitConfiguration/sourceActionName").and_then(Value::as_str).unwrap_or_default();
        return fail(
            ErrorCode::ValidationException,
            format!(
                "The trigger of source action '{action}' cannot be used: triggers apply to CodeStarSourceConnection source actions, which cpjobs does not run"
            ),
        );
    }
    for s in stages {
        let is_source =
            actions_of(s).any(|(a, _)| a.pointer("/actionTypeId/category").and_then(Value::as_str) == Some("Source"));
        crate::executions::conditions::check(s, is_source, region)?;
    }
    let mut names = HashSet::new();
    for v in opt_list(decl, "variables")? {
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        if !names.insert(name) {
            return fail(
                ErrorCode::ValidationException,
                format!("Pipeline variable '{name}' is declared more than once"),
            );
        }
    }
    check_action_members(stages)?;
    check_namespaces(stages)?;
    check_references(stages, &names)
}

/// Action members the model reserves for some action types: `timeoutInMinutes`
/// for Manual approval; `commands` and `outputVariables` for the compute
/// (`Commands`) action, which cpjobs does not run. `environmentVariables`
/// reach no job (the job data has no place for them), so they are refused
/// rather than dropped.
fn check_action_members(stages: &[Value]) -> Res<()> {
    for a in stages.iter().flat_map(|s| s.get("actions").and_then(Value::as_array).into_iter().flatten()) {
        let action = a.get("name").and_then(Value::as_str).unwrap_or_default();
        let type_id = a.get("actionTypeId");
        let is_approval = type_id.and_then(|t| t.get("category")).and_then(Value::as_str) == Some("Approval")
            && type_id.and_then(|t| t.get("owner")).and_then(Value::as_str) == Some("AWS")
            && type_id.and_then(|t| t.get("provider")).and_then(Value::as_str) == Some("Manual");
        if given(a.get("timeoutInMinutes")) && !is_approval {
            return fail(
                ErrorCode::InvalidActionDeclarationException,
                format!("Action '{action}' sets timeoutInMinutes, which only Manual approval actions take"),
            );
        }
        for m in ["commands", "outputVariables"] {
            if given(a.get(m)) {
                return fail(
                    ErrorCode::InvalidActionDeclarationException,
                    format!(
                        "Action '{action}' sets {m}, which only the Commands compute action takes (cpjobs does not run it)"
                    ),
                );
            }
        }
        if given(a.get("environmentVariables")) {
            return fail(
                ErrorCode::InvalidActionDeclarationException,
                format!(
                    "Action '{action}' sets environmentVariables, which reach no job in cpjobs: put them in its configuration"
                ),
            );
        }
    }
    Ok(())
}

/// Namespaces: one action each, none of the pipeline's own.
fn check_namespaces(stages: &[Value]) -> Res<()> {
    let mut namespaces = HashSet::new();
    for a in stages.iter().flat_map(|s| s.get("actions").and_then(Value::as_array).into_iter().flatten()) {
        let Some(ns) = a.get("namespace").and_then(Value::as_str) else { continue };
        let action = a.get("name").and_then(Value::as_str).unwrap_or_default();
        if RESERVED_NAMESPACES.contains(&ns) {
            return fail(
                ErrorCode::InvalidActionDeclarationException,
                format!(
                    "Action '{action}' cannot use the namespace '{ns}': it is reserved for the pipeline's own variables"
                ),
            );
        }
        if !namespaces.insert(ns) {
            return fail(
                ErrorCode::InvalidActionDeclarationException,
                format!("The namespace '{ns}' of action '{action}' is used by another action of the pipeline"),
            );
        }
    }
    Ok(())
}

/// The actions of a stage with their run orders.
fn actions_of(stage: &Value) -> impl Iterator<Item = (&Value, i64)> {
    stage
        .get("actions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| (a, a.get("runOrder").and_then(Value::as_i64).unwrap_or(1)))
}

/// Every variable reference in an action's configuration names something the
/// action can have when it starts, as AWS checks when a pipeline is saved: a
/// variable of the `codepipeline` namespace, a declared pipeline-level
/// variable, or the namespace of an action that runs before it (an earlier
/// stage, or a lower run order in its stage). Which variables an action will
/// produce is known only when it has run: a name it did not produce fails
/// the action that refers to it.
fn check_references(stages: &[Value], declared: &HashSet<&str>) -> Res<()> {
    let mut producers: HashMap<&str, (usize, i64)> = HashMap::new();
    for (si, s) in stages.iter().enumerate() {
        for (a, order) in actions_of(s) {
            if let Some(ns) = a.get("namespace").and_then(Value::as_str) {
                producers.insert(ns, (si, order));
            }
        }
    }
    // What refers: each action at its run order, and each rule of a stage's
    // conditions: `beforeEntry`'s before any action of the stage (order 0),
    // `onSuccess`'s and `onFailure`'s after all of them.
    let mut referrers: Vec<(usize, i64, String, &Value)> = Vec::new();
    for (si, s) in stages.iter().enumerate() {
        for (a, order) in actions_of(s) {
            let action = a.get("name").and_then(Value::as_str).unwrap_or_default();
            referrers.push((si, order, format!("Action configuration for action '{action}'"), a));
        }
        for (member, order) in [("beforeEntry", 0), ("onSuccess", i64::MAX), ("onFailure", i64::MAX)] {
            let rules = s.pointer(&format!("/{member}/conditions/0/rules")).and_then(Value::as_array);
            for r in rules.into_iter().flatten() {
                let rule = r.get("name").and_then(Value::as_str).unwrap_or_default();
                let stage = s.get("name").and_then(Value::as_str).unwrap_or_default();
                referrers.push((si, order, format!("The configuration of rule '{rule}' of stage '{stage}'"), r));
            }
        }
    }
    {
        for (si, order, what, a) in referrers {
            let values = a.get("configuration").and_then(Value::as_object).into_iter().flat_map(|c| c.values());
            for r in values.filter_map(Value::as_str).flat_map(variables::references) {
                let why = match r.namespace {
                    variables::CODEPIPELINE if variables::CODEPIPELINE_VARIABLES.contains(&r.name) => continue,
                    variables::CODEPIPELINE => "the codepipeline namespace has no such variable".to_owned(),
                    variables::PIPELINE_VARIABLES if declared.contains(r.name) => continue,
                    variables::PIPELINE_VARIABLES => "the pipeline declares no such variable".to_owned(),
                    ns => match producers.get(ns) {
                        Some(&(psi, porder)) if psi < si || (psi == si && porder < order) => continue,
                        Some(_) => format!("the action with namespace '{ns}' does not run before it"),
                        None => format!("no action of the pipeline has the namespace '{ns}'"),
                    },
                };
                let code = if what.starts_with("The configuration of rule") {
                    ErrorCode::InvalidStageDeclarationException
                } else {
                    ErrorCode::InvalidActionDeclarationException
                };
                return fail(code, format!("{what} refers to {}: {why}", r.text()));
            }
        }
    }
    Ok(())
}

/// The pipeline-level variables of an execution of `decl` started with
/// `input` (`StartPipelineExecution`): each declared variable with the value
/// the start gives it, else its default, in declaration order. A variable the
/// pipeline does not declare, one given twice, or one with no default that the
/// start leaves out is refused.
pub(crate) fn start_variables(decl: &Value, input: &Value) -> Res<Vec<(String, String)>> {
    let declared = opt_list(decl, "variables")?;
    let given = opt_list(input, "variables")?;
    let mut overrides: Vec<(&str, &str)> = Vec::new();
    for v in given {
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = v.get("value").and_then(Value::as_str).unwrap_or_default();
        if overrides.iter().any(|(n, _)| *n == name) {
            return fail(ErrorCode::ValidationException, format!("Pipeline variable '{name}' is given more than once"));
        }
        if !declared.iter().any(|d| d.get("name").and_then(Value::as_str) == Some(name)) {
            return fail(
                ErrorCode::ValidationException,
                format!(
                    "Pipeline variable '{name}' is not declared in the pipeline: declare it in the pipeline's variables"
                ),
            );
        }
        overrides.push((name, value));
    }
    let mut out = Vec::with_capacity(declared.len());
    for d in declared {
        let name = d.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = match overrides.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => (*v).to_owned(),
            None => match d.get("defaultValue").and_then(Value::as_str) {
                Some(v) => v.to_owned(),
                None => {
                    return fail(
                        ErrorCode::ValidationException,
                        format!("Pipeline variable '{name}' has no default value: the start must give it a value"),
                    );
                }
            },
        };
        out.push((name.to_owned(), value));
    }
    Ok(out)
}
