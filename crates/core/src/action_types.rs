//! Action types: the AWS-owned ones cpjobs runs itself (Manual approval, S3 source), the
//! `ThirdParty` ones partners own (registered by the operator in
//! [`ServiceConfig`](crate::ServiceConfig)), and each account's `Custom` ones.
//!
//! Ownership rules kept here: a `Custom` type is visible to and usable by its
//! account only; a `ThirdParty` type is listed for everyone, updated only by its
//! owner, and polled only by its owner and its polling accounts; AWS-owned
//! types are never changed. A deleted custom type keeps its row, so its
//! version can never be re-created (as in AWS).

use crate::error_code::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::{ApiError, Caller};
use crate::config::{Quotas, ThirdPartyActionType};
use crate::fail::{Res, fail};
use crate::input::{opt_bool, opt_list, opt_str, req_obj, req_str};
use crate::paging::{decode_token, encode_token};
use crate::store::{Doc, Tx};

/// Default job timeout of an action type, in seconds.
pub const DEFAULT_JOB_TIMEOUT_SECONDS: u64 = 3600;

/// How many action types one `ListActionTypes` page holds.
const LIST_PAGE: usize = 50;

/// `{category, owner, provider, version}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionTypeId {
    /// `Source`, `Build`, ...
    pub category: String,
    /// `AWS`, `ThirdParty` or `Custom`.
    pub owner: String,
    /// Provider name.
    pub provider: String,
    /// Version.
    pub version: String,
}

impl ActionTypeId {
    /// Reads an `ActionTypeId` structure.
    pub(crate) fn from_json(v: &Value) -> Res<ActionTypeId> {
        Ok(ActionTypeId {
            category: req_str(v, "category")?.to_owned(),
            owner: req_str(v, "owner")?.to_owned(),
            provider: req_str(v, "provider")?.to_owned(),
            version: req_str(v, "version")?.to_owned(),
        })
    }

    /// The wire form.
    pub fn to_json(&self) -> Value {
        json!({"category": self.category, "owner": self.owner, "provider": self.provider, "version": self.version})
    }

    /// The store key and job queue name. Custom types are per account, so two
    /// accounts' `Custom/Build/X/1` are different queues.
    pub fn key(&self, account_id: &str) -> String {
        if self.owner == "Custom" {
            format!("Custom/{account_id}/{}/{}/{}", self.category, self.provider, self.version)
        } else {
            format!("{}/{}/{}/{}", self.owner, self.category, self.provider, self.version)
        }
    }

    /// How messages name it, in AWS's style.
    pub fn describe(&self) -> String {
        format!(
            "ActionType (Category: '{}', Provider: '{}', Owner: '{}', Version: '{}')",
            self.category, self.provider, self.owner, self.version
        )
    }

    /// Whether this is the AWS Manual approval action.
    pub fn is_manual_approval(&self) -> bool {
        self.owner == "AWS" && self.category == "Approval" && self.provider == "Manual" && self.version == "1"
    }

    /// Whether this is the AWS S3 source action (the service copies the object itself).
    pub fn is_s3_source(&self) -> bool {
        self.owner == "AWS" && self.category == "Source" && self.provider == "S3" && self.version == "1"
    }
}

/// One configuration property of an action type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyDef {
    /// Property name (the configuration key).
    pub name: String,
    /// Must be present in every action's configuration.
    pub required: bool,
    /// Part of the action's identity.
    pub key: bool,
    /// Hidden from non-owners (`noEcho`).
    pub secret: bool,
    /// Usable in `PollForJobs` `queryParam`.
    pub queryable: bool,
    /// Free text.
    pub description: Option<String>,
    /// `String`, `Number` or `Boolean` (custom types only).
    pub kind: Option<String>,
}

/// Minimum and maximum number of artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactCounts {
    /// Minimum count.
    pub min: i64,
    /// Maximum count.
    pub max: i64,
}

