//! Pipelines: declaration checks (AWS's structure rules and error names),
//! create / get / update (version bump) / delete / list, and the normalized
//! [`Plan`] the execution engine reads.
//!
//! Invariant: a stored declaration always passed [`validate`], so the engine
//! can rely on unique names, artifacts produced before they are consumed and
//! action types that existed when the pipeline was saved.

use crate::error_code::ErrorCode;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::action_types::{self, ActionTypeId};
use crate::api::Caller;
use crate::artifacts::ArtifactLocations;
use crate::clients;
use crate::config::Quotas;
use crate::fail::{Res, fail};
use crate::input::{opt_i64, opt_str, req_str, timestamp};
use crate::paging::{decode_token, encode_token};
use crate::sealing::TokenSeal;
use crate::secrets;
use crate::store::{Millis, PipelineRow, StoreError, Tx};

/// One action of a validated declaration.
#[derive(Debug, Clone)]
pub(crate) struct ActionPlan {
    /// Action name.
    pub(crate) name: String,
    /// Its type.
    pub(crate) type_id: ActionTypeId,
    /// Run order in its stage (default 1).
    pub(crate) run_order: i64,
    /// Configuration map.
    pub(crate) configuration: Map<String, Value>,
    /// Input artifact names.
    pub(crate) inputs: Vec<String>,
    /// Output artifact names.
    pub(crate) outputs: Vec<String>,
    /// The declaration as given (for `ListActionExecutions` input).
    pub(crate) raw: Value,
    /// The namespace its output variables are known by, if any.
    pub(crate) namespace: Option<String>,
    /// `timeoutInMinutes` (Manual approval only).
    pub(crate) timeout_minutes: Option<i64>,
}

/// One stage of a validated declaration.
#[derive(Debug, Clone)]
pub(crate) struct StagePlan {
    /// Stage name.
    pub(crate) name: String,
    /// Its actions in declaration order.
    pub(crate) actions: Vec<ActionPlan>,
    /// Its conditions (V2).
    pub(crate) conditions: crate::executions::conditions::StageConditions,
}

/// A validated declaration, as the engine reads it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Pipeline name.
    pub(crate) name: String,
    /// The artifact bucket.
    pub(crate) bucket: String,
    /// The artifact store's `encryptionKey`, if any.
    pub(crate) encryption_key: Option<Value>,
    /// Stages in order.
    pub(crate) stages: Vec<StagePlan>,
    /// `executionMode`: `SUPERSEDED` (the default), `QUEUED` or `PARALLEL`.
    pub(crate) mode: String,
}

/// Reads the artifact store the pipeline uses in `region`.
fn artifact_store<'a>(decl: &'a Value, region: &str) -> Res<&'a Value> {
    match (decl.get("artifactStore"), decl.get("artifactStores")) {
        (Some(_), Some(_)) => fail(
            ErrorCode::InvalidStructureException,
            "A pipeline can have either artifactStore or artifactStores, not both",
        ),
        (Some(s), None) => Ok(s),
        (None, Some(m)) => match m.get(region) {
            Some(s) => Ok(s),
            None => fail(
                ErrorCode::InvalidStructureException,
                format!("artifactStores has no artifact store for the pipeline's region {region}"),
            ),
        },
        (None, None) => {
            fail(ErrorCode::InvalidStructureException, "The pipeline has no artifact store: set artifactStore")
        }
    }
}

