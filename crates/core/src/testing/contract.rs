//! The store contract: what every [`Store`] backend must do, checked through
//! the trait only. Each check gets a fresh, empty store from `make`.
//! Every check is listed in [`named`](super::named), which makes one test of
//! each; a check left out of the list is dead code, denied here.
#![deny(dead_code)]

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;

use crate::jobs::JobStatus;
// The queue reads of issue 12 live in a module of their own; the dispatch names them here.
use super::queues::{queue_reads, reached_marks};
// The reads that answer several questions at once, in a module of their own.
use super::probes::combined_reads;
use crate::store::{
    ClientRow, ExecutionRow, JobRow, PipelineRow, Store, StoreError, Tag, TransitionRow, Tx, WebhookRow,
};

type R<T> = Result<T, StoreError>;

fn w<S: Store, T>(s: &S, mut f: impl FnMut(&mut dyn Tx) -> R<T>) -> T {
    s.write(&mut |tx| f(tx)).expect("store write")
}

fn r<S: Store, T>(s: &S, mut f: impl FnMut(&mut dyn Tx) -> R<T>) -> T {
    s.read(&mut |tx| f(tx)).expect("store read")
}

/// A queued job of `queue` created at `created`.
pub fn job(id: &str, queue: &str, created: i64) -> JobRow {
    JobRow {
        id: id.into(),
        queue: queue.into(),
        account_id: "111111111111".into(),
        pipeline_name: "p".into(),
        execution_id: "e1".into(),
        action_execution_id: "a1".into(),
        client_id: None,
        status: JobStatus::Queued,
        nonce: None,
        lease_until: None,
        timeout_at: created + 3_600_000,
        created,
        updated: created,
        query_value: None,
        data: json!({"k": id}).into(),
        result: None,
    }
}

/// Runs the contract check `name` (see [`CHECKS`](super::named::CHECKS))
/// on a fresh store from `make`; panics on a violation or an unknown name.
pub fn run<S: Store>(name: &str, make: &dyn Fn() -> S) {
    crate::__store_checks!(__contract_dispatch!(name, make))
}

fn rollback_on_error<S: Store>(s: S) {
    let failed: Result<(), StoreError> = s.write(&mut |tx| {
        tx.insert_job(&job("j1", "q", 1))?;
        Err(StoreError::Backend("abort".into()))
    });
    assert!(failed.is_err());
    assert_eq!(r(&s, |tx| tx.get_job("j1")), None, "a failed transaction must leave nothing behind");
}

fn action_types<S: Store>(s: S) {
    assert!(w(&s, |tx| tx.insert_action_type("Custom/1/Build/X/1", "1", "Custom", &json!({"a": 1}))));
    assert!(!w(&s, |tx| tx.insert_action_type("Custom/1/Build/X/1", "1", "Custom", &json!({"a": 2}))), "duplicate key");
    assert!(w(&s, |tx| tx.insert_action_type("ThirdParty/Build/Y/1", "9", "ThirdParty", &json!({"b": 1}))));
    assert!(w(&s, |tx| tx.insert_action_type("Custom/2/Build/Z/1", "2", "Custom", &json!({"c": 1}))));
    let doc = r(&s, |tx| tx.get_action_type("Custom/1/Build/X/1")).expect("stored");
    assert_eq!(doc.body, json!({"a": 1}));
    assert!(w(&s, |tx| tx.update_action_type("Custom/1/Build/X/1", doc.revision, &json!({"a": 3}))));
    assert!(
        !w(&s, |tx| tx.update_action_type("Custom/1/Build/X/1", doc.revision, &json!({"a": 4}))),
        "stale revision must lose"
    );
    let seen: Vec<_> = r(&s, |tx| tx.list_action_types("1")).into_iter().map(|d| d.body).collect();
    assert_eq!(seen, vec![json!({"a": 3}), json!({"b": 1})], "own custom types and every other type, by key");
}

pub(super) fn pipeline(name: &str, version: i64) -> PipelineRow {
    PipelineRow {
        account_id: "1".into(),
        name: name.into(),
        version,
        declaration: json!({"name": name, "version": version}),
        created: 10,
        updated: 10 + version,
    }
}

pub(super) fn execution(id: &str, pipeline: &str, started: i64) -> ExecutionRow {
    ExecutionRow {
        id: id.into(),
        account_id: "1".into(),
        pipeline_name: pipeline.into(),
        status: "InProgress".into(),
        started,
        updated: started,
        revision: 0,
        wake_at: None,
        stage: None,
        waiting_for: None,
        doc: json!({"id": id}).into(),
    }
}