/// An action type's definition, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionTypeDef {
    /// Its identifier.
    pub id: ActionTypeId,
    /// The owning account (the partner for `ThirdParty`, the customer for `Custom`).
    pub account_id: String,
    /// Free text.
    pub description: Option<String>,
    /// Configuration properties.
    pub properties: Vec<PropertyDef>,
    /// Input artifact counts.
    pub input: ArtifactCounts,
    /// Output artifact counts.
    pub output: ArtifactCounts,
    /// `configurationUrl` / `thirdPartyConfigurationUrl`.
    pub configuration_url: Option<String>,
    /// `entityUrlTemplate`.
    pub entity_url_template: Option<String>,
    /// `executionUrlTemplate`.
    pub execution_url_template: Option<String>,
    /// `revisionUrlTemplate`.
    pub revision_url_template: Option<String>,
    /// Accounts (besides the owner) that may poll for its jobs.
    pub polling_accounts: Vec<String>,
    /// Accounts that may use it in pipelines; empty means every account.
    pub allowed_accounts: Vec<String>,
    /// Job timeout in seconds.
    pub job_timeout_seconds: u64,
    /// Tags given at creation before schema version 4 of the SQLite store,
    /// which moved them to the store's tags ([`Tx::put_tags`]); always
    /// `null` since. Kept so stored bodies still read.
    pub tags: Value,
    /// Deleted (custom types); kept so the version is never reused.
    pub deleted: bool,
}

impl ActionTypeDef {
    /// Whether `account` may poll for (and work on) this type's jobs.
    pub fn may_poll(&self, account: &str) -> bool {
        self.account_id == account
            || (self.id.owner == "ThirdParty" && self.polling_accounts.iter().any(|a| a == account))
    }

    /// Whether `account` may use this type in its pipelines.
    pub fn may_use(&self, account: &str) -> bool {
        match self.id.owner.as_str() {
            "Custom" => self.account_id == account,
            _ => self.allowed_accounts.is_empty() || self.allowed_accounts.iter().any(|a| a == account),
        }
    }

    /// The queryable property, if the type has one.
    pub fn queryable(&self) -> Option<&PropertyDef> {
        self.properties.iter().find(|p| p.queryable)
    }

    /// The `ActionType` wire shape (`ListActionTypes`, `CreateCustomActionType`).
    pub fn to_action_type(&self) -> Value {
        let mut settings = Map::new();
        for (k, v) in [
            ("thirdPartyConfigurationUrl", &self.configuration_url),
            ("entityUrlTemplate", &self.entity_url_template),
            ("executionUrlTemplate", &self.execution_url_template),
            ("revisionUrlTemplate", &self.revision_url_template),
        ] {
            if let Some(v) = v {
                settings.insert(k.into(), json!(v));
            }
        }
        let props: Vec<Value> = self
            .properties
            .iter()
            .map(|p| {
                let mut o = json!({"name": p.name, "required": p.required, "key": p.key, "secret": p.secret, "queryable": p.queryable});
                if let Some(d) = &p.description {
                    o["description"] = json!(d);
                }
                if let Some(t) = &p.kind {
                    o["type"] = json!(t);
                }
                o
            })
            .collect();
        let mut out = json!({"id": self.id.to_json()});
        if !settings.is_empty() {
            out["settings"] = Value::Object(settings);
        }
        out["actionConfigurationProperties"] = json!(props);
        out["inputArtifactDetails"] = json!({"minimumCount": self.input.min, "maximumCount": self.input.max});
        out["outputArtifactDetails"] = json!({"minimumCount": self.output.min, "maximumCount": self.output.max});
        out
    }

