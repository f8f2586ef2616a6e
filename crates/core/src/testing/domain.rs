//! Domain scenarios driven through [`Api::submit`] with JSON, as the HTTP
//! layer calls it, over any [`Store`]. Time is passed in, so leases and timeouts are
//! tested without sleeping. Every scenario is listed in
//! [`named`](super::named), which makes one test of each; a scenario left
//! out of the list is dead code, denied here.
#![deny(dead_code)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

// The scenarios of issue 10 live in a module of their own; the dispatch names them here.
use super::conditions::{
    deployment_window_holds_until_open_or_overridden, failed_stage_retries_itself_once, failed_stage_rolls_back,
    rollback_stage_by_hand, stage_conditions_gate_and_judge,
};
use super::queues::job_queues_and_pollers;
use super::revisions::{
    deploy_action_targets, put_action_revision_for_third_party_and_s3_sources, put_action_revision_starts_executions,
};
use super::semantics::{stage_transitions, strict_where_aws_is_strict, variables_reach_later_jobs_resolved};
use super::webhooks::{s3_object_versions_start_watching_pipelines, webhooks_start_pipelines};
use crate::api::{Api, ApiError, Caller, Submitted};
use crate::config::{Account, Principal, Quotas, ServiceConfig, ThirdPartyActionType};
use crate::operation::Operation;
use crate::service::Service;
use crate::store::{Store, StoreError, Tx, WriteDone, WriteFn};
use std::sync::atomic::{AtomicBool, Ordering};

/// The customer account that owns pipelines.
pub const CUSTOMER: &str = "111111111111";
/// The partner that owns the third-party action types.
pub const PARTNER: &str = "222222222222";
/// Another partner, allowed to poll nothing of `PARTNER`'s.
pub const OTHER: &str = "333333333333";
/// A partner allowed to poll `PartnerBuild` (a polling account).
pub const POLLER: &str = "444444444444";

/// The configuration the scenarios run with.
pub fn config() -> ServiceConfig {
    let account = |id: &str| Account {
        id: id.into(),
        principals: vec![Principal { access_key_id: format!("AK{id}"), secret_access_key: format!("secret{id}") }],
    };
    let tp = |category: &str, provider: &str, timeout: u64, polling: Vec<String>| ThirdPartyActionType {
        owner_account: PARTNER.into(),
        category: category.into(),
        provider: provider.into(),
        version: "1".into(),
        polling_accounts: polling,
        job_timeout_seconds: timeout,
    };
    ServiceConfig {
        region: "us-east-1".into(),
        accounts: vec![account(CUSTOMER), account(PARTNER), account(OTHER), account(POLLER)],
        third_party_action_types: vec![
            tp("Source", "PartnerSource", 0, vec![]),
            tp("Build", "PartnerBuild", 600, vec![POLLER.into()]),
        ],
        dispatch_lease_seconds: None,
        // More custom types than AWS's 50, so one account's list needs two pages.
        quotas: Quotas { custom_action_types_per_account: 100, ..Quotas::AWS },
    }
}

/// A caller of an account.
pub fn caller(account: &str) -> Caller {
    Caller { account_id: account.into(), access_key_id: format!("AK{account}") }
}

/// A service over a store, with a clock the scenario moves.
pub struct World<S: Store> {
    /// The service under test, over the store as given (see [`Placed`]).
    pub svc: Service<Placed<S>>,
}

/// The scenario clock's origin.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// `t0` plus `secs` seconds.
pub fn at(secs: u64) -> SystemTime {
    t0() + Duration::from_secs(secs)
}

std::thread_local! {
    /// Whether this thread is inside [`Api::submit`] (see [`Placed`]).
    static SUBMITTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A store as given, or (`blocking`) the same store saying that its reads
/// are not quick ([`Store::inline_reads`]), as a store over the network
/// does. Saying so, it checks the promise that comes with it: none of its
/// methods is called while an operation is being submitted (on the server,
/// an async thread).
pub struct Placed<S> {
    /// The store.
    pub inner: S,
    blocking: AtomicBool,
}

impl<S: Store> Placed<S> {
    fn called(&self, what: &str) {
        if self.blocking.load(Ordering::Relaxed) && SUBMITTING.with(std::cell::Cell::get) {
            panic!("{what} of a store whose reads are not quick, while submitting");
        }
    }
}

impl<S: Store> Store for Placed<S> {
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.called("read");
        self.inner.read(f)
    }

    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.called("write");
        self.inner.write(f)
    }

    fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.called("write_then");
        self.inner.write_then(f, done)
    }

    fn inline_reads(&self) -> bool {
        !self.blocking.load(Ordering::Relaxed) && self.inner.inline_reads()
    }
}

impl<S: Store> World<S> {
    /// A world over `store` with [`config`].
    pub fn new(store: S) -> World<S> {
        World::with_config(store, &config())
    }

    /// A world over `store` with another configuration.
    pub fn with_config(store: S, config: &ServiceConfig) -> World<S> {
        let store = Placed { inner: store, blocking: AtomicBool::new(false) };
        World { svc: Service::new(config, store).expect("service starts") }
    }

    /// The same world over a store that says its reads are not quick: every
    /// operation then runs as blocking work.
    pub fn blocking(self) -> World<S> {
        self.svc.store().blocking.store(true, Ordering::Relaxed);
        self
    }

    /// Calls an operation at `secs` after `t0` as the server does: submitted,
    /// with the work it hands back run on this thread. A successful answer
    /// must fit the model's output shape.
    pub fn call(&self, who: &str, op: &str, input: Value, secs: u64) -> Result<Value, ApiError> {
        let operation: Operation = op.parse().unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = std::sync::mpsc::channel();
        let reply = Box::new(move |r| {
            let _ = tx.send(r);
        });
        SUBMITTING.with(|s| s.set(true));
        let submitted = self.svc.submit(&caller(who), operation, input, at(secs), reply);
        SUBMITTING.with(|s| s.set(false));
        if let Submitted::Blocking(work) = submitted {
            work();
        }
        let out = rx.recv_timeout(Duration::from_secs(30)).expect("a submitted operation is always answered")?;
        if let Err(e) = super::shapes::check_output(op, &out) {
            panic!("{op} answered outside the model: {e}");
        }
        Ok(out)
    }

    /// Calls an operation that must succeed.
    #[track_caller]
    pub fn ok(&self, who: &str, op: &str, input: Value, secs: u64) -> Value {
        match self.call(who, op, input, secs) {
            Ok(v) => v,
            Err(e) => panic!("{op} failed: {} {}", e.code, e.message),
        }
    }

    /// Calls an operation that must fail; returns the error code.
    #[track_caller]
    pub fn err(&self, who: &str, op: &str, input: Value, secs: u64) -> String {
        match self.call(who, op, input, secs) {
            Ok(v) => panic!("{op} succeeded unexpectedly: {v}"),
            Err(e) => {
                assert_eq!(e.status, 400, "{e:?}");
                assert!(!e.message.is_empty());
                e.code.to_string()
            }
        }
    }

    /// The client token of a third-party client, as the partner lists it.
    pub fn client_token(&self, client_id: &str) -> String {
        let out = self.ok(PARTNER, "ListThirdPartyClients", json!({}), 0);
        out["clients"]
            .as_array()
            .expect("clients")
            .iter()
            .find(|c| c["clientId"] == client_id)
            .and_then(|c| c["clientToken"].as_str())
            .expect("client listed")
            .to_owned()
    }

    /// Polls one third-party job and acknowledges it; returns (jobId, clientToken, nonce).
    #[track_caller]
    pub fn take_third_party(&self, who: &str, provider: &str, category: &str, secs: u64) -> (String, String, String) {
        let out = self.ok(who, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id(category, provider)}), secs);
        let job = &out["jobs"][0];
        let id = job["jobId"].as_str().expect("a job").to_owned();
        let token = self.client_token(job["clientId"].as_str().expect("clientId"));
        let details = self.ok(who, "GetThirdPartyJobDetails", json!({"jobId": id, "clientToken": token}), secs);
        let nonce = details["jobDetails"]["nonce"].as_str().expect("nonce").to_owned();
        let ack =
            self.ok(who, "AcknowledgeThirdPartyJob", json!({"jobId": id, "nonce": nonce, "clientToken": token}), secs);
        assert_eq!(ack["status"], "InProgress");
        (id, token, nonce)
    }

    /// The execution's status.
    pub fn status(&self, pipeline: &str, id: &str) -> String {
        let out =
            self.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": pipeline, "pipelineExecutionId": id}), 0);
        out["pipelineExecution"]["status"].as_str().expect("status").to_owned()
    }
}

/// A third-party action type id.
pub fn tp_id(category: &str, provider: &str) -> Value {
    json!({"category": category, "owner": "ThirdParty", "provider": provider, "version": "1"})
}

pub(crate) fn action(name: &str, type_id: Value, inputs: &[&str], outputs: &[&str], run_order: i64) -> Value {
    json!({
        "name": name,
        "actionTypeId": type_id,
        "runOrder": run_order,
        "inputArtifacts": inputs.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
        "outputArtifacts": outputs.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
    })
}

/// A pipeline declaration with the given stages (`(name, actions)`).
pub fn declaration(name: &str, stages: Vec<(&str, Vec<Value>)>) -> Value {
    json!({
        "name": name,
        "roleArn": "arn:aws:iam::111111111111:role/pipeline",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": stages.into_iter().map(|(n, a)| json!({"name": n, "actions": a})).collect::<Vec<_>>(),
    })
}

/// Source (partner) -> Build (partner).
pub fn partner_pipeline(name: &str) -> Value {
    declaration(
        name,
        vec![
            ("Source", vec![action("Fetch", tp_id("Source", "PartnerSource"), &[], &["src"], 1)]),
            ("Build", vec![action("Compile", tp_id("Build", "PartnerBuild"), &["src"], &["out"], 1)]),
        ],
    )
}

/// Where a scenario's store lets its operations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The store as it is: quick reads and job writes on the submitting
    /// thread (for the embedded store, the server's async threads).
    Inline,
    /// The store saying its reads are not quick: every operation as work
    /// for a thread that may block.
    Blocking,
}

/// Runs the domain scenario `name` (see [`CHECKS`](super::named::CHECKS))
/// on a fresh store from `make`, its store placed as `mode` says (the
/// scenarios that build their own world use the store as it is); panics on a
/// failure or an unknown name.
pub fn run<S: Store>(name: &str, mode: Mode, make: &dyn Fn() -> S) {
    let world = || match mode {
        Mode::Inline => World::new(make()),
        Mode::Blocking => World::new(make()).blocking(),
    };
    crate::__store_checks!(__domain_dispatch!(name, world, make))
}

/// An artifact store in memory: bucket owners, objects' ETags, copies made,
/// and a switch that makes it fail as a broken disk would.
#[derive(Default)]
pub(crate) struct MemoryArtifacts {
    pub(crate) owners: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub(crate) objects: std::sync::Mutex<std::collections::HashMap<(String, String), String>>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl crate::artifacts::ArtifactLocations for Arc<MemoryArtifacts> {
    fn ensure_bucket(&self, account_id: &str, bucket: &str) -> Result<(), ApiError> {
        let mut owners = self.owners.lock().expect("owners");
        match owners.entry(bucket.to_owned()).or_insert_with(|| account_id.to_owned()) {
            owner if owner == account_id => Ok(()),
            _ => Err(ApiError::client(
                crate::ErrorCode::InvalidStructureException,
                format!("bucket {bucket} belongs to another account"),
            )),
        }
    }

    fn snapshot(
        &self,
        account_id: &str,
        source: &crate::credentials::ArtifactObject,
        artifact: &crate::credentials::ArtifactObject,
    ) -> Result<crate::artifacts::SourceRevision, crate::artifacts::SnapshotError> {
        use crate::artifacts::{SnapshotError, SourceRevision};
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SnapshotError::Unavailable("disk failed".into()));
        }
        if self.owners.lock().expect("owners").get(&source.bucket).map(String::as_str) != Some(account_id) {
            return Err(SnapshotError::Refused(format!("bucket {} is not yours", source.bucket)));
        }
        let mut objects = self.objects.lock().expect("objects");
        let Some(etag) = objects.get(&(source.bucket.clone(), source.key.clone())).cloned() else {
            return Err(SnapshotError::Refused(format!("s3://{}/{} does not exist", source.bucket, source.key)));
        };
        objects.insert((artifact.bucket.clone(), artifact.key.clone()), etag.clone());
        Ok(SourceRevision { revision_id: etag.clone(), etag })
    }
}

