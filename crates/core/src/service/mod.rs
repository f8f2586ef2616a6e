//! The service: [`Api`] implemented over a [`Store`]. Maps each operation to
//! its domain function inside one store transaction, retries transactions
//! that lost a race, and converts store failures to `InternalFailure` in this
//! one place: the cause is logged there, with the operation, and kept out of
//! the answer.
//!
//! Every operation comes in through [`Api::submit`], and its
//! [`Path`] says where it runs: the job writes a worker fleet repeats
//! (claims, acknowledgements, results) are handed to the store's
//! [`Store::write_then`] with everything they need owned, so the server's
//! async threads never wait for the writer; job details (one short read) are
//! answered at once; everything else is handed back as work for a thread
//! that may block. A store whose reads are not quick
//! ([`Store::inline_reads`]) has every operation run on such a thread.

mod triggers;

use crate::error_code::ErrorCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::action_types;
use crate::api::{Api, ApiError, Caller, Reply, Submitted};
use crate::artifacts::{ArtifactLocations, NoArtifactStore, SnapshotError};
use crate::clients;
use crate::config::{Quotas, ServiceConfig};
use crate::credentials::{CredentialIssuer, NoCredentials};
use crate::executions;
use crate::fail::Fail;
use crate::input::millis;
use crate::jobs::{self, Ctx, PollCheck, TickReport, TypeCache};
use crate::operation::{JobWrite, Operation, Path};
use crate::pipelines;
use crate::pollers::Pollers;
use crate::queues;
use crate::sealing::TokenSeal;
use crate::store::{Millis, Store, StoreError, Tx};
use crate::tags;
use crate::webhooks;

/// How many times a transaction that lost a race is run again.
const RETRIES: usize = 8;

/// How the log names the periodic sweep (leases, timeouts, approvals, waiting conditions).
const SWEEP: &str = "Sweep";
/// How the log names the S3 source copies.
const SOURCES: &str = "S3Source";
/// How the log names the metrics' reads.
const METRICS: &str = "Metrics";

/// The default dispatch lease.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The CodePipeline job service over store `S`. Everything is shared
/// (`Arc`): submitted writes and blocking work outlive the call that made
/// them, and cloning the service for them costs a few reference counts.
pub struct Service<S: Store> {
    store: Arc<S>,
    /// Region, lease, credential issuer, parsed action types, token seal.
    ctx: Ctx,
    artifacts: Arc<dyn ArtifactLocations>,
    /// Per-account quotas.
    quotas: Quotas,
    /// The pollers this node has answered.
    pollers: Arc<Pollers>,
    /// The service's public endpoint (`http://HOST:PORT`), which webhook
    /// URLs start with: set once the server knows where it listens.
    endpoint: Arc<OnceLock<String>>,
}

/// What webhook URLs start with while no endpoint was set (tests, embedders).
const NO_ENDPOINT: &str = "http://localhost";

impl<S: Store> Clone for Service<S> {
    fn clone(&self) -> Service<S> {
        Service {
            store: Arc::clone(&self.store),
            ctx: self.ctx.clone(),
            artifacts: Arc::clone(&self.artifacts),
            quotas: self.quotas,
            pollers: Arc::clone(&self.pollers),
            endpoint: Arc::clone(&self.endpoint),
        }
    }
}

impl<S: Store> std::fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("region", &self.ctx.region)
            .field("lease_ms", &self.ctx.lease_ms)
            .finish_non_exhaustive()
    }
}

