//! Secret configuration values: the values of an action type's secret
//! properties (`secret: true` on custom types, `noEcho: true` on third-party
//! ones), as AWS documents them: "hidden from all calls except for
//! GetJobDetails, GetThirdPartyJobDetails, PollForJobs, and
//! PollForThirdPartyJobs".
//!
//! Invariant: a declaration or configuration that leaves the service outside
//! job data goes through [`Secrets::mask_declaration`] or
//! [`Secrets::mask`] first, so a secret value shows as [`MASK`]; an update that
//! sends [`MASK`] back for a secret of the same action (same stage, name and
//! type) keeps the stored value ([`keep_secrets`]), so the get, edit, update
//! round trip never replaces a secret with its mask.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::action_types::{ActionTypeDef, ActionTypeId};
use crate::fail::Res;
use crate::store::Tx;

/// What a secret value shows as (what AWS's `GetPipeline` shows).
pub(crate) const MASK: &str = "****";

/// Whether a value sent in an update is the mask: `****` as `GetPipeline`
/// shows it, or `*****` as AWS's documentation of `secret` spells it.
fn is_mask(v: &Value) -> bool {
    matches!(v.as_str(), Some("****" | "*****"))
}

/// The secret property names of the action types one answer meets, each
/// type read once. A type is read even when deleted (a deleted custom type
/// keeps its row), so older versions and executions stay masked.
pub(crate) struct Secrets<'a> {
    /// The pipeline's account (custom types are per account).
    account: &'a str,
    known: HashMap<String, Vec<String>>,
}

impl<'a> Secrets<'a> {
    /// For the pipelines of `account`.
    pub(crate) fn new(account: &'a str) -> Secrets<'a> {
        Secrets { account, known: HashMap::new() }
    }

    /// The secret property names of `id`.
    fn names(&mut self, tx: &mut dyn Tx, id: &ActionTypeId) -> Res<&[String]> {
        let key = id.key(self.account);
        if !self.known.contains_key(&key) {
            // AWS-owned types have no secret properties.
            let names = match id.owner.as_str() {
                "AWS" => vec![],
                _ => match tx.get_action_type(&key)? {
                    Some(doc) => secret_names(&ActionTypeDef::from_doc(&doc)?),
                    None => vec![],
                },
            };
            self.known.insert(key.clone(), names);
        }
        Ok(&self.known[&key])
    }

    /// Masks the secret values of one action's configuration.
    pub(crate) fn mask(
        &mut self,
        tx: &mut dyn Tx,
        id: &ActionTypeId,
        configuration: &mut Map<String, Value>,
    ) -> Res<()> {
        for name in self.names(tx, id)? {
            if let Some(v) = configuration.get_mut(name) {
                *v = Value::String(MASK.into());
            }
        }
        Ok(())
    }

    /// Masks the secret values of every action of a pipeline declaration.
    pub(crate) fn mask_declaration(&mut self, tx: &mut dyn Tx, declaration: &mut Value) -> Res<()> {
        for action in actions_mut(declaration) {
            let Some(Ok(id)) = action.get("actionTypeId").map(ActionTypeId::from_json) else { continue };
            if let Some(Value::Object(configuration)) = action.get_mut("configuration") {
                self.mask(tx, &id, configuration)?;
            }
        }
        Ok(())
    }
}

/// The names of a type's secret properties.
pub(crate) fn secret_names(def: &ActionTypeDef) -> Vec<String> {
    def.properties.iter().filter(|p| p.secret).map(|p| p.name.clone()).collect()
}

/// Every action of a declaration, mutable.
fn actions_mut(declaration: &mut Value) -> impl Iterator<Item = &mut Value> {
    declaration
        .get_mut("stages")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get_mut("actions").and_then(Value::as_array_mut))
        .flatten()
}

/// Puts back the stored value of every secret that an update sends as the
/// mask, for an action that keeps its stage, name and type and had a value
/// for that property. A mask anywhere else (a new action, a changed type, a
/// property that is not secret or had no value) is stored as sent: it is
/// what the caller wrote.
pub(crate) fn keep_secrets(tx: &mut dyn Tx, account: &str, old: &Value, new: &mut Value) -> Res<()> {
    let mut secrets = Secrets::new(account);
    for stage in new.get_mut("stages").and_then(Value::as_array_mut).into_iter().flatten() {
        let stage_name = stage.get("name").and_then(Value::as_str).map(str::to_owned);
        let old_actions = old
            .get("stages")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find(|s| s.get("name").and_then(Value::as_str) == stage_name.as_deref()))
            .and_then(|s| s.get("actions"))
            .and_then(Value::as_array);
        for action in stage.get_mut("actions").and_then(Value::as_array_mut).into_iter().flatten() {
            let (name, type_id) = (action.get("name"), action.get("actionTypeId"));
            let Some(before) =
                old_actions.and_then(|l| l.iter().find(|a| a.get("name") == name && a.get("actionTypeId") == type_id))
            else {
                continue;
            };
            let Some(Ok(id)) = type_id.map(ActionTypeId::from_json) else { continue };
            let secret = secrets.names(tx, &id)?.to_vec();
            let Some(Value::Object(configuration)) = action.get_mut("configuration") else { continue };
            for name in secret {
                let stored = before.get("configuration").and_then(|c| c.get(&name));
                if let (Some(v), Some(stored)) = (configuration.get_mut(&name), stored)
                    && is_mask(v)
                {
                    *v = stored.clone();
                }
            }
        }
    }
    Ok(())
}