/// Builds the plan of a declaration (structure only; see [`validate`]).
pub(crate) fn plan(decl: &Value, region: &str) -> Res<Plan> {
    let store = artifact_store(decl, region)?;
    let mut stages = Vec::new();
    for s in decl.get("stages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let mut actions = Vec::new();
        for a in s.get("actions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            let names = |k: &str| -> Vec<String> {
                a.get(k)
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter().filter_map(|x| x.get("name").and_then(Value::as_str)).map(str::to_owned).collect()
                    })
                    .unwrap_or_default()
            };
            actions.push(ActionPlan {
                name: req_str(a, "name")?.to_owned(),
                type_id: ActionTypeId::from_json(a.get("actionTypeId").unwrap_or(&Value::Null))?,
                run_order: opt_i64(a, "runOrder")?.unwrap_or(1),
                configuration: a.get("configuration").and_then(Value::as_object).cloned().unwrap_or_default(),
                inputs: names("inputArtifacts"),
                outputs: names("outputArtifacts"),
                raw: a.clone(),
                namespace: a.get("namespace").and_then(Value::as_str).map(str::to_owned),
                timeout_minutes: opt_i64(a, "timeoutInMinutes")?,
            });
        }
        let conditions = crate::executions::conditions::of_stage(s);
        stages.push(StagePlan { name: req_str(s, "name")?.to_owned(), actions, conditions });
    }
    Ok(Plan {
        name: req_str(decl, "name")?.to_owned(),
        bucket: req_str(store, "location")?.to_owned(),
        encryption_key: store.get("encryptionKey").cloned(),
        stages,
        mode: decl.get("executionMode").and_then(Value::as_str).unwrap_or("SUPERSEDED").to_owned(),
    })
}

/// How many plans [`plan_of`] keeps before starting afresh.
const PLANS_MAX: usize = 1024;

/// Plans by declaration text, each with the region it was made for.
type Plans = HashMap<String, (String, Arc<Plan>)>;

/// Plans already made, for every service of the process: a plan is a
/// function of the declaration text and the region alone, so an entry can
/// never be stale, only unused.
static PLANS: Mutex<Option<Plans>> = Mutex::new(None);

/// The plan of a declaration stored as text (an execution's snapshot).
/// Every job result of an execution plans the same declaration again, and
/// the executions of one pipeline version share it: parsing and planning it
/// once saves both at each result, and lets executions keep it as text.
pub(crate) fn plan_of(decl: &RawValue, region: &str) -> Res<Arc<Plan>> {
    let text = decl.get();
    // Nothing can leave the map half-written: a poisoned lock guards a consistent map.
    let lock = || PLANS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((r, p)) = lock().as_ref().and_then(|m| m.get(text))
        && r == region
    {
        return Ok(Arc::clone(p));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| StoreError::Backend(format!("stored declaration is unreadable: {e}")))?;
    let p = Arc::new(plan(&value, region)?);
    let mut plans = lock();
    let plans = plans.get_or_insert_with(HashMap::new);
    if plans.len() >= PLANS_MAX {
        plans.clear();
    }
    plans.insert(text.to_owned(), (region.to_owned(), Arc::clone(&p)));
    Ok(p)
}

