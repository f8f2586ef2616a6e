//! How a stage ends, as its conditions decide: at its entrance (`beforeEntry`:
//! go in, wait, skip or fail), when its actions failed (`onFailure`: retry,
//! roll back, or fail) and when they all succeeded (`onSuccess`: succeed,
//! wait, fail or roll back). The engine ([`super::advance`]) asks here at
//! each of those points; [`super::conditions`] evaluates the rules.

use super::conditions::{self, Step};
use super::{Run, StageRun, rollback};
use crate::fail::Res;
use crate::pipelines::Plan;
use crate::store::{Millis, Tx};

/// What the engine does next with the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    /// Go on in the stage (its actions run, or run again).
    Go,
    /// The execution waits in the stage for a condition.
    Wait,
    /// The stage ended (succeeded, skipped or failed): the engine moves on.
    Left,
}

/// At the stage's entrance.
pub(super) fn entry(run: &mut Run, plan: &Plan, si: usize, now: Millis) -> Flow {
    match conditions::entry(run, plan, si, now) {
        Step::Go => Flow::Go,
        Step::Wait => Flow::Wait,
        Step::Engage(result) if result == "SKIP" => {
            run.stages[si].status = Some("Skipped".into());
            Flow::Left
        }
        Step::Engage(_) => {
            let summary = format!("The entry condition of stage '{}' was not met", run.stages[si].name);
            fail_stage(run, si, summary);
            Flow::Left
        }
    }
}

/// The stage's actions failed (none still runs).
pub(super) fn failed(tx: &mut dyn Tx, run: &mut Run, plan: &Plan, si: usize, now: Millis) -> Res<Flow> {
    let stage = &run.stages[si];
    let failed = stage.actions.iter().find(|a| a.current.as_ref().is_some_and(|c| c.status == "Failed"));
    let summary = match failed {
        Some(a) => format!("Action '{}' in stage '{}' failed", a.name, stage.name),
        None => format!("Stage '{}' failed", stage.name),
    };
    Ok(match conditions::failure(run, plan, si, now) {
        (Step::Wait, _) => Flow::Wait,
        (Step::Engage(r), mode) if r == "RETRY" && run.stages[si].retries.auto < conditions::AUTO_RETRIES => {
            let stage = &mut run.stages[si];
            stage.retries.auto += 1;
            stage.retries.latest = Some("AutomatedStageRetry".into());
            retry_actions(stage, mode == "ALL_ACTIONS");
            Flow::Go
        }
        (Step::Engage(r), _) if r == "ROLLBACK" => {
            request_rollback(tx, run, si, summary)?;
            Flow::Left
        }
        _ => {
            fail_stage(run, si, summary);
            Flow::Left
        }
    })
}

/// Every action of the stage succeeded.
pub(super) fn succeeded(tx: &mut dyn Tx, run: &mut Run, plan: &Plan, si: usize, now: Millis) -> Res<Flow> {
    Ok(match conditions::success(run, plan, si, now) {
        Step::Go => {
            run.stages[si].status = Some("Succeeded".into());
            Flow::Left
        }
        Step::Wait => Flow::Wait,
        Step::Engage(result) => {
            let summary = format!("The success condition of stage '{}' was not met", run.stages[si].name);
            if result == "ROLLBACK" {
                request_rollback(tx, run, si, summary)?;
            } else {
                fail_stage(run, si, summary);
            }
            Flow::Left
        }
    })
}

/// Fails stage `si` and the run, with `summary`.
fn fail_stage(run: &mut Run, si: usize, summary: String) {
    run.stages[si].status = Some("Failed".into());
    run.status = "Failed".into();
    run.status_summary = Some(summary);
}

/// Fails stage `si` and asks for its rollback to the newest execution that
/// succeeded it (begun once the run is saved). A rollback that fails is not
/// rolled back again, and with no such execution there is nothing to roll
/// back to: the stage just fails, and the summary says so.
fn request_rollback(tx: &mut dyn Tx, run: &mut Run, si: usize, summary: String) -> Res<()> {
    let stage = run.stages[si].name.clone();
    let target = if run.rollback.is_none() { rollback::automatic_target(tx, run, &stage)? } else { None };
    let summary = match &target {
        Some(t) => format!("{summary}; the stage is rolled back to pipeline execution {t}"),
        None if run.rollback.is_some() => format!("{summary}; a rollback is not rolled back"),
        None => format!("{summary}; no earlier execution succeeded in the stage, so there is nothing to roll back to"),
    };
    fail_stage(run, si, summary);
    if let Some(t) = target {
        run.rollbacks.push((stage, t));
    }
    Ok(())
}

/// Puts the stage's failed actions (or all, `all`) back to be run again.
pub(super) fn retry_actions(stage: &mut StageRun, all: bool) {
    for a in &mut stage.actions {
        let retry = all || a.current.as_ref().is_some_and(|c| c.status != "Succeeded");
        if retry && let Some(old) = a.current.take() {
            a.history.push(old);
        }
    }
}