    /// The `ActionTypeDeclaration` wire shape (`GetActionType`).
    pub fn to_declaration(&self) -> Value {
        let mut out = Map::new();
        if let Some(d) = &self.description {
            out.insert("description".into(), json!(d));
        }
        let mut polling = self.polling_accounts.clone();
        if self.id.owner == "ThirdParty" && !polling.contains(&self.account_id) {
            polling.insert(0, self.account_id.clone());
        }
        out.insert(
            "executor".into(),
            json!({
                "configuration": {"jobWorkerExecutorConfiguration": {"pollingAccounts": polling}},
                "type": "JobWorker",
                "jobTimeout": self.job_timeout_seconds,
            }),
        );
        out.insert("id".into(), self.id.to_json());
        out.insert(
            "inputArtifactDetails".into(),
            json!({"minimumCount": self.input.min, "maximumCount": self.input.max}),
        );
        out.insert(
            "outputArtifactDetails".into(),
            json!({"minimumCount": self.output.min, "maximumCount": self.output.max}),
        );
        if !self.allowed_accounts.is_empty() {
            out.insert("permissions".into(), json!({"allowedAccounts": self.allowed_accounts}));
        }
        let props: Vec<Value> = self
            .properties
            .iter()
            .map(|p| {
                let mut o = json!({"name": p.name, "optional": !p.required, "key": p.key, "noEcho": p.secret, "queryable": p.queryable});
                if let Some(d) = &p.description {
                    o["description"] = json!(d);
                }
                o
            })
            .collect();
        out.insert("properties".into(), json!(props));
        let mut urls = Map::new();
        for (k, v) in [
            ("configurationUrl", &self.configuration_url),
            ("entityUrlTemplate", &self.entity_url_template),
            ("executionUrlTemplate", &self.execution_url_template),
            ("revisionUrlTemplate", &self.revision_url_template),
        ] {
            if let Some(v) = v {
                urls.insert(k.into(), json!(v));
            }
        }
        if !urls.is_empty() {
            out.insert("urls".into(), Value::Object(urls));
        }
        Value::Object(out)
    }

    pub(crate) fn from_doc(doc: &Doc) -> Res<ActionTypeDef> {
        ActionTypeDef::deserialize(&doc.body)
            .map_err(|e| crate::store::StoreError::Backend(format!("stored action type is unreadable: {e}")).into())
    }

    fn to_body(&self) -> Value {
        serde_json::to_value(self).expect("action type serializes")
    }
}

/// The AWS-owned action types cpjobs runs itself.
pub fn builtin_action_types() -> Vec<ActionTypeDef> {
    let prop = |name: &str| PropertyDef {
        name: name.into(),
        required: false,
        key: false,
        secret: false,
        queryable: false,
        description: None,
        kind: Some("String".into()),
    };
    let approval = ActionTypeDef {
        id: ActionTypeId {
            category: "Approval".into(),
            owner: "AWS".into(),
            provider: "Manual".into(),
            version: "1".into(),
        },
        account_id: String::new(),
        description: Some("Manual approval: waits for PutApprovalResult.".into()),
        properties: vec![prop("CustomData"), prop("ExternalEntityLink"), prop("NotificationArn")],
        input: ArtifactCounts { min: 0, max: 0 },
        output: ArtifactCounts { min: 0, max: 0 },
        configuration_url: None,
        entity_url_template: None,
        execution_url_template: None,
        revision_url_template: None,
        polling_accounts: vec![],
        allowed_accounts: vec![],
        job_timeout_seconds: 7 * 24 * 3600,
        tags: Value::Null,
        deleted: false,
    };
    let s3_source = ActionTypeDef {
        id: ActionTypeId { category: "Source".into(), owner: "AWS".into(), provider: "S3".into(), version: "1".into() },
        description: Some(
            "S3 source: the object S3Bucket/S3ObjectKey of the built-in store becomes the output artifact.".into(),
        ),
        properties: vec![
            PropertyDef { required: true, ..prop("S3Bucket") },
            PropertyDef { required: true, ..prop("S3ObjectKey") },
            // Accepted for compatibility; cpjobs starts executions only on request.
            prop("PollForSourceChanges"),
        ],
        input: ArtifactCounts { min: 0, max: 0 },
        output: ArtifactCounts { min: 1, max: 1 },
        job_timeout_seconds: 3600,
        ..approval.clone()
    };
    vec![approval, s3_source]
}