fn pipelines<S: Store>(s: S) {
    assert!(w(&s, |tx| tx.insert_pipeline(&pipeline("b", 1))));
    assert!(w(&s, |tx| tx.insert_pipeline(&pipeline("a", 1))));
    assert!(!w(&s, |tx| tx.insert_pipeline(&pipeline("a", 1))), "names are unique per account");
    assert!(w(&s, |tx| tx.update_pipeline(&pipeline("a", 2), 1)));
    assert!(!w(&s, |tx| tx.update_pipeline(&pipeline("a", 3), 1)), "stale version must lose");
    assert_eq!(r(&s, |tx| tx.get_pipeline("1", "a")), Some(pipeline("a", 2)));
    assert_eq!(r(&s, |tx| tx.get_pipeline("2", "a")), None, "pipelines are per account");
    let names: Vec<_> = r(&s, |tx| tx.list_pipelines("1", None, 10)).into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["a", "b"]);
    let names: Vec<_> = r(&s, |tx| tx.list_pipelines("1", Some("a"), 10)).into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["b"]);
    w(&s, |tx| tx.insert_execution(&execution("e1", "a", 5)));
    assert!(w(&s, |tx| tx.delete_pipeline("1", "a")));
    assert!(!w(&s, |tx| tx.delete_pipeline("1", "a")));
    assert_eq!(r(&s, |tx| tx.get_execution("e1")), None, "executions go with their pipeline");
}

fn pipeline_versions<S: Store>(s: S) {
    let version = |tx: &mut dyn Tx, account: &str, name: &str, v: i64| tx.get_pipeline_version(account, name, v);
    assert!(w(&s, |tx| tx.insert_pipeline(&pipeline("a", 1))));
    assert!(w(&s, |tx| tx.update_pipeline(&pipeline("a", 2), 1)));
    assert!(w(&s, |tx| tx.update_pipeline(&pipeline("a", 3), 2)));
    assert!(!w(&s, |tx| tx.update_pipeline(&pipeline("a", 4), 2)), "stale version must lose");
    let failed: Result<bool, StoreError> = s.write(&mut |tx| {
        tx.update_pipeline(&pipeline("a", 4), 3)?;
        Err(StoreError::Backend("abort".into()))
    });
    assert!(failed.is_err());
    let mut other = pipeline("a", 1);
    other.account_id = "2".into();
    other.declaration = json!({"name": "a", "account": "2"});
    assert!(w(&s, |tx| tx.insert_pipeline(&other)));
    assert!(w(&s, |tx| tx.insert_pipeline(&pipeline("b", 1))));

    for v in 1..=3 {
        assert_eq!(
            r(&s, |tx| version(tx, "1", "a", v)),
            Some(pipeline("a", v)),
            "version {v}: its declaration, the pipeline's creation time and when the version was made"
        );
    }
    assert_eq!(r(&s, |tx| tx.get_pipeline("1", "a")), Some(pipeline("a", 3)), "the current version is unchanged");
    assert_eq!(r(&s, |tx| version(tx, "1", "a", 4)), None, "a lost or rolled back update keeps no version");
    assert_eq!(r(&s, |tx| version(tx, "1", "a", 0)), None);
    assert_eq!(r(&s, |tx| version(tx, "2", "a", 1)), Some(other.clone()), "versions are per account");
    assert_eq!(r(&s, |tx| version(tx, "2", "a", 2)), None);
    assert_eq!(r(&s, |tx| version(tx, "1", "b", 2)), None, "versions are per pipeline");
    assert_eq!(r(&s, |tx| version(tx, "1", "c", 1)), None, "no pipeline, no version");

    assert!(w(&s, |tx| tx.delete_pipeline("1", "a")));
    for v in 1..=3 {
        assert_eq!(r(&s, |tx| version(tx, "1", "a", v)), None, "versions go with their pipeline");
    }
    assert_eq!(r(&s, |tx| version(tx, "2", "a", 1)), Some(other.clone()), "another account's pipeline stays");
    assert_eq!(r(&s, |tx| version(tx, "1", "b", 1)), Some(pipeline("b", 1)), "another pipeline stays");

    let reused =
        PipelineRow { declaration: json!({"name": "a", "again": true}), created: 50, updated: 50, ..pipeline("a", 1) };
    assert!(w(&s, |tx| tx.insert_pipeline(&reused)), "a deleted pipeline's name can be reused");
    assert_eq!(r(&s, |tx| version(tx, "1", "a", 1)), Some(reused.clone()), "a reused name starts at version 1 afresh");
    assert_eq!(r(&s, |tx| version(tx, "1", "a", 2)), None, "with none of the old versions");
}

