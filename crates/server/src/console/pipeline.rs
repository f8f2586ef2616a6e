//! `GET /console/pipelines/{name}`: one pipeline as AWS's console draws it:
//! its stages in order (`GetPipeline`), each stage's actions grouped by run
//! order and coloured by their latest status (`GetPipelineState`) with the
//! summary, the revision, the external link, a failed action's error and a
//! waiting approval's form; the latest execution (`ListPipelineExecutions`)
//! with start and stop, and retry on a failed or stopped stage.

use cpjobs_core::Operation;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Console;
use super::calls::{SignedIn, Viewer};
use super::format::{self, s};
use super::layout;

/// The pipeline page, or its live region.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    Viewer { who, live_only }: Viewer,
) -> Response {
    let declaration = match console.call(&who, Operation::GetPipeline, json!({"name": name})).await {
        Ok(mut out) => out["pipeline"].take(),
        Err(e) => return layout::api_error(&e),
    };
    let state = console.call(&who, Operation::GetPipelineState, json!({"name": name})).await;
    let latest =
        console.call(&who, Operation::ListPipelineExecutions, json!({"pipelineName": name, "maxResults": 1})).await;
    let (state, latest) = match (state, latest) {
        (Ok(s), Ok(l)) => (s, l["pipelineExecutionSummaries"].get(0).cloned()),
        (Err(e), _) | (_, Err(e)) => return layout::api_error(&e),
    };
    let now = format::now_secs((console.clock)());
    let base = format!("/console/pipelines/{}", format::seg(&name));
    let part = body(&who, &base, &declaration, &state, latest.as_ref(), now);
    layout::answer(live_only, layout::live(&format!("{base}?live=1"), part), |live| {
        let links = html! { p.links { a href={ (base) "/executions" } { "Execution history" } } };
        layout::page(Some(&who), &[("/console/pipelines".into(), "Pipelines")], &name, html! { (links) (live) })
    })
}

fn body(who: &SignedIn, base: &str, declaration: &Value, state: &Value, latest: Option<&Value>, now: f64) -> Markup {
    let empty = Vec::new();
    let stages = declaration["stages"].as_array().unwrap_or(&empty);
    let states = state["stageStates"].as_array().unwrap_or(&empty);
    html! {
        section.latest aria-label="Latest execution" {
            @match latest {
                Some(x) => {
                    @let id = s(x, "pipelineExecutionId");
                    p {
                        "Latest execution "
                        a href={ (base) "/executions/" (format::seg(id)) } { code { (id) } } " "
                        span class={ "status " (format::status_class(s(x, "status"))) } { (s(x, "status")) }
                        @if let Some(t) = format::time(x, "startTime") { " · started " time datetime=(format::datetime_attr(t)) { (format::date(t)) } }
                        @if let Some(d) = format::run_time(x, "startTime", "lastUpdateTime", now) { " · " (d) }
                    }
                    @if !s(x, "statusSummary").is_empty() { p.summary { (s(x, "statusSummary")) } }
                }
                None => p { "No executions yet." }
            }
            div.buttons {
                form method="post" action={ (base) "/start" } {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button type="submit" { "Release change" }
                }
                @if let Some(x) = latest.filter(|x| s(x, "status") == "InProgress") {
                    form.stop method="post" action={ (base) "/stop" } {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input type="hidden" name="execution" value=(s(x, "pipelineExecutionId"));
                        label { input type="checkbox" name="abandon" value="true"; " Abandon running actions" }
                        button type="submit" { "Stop execution" }
                    }
                }
            }
        }
        ol.stages {
            @for (i, stage) in stages.iter().enumerate() {
                @let stage_name = s(stage, "name");
                @let st = states.iter().find(|x| s(x, "stageName") == stage_name);
                @if i > 0 {
                    li.transition { (transition(who, base, stage_name, st.map(|x| &x["inboundTransitionState"]), now)) }
                }
                li { (stage_box(who, base, stage, st)) }
            }
        }
    }
}

/// The transition into `stage`: an arrow with a form to disable it (which
/// asks for the reason the API requires), or, disabled, who closed it, when
/// and why, with the button that opens it again.
fn transition(who: &SignedIn, base: &str, stage: &str, state: Option<&Value>, now: f64) -> Markup {
    let null = Value::Null;
    let state = state.unwrap_or(&null);
    let enabled = state["enabled"].as_bool().unwrap_or(true);
    let action = format!("{base}/transition");
    html! {
        div class={ "transition " @if enabled { "enabled" } @else { "disabled" } } aria-label={ "Transition into " (stage) } {
            @if enabled {
                span aria-hidden="true" { "↓" }
                details id={ "disable-" (stage) } {
                    summary { "Disable transition" }
                    form method="post" action=(action) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input type="hidden" name="stage" value=(stage);
                        input type="hidden" name="transition" value="disable";
                        label {
                            "Reason (letters, digits, spaces and ! @ ( ) . * ? -)"
                            input type="text" name="reason" required maxlength="300";
                        }
                        button type="submit" { "Disable" }
                    }
                }
            } @else {
                p {
                    span.status.stopped { "Transition disabled" }
                    @if !s(state, "disabledReason").is_empty() { " " q.reason { (s(state, "disabledReason")) } }
                }
                p.changed {
                    "by " (s(state, "lastChangedBy"))
                    @if let Some(t) = format::time(state, "lastChangedAt") {
                        " · " time datetime=(format::datetime_attr(t)) { (format::date(t)) }
                        " (" (format::span(now - t)) " ago)"
                    }
                }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    input type="hidden" name="stage" value=(stage);
                    input type="hidden" name="transition" value="enable";
                    button type="submit" { "Enable transition" }
                }
            }
        }
    }
}