/// A URL template with each `{Config:Name}` replaced by the action's
/// configuration value (placeholders of properties not configured are kept).
/// Secret properties of `def` are never filled in: the URL is shown to
/// anyone who may read the pipeline, so their placeholders stay as they are.
pub(crate) fn fill_config(template: &str, configuration: Option<&Value>, def: &ActionTypeDef) -> String {
    let mut url = template.to_owned();
    for (k, v) in configuration.and_then(Value::as_object).into_iter().flatten() {
        if def.properties.iter().any(|p| p.secret && &p.name == k) {
            continue;
        }
        if let Some(v) = v.as_str() {
            url = url.replace(&format!("{{Config:{k}}}"), v);
        }
    }
    url
}

/// Finds a usable (not deleted) action type as `account` sees it.
pub(crate) fn find(tx: &mut dyn Tx, id: &ActionTypeId, account: &str) -> Res<Option<ActionTypeDef>> {
    if id.owner == "AWS" {
        return Ok(builtin_action_types().into_iter().find(|d| &d.id == id));
    }
    match tx.get_action_type(&id.key(account))? {
        Some(doc) => {
            let def = ActionTypeDef::from_doc(&doc)?;
            Ok((!def.deleted).then_some(def))
        }
        None => Ok(None),
    }
}

/// Registers (or refreshes) the operator's third-party action types. The
/// operator is the authority for owner, polling accounts and job timeout;
/// what the partner set with `UpdateActionType` is kept. Stored third-party
/// types the configuration no longer lists are marked deleted.
pub(crate) fn seed_third_party(tx: &mut dyn Tx, types: &[ThirdPartyActionType]) -> Res<()> {
    let mut wanted = Vec::new();
    for t in types {
        let id = ActionTypeId {
            category: t.category.clone(),
            owner: "ThirdParty".into(),
            provider: t.provider.clone(),
            version: t.version.clone(),
        };
        let key = id.key(&t.owner_account);
        wanted.push(key.clone());
        let timeout = if t.job_timeout_seconds == 0 { DEFAULT_JOB_TIMEOUT_SECONDS } else { t.job_timeout_seconds };
        match tx.get_action_type(&key)? {
            None => {
                let def = ActionTypeDef {
                    id,
                    account_id: t.owner_account.clone(),
                    description: None,
                    properties: vec![],
                    input: ArtifactCounts { min: 0, max: 5 },
                    output: ArtifactCounts { min: 0, max: 5 },
                    configuration_url: None,
                    entity_url_template: None,
                    execution_url_template: None,
                    revision_url_template: None,
                    polling_accounts: t.polling_accounts.clone(),
                    allowed_accounts: vec![],
                    job_timeout_seconds: timeout,
                    tags: Value::Null,
                    deleted: false,
                };
                tx.insert_action_type(&key, &def.account_id, "ThirdParty", &def.to_body())?;
            }
            Some(doc) => {
                let mut def = ActionTypeDef::from_doc(&doc)?;
                let before = def.clone();
                def.account_id = t.owner_account.clone();
                def.polling_accounts = t.polling_accounts.clone();
                def.job_timeout_seconds = timeout;
                def.deleted = false;
                if def != before && !tx.update_action_type(&key, doc.revision, &def.to_body())? {
                    return crate::fail::lost_race("action type");
                }
            }
        }
    }
    for doc in tx.list_action_types("")? {
        let mut def = ActionTypeDef::from_doc(&doc)?;
        let key = def.id.key(&def.account_id);
        if def.id.owner == "ThirdParty" && !def.deleted && !wanted.contains(&key) {
            def.deleted = true;
            if !tx.update_action_type(&key, doc.revision, &def.to_body())? {
                return crate::fail::lost_race("action type");
            }
        }
    }
    Ok(())
}

fn not_found(id: &ActionTypeId) -> ApiError {
    ApiError::client(ErrorCode::ActionTypeNotFoundException, format!("{} was not found.", id.describe()))
}

