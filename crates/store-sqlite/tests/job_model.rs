//! A model-based test of the job state machine on the real SQLite store
//! (issue 8, "tests that look for the next such bug"): random sequences of
//! the ten job operations, with wrong and stale nonces, wrong client tokens,
//! jobs named by another account, unknown and other-family job ids, polls of
//! a type the caller may not poll, clock jumps past dispatch leases and job timeouts, sweeps, new
//! executions and restarts (the store reopened on the same file), each
//! answer checked against a small reference model of what the service
//! promises:
//! - a poll hands out exactly the oldest queued jobs of its queue, so no job
//!   is handed out while another worker holds it (no job with two owners);
//! - only the nonce of a job's latest dispatch acknowledges it, and only
//!   while its lease runs (or once acknowledged);
//! - results are accepted exactly for acknowledged jobs within their
//!   timeout, and an accepted result stays (restarts included);
//! - every refusal is the one AWS names (`JobNotFoundException`,
//!   `InvalidClientTokenException`, `InvalidNonceException`,
//!   `InvalidJobStateException`, `ActionTypeNotFoundException`).
//!
//! Jobs are known to the model by creation order (`seq`); their ids and
//! nonces are learned from the service's answers. Each case runs the store as
//! it is (job writes through its writer, details inline) or saying its reads
//! are not quick (every operation as blocking work).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use cpjobs_core::ApiError;
use cpjobs_core::ServiceConfig;
use cpjobs_core::testing::domain::{self, CUSTOMER, OTHER, PARTNER, World, at, tp_id};
use cpjobs_store_sqlite::SqliteStore;
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use serde_json::{Value, json};

/// The dispatch lease, seconds.
const LEASE: i64 = 30;
/// The job timeout of the third-party source type (set in [`config`]), seconds.
const TP_TIMEOUT: i64 = 120;
/// The job timeout of custom types (the default), seconds.
const CU_TIMEOUT: i64 = 3600;

/// The two job families: third-party (`PartnerSource`) and custom (`MySource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Family {
    Tp,
    Cu,
}

impl Family {
    fn timeout(self) -> i64 {
        match self {
            Family::Tp => TP_TIMEOUT,
            Family::Cu => CU_TIMEOUT,
        }
    }

    fn pipeline(self) -> &'static str {
        match self {
            Family::Tp => "tp",
            Family::Cu => "cu",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Queued,
    Dispatched,
    InProgress,
    Succeeded,
    Failed,
    TimedOut,
}

impl Status {
    fn unfinished(self) -> bool {
        matches!(self, Status::Queued | Status::Dispatched | Status::InProgress)
    }

    fn wire(self) -> &'static str {
        match self {
            Status::Queued => "Queued",
            Status::Dispatched => "Dispatched",
            Status::InProgress => "InProgress",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::TimedOut => "TimedOut",
        }
    }
}

/// One job as the model sees it.
#[derive(Clone, Debug)]
struct Job {
    family: Family,
    /// Creation order: the model's handle, and the queue's tie-break.
    seq: usize,
    created: i64,
    status: Status,
    /// Whether the service told us its id (it was polled at least once).
    known: bool,
    /// How many times it was dispatched: nonce `d` (1-based) is that dispatch's.
    dispatches: usize,
    /// Whether the latest dispatch's nonce still acknowledges (its lease did
    /// not end before an acknowledgement).
    nonce_live: bool,
    lease_until: i64,
    /// It timed out while dispatched and not acknowledged.
    timed_out_dispatched: bool,
}

impl Job {
    fn timeout_at(&self) -> i64 {
        self.created + self.family.timeout()
    }

    /// Applies what time did by `now`: a lease that ended before the job's
    /// timeout queues it again (its nonce dies); a timeout ends it.
    fn settle(&mut self, now: i64) {
        if self.status == Status::Dispatched && self.lease_until <= now && self.lease_until < self.timeout_at() {
            self.status = Status::Queued;
            self.nonce_live = false;
        }
        if self.status.unfinished() && self.timeout_at() <= now {
            self.timed_out_dispatched = self.status == Status::Dispatched;
            self.status = Status::TimedOut;
        }
    }
}

/// Which job an operation names.
#[derive(Clone, Copy, Debug)]
enum Target {
    Job(usize),
    /// A known job, named by another partner (with the job's client token).
    Stranger(usize),
    Unknown,
}