impl<S: Store> Service<S> {
    /// A service over `store`, registering the configuration's third-party
    /// action types, with the configuration's dispatch lease.
    pub fn new(config: &ServiceConfig, store: S) -> Result<Service<S>, StoreError> {
        let region = if config.region.is_empty() { "us-east-1" } else { config.region.as_str() };
        let lease = config.dispatch_lease_seconds.map_or(DEFAULT_LEASE, Duration::from_secs);
        let svc = Service {
            store: Arc::new(store),
            ctx: Ctx {
                region: region.into(),
                lease_ms: lease_millis(lease),
                credentials: Arc::new(NoCredentials),
                types: Arc::default(),
                tokens: Arc::default(),
            },
            artifacts: Arc::new(NoArtifactStore),
            quotas: config.quotas,
            pollers: Arc::default(),
            endpoint: Arc::default(),
        };
        let types = config.third_party_action_types.clone();
        svc.store.write(&mut |tx| action_types::seed_third_party(tx, &types)).map_err(|e| match e {
            Fail::Store(e) => e,
            Fail::Api(e) => StoreError::Backend(e.message),
        })?;
        Ok(svc)
    }

    /// Replaces the artifact credential issuer.
    pub fn with_credential_issuer(mut self, issuer: impl CredentialIssuer) -> Service<S> {
        self.ctx.credentials = Arc::new(issuer);
        self
    }

    /// Seals client tokens at rest under `key` (derive it from the service key),
    /// and seals, before answering, every token a store from before sealing
    /// keeps in clear. Tokens still reach their partner through
    /// `ListThirdPartyClients`, and job calls still check them.
    pub fn with_token_key(mut self, key: [u8; 32]) -> Result<Service<S>, StoreError> {
        self.ctx.tokens = Arc::new(TokenSeal::with_key(key));
        let tokens = Arc::clone(&self.ctx.tokens);
        let mut after: Option<String> = None;
        loop {
            let step = self.store.write(&mut |tx| clients::seal_clear_tokens(tx, &tokens, after.as_deref(), 500));
            match step {
                Ok((Some(last), _)) => after = Some(last),
                Ok((None, _)) => return Ok(self),
                Err(Fail::Store(e)) => return Err(e),
                Err(Fail::Api(e)) => return Err(StoreError::Backend(e.message)),
            }
        }
    }

    /// Replaces the artifact store hook (bucket ownership, S3 source copies).
    pub fn with_artifact_locations(mut self, artifacts: impl ArtifactLocations) -> Service<S> {
        self.artifacts = Arc::new(artifacts);
        self
    }

    /// Shares `endpoint`, the cell the service's public endpoint
    /// (`http://HOST:PORT`, no path) is set in once the server listens:
    /// webhook URLs start with it.
    pub fn with_endpoint(mut self, endpoint: Arc<OnceLock<String>>) -> Service<S> {
        self.endpoint = endpoint;
        self
    }

    /// The endpoint webhook URLs start with.
    fn endpoint(&self) -> &str {
        self.endpoint.get().map_or(NO_ENDPOINT, String::as_str)
    }

