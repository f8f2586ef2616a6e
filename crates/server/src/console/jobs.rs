//! `GET /console/jobs`: the job queues of every action type the account
//! owns or may poll (`ListJobQueues`, so exactly those a poll of this
//! account would be allowed): how many jobs wait and for how long, the jobs
//! in flight with their lease or timeout left, the latest failures and
//! timeouts with their error, the pollers this node has seen, and charts of
//! the last hour (job results and poll latency of this account's workers,
//! the depth of these queues) from the service's own figures.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::response::Response;
use cpjobs_core::Operation;
use cpjobs_core::action_types::ActionTypeId;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Console;
use super::calls::Viewer;
use super::charts::{self, Bar};
use super::format::{self, s};
use super::layout;
use crate::history::{AccountMinute, History};

/// The jobs page, or its live region.
pub(crate) async fn page(State(console): State<Arc<Console>>, Viewer { who, live_only }: Viewer) -> Response {
    let out = match console.call(&who, Operation::ListJobQueues, json!({})).await {
        Ok(out) => out,
        Err(e) => return layout::api_error(&e),
    };
    let empty = Vec::new();
    let queues = out["queues"].as_array().unwrap_or(&empty);
    let now = (console.clock)();
    let part = html! {
        (queue_table(queues, format::now_secs(now)))
        (queue_details(queues, format::now_secs(now)))
        (pollers(queues, format::now_secs(now)))
        (hour(&console.history, &who.caller.account_id, queues, now))
    };
    layout::answer(live_only, layout::live("/console/jobs?live=1", part), |live| {
        let intro = html! {
            p.hint { "The queues of the action types this account owns or may poll, as the API lets it poll them. "
                "Pollers are those this node of the service has answered: each node keeps its own." }
        };
        layout::page(Some(&who), &[], "Jobs and workers", html! { (intro) (live) })
    })
}

/// `Build / AcmeCI / 1` and its owner kind.
fn type_name(q: &Value) -> Markup {
    let id = &q["actionTypeId"];
    html! {
        (s(id, "category")) " / " strong { (s(id, "provider")) } " / " (s(id, "version"))
        " " span.type { "(" (s(id, "owner")) ")" }
    }
}

/// Seconds until (positive) or since (negative) the wire timestamp `key`.
fn left(v: &Value, key: &str, now: f64) -> Option<f64> {
    format::time(v, key).map(|t| t - now)
}

