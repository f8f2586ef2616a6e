//! The storage boundary: what the domain needs from a database, and nothing
//! about any particular one.
//!
//! Every operation of the service runs inside one [`Store::write`] (or
//! [`Store::read`]) transaction, so a request's whole effect (a job result, the
//! action it finishes, the next jobs it queues) is committed together or not at
//! all, and is durable before `write` returns.
//!
//! Invariant kept by every backend: each state transition is a guarded update
//! (`WHERE id = ? AND status = ? AND nonce = ?`, or a revision for documents);
//! zero rows touched means another writer won the race, reported as `false`,
//! never as a silent overwrite. Time is always passed in, as milliseconds since
//! the Unix epoch, so stores never read a clock.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::jobs::JobStatus;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A concurrent writer changed what this transaction relied on; the
    /// caller may retry the whole transaction.
    Conflict(String),
    /// The database failed (I/O, corruption, a bug); not retried.
    Backend(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(m) => write!(f, "conflict: {m}"),
            StoreError::Backend(m) => write!(f, "store: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A transactional store. `write` commits durably (the data survives a power
/// cut once it returns `Ok`) and rolls back when the closure returns `Err`.
/// The closure may be called more than once if the backend retries after a
/// serialization failure, so it must not have effects outside the transaction.
pub trait Store: Send + Sync + 'static {
    /// Runs `f` in a read-only transaction (a consistent snapshot).
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E>;
    /// Runs `f` in a read-write transaction and commits it durably.
    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E>;

    /// Runs `f` as [`write`](Store::write) does, without blocking the caller:
    /// `done` receives the outcome once the commit that holds it is durable
    /// (or as soon as `f` fails). `done` may run on another thread, and must
    /// not call back into the store synchronously. For callers that must not
    /// wait (the server's async threads); the default runs the write at once
    /// on the caller's thread. Writes in flight together commit in no
    /// promised order (a store may run them on several connections); a write
    /// queued after another was answered sees what that one committed.
    fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let mut f = f;
        done(self.write(&mut *f))
    }

    /// Whether a short [`read`](Store::read) returns quickly enough to run
    /// on the server's async threads (an embedded database's page cache: a
    /// few microseconds). A store whose client blocks on the network says
    /// `false`, and the service then calls it only from threads that may
    /// block: none of its methods ([`write_then`](Store::write_then)
    /// included) is called while an operation is submitted.
    fn inline_reads(&self) -> bool {
        true
    }
}

/// A store URL (`postgres://USER:PASSWORD@HOST/DB`) without its password,
/// for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// A write handed to [`Store::write_then`].
pub type WriteFn<T, E> = Box<dyn FnMut(&mut dyn Tx) -> Result<T, E> + Send>;

/// Where [`Store::write_then`] reports the outcome.
pub type WriteDone<T, E> = Box<dyn FnOnce(Result<T, E>) + Send>;

/// A JSON document as text, as a store keeps it. Job data, job results and
/// execution run states travel between the domain and the store as text, so
/// a store never builds a `Value` tree the domain does not read (an
/// acknowledge never looks at a job's data), and the domain reads the text
/// straight into its own types. A store may give back other text than it was
/// given for the same JSON (key order, spacing): compare with `==`, which
/// compares the JSON, never with [`as_str`](JsonText::as_str).
#[derive(Debug, Clone)]
pub struct JsonText(String);

impl JsonText {
    /// The text of `value` (anything that serializes to JSON).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> JsonText {
        // The domain serializes maps with string keys only, which cannot fail.
        JsonText(serde_json::to_string(value).expect("JSON serializes"))
    }

    /// Text a store read back: it holds what [`of`](JsonText::of) wrote, so
    /// it is not checked here; [`parse`](JsonText::parse) reports damage.
    pub fn from_stored(text: String) -> JsonText {
        JsonText(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, for a store to write.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Reads the text into `T`; unreadable stored JSON is a backend failure.
    pub fn parse<T: DeserializeOwned>(&self) -> StoreResult<T> {
        serde_json::from_str(&self.0).map_err(|e| StoreError::Backend(format!("stored JSON is unreadable: {e}")))
    }

    /// Reads the text into a [`Value`].
    pub fn to_value(&self) -> StoreResult<Value> {
        self.parse()
    }
}

impl From<&Value> for JsonText {
    fn from(v: &Value) -> JsonText {
        JsonText::of(v)
    }
}

impl From<Value> for JsonText {
    fn from(v: Value) -> JsonText {
        JsonText::of(&v)
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.0 == other.0 || matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b)
    }
}

