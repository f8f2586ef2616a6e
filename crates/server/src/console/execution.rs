//! `GET /console/pipelines/{name}/executions/{id}`: one execution
//! (`GetPipelineExecution`) and its action executions (`ListActionExecutions`
//! filtered to it): status and timings, input and output artifacts, the
//! resolved configuration (secrets arrive from the domain as `****`), output
//! variables, the summary, link and error of each.

use cpjobs_core::Operation;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Console;
use super::calls::Viewer;
use super::format::{self, s};
use super::layout;

/// The execution page, or its live region.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    Path((name, id)): Path<(String, String)>,
    Viewer { who, live_only }: Viewer,
) -> Response {
    let input = json!({"pipelineName": name, "pipelineExecutionId": id});
    let execution = match console.call(&who, Operation::GetPipelineExecution, input).await {
        Ok(mut out) => out["pipelineExecution"].take(),
        Err(e) => return layout::api_error(&e),
    };
    let input = json!({"pipelineName": name, "filter": {"pipelineExecutionId": id}});
    let actions = match console.call_all(&who, Operation::ListActionExecutions, input, "actionExecutionDetails").await {
        Ok(a) => a,
        Err(e) => return layout::api_error(&e),
    };
    let now = format::now_secs((console.clock)());
    let base = format!("/console/pipelines/{}", format::seg(&name));
    let part = body(&execution, &actions, now);
    let src = format!("{base}/executions/{}?live=1", format::seg(&id));
    layout::answer(live_only, layout::live(&src, part), |live| {
        let crumbs = [
            ("/console/pipelines".to_owned(), "Pipelines"),
            (base.clone(), name.as_str()),
            (format!("{base}/executions"), "Execution history"),
        ];
        layout::page(Some(&who), &crumbs, &format!("Execution {id}"), live)
    })
}

fn body(execution: &Value, actions: &[Value], now: f64) -> Markup {
    let status = s(execution, "status");
    html! {
        p {
            span class={ "status " (format::status_class(status)) } { (status) }
            " · pipeline version " (execution["pipelineVersion"].as_u64().unwrap_or_default())
            " · trigger " (s(&execution["trigger"], "triggerType"))
        }
        @if !s(execution, "statusSummary").is_empty() { p.summary { (s(execution, "statusSummary")) } }
        @let revisions = execution["artifactRevisions"].as_array().map_or(&[][..], Vec::as_slice);
        @if !revisions.is_empty() {
            h2 { "Artifact revisions" }
            ul { @for r in revisions { li { (s(r, "name")) ": " code { (s(r, "revisionId")) } } } }
        }
        h2 { "Action executions" }
        @if actions.is_empty() { p { "No action has run yet." } }
        @for a in actions { (action(a, now)) }
    }
}

fn pairs(map: &Value) -> Markup {
    html! {
        @if let Some(m) = map.as_object().filter(|m| !m.is_empty()) {
            dl.pairs { @for (k, v) in m { dt { (k) } dd { code { (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) } } } }
        } @else { p.none { "None" } }
    }
}

fn artifacts(list: &Value) -> Markup {
    html! {
        @if let Some(l) = list.as_array().filter(|l| !l.is_empty()) {
            ul { @for x in l {
                li { (s(x, "name")) @let loc = &x["s3location"]; @if !loc.is_null() { " " code { "s3://" (s(loc, "bucket")) "/" (s(loc, "key")) } } }
            } }
        } @else { p.none { "None" } }
    }
}

fn action(a: &Value, now: f64) -> Markup {
    let status = s(a, "status");
    let input = &a["input"];
    let output = &a["output"];
    let result = &output["executionResult"];
    let t = &input["actionTypeId"];
    html! {
        details id={ "x-" (s(a, "actionExecutionId")) } class={ "execution " (format::status_class(status)) } open[status != "Succeeded"] {
            summary {
                strong { (s(a, "stageName")) " / " (s(a, "actionName")) } " "
                span class={ "status " (format::status_class(status)) } { (status) }
                @if let Some(d) = format::run_time(a, "startTime", "lastUpdateTime", now) { " · " (d) }
            }
            p.type { (s(t, "provider")) " · " (s(t, "owner")) " " (s(t, "category")) " v" (s(t, "version")) }
            @if let Some(ts) = format::time(a, "startTime") { p { "Started " time datetime=(format::datetime_attr(ts)) { (format::date(ts)) } } }
            @if !s(result, "externalExecutionSummary").is_empty() { p.summary { (s(result, "externalExecutionSummary")) } }
            @if let Some(url) = format::safe_link(s(result, "externalExecutionUrl")) { p { a href=(url) rel="noopener noreferrer" target="_blank" { "Details" } } }
            @let err = &result["errorDetails"];
            @if !err.is_null() { p.error role="alert" { strong { (s(err, "code")) } ": " (s(err, "message")) } }
            div.grid {
                div { h3 { "Input artifacts" } (artifacts(&input["inputArtifacts"])) }
                div { h3 { "Output artifacts" } (artifacts(&output["outputArtifacts"])) }
                div { h3 { "Configuration" } (pairs(&input["resolvedConfiguration"])) }
                div { h3 { "Output variables" } (pairs(&output["outputVariables"])) }
            }
        }
    }
}