/// Every operation of the model runs: none is left on the unknown-operation
/// answer (`Path::Unsupported`, kept for operations a model update adds), and a
/// name the model does not have is no operation; the pipeline is untouched.
fn unsupported_operations_are_refused<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let unsupported: Vec<Operation> =
        Operation::ALL.iter().copied().filter(|op| op.path() == crate::operation::Path::Unsupported).collect();
    assert_eq!(unsupported, Vec::<Operation>::new());
    // A name the model does not have is no operation (the server answers it UnknownOperationException).
    assert!("DeletePipelines".parse::<Operation>().is_err());
    let out = w.ok(CUSTOMER, "GetPipeline", json!({"name": "app"}), 2);
    assert_eq!(out["metadata"]["pipelineArn"], "arn:aws:codepipeline:us-east-1:111111111111:app");
    assert_eq!(out["pipeline"]["version"], 1);
}

fn s3_source_runs_in_the_service<S: Store>(w: World<S>) {
    let store = Arc::new(MemoryArtifacts::default());
    store.owners.lock().expect("owners").insert("sources".into(), CUSTOMER.into());
    store.objects.lock().expect("objects").insert(("sources".into(), "app.zip".into()), "etag-1".into());
    let w = World { svc: w.svc.with_artifact_locations(store.clone()) };
    let s3 = json!({"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"});
    let pipeline = |name: &str, key: &str| {
        let mut source = action("Get", s3.clone(), &[], &["src"], 1);
        source["configuration"] = json!({"S3Bucket": "sources", "S3ObjectKey": key, "PollForSourceChanges": "false"});
        declaration(
            name,
            vec![
                ("Source", vec![source]),
                ("Build", vec![action("Compile", tp_id("Build", "PartnerBuild"), &["src"], &["out"], 1)]),
            ],
        )
    };
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": pipeline("app", "app.zip")}), 0);
    assert_eq!(store.owners.lock().expect("owners").get("artifact-bucket").map(String::as_str), Some(CUSTOMER));
    // The bucket is the customer's now: another account's pipeline cannot use it, and is not stored.
    assert_eq!(
        w.err(OTHER, "CreatePipeline", json!({"pipeline": pipeline("app", "app.zip")}), 0),
        "InvalidStructureException"
    );
    assert_eq!(w.err(OTHER, "GetPipeline", json!({"name": "app"}), 0), "PipelineNotFoundException");
    let mut no_key = pipeline("bad", "app.zip");
    no_key["stages"][0]["actions"][0]["configuration"] = json!({"S3Bucket": "sources"});
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": no_key}), 0), "InvalidActionDeclarationException");

    // The copy is done when StartPipelineExecution answers; its ETag is the revision.
    let id = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 1)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let e = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "app", "pipelineExecutionId": id}), 1);
    assert_eq!(
        e["pipelineExecution"]["artifactRevisions"],
        json!([{"name": "src", "revisionId": "etag-1", "revisionChangeIdentifier": "etag-1"}])
    );
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "app"}), 1);
    let get = &state["stageStates"][0]["actionStates"][0];
    assert_eq!(get["currentRevision"]["revisionId"], "etag-1", "{state}");
    assert_eq!(get["latestExecution"]["status"], "Succeeded", "{state}");
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 2);
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 2);
    let input = &details["jobDetails"]["data"]["inputArtifacts"][0];
    assert_eq!(input["revision"], "etag-1");
    let key = input["location"]["s3Location"]["objectKey"].as_str().expect("key").to_owned();
    assert!(key.starts_with("app/src/"), "{key}");
    assert_eq!(
        store.objects.lock().expect("objects").get(&("artifact-bucket".to_owned(), key)).map(String::as_str),
        Some("etag-1"),
        "the job's input is the copy"
    );

    // A missing object fails the action with its name.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": pipeline("gone", "missing.zip")}), 3);
    let id = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "gone"}), 3)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(w.status("gone", &id), "Failed");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "gone"}), 3);
    let message = &state["stageStates"][0]["actionStates"][0]["latestExecution"]["errorDetails"]["message"];
    assert_eq!(message, "s3://sources/missing.zip does not exist");

    // A store that fails leaves the source due; the next sweep copies it.
    store.down.store(true, std::sync::atomic::Ordering::SeqCst);
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": pipeline("later", "app.zip")}), 4);
    let id = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "later"}), 4)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "later"}), 4);
    assert_eq!(state["stageStates"][0]["actionStates"][0]["latestExecution"]["status"], "InProgress");
    w.svc.tick(at(5)).expect("sweep");
    assert_eq!(w.status("later", &id), "InProgress");
    store.down.store(false, std::sync::atomic::Ordering::SeqCst);
    w.svc.tick(at(6)).expect("sweep");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "later"}), 6);
    assert_eq!(state["stageStates"][0]["actionStates"][0]["latestExecution"]["status"], "Succeeded", "{state}");
    assert_eq!(state["stageStates"][1]["actionStates"][0]["latestExecution"]["status"], "InProgress", "{state}");
}

/// Regression (svctests): `GetPipelineState` read only the latest 100
/// executions, so a stage that 100 later executions did not reach (they
/// failed before it) lost its state; AWS keeps showing the older one.
fn state_of_stages_reached_long_ago<S: Store>(make: &dyn Fn() -> S) {
    let w = World::new(make());
    custom_source(&w);
    w.ok(CUSTOMER, "CreateCustomActionType", custom_type_input(), 0);
    let make = json!({"name": "Make", "actionTypeId": custom_id("Build", "MyBuilder"), "configuration": {"Project": "p"}, "inputArtifacts": [{"name": "code"}]});
    let decl = declaration(
        "long",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            ("Build", vec![make]),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    let first = start(&w, "long", 1);
    run_custom(&w, "Source", "MySource", 1);
    let polled = w.ok(
        CUSTOMER,
        "PollForJobs",
        json!({"actionTypeId": custom_id("Build", "MyBuilder"), "queryParam": {"Project": "p"}}),
        1,
    );
    let job = &polled["jobs"][0];
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}), 1);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}), 1);
    for i in 0..101 {
        start(&w, "long", 2 + i);
        let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Source", "MySource")}), 2 + i);
        let job = &polled["jobs"][0];
        w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}), 2 + i);
        let failure = json!({"jobId": job["id"], "failureDetails": {"type": "JobFailed", "message": "no"}});
        w.ok(CUSTOMER, "PutJobFailureResult", failure, 2 + i);
    }
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "long"}), 200);
    assert_eq!(state["stageStates"][0]["latestExecution"]["status"], "Failed");
    let build = &state["stageStates"][1];
    assert_eq!(build["latestExecution"]["pipelineExecutionId"], first.as_str(), "{build}");
    assert_eq!(build["latestExecution"]["status"], "Succeeded");
    assert_eq!(build["actionStates"][0]["latestExecution"]["status"], "Succeeded");
}

/// The operator's `dispatch_lease_seconds` replaces the 30 s lease: the job
/// comes back and its nonce dies after 5 s, not 30.
fn configured_lease<S: Store>(make: &dyn Fn() -> S) {
    let w = World::with_config(make(), &ServiceConfig { dispatch_lease_seconds: Some(5), ..config() });
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    let source = || json!({"actionTypeId": tp_id("Source", "PartnerSource")});
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", source(), 10);
    let job = polled["jobs"][0]["jobId"].as_str().expect("a job").to_owned();
    let token = w.client_token(polled["jobs"][0]["clientId"].as_str().expect("client"));
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 10);
    let first = details["jobDetails"]["nonce"].as_str().expect("nonce").to_owned();
    assert_eq!(w.ok(PARTNER, "PollForThirdPartyJobs", source(), 14)["jobs"], json!([]), "leased for 5 s");
    assert_eq!(
        w.err(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": first, "clientToken": token}), 15),
        "InvalidNonceException"
    );
    let again = w.ok(PARTNER, "PollForThirdPartyJobs", source(), 15);
    assert_eq!(again["jobs"][0]["jobId"], job.as_str(), "queued again when the 5 s lease ended");
}

fn third_party_lifecycle_with_continuation<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 1)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(w.status("app", &exec), "InProgress");

    // Nothing for the build yet: stages run in order.
    let none = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 2);
    assert_eq!(none["jobs"], json!([]));

    let (src_job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 2);
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": src_job, "clientToken": token}), 2);
    let data = &details["jobDetails"]["data"];
    assert_eq!(data["pipelineContext"]["pipelineName"], "app");
    assert_eq!(data["pipelineContext"]["stage"]["name"], "Source");
    assert_eq!(data["pipelineContext"]["action"]["name"], "Fetch");
    assert_eq!(data["pipelineContext"]["pipelineExecutionId"], exec.as_str());
    assert_eq!(data["pipelineContext"]["pipelineArn"], "arn:aws:codepipeline:us-east-1:111111111111:app");
    assert_eq!(data["actionTypeId"], tp_id("Source", "PartnerSource"));
    let out_loc = data["outputArtifacts"][0]["location"]["s3Location"].clone();
    assert_eq!(out_loc["bucketName"], "artifact-bucket");
    assert!(out_loc["objectKey"].as_str().expect("key").starts_with("app/src/"));
    assert_eq!(data["inputArtifacts"], json!([]));

    w.ok(
        PARTNER,
        "PutThirdPartyJobSuccessResult",
        json!({"jobId": src_job, "clientToken": token, "currentRevision": {"revision": "abc123", "changeIdentifier": "c1"}, "executionDetails": {"summary": "fetched", "percentComplete": 100}}),
        3,
    );

    // The build gets the source's output as its input, under the same name.
    let (build_job, btoken, bnonce) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 4);
    let bdata = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": build_job, "clientToken": btoken}), 4)["jobDetails"]["data"].clone();
    assert_eq!(bdata["inputArtifacts"][0]["name"], "src");
    assert_eq!(bdata["inputArtifacts"][0]["location"]["s3Location"], out_loc);
    assert_eq!(bdata["inputArtifacts"][0]["revision"], "abc123");
    assert!(bdata.get("continuationToken").is_none());

    // Continuation: the action goes on with a new job carrying the token.
    w.ok(
        PARTNER,
        "PutThirdPartyJobSuccessResult",
        json!({"jobId": build_job, "clientToken": btoken, "continuationToken": "step-2", "executionDetails": {"summary": "half", "percentComplete": 50}}),
        5,
    );
    assert_eq!(w.status("app", &exec), "InProgress");
    let repeat = w.ok(
        PARTNER,
        "AcknowledgeThirdPartyJob",
        json!({"jobId": build_job, "nonce": bnonce, "clientToken": btoken}),
        5,
    );
    assert_eq!(repeat["status"], "Succeeded", "a repeated acknowledge returns the current status");
    let (next_job, ntoken, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 6);
    assert_ne!(next_job, build_job);
    assert_eq!(ntoken, btoken, "same action, same client");
    let ndata = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": next_job, "clientToken": ntoken}), 6)["jobDetails"]["data"].clone();
    assert_eq!(ndata["continuationToken"], "step-2");
    assert_eq!(
        ndata["pipelineContext"]["action"]["actionExecutionId"],
        bdata["pipelineContext"]["action"]["actionExecutionId"]
    );
    w.ok(
        PARTNER,
        "PutThirdPartyJobSuccessResult",
        json!({"jobId": next_job, "clientToken": ntoken, "executionDetails": {"summary": "built"}}),
        7,
    );

    assert_eq!(w.status("app", &exec), "Succeeded");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "app"}), 8);
    for s in state["stageStates"].as_array().expect("stages") {
        assert_eq!(s["latestExecution"]["status"], "Succeeded", "{s}");
    }
    assert_eq!(state["stageStates"][1]["actionStates"][0]["latestExecution"]["summary"], "built");
    assert_eq!(state["stageStates"][0]["actionStates"][0]["currentRevision"]["revisionId"], "abc123");
    let actions = w.ok(
        CUSTOMER,
        "ListActionExecutions",
        json!({"pipelineName": "app", "filter": {"pipelineExecutionId": exec}}),
        8,
    );
    let details = actions["actionExecutionDetails"].as_array().expect("details");
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["actionName"], "Compile");
    assert_eq!(details[0]["input"]["inputArtifacts"][0]["s3location"]["bucket"], "artifact-bucket");
    let list = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "app"}), 8);
    assert_eq!(list["pipelineExecutionSummaries"][0]["status"], "Succeeded");
    assert_eq!(list["pipelineExecutionSummaries"][0]["sourceRevisions"][0]["revisionId"], "abc123");
    // A result on a finished job.
    assert_eq!(
        w.err(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": next_job, "clientToken": ntoken}), 9),
        "InvalidJobStateException"
    );
}

