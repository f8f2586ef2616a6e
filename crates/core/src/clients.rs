//! Third-party clients: each `ThirdParty` action in a customer's pipeline is
//! linked to one client (`clientId` + secret `clientToken`) that the service
//! creates with the pipeline. Polls hand out the `clientId`; every later call
//! on the job must present the matching `clientToken`.
//!
//! Invariant: a client exists exactly for each third-party action of each
//! stored pipeline, and keeps its token across pipeline updates as long as the
//! action keeps its name, stage and action type. Only the partner that owns the
//! action type can list the tokens (`ListThirdPartyClients`).

use crate::error_code::ErrorCode;
use serde_json::{Value, json};

use crate::action_types::{self, ActionTypeId};
use crate::api::{ApiError, Caller};
use crate::fail::{Res, fail};
use crate::ids::{secret, uuid};
use crate::input::opt_str;
use crate::paging::{decode_token, encode_token};
use crate::pipelines::Plan;
use crate::sealing::{TokenSeal, is_sealed};
use crate::store::{ClientRow, Millis, Tx};

/// How many clients one `ListThirdPartyClients` page holds.
const LIST_PAGE: usize = 100;

/// Creates the clients a pipeline's third-party actions need and deletes
/// those whose action is gone or changed type.
pub(crate) fn sync_pipeline(tx: &mut dyn Tx, tokens: &TokenSeal, account: &str, plan: &Plan, now: Millis) -> Res<()> {
    let existing = tx.clients_of_pipeline(account, &plan.name)?;
    let mut keep = Vec::new();
    for stage in &plan.stages {
        for a in stage.actions.iter().filter(|a| a.type_id.owner == "ThirdParty") {
            let Some(def) = action_types::find(tx, &a.type_id, account)? else { continue };
            let queue = a.type_id.key(account);
            if let Some(c) =
                existing.iter().find(|c| c.stage_name == stage.name && c.action_name == a.name && c.queue == queue)
            {
                keep.push(c.client_id.clone());
                continue;
            }
            let client_id = uuid();
            let c = ClientRow {
                client_token: tokens.seal(&client_id, &secret())?,
                client_id,
                owner_account: def.account_id.clone(),
                queue,
                account_id: account.to_owned(),
                pipeline_name: plan.name.clone(),
                stage_name: stage.name.clone(),
                action_name: a.name.clone(),
                created: now,
            };
            keep.push(c.client_id.clone());
            tx.insert_client(&c)?;
        }
    }
    for c in existing.iter().filter(|c| !keep.contains(&c.client_id)) {
        tx.delete_client(&c.client_id)?;
    }
    Ok(())
}

/// The client linked to one action of a pipeline.
pub(crate) fn for_action(
    tx: &mut dyn Tx,
    account: &str,
    pipeline: &str,
    stage: &str,
    action: &str,
) -> Res<Option<ClientRow>> {
    Ok(tx
        .clients_of_pipeline(account, pipeline)?
        .into_iter()
        .find(|c| c.stage_name == stage && c.action_name == action))
}

/// `ListThirdPartyClients` (cpjobs extension): the partner's clients, with tokens.
pub(crate) fn list(tx: &mut dyn Tx, tokens: &TokenSeal, caller: &Caller, input: &Value) -> Res<Value> {
    let queue = match input.get("actionTypeId") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let id = ActionTypeId::from_json(v)?;
            match action_types::find(tx, &id, &caller.account_id)? {
                Some(def) if def.id.owner == "ThirdParty" && def.account_id == caller.account_id => Some(id.key("")),
                _ => {
                    return fail(ErrorCode::ActionTypeNotFoundException, format!("{} was not found.", id.describe()));
                }
            }
        }
    };
    let after = opt_str(input, "nextToken")?.map(decode_token).transpose()?;
    let mut rows = tx.list_clients(&caller.account_id, queue.as_deref(), after.as_deref(), LIST_PAGE + 1)?;
    let more = rows.len() > LIST_PAGE;
    rows.truncate(LIST_PAGE);
    let mut clients = Vec::with_capacity(rows.len());
    for c in &rows {
        let Some(token) = tokens.open(&c.client_id, &c.client_token) else {
            return Err(ApiError::internal(format!(
                "The token of client {} cannot be read: was the service key replaced?",
                c.client_id
            ))
            .into());
        };
        clients.push(json!({
            "clientId": c.client_id,
            "clientToken": token,
            "accountId": c.account_id,
            "pipelineName": c.pipeline_name,
            "stageName": c.stage_name,
            "actionName": c.action_name,
        }));
    }
    let mut out = json!({"clients": clients});
    if more && let Some(last) = rows.last() {
        out["nextToken"] = json!(encode_token(&last.client_id));
    }
    Ok(out)
}

/// Seals every client token still stored in clear (from before tokens were
/// sealed), a page of `limit` clients per call, those after `after` only;
/// returns the last client id looked at (`None`: done) and how many were sealed.
pub(crate) fn seal_clear_tokens(
    tx: &mut dyn Tx,
    tokens: &TokenSeal,
    after: Option<&str>,
    limit: usize,
) -> Res<(Option<String>, usize)> {
    let rows = tx.all_clients(after, limit)?;
    let mut sealed = 0;
    for c in rows.iter().filter(|c| !is_sealed(&c.client_token)) {
        tx.set_client_token(&c.client_id, &tokens.seal(&c.client_id, &c.client_token)?)?;
        sealed += 1;
    }
    let last = if rows.len() < limit { None } else { rows.last().map(|c| c.client_id.clone()) };
    Ok((last, sealed))
}