    /// Replaces the dispatch lease (30 s by default).
    pub fn with_lease(mut self, lease: Duration) -> Service<S> {
        self.ctx.lease_ms = lease_millis(lease);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Times out overdue jobs and re-queues jobs whose lease ended, until
    /// none is left. The server calls it periodically; polls run it too.
    /// Its failures are logged here (a store failure where it is converted,
    /// anything else below), so a caller may drop the error.
    pub fn tick(&self, now: SystemTime) -> Result<TickReport, ApiError> {
        let r = self.sweep(now);
        if let Err(e) = &r
            && !e.is_internal()
        {
            tracing::error!(operation = SWEEP, code = %e.code, message = %e.message, "the sweep failed");
        }
        r
    }

    fn sweep(&self, now: SystemTime) -> Result<TickReport, ApiError> {
        let now = millis(now);
        let mut total = TickReport::default();
        // Check on the reader first: a sweep with nothing to do must not take the writer.
        if !self.txn(SWEEP, false, &mut |tx| Ok(tx.anything_due(now)?))? {
            return Ok(total);
        }
        loop {
            let step = self.txn(SWEEP, true, &mut |tx| jobs::tick(tx, &self.ctx, now))?;
            total.requeued += step.requeued;
            total.timed_out += step.timed_out;
            total.approvals_expired += step.approvals_expired;
            total.conditions_evaluated += step.conditions_evaluated;
            if step.requeued < jobs::SWEEP_BATCH
                && step.timed_out < jobs::SWEEP_BATCH
                && step.approvals_expired < jobs::SWEEP_BATCH
                && step.conditions_evaluated < jobs::SWEEP_BATCH
            {
                break;
            }
        }
        self.run_sources(now)?;
        Ok(total)
    }

    /// Copies the objects of S3 source actions that are due, each outside any
    /// store transaction (it is file I/O), then records the outcome. A copy
    /// the store could not make stays due and is tried at the next sweep;
    /// finished copies may let other executions in, whose sources run next.
    fn run_sources(&self, now: Millis) -> Result<(), ApiError> {
        let mut failed = std::collections::HashSet::new();
        loop {
            let due = self.txn(SOURCES, false, &mut |tx| executions::pending_sources(tx, now, jobs::SWEEP_BATCH))?;
            let due: Vec<_> = due.into_iter().filter(|c| !failed.contains(&c.attempt_id)).collect();
            if due.is_empty() {
                return Ok(());
            }
            for copy in due {
                let result = match self.artifacts.snapshot(&copy.account_id, &copy.source, &copy.artifact) {
                    Ok(rev) => Ok(rev),
                    Err(SnapshotError::Refused(message)) => Err(message),
                    Err(SnapshotError::Unavailable(_)) => {
                        failed.insert(copy.attempt_id.clone());
                        continue;
                    }
                };
                let region = &*self.ctx.region;
                self.txn(SOURCES, true, &mut |tx| {
                    executions::finish_source(tx, &copy, result.as_ref().map_err(String::as_str), region, now)
                })?;
            }
        }
    }

    /// Whether job `job_id` may still write its output artifacts at `now` (it is
    /// `InProgress` and not timed out); `false` for a job that does not exist. The
    /// artifact store asks at every write of job credentials.
    pub fn job_accepts_outputs(&self, job_id: &str, now: SystemTime) -> Result<bool, ApiError> {
        let now = millis(now);
        self.txn("OutputsWritable", false, &mut |tx| jobs::accepts_outputs(tx, job_id, now))
    }

    /// The artifact bucket hook and the token seal, for pipeline writes.
    fn outside(&self) -> pipelines::Outside<'_> {
        pipelines::Outside { artifacts: self.artifacts.as_ref(), tokens: &self.ctx.tokens }
    }

    /// Makes sure the artifact bucket of the pipeline `input[name_field]` names still
    /// belongs to the caller's account before an execution makes jobs that write there:
    /// a bucket deleted and re-created by another account refuses the operation (the
    /// artifact hook's error), one the account deleted is made again for it. Jobs of
    /// executions already running are kept out by the artifact store, which checks the
    /// owner at every use of job credentials. An unknown pipeline is the operation's
    /// to refuse.
    fn artifact_bucket_is_the_accounts(
        &self,
        caller: &Caller,
        input: &Value,
        name_field: &str,
    ) -> Result<(), ApiError> {
        let Some(name) = input.get(name_field).and_then(Value::as_str) else { return Ok(()) };
        let region = &*self.ctx.region;
        let bucket =
            self.txn("ArtifactBucketCheck", false, &mut |tx| match tx.get_pipeline(&caller.account_id, name)? {
                Some(p) => Ok(Some(pipelines::plan(&p.declaration, region)?.bucket)),
                None => Ok(None),
            })?;
        match bucket {
            Some(bucket) => self.artifacts.ensure_bucket(&caller.account_id, &bucket),
            None => Ok(()),
        }
    }

    /// Number of `Queued` jobs per queue (action type key), for metrics.
    pub fn queue_depths(&self) -> Result<Vec<(String, u64)>, ApiError> {
        self.txn(METRICS, false, &mut |tx| Ok(tx.queue_depths()?))
    }

