//! Jobs: the work a `ThirdParty` or `Custom` action hands to external
//! workers, and the ten operations those workers call.
//!
//! Lifecycle: `Queued -> Dispatched -> InProgress -> Succeeded | Failed |
//! TimedOut`. A poll claims the oldest `Queued` jobs of one queue, giving each
//! a fresh nonce and a dispatch lease; when the lease ends (see [`tick`]) the
//! job is `Queued` again and the old nonce is dead. Acknowledging with the
//! current nonce moves it to `InProgress`; only then are results accepted.
//! Every transition goes through [`transition::transition`], which checks
//! it against the listed moves and writes it as a guarded store update on
//! (id, status, nonce), so two workers can never both own a job. A job whose lease or timeout has passed
//! is treated as such even before the next sweep writes it down.

use crate::error_code::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::action_types::{ActionTypeDef, ActionTypeId};
use crate::api::{ApiError, Caller};
use crate::credentials::{ArtifactObject, CredentialIssuer, CredentialRequest};
use crate::executions::{self, Outcome, Run};
use crate::fail::{Fail, Res, fail, lost_race};
use crate::ids::{secrets_equal, uuid};
use crate::input::{opt_i64, opt_str, req_obj, req_str};
use crate::sealing::TokenSeal;
use crate::store::{Doc, JobRow, JsonText, Millis, Tx};

mod transition;

use transition::transition;

/// Default and maximum `maxBatchSize`.
const MAX_BATCH: i64 = 100;

/// The most output variables (as JSON text) one action may produce.
const OUTPUT_VARIABLES_MAX: usize = 122_880;

/// How many expired jobs one sweep step handles in one transaction.
pub(crate) const SWEEP_BATCH: usize = 100;

/// A job's status (the model's `JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Created, not yet queued (not used by cpjobs: jobs are queued at once).
    Created,
    /// Waiting for a poll.
    Queued,
    /// Handed to a poller; lease running.
    Dispatched,
    /// Acknowledged by the poller.
    InProgress,
    /// Not finished within the action type's job timeout.
    TimedOut,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure (or cancelled).
    Failed,
}

impl JobStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Created => "Created",
            JobStatus::Queued => "Queued",
            JobStatus::Dispatched => "Dispatched",
            JobStatus::InProgress => "InProgress",
            JobStatus::TimedOut => "TimedOut",
            JobStatus::Succeeded => "Succeeded",
            JobStatus::Failed => "Failed",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<JobStatus> {
        Some(match s {
            "Created" => JobStatus::Created,
            "Queued" => JobStatus::Queued,
            "Dispatched" => JobStatus::Dispatched,
            "InProgress" => JobStatus::InProgress,
            "TimedOut" => JobStatus::TimedOut,
            "Succeeded" => JobStatus::Succeeded,
            "Failed" => JobStatus::Failed,
            _ => return None,
        })
    }

    /// Whether the job can still change.
    pub fn is_unfinished(self) -> bool {
        matches!(self, JobStatus::Created | JobStatus::Queued | JobStatus::Dispatched | JobStatus::InProgress)
    }

    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Created,
        JobStatus::Queued,
        JobStatus::Dispatched,
        JobStatus::InProgress,
        JobStatus::TimedOut,
        JobStatus::Succeeded,
        JobStatus::Failed,
    ];

    /// The statuses [`is_unfinished`](Self::is_unfinished) accepts.
    pub const UNFINISHED: [JobStatus; 4] =
        [JobStatus::Created, JobStatus::Queued, JobStatus::Dispatched, JobStatus::InProgress];
}

/// What jobs need from the service. Shared, not borrowed: a job write handed
/// to the store's writer outlives the call that submitted it.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub region: Arc<str>,
    /// The dispatch lease.
    pub lease_ms: Millis,
    pub credentials: Arc<dyn CredentialIssuer>,
    pub types: Arc<TypeCache>,
    /// How client tokens are kept at rest.
    pub tokens: Arc<TokenSeal>,
}

/// How many parsed action types a [`TypeCache`] keeps before starting afresh.
const TYPE_CACHE_MAX: usize = 4096;