impl Target {
    fn seq(self) -> Option<usize> {
        match self {
            Target::Job(seq) | Target::Stranger(seq) => Some(seq),
            Target::Unknown => None,
        }
    }
}

/// Which nonce an acknowledgement sends.
#[derive(Clone, Copy, Debug)]
enum Nonce {
    Latest,
    Previous,
    Wrong,
}

#[derive(Clone, Debug)]
enum Op {
    /// A poll of `family`'s type; `other`: by an account that may not poll it.
    Poll {
        family: Family,
        max: usize,
        other: bool,
    },
    Acknowledge {
        api: Family,
        job: Target,
        nonce: Nonce,
        token_ok: bool,
    },
    Details {
        api: Family,
        job: Target,
        token_ok: bool,
    },
    Success {
        api: Family,
        job: Target,
        token_ok: bool,
        continuation: bool,
    },
    Failure {
        api: Family,
        job: Target,
        token_ok: bool,
    },
    Advance(i64),
    Tick,
    Restart,
    Start(Family),
}

/// What the service must answer to the last operation.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Nothing,
    Refused(&'static str),
    /// The acknowledgement's status, or one of two answers where the model
    /// allows either (see [`Model::acknowledge`]).
    Acknowledged(&'static str, Option<&'static str>),
    /// A poll hands out these jobs (by `seq`).
    Polled(Vec<usize>),
    /// Details; the third-party answer's nonce, when given, is dispatch `d`'s
    /// and still `allowed` (not dead), and must be given when `required`.
    Details {
        dispatch: usize,
        allowed: bool,
        required: bool,
    },
    Accepted,
}

#[derive(Clone, Debug)]
struct Model {
    /// Whether the store says its reads are not quick (every operation as blocking work).
    submit: bool,
    now: i64,
    jobs: Vec<Job>,
    expect: Expect,
}

impl Model {
    fn settle(&mut self) {
        let now = self.now;
        self.jobs.iter_mut().for_each(|j| j.settle(now));
    }

    fn create(&mut self, family: Family) {
        let seq = self.jobs.len();
        self.jobs.push(Job {
            family,
            seq,
            created: self.now,
            status: Status::Queued,
            known: false,
            dispatches: 0,
            nonce_live: false,
            lease_until: 0,
            timed_out_dispatched: false,
        });
    }

    /// The job an operation of `api` reaches, or the refusal it gets first.
    fn reach(&self, api: Family, target: Target, token_ok: bool) -> Result<usize, &'static str> {
        match target {
            Target::Job(seq) if self.jobs[seq].family == api => match (api, token_ok) {
                (Family::Tp, false) => Err("InvalidClientTokenException"),
                _ => Ok(seq),
            },
            _ => Err("JobNotFoundException"),
        }
    }

    fn acknowledge(&mut self, api: Family, target: Target, nonce: Nonce, token_ok: bool) -> Expect {
        let seq = match self.reach(api, target, token_ok) {
            Ok(seq) => seq,
            Err(code) => return Expect::Refused(code),
        };
        let now = self.now;
        let j = &mut self.jobs[seq];
        if !matches!(nonce, Nonce::Latest) || !j.nonce_live {
            return Expect::Refused("InvalidNonceException");
        }
        match j.status {
            Status::Dispatched => {
                j.status = Status::InProgress;
                Expect::Acknowledged("InProgress", None)
            }
            // Timed out while dispatched: once the lease is over too, the
            // nonce may be seen as dead or the job as timed out (AWS does
            // not say which comes first); either answer keeps the job.
            Status::TimedOut if j.timed_out_dispatched && j.lease_until <= now => {
                Expect::Acknowledged("TimedOut", Some("InvalidNonceException"))
            }
            s => Expect::Acknowledged(s.wire(), None),
        }
    }

    fn result(&mut self, api: Family, target: Target, token_ok: bool, to: Status, continuation: bool) -> Expect {
        let seq = match self.reach(api, target, token_ok) {
            Ok(seq) => seq,
            Err(code) => return Expect::Refused(code),
        };
        if self.jobs[seq].status != Status::InProgress {
            return Expect::Refused("InvalidJobStateException");
        }
        self.jobs[seq].status = to;
        if continuation {
            self.create(api);
        }
        Expect::Accepted
    }

    fn poll(&mut self, family: Family, max: usize) -> Expect {
        let mut queued: Vec<&mut Job> =
            self.jobs.iter_mut().filter(|j| j.family == family && j.status == Status::Queued).collect();
        queued.sort_by_key(|j| (j.created, j.seq));
        let mut polled = Vec::new();
        for j in queued.into_iter().take(max) {
            j.status = Status::Dispatched;
            j.known = true;
            j.dispatches += 1;
            j.nonce_live = true;
            j.lease_until = self.now + LEASE;
            j.timed_out_dispatched = false;
            polled.push(j.seq);
        }
        Expect::Polled(polled)
    }
}