    /// Number of jobs per status, for metrics.
    pub fn job_counts(&self) -> Result<Vec<(crate::jobs::JobStatus, u64)>, ApiError> {
        self.txn(METRICS, false, &mut |tx| Ok(tx.job_counts()?))
    }

    /// Runs the S3 sources an operation started before answering it, so a
    /// caller sees them done (or failed). Their failure to run is not the
    /// operation's: the sweep tries again.
    fn then_sources(&self, result: Result<Value, ApiError>, now: Millis) -> Result<Value, ApiError> {
        if result.is_ok()
            && let Err(e) = self.run_sources(now)
            && !e.is_internal()
        {
            tracing::warn!(operation = SOURCES, code = %e.code, message = %e.message, "S3 sources wait for the sweep");
        }
        result
    }

    /// Runs `f` in a transaction for `operation` (named in the log if the store fails).
    fn txn<T>(
        &self,
        operation: &str,
        write: bool,
        f: &mut dyn FnMut(&mut dyn crate::store::Tx) -> Result<T, Fail>,
    ) -> Result<T, ApiError> {
        let mut attempt = 0;
        loop {
            let r = if write { self.store.write(f) } else { self.store.read(f) };
            match settle(r, attempt, &self.ctx.types, operation) {
                Settled::Answer(r) => return r,
                Settled::Retry => attempt += 1,
            }
        }
    }
}

/// What to do with a transaction's outcome.
enum Settled<T> {
    /// Answer the caller with this.
    Answer(Result<T, ApiError>),
    /// It lost a race: run it again.
    Retry,
}

/// Maps a transaction's outcome to an answer, or to a retry while attempts
/// remain (`attempt` counts from 0). A store failure is logged here, with its
/// cause and the operation, once: the answer says only `InternalFailure`.
fn settle<T>(r: Result<T, Fail>, attempt: usize, types: &TypeCache, operation: &str) -> Settled<T> {
    match r {
        Ok(v) => Settled::Answer(Ok(v)),
        Err(Fail::Api(e)) => Settled::Answer(Err(e)),
        Err(Fail::Store(StoreError::Conflict(_))) if attempt + 1 < RETRIES => Settled::Retry,
        Err(Fail::Store(StoreError::Conflict(_))) => Settled::Answer(Err(ApiError::client(
            ErrorCode::ConcurrentModificationException,
            "The resource was changed concurrently too many times; try again",
        ))),
        Err(Fail::Store(StoreError::Backend(cause))) => {
            tracing::error!(operation, cause = %cause, "the store failed; answering InternalFailure");
            // A failed commit may have taken back what a cached action type was read from.
            types.clear();
            Settled::Answer(Err(ApiError::internal("The service could not complete the request; try again")))
        }
    }
}

/// Runs a job write's transaction (a poll's claim, without its checks on
/// the reader: see [`Service::poll_check`]).
fn run_job(
    w: JobWrite,
    tx: &mut dyn Tx,
    ctx: &Ctx,
    caller: &Caller,
    input: &Value,
    now: Millis,
) -> Result<Value, Fail> {
    match w {
        JobWrite::Poll(tp) => jobs::poll(tx, ctx, caller, input, tp, now),
        JobWrite::Acknowledge(tp) => jobs::acknowledge(tx, ctx, caller, input, tp, now),
        JobWrite::Success(tp) => jobs::success(tx, ctx, caller, input, tp, now),
        JobWrite::Failure(tp) => jobs::failure(tx, ctx, caller, input, tp, now),
    }
}

/// The dispatch lease in milliseconds, as jobs use it.
fn lease_millis(lease: Duration) -> Millis {
    lease.as_millis() as Millis
}