impl PartialEq<Value> for JsonText {
    fn eq(&self, other: &Value) -> bool {
        self.to_value().is_ok_and(|v| v == *other)
    }
}

/// A stored document with an optimistic-concurrency revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Incremented by every successful update.
    pub revision: i64,
    /// The document itself (the domain's JSON).
    pub body: Value,
}

/// A pipeline as stored: the latest declaration and its version. Read back
/// through [`Tx::get_pipeline_version`], it is one earlier version instead:
/// that version's declaration, `created` the pipeline's creation time and
/// `updated` the time that version was made.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRow {
    /// Owning account.
    pub account_id: String,
    /// Pipeline name (unique per account).
    pub name: String,
    /// Declaration version, 1 on creation, +1 per update.
    pub version: i64,
    /// The `PipelineDeclaration` JSON, including `version`.
    pub declaration: Value,
    /// Creation time.
    pub created: Millis,
    /// Last update time.
    pub updated: Millis,
}

/// A pipeline execution as stored. `doc` holds the run state of every stage
/// and action; `status` is kept in a column too so it can be filtered.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    /// `pipelineExecutionId`.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Pipeline name.
    pub pipeline_name: String,
    /// Pipeline execution status (`InProgress`, `Succeeded`, ...).
    pub status: String,
    /// Start time; executions list newest first.
    pub started: Millis,
    /// Last update time.
    pub updated: Millis,
    /// Revision for guarded updates.
    pub revision: i64,
    /// When the execution has something due (an approval that expires), if ever.
    pub wake_at: Option<Millis>,
    /// The stage the execution is in (status `InProgress`), if any.
    pub stage: Option<String>,
    /// The stage the execution waits to enter, if any.
    pub waiting_for: Option<String>,
    /// The domain's run state.
    pub doc: JsonText,
}

/// What a third-party job call reads before anything else, in one read on
/// backends that can: the job, its client's stored token and the revision
/// of its queue's action type (see [`Tx::job_with_client`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JobWithClient {
    pub job: JobRow,
    /// The stored (sealed) token of the job's client; `None` when the job
    /// has no client or the client is gone.
    pub client_token: Option<String>,
    /// [`Tx::action_type_revision`] of the job's queue.
    pub type_revision: Option<i64>,
}

/// What a poll checks before it claims (see [`Tx::poll_probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollProbe {
    /// [`Tx::action_type_revision`] of the polled queue.
    pub type_revision: Option<i64>,
    /// [`Tx::may_have_queued`] of the polled queue.
    pub may_have_queued: bool,
    /// [`Tx::anything_due`].
    pub anything_due: bool,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// `jobId`.
    pub id: String,
    /// The queue: the action type's key (custom types include the account).
    pub queue: String,
    /// The account whose pipeline created the job.
    pub account_id: String,
    /// Pipeline name.
    pub pipeline_name: String,
    /// Pipeline execution id.
    pub execution_id: String,
    /// Action execution id.
    pub action_execution_id: String,
    /// Third-party client, for `ThirdParty` action types.
    pub client_id: Option<String>,
    /// Lifecycle status.
    pub status: JobStatus,
    /// The nonce of the current dispatch, if any.
    pub nonce: Option<String>,
    /// When the current dispatch lease ends (status `Dispatched`).
    pub lease_until: Option<Millis>,
    /// When the job times out if not finished.
    pub timeout_at: Millis,
    /// Creation time; queues are FIFO by creation (then insertion order).
    pub created: Millis,
    /// Last transition time.
    pub updated: Millis,
    /// Value of the action type's queryable property, for `queryParam` polls.
    pub query_value: Option<String>,
    /// The job's data (`JobData` without credentials).
    pub data: JsonText,
    /// What the worker reported (success or failure details), once finished.
    pub result: Option<JsonText>,
}

