//! `GET /console/pipelines`: the account's pipelines (`ListPipelines`), each
//! with its latest execution (`ListPipelineExecutions`, one): status, when it
//! started, how long it ran.

use cpjobs_core::Operation;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Console;
use super::calls::Viewer;
use super::format::{self, s};
use super::layout;

/// The list page, or its live region.
pub(crate) async fn page(State(console): State<Arc<Console>>, Viewer { who, live_only }: Viewer) -> Response {
    let pipelines = match console.call_all(&who, Operation::ListPipelines, json!({}), "pipelines").await {
        Ok(p) => p,
        Err(e) => return layout::api_error(&e),
    };
    let inputs = pipelines.iter().map(|p| json!({"pipelineName": s(p, "name"), "maxResults": 1})).collect();
    let latest = match console.call_each(&who, Operation::ListPipelineExecutions, inputs).await {
        Ok(l) => l,
        Err(e) => return layout::api_error(&e),
    };
    let mut rows = Vec::with_capacity(pipelines.len());
    for (p, latest) in pipelines.into_iter().zip(latest) {
        match latest {
            Ok(mut out) => rows.push((p, out["pipelineExecutionSummaries"].get_mut(0).map(Value::take))),
            // Deleted between the two calls: left out, as a list made a moment later would.
            Err(e) if e.code == "PipelineNotFoundException" => {}
            Err(e) => return layout::api_error(&e),
        }
    }
    let now = format::now_secs((console.clock)());
    let part = table(&rows, now);
    layout::answer(live_only, layout::live("/console/pipelines?live=1", part), |live| {
        layout::page(Some(&who), &[], "Pipelines", live)
    })
}

fn table(rows: &[(Value, Option<Value>)], now: f64) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "This account has no pipelines yet. Create one with "
                code { "cpjobs codepipeline create-pipeline" } " (or " code { "aws codepipeline create-pipeline" } ")." }
        } @else {
            div.scroll {
                table.list {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Latest execution" } th scope="col" { "Started" } th scope="col" { "Duration" } } }
                    tbody {
                        @for (p, latest) in rows {
                            @let name = s(p, "name");
                            tr {
                                th scope="row" { a href={ "/console/pipelines/" (format::seg(name)) } { (name) } }
                                @match latest {
                                    Some(x) => {
                                        td { span class={ "status " (format::status_class(s(x, "status"))) } { (s(x, "status")) } }
                                        td { @if let Some(t) = format::time(x, "startTime") { time datetime=(format::datetime_attr(t)) { (format::date(t)) } } }
                                        td { (format::run_time(x, "startTime", "lastUpdateTime", now).unwrap_or_default()) }
                                    }
                                    None => { td { span.status.none { "No executions" } } td {} td {} }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