fn queue_table(queues: &[Value], now: f64) -> Markup {
    html! {
        section aria-labelledby="queues-h" {
            h2 #queues-h { "Queues" }
            @if queues.is_empty() {
                p { "This account owns no action type it may poll, and polls none of anyone else's. "
                    "Create one with " code { "cpjobs codepipeline create-custom-action-type" } "." }
            } @else {
                div.scroll {
                    table.list {
                        thead { tr {
                            th scope="col" { "Action type" } th scope="col" { "Queued" } th scope="col" { "Oldest waiting" }
                            th scope="col" { "In flight" } th scope="col" { "Pollers" }
                        } }
                        tbody {
                            @for q in queues {
                                @let queued = q["queuedJobs"].as_u64().unwrap_or(0);
                                @let pollers = q["pollers"].as_array().map_or(0, Vec::len);
                                tr {
                                    th scope="row" { (type_name(q)) }
                                    td { (queued) }
                                    td { @if let Some(t) = format::time(q, "oldestQueuedTime") {
                                        time datetime=(format::datetime_attr(t)) title=(format::date(t)) { (format::span(now - t)) }
                                    } }
                                    td { (q["jobsInFlight"].as_u64().unwrap_or(0)) }
                                    td {
                                        (pollers)
                                        @if pollers == 0 && queued > 0 {
                                            " " span.status.failed { "Nobody polls" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `pipeline › stage › action` of a job.
fn place(j: &Value) -> Markup {
    html! {
        (s(j, "pipelineName"))
        @if !s(j, "stageName").is_empty() { " › " (s(j, "stageName")) }
        @if !s(j, "actionName").is_empty() { " › " (s(j, "actionName")) }
    }
}

fn queue_details(queues: &[Value], now: f64) -> Markup {
    let empty = Vec::new();
    html! {
        @for (i, q) in queues.iter().enumerate() {
            @let flying = q["inFlight"].as_array().unwrap_or(&empty);
            @let failures = q["recentFailures"].as_array().unwrap_or(&empty);
            @if !flying.is_empty() || !failures.is_empty() {
                section.queue aria-labelledby=(format!("queue-{i}")) {
                    h2 id=(format!("queue-{i}")) { (type_name(q)) }
                    @if !flying.is_empty() {
                        h3 { "In flight" }
                        div.scroll { table.list {
                            thead { tr { th scope="col" { "Job" } th scope="col" { "Where" } th scope="col" { "Status" }
                                th scope="col" { "Lease left" } th scope="col" { "Timeout in" } } }
                            tbody { @for j in flying { tr {
                                td { code { (s(j, "jobId")) } }
                                td { (place(j)) }
                                td { span class={ "status " (if s(j, "status") == "InProgress" { "running" } else { "stopped" }) } { (s(j, "status")) } }
                                td { @match left(j, "leaseExpires", now) {
                                    Some(l) if l > 0.0 => (format::span(l)),
                                    Some(_) => "ended: queued again at the next sweep",
                                    None => "",
                                } }
                                td { @if let Some(l) = left(j, "timesOutAt", now) { (format::span(l)) } }
                            } } }
                        } }
                    }
                    @if !failures.is_empty() {
                        h3 { "Latest failures and timeouts" }
                        div.scroll { table.list {
                            thead { tr { th scope="col" { "Job" } th scope="col" { "Where" } th scope="col" { "Status" }
                                th scope="col" { "Finished" } th scope="col" { "Error" } } }
                            tbody { @for j in failures { tr {
                                td { code { (s(j, "jobId")) } }
                                td { (place(j)) }
                                td { span.status.failed { (s(j, "status")) } }
                                td { @if let Some(t) = format::time(j, "finished") {
                                    time datetime=(format::datetime_attr(t)) { (format::date(t)) }
                                } }
                                td { @if !s(j, "errorMessage").is_empty() || !s(j, "errorType").is_empty() {
                                    span.error { @if !s(j, "errorType").is_empty() { strong { (s(j, "errorType")) } ": " } (s(j, "errorMessage")) }
                                } }
                            } } }
                        } }
                    }
                }
            }
        }
    }
}

fn pollers(queues: &[Value], now: f64) -> Markup {
    let rows: Vec<(&Value, &Value)> =
        queues.iter().flat_map(|q| q["pollers"].as_array().into_iter().flatten().map(move |p| (q, p))).collect();
    html! {
        section aria-labelledby="pollers-h" {
            h2 #pollers-h { "Pollers seen by this node" }
            @if rows.is_empty() {
                p { "No worker has polled these queues on this node since it started." }
            } @else {
                div.scroll { table.list {
                    thead { tr { th scope="col" { "Account" } th scope="col" { "Action type" }
                        th scope="col" { "Last poll" } th scope="col" { "Polls per minute" } } }
                    tbody { @for (q, p) in rows { tr {
                        td { (s(p, "accountId")) }
                        td { (type_name(q)) }
                        td { @if let Some(t) = format::time(p, "lastPollTime") {
                            time datetime=(format::datetime_attr(t)) title=(format::date(t)) { (format::span(now - t)) " ago" }
                        } }
                        td { (p["pollsPerMinute"].as_f64().unwrap_or(0.0)) }
                    } } }
                } }
            }
        }
    }
}

/// The queue keys of `queues`, as the service names them in its figures.
fn queue_keys(queues: &[Value]) -> Vec<String> {
    queues
        .iter()
        .map(|q| {
            let id = &q["actionTypeId"];
            let id = ActionTypeId {
                category: s(id, "category").into(),
                owner: s(id, "owner").into(),
                provider: s(id, "provider").into(),
                version: s(id, "version").into(),
            };
            id.key(s(q, "ownerAccount"))
        })
        .collect()
}

/// The three charts of the last hour.
fn hour(history: &History, account: &str, queues: &[Value], now: SystemTime) -> Markup {
    let mine = history.account(account, now);
    let depth = history.depth(&queue_keys(queues), now);
    let results: Vec<Bar> =
        mine.iter().map(|(_, m)| Some(vec![(m.succeeded as f64, "ok"), (m.failed as f64, "failed")])).collect();
    let (ok, failed) = mine.iter().fold((0, 0), |(o, f), (_, m)| (o + m.succeeded, f + m.failed));
    let latency: Vec<Bar> = mine.iter().map(|(_, m)| m.poll_mean().map(|s| vec![(s * 1000.0, "latency")])).collect();
    let polls: u64 = mine.iter().map(|(_, m)| m.polls).sum();
    let poll_secs: f64 = mine.iter().map(|(_, m)| m.poll_seconds).sum();
    let longest = mine.iter().map(|(_, m): &(i64, AccountMinute)| m.poll_max).fold(0.0, f64::max);
    let depths: Vec<Bar> = depth.iter().map(|(_, d)| d.map(|d| vec![(d as f64, "depth")])).collect();
    let latest_depth = depth.iter().rev().find_map(|(_, d)| *d);
    let most = depth.iter().filter_map(|(_, d)| *d).max();
    let ms = |secs: f64| format!("{:.1} ms", secs * 1000.0);
    html! {
        section aria-labelledby="hour-h" {
            h2 #hour-h { "The last hour" }
            p.hint { "A bar per minute, from this node's own figures: the job results and polls of this account's workers, "
                "and the jobs waiting in the queues above (sampled once a minute)." }
            div.charts {
                (charts::bars("results", "Job results per minute",
                    &format!("{ok} succeeded and {failed} failed in the last hour, reported by this account's workers."),
                    &results,
                    " results",
                    html! { (ok) " succeeded, " (failed) " failed in the hour." }))
                (charts::bars("depth", "Queue depth",
                    &match latest_depth {
                        Some(d) => format!("{d} jobs waiting at the latest sample; at most {} in the hour.", most.unwrap_or(d)),
                        None => "No sample of the queues yet.".to_owned(),
                    },
                    &depths,
                    " jobs",
                    html! { @match latest_depth {
                        Some(d) => { (d) " waiting at the latest sample, at most " (most.unwrap_or(d)) "." }
                        None => "No sample yet (one a minute).",
                    } }))
                (charts::bars("latency", "Poll latency (mean per minute)",
                    &if polls > 0 {
                        format!("{polls} polls in the hour answered in {} on average, the longest in {}.", ms(poll_secs / polls as f64), ms(longest))
                    } else {
                        "No polls from this account in the last hour.".to_owned()
                    },
                    &latency,
                    " ms",
                    html! { @if polls > 0 {
                        (polls) (if polls == 1 { " poll" } else { " polls" }) ", mean " (ms(poll_secs / polls as f64)) ", longest " (ms(longest)) "."
                    } @else { "No polls in the hour." } }))
            }
        }
    }
}