/// Checks a declaration against AWS's rules and the action types `caller`
/// may use, and returns it normalized (defaults filled in, `version` set).
fn validate(tx: &mut dyn Tx, caller: &Caller, decl: &Value, region: &str, version: i64) -> Res<Value> {
    let plan = plan(decl, region)?;
    let store = artifact_store(decl, region)?;
    if store.get("type").and_then(Value::as_str) != Some("S3") {
        return fail(ErrorCode::InvalidStructureException, "The artifact store type must be S3");
    }
    crate::pipeline_rules::check(decl, region)?;
    if plan.stages.len() < 2 {
        return fail(ErrorCode::InvalidStructureException, "A pipeline must contain at least two stages");
    }
    let mut stage_names = HashSet::new();
    let mut produced: HashSet<String> = HashSet::new();
    for (si, stage) in plan.stages.iter().enumerate() {
        if !stage_names.insert(stage.name.as_str()) {
            return fail(
                ErrorCode::InvalidStageDeclarationException,
                format!("Stage name '{}' is used more than once", stage.name),
            );
        }
        if stage.actions.is_empty() {
            return fail(
                ErrorCode::InvalidStageDeclarationException,
                format!("Stage '{}' must contain at least one action", stage.name),
            );
        }
        let raw_stage = &decl["stages"][si];
        if raw_stage.get("blockers").and_then(Value::as_array).is_some_and(|b| !b.is_empty()) {
            return fail(
                ErrorCode::InvalidBlockerDeclarationException,
                format!("Stage '{}': blockers are reserved for future use", stage.name),
            );
        }
        let mut action_names = HashSet::new();
        // Artifacts of this stage become visible to later run orders only.
        let mut orders: Vec<i64> = stage.actions.iter().map(|a| a.run_order).collect();
        orders.sort_unstable();
        orders.dedup();
        for a in &stage.actions {
            if !action_names.insert(a.name.as_str()) {
                return fail(
                    ErrorCode::InvalidActionDeclarationException,
                    format!("Action name '{}' is used more than once in stage '{}'", a.name, stage.name),
                );
            }
            let is_source = a.type_id.category == "Source";
            if si == 0 && !is_source {
                return fail(
                    ErrorCode::InvalidStructureException,
                    format!(
                        "The first stage '{}' must contain only source actions; '{}' is a {} action",
                        stage.name, a.name, a.type_id.category
                    ),
                );
            }
            if si > 0 && is_source {
                return fail(
                    ErrorCode::InvalidStructureException,
                    format!(
                        "Source action '{}' is in stage '{}': source actions are allowed in the first stage only",
                        a.name, stage.name
                    ),
                );
            }
            let def = if a.type_id.owner == "AWS" && !a.type_id.is_manual_approval() && !a.type_id.is_s3_source() {
                return fail(
                    ErrorCode::InvalidActionDeclarationException,
                    format!(
                        "{} in action '{}' is not supported by cpjobs: the AWS-owned providers it runs are Manual approval (Category: 'Approval', Provider: 'Manual', Version: '1') and S3 source (Category: 'Source', Provider: 'S3', Version: '1'); use a Custom or ThirdParty action type",
                        a.type_id.describe(),
                        a.name
                    ),
                );
            } else {
                match action_types::find(tx, &a.type_id, &caller.account_id)? {
                    Some(def) if def.may_use(&caller.account_id) => def,
                    _ => {
                        return fail(
                            ErrorCode::InvalidActionDeclarationException,
                            format!("{} in action '{}' is not available", a.type_id.describe(), a.name),
                        );
                    }
                }
            };
            for p in def.properties.iter().filter(|p| p.required) {
                if !a.configuration.contains_key(&p.name) {
                    return fail(
                        ErrorCode::InvalidActionDeclarationException,
                        format!(
                            "Action configuration for action '{}' is missing required configuration '{}'",
                            a.name, p.name
                        ),
                    );
                }
            }
            for k in a.configuration.keys() {
                if !def.properties.iter().any(|p| &p.name == k) {
                    return fail(
                        ErrorCode::InvalidActionDeclarationException,
                        format!("Action configuration for action '{}' contains unknown configuration '{}'", a.name, k),
                    );
                }
            }
            for (what, n, c) in
                [("input", a.inputs.len() as i64, def.input), ("output", a.outputs.len() as i64, def.output)]
            {
                if n < c.min || n > c.max {
                    return fail(
                        ErrorCode::InvalidActionDeclarationException,
                        format!(
                            "Action '{}' has {n} {what} artifacts; its action type allows {} to {}",
                            a.name, c.min, c.max
                        ),
                    );
                }
            }
            if is_source && !a.inputs.is_empty() {
                return fail(
                    ErrorCode::InvalidActionDeclarationException,
                    format!("Source action '{}' cannot have input artifacts", a.name),
                );
            }
            for i in &a.inputs {
                let earlier_in_stage = stage.actions.iter().any(|b| b.run_order < a.run_order && b.outputs.contains(i));
                if !produced.contains(i) && !earlier_in_stage {
                    return fail(
                        ErrorCode::InvalidStructureException,
                        format!("Input artifact '{i}' of action '{}' is not the output of an earlier action", a.name),
                    );
                }
            }
        }
        for a in &stage.actions {
            for o in &a.outputs {
                if !produced.insert(o.clone()) {
                    return fail(
                        ErrorCode::InvalidStructureException,
                        format!("Output artifact name '{o}' is used more than once"),
                    );
                }
            }
        }
    }
    // Normalize: what GetPipeline returns for what the caller left out.
    let mut out = decl.clone();
    out["version"] = json!(version);
    if out.get("executionMode").is_none() {
        out["executionMode"] = json!("SUPERSEDED");
    }
    if out.get("pipelineType").is_none() {
        out["pipelineType"] = json!("V1");
    }
    if let Some(stages) = out.get_mut("stages").and_then(Value::as_array_mut) {
        for s in stages {
            if let Some(actions) = s.get_mut("actions").and_then(Value::as_array_mut) {
                for a in actions {
                    let o = a.as_object_mut().expect("action is a structure");
                    o.entry("runOrder").or_insert(json!(1));
                    o.entry("configuration").or_insert(json!({}));
                    o.entry("outputArtifacts").or_insert(json!([]));
                    o.entry("inputArtifacts").or_insert(json!([]));
                }
            }
        }
    }
    Ok(out)
}