fn stage_box(who: &SignedIn, base: &str, stage: &Value, st: Option<&Value>) -> Markup {
    let stage_name = s(stage, "name");
    let null = Value::Null;
    let exec = st.map_or(&null, |x| &x["latestExecution"]);
    let status = s(exec, "status");
    let empty = Vec::new();
    let action_states = st.and_then(|x| x["actionStates"].as_array()).unwrap_or(&empty);
    // Actions of one run order run together; orders run one after another.
    let mut orders: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for a in stage["actions"].as_array().unwrap_or(&empty) {
        orders.entry(a["runOrder"].as_u64().unwrap_or(1)).or_default().push(a);
    }
    html! {
        section class={ "stage " (format::status_class(status)) } aria-label={ "Stage " (stage_name) } {
            header {
                h2 { (stage_name) }
                @if !status.is_empty() { span class={ "status " (format::status_class(status)) } { (status) } }
            }
            @for (order, actions) in &orders {
                div.order aria-label={ "Run order " (order) } {
                    @for a in actions {
                        @let name = s(a, "name");
                        (action_box(who, base, stage_name, a, action_states.iter().find(|x| s(x, "actionName") == name)))
                    }
                }
            }
            @if matches!(status, "Failed" | "Stopped") {
                form.retry method="post" action={ (base) "/retry" } {
                    input type="hidden" name="csrf" value=(who.csrf);
                    input type="hidden" name="stage" value=(stage_name);
                    input type="hidden" name="execution" value=(s(exec, "pipelineExecutionId"));
                    button type="submit" { "Retry failed actions" }
                }
            }
        }
    }
}

fn action_box(who: &SignedIn, base: &str, stage: &str, decl: &Value, state: Option<&Value>) -> Markup {
    let null = Value::Null;
    let state = state.unwrap_or(&null);
    let exec = &state["latestExecution"];
    let status = s(exec, "status");
    let t = &decl["actionTypeId"];
    let link = format::safe_link(s(exec, "externalExecutionUrl")).or_else(|| format::safe_link(s(state, "entityUrl")));
    let revision = s(&state["currentRevision"], "revisionId");
    let waiting = s(t, "category") == "Approval" && status == "InProgress" && !s(exec, "token").is_empty();
    html! {
        article class={ "action " (format::status_class(status)) } {
            h3 { (s(decl, "name")) }
            p.type { (s(t, "provider")) " · " (s(t, "owner")) " " (s(t, "category")) }
            p {
                span class={ "status " (format::status_class(status)) } { @if status.is_empty() { "Didn't run" } @else { (status) } }
                @if let Some(ts) = format::time(exec, "lastStatusChange") { " " time.when datetime=(format::datetime_attr(ts)) { (format::date(ts)) } }
            }
            @if !s(exec, "summary").is_empty() { p.summary { (s(exec, "summary")) } }
            @if !revision.is_empty() { p.revision { "Revision " code { (revision) } } }
            @if let Some(url) = link { p { a href=(url) rel="noopener noreferrer" target="_blank" { "Details" } } }
            @let err = &exec["errorDetails"];
            @if !err.is_null() {
                p.error role="alert" { strong { (s(err, "code")) } ": " (s(err, "message")) }
            }
            @if waiting {
                @let config = &decl["configuration"];
                @if !s(config, "CustomData").is_empty() { p.summary { "Asks: " (s(config, "CustomData")) } }
                @if let Some(url) = format::safe_link(s(config, "ExternalEntityLink")) {
                    p { a href=(url) rel="noopener noreferrer" target="_blank" { "Review link" } }
                }
                form.approval method="post" action={ (base) "/approval" } {
                    input type="hidden" name="csrf" value=(who.csrf);
                    input type="hidden" name="stage" value=(stage);
                    input type="hidden" name="action" value=(s(decl, "name"));
                    input type="hidden" name="token" value=(s(exec, "token"));
                    label { "Comment" textarea name="summary" rows="2" maxlength="512" {} }
                    div.buttons {
                        button type="submit" name="decision" value="Approved" { "Approve" }
                        button.secondary type="submit" name="decision" value="Rejected" { "Reject" }
                    }
                }
            }
        }
    }
}
