//! What starts pipelines from outside the API: POSTs to webhooks' URLs and
//! new versions of objects that S3 sources watch. Each runs as an operation
//! does (store transactions retried on a lost race, failures logged where
//! they are converted) and then runs the S3 sources it started, as
//! `StartPipelineExecution` does.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::Service;
use crate::api::{ApiError, Caller};
use crate::input::millis;
use crate::source_changes;
use crate::store::Store;
use crate::webhooks;
use crate::webhooks::trigger::{WebhookAnswer, WebhookPost};

/// How the log names webhook POSTs.
const WEBHOOK: &str = "Webhook";
/// How the log names the starts of pipelines whose S3 source object changed.
const SOURCE_CHANGE: &str = "PollForSourceChanges";

impl<S: Store> Service<S> {
    /// Answers a POST to a webhook's URL (see [`crate::WebhookPost`]): lets it
    /// in as the webhook's authentication says, checks its body against the
    /// filters, and starts the pipeline. Blocks on the store.
    pub fn receive_webhook(&self, post: &WebhookPost, now: SystemTime) -> WebhookAnswer {
        let ms = millis(now);
        let failed = |e: ApiError| {
            if !e.is_internal() {
                tracing::warn!(operation = WEBHOOK, code = %e.code, message = %e.message, "a webhook POST failed");
            }
            let status = if e.is_internal() { 500 } else { 409 };
            WebhookAnswer::message(status, e.message)
        };
        if !webhooks::trigger::well_formed(post) {
            return WebhookAnswer::not_found();
        }
        let row = match self.txn(WEBHOOK, false, &mut |tx| webhooks::trigger::find(tx, post)) {
            Ok(Some(row)) => row,
            Ok(None) => return WebhookAnswer::not_found(),
            Err(e) => return failed(e),
        };
        if let Err(answer) = webhooks::trigger::admit(&row, &self.ctx.tokens, post) {
            return answer;
        }
        let Ok(body) = serde_json::from_slice::<Value>(&post.body) else {
            return WebhookAnswer::message(400, "The body is not JSON");
        };
        let caller = Caller { account_id: row.account_id.clone(), access_key_id: String::new() };
        let target = json!({"name": webhooks::trigger::target_pipeline(&row)});
        if let Err(e) = self.artifact_bucket_is_the_accounts(&caller, &target, "name") {
            return failed(e);
        }
        let region = &*self.ctx.region;
        match self.txn(WEBHOOK, true, &mut |tx| webhooks::trigger::start(tx, &row, &body, region, ms)) {
            Ok(webhooks::trigger::Outcome::Started(id)) => {
                // The S3 sources it started run now, as after StartPipelineExecution.
                let _ = self.then_sources(Ok(Value::Null), ms);
                WebhookAnswer { status: 200, body: json!({"pipelineExecutionId": id}) }
            }
            Ok(webhooks::trigger::Outcome::Answer(answer)) => answer,
            Err(e) => failed(e),
        }
    }

    /// Hears that a new version of `bucket`/`key` (a bucket of `account_id`)
    /// was written, and starts every pipeline of the account whose S3
    /// source watches it (see `source_changes`); the started executions'
    /// ids (an error only when none started). Blocks on the store and (for
    /// the sources' copies) the disk.
    pub fn object_written(
        &self,
        account_id: &str,
        bucket: &str,
        key: &str,
        now: SystemTime,
    ) -> Result<Vec<String>, ApiError> {
        let ms = millis(now);
        let region = &*self.ctx.region;
        let names =
            self.txn(SOURCE_CHANGE, false, &mut |tx| source_changes::watching(tx, account_id, bucket, key, region))?;
        let caller = Caller { account_id: account_id.to_owned(), access_key_id: String::new() };
        let mut started = Vec::new();
        let mut first_error = None;
        for name in names {
            // One pipeline that cannot start (its artifact bucket taken) keeps none of the others from starting.
            let one = self.artifact_bucket_is_the_accounts(&caller, &json!({"name": name}), "name").and_then(|()| {
                self.txn(SOURCE_CHANGE, true, &mut |tx| {
                    source_changes::start(tx, account_id, &name, bucket, key, region, ms)
                })
            });
            match one {
                Ok(id) => started.extend(id),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if !started.is_empty() {
            let _ = self.then_sources(Ok(Value::Null), ms);
        }
        match first_error {
            Some(e) if started.is_empty() => Err(e),
            Some(e) => {
                if !e.is_internal() {
                    tracing::warn!(operation = SOURCE_CHANGE, code = %e.code, message = %e.message, "a pipeline watching a new object did not start");
                }
                Ok(started)
            }
            None => Ok(started),
        }
    }
}