/// One submitted job write: what it runs and for whom.
struct Submission<S> {
    store: Arc<S>,
    ctx: Ctx,
    operation: Operation,
    write: JobWrite,
    caller: Arc<Caller>,
    input: Arc<Value>,
    now: Millis,
}

impl<S: Store> Submission<S> {
    /// Hands the write to the store; its outcome goes to `reply`, after
    /// another submission when it lost a race (as [`Service::txn`] retries).
    fn send(self, attempt: usize, reply: Reply) {
        let (ctx, write, caller, input, now) =
            (self.ctx.clone(), self.write, Arc::clone(&self.caller), Arc::clone(&self.input), self.now);
        let store = Arc::clone(&self.store);
        store.write_then(
            Box::new(move |tx| run_job(write, tx, &ctx, &caller, &input, now)),
            Box::new(move |r| match settle(r, attempt, &self.ctx.types, self.operation.as_str()) {
                Settled::Answer(r) => reply(r),
                Settled::Retry => self.send(attempt + 1, reply),
            }),
        );
    }
}

impl<S: Store> Service<S> {
    /// Runs `operation` to its answer on this thread, which may block (the
    /// path every operation can take; [`Api::submit`] takes shorter ones
    /// where it can).
    fn run(&self, caller: &Caller, operation: Operation, input: &Value, now: SystemTime) -> Result<Value, ApiError> {
        let ms = millis(now);
        if let Path::Job(w) = operation.path() {
            return self.run_job_here(operation, w, caller, input, now);
        }
        let name = operation.as_str();
        let write = operation.path() == Path::Write;
        let region = &*self.ctx.region;
        let ctx = &self.ctx;
        let (c, i) = (caller, input);
        // Whether each runs in a read or a write transaction is its path's
        // (`write`); this match says only what it runs.
        let txn = |f: &mut dyn FnMut(&mut dyn Tx) -> Result<Value, Fail>| self.txn(name, write, f);
        match operation {
            Operation::CreateCustomActionType => txn(&mut |tx| action_types::create_custom(tx, c, i, &self.quotas)),
            Operation::DeleteCustomActionType => txn(&mut |tx| action_types::delete_custom(tx, c, i)),
            Operation::ListActionTypes => txn(&mut |tx| action_types::list(tx, c, i)),
            Operation::GetActionType => txn(&mut |tx| action_types::get(tx, c, i)),
            Operation::UpdateActionType => txn(&mut |tx| action_types::update(tx, c, i)),
            Operation::CreatePipeline => {
                txn(&mut |tx| pipelines::create(tx, self.outside(), c, i, region, &self.quotas, ms))
            }
            Operation::GetPipeline => txn(&mut |tx| pipelines::get(tx, c, i, region)),
            Operation::UpdatePipeline => txn(&mut |tx| pipelines::update(tx, self.outside(), c, i, region, ms)),
            Operation::DeletePipeline => txn(&mut |tx| pipelines::delete(tx, c, i, ms)),
            Operation::ListPipelines => txn(&mut |tx| pipelines::list(tx, c, i)),
            Operation::StartPipelineExecution => {
                self.artifact_bucket_is_the_accounts(c, i, "name")?;
                self.then_sources(txn(&mut |tx| executions::start(tx, c, i, region, ms)), ms)
            }
            Operation::StopPipelineExecution => {
                self.then_sources(txn(&mut |tx| executions::stop(tx, c, i, region, ms)), ms)
            }
            Operation::GetPipelineExecution => txn(&mut |tx| executions::get(tx, c, i)),
            Operation::ListPipelineExecutions => txn(&mut |tx| executions::list(tx, c, i)),
            Operation::GetPipelineState => txn(&mut |tx| executions::state(tx, c, i)),
            Operation::ListActionExecutions => txn(&mut |tx| executions::list_actions(tx, c, i, region)),
            Operation::RetryStageExecution => {
                self.artifact_bucket_is_the_accounts(c, i, "pipelineName")?;
                self.then_sources(txn(&mut |tx| executions::retry_stage(tx, c, i, region, ms)), ms)
            }
            Operation::PutActionRevision => {
                self.artifact_bucket_is_the_accounts(c, i, "pipelineName")?;
                self.then_sources(txn(&mut |tx| executions::put_revision(tx, c, i, region, ms)), ms)
            }
            Operation::ListDeployActionExecutionTargets => txn(&mut |tx| executions::deploy_targets(tx, c, i)),
            Operation::DisableStageTransition => txn(&mut |tx| executions::disable_transition(tx, c, i, ms)),
            Operation::EnableStageTransition => txn(&mut |tx| executions::enable_transition(tx, c, i, region, ms)),
            Operation::PutApprovalResult => txn(&mut |tx| executions::put_approval(tx, c, i, region, ms)),
            Operation::GetThirdPartyJobDetails => txn(&mut |tx| jobs::details(tx, ctx, c, i, true, ms)),
            Operation::GetJobDetails => txn(&mut |tx| jobs::details(tx, ctx, c, i, false, ms)),
            Operation::ListThirdPartyClients => txn(&mut |tx| clients::list(tx, &ctx.tokens, c, i)),
            Operation::ListJobQueues => txn(&mut |tx| queues::list(tx, &self.pollers, c, ms)),
            Operation::TagResource => txn(&mut |tx| tags::tag(tx, c, i, region)),
            Operation::UntagResource => txn(&mut |tx| tags::untag(tx, c, i, region)),
            Operation::ListTagsForResource => txn(&mut |tx| tags::list(tx, c, i, region)),
            Operation::PutWebhook => {
                let endpoint = self.endpoint();
                txn(&mut |tx| webhooks::put(tx, &ctx.tokens, c, i, region, endpoint, ms))
            }
            Operation::ListWebhooks => txn(&mut |tx| webhooks::list(tx, c, i, region, self.endpoint())),
            Operation::DeleteWebhook => txn(&mut |tx| webhooks::delete(tx, c, i)),
            Operation::RegisterWebhookWithThirdParty => txn(&mut |tx| webhooks::register(tx, c, i, true, ms)),
            Operation::DeregisterWebhookWithThirdParty => txn(&mut |tx| webhooks::register(tx, c, i, false, ms)),
            Operation::ListRuleTypes => txn(&mut |tx| executions::list_rule_types(tx, c, i, region)),
            Operation::ListRuleExecutions => txn(&mut |tx| executions::list_rule_executions(tx, c, i, region)),
            Operation::OverrideStageCondition => {
                self.then_sources(txn(&mut |tx| executions::override_condition(tx, c, i, region, ms)), ms)
            }
            Operation::RollbackStage => {
                self.artifact_bucket_is_the_accounts(c, i, "pipelineName")?;
                self.then_sources(txn(&mut |tx| executions::rollback_stage(tx, c, i, region, ms)), ms)
            }
            // Their path took them to `run_job_here` above.
            Operation::PollForThirdPartyJobs
            | Operation::PollForJobs
            | Operation::AcknowledgeThirdPartyJob
            | Operation::AcknowledgeJob
            | Operation::PutThirdPartyJobSuccessResult
            | Operation::PutJobSuccessResult
            | Operation::PutThirdPartyJobFailureResult
            | Operation::PutJobFailureResult => unreachable!("{operation} is a job write"),
        }
    }