fn executions<S: Store>(s: S) {
    w(&s, |tx| tx.insert_execution(&execution("e1", "p", 5)));
    w(&s, |tx| tx.insert_execution(&execution("e2", "p", 7)));
    w(&s, |tx| tx.insert_execution(&execution("e3", "p", 7)));
    w(&s, |tx| tx.insert_execution(&execution("x", "other", 9)));
    let ids: Vec<_> = r(&s, |tx| tx.list_executions("1", "p", 0, 10)).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["e3", "e2", "e1"], "newest first, then latest inserted");
    let ids: Vec<_> = r(&s, |tx| tx.list_executions("1", "p", 1, 1)).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["e2"]);
    for (id, stage, waiting) in [("e1", Some("Build"), None), ("e2", None, Some("Build")), ("e3", Some("Test"), None)] {
        let mut e = r(&s, |tx| tx.get_execution(id)).expect("stored");
        e.stage = stage.map(str::to_owned);
        e.waiting_for = waiting.map(str::to_owned);
        assert!(w(&s, |tx| tx.update_execution(&e, 0)));
    }
    let at = |stage: &str| -> Vec<String> {
        r(&s, |tx| tx.executions_at_stage("1", "p", stage)).into_iter().map(|e| e.id).collect()
    };
    assert_eq!(at("Build"), ["e1", "e2"], "in the stage or waiting for it, oldest first");
    assert_eq!(at("Test"), ["e3"]);
    let mut e = r(&s, |tx| tx.get_execution("e1")).expect("stored");
    e.status = "Succeeded".into();
    e.doc = json!({"done": true}).into();
    assert!(w(&s, |tx| tx.update_execution(&e, 1)));
    assert!(!w(&s, |tx| tx.update_execution(&e, 1)), "stale revision must lose");
    let got = r(&s, |tx| tx.get_execution("e1")).expect("stored");
    assert_eq!((got.status.as_str(), got.revision), ("Succeeded", 2));
    assert_eq!(got.doc, json!({"done": true}));
    let mut stopping = r(&s, |tx| tx.get_execution("e2")).expect("stored");
    stopping.status = "Stopping".into();
    assert!(w(&s, |tx| tx.update_execution(&stopping, 1)));
    assert_eq!(at("Build"), ["e2"], "InProgress and Stopping executions only");
    // Due executions: by wake time, unfinished ones only.
    let mut e3 = r(&s, |tx| tx.get_execution("e3")).expect("stored");
    e3.wake_at = Some(50);
    assert!(w(&s, |tx| tx.update_execution(&e3, 1)));
    let mut e2 = r(&s, |tx| tx.get_execution("e2")).expect("stored");
    e2.wake_at = Some(40);
    assert!(w(&s, |tx| tx.update_execution(&e2, 2)));
    e.wake_at = Some(10);
    assert!(w(&s, |tx| tx.update_execution(&e, 2)), "e1 is Succeeded: never due");
    assert!(r(&s, |tx| tx.due_executions(39, 10)).is_empty());
    let due: Vec<_> = r(&s, |tx| tx.due_executions(50, 10)).into_iter().map(|e| e.id).collect();
    assert_eq!(due, ["e2", "e3"]);
    assert_eq!(r(&s, |tx| tx.due_executions(50, 1)).len(), 1);
}

fn nonces() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("n{n}")
    }
}

fn claims_are_fifo_per_queue<S: Store>(s: S) {
    w(&s, |tx| {
        tx.insert_job(&job("late", "q", 20))?;
        tx.insert_job(&job("other", "q2", 1))?;
        tx.insert_job(&job("early", "q", 10))?;
        tx.insert_job(&job("early2", "q", 10))
    });
    let mut n = nonces();
    let got = w(&s, |tx| tx.claim_jobs("q", None, 2, 100, 130, &mut n));
    let ids: Vec<_> = got.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["early", "early2"], "oldest first, insertion order on ties, one queue only");
    for j in &got {
        assert_eq!(j.status, JobStatus::Dispatched);
        assert_eq!(j.lease_until, Some(130));
        assert_eq!(j.updated, 100);
        assert!(j.nonce.is_some());
    }
    assert_ne!(got[0].nonce, got[1].nonce, "each claim gets its own nonce");
    let got = w(&s, |tx| tx.claim_jobs("q", None, 5, 100, 130, &mut n));
    assert_eq!(got.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["late"]);
    assert!(
        w(&s, |tx| tx.claim_jobs("q", None, 5, 100, 130, &mut n)).is_empty(),
        "dispatched jobs are not claimed again"
    );
    assert_eq!(r(&s, |tx| tx.queue_depths()), vec![("q2".to_owned(), 1)]);
    assert_eq!(r(&s, |tx| tx.job_counts()), vec![(JobStatus::Queued, 1), (JobStatus::Dispatched, 3)]);
}

