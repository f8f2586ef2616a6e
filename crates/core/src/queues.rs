//! `ListJobQueues` (a cpjobs extension, what the console's jobs page shows):
//! for every action type the caller may poll, exactly as a poll decides it
//! (its own `Custom` types, the `ThirdParty` types it owns or is a polling
//! account of), the queue now: how many jobs wait and since when, the jobs
//! in flight with their lease and timeout, the latest failures and
//! timeouts with their error, and the pollers this node has seen.
//!
//! Each queue costs a few reads of that queue's own index ranges (see
//! [`Tx::queue_figures`]), never a scan of the jobs table.

use serde_json::{Value, json};

use crate::action_types::ActionTypeDef;
use crate::api::Caller;
use crate::fail::Res;
use crate::input::timestamp;
use crate::jobs::JobStatus;
use crate::pollers::Pollers;
use crate::store::{JobRow, Millis, Tx};

/// The most jobs in flight listed per queue (all are counted).
pub(crate) const IN_FLIGHT_SHOWN: usize = 20;
/// The most recent failures listed per queue.
pub(crate) const FAILURES_SHOWN: usize = 10;

/// The action types `caller` may poll, in key order.
fn pollable_types(tx: &mut dyn Tx, caller: &Caller) -> Res<Vec<ActionTypeDef>> {
    let mut defs = Vec::new();
    for doc in tx.list_action_types(&caller.account_id)? {
        let def = ActionTypeDef::from_doc(&doc)?;
        let polled_type = def.id.owner == "ThirdParty" || def.id.owner == "Custom";
        if polled_type && !def.deleted && def.may_poll(&caller.account_id) {
            defs.push(def);
        }
    }
    Ok(defs)
}

/// `ListJobQueues`: the caller's queues as of `now`.
pub(crate) fn list(tx: &mut dyn Tx, pollers: &Pollers, caller: &Caller, now: Millis) -> Res<Value> {
    let mut queues = Vec::new();
    for def in pollable_types(tx, caller)? {
        let queue = def.id.key(&def.account_id);
        let figures = tx.queue_figures(&queue)?;
        let in_flight: Vec<Value> = tx.jobs_in_flight(&queue, IN_FLIGHT_SHOWN)?.iter().map(in_flight_job).collect();
        let failures: Vec<Value> = tx.recent_failures(&queue, FAILURES_SHOWN)?.iter().map(failed_job).collect();
        let seen: Vec<Value> = pollers
            .of_queue(&queue, now)
            .into_iter()
            .map(|(account, p)| {
                json!({
                    "accountId": account,
                    "lastPollTime": timestamp(p.last_poll),
                    // One decimal: an estimate, not a count.
                    "pollsPerMinute": (p.per_minute * 10.0).round() / 10.0,
                })
            })
            .collect();
        let mut q = json!({
            "actionTypeId": def.id.to_json(),
            "ownerAccount": def.account_id,
            "jobTimeoutSeconds": def.job_timeout_seconds,
            "queuedJobs": figures.queued,
            "jobsInFlight": figures.in_flight,
            "inFlight": in_flight,
            "recentFailures": failures,
            "pollers": seen,
        });
        if let Some(oldest) = figures.oldest_queued {
            q["oldestQueuedTime"] = timestamp(oldest);
        }
        queues.push(q);
    }
    Ok(json!({"queues": queues, "pollersSeenBy": "this node"}))
}

/// Where a job belongs: its pipeline, and the stage and action its data names.
fn place(job: &JobRow) -> Value {
    let data: Value = job.data.to_value().unwrap_or(Value::Null);
    let context = data.get("pipelineContext");
    let name = |what: &str| context.and_then(|c| c.pointer(what)).and_then(Value::as_str).map(str::to_owned);
    json!({
        "jobId": job.id,
        "status": job.status.as_str(),
        "accountId": job.account_id,
        "pipelineName": job.pipeline_name,
        "stageName": name("/stage/name"),
        "actionName": name("/action/name"),
        "created": timestamp(job.created),
    })
}

fn in_flight_job(job: &JobRow) -> Value {
    let mut v = place(job);
    v["updated"] = timestamp(job.updated);
    v["timesOutAt"] = timestamp(job.timeout_at);
    // A lease binds only until the worker acknowledges; then the timeout alone does.
    if job.status == JobStatus::Dispatched
        && let Some(lease) = job.lease_until
    {
        v["leaseExpires"] = timestamp(lease);
    }
    v
}

fn failed_job(job: &JobRow) -> Value {
    let mut v = place(job);
    v["finished"] = timestamp(job.updated);
    let details = job.result.as_ref().and_then(|r| r.to_value().ok());
    let failure = details.as_ref().and_then(|d| d.get("failureDetails"));
    match (job.status, failure) {
        (_, Some(f)) => {
            v["errorType"] = f.get("type").cloned().unwrap_or(Value::Null);
            v["errorMessage"] = f.get("message").cloned().unwrap_or(Value::Null);
        }
        (JobStatus::TimedOut, None) => {
            v["errorType"] = json!("JobTimedOut");
            let secs = (job.timeout_at - job.created) / 1000;
            v["errorMessage"] = json!(format!("The job did not finish within its job timeout of {secs} seconds"));
        }
        _ => {}
    }
    v
}