    /// Runs a job write on this thread; a poll is checked on the reader first.
    fn run_job_here(
        &self,
        operation: Operation,
        w: JobWrite,
        caller: &Caller,
        input: &Value,
        now: SystemTime,
    ) -> Result<Value, ApiError> {
        let ms = millis(now);
        if let JobWrite::Poll(tp) = w {
            // On a store whose every transaction is a round trip to its
            // server, the check and the claim share one.
            let together = !self.store.inline_reads();
            match self.poll_check(caller, input, tp, ms, together)? {
                PollCheck::Answer(v) => return Ok(v),
                // Leases and timeouts that ended are applied before claiming,
                // so a poll never waits for the periodic sweep.
                PollCheck::SweepFirst => {
                    self.tick(now)?;
                }
                PollCheck::Claim => {}
            }
        }
        self.txn(operation.as_str(), true, &mut |tx| run_job(w, tx, &self.ctx, caller, input, ms))
    }

    /// Hands a job write to the store's writer without waiting for it. A poll
    /// is checked on the reader first: one that finds nothing is answered at
    /// once without the writer; one that finds leases or timeouts to sweep
    /// first comes back (`Err`), to run where the sweep may block.
    fn submit_job(
        &self,
        operation: Operation,
        write: JobWrite,
        caller: &Caller,
        input: Value,
        now: Millis,
        reply: Reply,
    ) -> Result<(), (Value, Reply)> {
        if let JobWrite::Poll(tp) = write {
            match self.poll_check(caller, &input, tp, now, false) {
                Ok(PollCheck::Claim) => {}
                Ok(PollCheck::SweepFirst) => return Err((input, reply)),
                Ok(PollCheck::Answer(empty)) => {
                    reply(Ok(empty));
                    return Ok(());
                }
                Err(e) => {
                    reply(Err(e));
                    return Ok(());
                }
            }
        }
        let submission = Submission {
            store: Arc::clone(&self.store),
            ctx: self.ctx.clone(),
            operation,
            write,
            caller: Arc::new(caller.clone()),
            input: Arc::new(input),
            now,
        };
        submission.send(0, reply);
        Ok(())
    }
}