fn custom_type_input() -> Value {
    json!({
        "category": "Build",
        "provider": "MyBuilder",
        "version": "1",
        "configurationProperties": [
            {"name": "Project", "required": true, "key": true, "secret": false, "queryable": true, "type": "String"},
            {"name": "Flags", "required": false, "key": false, "secret": false},
        ],
        "settings": {
            "executionUrlTemplate": "https://builder.example/{Config:Project}/runs/{ExternalExecutionId}",
            "entityUrlTemplate": "https://builder.example/{Config:Project}",
        },
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
    })
}

pub(crate) fn custom_id(category: &str, provider: &str) -> Value {
    json!({"category": category, "owner": "Custom", "provider": provider, "version": "1"})
}

/// Creates the customer's custom source type (`MySource`).
pub(crate) fn custom_source<S: Store>(w: &World<S>) {
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": "Source", "provider": "MySource", "version": "1",
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
               "outputArtifactDetails": {"minimumCount": 1, "maximumCount": 1}}),
        0,
    );
}

/// Polls, acknowledges and finishes one custom job of `provider`.
pub(crate) fn run_custom<S: Store>(w: &World<S>, category: &str, provider: &str, secs: u64) -> Value {
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id(category, provider)}), secs);
    let job = polled["jobs"][0].clone();
    let id = job["id"].as_str().expect("a job");
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": id, "nonce": job["nonce"]}), secs);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": id}), secs);
    job
}

fn custom_action_lifecycle<S: Store>(w: World<S>) {
    let created = w.ok(CUSTOMER, "CreateCustomActionType", custom_type_input(), 0);
    assert_eq!(created["actionType"]["id"], custom_id("Build", "MyBuilder"));
    custom_source(&w);
    let decl = declaration(
        "custom",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            (
                "Build",
                vec![
                    json!({"name": "Make", "actionTypeId": custom_id("Build", "MyBuilder"), "configuration": {"Project": "alpha", "Flags": "-O"}, "inputArtifacts": [{"name": "code"}]}),
                ],
            ),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "custom"}), 1)["pipelineExecutionId"].clone();
    let src = run_custom(&w, "Source", "MySource", 2);
    assert_eq!(src["accountId"], CUSTOMER);
    assert!(
        src["data"]["outputArtifacts"][0]["location"]["s3Location"]["objectKey"]
            .as_str()
            .expect("key")
            .starts_with("custom/code/")
    );

    // Another account cannot poll the customer's custom type.
    assert_eq!(
        w.err(
            OTHER,
            "PollForJobs",
            json!({"actionTypeId": custom_id("Build", "MyBuilder"), "queryParam": {"Project": "alpha"}}),
            3
        ),
        "ActionTypeNotFoundException"
    );
    // The type has a queryable property: queryParam must name it.
    assert_eq!(
        w.err(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Build", "MyBuilder")}), 3),
        "ValidationException"
    );
    let other = w.ok(
        CUSTOMER,
        "PollForJobs",
        json!({"actionTypeId": custom_id("Build", "MyBuilder"), "queryParam": {"Project": "beta"}}),
        3,
    );
    assert_eq!(other["jobs"], json!([]), "only jobs whose configuration matches the query");
    let polled = w.ok(
        CUSTOMER,
        "PollForJobs",
        json!({"actionTypeId": custom_id("Build", "MyBuilder"), "maxBatchSize": 5, "queryParam": {"Project": "alpha"}}),
        3,
    );
    let jobs = polled["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    let id = job["id"].as_str().expect("id");
    assert_eq!(job["data"]["actionConfiguration"]["configuration"], json!({"Project": "alpha", "Flags": "-O"}));
    assert_eq!(job["data"]["inputArtifacts"][0]["name"], "code");
    assert_eq!(job["accountId"], CUSTOMER);
    assert!(job["nonce"].is_string());
    // Results need an acknowledged job.
    assert_eq!(w.err(CUSTOMER, "PutJobSuccessResult", json!({"jobId": id}), 4), "InvalidJobStateException");
    // Other accounts do not see the job.
    assert_eq!(w.err(OTHER, "GetJobDetails", json!({"jobId": id}), 4), "JobNotFoundException");
    assert_eq!(
        w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": id, "nonce": job["nonce"]}), 4)["status"],
        "InProgress"
    );
    let huge = json!({"jobId": id, "outputVariables": {"V": "x".repeat(130_000)}});
    assert_eq!(w.err(CUSTOMER, "PutJobSuccessResult", huge, 4), "OutputVariablesSizeExceededException");
    let details = w.ok(CUSTOMER, "GetJobDetails", json!({"jobId": id}), 4);
    assert_eq!(details["jobDetails"]["accountId"], CUSTOMER);
    assert_eq!(details["jobDetails"]["data"]["pipelineContext"]["stage"]["name"], "Build");
    w.ok(
        CUSTOMER,
        "PutJobSuccessResult",
        json!({"jobId": id, "executionDetails": {"summary": "made", "externalExecutionId": "run-7"}, "outputVariables": {"V": "1"}}),
        5,
    );
    assert_eq!(w.status("custom", exec.as_str().expect("id")), "Succeeded");
    let actions = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "custom"}), 6);
    let make = &actions["actionExecutionDetails"][0];
    assert_eq!(make["actionName"], "Make");
    assert_eq!(make["output"]["executionResult"]["externalExecutionId"], "run-7");
    assert_eq!(make["output"]["executionResult"]["externalExecutionUrl"], "https://builder.example/alpha/runs/run-7");
    assert_eq!(make["output"]["outputVariables"], json!({"V": "1"}));
    // Regression (svctests): GetPipelineState left out entityUrl, which AWS fills from the type's template.
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "custom"}), 6);
    assert_eq!(state["stageStates"][1]["actionStates"][0]["entityUrl"], "https://builder.example/alpha");
    assert!(state["stageStates"][0]["actionStates"][0].get("entityUrl").is_none(), "MySource has no template");
    // Unknown job ids.
    assert_eq!(
        w.err(CUSTOMER, "GetJobDetails", json!({"jobId": "00000000-0000-0000-0000-000000000000"}), 6),
        "JobNotFoundException"
    );
}

fn failure_fails_execution_and_retry_recovers<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let (src, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 1);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": token}), 1);
    let (job, btoken, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 2);
    w.ok(
        PARTNER,
        "PutThirdPartyJobFailureResult",
        json!({"jobId": job, "clientToken": btoken, "failureDetails": {"type": "JobFailed", "message": "compiler exploded", "externalExecutionId": "x-1"}}),
        3,
    );
    assert_eq!(w.status("app", &exec), "Failed");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "app"}), 4);
    assert_eq!(state["stageStates"][1]["latestExecution"]["status"], "Failed");
    let latest = &state["stageStates"][1]["actionStates"][0]["latestExecution"];
    assert_eq!(latest["status"], "Failed");
    assert_eq!(latest["errorDetails"], json!({"code": "JobFailed", "message": "compiler exploded"}));
    assert_eq!(
        w.err(
            PARTNER,
            "PutThirdPartyJobFailureResult",
            json!({"jobId": job, "clientToken": btoken, "failureDetails": {"type": "JobFailed", "message": "again"}}),
            4
        ),
        "InvalidJobStateException"
    );
    // Only failed stages can be retried.
    assert_eq!(
        w.err(CUSTOMER, "RetryStageExecution", json!({"pipelineName": "app", "stageName": "Source", "pipelineExecutionId": exec, "retryMode": "FAILED_ACTIONS"}), 5),
        "StageNotRetryableException"
    );
    w.ok(CUSTOMER, "RetryStageExecution", json!({"pipelineName": "app", "stageName": "Build", "pipelineExecutionId": exec, "retryMode": "FAILED_ACTIONS"}), 5);
    assert_eq!(w.status("app", &exec), "InProgress");
    let (again, atoken, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 6);
    assert_ne!(again, job);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": again, "clientToken": atoken}), 7);
    assert_eq!(w.status("app", &exec), "Succeeded");
    let actions = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "app"}), 8);
    let statuses: Vec<_> =
        actions["actionExecutionDetails"].as_array().expect("list").iter().map(|d| d["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("Succeeded"), json!("Failed"), json!("Succeeded")], "both attempts are listed");
}

fn timeout_fails_the_action<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let (src, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 0);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": token}), 0);
    let (job, btoken, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 10);
    // PartnerBuild's timeout is 600 s from the job's creation (t = 0).
    assert_eq!(w.svc.tick(at(599)).expect("tick").timed_out, 0);
    assert_eq!(w.status("app", &exec), "InProgress");
    // Past the timeout a result is refused even before the sweep runs.
    assert_eq!(
        w.err(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": btoken}), 600),
        "InvalidJobStateException"
    );
    assert_eq!(w.svc.tick(at(601)).expect("tick").timed_out, 1);
    assert_eq!(w.status("app", &exec), "Failed");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "app"}), 602);
    assert_eq!(state["stageStates"][1]["actionStates"][0]["latestExecution"]["errorDetails"]["code"], "JobTimedOut");
    assert_eq!(
        w.err(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": btoken}), 602),
        "InvalidJobStateException"
    );
    assert_eq!(w.svc.tick(at(700)).expect("tick").timed_out, 0, "a job times out once");
}