/// A declaration as it leaves the service: secret values masked.
fn masked(tx: &mut dyn Tx, account: &str, mut declaration: Value) -> Res<Value> {
    secrets::Secrets::new(account).mask_declaration(tx, &mut declaration)?;
    Ok(declaration)
}

/// The pipeline's ARN.
pub(crate) fn arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:codepipeline:{region}:{account}:{name}")
}

fn not_found(name: &str) -> crate::fail::Fail {
    crate::api::ApiError::client(
        ErrorCode::PipelineNotFoundException,
        format!("Account does not have a pipeline with name '{name}'"),
    )
    .into()
}

/// Loads a pipeline or answers `PipelineNotFoundException`.
pub(crate) fn load(tx: &mut dyn Tx, account: &str, name: &str) -> Res<PipelineRow> {
    tx.get_pipeline(account, name)?.ok_or_else(|| not_found(name))
}

/// What a pipeline's creation or update reaches beyond the store: its
/// artifact bucket, and the seal of its actions' client tokens.
pub(crate) struct Outside<'a> {
    /// Creates (or refuses) the pipeline's artifact bucket.
    pub(crate) artifacts: &'a dyn ArtifactLocations,
    /// Seals the client tokens of its third-party actions.
    pub(crate) tokens: &'a TokenSeal,
}

/// `CreatePipeline`.
pub(crate) fn create(
    tx: &mut dyn Tx,
    Outside { artifacts, tokens }: Outside<'_>,
    caller: &Caller,
    input: &Value,
    region: &str,
    quotas: &Quotas,
    now: Millis,
) -> Res<Value> {
    let decl = input.get("pipeline").cloned().unwrap_or(Value::Null);
    let name = req_str(&decl, "name")?.to_owned();
    let tags = crate::tags::read_tags(input, "tags")?;
    let decl = validate(tx, caller, &decl, region, 1)?;
    if tx.get_pipeline(&caller.account_id, &name)?.is_some() {
        return fail(
            ErrorCode::PipelineNameInUseException,
            format!("A pipeline with the name '{name}' already exists in account '{}'", caller.account_id),
        );
    }
    let limit = quotas.pipelines_per_account;
    if tx.count_pipelines(&caller.account_id, limit)? >= limit {
        return fail(
            ErrorCode::LimitExceededException,
            format!(
                "The number of pipelines associated with the account '{}' has reached the limit of {limit} allowed for the account",
                caller.account_id
            ),
        );
    }
    let row = PipelineRow {
        account_id: caller.account_id.clone(),
        name: name.clone(),
        version: 1,
        declaration: decl.clone(),
        created: now,
        updated: now,
    };
    if !tx.insert_pipeline(&row)? {
        return crate::fail::lost_race("pipeline");
    }
    let plan = plan(&decl, region)?;
    artifacts.ensure_bucket(&caller.account_id, &plan.bucket)?;
    clients::sync_pipeline(tx, tokens, &caller.account_id, &plan, now)?;
    // A pipeline deleted under this name took its tags with it: these are all it has.
    tx.put_tags(&crate::tags::pipeline_key(&caller.account_id, &name), &tags)?;
    let mut out = json!({"pipeline": masked(tx, &caller.account_id, decl)?});
    if input.get("tags").is_some() {
        out["tags"] = crate::tags::to_json(&tags);
    }
    Ok(out)
}