fn claims_filter_on_query_value<S: Store>(s: S) {
    let mut a = job("a", "q", 1);
    a.query_value = Some("x".into());
    let mut b = job("b", "q", 2);
    b.query_value = Some("y".into());
    w(&s, |tx| {
        tx.insert_job(&a)?;
        tx.insert_job(&b)
    });
    let mut n = nonces();
    let got = w(&s, |tx| tx.claim_jobs("q", Some("y"), 5, 1, 2, &mut n));
    assert_eq!(got.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["b"]);
}

fn guarded_job_updates<S: Store>(s: S) {
    w(&s, |tx| tx.insert_job(&job("j", "q", 1)));
    let mut n = nonces();
    let claimed = w(&s, |tx| tx.claim_jobs("q", None, 1, 5, 50, &mut n)).remove(0);
    let nonce = claimed.nonce.clone().expect("nonce");
    let mut next = claimed.clone();
    next.status = JobStatus::InProgress;
    next.lease_until = None;
    next.updated = 6;
    assert!(!w(&s, |tx| tx.update_job(&next, JobStatus::Dispatched, Some("wrong"))), "wrong nonce must lose");
    assert!(!w(&s, |tx| tx.update_job(&next, JobStatus::Queued, Some(&nonce))), "wrong status must lose");
    assert!(w(&s, |tx| tx.update_job(&next, JobStatus::Dispatched, Some(&nonce))));
    assert!(!w(&s, |tx| tx.update_job(&next, JobStatus::Dispatched, Some(&nonce))), "a transition happens once");
    let mut done = next.clone();
    done.status = JobStatus::Succeeded;
    done.result = Some(json!({"ok": 1}).into());
    assert!(w(&s, |tx| tx.update_job(&done, JobStatus::InProgress, Some(&nonce))));
    let got = r(&s, |tx| tx.get_job("j")).expect("stored");
    assert_eq!(got, JobRow { updated: 6, ..done });
    // A job never dispatched has no nonce: the guard must match NULL.
    w(&s, |tx| tx.insert_job(&job("k", "q", 1)));
    let mut failed = job("k", "q", 1);
    failed.status = JobStatus::Failed;
    assert!(w(&s, |tx| tx.update_job(&failed, JobStatus::Queued, None)));
}

fn leases_and_timeouts<S: Store>(s: S) {
    let mut t = job("t", "q", 0);
    t.timeout_at = 100;
    w(&s, |tx| {
        tx.insert_job(&job("a", "q", 1))?;
        tx.insert_job(&job("b", "q", 2))?;
        tx.insert_job(&t)
    });
    let mut n = nonces();
    assert!(!r(&s, |tx| tx.anything_due(99)), "nothing claimed, nothing timed out yet");
    assert!(r(&s, |tx| tx.anything_due(100)), "t times out at 100");
    w(&s, |tx| tx.claim_jobs("q", None, 1, 10, 40, &mut n));
    w(&s, |tx| tx.claim_jobs("q", None, 1, 20, 50, &mut n));
    assert!(!r(&s, |tx| tx.anything_due(39)));
    assert!(r(&s, |tx| tx.anything_due(40)), "t's lease ends at 40");
    assert!(r(&s, |tx| tx.expired_leases(39, 10)).is_empty());
    let ids: Vec<_> = r(&s, |tx| tx.expired_leases(50, 10)).into_iter().map(|j| j.id).collect();
    assert_eq!(ids, ["t", "a"], "lease order");
    assert_eq!(r(&s, |tx| tx.expired_leases(50, 1)).len(), 1, "limit");
    assert!(r(&s, |tx| tx.timed_out_jobs(99, 10)).is_empty());
    let ids: Vec<_> = r(&s, |tx| tx.timed_out_jobs(100, 10)).into_iter().map(|j| j.id).collect();
    assert_eq!(ids, ["t"]);
    let mut finished = r(&s, |tx| tx.get_job("t")).expect("stored");
    let nonce = finished.nonce.clone();
    finished.status = JobStatus::TimedOut;
    assert!(w(&s, |tx| tx.update_job(&finished, JobStatus::Dispatched, nonce.as_deref())));
    assert!(r(&s, |tx| tx.timed_out_jobs(100, 10)).is_empty(), "finished jobs do not time out");
    assert!(r(&s, |tx| tx.anything_due(50)), "a's lease ends at 50");
    assert!(!r(&s, |tx| tx.anything_due(49)), "t is finished; a's lease ends at 50");
}