/// Issue 8, item 9: client tokens are stored sealed under the service's key;
/// tokens stored in clear before are sealed when the key is given; partners
/// still list them and job calls still check them.
fn client_tokens_sealed_at_rest<S: Store>(w: World<S>) {
    let stored = |w: &World<S>| -> Vec<(String, String)> {
        let rows = w.svc.store().read(&mut |tx| tx.all_clients(None, 100)).expect("clients");
        rows.into_iter().map(|c| (c.client_id, c.client_token)).collect()
    };
    // Before the upgrade: a pipeline whose tokens are stored as issued.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let clear = stored(&w);
    assert_eq!(clear.len(), 2);
    let listed: Vec<String> = clear.iter().map(|(id, _)| w.client_token(id)).collect();
    assert_eq!(listed, clear.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>());

    // The upgrade seals them; nothing a partner sees changes.
    let w = World { svc: w.svc.with_token_key([5; 32]).expect("tokens sealed") };
    for ((id, before), (_, after)) in clear.iter().zip(stored(&w)) {
        assert!(after.starts_with(crate::sealing::SEALED_PREFIX) && !after.contains(before.as_str()), "{after}");
        assert_eq!(&w.client_token(id), before);
    }
    // New clients are sealed from the start; the partner's whole flow works.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("second")}), 1);
    assert!(stored(&w).iter().all(|(_, t)| t.starts_with(crate::sealing::SEALED_PREFIX)));
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 2);
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 3);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}), 3);
    // A sealed value is no token: presenting it is refused.
    let sealed_value = stored(&w).into_iter().next().expect("client").1;
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 4);
    let build = polled["jobs"][0]["jobId"].as_str().expect("job").to_owned();
    assert_eq!(
        w.err(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": build, "clientToken": sealed_value}), 4),
        "InvalidClientTokenException"
    );
    // Sealing again finds nothing left in clear.
    let again = stored(&w);
    let w = World { svc: w.svc.with_token_key([5; 32]).expect("tokens sealed") };
    assert_eq!(stored(&w), again);
}

/// Issue 8, item 12: a pipeline whose artifact bucket was deleted and re-created by
/// another account starts no execution (and makes no job) until it is moved.
fn artifact_bucket_taken_by_another_account<S: Store>(w: World<S>) {
    let store = Arc::new(MemoryArtifacts::default());
    let w = World { svc: w.svc.with_artifact_locations(store.clone()) };
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 1);
    // Deleted and taken by another account.
    store.owners.lock().expect("owners").insert("artifact-bucket".into(), OTHER.into());
    assert_eq!(w.err(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 2), "InvalidStructureException");
    let executions = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "app"}), 2);
    assert_eq!(executions["pipelineExecutionSummaries"].as_array().expect("summaries").len(), 1);
    // Deleted by the customer: made again for it.
    store.owners.lock().expect("owners").remove("artifact-bucket");
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 3);
    assert_eq!(store.owners.lock().expect("owners").get("artifact-bucket").map(String::as_str), Some(CUSTOMER));
    assert_eq!(w.err(CUSTOMER, "StartPipelineExecution", json!({"name": "nope"}), 3), "PipelineNotFoundException");
}

/// Issue 8, item 6: job credentials write outputs only while the job runs.
fn outputs_are_writable_only_in_progress<S: Store>(w: World<S>) {
    let accepts = |job: &str, secs: u64| w.svc.job_accepts_outputs(job, at(secs)).expect("status read");
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 1);
    let job = polled["jobs"][0]["jobId"].as_str().expect("job").to_owned();
    assert!(!accepts(&job, 1), "a dispatched job is not acknowledged yet");
    let token = w.client_token(polled["jobs"][0]["clientId"].as_str().expect("client"));
    let nonce = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 1)["jobDetails"]
        ["nonce"]
        .as_str()
        .expect("nonce")
        .to_owned();
    w.ok(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": nonce, "clientToken": token}), 1);
    assert!(accepts(&job, 2));
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}), 3);
    assert!(!accepts(&job, 3), "a finished job writes nothing more");
    assert!(!accepts("no-such-job", 3));
    // PartnerBuild times out 600 s after its job was made (at 3): no writes after that,
    // even before the sweep records it.
    let (build, _, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 4);
    assert!(accepts(&build, 602));
    assert!(!accepts(&build, 603));
}

fn manual_approval<S: Store>(w: World<S>) {
    custom_source(&w);
    let approval = json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"});
    let decl = declaration(
        "gate",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            (
                "Approve",
                vec![json!({"name": "Ok", "actionTypeId": approval, "configuration": {"CustomData": "please"}})],
            ),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "gate"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    run_custom(&w, "Source", "MySource", 1);
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "gate"}), 2);
    let latest = &state["stageStates"][1]["actionStates"][0]["latestExecution"];
    assert_eq!(latest["status"], "InProgress");
    let token = latest["token"].as_str().expect("approval token").to_owned();
    let put = |token: &str, status: &str| json!({"pipelineName": "gate", "stageName": "Approve", "actionName": "Ok", "token": token, "result": {"summary": "looks good", "status": status}});
    assert_eq!(
        w.err(CUSTOMER, "PutApprovalResult", put("00000000-0000-0000-0000-000000000000", "Approved"), 3),
        "InvalidApprovalTokenException"
    );
    let mut wrong_action = put(&token, "Approved");
    wrong_action["actionName"] = json!("Nope");
    assert_eq!(w.err(CUSTOMER, "PutApprovalResult", wrong_action, 3), "ActionNotFoundException");
    let out = w.ok(CUSTOMER, "PutApprovalResult", put(&token, "Approved"), 3);
    assert!(out["approvedAt"].is_number());
    assert_eq!(w.err(CUSTOMER, "PutApprovalResult", put(&token, "Approved"), 4), "ApprovalAlreadyCompletedException");
    assert_eq!(w.status("gate", &exec), "Succeeded");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "gate"}), 5);
    assert_eq!(state["stageStates"][1]["actionStates"][0]["latestExecution"]["summary"], "looks good");

    // A rejection fails the execution.
    let exec2 = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "gate"}), 10)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    run_custom(&w, "Source", "MySource", 11);
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "gate"}), 12);
    let token2 =
        state["stageStates"][1]["actionStates"][0]["latestExecution"]["token"].as_str().expect("token").to_owned();
    assert_ne!(token, token2);
    w.ok(CUSTOMER, "PutApprovalResult", put(&token2, "Rejected"), 13);
    assert_eq!(w.status("gate", &exec2), "Failed");

    // An approval nobody answers expires after 7 days.
    let exec3 = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "gate"}), 20)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    run_custom(&w, "Source", "MySource", 21);
    let week = 7 * 24 * 3600;
    assert_eq!(w.svc.tick(at(21 + week - 1)).expect("tick").approvals_expired, 0);
    assert_eq!(w.status("gate", &exec3), "InProgress");
    assert_eq!(w.svc.tick(at(21 + week)).expect("tick").approvals_expired, 1);
    assert_eq!(w.status("gate", &exec3), "Failed");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "gate"}), 21 + week);
    assert_eq!(
        state["stageStates"][1]["actionStates"][0]["latestExecution"]["errorDetails"]["code"],
        "ApprovalExpired"
    );
    assert_eq!(w.svc.tick(at(30 + week)).expect("tick").approvals_expired, 0, "expires once");
}

fn wrong_and_stale_nonces<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    let polled = w.ok(
        PARTNER,
        "PollForThirdPartyJobs",
        json!({"actionTypeId": tp_id("Source", "PartnerSource"), "maxBatchSize": 10}),
        0,
    );
    assert_eq!(polled["jobs"].as_array().expect("jobs").len(), 1);
    let job = polled["jobs"][0]["jobId"].as_str().expect("id").to_owned();
    let token = w.client_token(polled["jobs"][0]["clientId"].as_str().expect("client"));
    let nonce = |secs| {
        w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), secs)["jobDetails"]["nonce"]
            .as_str()
            .expect("nonce")
            .to_owned()
    };
    let first = nonce(1);
    assert_eq!(
        w.err(
            PARTNER,
            "AcknowledgeThirdPartyJob",
            json!({"jobId": job, "nonce": "not-the-nonce", "clientToken": token}),
            1
        ),
        "InvalidNonceException"
    );
    // Dispatched jobs are invisible to other pollers during the lease.
    let during = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 29);
    assert_eq!(during["jobs"], json!([]));
    // The lease (30 s) ended: the old nonce is dead even before the sweep.
    assert_eq!(
        w.err(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": first, "clientToken": token}), 30),
        "InvalidNonceException"
    );
    let again = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 31);
    assert_eq!(again["jobs"][0]["jobId"], job.as_str(), "the job is queued again after its lease");
    let second = nonce(31);
    assert_ne!(first, second);
    assert_eq!(
        w.err(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": first, "clientToken": token}), 32),
        "InvalidNonceException"
    );
    let ack =
        w.ok(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": second, "clientToken": token}), 32);
    assert_eq!(ack["status"], "InProgress");
    let again =
        w.ok(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": second, "clientToken": token}), 33);
    assert_eq!(again["status"], "InProgress", "a repeated acknowledge returns the status");
    // An acknowledged job keeps its owner past the dispatch lease.
    assert_eq!(w.svc.tick(at(100)).expect("tick").requeued, 0);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}), 100);
}

fn client_tokens_and_other_partners<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    // Another partner may not poll this partner's type.
    assert_eq!(
        w.err(OTHER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 1),
        "ActionTypeNotFoundException"
    );
    assert_eq!(
        w.err(OTHER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "NoSuchThing")}), 1),
        "ActionTypeNotFoundException"
    );
    // A third-party poll of a custom type (and the reverse) finds nothing.
    assert_eq!(
        w.err(PARTNER, "PollForJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 1),
        "ActionTypeNotFoundException"
    );
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 1);
    let job = polled["jobs"][0]["jobId"].as_str().expect("job").to_owned();
    assert_eq!(
        polled["jobs"][0].as_object().expect("job").len(),
        2,
        "third-party polls return jobId and clientId only"
    );
    let token = w.client_token(polled["jobs"][0]["clientId"].as_str().expect("client"));
    assert_eq!(
        w.err(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": "wrong"}), 2),
        "InvalidClientTokenException"
    );
    assert_eq!(
        w.err(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": "x", "clientToken": "wrong"}), 2),
        "InvalidClientTokenException"
    );
    assert_eq!(
        w.err(OTHER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 2),
        "JobNotFoundException",
        "another partner cannot see the job, even with the token"
    );
    // The customer's custom-job calls do not reach third-party jobs.
    assert_eq!(w.err(CUSTOMER, "GetJobDetails", json!({"jobId": job}), 2), "JobNotFoundException");
    // Only the owning partner lists the clients.
    let mine = w.ok(PARTNER, "ListThirdPartyClients", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 2);
    let clients = mine["clients"].as_array().expect("clients");
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0]["accountId"], CUSTOMER);
    assert_eq!(clients[0]["pipelineName"], "app");
    assert_eq!(clients[0]["stageName"], "Build");
    assert_eq!(clients[0]["actionName"], "Compile");
    assert_eq!(w.ok(OTHER, "ListThirdPartyClients", json!({}), 2)["clients"], json!([]));
    assert_eq!(
        w.err(OTHER, "ListThirdPartyClients", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 2),
        "ActionTypeNotFoundException"
    );
    assert_eq!(
        w.err(POLLER, "ListThirdPartyClients", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 2),
        "ActionTypeNotFoundException",
        "polling accounts poll, but only the owner reads the tokens"
    );
    // A polling account may poll the type it is registered for.
    let (src, stoken, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 40);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": stoken}), 40);
    let polled = w.ok(POLLER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 41);
    assert_eq!(polled["jobs"].as_array().expect("jobs").len(), 1);
    assert_eq!(
        w.err(POLLER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 41),
        "ActionTypeNotFoundException"
    );
}