/// `GetPipeline`: the current version, or the `version` asked for (every
/// version is kept until the pipeline is deleted). `metadata.updated` is when
/// the returned version was made.
pub(crate) fn get(tx: &mut dyn Tx, caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    let name = req_str(input, "name")?;
    let current = load(tx, &caller.account_id, name)?;
    let row = match opt_i64(input, "version")? {
        Some(v) if v != current.version => match tx.get_pipeline_version(&caller.account_id, name, v)? {
            Some(row) => row,
            None => {
                return fail(
                    ErrorCode::PipelineVersionNotFoundException,
                    format!("Pipeline '{name}' has no version {v}; its current version is {}", current.version),
                );
            }
        },
        _ => current,
    };
    Ok(json!({
        "pipeline": masked(tx, &caller.account_id, row.declaration)?,
        "metadata": {
            "pipelineArn": arn(region, &caller.account_id, name),
            "created": timestamp(row.created),
            "updated": timestamp(row.updated),
        }
    }))
}

/// `UpdatePipeline`: the version in the input is ignored; the stored version is bumped.
pub(crate) fn update(
    tx: &mut dyn Tx,
    Outside { artifacts, tokens }: Outside<'_>,
    caller: &Caller,
    input: &Value,
    region: &str,
    now: Millis,
) -> Res<Value> {
    let mut decl = input.get("pipeline").cloned().unwrap_or(Value::Null);
    let name = req_str(&decl, "name")?.to_owned();
    let old = load(tx, &caller.account_id, &name)?;
    // A secret sent back as the mask GetPipeline showed keeps its value.
    secrets::keep_secrets(tx, &caller.account_id, &old.declaration, &mut decl)?;
    let decl = validate(tx, caller, &decl, region, old.version + 1)?;
    let row = PipelineRow { version: old.version + 1, declaration: decl.clone(), updated: now, ..old.clone() };
    if !tx.update_pipeline(&row, old.version)? {
        return crate::fail::lost_race("pipeline");
    }
    let plan = plan(&decl, region)?;
    artifacts.ensure_bucket(&caller.account_id, &plan.bucket)?;
    clients::sync_pipeline(tx, tokens, &caller.account_id, &plan, now)?;
    Ok(json!({"pipeline": masked(tx, &caller.account_id, decl)?}))
}

/// `DeletePipeline`: removes the pipeline, its executions, clients and tags, and
/// fails its unfinished jobs so no worker picks them up. Deleting a pipeline
/// that does not exist succeeds (idempotent).
pub(crate) fn delete(tx: &mut dyn Tx, caller: &Caller, input: &Value, now: Millis) -> Res<Value> {
    let name = req_str(input, "name")?;
    for job in tx.unfinished_jobs_of_pipeline(&caller.account_id, name)? {
        crate::jobs::cancel(tx, job, "The pipeline was deleted", now)?;
    }
    for c in tx.clients_of_pipeline(&caller.account_id, name)? {
        tx.delete_client(&c.client_id)?;
    }
    tx.delete_pipeline(&caller.account_id, name)?;
    tx.drop_tags(&crate::tags::pipeline_key(&caller.account_id, name))?;
    Ok(json!({}))
}

/// `ListPipelines`, by name; `maxResults` 1..1000 (default 1000).
pub(crate) fn list(tx: &mut dyn Tx, caller: &Caller, input: &Value) -> Res<Value> {
    let limit = opt_i64(input, "maxResults")?.unwrap_or(1000).clamp(1, 1000) as usize;
    let after = opt_str(input, "nextToken")?.map(decode_token).transpose()?;
    let mut rows = tx.list_pipelines(&caller.account_id, after.as_deref(), limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "version": r.version,
                "pipelineType": r.declaration.get("pipelineType").cloned().unwrap_or(json!("V1")),
                "executionMode": r.declaration.get("executionMode").cloned().unwrap_or(json!("SUPERSEDED")),
                "created": timestamp(r.created),
                "updated": timestamp(r.updated),
            })
        })
        .collect();
    let mut out = json!({"pipelines": items});
    if more && let Some(last) = rows.last() {
        out["nextToken"] = json!(encode_token(&last.name));
    }
    Ok(out)
}
