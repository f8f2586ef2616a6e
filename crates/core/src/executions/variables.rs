//! Resolving an action's configuration when the action starts: its variable
//! references (`#{namespace.name}`, see [`crate::variables`]) take the
//! execution's values, so the job's `actionConfiguration` (what
//! `PollForJobs` and `GetJobDetails` hand the worker) and
//! `resolvedConfiguration` in `ListActionExecutions` carry values, never
//! references. Which references a declaration may hold was checked when it
//! was saved; what is left to fail here is a variable an upstream action did
//! not produce.

use serde_json::{Map, Value};

use super::Run;
use crate::pipelines::{ActionPlan, Plan};
use crate::variables::{self, CODEPIPELINE, PIPELINE_VARIABLES, Reference};

/// The value of one reference in `run`, if the execution has it. A rollback
/// execution runs one stage: the namespaces of the actions before it are
/// its target execution's, copied when it began.
fn value_of(run: &Run, plan: &Plan, r: &Reference<'_>) -> Option<String> {
    if let Some(v) = run.rollback.as_ref().and_then(|rb| rb.namespaces.get(r.namespace)) {
        return v.get(r.name)?.as_str().map(str::to_owned);
    }
    match r.namespace {
        CODEPIPELINE => (r.name == "PipelineExecutionId").then(|| run.id.clone()),
        PIPELINE_VARIABLES => run.variables.iter().find(|(n, _)| n == r.name).map(|(_, v)| v.clone()),
        ns => {
            // The action that owns the namespace, and its run in this execution.
            let (si, ai) = plan.stages.iter().enumerate().find_map(|(si, s)| {
                s.actions.iter().position(|a| a.namespace.as_deref() == Some(ns)).map(|ai| (si, ai))
            })?;
            let att = run.stages.get(si)?.actions.get(ai)?.current.as_ref()?;
            if att.status != "Succeeded" {
                return None;
            }
            att.output_variables.as_ref()?.get(r.name)?.as_str().map(str::to_owned)
        }
    }
}

/// A reference with no value in the execution: the property it is in, and
/// the reference as written.
pub(crate) struct Unresolved {
    pub(crate) property: String,
    pub(crate) reference: String,
}

impl Unresolved {
    /// The message that fails the action. A secret property's value leaves
    /// the service only in job data, so for one the reference is not quoted.
    pub(crate) fn message(&self, action: &str, secret: bool) -> String {
        if secret {
            format!(
                "The configuration of action '{action}' refers, in its secret property '{}', to a variable that has no value in this execution",
                self.property
            )
        } else {
            format!(
                "The configuration of action '{action}' refers to {}, which has no value in this execution",
                self.reference
            )
        }
    }
}

/// The action's configuration with every reference resolved: `None` when it
/// has none (the declaration's configuration is the resolved one), or the
/// first reference that has no value, which fails the action.
pub(crate) fn resolve_configuration(
    run: &Run,
    plan: &Plan,
    ap: &ActionPlan,
) -> Result<Option<Map<String, Value>>, Unresolved> {
    let has_refs = ap.configuration.values().filter_map(Value::as_str).any(|v| !variables::references(v).is_empty());
    if !has_refs {
        return Ok(None);
    }
    resolve_map(run, plan, &ap.configuration).map(Some)
}

/// A rule's configuration with every reference resolved, or the first
/// reference that has no value (which fails the rule).
pub(crate) fn resolve_map(
    run: &Run,
    plan: &Plan,
    config: &Map<String, Value>,
) -> Result<Map<String, Value>, Unresolved> {
    let mut out = Map::with_capacity(config.len());
    for (k, v) in config {
        let resolved = match v.as_str() {
            Some(text) => match variables::resolve(text, &mut |r| value_of(run, plan, r)) {
                Ok(s) => Value::String(s),
                Err(r) => return Err(Unresolved { property: k.clone(), reference: r.text() }),
            },
            None => v.clone(),
        };
        out.insert(k.clone(), resolved);
    }
    Ok(out)
}