/// `CreateCustomActionType`.
pub(crate) fn create_custom(tx: &mut dyn Tx, caller: &Caller, input: &Value, quotas: &Quotas) -> Res<Value> {
    let id = ActionTypeId {
        category: req_str(input, "category")?.to_owned(),
        owner: "Custom".into(),
        provider: req_str(input, "provider")?.to_owned(),
        version: req_str(input, "version")?.to_owned(),
    };
    let counts = |name: &str| -> Res<ArtifactCounts> {
        let o = req_obj(input, name)?;
        let n = |k: &str| o.get(k).and_then(Value::as_i64);
        match (n("minimumCount"), n("maximumCount")) {
            (Some(min), Some(max)) if min <= max => Ok(ArtifactCounts { min, max }),
            (Some(_), Some(_)) => {
                fail(ErrorCode::ValidationException, format!("{name}: minimumCount must not exceed maximumCount"))
            }
            _ => fail(ErrorCode::ValidationException, format!("{name} needs minimumCount and maximumCount")),
        }
    };
    let (input_counts, output_counts) = (counts("inputArtifactDetails")?, counts("outputArtifactDetails")?);
    let tags = crate::tags::read_tags(input, "tags")?;
    let mut properties = Vec::new();
    for p in opt_list(input, "configurationProperties")? {
        let flag = |k: &str| -> Res<bool> {
            match opt_bool(p, k)? {
                Some(b) => Ok(b),
                None if k == "queryable" => Ok(false),
                None => fail(ErrorCode::ValidationException, format!("configurationProperties.{k} is required")),
            }
        };
        let prop = PropertyDef {
            name: req_str(p, "name")?.to_owned(),
            required: flag("required")?,
            key: flag("key")?,
            secret: flag("secret")?,
            queryable: flag("queryable")?,
            description: opt_str(p, "description")?.map(str::to_owned),
            kind: opt_str(p, "type")?.map(str::to_owned),
        };
        if properties.iter().any(|q: &PropertyDef| q.name == prop.name) {
            return fail(
                ErrorCode::ValidationException,
                format!("Configuration property '{}' is declared more than once", prop.name),
            );
        }
        if prop.queryable && (!prop.required || prop.secret) {
            return fail(
                ErrorCode::ValidationException,
                format!("Queryable configuration property '{}' must be required and not secret", prop.name),
            );
        }
        properties.push(prop);
    }
    if properties.iter().filter(|p| p.queryable).count() > 1 {
        return fail(
            ErrorCode::ValidationException,
            "An action type can have at most one queryable configuration property",
        );
    }
    let settings = input.get("settings").cloned().unwrap_or(Value::Null);
    let setting = |k: &str| settings.get(k).and_then(Value::as_str).map(str::to_owned);
    let def = ActionTypeDef {
        id: id.clone(),
        account_id: caller.account_id.clone(),
        description: None,
        properties,
        input: input_counts,
        output: output_counts,
        configuration_url: setting("thirdPartyConfigurationUrl"),
        entity_url_template: setting("entityUrlTemplate"),
        execution_url_template: setting("executionUrlTemplate"),
        revision_url_template: setting("revisionUrlTemplate"),
        polling_accounts: vec![],
        allowed_accounts: vec![],
        job_timeout_seconds: DEFAULT_JOB_TIMEOUT_SECONDS,
        tags: Value::Null,
        deleted: false,
    };
    let key = id.key(&caller.account_id);
    if let Some(doc) = tx.get_action_type(&key)? {
        let old = ActionTypeDef::from_doc(&doc)?;
        return if old.deleted {
            fail(
                ErrorCode::ValidationException,
                format!(
                    "{} was deleted; a deleted custom action type cannot be re-created: use a new version",
                    id.describe()
                ),
            )
        } else {
            fail(ErrorCode::ValidationException, format!("{} already exists", id.describe()))
        };
    }
    let limit = quotas.custom_action_types_per_account;
    let mut live = 0;
    for doc in tx.list_action_types(&caller.account_id)? {
        let def = ActionTypeDef::from_doc(&doc)?;
        live += usize::from(def.id.owner == "Custom" && def.account_id == caller.account_id && !def.deleted);
    }
    if live >= limit {
        return fail(
            ErrorCode::LimitExceededException,
            format!(
                "The number of custom action types associated with the account '{}' has reached the limit of {limit} allowed for the account",
                caller.account_id
            ),
        );
    }
    if !tx.insert_action_type(&key, &caller.account_id, "Custom", &def.to_body())? {
        return crate::fail::lost_race("action type");
    }
    tx.put_tags(&crate::tags::action_type_key(&key), &tags)?;
    let mut out = json!({"actionType": def.to_action_type()});
    if input.get("tags").is_some() {
        out["tags"] = crate::tags::to_json(&tags);
    }
    Ok(out)
}

