//! Webhooks: `PutWebhook`, `ListWebhooks`, `DeleteWebhook`,
//! `RegisterWebhookWithThirdParty` and `DeregisterWebhookWithThirdParty`
//! (here), and the POSTs their URLs receive ([`trigger`]).
//!
//! A webhook belongs to an account and is named; its URL ends in a random id
//! (256 bits) that it keeps while it is replaced under its name and loses
//! when it is deleted (AWS: "If a deleted webhook is re-created ... it will
//! have a different URL"). The URL is made at each answer from the
//! service's public endpoint, so it follows the service when that moves.
//! A `SecretToken` is sealed at rest (as client tokens are) and answered
//! redacted (`****`), as AWS documents for `PutWebhook` and `ListWebhooks`.
//!
//! cpjobs has no third party to call: `RegisterWebhookWithThirdParty`
//! records that the webhook is registered and `Deregister...` that it is
//! not, and neither changes what the URL accepts (AWS's deregistration
//! removes the webhook from GitHub's side, and its URL keeps answering
//! whoever still knows it; here the partner sets the URL and secret up
//! itself). A webhook outlives its pipeline, as in AWS: POSTs answer that the
//! pipeline does not exist until one of that name is created again.

mod auth;
mod filters;
pub(crate) mod trigger;

use serde_json::{Map, Value, json};

use crate::api::Caller;
use crate::error_code::ErrorCode;
use crate::fail::{Res, fail};
use crate::ids::secret;
use crate::input::{opt_i64, opt_list, opt_str, req_obj, req_str, timestamp};
use crate::paging::{decode_token, encode_token};
use crate::pipelines;
use crate::sealing::TokenSeal;
use crate::store::{Millis, Tx, WebhookRow};
use crate::tags;

pub(crate) use auth::Authentication;
pub(crate) use filters::Filter;

/// AWS's quota of webhooks per account and region.
pub(crate) const MAX_WEBHOOKS: usize = 300;

/// `ListWebhooks` page size when `MaxResults` is not given (the model's maximum).
const LIST_PAGE: usize = 100;

/// What a secret token is answered as.
pub(crate) const REDACTED: &str = "****";

/// Where a webhook's POSTs go under the service's endpoint.
pub const URL_PATH: &str = "/webhooks/";

/// The ARN of an account's webhook.
pub(crate) fn arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:codepipeline:{region}:{account}:webhook:{name}")
}

/// The store's resource key of a webhook, for its tags.
pub(crate) fn tag_key(account: &str, name: &str) -> String {
    format!("webhook/{account}/{name}")
}

/// What the secret of webhook `id` is sealed to, so a sealed secret copied
/// to another webhook's row does not open.
fn sealed_for(account: &str, id: &str) -> String {
    format!("webhook/{account}/{id}")
}

/// The webhook's URL under the service's `endpoint`.
pub(crate) fn url(endpoint: &str, row: &WebhookRow) -> String {
    format!("{}{URL_PATH}{}/{}", endpoint.trim_end_matches('/'), row.account_id, row.id)
}

/// The configuration of action `action` of the first stage of the account's
/// pipeline `pipeline`: the actions a webhook may target (AWS: "The action
/// must be from the source (first) stage of the pipeline").
pub(crate) fn target_configuration(
    tx: &mut dyn Tx,
    account: &str,
    pipeline: &str,
    action: &str,
    region: &str,
) -> Res<Map<String, Value>> {
    let p = pipelines::load(tx, account, pipeline)?;
    let plan = pipelines::plan(&p.declaration, region)?;
    match plan.stages.first().and_then(|s| s.actions.iter().find(|a| a.name == action)) {
        Some(a) => Ok(a.configuration.clone()),
        None => fail(
            ErrorCode::ValidationException,
            format!("Action '{action}' is not an action of the first (source) stage of pipeline '{pipeline}'"),
        ),
    }
}

/// The webhook's authentication, its secret opened.
pub(crate) fn authentication(row: &WebhookRow, seal: &TokenSeal) -> Option<Authentication> {
    let kind = row.definition.get("authentication").and_then(Value::as_str)?;
    let mut config = row.definition.get("authenticationConfiguration").and_then(Value::as_object)?.clone();
    if let Some(Value::String(stored)) = config.get("SecretToken") {
        let open = seal.open(&sealed_for(&row.account_id, &row.id), stored)?;
        config.insert("SecretToken".into(), Value::String(open));
    }
    Authentication::from_definition(kind, &config).ok()
}

/// The webhook's filters.
pub(crate) fn filters(row: &WebhookRow) -> Vec<Filter> {
    row.definition
        .get("filters")
        .and_then(Value::as_array)
        .map(|f| f.iter().map(Filter::from_json).collect())
        .unwrap_or_default()
}

/// The `ListWebhookItem` of a webhook: its secret redacted, its tags.
fn item(tx: &mut dyn Tx, row: &WebhookRow, region: &str, endpoint: &str) -> Res<Value> {
    let mut definition = row.definition.clone();
    if let Some(token) = definition.pointer_mut("/authenticationConfiguration/SecretToken") {
        *token = json!(REDACTED);
    }
    let mut out = json!({
        "definition": definition,
        "url": url(endpoint, row),
        "arn": arn(region, &row.account_id, &row.name),
    });
    if let Some(at) = row.last_triggered {
        out["lastTriggered"] = timestamp(at);
    }
    let tags = tx.list_tags(&tag_key(&row.account_id, &row.name), None, usize::MAX)?;
    if !tags.is_empty() {
        out["tags"] = tags::to_json(&tags);
    }
    Ok(out)
}