fn pipeline_declarations<S: Store>(w: World<S>) {
    let codebuild = json!({"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"});
    let mut decl = partner_pipeline("p");
    decl["stages"][1]["actions"][0]["actionTypeId"] = codebuild;
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0), "InvalidActionDeclarationException");
    let msg = w.call(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0).expect_err("refused").message;
    assert!(msg.contains("CodeBuild") && msg.contains("Manual approval"), "{msg}");

    let mut one_stage = partner_pipeline("p");
    one_stage["stages"].as_array_mut().expect("stages").pop();
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": one_stage}), 0), "InvalidStructureException");

    let mut bad_input = partner_pipeline("p");
    bad_input["stages"][1]["actions"][0]["inputArtifacts"] = json!([{"name": "nowhere"}]);
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": bad_input}), 0), "InvalidStructureException");

    let mut dup_stage = partner_pipeline("p");
    dup_stage["stages"][1]["name"] = json!("Source");
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": dup_stage}), 0),
        "InvalidStageDeclarationException"
    );

    let mut build_first = partner_pipeline("p");
    build_first["stages"][0]["actions"][0]["actionTypeId"] = tp_id("Build", "PartnerBuild");
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": build_first}), 0), "InvalidStructureException");

    let mut unknown = partner_pipeline("p");
    unknown["stages"][1]["actions"][0]["actionTypeId"] = custom_id("Build", "Missing");
    assert_eq!(w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": unknown}), 0), "InvalidActionDeclarationException");

    let mut unknown_config = partner_pipeline("p");
    unknown_config["stages"][1]["actions"][0]["configuration"] = json!({"Nope": "x"});
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": unknown_config}), 0),
        "InvalidActionDeclarationException"
    );

    // Nothing was stored by the refused requests.
    assert_eq!(w.ok(CUSTOMER, "ListPipelines", json!({}), 0)["pipelines"], json!([]));

    let created = w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("p")}), 0);
    assert_eq!(created["pipeline"]["version"], 1);
    assert_eq!(created["pipeline"]["stages"][0]["actions"][0]["runOrder"], 1);
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("p")}), 0),
        "PipelineNameInUseException"
    );
    let token_before = w.ok(PARTNER, "ListThirdPartyClients", json!({}), 0)["clients"].clone();
    assert_eq!(token_before.as_array().expect("clients").len(), 2);

    let mut updated = partner_pipeline("p");
    updated["stages"][1]["actions"][0]["name"] = json!("Renamed");
    let out = w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": updated}), 5);
    assert_eq!(out["pipeline"]["version"], 2);
    let got = w.ok(CUSTOMER, "GetPipeline", json!({"name": "p"}), 6);
    assert_eq!(got["pipeline"]["version"], 2);
    assert_eq!(got["pipeline"]["stages"][1]["actions"][0]["name"], "Renamed");
    assert_eq!(got["metadata"]["pipelineArn"], "arn:aws:codepipeline:us-east-1:111111111111:p");
    let first = w.ok(CUSTOMER, "GetPipeline", json!({"name": "p", "version": 1}), 6);
    assert_eq!(first["pipeline"]["version"], 1);
    assert_eq!(first["pipeline"]["stages"][1]["actions"][0]["name"], "Compile");
    assert_eq!(
        w.err(CUSTOMER, "GetPipeline", json!({"name": "p", "version": 3}), 6),
        "PipelineVersionNotFoundException"
    );
    let clients = w.ok(PARTNER, "ListThirdPartyClients", json!({}), 6)["clients"].clone();
    let names: HashSet<_> =
        clients.as_array().expect("clients").iter().map(|c| c["actionName"].as_str().expect("n").to_owned()).collect();
    assert_eq!(
        names,
        HashSet::from(["Fetch".to_owned(), "Renamed".to_owned()]),
        "clients follow the pipeline's actions"
    );
    let fetch_token = |v: &Value| {
        v.as_array().expect("clients").iter().find(|c| c["actionName"] == "Fetch").map(|c| c["clientToken"].clone())
    };
    assert_eq!(fetch_token(&clients), fetch_token(&token_before), "an unchanged action keeps its client");
    assert_eq!(w.err(OTHER, "GetPipeline", json!({"name": "p"}), 6), "PipelineNotFoundException");

    for name in ["b", "a", "c"] {
        w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline(name)}), 7);
    }
    let page = w.ok(CUSTOMER, "ListPipelines", json!({"maxResults": 2}), 8);
    let names: Vec<_> = page["pipelines"].as_array().expect("list").iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, vec![json!("a"), json!("b")]);
    let rest = w.ok(CUSTOMER, "ListPipelines", json!({"maxResults": 2, "nextToken": page["nextToken"]}), 8);
    let names: Vec<_> = rest["pipelines"].as_array().expect("list").iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, vec![json!("c"), json!("p")]);
    assert!(rest.get("nextToken").is_none());
    assert_eq!(w.err(CUSTOMER, "ListPipelines", json!({"nextToken": "garbage"}), 8), "InvalidNextTokenException");
    assert_eq!(w.ok(OTHER, "ListPipelines", json!({}), 8)["pipelines"], json!([]));
}

/// Every version of a pipeline stays readable with `GetPipeline`'s `version`
/// until the pipeline is deleted; a pipeline created again under that name
/// starts at version 1 with none of the old ones.
fn pipeline_versions<S: Store>(w: World<S>) {
    let secs = |s: u64| json!(at(s).duration_since(UNIX_EPOCH).expect("after").as_secs_f64());
    let named = |action: &str| {
        let mut d = partner_pipeline("v");
        d["stages"][1]["actions"][0]["name"] = json!(action);
        d
    };
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": named("Compile")}), 1);
    assert_eq!(w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": named("Second")}), 2)["pipeline"]["version"], 2);
    assert_eq!(w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": named("Third")}), 3)["pipeline"]["version"], 3);
    let arn = "arn:aws:codepipeline:us-east-1:111111111111:v";
    for (v, action) in [(1, "Compile"), (2, "Second"), (3, "Third")] {
        let got = w.ok(CUSTOMER, "GetPipeline", json!({"name": "v", "version": v}), 4);
        assert_eq!(got["pipeline"]["version"], v, "version {v}");
        assert_eq!(got["pipeline"]["stages"][1]["actions"][0]["name"], action, "version {v}'s declaration");
        assert_eq!(got["pipeline"]["stages"][1]["actions"][0]["runOrder"], 1, "stored normalized");
        assert_eq!(got["metadata"]["pipelineArn"], arn);
        assert_eq!(got["metadata"]["created"], secs(1), "the pipeline's creation time");
        assert_eq!(got["metadata"]["updated"], secs(v as u64), "when version {v} was made");
    }
    assert_eq!(
        w.ok(CUSTOMER, "GetPipeline", json!({"name": "v"}), 4),
        w.ok(CUSTOMER, "GetPipeline", json!({"name": "v", "version": 3}), 4),
        "no version is the current one"
    );
    assert_eq!(
        w.err(CUSTOMER, "GetPipeline", json!({"name": "v", "version": 4}), 4),
        "PipelineVersionNotFoundException"
    );
    assert_eq!(
        w.err(OTHER, "GetPipeline", json!({"name": "v", "version": 1}), 4),
        "PipelineNotFoundException",
        "versions are per account"
    );
    assert_eq!(w.err(CUSTOMER, "GetPipeline", json!({"name": "nope", "version": 1}), 4), "PipelineNotFoundException");

    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "v"}), 5);
    assert_eq!(w.err(CUSTOMER, "GetPipeline", json!({"name": "v", "version": 1}), 5), "PipelineNotFoundException");
    assert_eq!(w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": named("Again")}), 6)["pipeline"]["version"], 1);
    let again = w.ok(CUSTOMER, "GetPipeline", json!({"name": "v", "version": 1}), 7);
    assert_eq!(again["pipeline"]["stages"][1]["actions"][0]["name"], "Again", "version 1 is the new pipeline's");
    assert_eq!(again["metadata"]["created"], secs(6));
    for v in [2, 3] {
        assert_eq!(
            w.err(CUSTOMER, "GetPipeline", json!({"name": "v", "version": v}), 7),
            "PipelineVersionNotFoundException",
            "the deleted pipeline's version {v} is gone"
        );
    }
}

/// `{key, value}` tags, as the wire has them.
fn tag_list(tags: &[(&str, &str)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect())
}

