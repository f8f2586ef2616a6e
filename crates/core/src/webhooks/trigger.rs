//! A POST to a webhook's URL: found by its account and id, authenticated
//! as the webhook says, its body checked against every filter, and then the
//! pipeline started (trigger `Webhook`, its detail the webhook's ARN), as
//! `StartPipelineExecution` starts it, with the pipeline's variable defaults.
//!
//! What AWS does not document, and cpjobs answers (JSON bodies with a
//! `message`): an unknown URL 404 (also a webhook whose pipeline or target
//! action is gone); a missing or wrong signature 401; an address outside
//! the range 403; a body that is not JSON 400; a body over
//! [`MAX_BODY_BYTES`] 413 (the server's). A body that fails a filter is no
//! sender's mistake (a push to another branch): 200 with a `message` saying
//! which filter, and nothing started. A started execution: 200 with its
//! `pipelineExecutionId`.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::auth::{Presented, Refused};
use crate::api::Caller;
use crate::executions::{self, Begin};
use crate::fail::Res;
use crate::sealing::TokenSeal;
use crate::store::{Millis, Tx, WebhookRow};

/// The largest body a webhook reads (GitHub's payloads are capped at 25 MB,
/// but a push event's is a few kilobytes: this is far above those).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A POST to a webhook's URL, as the server received it.
#[derive(Debug, Clone)]
pub struct WebhookPost {
    /// The account the URL names.
    pub account_id: String,
    /// The webhook id the URL names.
    pub id: String,
    /// `X-Hub-Signature-256`, if sent.
    pub signature_sha256: Option<String>,
    /// `X-Hub-Signature`, if sent.
    pub signature_sha1: Option<String>,
    /// The connection's peer address.
    pub peer: IpAddr,
    /// The raw body.
    pub body: Vec<u8>,
}

/// What the server answers a webhook POST: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

impl WebhookAnswer {
    /// An answer with a `message`.
    pub fn message(status: u16, message: impl Into<String>) -> WebhookAnswer {
        WebhookAnswer { status, body: json!({"message": message.into()}) }
    }

    /// The answer to a URL that names no webhook.
    pub(crate) fn not_found() -> WebhookAnswer {
        WebhookAnswer::message(404, "No webhook has this URL")
    }
}

/// Whether `post` could name a webhook at all (a 12-digit account, a 64-hex
/// id): anything else is answered without a store read.
pub(crate) fn well_formed(post: &WebhookPost) -> bool {
    post.account_id.len() == 12
        && post.account_id.bytes().all(|b| b.is_ascii_digit())
        && post.id.len() == 64
        && post.id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Lets the POST in as the webhook's authentication says, or answers why not.
pub(crate) fn admit(row: &WebhookRow, seal: &TokenSeal, post: &WebhookPost) -> Result<(), WebhookAnswer> {
    let Some(auth) = super::authentication(row, seal) else {
        tracing::error!(webhook = %row.name, account = %row.account_id, "a stored webhook's authentication does not read back");
        return Err(WebhookAnswer::message(500, "The webhook cannot authenticate requests; put it again"));
    };
    let presented = Presented {
        sha256: post.signature_sha256.as_deref(),
        sha1: post.signature_sha1.as_deref(),
        peer: post.peer,
        body: &post.body,
    };
    auth.admit(&presented).map_err(|refused| match refused {
        Refused::Signature(why) => WebhookAnswer::message(401, format!("Not authenticated: {why}")),
        Refused::Address => {
            WebhookAnswer::message(403, format!("Not authenticated: {} is outside the allowed range", post.peer))
        }
    })
}

/// What a POST that was let in comes to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// An execution started.
    Started(String),
    /// Nothing started; the answer says why.
    Answer(WebhookAnswer),
}

/// Checks the body against the webhook's filters and starts its pipeline,
/// in one transaction (the webhook is read again: one replaced or deleted
/// since it was let in decides with what it is now).
pub(crate) fn start(tx: &mut dyn Tx, row: &WebhookRow, body: &Value, region: &str, now: Millis) -> Res<Outcome> {
    let Some(row) = tx.webhook_by_id(&row.account_id, &row.id)? else {
        return Ok(Outcome::Answer(WebhookAnswer::not_found()));
    };
    let definition = &row.definition;
    let pipeline = definition.get("targetPipeline").and_then(Value::as_str).unwrap_or_default();
    let action = definition.get("targetAction").and_then(Value::as_str).unwrap_or_default();
    let Some(p) = tx.get_pipeline(&row.account_id, pipeline)? else {
        return Ok(Outcome::Answer(WebhookAnswer::message(
            404,
            format!("The webhook's pipeline '{pipeline}' does not exist"),
        )));
    };
    let plan = crate::pipelines::plan(&p.declaration, region)?;
    let Some(configuration) =
        plan.stages.first().and_then(|s| s.actions.iter().find(|a| a.name == action)).map(|a| &a.configuration)
    else {
        return Ok(Outcome::Answer(WebhookAnswer::message(
            404,
            format!("The webhook's action '{action}' is no longer in the first stage of pipeline '{pipeline}'"),
        )));
    };
    for (i, f) in super::filters(&row).iter().enumerate() {
        if !f.passes(body, configuration) {
            let wanted = f.match_equals.as_deref().map_or_else(|| "anything".to_owned(), |m| format!("'{m}'"));
            return Ok(Outcome::Answer(WebhookAnswer {
                status: 200,
                body: json!({"message": format!(
                    "The body does not pass filter {} ({} must select {wanted}): no execution was started",
                    i + 1,
                    f.json_path
                )}),
            }));
        }
    }
    let caller = Caller { account_id: row.account_id.clone(), access_key_id: String::new() };
    let how = Begin {
        variables: crate::pipeline_rules::start_variables(&p.declaration, &json!({}))?,
        token: None,
        trigger_type: Some("Webhook".into()),
        trigger_detail: Some(super::arn(region, &row.account_id, &row.name)),
        given_revisions: vec![],
    };
    let run = executions::begin(tx, &caller, &p, how, region, now)?;
    tx.webhook_triggered(&row.account_id, &row.name, &row.id, now)?;
    Ok(Outcome::Started(run.id))
}

/// The name of the pipeline a webhook starts.
pub(crate) fn target_pipeline(row: &WebhookRow) -> &str {
    row.definition.get("targetPipeline").and_then(Value::as_str).unwrap_or_default()
}

/// Reads the webhook a well-formed POST names.
pub(crate) fn find(tx: &mut dyn Tx, post: &WebhookPost) -> Res<Option<WebhookRow>> {
    Ok(tx.webhook_by_id(&post.account_id, &post.id)?)
}
