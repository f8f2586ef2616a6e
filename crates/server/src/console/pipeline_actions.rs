//! The pipeline page's buttons, each one API operation for the signed-in
//! account after its CSRF token is checked: `StartPipelineExecution`,
//! `StopPipelineExecution`, `RetryStageExecution` (`FAILED_ACTIONS`) and
//! `PutApprovalResult`. A refusal is shown with the API's code and message;
//! success leads back to the page (303), where the change shows.

use cpjobs_core::Operation;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use super::format;
use super::layout;

/// Every field a pipeline form may send; the ones a form lacks are empty.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PipelineForm {
    csrf: String,
    execution: String,
    abandon: String,
    stage: String,
    action: String,
    token: String,
    summary: String,
    decision: String,
    transition: String,
    reason: String,
}

/// Checks the form's token, runs `operation`, and answers.
async fn run(
    console: Arc<Console>,
    headers: HeaderMap,
    name: &str,
    csrf: &str,
    operation: Operation,
    input: Value,
) -> Response {
    let who = match console.signed_in_form(&headers, csrf) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    match console.call(&who, operation, input).await {
        Ok(_) => Redirect::to(&format!("/console/pipelines/{}", format::seg(name))).into_response(),
        Err(e) => layout::api_error(&e),
    }
}

/// `POST .../start`.
pub(crate) async fn start(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PipelineForm>,
) -> Response {
    let input = json!({"name": name});
    run(console, headers, &name, &f.csrf, Operation::StartPipelineExecution, input).await
}

/// `POST .../stop`: lets running actions finish unless `abandon` is ticked.
pub(crate) async fn stop(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PipelineForm>,
) -> Response {
    let input = json!({
        "pipelineName": name,
        "pipelineExecutionId": f.execution,
        "abandon": f.abandon == "true",
        "reason": "Stopped from the console",
    });
    run(console, headers, &name, &f.csrf, Operation::StopPipelineExecution, input).await
}

/// `POST .../retry`: re-runs the stage's actions that did not succeed.
pub(crate) async fn retry(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PipelineForm>,
) -> Response {
    let input = json!({
        "pipelineName": name,
        "stageName": f.stage,
        "pipelineExecutionId": f.execution,
        "retryMode": "FAILED_ACTIONS",
    });
    run(console, headers, &name, &f.csrf, Operation::RetryStageExecution, input).await
}

/// `POST .../approval`: approves or rejects (the model refuses any other decision).
pub(crate) async fn approval(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PipelineForm>,
) -> Response {
    let summary = if f.summary.trim().is_empty() { format!("{} from the console", f.decision) } else { f.summary };
    let input = json!({
        "pipelineName": name,
        "stageName": f.stage,
        "actionName": f.action,
        "result": {"summary": summary, "status": f.decision},
        "token": f.token,
    });
    run(console, headers, &name, &f.csrf, Operation::PutApprovalResult, input).await
}

/// `POST .../transition`: disables (with the form's reason) or enables the
/// transition into `stage`, named as the later stage's `Inbound` one, as the
/// pipeline page draws it.
pub(crate) async fn transition(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PipelineForm>,
) -> Response {
    let (operation, input) = match f.transition.as_str() {
        "disable" => (
            Operation::DisableStageTransition,
            json!({"pipelineName": name, "stageName": f.stage, "transitionType": "Inbound", "reason": f.reason.trim()}),
        ),
        "enable" => (
            Operation::EnableStageTransition,
            json!({"pipelineName": name, "stageName": f.stage, "transitionType": "Inbound"}),
        ),
        // Checked after the token, so a forged form learns nothing either way.
        _ => {
            if let Err(r) = console.signed_in_form(&headers, &f.csrf) {
                return r.into_response();
            }
            return layout::refused(axum::http::StatusCode::BAD_REQUEST, "Choose to enable or disable the transition.");
        }
    };
    run(console, headers, &name, &f.csrf, operation, input).await
}