fn resource_tags<S: Store>(w: World<S>) {
    let arn = format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:tagged");
    let list = |arn: &str| w.ok(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn}), 1)["tags"].clone();
    let created = w.ok(
        CUSTOMER,
        "CreatePipeline",
        json!({"pipeline": partner_pipeline("tagged"), "tags": tag_list(&[("team", "ci"), ("env", "prod")])}),
        1,
    );
    assert_eq!(created["tags"], tag_list(&[("team", "ci"), ("env", "prod")]), "the tags applied are answered");
    assert_eq!(list(&arn), tag_list(&[("env", "prod"), ("team", "ci")]), "listed by key");

    // Add and overwrite; remove, absent keys included.
    w.ok(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": tag_list(&[("cost", ""), ("team", "cd")])}), 2);
    assert_eq!(list(&arn), tag_list(&[("cost", ""), ("env", "prod"), ("team", "cd")]));
    let page = w.ok(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn, "maxResults": 2}), 2);
    assert_eq!(page["tags"], tag_list(&[("cost", ""), ("env", "prod")]));
    let token = page["nextToken"].as_str().expect("a next page");
    let page =
        w.ok(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn, "maxResults": 2, "nextToken": token}), 2);
    assert_eq!(page["tags"], tag_list(&[("team", "cd")]));
    assert!(page.get("nextToken").is_none(), "the last page has no token");
    assert_eq!(
        w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn, "nextToken": "zz"}), 2),
        "InvalidNextTokenException"
    );
    w.ok(CUSTOMER, "UntagResource", json!({"resourceArn": arn, "tagKeys": ["env", "absent"]}), 3);
    assert_eq!(list(&arn), tag_list(&[("cost", ""), ("team", "cd")]));

    // 50 tags at most; a refused request changes nothing.
    let keys = |from: usize, n: usize| -> Vec<(String, String)> {
        (from..from + n).map(|i| (format!("k{i:02}"), format!("v{i}"))).collect()
    };
    let as_list =
        |tags: &[(String, String)]| tag_list(&tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
    let before = list(&arn);
    assert_eq!(
        w.err(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": as_list(&keys(0, 49))}), 4),
        "TooManyTagsException"
    );
    assert_eq!(list(&arn), before, "a refused TagResource changes nothing");
    w.ok(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": as_list(&keys(0, 48))}), 4);
    assert_eq!(list(&arn).as_array().expect("tags").len(), 50);
    w.ok(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": tag_list(&[("team", "full")])}), 4);
    assert_eq!(
        w.err(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": tag_list(&[("one", "more")])}), 4),
        "TooManyTagsException"
    );
    let all = w.ok(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn}), 4)["tags"].clone();
    assert_eq!(all.as_array().expect("tags").len(), 50, "one page holds every tag");
    assert_eq!(all[49], json!({"key": "team", "value": "full"}), "overwriting a key at the limit is fine");

    // Reserved and repeated keys.
    for tags in [
        tag_list(&[("aws:cloudformation:stack-name", "x")]),
        tag_list(&[("AWS:team", "x")]),
        tag_list(&[("dup", "1"), ("dup", "2")]),
    ] {
        assert_eq!(
            w.err(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": tags}), 5),
            "InvalidTagsException",
            "{tags}"
        );
    }
    assert_eq!(
        w.err(CUSTOMER, "UntagResource", json!({"resourceArn": arn, "tagKeys": ["team", "aws:x"]}), 5),
        "InvalidTagsException"
    );
    assert_eq!(list(&arn), all, "refused requests change nothing");
    for (tags, code) in
        [(tag_list(&[("aws:x", "y")]), "InvalidTagsException"), (as_list(&keys(0, 51)), "TooManyTagsException")]
    {
        assert_eq!(
            w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("refused"), "tags": tags}), 5),
            code
        );
        assert_eq!(
            w.err(CUSTOMER, "GetPipeline", json!({"name": "refused"}), 5),
            "PipelineNotFoundException",
            "refused tags create no pipeline"
        );
    }

    // ARNs: malformed or of another region, partition or service; resources not the caller's.
    for bad in [
        "not-an-arn".to_owned(),
        "arn:aws:s3:::bucket".to_owned(),
        format!("arn:aws:codepipeline:eu-west-1:{CUSTOMER}:tagged"),
        format!("arn:aws-cn:codepipeline:us-east-1:{CUSTOMER}:tagged"),
        format!("arn:aws:codebuild:us-east-1:{CUSTOMER}:tagged"),
        format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:actiontype:Custom/Build/X"),
        format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:bad/name"),
    ] {
        assert_eq!(
            w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": bad}), 6),
            "InvalidArnException",
            "{bad}"
        );
        assert_eq!(
            w.err(CUSTOMER, "TagResource", json!({"resourceArn": bad, "tags": tag_list(&[("a", "b")])}), 6),
            "InvalidArnException",
            "{bad}"
        );
    }
    for missing in [
        format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:nope"),
        format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:actiontype:Custom/Build/Nope/1"),
        format!("arn:aws:codepipeline:us-east-1:{PARTNER}:actiontype:ThirdParty/Build/PartnerBuild/1"),
        format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:webhook:nope"),
    ] {
        assert_eq!(
            w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": missing}), 6),
            "ResourceNotFoundException",
            "{missing}"
        );
    }
    for op in ["ListTagsForResource", "TagResource", "UntagResource"] {
        let input = json!({"resourceArn": arn, "tags": tag_list(&[("a", "b")]), "tagKeys": ["team"]});
        assert_eq!(w.err(OTHER, op, input, 6), "ResourceNotFoundException", "{op}: another account's pipeline");
    }
    assert_eq!(list(&arn), all, "another account changed nothing");

    // A deleted pipeline's tags go with it.
    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "tagged"}), 7);
    assert_eq!(w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn}), 7), "ResourceNotFoundException");
    let again = w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("tagged")}), 8);
    assert!(again.get("tags").is_none(), "no tags given, none answered");
    assert_eq!(list(&arn), json!([]), "a recreated pipeline starts untagged");

    // Custom action types.
    let type_arn = format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:actiontype:Custom/Build/Tagged/1");
    let mut input = custom_type_input();
    input["provider"] = json!("Tagged");
    input["tags"] = tag_list(&[("team", "builders")]);
    let created = w.ok(CUSTOMER, "CreateCustomActionType", input.clone(), 9);
    assert_eq!(created["tags"], tag_list(&[("team", "builders")]));
    assert_eq!(list(&type_arn), tag_list(&[("team", "builders")]));
    w.ok(CUSTOMER, "TagResource", json!({"resourceArn": type_arn, "tags": tag_list(&[("env", "dev")])}), 9);
    w.ok(CUSTOMER, "UntagResource", json!({"resourceArn": type_arn, "tagKeys": ["team"]}), 9);
    assert_eq!(list(&type_arn), tag_list(&[("env", "dev")]));
    assert_eq!(
        w.err(OTHER, "ListTagsForResource", json!({"resourceArn": type_arn}), 9),
        "ResourceNotFoundException",
        "another account's action type"
    );
    let mut refused = input.clone();
    refused["provider"] = json!("Refused");
    refused["tags"] = tag_list(&[("aws:x", "y")]);
    assert_eq!(w.err(CUSTOMER, "CreateCustomActionType", refused, 9), "InvalidTagsException");
    let refused_arn = format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:actiontype:Custom/Build/Refused/1");
    assert_eq!(
        w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": refused_arn}), 9),
        "ResourceNotFoundException",
        "refused tags create no action type"
    );
    w.ok(CUSTOMER, "DeleteCustomActionType", json!({"category": "Build", "provider": "Tagged", "version": "1"}), 10);
    assert_eq!(
        w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": type_arn}), 10),
        "ResourceNotFoundException",
        "a deleted action type has no tags"
    );
}

fn action_type_ownership<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreateCustomActionType", custom_type_input(), 0);
    assert_eq!(w.err(CUSTOMER, "CreateCustomActionType", custom_type_input(), 0), "ValidationException");
    let mut two_queryable = custom_type_input();
    two_queryable["provider"] = json!("Other");
    two_queryable["configurationProperties"][1]["queryable"] = json!(true);
    two_queryable["configurationProperties"][1]["required"] = json!(true);
    assert_eq!(w.err(CUSTOMER, "CreateCustomActionType", two_queryable, 0), "ValidationException");

    let ids = |v: &Value| -> Vec<String> {
        v["actionTypes"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| {
                format!("{}/{}", t["id"]["owner"].as_str().unwrap_or(""), t["id"]["provider"].as_str().unwrap_or(""))
            })
            .collect()
    };
    let all = w.ok(CUSTOMER, "ListActionTypes", json!({}), 1);
    assert_eq!(
        ids(&all),
        ["AWS/Manual", "AWS/S3", "Custom/MyBuilder", "ThirdParty/PartnerBuild", "ThirdParty/PartnerSource"]
    );
    let custom = w.ok(CUSTOMER, "ListActionTypes", json!({"actionOwnerFilter": "Custom"}), 1);
    assert_eq!(ids(&custom), ["Custom/MyBuilder"]);
    let theirs = w.ok(OTHER, "ListActionTypes", json!({"actionOwnerFilter": "Custom"}), 1);
    assert_eq!(theirs["actionTypes"], json!([]), "custom types are private to their account");

    // Paging: more custom types than one page.
    for i in 0..60 {
        let mut t = custom_type_input();
        t["provider"] = json!(format!("P{i:02}"));
        w.ok(OTHER, "CreateCustomActionType", t, 2);
    }
    let first = w.ok(OTHER, "ListActionTypes", json!({"actionOwnerFilter": "Custom"}), 3);
    let next = first["nextToken"].as_str().expect("more pages").to_owned();
    let second = w.ok(OTHER, "ListActionTypes", json!({"actionOwnerFilter": "Custom", "nextToken": next}), 3);
    assert!(second.get("nextToken").is_none());
    let mut seen: Vec<String> = ids(&first);
    seen.extend(ids(&second));
    assert_eq!(seen.len(), 60);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 60);

    // GetActionType / UpdateActionType: the partner owns its type.
    let got = w.ok(CUSTOMER, "GetActionType", tp_id("Build", "PartnerBuild"), 4);
    assert_eq!(got["actionType"]["executor"]["jobTimeout"], 600);
    let mut decl = got["actionType"].clone();
    decl["description"] = json!("Builds things");
    decl["properties"] = json!([{"name": "Target", "optional": false, "key": true, "noEcho": false}]);
    assert_eq!(w.err(OTHER, "UpdateActionType", json!({"actionType": decl}), 4), "ActionTypeNotFoundException");
    assert_eq!(w.err(CUSTOMER, "UpdateActionType", json!({"actionType": decl}), 4), "ActionTypeNotFoundException");
    w.ok(PARTNER, "UpdateActionType", json!({"actionType": decl}), 4);
    let got = w.ok(OTHER, "GetActionType", tp_id("Build", "PartnerBuild"), 5);
    assert_eq!(got["actionType"]["description"], "Builds things");
    let mut longer = got["actionType"].clone();
    longer["executor"]["jobTimeout"] = json!(1200);
    assert_eq!(w.err(PARTNER, "UpdateActionType", json!({"actionType": longer}), 5), "ValidationException");
    let approval = json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"});
    assert_eq!(w.ok(OTHER, "GetActionType", approval.clone(), 5)["actionType"]["id"], approval);
    assert_eq!(w.err(OTHER, "GetActionType", tp_id("Build", "Nope"), 5), "ActionTypeNotFoundException");
    // The new required property is enforced on pipelines.
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("p")}), 6),
        "InvalidActionDeclarationException"
    );

    // Delete, and the version can never come back.
    let del = json!({"category": "Build", "provider": "MyBuilder", "version": "1"});
    assert_eq!(w.err(OTHER, "DeleteCustomActionType", del.clone(), 7), "ActionTypeNotFoundException");
    w.ok(CUSTOMER, "DeleteCustomActionType", del.clone(), 7);
    assert_eq!(w.err(CUSTOMER, "DeleteCustomActionType", del, 7), "ActionTypeNotFoundException");
    assert_eq!(w.err(CUSTOMER, "CreateCustomActionType", custom_type_input(), 8), "ValidationException");
    assert_eq!(
        ids(&w.ok(CUSTOMER, "ListActionTypes", json!({"actionOwnerFilter": "Custom"}), 8)),
        Vec::<String>::new()
    );
}

fn stop_and_delete<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let stop = |abandon: bool| json!({"pipelineName": "app", "pipelineExecutionId": exec, "abandon": abandon, "reason": "enough"});
    // Stop and wait: the running source action may finish.
    w.ok(CUSTOMER, "StopPipelineExecution", stop(false), 1);
    assert_eq!(w.status("app", &exec), "Stopping");
    assert_eq!(w.err(CUSTOMER, "StopPipelineExecution", stop(false), 1), "DuplicatedStopRequestException");
    let (src, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 2);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": token}), 3);
    assert_eq!(w.status("app", &exec), "Stopped");
    let none = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 4);
    assert_eq!(none["jobs"], json!([]), "a stopped execution starts no more actions");
    assert_eq!(w.err(CUSTOMER, "StopPipelineExecution", stop(true), 4), "PipelineExecutionNotStoppableException");
    let list = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "app"}), 4);
    assert_eq!(list["pipelineExecutionSummaries"][0]["stopTrigger"]["reason"], "enough");

    // Stop and abandon: the queued job is withdrawn.
    let exec2 = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 5)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    w.ok(
        CUSTOMER,
        "StopPipelineExecution",
        json!({"pipelineName": "app", "pipelineExecutionId": exec2, "abandon": true}),
        6,
    );
    assert_eq!(w.status("app", &exec2), "Stopped");
    let none = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 7);
    assert_eq!(none["jobs"], json!([]));
    assert_eq!(
        w.err(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "app", "pipelineExecutionId": "nope"}), 7),
        "PipelineExecutionNotFoundException"
    );

    // Delete: the pipeline's jobs and clients go with it.
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 8);
    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "app"}), 9);
    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "app"}), 9);
    let none = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 10);
    assert_eq!(none["jobs"], json!([]));
    assert_eq!(w.ok(PARTNER, "ListThirdPartyClients", json!({}), 10)["clients"], json!([]));
    assert_eq!(w.err(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 10), "PipelineNotFoundException");
    assert_eq!(
        w.err(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "app"}), 10),
        "PipelineNotFoundException"
    );
}