/// `PutWebhook`: creates the webhook, or replaces the one of that name
/// (keeping its URL, registration and last trigger; given tags are added to
/// its tags as `TagResource` adds them).
pub(crate) fn put(
    tx: &mut dyn Tx,
    seal: &TokenSeal,
    caller: &Caller,
    input: &Value,
    region: &str,
    endpoint: &str,
    now: Millis,
) -> Res<Value> {
    let definition = Value::Object(req_obj(input, "webhook")?.clone());
    let name = req_str(&definition, "name")?;
    let pipeline = req_str(&definition, "targetPipeline")?;
    let action = req_str(&definition, "targetAction")?;
    let kind = req_str(&definition, "authentication")?;
    let auth = Authentication::from_definition(kind, req_obj(&definition, "authenticationConfiguration")?)?;
    let filters: Vec<Filter> = opt_list(&definition, "filters")?.iter().map(Filter::from_json).collect();
    let new_tags = tags::read_tags(input, "tags")?;
    let account = caller.account_id.as_str();
    let configuration = target_configuration(tx, account, pipeline, action, region)?;
    for f in &filters {
        f.check(&configuration)?;
    }
    let existing = tx.get_webhook(account, name)?;
    if existing.is_none() && tx.list_webhooks(account, None, MAX_WEBHOOKS)?.len() >= MAX_WEBHOOKS {
        return fail(
            ErrorCode::LimitExceededException,
            format!("The number of webhooks of the account '{account}' has reached the limit of {MAX_WEBHOOKS}"),
        );
    }
    let resource = tag_key(account, name);
    let had = tx.list_tags(&resource, None, usize::MAX)?;
    let added = new_tags.iter().filter(|t| !had.iter().any(|h| h.key == t.key)).count();
    if had.len() + added > tags::MAX_TAGS {
        return fail(ErrorCode::TooManyTagsException, format!("A resource can have at most {} tags", tags::MAX_TAGS));
    }
    let id = existing.as_ref().map_or_else(secret, |e| e.id.clone());
    let mut stored = definition.clone();
    if let Authentication::GithubHmac(token) = &auth {
        stored["authenticationConfiguration"]["SecretToken"] = json!(seal.seal(&sealed_for(account, &id), token)?);
    }
    let row = WebhookRow {
        account_id: account.to_owned(),
        name: name.to_owned(),
        id,
        definition: stored,
        registered: existing.as_ref().is_some_and(|e| e.registered),
        last_triggered: existing.as_ref().and_then(|e| e.last_triggered),
        created: existing.as_ref().map_or(now, |e| e.created),
        updated: now,
    };
    tx.put_webhook(&row)?;
    tx.put_tags(&resource, &new_tags)?;
    Ok(json!({"webhook": item(tx, &row, region, endpoint)?}))
}

/// `ListWebhooks`, by name; `MaxResults` 1..100 (default 100), the token the
/// last name of the previous page.
pub(crate) fn list(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str, endpoint: &str) -> Res<Value> {
    let limit = opt_i64(input, "MaxResults")?.map_or(LIST_PAGE, |n| n.clamp(1, LIST_PAGE as i64) as usize);
    let after = opt_str(input, "NextToken")?.map(decode_token).transpose()?;
    let mut rows = tx.list_webhooks(&caller.account_id, after.as_deref(), limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items = rows.iter().map(|r| item(tx, r, region, endpoint)).collect::<Res<Vec<_>>>()?;
    let mut out = json!({"webhooks": items});
    if more && let Some(last) = rows.last() {
        out["NextToken"] = json!(encode_token(&last.name));
    }
    Ok(out)
}

/// `DeleteWebhook`: succeeds for a webhook already deleted, as AWS documents.
pub(crate) fn delete(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let name = req_str(input, "name")?;
    tx.delete_webhook(&caller.account_id, name)?;
    tx.drop_tags(&tag_key(&caller.account_id, name))?;
    Ok(json!({}))
}

/// `RegisterWebhookWithThirdParty` (`registered`) and
/// `DeregisterWebhookWithThirdParty`: the state is recorded (see the module's
/// documentation); a webhook the account does not have is
/// `WebhookNotFoundException`.
pub(crate) fn register(tx: &mut dyn Tx, caller: &Caller, input: &Value, registered: bool, now: Millis) -> Res<Value> {
    // Optional in the model, but there is nothing to register without it.
    let Some(name) = opt_str(input, "webhookName")? else {
        return fail(ErrorCode::ValidationException, "webhookName is required: name the webhook to register");
    };
    let Some(mut row) = tx.get_webhook(&caller.account_id, name)? else {
        return fail(ErrorCode::WebhookNotFoundException, format!("Webhook '{name}' does not exist"));
    };
    row.registered = registered;
    row.updated = now;
    tx.put_webhook(&row)?;
    Ok(json!({}))
}