/// Action types as parsed, by key, with the revision they were parsed at. A
/// lookup reads the stored revision (an index lookup, no body) and parses
/// the body again only when the revision moved: a key's revisions never
/// repeat. The one way a cached revision could be one the store never kept
/// is a batch whose commit failed after a job call read an action type
/// written earlier in that batch; every write of the batch then fails, and
/// the service [`clear`](TypeCache::clear)s the cache on any store failure.
#[derive(Debug, Default)]
pub(crate) struct TypeCache(Mutex<HashMap<String, (i64, Arc<ActionTypeDef>)>>);

impl TypeCache {
    /// The action type stored under `key`, if any.
    fn get(&self, tx: &mut dyn Tx, key: &str) -> Res<Option<Arc<ActionTypeDef>>> {
        let revision = tx.action_type_revision(key)?;
        self.get_at(tx, key, revision)
    }

    /// [`get`](TypeCache::get) when the stored revision was read already, in
    /// this transaction (with other rows, in one query).
    fn get_at(&self, tx: &mut dyn Tx, key: &str, revision: Option<i64>) -> Res<Option<Arc<ActionTypeDef>>> {
        let Some(revision) = revision else { return Ok(None) };
        if let Some((r, def)) = self.lock().get(key)
            && *r == revision
        {
            return Ok(Some(Arc::clone(def)));
        }
        let Some(doc) = tx.get_action_type(key)? else { return Ok(None) };
        let def = Arc::new(def_of(&doc)?);
        let mut map = self.lock();
        if map.len() >= TYPE_CACHE_MAX {
            map.clear();
        }
        map.insert(key.to_owned(), (doc.revision, Arc::clone(&def)));
        Ok(Some(def))
    }