fn unfinished_job_lists<S: Store>(s: S) {
    let mut other = job("o", "q", 3);
    other.execution_id = "e2".into();
    other.pipeline_name = "p2".into();
    let mut done = job("d", "q", 4);
    done.status = JobStatus::Succeeded;
    w(&s, |tx| {
        tx.insert_job(&job("b", "q", 2))?;
        tx.insert_job(&job("a", "q", 1))?;
        tx.insert_job(&other)?;
        tx.insert_job(&done)
    });
    let ids: Vec<_> = r(&s, |tx| tx.unfinished_jobs_of_execution("e1")).into_iter().map(|j| j.id).collect();
    assert_eq!(ids, ["a", "b"]);
    let ids: Vec<_> =
        r(&s, |tx| tx.unfinished_jobs_of_pipeline("111111111111", "p2")).into_iter().map(|j| j.id).collect();
    assert_eq!(ids, ["o"]);
}

fn client(id: &str, owner: &str, queue: &str, pipeline: &str) -> ClientRow {
    ClientRow {
        client_id: id.into(),
        client_token: format!("token-{id}"),
        owner_account: owner.into(),
        queue: queue.into(),
        account_id: "1".into(),
        pipeline_name: pipeline.into(),
        stage_name: "s".into(),
        action_name: format!("a-{id}"),
        created: 1,
    }
}

fn clients<S: Store>(s: S) {
    w(&s, |tx| {
        tx.insert_client(&client("c3", "9", "q1", "p"))?;
        tx.insert_client(&client("c1", "9", "q1", "p"))?;
        tx.insert_client(&client("c2", "9", "q2", "other"))?;
        tx.insert_client(&client("c4", "8", "q3", "p"))
    });
    assert_eq!(r(&s, |tx| tx.get_client("c1")), Some(client("c1", "9", "q1", "p")));
    let token = client("c1", "9", "q1", "p").client_token;
    assert_eq!(r(&s, |tx| tx.client_token("c1")), Some(token));
    assert_eq!(r(&s, |tx| tx.client_token("c9")), None);
    let ids = |v: Vec<ClientRow>| v.into_iter().map(|c| c.client_id).collect::<Vec<_>>();
    assert_eq!(ids(r(&s, |tx| tx.list_clients("9", None, None, 10))), ["c1", "c2", "c3"]);
    assert_eq!(ids(r(&s, |tx| tx.list_clients("9", Some("q1"), None, 10))), ["c1", "c3"]);
    assert_eq!(ids(r(&s, |tx| tx.list_clients("9", None, Some("c1"), 1))), ["c2"]);
    assert_eq!(ids(r(&s, |tx| tx.clients_of_pipeline("1", "p"))), ["c1", "c3", "c4"]);
    // Every owner's clients, paged (the upgrade that seals tokens walks them).
    assert_eq!(ids(r(&s, |tx| tx.all_clients(None, 10))), ["c1", "c2", "c3", "c4"]);
    assert_eq!(ids(r(&s, |tx| tx.all_clients(Some("c2"), 1))), ["c3"]);
    assert!(w(&s, |tx| tx.set_client_token("c3", "sealed")));
    assert!(!w(&s, |tx| tx.set_client_token("c9", "sealed")));
    assert_eq!(r(&s, |tx| tx.client_token("c3")).as_deref(), Some("sealed"));
    assert_eq!(r(&s, |tx| tx.client_token("c4")), Some(client("c4", "8", "q3", "p").client_token));
    assert!(w(&s, |tx| tx.delete_client("c1")));
    assert!(!w(&s, |tx| tx.delete_client("c1")));
    assert_eq!(r(&s, |tx| tx.get_client("c1")), None);
}

fn tag(key: &str, value: &str) -> Tag {
    Tag { key: key.into(), value: value.into() }
}