struct JobMachine;

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Tp), Just(Family::Cu)]
}

impl ReferenceStateMachine for JobMachine {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        proptest::bool::ANY
            .prop_map(|submit| {
                let mut m = Model { submit, now: 0, jobs: vec![], expect: Expect::Nothing };
                // Two executions of each pipeline are started at t = 0 (see `init_test`).
                for f in [Family::Tp, Family::Tp, Family::Cu, Family::Cu] {
                    m.create(f);
                }
                m
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        let known: Vec<usize> = state.jobs.iter().filter(|j| j.known).map(|j| j.seq).collect();
        let target = if known.is_empty() {
            Just(Target::Unknown).boxed()
        } else {
            let select = proptest::sample::select(known);
            prop_oneof![
                16 => select.clone().prop_map(Target::Job),
                2 => Just(Target::Unknown),
                1 => select.prop_map(Target::Stranger),
            ]
            .boxed()
        };
        let nonce = prop_oneof![8 => Just(Nonce::Latest), 1 => Just(Nonce::Previous), 1 => Just(Nonce::Wrong)];
        let token_ok = prop_oneof![9 => Just(true), 1 => Just(false)];
        prop_oneof![
            4 => (family(), 1..=3usize, prop_oneof![9 => Just(false), 1 => Just(true)])
                .prop_map(|(family, max, other)| Op::Poll { family, max, other }),
            4 => (family(), target.clone(), nonce, token_ok.clone())
                .prop_map(|(api, job, nonce, token_ok)| Op::Acknowledge { api, job, nonce, token_ok }),
            2 => (family(), target.clone(), token_ok.clone())
                .prop_map(|(api, job, token_ok)| Op::Details { api, job, token_ok }),
            4 => (family(), target.clone(), token_ok.clone(), proptest::bool::weighted(0.3))
                .prop_map(|(api, job, token_ok, continuation)| Op::Success { api, job, token_ok, continuation }),
            2 => (family(), target, token_ok).prop_map(|(api, job, token_ok)| Op::Failure { api, job, token_ok }),
            3 => prop_oneof![4 => 1..=45i64, 1 => 46..=4000i64].prop_map(Op::Advance),
            1 => Just(Op::Tick),
            1 => Just(Op::Restart),
            1 => family().prop_map(Op::Start),
        ]
        .boxed()
    }

    fn preconditions(state: &Model, op: &Op) -> bool {
        // Shrinking may drop the poll that made a job known.
        let known = |t: &Target| match t {
            Target::Job(seq) | Target::Stranger(seq) => state.jobs.get(*seq).is_some_and(|j| j.known),
            Target::Unknown => true,
        };
        match op {
            Op::Acknowledge { job, .. }
            | Op::Details { job, .. }
            | Op::Success { job, .. }
            | Op::Failure { job, .. } => known(job),
            _ => true,
        }
    }

    fn apply(mut m: Model, op: &Op) -> Model {
        m.settle();
        m.expect = match *op {
            Op::Poll { other: true, .. } => Expect::Refused("ActionTypeNotFoundException"),
            Op::Poll { family, max, other: false } => m.poll(family, max),
            Op::Acknowledge { api, job, nonce, token_ok } => m.acknowledge(api, job, nonce, token_ok),
            Op::Details { api, job, token_ok } => match m.reach(api, job, token_ok) {
                Ok(seq) => {
                    let j = &m.jobs[seq];
                    let required = j.nonce_live && matches!(j.status, Status::Dispatched | Status::InProgress);
                    Expect::Details { dispatch: j.dispatches, allowed: j.nonce_live, required }
                }
                Err(code) => Expect::Refused(code),
            },
            Op::Success { api, job, token_ok, continuation } => {
                m.result(api, job, token_ok, Status::Succeeded, continuation)
            }
            Op::Failure { api, job, token_ok } => m.result(api, job, token_ok, Status::Failed, false),
            Op::Advance(secs) => {
                m.now += secs;
                m.settle();
                Expect::Nothing
            }
            Op::Tick | Op::Restart => Expect::Nothing,
            Op::Start(family) => {
                m.create(family);
                Expect::Nothing
            }
        };
        m
    }
}

/// The service under test, and what it told us: ids by `seq`, nonces by
/// `(seq, dispatch)`, client tokens by client id.
struct Sut {
    world: Option<World<SqliteStore>>,
    path: PathBuf,
    submit: bool,
    ids: HashMap<usize, String>,
    nonces: HashMap<(usize, usize), String>,
    tokens: HashMap<usize, String>,
}

/// [`domain::config`] with a 30 s lease and a 120 s timeout on `PartnerSource`.
fn config() -> ServiceConfig {
    let mut c = domain::config();
    c.dispatch_lease_seconds = Some(LEASE as u64);
    for t in &mut c.third_party_action_types {
        if t.provider == "PartnerSource" {
            t.job_timeout_seconds = TP_TIMEOUT as u64;
        }
    }
    c
}

fn type_id(family: Family) -> Value {
    match family {
        Family::Tp => tp_id("Source", "PartnerSource"),
        Family::Cu => json!({"category": "Source", "owner": "Custom", "provider": "MySource", "version": "1"}),
    }
}

/// A PARALLEL pipeline: `family`'s source, then a manual approval (no job).
fn pipeline(family: Family) -> Value {
    json!({
        "name": family.pipeline(),
        "roleArn": "arn:aws:iam::111111111111:role/pipeline",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "pipelineType": "V2",
        "executionMode": "PARALLEL",
        "stages": [
            {"name": "Source", "actions": [
                {"name": "Fetch", "actionTypeId": type_id(family), "outputArtifacts": [{"name": "src"}]}]},
            {"name": "Gate", "actions": [
                {"name": "Approve", "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]},
        ],
    })
}

fn fresh_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("cpjobs-job-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("model-{}.sqlite", N.fetch_add(1, Ordering::SeqCst)));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

impl Sut {
    fn w(&self) -> &World<SqliteStore> {
        self.world.as_ref().expect("the service runs")
    }

    fn open(path: &PathBuf, submit: bool) -> World<SqliteStore> {
        let w = World::with_config(SqliteStore::open(path).expect("open store"), &config());
        if submit { w.blocking() } else { w }
    }

    fn call(&self, who: &str, op: &str, input: Value, now: i64) -> Result<Value, ApiError> {
        self.w().call(who, op, input, now as u64)
    }

    fn id(&self, target: Target) -> String {
        match target {
            Target::Job(seq) | Target::Stranger(seq) => self.ids[&seq].clone(),
            Target::Unknown => "00000000-0000-4000-8000-000000000000".into(),
        }
    }

    /// The input naming the job, with a client token for third-party calls.
    fn job_input(&self, api: Family, target: Target, token_ok: bool) -> Value {
        let mut input = json!({"jobId": self.id(target)});
        if api == Family::Tp {
            let token = match (target, token_ok) {
                (Target::Job(seq) | Target::Stranger(seq), true) => {
                    self.tokens.get(&seq).cloned().unwrap_or_else(|| "no-token".repeat(8))
                }
                _ => "f".repeat(64),
            };
            input["clientToken"] = json!(token);
        }
        input
    }

    fn who(api: Family, target: Target) -> &'static str {
        match (api, target) {
            (_, Target::Stranger(_)) => OTHER,
            (Family::Tp, _) => PARTNER,
            (Family::Cu, _) => CUSTOMER,
        }
    }

    /// Learns the jobs a poll handed out: ids, client tokens and nonces.
    fn learn_polled(&mut self, m: &Model, family: Family, expected: &[usize], answer: &Value) {
        let jobs = answer["jobs"].as_array().expect("jobs");
        let key = if family == Family::Tp { "jobId" } else { "id" };
        let mut fresh: Vec<usize> = expected.iter().copied().filter(|s| !self.ids.contains_key(s)).collect();
        fresh.sort_by_key(|s| (m.jobs[*s].created, *s));
        let mut fresh = fresh.into_iter();
        let mut got = Vec::new();
        for job in jobs {
            let id = job[key].as_str().expect("job id").to_owned();
            let seq = match self.ids.iter().find(|(_, v)| **v == id) {
                Some((seq, _)) => *seq,
                None => {
                    let seq =
                        fresh.next().unwrap_or_else(|| panic!("poll handed out an unexpected job {id}: {answer}"));
                    self.ids.insert(seq, id.clone());
                    seq
                }
            };
            got.push(seq);
            let dispatch = m.jobs[seq].dispatches;
            let nonce = match family {
                Family::Cu => job["nonce"].as_str().expect("custom polls carry the nonce").to_owned(),
                Family::Tp => {
                    let client = job["clientId"].as_str().expect("clientId");
                    let token = self.w().client_token(client);
                    self.tokens.insert(seq, token.clone());
                    let d = self.call(
                        PARTNER,
                        "GetThirdPartyJobDetails",
                        json!({"jobId": id, "clientToken": token}),
                        m.now,
                    );
                    d.expect("details of a polled job")["jobDetails"]["nonce"]
                        .as_str()
                        .expect("a dispatched job's details carry its nonce")
                        .to_owned()
                }
            };
            assert!(
                !self.nonces.values().any(|n| *n == nonce),
                "a nonce was handed out twice: job {seq} dispatch {dispatch}"
            );
            self.nonces.insert((seq, dispatch), nonce);
        }
        let mut want = expected.to_vec();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "the poll must hand out exactly the oldest queued jobs: {answer}");
    }
}

/// Checks an answer against the expected refusal.
#[track_caller]
fn refused(r: Result<Value, ApiError>, code: &str) {
    match r {
        Err(e) => assert_eq!((e.status, e.code.as_str()), (400, code), "{e:?}"),
        Ok(v) => panic!("expected {code}, got {v}"),
    }
}

impl StateMachineTest for JobMachine {
    type SystemUnderTest = Sut;
    type Reference = JobMachine;

    fn init_test(m: &Model) -> Sut {
        let path = fresh_path();
        let sut = Sut {
            world: Some(Sut::open(&path, m.submit)),
            path,
            submit: m.submit,
            ids: HashMap::new(),
            nonces: HashMap::new(),
            tokens: HashMap::new(),
        };
        let w = sut.w();
        w.ok(
            CUSTOMER,
            "CreateCustomActionType",
            json!({"category": "Source", "provider": "MySource", "version": "1",
                   "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
                   "outputArtifactDetails": {"minimumCount": 1, "maximumCount": 1}}),
            0,
        );
        for family in [Family::Tp, Family::Cu] {
            w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": pipeline(family)}), 0);
            for _ in 0..2 {
                w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": family.pipeline()}), 0);
            }
        }
        sut
    }

    fn apply(mut sut: Sut, m: &Model, op: Op) -> Sut {
        let now = m.now;
        match (op, &m.expect) {
            (Op::Poll { family, max, other }, expect) => {
                let (who, operation) = match (family, other) {
                    (_, true) => (OTHER, if family == Family::Tp { "PollForThirdPartyJobs" } else { "PollForJobs" }),
                    (Family::Tp, false) => (PARTNER, "PollForThirdPartyJobs"),
                    (Family::Cu, false) => (CUSTOMER, "PollForJobs"),
                };
                let r = sut.call(who, operation, json!({"actionTypeId": type_id(family), "maxBatchSize": max}), now);
                match expect {
                    Expect::Refused(code) => refused(r, code),
                    Expect::Polled(seqs) => {
                        let answer = r.expect("the poll is answered");
                        sut.learn_polled(m, family, seqs, &answer);
                    }
                    e => panic!("model: {e:?}"),
                }
            }
            (Op::Acknowledge { api, job, nonce, token_ok }, expect) => {
                let mut input = sut.job_input(api, job, token_ok);
                let sent = match (job, nonce) {
                    (Target::Job(seq) | Target::Stranger(seq), Nonce::Latest) => {
                        sut.nonces.get(&(seq, m.jobs[seq].dispatches)).cloned()
                    }
                    (Target::Job(seq) | Target::Stranger(seq), Nonce::Previous) if m.jobs[seq].dispatches > 1 => {
                        sut.nonces.get(&(seq, m.jobs[seq].dispatches - 1)).cloned()
                    }
                    _ => None,
                };
                input["nonce"] = json!(sent.unwrap_or_else(|| "0".repeat(36)));
                let operation = if api == Family::Tp { "AcknowledgeThirdPartyJob" } else { "AcknowledgeJob" };
                let r = sut.call(Sut::who(api, job), operation, input, now);
                match expect {
                    Expect::Refused(code) => refused(r, code),
                    Expect::Acknowledged(status, alternative) => match r {
                        Ok(v) => assert_eq!(v["status"], *status, "{v}"),
                        Err(e) if Some(e.code.as_str()) == *alternative => {}
                        Err(e) => panic!("expected status {status}: {e:?}"),
                    },
                    e => panic!("model: {e:?}"),
                }
            }
            (Op::Details { api, job, token_ok }, expect) => {
                let operation = if api == Family::Tp { "GetThirdPartyJobDetails" } else { "GetJobDetails" };
                let r = sut.call(Sut::who(api, job), operation, sut.job_input(api, job, token_ok), now);
                match expect {
                    Expect::Refused(code) => refused(r, code),
                    Expect::Details { dispatch, allowed, required } => {
                        let v = r.expect("details");
                        assert_eq!(v["jobDetails"]["id"].as_str(), Some(sut.id(job).as_str()));
                        let seq = job.seq().expect("details of a known job");
                        if api == Family::Tp {
                            match v["jobDetails"]["nonce"].as_str() {
                                Some(_) if !allowed => panic!("details hand out a dead nonce: {v}"),
                                Some(n) => assert_eq!(
                                    Some(n),
                                    sut.nonces.get(&(seq, *dispatch)).map(String::as_str),
                                    "details show the latest dispatch's nonce"
                                ),
                                None => assert!(!required, "a held job's details carry its nonce: {v}"),
                            }
                        }
                    }
                    e => panic!("model: {e:?}"),
                }
            }
            (Op::Success { api, job, token_ok, continuation }, expect) => {
                let mut input = sut.job_input(api, job, token_ok);
                if continuation {
                    input["continuationToken"] = json!("next");
                }
                let operation = if api == Family::Tp { "PutThirdPartyJobSuccessResult" } else { "PutJobSuccessResult" };
                let r = sut.call(Sut::who(api, job), operation, input, now);
                match expect {
                    Expect::Refused(code) => refused(r, code),
                    Expect::Accepted => assert_eq!(r.expect("the result is accepted"), json!({})),
                    e => panic!("model: {e:?}"),
                }
            }
            (Op::Failure { api, job, token_ok }, expect) => {
                let mut input = sut.job_input(api, job, token_ok);
                input["failureDetails"] = json!({"type": "JobFailed", "message": "model says no"});
                let operation = if api == Family::Tp { "PutThirdPartyJobFailureResult" } else { "PutJobFailureResult" };
                let r = sut.call(Sut::who(api, job), operation, input, now);
                match expect {
                    Expect::Refused(code) => refused(r, code),
                    Expect::Accepted => assert_eq!(r.expect("the result is accepted"), json!({})),
                    e => panic!("model: {e:?}"),
                }
            }
            (Op::Advance(_), _) => {}
            (Op::Tick, _) => {
                sut.w().svc.tick(at(now as u64)).expect("the sweep runs");
            }
            (Op::Restart, _) => {
                drop(sut.world.take());
                sut.world = Some(Sut::open(&sut.path, sut.submit));
            }
            (Op::Start(family), _) => {
                sut.w().ok(CUSTOMER, "StartPipelineExecution", json!({"name": family.pipeline()}), now as u64);
            }
        }
        sut
    }

    /// After a last restart, every job the model finished keeps what was
    /// accepted: its latest nonce answers its final status.
    fn teardown(mut sut: Sut, m: Model) {
        drop(sut.world.take());
        sut.world = Some(Sut::open(&sut.path, sut.submit));
        for j in m.jobs.iter().filter(|j| matches!(j.status, Status::Succeeded | Status::Failed)) {
            let mut input = sut.job_input(j.family, Target::Job(j.seq), true);
            input["nonce"] = json!(sut.nonces[&(j.seq, j.dispatches)]);
            let operation = if j.family == Family::Tp { "AcknowledgeThirdPartyJob" } else { "AcknowledgeJob" };
            let v = sut
                .call(Sut::who(j.family, Target::Job(j.seq)), operation, input, m.now)
                .expect("a finished job is answered");
            assert_eq!(v["status"], j.status.wire(), "job {} lost its result", j.seq);
        }
        drop(sut.world.take());
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", sut.path.display()));
        }
    }
}

prop_state_machine! {
    #![proptest_config(Config {
        // Bounded: each case is at most 40 operations on a durable store.
        cases: 24,
        failure_persistence: None,
        .. Config::default()
    })]

    #[test]
    fn job_operations_follow_the_model(sequential 1..40 => JobMachine);
}