    /// Forgets every parsed action type.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Arc<ActionTypeDef>)>> {
        // The map is consistent between any two statements: a panic cannot leave it half-written.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Queues a job for an action execution; returns its id.
pub(crate) fn enqueue(
    tx: &mut dyn Tx,
    def: &ActionTypeDef,
    run: &Run,
    attempt_id: &str,
    client_id: Option<String>,
    data: Value,
    now: Millis,
) -> Res<String> {
    let query_value = def
        .queryable()
        .and_then(|p| data.pointer("/actionConfiguration/configuration")?.get(&p.name)?.as_str().map(str::to_owned));
    let job = JobRow {
        id: uuid(),
        queue: def.id.key(&def.account_id),
        account_id: run.account_id.clone(),
        pipeline_name: run.pipeline_name.clone(),
        execution_id: run.id.clone(),
        action_execution_id: attempt_id.to_owned(),
        client_id,
        status: JobStatus::Queued,
        nonce: None,
        lease_until: None,
        timeout_at: now + def.job_timeout_seconds as Millis * 1000,
        created: now,
        updated: now,
        query_value,
        data: JsonText::of(&data),
        result: None,
    };
    tx.insert_job(&job)?;
    Ok(job.id)
}

/// Fails an unfinished job that nobody should work on any more (its
/// execution was stopped with abandon, or its pipeline deleted).
pub(crate) fn cancel(tx: &mut dyn Tx, mut job: JobRow, message: &str, now: Millis) -> Res<()> {
    job.result = Some(json!({"failureDetails": {"type": "JobFailed", "message": message}}).into());
    if transition(tx, &mut job, JobStatus::Failed, now)? { Ok(()) } else { lost_race("job") }
}

fn job_not_found(id: &str) -> Fail {
    ApiError::client(ErrorCode::JobNotFoundException, format!("The job {id} was not found")).into()
}

fn type_not_found(id: &ActionTypeId) -> Fail {
    ApiError::client(ErrorCode::ActionTypeNotFoundException, format!("{} was not found.", id.describe())).into()
}

fn def_of(doc: &Doc) -> Res<ActionTypeDef> {
    ActionTypeDef::deserialize(&doc.body)
        .map_err(|e| Fail::Store(crate::store::StoreError::Backend(format!("stored action type is unreadable: {e}"))))
}

/// The action type a caller polls, if it may poll it, from its stored
/// revision (read with the rest of the poll's checks).
fn pollable(
    tx: &mut dyn Tx,
    types: &TypeCache,
    caller: &Caller,
    id: &ActionTypeId,
    revision: Option<i64>,
) -> Res<Arc<ActionTypeDef>> {
    match types.get_at(tx, &id.key(&caller.account_id), revision)? {
        Some(def) => {
            if def.deleted || !def.may_poll(&caller.account_id) {
                Err(type_not_found(id))
            } else {
                Ok(def)
            }
        }
        None => Err(type_not_found(id)),
    }
}

/// A job a caller may work on, with its action type when checking the
/// caller needed it (third-party calls).
struct Loaded {
    job: JobRow,
    def: Option<Arc<ActionTypeDef>>,
}

/// The `jobId` an operation names, with its `clientToken` (third-party operations only).
fn job_of(input: &Value, third_party: bool) -> Res<(&str, Option<&str>)> {
    Ok((req_str(input, "jobId")?, client_token_of(input, third_party)?))
}

/// The `clientToken` a third-party operation must carry; none for the custom family.
fn client_token_of(input: &Value, third_party: bool) -> Res<Option<&str>> {
    if third_party { Ok(Some(req_str(input, "clientToken")?)) } else { Ok(None) }
}

/// Loads a job the caller may work on; third-party calls must present the
/// job's client token.
fn load_for(tx: &mut dyn Tx, ctx: &Ctx, caller: &Caller, id: &str, client_token: Option<&str>) -> Res<Loaded> {
    match client_token {
        Some(token) => {
            let loaded = tx.job_with_client(id)?.ok_or_else(|| job_not_found(id))?;
            let job = loaded.job;
            let Some(client_id) = &job.client_id else { return Err(job_not_found(id)) };
            let Some(def) = ctx.types.get_at(tx, &job.queue, loaded.type_revision)? else {
                return Err(job_not_found(id));
            };
            if !def.may_poll(&caller.account_id) {
                return Err(job_not_found(id));
            }
            match loaded.client_token.and_then(|t| ctx.tokens.open(client_id, &t)) {
                Some(t) if secrets_equal(&t, token) => Ok(Loaded { job, def: Some(def) }),
                _ => fail(
                    ErrorCode::InvalidClientTokenException,
                    format!("The client token is not the one of job {id}'s client"),
                ),
            }
        }
        None => {
            let job = tx.get_job(id)?.ok_or_else(|| job_not_found(id))?;
            if job.client_id.is_some() || job.account_id != caller.account_id {
                return Err(job_not_found(id));
            }
            Ok(Loaded { job, def: None })
        }
    }
}

/// The job's data with fresh artifact credentials.
fn data_with_credentials(ctx: &Ctx, job: &JobRow, now: Millis) -> Res<Value> {
    let mut data = job.data.to_value()?;
    let objects = |k: &str| -> Vec<ArtifactObject> {
        data.get(k)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|a| {
                        let s3 = a.pointer("/location/s3Location")?;
                        Some(ArtifactObject {
                            bucket: s3.get("bucketName")?.as_str()?.to_owned(),
                            key: s3.get("objectKey")?.as_str()?.to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let request = CredentialRequest {
        job_id: job.id.clone(),
        account_id: job.account_id.clone(),
        read: objects("inputArtifacts"),
        write: objects("outputArtifacts"),
        now,
    };
    if let Some(c) = ctx.credentials.issue(&request)? {
        data["artifactCredentials"] = json!({
            "accessKeyId": c.access_key_id,
            "secretAccessKey": c.secret_access_key,
            "sessionToken": c.session_token,
        });
    }
    Ok(data)
}

/// What a poll asks for: the action type (which the caller must be allowed
/// to poll), the queryable property's value, and how many jobs at most.
struct PollRequest {
    def: Arc<ActionTypeDef>,
    query_value: Option<String>,
    max: usize,
}

/// The action type a poll names, refused at once when it is not of the
/// poll's family (custom types for `PollForJobs`, third-party ones for
/// `PollForThirdPartyJobs`).
fn polled_type(input: &Value, third_party: bool) -> Res<ActionTypeId> {
    let id = ActionTypeId::from_json(input.get("actionTypeId").unwrap_or(&Value::Null))?;
    let wanted_owner = if third_party { "ThirdParty" } else { "Custom" };
    if id.owner != wanted_owner {
        return Err(type_not_found(&id));
    }
    Ok(id)
}

/// The value a poll's `queryParam` gives, before its action type says which
/// property may be queried: what the queue is probed for (the request is
/// refused later if the name is not the type's queryable property).
fn query_candidate(input: &Value, third_party: bool) -> Option<&str> {
    if third_party {
        return None;
    }
    let (_, v) = input.get("queryParam")?.as_object()?.iter().next()?;
    Some(v.as_str().unwrap_or_default())
}

/// The rest of a poll's checks, once its action type's stored revision is known.
fn poll_request(
    tx: &mut dyn Tx,
    types: &TypeCache,
    caller: &Caller,
    input: &Value,
    id: &ActionTypeId,
    revision: Option<i64>,
    third_party: bool,
) -> Res<PollRequest> {
    let def = pollable(tx, types, caller, id, revision)?;
    let max = opt_i64(input, "maxBatchSize")?.unwrap_or(1).clamp(1, MAX_BATCH) as usize;
    let query: Map<String, Value> = if third_party {
        Map::new()
    } else {
        input.get("queryParam").and_then(Value::as_object).cloned().unwrap_or_default()
    };
    let query_value = match (def.queryable(), query.iter().next()) {
        (None, None) => None,
        (None, Some(_)) => {
            return fail(
                ErrorCode::ValidationException,
                format!("{} has no queryable property: queryParam must be empty", id.describe()),
            );
        }
        (Some(p), Some((k, v))) if *k == p.name => Some(v.as_str().unwrap_or_default().to_owned()),
        (Some(p), _) => {
            return fail(
                ErrorCode::ValidationException,
                format!("{} has the queryable property '{}': queryParam must give its value", id.describe(), p.name),
            );
        }
    };
    Ok(PollRequest { def, query_value, max })
}

/// What a poll's check found (see [`poll_check`]).
pub(crate) enum PollCheck {
    /// The poll's answer: `{"jobs": []}` when the queue surely holds
    /// nothing it could claim, or the jobs the check went on to claim.
    Answer(Value),
    /// Leases or timeouts ended: sweep, then claim.
    SweepFirst,
    /// The queue holds jobs: claim.
    Claim,
}

/// A poll checked: the same refusals as [`poll`], whether anything is due
/// to sweep, and whether the queue surely holds no job for it, from one
/// [`Tx::poll_probe`]; the queue polled comes back with the outcome.
///
/// On a read transaction (`claim` false) polls of an empty queue never wait
/// for the writer. With `claim`, on a write transaction, a poll that may
/// find a job claims it at once with the action type the check read, never
/// answering [`PollCheck::Claim`]: for stores whose every transaction is a
/// round trip to a server, one transaction and one read less.
pub(crate) fn poll_check(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    third_party: bool,
    now: Millis,
    claim: bool,
) -> Res<(String, PollCheck)> {
    let id = polled_type(input, third_party)?;
    let probed = id.key(&caller.account_id);
    let candidate = query_candidate(input, third_party);
    let probe = tx.poll_probe(&probed, candidate, now)?;
    let r = poll_request(tx, &ctx.types, caller, input, &id, probe.type_revision, third_party)?;
    let queue = r.def.id.key(&r.def.account_id);
    // The probe asked for the queue and value the checked request names,
    // unless the request names something else (then ask again).
    let may_have_queued = if queue == probed && r.query_value.as_deref() == candidate {
        probe.may_have_queued
    } else {
        tx.may_have_queued(&queue, r.query_value.as_deref())?
    };
    let check = match (probe.anything_due, may_have_queued) {
        (true, _) => PollCheck::SweepFirst,
        (false, false) => PollCheck::Answer(json!({"jobs": []})),
        (false, true) if claim => PollCheck::Answer(claim_jobs(tx, ctx, r, third_party, now)?),
        (false, true) => PollCheck::Claim,
    };
    Ok((queue, check))
}

/// `PollForThirdPartyJobs` / `PollForJobs`.
pub(crate) fn poll(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    third_party: bool,
    now: Millis,
) -> Res<Value> {
    let id = polled_type(input, third_party)?;
    let revision = tx.action_type_revision(&id.key(&caller.account_id))?;
    let request = poll_request(tx, &ctx.types, caller, input, &id, revision, third_party)?;
    claim_jobs(tx, ctx, request, third_party, now)
}

/// Claims what a checked poll asks for and answers it.
fn claim_jobs(tx: &mut dyn Tx, ctx: &Ctx, request: PollRequest, third_party: bool, now: Millis) -> Res<Value> {
    let PollRequest { def, query_value, max } = request;
    let lease_until = now + ctx.lease_ms;
    let claimed =
        tx.claim_jobs(&def.id.key(&def.account_id), query_value.as_deref(), max, now, lease_until, &mut uuid)?;
    let mut jobs = Vec::new();
    for job in claimed {
        if third_party {
            jobs.push(json!({"clientId": job.client_id, "jobId": job.id}));
        } else {
            let data = data_with_credentials(ctx, &job, now)?;
            // Moved in, not through `json!`, which would copy the data tree.
            let mut j = Map::new();
            j.insert("id".into(), Value::String(job.id));
            j.insert("data".into(), data);
            j.insert("nonce".into(), job.nonce.map_or(Value::Null, Value::String));
            j.insert("accountId".into(), Value::String(job.account_id));
            jobs.push(Value::Object(j));
        }
    }
    Ok(json!({"jobs": jobs}))
}

/// Whether a dispatch lease has ended (whether or not the sweep noticed).
fn lease_ended(job: &JobRow, now: Millis) -> bool {
    job.status == JobStatus::Dispatched && job.lease_until.is_some_and(|l| l <= now)
}

/// Whether job `id` may still write its output artifacts at `now`: only while it is
/// `InProgress` and not past its timeout, the only state in which its result can
/// still be accepted. The artifact endpoint asks at each write, so credentials
/// handed out before or after a result cannot replace what the result reported.
pub(crate) fn accepts_outputs(tx: &mut dyn Tx, id: &str, now: Millis) -> Res<bool> {
    Ok(tx.get_job(id)?.is_some_and(|job| job.status == JobStatus::InProgress && !timed_out(&job, now)))
}

/// Whether the job's timeout has passed while it is unfinished.
fn timed_out(job: &JobRow, now: Millis) -> bool {
    job.status.is_unfinished() && job.timeout_at <= now
}

/// `AcknowledgeThirdPartyJob` / `AcknowledgeJob`.
pub(crate) fn acknowledge(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    third_party: bool,
    now: Millis,
) -> Res<Value> {
    let id = req_str(input, "jobId")?;
    let nonce = req_str(input, "nonce")?;
    let token = client_token_of(input, third_party)?;
    let mut job = load_for(tx, ctx, caller, id, token)?.job;
    let current = job.nonce.as_deref().is_some_and(|n| secrets_equal(n, nonce));
    if !current || lease_ended(&job, now) {
        return fail(
            ErrorCode::InvalidNonceException,
            format!("The nonce is not job {id}'s current nonce: the job was dispatched again or its lease ended"),
        );
    }
    // A job past its timeout is timed out, whether or not the sweep wrote it down yet.
    if timed_out(&job, now) {
        return Ok(json!({"status": JobStatus::TimedOut.as_str()}));
    }
    if job.status != JobStatus::Dispatched {
        // A repeated acknowledge: the status says what became of the job.
        return Ok(json!({"status": job.status.as_str()}));
    }
    // The guard is the loaded nonce, which is the one given (checked above).
    if !transition(tx, &mut job, JobStatus::InProgress, now)? {
        return lost_race("job");
    }
    Ok(json!({"status": "InProgress"}))
}

/// `GetThirdPartyJobDetails` / `GetJobDetails`.
pub(crate) fn details(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    third_party: bool,
    now: Millis,
) -> Res<Value> {
    let (id, token) = job_of(input, third_party)?;
    let job = load_for(tx, ctx, caller, id, token)?.job;
    let data = data_with_credentials(ctx, &job, now)?;
    // A nonce whose lease ended is dead, whether or not the sweep cleared it yet.
    let nonce = job.nonce.clone().filter(|_| !lease_ended(&job, now));
    // Moved in, not through `json!`, which would copy the data tree.
    let mut d = Map::new();
    d.insert("id".into(), Value::String(job.id));
    d.insert("data".into(), data);
    if third_party {
        if let Some(n) = nonce {
            d.insert("nonce".into(), Value::String(n));
        }
    } else {
        d.insert("accountId".into(), Value::String(job.account_id));
    }
    let mut out = Map::new();
    out.insert("jobDetails".into(), Value::Object(d));
    Ok(Value::Object(out))
}

/// Loads a job for a result: it must be `InProgress` and within its timeout.
fn load_in_progress(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    token: Option<&str>,
    now: Millis,
) -> Res<Loaded> {
    let loaded = load_for(tx, ctx, caller, id, token)?;
    let job = &loaded.job;
    if job.status != JobStatus::InProgress || timed_out(job, now) {
        let status = if timed_out(job, now) { JobStatus::TimedOut } else { job.status };
        return fail(
            ErrorCode::InvalidJobStateException,
            format!(
                "Job {id} is {}: results are accepted for InProgress jobs only (acknowledge it first)",
                status.as_str()
            ),
        );
    }
    Ok(loaded)
}

/// `PutThirdPartyJobSuccessResult` / `PutJobSuccessResult`.
pub(crate) fn success(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    third_party: bool,
    now: Millis,
) -> Res<Value> {
    let (id, token) = job_of(input, third_party)?;
    // The model gives PutThirdPartyJobSuccessResult no outputVariables: a
    // member it does not have is ignored, as AWS ignores it.
    let output_variables = if third_party { None } else { input.get("outputVariables").filter(|v| !v.is_null()) };
    // An action that goes on (a continuation) has not produced its variables yet.
    if output_variables.is_some() && opt_str(input, "continuationToken")?.is_some() {
        return fail(
            ErrorCode::ValidationException,
            "outputVariables can be given only with the action's last result: a result with a continuationToken cannot carry them",
        );
    }
    let Loaded { mut job, def } = load_in_progress(tx, ctx, caller, id, token, now)?;
    if let Some(vars) = output_variables
        && serde_json::to_string(vars).map_or(0, |t| t.len()) > OUTPUT_VARIABLES_MAX
    {
        return fail(
            ErrorCode::OutputVariablesSizeExceededException,
            format!("The output variables exceed the {OUTPUT_VARIABLES_MAX} characters an action may produce"),
        );
    }
    let mut details = input.get("executionDetails").cloned();
    // Third-party calls loaded the action type already, custom ones look it up.
    let def = match def {
        Some(def) => Some(def),
        None if details.is_some() => ctx.types.get(tx, &job.queue)?,
        None => None,
    };
    if let Some(d) = details.as_mut()
        && let Some(def) = &def
        && def.execution_url_template.is_some()
    {
        // The job's data is read only for a template that needs it.
        if let Some(url) = execution_url(def, &job.data.to_value()?, d) {
            d["externalExecutionUrl"] = json!(url);
        }
    }
    // The result is kept for the record; the client token is a secret.
    job.result = Some(JsonText::of(&Without(input, "clientToken")));
    if !transition(tx, &mut job, JobStatus::Succeeded, now)? {
        return lost_race("job");
    }
    let continuation = match opt_str(input, "continuationToken")? {
        // An action that was abandoned meanwhile gets no further job.
        Some(t) if executions::attempt_in_progress(tx, &job.execution_id, &job.action_execution_id)? => Some(t),
        _ => None,
    };
    let outcome = match continuation {
        Some(continuation) => {
            let mut data = job.data.to_value()?;
            data["continuationToken"] = json!(continuation);
            let Some(def) = ctx.types.get(tx, &job.queue)? else {
                return fail(ErrorCode::ActionTypeNotFoundException, "The job's action type no longer exists");
            };
            let next = JobRow {
                id: uuid(),
                status: JobStatus::Queued,
                nonce: None,
                lease_until: None,
                timeout_at: now + def.job_timeout_seconds as Millis * 1000,
                created: now,
                updated: now,
                data: JsonText::of(&data),
                result: None,
                ..job.clone()
            };
            tx.insert_job(&next)?;
            Outcome::Continues { details, job_id: next.id }
        }
        None => Outcome::Succeeded {
            details,
            revision: input.get("currentRevision").cloned(),
            output_variables: output_variables.cloned(),
        },
    };
    executions::finish_action(tx, &job.execution_id, &job.action_execution_id, outcome, None, &ctx.region, now)?;
    Ok(json!({}))
}

/// `PutThirdPartyJobFailureResult` / `PutJobFailureResult`.
pub(crate) fn failure(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    third_party: bool,
    now: Millis,
) -> Res<Value> {
    let (id, token) = job_of(input, third_party)?;
    let fd = req_obj(input, "failureDetails")?;
    let mut job = load_in_progress(tx, ctx, caller, id, token, now)?.job;
    job.result = Some(JsonText::of(&json!({"failureDetails": fd})));
    if !transition(tx, &mut job, JobStatus::Failed, now)? {
        return lost_race("job");
    }
    let s = |k: &str| fd.get(k).and_then(Value::as_str).map(str::to_owned);
    let outcome = Outcome::Failed {
        code: s("type").unwrap_or_else(|| "JobFailed".into()),
        message: s("message").unwrap_or_default(),
        external_execution_id: s("externalExecutionId"),
    };
    executions::finish_action(tx, &job.execution_id, &job.action_execution_id, outcome, None, &ctx.region, now)?;
    Ok(json!({}))
}

/// What one sweep step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Dispatched jobs whose lease ended, queued again.
    pub requeued: usize,
    /// Jobs that timed out (their actions failed).
    pub timed_out: usize,
    /// Manual approvals that expired (their actions failed).
    pub approvals_expired: usize,
    /// Stage conditions waiting for a rule (a deployment window) that were
    /// evaluated again.
    pub conditions_evaluated: usize,
}

/// One sweep step: times out overdue jobs (failing their actions), expires
/// unanswered approvals, and queues again the jobs whose dispatch lease ended. Handles at most
/// [`SWEEP_BATCH`] of each, so the caller loops until nothing is left.
pub(crate) fn tick(tx: &mut dyn Tx, ctx: &Ctx, now: Millis) -> Res<TickReport> {
    let mut report = TickReport::default();
    for mut job in tx.timed_out_jobs(now, SWEEP_BATCH)? {
        // A lease that ended before the timeout queued the job again then
        // (its nonce died), whenever the sweep comes to write it down.
        let lease_died = job.lease_until.is_some_and(|l| l < job.timeout_at);
        let guard = transition::prepare(&mut job, JobStatus::TimedOut, now)?;
        if lease_died {
            job.nonce = None;
        }
        if !tx.update_job(&job, guard.status, guard.nonce.as_deref())? {
            continue; // another node's sweep or a worker got there first
        }
        report.timed_out += 1;
        let def_timeout = (job.timeout_at - job.created) / 1000;
        let outcome = Outcome::Failed {
            code: "JobTimedOut".into(),
            message: format!(
                "The job {} did not finish within the action type's job timeout of {def_timeout} seconds",
                job.id
            ),
            external_execution_id: None,
        };
        executions::finish_action(tx, &job.execution_id, &job.action_execution_id, outcome, None, &ctx.region, now)?;
    }
    (report.approvals_expired, report.conditions_evaluated) =
        executions::expire_due(tx, &ctx.region, now, SWEEP_BATCH)?;
    for mut job in tx.expired_leases(now, SWEEP_BATCH)? {
        if transition(tx, &mut job, JobStatus::Queued, now)? {
            report.requeued += 1;
        }
    }
    Ok(report)
}

/// The action type's `executionUrlTemplate` filled in: `{ExternalExecutionId}`
/// from the reported details, `{Config:Name}` from the action's configuration.
fn execution_url(def: &ActionTypeDef, data: &Value, details: &Value) -> Option<String> {
    let template = def.execution_url_template.as_ref()?;
    let url = template.replace("{ExternalExecutionId}", details.get("externalExecutionId")?.as_str()?);
    Some(crate::action_types::fill_config(&url, data.pointer("/actionConfiguration/configuration"), def))
}

/// An input object without one of its members, written as it is otherwise
/// (what is kept of a result: written out once, never copied).
struct Without<'a>(&'a Value, &'a str);

impl Serialize for Without<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => s.collect_map(m.iter().filter(|(k, _)| k.as_str() != self.1)),
            v => v.serialize(s),
        }
    }
}
