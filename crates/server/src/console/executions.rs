//! `GET /console/pipelines/{name}/executions`: the pipeline's execution
//! history (`ListPipelineExecutions`, newest first, 100 at most): status,
//! trigger, start, duration and source revisions.

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

/// The history page, or its live region.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    Viewer { who, live_only }: Viewer,
) -> Response {
    let input = json!({"pipelineName": name, "maxResults": 100});
    let list = match console.call(&who, Operation::ListPipelineExecutions, input).await {
        Ok(mut out) => out["pipelineExecutionSummaries"].take(),
        Err(e) => return layout::api_error(&e),
    };
    let now = format::now_secs((console.clock)());
    let base = format!("/console/pipelines/{}", format::seg(&name));
    let part = table(&base, list.as_array().map_or(&[][..], Vec::as_slice), now);
    layout::answer(live_only, layout::live(&format!("{base}/executions?live=1"), part), |live| {
        let crumbs = [("/console/pipelines".to_owned(), "Pipelines"), (base.clone(), name.as_str())];
        layout::page(Some(&who), &crumbs, "Execution history", live)
    })
}

fn table(base: &str, list: &[Value], now: f64) -> Markup {
    html! {
        @if list.is_empty() {
            p { "No executions yet." }
        } @else {
            div.scroll {
                table.list {
                    thead { tr {
                        th scope="col" { "Execution" } th scope="col" { "Status" } th scope="col" { "Trigger" }
                        th scope="col" { "Started" } th scope="col" { "Duration" } th scope="col" { "Source revisions" }
                    } }
                    tbody {
                        @for x in list {
                            @let id = s(x, "pipelineExecutionId");
                            tr {
                                th scope="row" { a href={ (base) "/executions/" (format::seg(id)) } { code { (id) } } }
                                td {
                                    span class={ "status " (format::status_class(s(x, "status"))) } { (s(x, "status")) }
                                    @if !s(x, "statusSummary").is_empty() { br; small { (s(x, "statusSummary")) } }
                                }
                                td { (s(&x["trigger"], "triggerType")) }
                                td { @if let Some(t) = format::time(x, "startTime") { time datetime=(format::datetime_attr(t)) { (format::date(t)) } } }
                                td { (format::run_time(x, "startTime", "lastUpdateTime", now).unwrap_or_default()) }
                                td {
                                    @for r in x["sourceRevisions"].as_array().map_or(&[][..], Vec::as_slice) {
                                        div { (s(r, "actionName")) ": " code { (s(r, "revisionId")) }
                                            @if !s(r, "revisionSummary").is_empty() { " " small { (s(r, "revisionSummary")) } } }
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