fn tags<S: Store>(s: S) {
    let list = |s: &S, resource: &str| r(s, |tx| tx.list_tags(resource, None, usize::MAX));
    assert_eq!(list(&s, "a"), vec![], "a resource starts untagged");
    w(&s, |tx| tx.put_tags("a", &[tag("team", "ci"), tag("env", "prod"), tag("cost", "")]));
    w(&s, |tx| tx.put_tags("b", &[tag("team", "other")]));
    assert_eq!(list(&s, "a"), vec![tag("cost", ""), tag("env", "prod"), tag("team", "ci")], "ordered by key");
    w(&s, |tx| tx.put_tags("a", &[tag("team", "cd"), tag("zone", "z")]));
    assert_eq!(
        list(&s, "a"),
        vec![tag("cost", ""), tag("env", "prod"), tag("team", "cd"), tag("zone", "z")],
        "a key it has is overwritten, others added"
    );
    assert_eq!(r(&s, |tx| tx.list_tags("a", None, 2)), vec![tag("cost", ""), tag("env", "prod")], "limit");
    assert_eq!(r(&s, |tx| tx.list_tags("a", Some("env"), 1)), vec![tag("team", "cd")], "those after `after`");
    assert_eq!(r(&s, |tx| tx.list_tags("a", Some("zone"), 5)), vec![]);
    w(&s, |tx| tx.delete_tags("a", &["env".into(), "absent".into()]));
    assert_eq!(list(&s, "a"), vec![tag("cost", ""), tag("team", "cd"), tag("zone", "z")], "absent keys are ignored");
    assert_eq!(list(&s, "b"), vec![tag("team", "other")], "tags are per resource");
    let failed: Result<(), StoreError> = s.write(&mut |tx| {
        tx.put_tags("a", &[tag("team", "lost")])?;
        tx.drop_tags("b")?;
        Err(StoreError::Backend("abort".into()))
    });
    assert!(failed.is_err());
    assert_eq!(list(&s, "a")[1], tag("team", "cd"), "a failed transaction changes no tag");
    assert_eq!(list(&s, "b").len(), 1);
    w(&s, |tx| tx.drop_tags("a"));
    assert_eq!(list(&s, "a"), vec![], "every tag dropped");
    assert_eq!(list(&s, "b"), vec![tag("team", "other")], "other resources keep theirs");
}

fn transition(pipeline: &str, stage: &str, enabled: bool, at: i64) -> TransitionRow {
    TransitionRow {
        account_id: "1".into(),
        pipeline_name: pipeline.into(),
        stage_name: stage.into(),
        enabled,
        changed_by: "arn:aws:iam::1:root".into(),
        changed_at: at,
        disabled_reason: (!enabled).then(|| format!("held at {at}")),
    }
}

fn transitions<S: Store>(s: S) {
    let list = |s: &S, p: &str| r(s, |tx| tx.transitions("1", p));
    w(&s, |tx| tx.insert_pipeline(&pipeline("p", 1)));
    assert_eq!(list(&s, "p"), vec![], "a new pipeline has no changed transition");
    w(&s, |tx| tx.put_transition(&transition("p", "Deploy", false, 5)));
    w(&s, |tx| tx.put_transition(&transition("p", "Build", false, 6)));
    w(&s, |tx| tx.put_transition(&transition("q", "Build", false, 6)));
    assert_eq!(
        list(&s, "p"),
        vec![transition("p", "Build", false, 6), transition("p", "Deploy", false, 5)],
        "by stage"
    );
    w(&s, |tx| tx.put_transition(&transition("p", "Deploy", true, 7)));
    assert_eq!(list(&s, "p")[1], transition("p", "Deploy", true, 7), "a transition's row is replaced");
    assert_eq!(list(&s, "p")[1].disabled_reason, None);
    let failed: Result<(), StoreError> = s.write(&mut |tx| {
        tx.put_transition(&transition("p", "Build", true, 8))?;
        Err(StoreError::Backend("abort".into()))
    });
    assert!(failed.is_err());
    assert_eq!(list(&s, "p")[0], transition("p", "Build", false, 6), "a failed transaction changes nothing");
    assert!(w(&s, |tx| tx.delete_pipeline("1", "p")));
    assert_eq!(list(&s, "p"), vec![], "deleting the pipeline drops its transitions");
    assert_eq!(list(&s, "q"), vec![transition("q", "Build", false, 6)], "other pipelines keep theirs");
}