/// What one queue holds, as [`Tx::queue_figures`] counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueFigures {
    /// `Queued` jobs waiting for a poller.
    pub queued: u64,
    /// The creation time of the oldest of them.
    pub oldest_queued: Option<Millis>,
    /// `Dispatched` and `InProgress` jobs.
    pub in_flight: u64,
}

/// A third-party client: the link between one pipeline action and a partner.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRow {
    /// `clientId` (a UUID).
    pub client_id: String,
    /// The secret `clientToken`.
    pub client_token: String,
    /// The partner account that owns the action type.
    pub owner_account: String,
    /// The action type's queue key.
    pub queue: String,
    /// The customer account that owns the pipeline.
    pub account_id: String,
    /// Pipeline name.
    pub pipeline_name: String,
    /// Stage name.
    pub stage_name: String,
    /// Action name.
    pub action_name: String,
    /// Creation time.
    pub created: Millis,
}

/// One resource tag: a key and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tag key (unique per resource).
    pub key: String,
    /// Its value (may be empty).
    pub value: String,
}

/// The state of the transition into one stage of a pipeline, once someone
/// changed it (a transition never changed is enabled, and has no row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRow {
    /// Owning account.
    pub account_id: String,
    /// Pipeline name.
    pub pipeline_name: String,
    /// The stage the transition leads into.
    pub stage_name: String,
    /// Whether executions may enter the stage.
    pub enabled: bool,
    /// Who changed it last (an ARN).
    pub changed_by: String,
    /// When it was changed last.
    pub changed_at: Millis,
    /// Why it was disabled (`None` once enabled).
    pub disabled_reason: Option<String>,
}

/// A webhook (`PutWebhook`): where its POSTs come in and what they start.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRow {
    /// Owning account.
    pub account_id: String,
    /// The webhook's name (unique per account).
    pub name: String,
    /// The random id in its URL (unique in the store; a webhook replaced
    /// under the same name keeps it, one deleted and made again gets another).
    pub id: String,
    /// The `WebhookDefinition` as the domain keeps it (its secret sealed).
    pub definition: Value,
    /// Whether `RegisterWebhookWithThirdParty` was called last (not `Deregister...`).
    pub registered: bool,
    /// When a POST last started its pipeline.
    pub last_triggered: Option<Millis>,
    /// Creation time.
    pub created: Millis,
    /// Last change of the definition or registration.
    pub updated: Millis,
}

/// The operations of one transaction. Lists are ordered as documented on each
/// method, so every backend pages identically.
pub trait Tx {
    /// The action type stored under `key`.
    fn get_action_type(&mut self, key: &str) -> StoreResult<Option<Doc>>;
    /// The revision of the action type stored under `key`, without its body
    /// (a key's revisions never repeat: keys are never deleted and every
    /// update bumps the revision, so callers may cache what they parsed).
    fn action_type_revision(&mut self, key: &str) -> StoreResult<Option<i64>> {
        Ok(self.get_action_type(key)?.map(|d| d.revision))
    }
    /// Stores a new action type; `false` if `key` exists (even deleted).
    fn insert_action_type(&mut self, key: &str, account_id: &str, owner: &str, body: &Value) -> StoreResult<bool>;
    /// Replaces the action type if its revision is `expected_revision`.
    fn update_action_type(&mut self, key: &str, expected_revision: i64, body: &Value) -> StoreResult<bool>;
    /// Action types an account can see: every non-`Custom` type and the
    /// account's own `Custom` types, ordered by key.
    fn list_action_types(&mut self, account_id: &str) -> StoreResult<Vec<Doc>>;