fn parallel_actions_and_run_order<S: Store>(w: World<S>) {
    custom_source(&w);
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": "Test", "provider": "T", "version": "1",
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 2},
               "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}}),
        0,
    );
    let t = custom_id("Test", "T");
    let decl = declaration(
        "par",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            (
                "Test",
                vec![
                    action("A", t.clone(), &["code"], &["a"], 1),
                    action("B", t.clone(), &["code"], &["b"], 1),
                    action("C", t.clone(), &["a", "b"], &[], 2),
                ],
            ),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "par"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    run_custom(&w, "Source", "MySource", 1);
    // A and B (run order 1) run in parallel; C waits for both.
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": t, "maxBatchSize": 10}), 2);
    let jobs = polled["jobs"].as_array().expect("jobs").clone();
    let names: HashSet<_> =
        jobs.iter().map(|j| j["data"]["pipelineContext"]["action"]["name"].as_str().expect("n").to_owned()).collect();
    assert_eq!(names, HashSet::from(["A".to_owned(), "B".to_owned()]));
    for j in &jobs {
        w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": j["id"], "nonce": j["nonce"]}), 2);
    }
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": jobs[0]["id"]}), 3);
    let none = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": t}), 3);
    assert_eq!(none["jobs"], json!([]), "C waits for its whole lower run order");
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": jobs[1]["id"]}), 4);
    let c = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": t}), 5)["jobs"][0].clone();
    assert_eq!(c["data"]["pipelineContext"]["action"]["name"], "C");
    let inputs: HashSet<_> = c["data"]["inputArtifacts"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|a| a["name"].as_str().expect("n").to_owned())
        .collect();
    assert_eq!(inputs, HashSet::from(["a".to_owned(), "b".to_owned()]));
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": c["id"], "nonce": c["nonce"]}), 5);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": c["id"]}), 6);
    assert_eq!(w.status("par", &exec), "Succeeded");
}

/// Many threads poll one queue through the API: each job is handed to exactly
/// one of them, and every job is handed out.
fn concurrent_polls<S: Store>(make: &dyn Fn() -> S) {
    let w = Arc::new(World::new(make()));
    const EXECUTIONS: usize = 40;
    custom_source(&w);
    let decl = declaration(
        "busy",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            (
                "Gate",
                vec![
                    json!({"name": "Ok", "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}),
                ],
            ),
        ],
    );
    let mut decl = decl;
    decl["pipelineType"] = json!("V2");
    decl["executionMode"] = json!("PARALLEL");
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    for _ in 0..EXECUTIONS {
        w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "busy"}), 0);
    }
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let w = Arc::clone(&w);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let polled = w.ok(
                        CUSTOMER,
                        "PollForJobs",
                        json!({"actionTypeId": custom_id("Source", "MySource"), "maxBatchSize": 3}),
                        1,
                    );
                    let jobs = polled["jobs"].as_array().expect("jobs").clone();
                    if jobs.is_empty() {
                        return mine;
                    }
                    for j in jobs {
                        let ack = w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": j["id"], "nonce": j["nonce"]}), 1);
                        assert_eq!(ack["status"], "InProgress");
                        w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": j["id"]}), 1);
                        mine.push(j["id"].as_str().expect("id").to_owned());
                    }
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for t in threads {
        for id in t.join().expect("poller thread") {
            assert!(seen.insert(id.clone()), "job {id} handed out twice");
        }
    }
    assert_eq!(seen.len(), EXECUTIONS);
    let list = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "busy"}), 2);
    let summaries = list["pipelineExecutionSummaries"].as_array().expect("list");
    assert_eq!(summaries.len(), EXECUTIONS);
    assert!(summaries.iter().all(|s| s["status"] == "InProgress"), "every execution waits at its approval");
}

/// Source (custom `MySource`, created by the caller) -> Approval, in `mode`.
pub(crate) fn gated<S: Store>(w: &World<S>, name: &str, mode: Option<&str>) {
    let approval = json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"});
    let mut decl = declaration(
        name,
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            ("Approve", vec![json!({"name": "Ok", "actionTypeId": approval})]),
        ],
    );
    if let Some(m) = mode {
        decl["pipelineType"] = json!("V2");
        decl["executionMode"] = json!(m);
    }
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
}

pub(crate) fn start<S: Store>(w: &World<S>, name: &str, secs: u64) -> String {
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": name}), secs)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Approves the approval the pipeline's state shows as in progress.
pub(crate) fn approve<S: Store>(w: &World<S>, name: &str, secs: u64) -> String {
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": name}), secs);
    let latest = &state["stageStates"][1]["actionStates"][0]["latestExecution"];
    let token = latest["token"].as_str().expect("an approval waits").to_owned();
    w.ok(
        CUSTOMER,
        "PutApprovalResult",
        json!({"pipelineName": name, "stageName": "Approve", "actionName": "Ok", "token": token, "result": {"summary": "ok", "status": "Approved"}}),
        secs,
    );
    state["stageStates"][1]["latestExecution"]["pipelineExecutionId"].as_str().expect("id").to_owned()
}

fn superseded_executions<S: Store>(w: World<S>) {
    let mut bad = declaration("x", vec![]);
    bad["executionMode"] = json!("QUEUED");
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": bad}), 0),
        "ValidationException",
        "QUEUED needs V2"
    );
    custom_source(&w);
    gated(&w, "sup", None);
    let first = start(&w, "sup", 1);
    run_custom(&w, "Source", "MySource", 2);
    // `first` holds the approval stage; the next two wait to enter it.
    let second = start(&w, "sup", 3);
    run_custom(&w, "Source", "MySource", 4);
    assert_eq!(w.status("sup", &second), "InProgress");
    let third = start(&w, "sup", 5);
    run_custom(&w, "Source", "MySource", 6);
    assert_eq!(w.status("sup", &second), "Superseded", "a newer execution replaced it at the stage entrance");
    assert_eq!(w.status("sup", &third), "InProgress");
    assert_eq!(approve(&w, "sup", 7), first);
    assert_eq!(w.status("sup", &first), "Succeeded");
    // The newest waiter entered the stage the first one left.
    assert_eq!(approve(&w, "sup", 8), third);
    assert_eq!(w.status("sup", &third), "Succeeded");
}

fn queued_executions<S: Store>(w: World<S>) {
    custom_source(&w);
    gated(&w, "q", Some("QUEUED"));
    let once = json!({"name": "q", "clientRequestToken": "retry-me"});
    let first = w.ok(CUSTOMER, "StartPipelineExecution", once.clone(), 0);
    assert_eq!(w.ok(CUSTOMER, "StartPipelineExecution", once, 0), first, "a retried start is idempotent");
    w.ok(
        CUSTOMER,
        "StopPipelineExecution",
        json!({"pipelineName": "q", "pipelineExecutionId": first["pipelineExecutionId"], "abandon": true}),
        0,
    );
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let id = start(&w, "q", 10 * i + 1);
            run_custom(&w, "Source", "MySource", 10 * i + 2);
            id
        })
        .collect();
    // Each waits its turn for the approval stage, oldest first.
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(approve(&w, "q", 100 + i as u64), *id);
        assert_eq!(w.status("q", id), "Succeeded");
    }
    // PARALLEL: nobody waits.
    gated(&w, "par2", Some("PARALLEL"));
    let a = start(&w, "par2", 200);
    let b = start(&w, "par2", 201);
    run_custom(&w, "Source", "MySource", 202);
    run_custom(&w, "Source", "MySource", 203);
    for id in [&a, &b] {
        let state =
            w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "par2", "pipelineExecutionId": id}), 204);
        assert_eq!(state["pipelineExecution"]["status"], "InProgress");
    }
    let list = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "par2"}), 205);
    let approvals =
        list["actionExecutionDetails"].as_array().expect("list").iter().filter(|d| d["actionName"] == "Ok").count();
    assert_eq!(approvals, 2, "both executions are in the approval stage at once");
}

/// `ListActionExecutions` without a filter pages through the actions of
/// every execution, however many, newest execution first.
fn action_executions_of_every_execution<S: Store>(w: World<S>) {
    custom_source(&w);
    gated(&w, "many", Some("PARALLEL"));
    // Each execution's source is one action execution (a queued job).
    let started: Vec<String> = (0..130).map(|i| start(&w, "many", i)).collect();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut input = json!({"pipelineName": "many", "maxResults": 40});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let page = w.ok(CUSTOMER, "ListActionExecutions", input, 200);
        pages += 1;
        for d in page["actionExecutionDetails"].as_array().expect("details") {
            seen.push(d["pipelineExecutionId"].as_str().expect("id").to_owned());
        }
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 4, "130 actions in pages of 40");
    let newest_first: Vec<String> = started.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "every execution's action once, newest execution first");
    let all = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "many"}), 200);
    assert_eq!(all["actionExecutionDetails"].as_array().map(Vec::len), Some(100), "maxResults defaults to 100");
    assert!(all["nextToken"].is_string());
}

/// Whether `v`, written out, contains `needle` anywhere.
fn shows(v: &Value, needle: &str) -> bool {
    v.to_string().contains(needle)
}