fn concurrent_claims_hand_each_job_out_once<S: Store>(s: Arc<S>) {
    const JOBS: usize = 200;
    w(&*s, |tx| {
        for i in 0..JOBS {
            tx.insert_job(&job(&format!("j{i:04}"), "q", i as i64))?;
        }
        Ok(())
    });
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut n = 0;
                loop {
                    let mut nonce = || {
                        n += 1;
                        format!("t{t}-{n}")
                    };
                    let got = s.write(&mut |tx| tx.claim_jobs("q", None, 3, 1, 100, &mut nonce)).expect("claim");
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in threads {
        for id in t.join().expect("thread") {
            total += 1;
            assert!(seen.insert(id.clone()), "job {id} was handed out twice");
        }
    }
    assert_eq!(total, JOBS, "every job handed out exactly once");
}

/// Writers in parallel, a third of them failing after writing: what a failed
/// write did is gone, what a successful one did is there (a backend that
/// batches commits must undo a failed member only).
fn concurrent_writes_keep_exactly_the_successful_ones<S: Store>(s: Arc<S>) {
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..40 {
                    let id = format!("t{t}-{i}");
                    let r: Result<(), StoreError> = s.write(&mut |tx| {
                        tx.insert_job(&job(&id, "q", i))?;
                        if i % 3 == 0 { Err(StoreError::Backend("refused".into())) } else { Ok(()) }
                    });
                    assert_eq!(r.is_err(), i % 3 == 0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    for t in 0..8 {
        for i in 0..40 {
            let found = r(&*s, |tx| tx.get_job(&format!("t{t}-{i}"))).is_some();
            assert_eq!(found, i % 3 != 0, "job t{t}-{i}");
        }
    }
}

/// Queues a write with [`Store::write_then`] and waits for its outcome.
fn queued<S: Store, T: Send + 'static>(
    s: &S,
    f: impl FnMut(&mut dyn Tx) -> R<T> + Send + 'static,
) -> std::sync::mpsc::Receiver<R<T>> {
    let (tx, rx) = std::sync::mpsc::channel();
    s.write_then(
        Box::new(f),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    rx
}

fn outcome<T>(rx: std::sync::mpsc::Receiver<R<T>>) -> R<T> {
    rx.recv_timeout(std::time::Duration::from_secs(30)).expect("a queued write is always answered")
}

fn queued_writes_answer_once_committed<S: Store>(s: S) {
    let got = outcome(queued(&s, |tx| {
        tx.insert_job(&job("q1", "q", 1))?;
        Ok("kept")
    }));
    assert_eq!(got, Ok("kept"));
    // Answered means committed: a new read transaction sees it.
    assert_eq!(r(&s, |tx| tx.get_job("q1")).map(|j| j.id), Some("q1".to_owned()));

    let got = outcome(queued(&s, |tx| {
        tx.insert_job(&job("q2", "q", 2))?;
        Err::<(), _>(StoreError::Backend("refused".into()))
    }));
    assert_eq!(got, Err(StoreError::Backend("refused".into())));
    assert_eq!(r(&s, |tx| tx.get_job("q2")), None, "a failed queued write must leave nothing behind");

    // Two queued guarded updates of one row in flight at once: the guard lets exactly one win,
    // whatever order they commit in (a store with several writer connections, as PostgreSQL's,
    // promises no order between writes in flight together, and neither do concurrent requests),
    // and the row holds the winner's write.
    let first = queued(&s, |tx| {
        let mut j = tx.get_job("q1")?.expect("q1");
        j.status = JobStatus::InProgress;
        tx.update_job(&j, JobStatus::Queued, None)
    });
    let second = queued(&s, |tx| {
        let mut j = tx.get_job("q1")?.expect("q1");
        j.status = JobStatus::Succeeded;
        tx.update_job(&j, JobStatus::Queued, None)
    });
    let won = (outcome(first), outcome(second));
    let stored = r(&s, |tx| tx.get_job("q1")).map(|j| j.status);
    match won {
        (Ok(true), Ok(false)) => assert_eq!(stored, Some(JobStatus::InProgress)),
        (Ok(false), Ok(true)) => assert_eq!(stored, Some(JobStatus::Succeeded)),
        other => panic!("exactly one guarded update must win, got {other:?}"),
    }

    // One after the other (the second queued once the first is answered): the second sees
    // what the first committed.
    let third = outcome(queued(&s, |tx| {
        let mut j = tx.get_job("q1")?.expect("q1");
        j.status = JobStatus::Failed;
        tx.update_job(&j, JobStatus::Queued, None)
    }));
    assert_eq!(third, Ok(false), "a guard must see the committed move out of Queued");
}

fn queued_and_direct_writes_mix<S: Store>(s: Arc<S>) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                let mut pending = Vec::new();
                for i in 0..50 {
                    let id = format!("m{t}-{i}");
                    if i % 2 == 0 {
                        w(&*s, |tx| tx.insert_job(&job(&id, "q", i)));
                    } else {
                        pending.push(queued(&*s, move |tx| tx.insert_job(&job(&id, "q", i))));
                    }
                }
                for p in pending {
                    outcome(p).expect("queued insert");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    for t in 0..4 {
        for i in 0..50 {
            assert!(r(&*s, |tx| tx.get_job(&format!("m{t}-{i}"))).is_some(), "job m{t}-{i}");
        }
    }
}

fn webhook(account: &str, name: &str, id: &str, at: i64) -> WebhookRow {
    WebhookRow {
        account_id: account.into(),
        name: name.into(),
        id: id.into(),
        definition: json!({"name": name, "filters": [{"jsonPath": "$.ref", "matchEquals": format!("at {at}")}]}),
        registered: false,
        last_triggered: None,
        created: at,
        updated: at,
    }
}

fn webhooks<S: Store>(s: S) {
    let list = |s: &S, account: &str| r(s, |tx| tx.list_webhooks(account, None, usize::MAX));
    assert_eq!(list(&s, "1"), vec![], "an account starts with no webhook");
    w(&s, |tx| tx.put_webhook(&webhook("1", "b", "id-b", 1)));
    w(&s, |tx| tx.put_webhook(&webhook("1", "a", "id-a", 2)));
    w(&s, |tx| tx.put_webhook(&webhook("2", "a", "id-other", 3)));
    assert_eq!(list(&s, "1"), vec![webhook("1", "a", "id-a", 2), webhook("1", "b", "id-b", 1)], "ordered by name");
    assert_eq!(r(&s, |tx| tx.list_webhooks("1", None, 1)), vec![webhook("1", "a", "id-a", 2)], "limit");
    assert_eq!(r(&s, |tx| tx.list_webhooks("1", Some("a"), 5)), vec![webhook("1", "b", "id-b", 1)], "after");
    assert_eq!(r(&s, |tx| tx.get_webhook("2", "a")), Some(webhook("2", "a", "id-other", 3)), "per account");
    assert_eq!(r(&s, |tx| tx.get_webhook("1", "c")), None);
    assert_eq!(r(&s, |tx| tx.webhook_by_id("1", "id-b")), Some(webhook("1", "b", "id-b", 1)));
    assert_eq!(r(&s, |tx| tx.webhook_by_id("2", "id-b")), None, "an id is found in its own account only");
    assert_eq!(r(&s, |tx| tx.webhook_by_id("1", "nope")), None);

    // Replacing by name rewrites every field.
    let mut replaced = webhook("1", "b", "id-b", 1);
    replaced.definition = json!({"name": "b", "filters": []});
    replaced.registered = true;
    replaced.updated = 9;
    w(&s, |tx| tx.put_webhook(&replaced));
    assert_eq!(r(&s, |tx| tx.get_webhook("1", "b")), Some(replaced.clone()));
    assert_eq!(list(&s, "1").len(), 2);

    // Triggering stamps the time, only while the id is the one given.
    assert!(w(&s, |tx| tx.webhook_triggered("1", "b", "id-b", 42)));
    assert_eq!(r(&s, |tx| tx.get_webhook("1", "b")).and_then(|h| h.last_triggered), Some(42));
    assert!(!w(&s, |tx| tx.webhook_triggered("1", "b", "id-stale", 43)), "another id: not this webhook");
    assert!(!w(&s, |tx| tx.webhook_triggered("1", "zz", "id-b", 43)));
    assert_eq!(r(&s, |tx| tx.get_webhook("1", "b")).and_then(|h| h.last_triggered), Some(42));

    let failed: Result<(), StoreError> = s.write(&mut |tx| {
        tx.delete_webhook("1", "a")?;
        tx.put_webhook(&webhook("1", "c", "id-c", 5))?;
        Err(StoreError::Backend("abort".into()))
    });
    assert!(failed.is_err());
    assert_eq!(list(&s, "1").len(), 2, "a failed transaction changes no webhook");
    assert!(w(&s, |tx| tx.delete_webhook("1", "a")));
    assert!(!w(&s, |tx| tx.delete_webhook("1", "a")), "deleted already");
    replaced.last_triggered = Some(42);
    assert_eq!(list(&s, "1"), vec![replaced]);
    assert_eq!(list(&s, "2").len(), 1, "other accounts keep theirs");
    // An id freed by a deletion finds nothing.
    assert_eq!(r(&s, |tx| tx.webhook_by_id("1", "id-a")), None);
}