    /// Stores a new pipeline; `false` if the account has one by that name.
    /// Also keeps its declaration as version `p.version` (made at `p.updated`)
    /// for [`get_pipeline_version`](Tx::get_pipeline_version), and notes that
    /// its executions' marks ([`mark_reached`](Tx::mark_reached)) are complete.
    fn insert_pipeline(&mut self, p: &PipelineRow) -> StoreResult<bool>;
    /// One pipeline.
    fn get_pipeline(&mut self, account_id: &str, name: &str) -> StoreResult<Option<PipelineRow>>;
    /// Replaces a pipeline if its stored version is `expected_version`, and
    /// then keeps the new declaration as version `p.version` (made at
    /// `p.updated`), in the same transaction: every version a pipeline had
    /// stays readable until the pipeline is deleted.
    fn update_pipeline(&mut self, p: &PipelineRow, expected_version: i64) -> StoreResult<bool>;
    /// One version of a pipeline, as it was stored by
    /// [`insert_pipeline`](Tx::insert_pipeline) or
    /// [`update_pipeline`](Tx::update_pipeline): its declaration and version,
    /// `created` the pipeline's creation time, `updated` when that version was
    /// made. `None` if the account has no pipeline by that name or the
    /// pipeline never had that version. No default: answering from
    /// [`get_pipeline`](Tx::get_pipeline) would lose every older version.
    fn get_pipeline_version(&mut self, account_id: &str, name: &str, version: i64) -> StoreResult<Option<PipelineRow>>;
    /// Deletes a pipeline, every version of it, its executions (and their
    /// marks) and its transitions; `false` if there was none. A pipeline created later under
    /// the same name starts with no versions and every transition enabled.
    fn delete_pipeline(&mut self, account_id: &str, name: &str) -> StoreResult<bool>;
    /// Pipelines of an account ordered by name, those after `after` first.
    fn list_pipelines(&mut self, account_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<PipelineRow>>;
    /// How many pipelines an account has, counted up to `at_most` (a quota
    /// check needs no more). The default reads them; a backend may count.
    fn count_pipelines(&mut self, account_id: &str, at_most: usize) -> StoreResult<usize> {
        Ok(self.list_pipelines(account_id, None, at_most)?.len())
    }

    /// The transitions of a pipeline that were ever changed, ordered by stage name.
    fn transitions(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<TransitionRow>>;
    /// Sets the state of one transition (its row, made or replaced).
    fn put_transition(&mut self, t: &TransitionRow) -> StoreResult<()>;

    /// Stores a new execution.
    fn insert_execution(&mut self, e: &ExecutionRow) -> StoreResult<()>;
    /// One execution.
    fn get_execution(&mut self, id: &str) -> StoreResult<Option<ExecutionRow>>;
    /// Replaces an execution (status, updated, wake_at, stage, waiting_for,
    /// doc) if its revision is
    /// `expected_revision`, and bumps the revision.
    fn update_execution(&mut self, e: &ExecutionRow, expected_revision: i64) -> StoreResult<bool>;
    /// Executions of a pipeline, newest first (start time, then insertion).
    fn list_executions(
        &mut self,
        account_id: &str,
        pipeline: &str,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<ExecutionRow>>;

    /// Records that execution `id` of `account_id`'s `pipeline` has reached
    /// each of `parts` (names the domain gives the parts of a pipeline): for
    /// each part the store keeps the latest execution that reached it, in the
    /// order of [`list_executions`](Tx::list_executions) (start time, then
    /// insertion), whatever the order of the calls. Nothing for an
    /// execution the store does not have.
    fn mark_reached(&mut self, account_id: &str, pipeline: &str, id: &str, parts: &[String]) -> StoreResult<()>;
    /// For each of `parts` that an execution of the pipeline reached, the
    /// latest that did ([`mark_reached`](Tx::mark_reached)): `(part,
    /// execution id)` in the order of `parts`. `None` when the marks may be
    /// incomplete: the pipeline was stored before the store kept them (or
    /// does not exist), so the caller reads the history instead.
    fn latest_reached(
        &mut self,
        account_id: &str,
        pipeline: &str,
        parts: &[String],
    ) -> StoreResult<Option<Vec<(String, String)>>>;

    /// Unfinished (`InProgress` or `Stopping`) executions whose `wake_at` is
    /// at or before `now`, earliest first.
    fn due_executions(&mut self, now: Millis, limit: usize) -> StoreResult<Vec<ExecutionRow>>;
    /// Unfinished (`InProgress` or `Stopping`) executions of a pipeline that
    /// are in `stage` or wait to enter it, oldest first (start time, then insertion).
    fn executions_at_stage(&mut self, account_id: &str, pipeline: &str, stage: &str) -> StoreResult<Vec<ExecutionRow>>;

    /// Stores a new job.
    fn insert_job(&mut self, j: &JobRow) -> StoreResult<()>;
    /// One job.
    fn get_job(&mut self, id: &str) -> StoreResult<Option<JobRow>>;
    /// Claims up to `max` `Queued` jobs of `queue` (matching `query_value` when
    /// given), oldest first: each becomes `Dispatched` with a nonce from
    /// `nonce`, `lease_until` and `updated = now`. Returns the claimed jobs.
    fn claim_jobs(
        &mut self,
        queue: &str,
        query_value: Option<&str>,
        max: usize,
        now: Millis,
        lease_until: Millis,
        nonce: &mut dyn FnMut() -> String,
    ) -> StoreResult<Vec<JobRow>>;
    /// Whether `queue` may hold a `Queued` job (matching `query_value` when
    /// given): `false` only when it surely holds none, so a poll can answer
    /// "no job" from a read transaction without queueing behind the writer.
    /// The default (always `true`) is correct for any backend, just slower.
    fn may_have_queued(&mut self, queue: &str, query_value: Option<&str>) -> StoreResult<bool> {
        let _ = (queue, query_value);
        Ok(true)
    }
    /// The job `id` with its client's token and its queue's action type
    /// revision: every third-party job call checks all three, so a backend
    /// reached over the network answers them in one query.
    fn job_with_client(&mut self, id: &str) -> StoreResult<Option<JobWithClient>> {
        let Some(job) = self.get_job(id)? else { return Ok(None) };
        let client_token = match &job.client_id {
            Some(client_id) => self.client_token(client_id)?,
            None => None,
        };
        let type_revision = self.action_type_revision(&job.queue)?;
        Ok(Some(JobWithClient { job, client_token, type_revision }))
    }
    /// What a poll of `queue` (an action type's key, which is its queue's
    /// name) checks before it claims: the action type's revision, whether
    /// the queue may hold a job matching `query_value`, and whether anything
    /// is due at `now`; one query on a backend reached over the network.
    fn poll_probe(&mut self, queue: &str, query_value: Option<&str>, now: Millis) -> StoreResult<PollProbe> {
        Ok(PollProbe {
            type_revision: self.action_type_revision(queue)?,
            may_have_queued: self.may_have_queued(queue, query_value)?,
            anything_due: self.anything_due(now)?,
        })
    }
    /// Writes `j`'s mutable fields (status, nonce, lease, updated, result)
    /// only if the stored job has `expected_status` and `expected_nonce`.
    fn update_job(&mut self, j: &JobRow, expected_status: JobStatus, expected_nonce: Option<&str>)
    -> StoreResult<bool>;
    /// `Dispatched` jobs whose lease ended at or before `now`, oldest lease first.
    fn expired_leases(&mut self, now: Millis, limit: usize) -> StoreResult<Vec<JobRow>>;
    /// Unfinished jobs whose timeout is at or before `now`, oldest first.
    fn timed_out_jobs(&mut self, now: Millis, limit: usize) -> StoreResult<Vec<JobRow>>;
    /// Unfinished jobs of one execution, oldest first.
    fn unfinished_jobs_of_execution(&mut self, execution_id: &str) -> StoreResult<Vec<JobRow>>;
    /// Unfinished jobs of one pipeline, oldest first.
    fn unfinished_jobs_of_pipeline(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<JobRow>>;
    /// Number of `Queued` jobs per queue (for metrics), ordered by queue.
    fn queue_depths(&mut self) -> StoreResult<Vec<(String, u64)>>;
    /// Number of jobs per status (for metrics), statuses with no job left out,
    /// in the order of [`JobStatus::ALL`].
    fn job_counts(&mut self) -> StoreResult<Vec<(JobStatus, u64)>>;
    /// What one queue holds now: its `Queued` jobs (how many, the oldest's
    /// creation time) and how many are in flight (`Dispatched` or
    /// `InProgress`). Read from the queue's index, never by scanning other
    /// queues or finished jobs.
    fn queue_figures(&mut self, queue: &str) -> StoreResult<QueueFigures>;
    /// `Dispatched` and `InProgress` jobs of one queue, oldest first
    /// (creation time, then insertion), at most `limit`.
    fn jobs_in_flight(&mut self, queue: &str, limit: usize) -> StoreResult<Vec<JobRow>>;
    /// `Failed` and `TimedOut` jobs of one queue, the latest to finish first
    /// (`updated`, ties in no promised order), at most `limit`.
    fn recent_failures(&mut self, queue: &str, limit: usize) -> StoreResult<Vec<JobRow>>;

    /// Stores a new client.
    fn insert_client(&mut self, c: &ClientRow) -> StoreResult<()>;
    /// One client.
    fn get_client(&mut self, client_id: &str) -> StoreResult<Option<ClientRow>>;
    /// One client's `client_token` only (checked at every third-party job call).
    fn client_token(&mut self, client_id: &str) -> StoreResult<Option<String>> {
        Ok(self.get_client(client_id)?.map(|c| c.client_token))
    }
    /// Clients of one pipeline, ordered by client id.
    fn clients_of_pipeline(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<ClientRow>>;
    /// Deletes a client; `false` if there was none.
    fn delete_client(&mut self, client_id: &str) -> StoreResult<bool>;
    /// Every client, ordered by client id, those after `after` only, at most
    /// `limit` (the upgrade that seals tokens stored in clear walks them).
    fn all_clients(&mut self, after: Option<&str>, limit: usize) -> StoreResult<Vec<ClientRow>>;
    /// Replaces a client's stored token; `false` if there is no such client.
    fn set_client_token(&mut self, client_id: &str, client_token: &str) -> StoreResult<bool>;
    /// Whether any of [`timed_out_jobs`](Tx::timed_out_jobs),
    /// [`expired_leases`](Tx::expired_leases) or
    /// [`due_executions`](Tx::due_executions) would find something at `now`:
    /// every poll asks, so backends may answer it in one query.
    fn anything_due(&mut self, now: Millis) -> StoreResult<bool> {
        Ok(!self.timed_out_jobs(now, 1)?.is_empty()
            || !self.expired_leases(now, 1)?.is_empty()
            || !self.due_executions(now, 1)?.is_empty())
    }
    /// Clients of action types owned by `owner_account` (only `queue` when
    /// given), ordered by client id, those after `after` only.
    fn list_clients(
        &mut self,
        owner_account: &str,
        queue: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ClientRow>>;

    /// Tags of one resource (`resource` is the domain's key for it, opaque
    /// to the store), ordered by tag key, those after `after` only, at most
    /// `limit`.
    fn list_tags(&mut self, resource: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Tag>>;
    /// Sets tags of one resource: a key it has is overwritten, others are
    /// added. The keys of `tags` are distinct.
    fn put_tags(&mut self, resource: &str, tags: &[Tag]) -> StoreResult<()>;
    /// Removes these tag keys of one resource; keys it does not have are ignored.
    fn delete_tags(&mut self, resource: &str, keys: &[String]) -> StoreResult<()>;
    /// Removes every tag of one resource (the resource was deleted).
    fn drop_tags(&mut self, resource: &str) -> StoreResult<()>;

    /// Stores a webhook, replacing the account's webhook of that name (every
    /// field, its `id` included).
    fn put_webhook(&mut self, w: &WebhookRow) -> StoreResult<()>;
    /// The account's webhook named `name`.
    fn get_webhook(&mut self, account_id: &str, name: &str) -> StoreResult<Option<WebhookRow>>;
    /// The account's webhook whose URL id is `id`.
    fn webhook_by_id(&mut self, account_id: &str, id: &str) -> StoreResult<Option<WebhookRow>>;
    /// Webhooks of an account ordered by name, those after `after` only, at most `limit`.
    fn list_webhooks(&mut self, account_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<WebhookRow>>;
    /// Sets `last_triggered` of the account's webhook `name` if its id is
    /// still `id` (one replaced meanwhile keeps it; one deleted and made
    /// again does not take it); `false` if no such webhook.
    fn webhook_triggered(&mut self, account_id: &str, name: &str, id: &str, at: Millis) -> StoreResult<bool>;
    /// Deletes the account's webhook `name`; `false` if there was none.
    fn delete_webhook(&mut self, account_id: &str, name: &str) -> StoreResult<bool>;
}