/// `DeleteCustomActionType`.
pub(crate) fn delete_custom(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let id = ActionTypeId {
        category: req_str(input, "category")?.to_owned(),
        owner: "Custom".into(),
        provider: req_str(input, "provider")?.to_owned(),
        version: req_str(input, "version")?.to_owned(),
    };
    let key = id.key(&caller.account_id);
    let Some(doc) = tx.get_action_type(&key)? else { return Err(not_found(&id).into()) };
    let mut def = ActionTypeDef::from_doc(&doc)?;
    if def.deleted {
        return Err(not_found(&id).into());
    }
    def.deleted = true;
    if !tx.update_action_type(&key, doc.revision, &def.to_body())? {
        return crate::fail::lost_race("action type");
    }
    // Its tags go with it (the row stays, so the version is never re-created).
    tx.drop_tags(&crate::tags::action_type_key(&key))?;
    Ok(json!({}))
}

/// `ListActionTypes`: AWS-owned, then stored types in key order; the token is
/// the last key of the previous page.
pub(crate) fn list(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let filter = opt_str(input, "actionOwnerFilter")?;
    let after = opt_str(input, "nextToken")?.map(decode_token).transpose()?;
    let mut all: Vec<(String, ActionTypeDef)> =
        builtin_action_types().into_iter().map(|d| (format!("0/{}", d.id.key("")), d)).collect();
    for doc in tx.list_action_types(&caller.account_id)? {
        let def = ActionTypeDef::from_doc(&doc)?;
        if !def.deleted {
            all.push((format!("1/{}", def.id.key(&def.account_id)), def));
        }
    }
    let mut page = Vec::new();
    let mut last = None;
    let mut more = false;
    for (pos, def) in all {
        if after.as_deref().is_some_and(|a| pos.as_str() <= a) || filter.is_some_and(|f| f != def.id.owner) {
            continue;
        }
        if page.len() == LIST_PAGE {
            more = true;
            break;
        }
        page.push(def.to_action_type());
        last = Some(pos);
    }
    let mut out = json!({"actionTypes": page});
    if let (true, Some(last)) = (more, last) {
        out["nextToken"] = json!(encode_token(&last));
    }
    Ok(out)
}

/// `GetActionType`.
pub(crate) fn get(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let id = ActionTypeId::from_json(input)?;
    match find(tx, &id, &caller.account_id)? {
        Some(def) if def.account_id == caller.account_id || def.may_use(&caller.account_id) => {
            Ok(json!({"actionType": def.to_declaration()}))
        }
        _ => Err(not_found(&id).into()),
    }
}