/// Issue 8 item 7: secret configuration values (`secret` on custom types,
/// `noEcho` on third-party ones) leave the service only in job data; an
/// update that sends the mask back keeps the stored value.
fn secret_configuration_values<S: Store>(w: World<S>) {
    const TOKEN: &str = "tok-s3cret-42";
    const KEY: &str = "key-k3y-77";
    let mut builder = custom_type_input();
    builder["provider"] = json!("SecretBuilder");
    builder["configurationProperties"] = json!([
        {"name": "Project", "required": true, "key": true, "secret": false},
        {"name": "Token", "required": false, "key": false, "secret": true},
    ]);
    builder["settings"] = json!({
        "executionUrlTemplate": "https://builder.example/{Config:Project}/{Config:Token}/{ExternalExecutionId}",
        "entityUrlTemplate": "https://builder.example/{Config:Project}?t={Config:Token}",
    });
    w.ok(CUSTOMER, "CreateCustomActionType", builder, 0);
    custom_source(&w);
    let mut partner = w.ok(PARTNER, "GetActionType", tp_id("Build", "PartnerBuild"), 0)["actionType"].clone();
    partner["properties"] = json!([{"name": "ApiKey", "optional": true, "key": false, "noEcho": true}]);
    w.ok(PARTNER, "UpdateActionType", json!({"actionType": partner}), 0);

    let make = |name: &str, token: &str| {
        json!({"name": name, "actionTypeId": custom_id("Build", "SecretBuilder"),
               "configuration": {"Project": "alpha", "Token": token}, "inputArtifacts": [{"name": "code"}]})
    };
    let partner_action = |key: &str| {
        json!({"name": "Partner", "actionTypeId": tp_id("Build", "PartnerBuild"),
               "configuration": {"ApiKey": key}, "inputArtifacts": [{"name": "code"}]})
    };
    let decl = declaration(
        "secrets",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            ("Build", vec![make("Make", TOKEN), partner_action(KEY)]),
        ],
    );
    let masked_build = |p: &Value| -> (Value, Value) {
        let actions = &p["stages"][1]["actions"];
        (actions[0]["configuration"].clone(), actions[1]["configuration"].clone())
    };
    let created = w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    assert_eq!(
        masked_build(&created["pipeline"]),
        (json!({"Project": "alpha", "Token": "****"}), json!({"ApiKey": "****"}))
    );
    let got = w.ok(CUSTOMER, "GetPipeline", json!({"name": "secrets"}), 1);
    assert_eq!(
        masked_build(&got["pipeline"]),
        (json!({"Project": "alpha", "Token": "****"}), json!({"ApiKey": "****"}))
    );

    // The jobs carry the real values.
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "secrets"}), 2)["pipelineExecutionId"].clone();
    run_custom(&w, "Source", "MySource", 3);
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Build", "SecretBuilder")}), 4);
    let job = &polled["jobs"][0];
    assert_eq!(job["data"]["actionConfiguration"]["configuration"]["Token"], TOKEN);
    let id = job["id"].as_str().expect("job").to_owned();
    let details = w.ok(CUSTOMER, "GetJobDetails", json!({"jobId": id}), 4);
    assert_eq!(details["jobDetails"]["data"]["actionConfiguration"]["configuration"]["Token"], TOKEN);
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": id, "nonce": job["nonce"]}), 4);
    w.ok(
        CUSTOMER,
        "PutJobSuccessResult",
        json!({"jobId": id, "executionDetails": {"externalExecutionId": "run-1"}}),
        5,
    );
    let (tp_job, tp_token, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 5);
    let tp_details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": tp_job, "clientToken": tp_token}), 5);
    assert_eq!(tp_details["jobDetails"]["data"]["actionConfiguration"]["configuration"]["ApiKey"], KEY);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": tp_job, "clientToken": tp_token}), 6);
    assert_eq!(w.status("secrets", exec.as_str().expect("id")), "Succeeded");

    // Everything else shows the mask: action executions (configuration,
    // resolvedConfiguration, the execution URL) and the state (entity URL).
    let actions = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "secrets"}), 7);
    let of = |name: &str| -> Value {
        actions["actionExecutionDetails"]
            .as_array()
            .expect("details")
            .iter()
            .find(|d| d["actionName"] == name)
            .cloned()
            .expect("action listed")
    };
    for (name, masked) in
        [("Make", json!({"Project": "alpha", "Token": "****"})), ("Partner", json!({"ApiKey": "****"}))]
    {
        assert_eq!(of(name)["input"]["configuration"], masked, "{name}");
        assert_eq!(of(name)["input"]["resolvedConfiguration"], masked, "{name}");
    }
    let url = of("Make")["output"]["executionResult"]["externalExecutionUrl"].clone();
    assert_eq!(url, "https://builder.example/alpha/{Config:Token}/run-1", "secret placeholders are not filled in");
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "secrets"}), 7);
    assert_eq!(
        state["stageStates"][1]["actionStates"][0]["entityUrl"],
        "https://builder.example/alpha?t={Config:Token}"
    );
    let execution =
        w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "secrets", "pipelineExecutionId": exec}), 7);
    let executions = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "secrets"}), 7);
    for v in [&actions, &state, &execution, &executions, &created, &got] {
        assert!(!shows(v, TOKEN) && !shows(v, KEY), "a secret leaked: {v}");
    }

    // The documented round trip: get, edit something else, update with the
    // masks as they came. The stored values stay; the next jobs get them.
    let mut edited = got["pipeline"].clone();
    edited["stages"][1]["actions"][0]["configuration"]["Project"] = json!("beta");
    let updated = w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": edited}), 8);
    assert!(!shows(&updated, TOKEN) && !shows(&updated, KEY), "{updated}");
    assert_eq!(masked_build(&updated["pipeline"]).0, json!({"Project": "beta", "Token": "****"}));
    for version in [1, 2] {
        let v = w.ok(CUSTOMER, "GetPipeline", json!({"name": "secrets", "version": version}), 8);
        assert_eq!(masked_build(&v["pipeline"]).1, json!({"ApiKey": "****"}), "version {version}");
        assert!(!shows(&v, TOKEN) && !shows(&v, KEY), "version {version}: {v}");
    }
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "secrets"}), 9);
    run_custom(&w, "Source", "MySource", 10);
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Build", "SecretBuilder")}), 11);
    assert_eq!(
        polled["jobs"][0]["data"]["actionConfiguration"]["configuration"],
        json!({"Project": "beta", "Token": TOKEN}),
        "the masked secret kept its value"
    );
    let job = &polled["jobs"][0];
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}), 11);
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}), 11);
    let (tp_job, tp_token, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 11);
    let tp_details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": tp_job, "clientToken": tp_token}), 11);
    assert_eq!(tp_details["jobDetails"]["data"]["actionConfiguration"]["configuration"]["ApiKey"], KEY);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": tp_job, "clientToken": tp_token}), 11);

    // A new value replaces the secret; a new action (another name) sent the
    // mask gets the mask as its value: only the same action keeps a secret.
    let mut renamed = w.ok(CUSTOMER, "GetPipeline", json!({"name": "secrets"}), 12)["pipeline"].clone();
    renamed["stages"][1]["actions"][0]["name"] = json!("Make2");
    renamed["stages"][1]["actions"][1]["configuration"]["ApiKey"] = json!("key-new");
    w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": renamed}), 12);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "secrets"}), 13);
    run_custom(&w, "Source", "MySource", 14);
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Build", "SecretBuilder")}), 15);
    assert_eq!(polled["jobs"][0]["data"]["actionConfiguration"]["configuration"]["Token"], "****");
    let (tp_job, tp_token, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 15);
    let tp_details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": tp_job, "clientToken": tp_token}), 15);
    assert_eq!(tp_details["jobDetails"]["data"]["actionConfiguration"]["configuration"]["ApiKey"], "key-new");
    let got = w.ok(CUSTOMER, "GetPipeline", json!({"name": "secrets"}), 16);
    assert!(!shows(&got, "key-new"), "{got}");
}

/// [`config`] with small quotas: two pipelines and one custom action type per account.
pub fn quota_config() -> ServiceConfig {
    ServiceConfig { quotas: Quotas { pipelines_per_account: 2, custom_action_types_per_account: 1 }, ..config() }
}

/// Issue 8 item 13: per-account quotas answer `LimitExceededException` and
/// change nothing; deleting makes room again; other accounts have their own.
fn quotas<S: Store>(make: &dyn Fn() -> S) {
    let w = World::with_config(make(), &quota_config());
    for name in ["one", "two"] {
        w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline(name)}), 0);
    }
    let refused = w.call(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("three")}), 1).unwrap_err();
    assert_eq!((refused.status, refused.code.as_str()), (400, "LimitExceededException"), "{refused:?}");
    assert!(refused.message.contains("limit of 2"), "{}", refused.message);
    assert_eq!(w.err(CUSTOMER, "GetPipeline", json!({"name": "three"}), 1), "PipelineNotFoundException");
    // The name check comes first: an existing name is still PipelineNameInUseException.
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("one")}), 1),
        "PipelineNameInUseException"
    );
    w.ok(OTHER, "CreatePipeline", json!({"pipeline": partner_pipeline("three")}), 1);
    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "two"}), 2);
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("three")}), 2);
    let listed = w.ok(CUSTOMER, "ListPipelines", json!({}), 2);
    let names: Vec<&str> =
        listed["pipelines"].as_array().expect("list").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["one", "three"]);

    w.ok(CUSTOMER, "CreateCustomActionType", custom_type_input(), 3);
    let mut second = custom_type_input();
    second["provider"] = json!("Second");
    let refused = w.call(CUSTOMER, "CreateCustomActionType", second.clone(), 3).unwrap_err();
    assert_eq!(refused.code, "LimitExceededException", "{refused:?}");
    assert!(refused.message.contains("limit of 1"), "{}", refused.message);
    let custom = w.ok(CUSTOMER, "ListActionTypes", json!({"actionOwnerFilter": "Custom"}), 3);
    assert_eq!(custom["actionTypes"].as_array().map(Vec::len), Some(1), "nothing was created: {custom}");
    w.ok(OTHER, "CreateCustomActionType", second.clone(), 3);
    // A deleted type does not count.
    w.ok(CUSTOMER, "DeleteCustomActionType", json!({"category": "Build", "provider": "MyBuilder", "version": "1"}), 4);
    w.ok(CUSTOMER, "CreateCustomActionType", second, 4);
}

/// [`config`] where the operator lists the owner among `PartnerBuild`'s
/// polling accounts, as operators often do.
pub fn owner_polls_config() -> ServiceConfig {
    let mut c = config();
    for t in &mut c.third_party_action_types {
        t.polling_accounts = vec![PARTNER.into(), POLLER.into()];
    }
    c
}

/// Issue 8 item 13: `UpdateActionType` takes back exactly what
/// `GetActionType` gave (the documented get, edit, update round trip), and
/// refuses only a real change of what the operator sets.
fn action_type_round_trip<S: Store>(make: &dyn Fn() -> S) {
    let w = World::with_config(make(), &owner_polls_config());
    let got = w.ok(PARTNER, "GetActionType", tp_id("Build", "PartnerBuild"), 0)["actionType"].clone();
    w.ok(PARTNER, "UpdateActionType", json!({"actionType": got.clone()}), 0);
    let mut edited = got.clone();
    edited["description"] = json!("Builds things");
    edited["properties"] =
        json!([{"name": "Target", "optional": true, "key": false, "noEcho": true, "queryable": false}]);
    edited["permissions"] = json!({"allowedAccounts": [CUSTOMER]});
    w.ok(PARTNER, "UpdateActionType", json!({"actionType": edited.clone()}), 1);
    let again = w.ok(PARTNER, "GetActionType", tp_id("Build", "PartnerBuild"), 2)["actionType"].clone();
    assert_eq!(again, edited, "what was sent is what GetActionType gives");
    // The polling accounts in another order, or without the owner, are no change.
    let mut reordered = again.clone();
    reordered["executor"]["configuration"]["jobWorkerExecutorConfiguration"]["pollingAccounts"] = json!([POLLER]);
    w.ok(PARTNER, "UpdateActionType", json!({"actionType": reordered}), 2);
    // A real change is refused, and nothing changed.
    let mut more = again.clone();
    more["executor"]["configuration"]["jobWorkerExecutorConfiguration"]["pollingAccounts"] =
        json!([PARTNER, POLLER, OTHER]);
    more["description"] = json!("changed");
    assert_eq!(w.err(PARTNER, "UpdateActionType", json!({"actionType": more}), 3), "ValidationException");
    assert_eq!(w.ok(PARTNER, "GetActionType", tp_id("Build", "PartnerBuild"), 3)["actionType"], edited);
    assert_eq!(
        w.err(OTHER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 3),
        "ActionTypeNotFoundException"
    );
}

/// Found by the job model (crates/store-sqlite/tests/job_model.rs): a lease
/// that ended before the job's timeout kills its nonce even when the sweep
/// writes the timeout down later (and the details stop handing it out); an
/// acknowledged job past its timeout is `TimedOut` to a repeated
/// acknowledgement before the sweep as after it.
fn leases_and_timeouts_in_order<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    let (src, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 0);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": token}), 0);
    // PartnerBuild's job: created at 0, timeout 600 s; dispatched at 1 with a 30 s lease.
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 1);
    let job = polled["jobs"][0]["jobId"].as_str().expect("job").to_owned();
    let token = w.client_token(polled["jobs"][0]["clientId"].as_str().expect("client"));
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 1);
    let nonce = details["jobDetails"]["nonce"].clone();
    let ack = json!({"jobId": job, "nonce": nonce, "clientToken": token});
    // Once the lease is over the details no longer hand out its nonce, swept or not.
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 31);
    assert!(details["jobDetails"].get("nonce").is_none(), "{details}");
    // Nobody swept between the lease's end (31) and the timeout (600).
    assert_eq!(w.svc.tick(at(700)).expect("sweep").timed_out, 1);
    assert_eq!(w.err(PARTNER, "AcknowledgeThirdPartyJob", ack, 700), "InvalidNonceException");

    // An acknowledged custom job (timeout 3600 s) asked again after its timeout, before any sweep.
    custom_source(&w);
    let decl = declaration(
        "mine",
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            ("Build", vec![action("Compile", tp_id("Build", "PartnerBuild"), &["code"], &[], 1)]),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 1000);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "mine"}), 1000);
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Source", "MySource")}), 1000);
    let ack = json!({"jobId": polled["jobs"][0]["id"], "nonce": polled["jobs"][0]["nonce"]});
    assert_eq!(w.ok(CUSTOMER, "AcknowledgeJob", ack.clone(), 1000)["status"], "InProgress");
    assert_eq!(w.ok(CUSTOMER, "AcknowledgeJob", ack.clone(), 4600)["status"], "TimedOut");
    w.svc.tick(at(4600)).expect("sweep");
    assert_eq!(w.ok(CUSTOMER, "AcknowledgeJob", ack, 4601)["status"], "TimedOut");
}