/// The answer to an operation of the model that cpjobs does not run: what AWS
/// answers for a name it does not know, so no client reads it as bad input
/// (the server words it as it words an unknown target).
fn unsupported(operation: Operation) -> ApiError {
    ApiError::client(ErrorCode::UnknownOperationException, format!("Unknown operation {operation}"))
}

impl<S: Store> Api for Service<S> {
    fn submit(&self, caller: &Caller, operation: Operation, input: Value, now: SystemTime, reply: Reply) -> Submitted {
        let (input, reply) = match operation.path() {
            Path::Unsupported => {
                reply(Err(unsupported(operation)));
                return Submitted::Taken;
            }
            // A store whose reads are not quick is called only from the blocking work.
            _ if !self.store.inline_reads() => (input, reply),
            Path::QuickRead => {
                reply(self.run(caller, operation, &input, now));
                return Submitted::Taken;
            }
            Path::Job(write) => match self.submit_job(operation, write, caller, input, millis(now), reply) {
                Ok(()) => return Submitted::Taken,
                Err(back) => back,
            },
            Path::Read | Path::Write => (input, reply),
        };
        let (svc, caller) = (self.clone(), caller.clone());
        Submitted::Blocking(Box::new(move || reply(svc.run(&caller, operation, &input, now))))
    }
}

impl<S: Store> Service<S> {
    /// Checks a poll (see [`jobs::poll_check`]): on the reader, where a poll
    /// that surely finds nothing must not queue behind the single writer, or,
    /// with `claim`, on a write transaction that also claims.
    fn poll_check(
        &self,
        caller: &Caller,
        input: &Value,
        third_party: bool,
        now: Millis,
        claim: bool,
    ) -> Result<PollCheck, ApiError> {
        let operation = if third_party { Operation::PollForThirdPartyJobs } else { Operation::PollForJobs };
        let (queue, check) = self.txn(operation.as_str(), claim, &mut |tx| {
            jobs::poll_check(tx, &self.ctx, caller, input, third_party, now, claim)
        })?;
        // Past the refusals: the caller may poll this queue, so it is a poller of it.
        self.pollers.record(&queue, &caller.account_id, now);
        Ok(check)
    }
}