/// `UpdateActionType`: only the owner of a `ThirdParty` type may update it,
/// and the operator's settings (polling accounts, job timeout) stay the
/// operator's.
pub(crate) fn update(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let decl = input.get("actionType").cloned().unwrap_or(Value::Null);
    let id = ActionTypeId::from_json(decl.get("id").unwrap_or(&Value::Null))?;
    if id.owner == "AWS" {
        return fail(
            ErrorCode::RequestFailedException,
            format!("{} is owned by AWS and cannot be updated", id.describe()),
        );
    }
    let key = id.key(&caller.account_id);
    let doc = match tx.get_action_type(&key)? {
        Some(doc) => doc,
        None => return Err(not_found(&id).into()),
    };
    let mut def = ActionTypeDef::from_doc(&doc)?;
    if def.deleted || def.account_id != caller.account_id {
        return Err(not_found(&id).into());
    }
    let executor = decl.get("executor").cloned().unwrap_or(Value::Null);
    if executor.get("type").and_then(Value::as_str).is_some_and(|t| t != "JobWorker") {
        return fail(
            ErrorCode::ValidationException,
            "cpjobs runs job-worker action types only: executor.type must be JobWorker",
        );
    }
    if let Some(t) = executor.get("jobTimeout").and_then(Value::as_u64)
        && t != def.job_timeout_seconds
        && def.id.owner == "ThirdParty"
    {
        return fail(
            ErrorCode::ValidationException,
            "The job timeout of a third-party action type is set by the service operator; it cannot be changed with UpdateActionType",
        );
    }
    if let Some(accounts) =
        executor.pointer("/configuration/jobWorkerExecutorConfiguration/pollingAccounts").and_then(Value::as_array)
    {
        // Compared as sets without the owner: GetActionType lists the owner
        // first (it always polls) whether or not the operator listed it, and
        // the round trip get, edit, update sends that list back unchanged.
        let others = |l: &mut dyn Iterator<Item = &str>| -> std::collections::BTreeSet<String> {
            l.filter(|a| *a != def.account_id).map(str::to_owned).collect()
        };
        let given = others(&mut accounts.iter().filter_map(Value::as_str));
        let current = others(&mut def.polling_accounts.iter().map(String::as_str));
        if given != current {
            return fail(
                ErrorCode::ValidationException,
                "The polling accounts of a third-party action type are set by the service operator; they cannot be changed with UpdateActionType",
            );
        }
    }
    let counts = |name: &str| -> Res<ArtifactCounts> {
        let o = decl.get(name).cloned().unwrap_or(Value::Null);
        match (o.get("minimumCount").and_then(Value::as_i64), o.get("maximumCount").and_then(Value::as_i64)) {
            (Some(min), Some(max)) if min <= max => Ok(ArtifactCounts { min, max }),
            _ => fail(ErrorCode::ValidationException, format!("actionType.{name} needs minimumCount <= maximumCount")),
        }
    };
    def.input = counts("inputArtifactDetails")?;
    def.output = counts("outputArtifactDetails")?;
    def.description = opt_str(&decl, "description")?.map(str::to_owned);
    let mut properties: Vec<PropertyDef> = Vec::new();
    for p in opt_list(&decl, "properties")? {
        let flag = |k: &str| -> Res<bool> { Ok(opt_bool(p, k)?.unwrap_or(false)) };
        let prop = PropertyDef {
            name: req_str(p, "name")?.to_owned(),
            required: !flag("optional")?,
            key: flag("key")?,
            secret: flag("noEcho")?,
            queryable: flag("queryable")?,
            description: opt_str(p, "description")?.map(str::to_owned),
            kind: None,
        };
        if properties.iter().any(|q| q.name == prop.name) {
            return fail(
                ErrorCode::ValidationException,
                format!("Property '{}' is declared more than once", prop.name),
            );
        }
        properties.push(prop);
    }
    if properties.iter().filter(|p| p.queryable).count() > 1 {
        return fail(ErrorCode::ValidationException, "An action type can have at most one queryable property");
    }
    def.properties = properties;
    let urls = decl.get("urls").cloned().unwrap_or(Value::Null);
    let url = |k: &str| urls.get(k).and_then(Value::as_str).map(str::to_owned);
    def.configuration_url = url("configurationUrl");
    def.entity_url_template = url("entityUrlTemplate");
    def.execution_url_template = url("executionUrlTemplate");
    def.revision_url_template = url("revisionUrlTemplate");
    def.allowed_accounts = decl
        .pointer("/permissions/allowedAccounts")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if !tx.update_action_type(&key, doc.revision, &def.to_body())? {
        return crate::fail::lost_race("action type");
    }
    Ok(json!({}))
}
