//! The console's reads (issue 12): the store contract of
//! [`Tx::queue_figures`], [`Tx::jobs_in_flight`] and [`Tx::recent_failures`]
//! (the jobs page) and of [`Tx::mark_reached`] and [`Tx::latest_reached`]
//! (the pipeline page), and the domain scenario of `ListJobQueues`.
//! Listed in [`named`](super::named); [`contract`](super::contract) and
//! [`domain`](super::domain) dispatch to them.
#![deny(dead_code)]

use serde_json::{Value, json};

use super::contract::job;
use super::domain::{
    CUSTOMER, OTHER, PARTNER, POLLER, World, custom_id, custom_source, partner_pipeline, start, tp_id,
};
use crate::jobs::JobStatus;
use crate::store::{QueueFigures, Store, StoreError, Tx};

/// Moves a queued job to `status` at `updated`, with `result` (guarded on `Queued`).
fn settle(tx: &mut dyn Tx, id: &str, status: JobStatus, updated: i64, result: Option<Value>) -> Result<(), StoreError> {
    let mut j = tx.get_job(id)?.expect("stored");
    j.status = status;
    j.updated = updated;
    j.result = result.map(Into::into);
    if status == JobStatus::Dispatched {
        j.nonce = Some(format!("n-{id}"));
        j.lease_until = Some(updated + 30_000);
    }
    assert!(tx.update_job(&j, JobStatus::Queued, None)?, "{id} was queued");
    Ok(())
}

/// A store read of jobs.
type Jobs = Result<Vec<crate::store::JobRow>, StoreError>;

fn ids(jobs: Vec<crate::store::JobRow>) -> Vec<String> {
    jobs.into_iter().map(|j| j.id).collect()
}

pub(crate) fn queue_reads<S: Store>(s: S) {
    s.write(&mut |tx| {
        for (id, created) in [("q1", 10), ("q2", 5), ("d1", 3), ("p1", 4), ("f1", 1), ("t1", 2), ("f2", 0), ("s1", 0)] {
            tx.insert_job(&job(id, "qa", created))?;
        }
        tx.insert_job(&job("other", "qb", 1))?;
        tx.insert_job(&job("otherf", "qb", 1))?;
        settle(tx, "d1", JobStatus::Dispatched, 20, None)?;
        settle(tx, "p1", JobStatus::InProgress, 21, None)?;
        settle(tx, "f1", JobStatus::Failed, 100, Some(json!({"failureDetails": {"message": "f1"}})))?;
        settle(tx, "t1", JobStatus::TimedOut, 200, None)?;
        settle(tx, "f2", JobStatus::Failed, 50, None)?;
        settle(tx, "s1", JobStatus::Succeeded, 300, None)?;
        settle(tx, "otherf", JobStatus::Failed, 400, None)
    })
    .expect("jobs stored");
    let read = |f: &mut dyn FnMut(&mut dyn Tx) -> Jobs| ids(s.read(&mut |tx| f(tx)).expect("read"));
    let figures = s.read(&mut |tx| tx.queue_figures("qa")).expect("figures");
    assert_eq!(figures, QueueFigures { queued: 2, oldest_queued: Some(5), in_flight: 2 });
    assert_eq!(s.read(&mut |tx| tx.queue_figures("none")).expect("figures"), QueueFigures::default());
    assert_eq!(read(&mut |tx| tx.jobs_in_flight("qa", 10)), ["d1", "p1"], "oldest first, one queue only");
    assert_eq!(read(&mut |tx| tx.jobs_in_flight("qa", 1)), ["d1"], "limit");
    assert_eq!(read(&mut |tx| tx.recent_failures("qa", 10)), ["t1", "f1", "f2"], "latest first, no successes");
    assert_eq!(read(&mut |tx| tx.recent_failures("qa", 2)), ["t1", "f1"], "limit");
    assert_eq!(read(&mut |tx| tx.recent_failures("qb", 10)), ["otherf"]);
    let failed = s.read(&mut |tx| tx.recent_failures("qa", 2)).expect("read");
    assert_eq!(failed[1].result, Some(json!({"failureDetails": {"message": "f1"}}).into()), "results come along");
    // A claim moves a job from one figure to the other.
    s.write(&mut |tx| settle(tx, "q2", JobStatus::Dispatched, 30, None)).expect("dispatched");
    let figures = s.read(&mut |tx| tx.queue_figures("qa")).expect("figures");
    assert_eq!(figures, QueueFigures { queued: 1, oldest_queued: Some(10), in_flight: 3 });
}

/// The queue of `provider` in a `ListJobQueues` answer.
fn queue<'a>(out: &'a Value, provider: &str) -> Option<&'a Value> {
    out["queues"].as_array().expect("queues").iter().find(|q| q["actionTypeId"]["provider"] == provider)
}

fn providers(out: &Value) -> Vec<&str> {
    out["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .map(|q| q["actionTypeId"]["provider"].as_str().expect("p"))
        .collect()
}

pub(crate) fn job_queues_and_pollers<S: Store>(w: World<S>) {
    custom_source(&w);
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    start(&w, "app", 0);
    let queues = |who: &str, secs: u64| w.ok(who, "ListJobQueues", json!({}), secs);

    // Each account sees the queues it may poll, exactly as polls decide.
    assert_eq!(providers(&queues(CUSTOMER, 5)), ["MySource"], "its own custom type only");
    assert_eq!(providers(&queues(PARTNER, 5)), ["PartnerBuild", "PartnerSource"], "the types it owns");
    assert_eq!(providers(&queues(POLLER, 5)), ["PartnerBuild"], "the type it is a polling account of");
    assert!(providers(&queues(OTHER, 5)).is_empty(), "nothing of anyone else's");

    // The pipeline queued the source job at t = 0: one job waiting, 0 s old.
    let out = queues(PARTNER, 5);
    let source = queue(&out, "PartnerSource").expect("listed");
    assert_eq!(source["queuedJobs"], 1);
    assert_eq!(source["oldestQueuedTime"], json!(1_800_000_000.0));
    assert_eq!(source["jobsInFlight"], 0);
    assert_eq!(source["ownerAccount"], PARTNER);
    assert!(source["pollers"].as_array().expect("pollers").is_empty(), "nobody polled yet");
    assert_eq!(out["pollersSeenBy"], "this node");

    // A refused poll makes no poller; an accepted one does, seen by those who see the queue.
    assert_eq!(
        w.err(OTHER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 6),
        "ActionTypeNotFoundException"
    );
    w.ok(POLLER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 6);
    w.ok(POLLER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 7);
    let out = queues(PARTNER, 8);
    let build = queue(&out, "PartnerBuild").expect("listed");
    let pollers = build["pollers"].as_array().expect("pollers");
    assert_eq!(pollers.len(), 1, "{pollers:?}");
    assert_eq!(pollers[0]["accountId"], POLLER);
    assert_eq!(pollers[0]["lastPollTime"], json!(1_800_000_007.0));
    assert_eq!(pollers[0]["pollsPerMinute"], 2.0);
    assert!(queues(CUSTOMER, 8)["queues"][0]["pollers"].as_array().expect("pollers").is_empty());

    // The source job in flight: dispatched with a lease, then in progress with its timeout.
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Source", "PartnerSource")}), 10);
    let job_id = polled["jobs"][0]["jobId"].as_str().expect("a job").to_owned();
    let out = queues(PARTNER, 11);
    let source = queue(&out, "PartnerSource").expect("listed");
    assert_eq!((source["queuedJobs"].clone(), source["jobsInFlight"].clone()), (json!(0), json!(1)));
    assert!(source.get("oldestQueuedTime").is_none(), "nothing waits");
    let flying = &source["inFlight"][0];
    assert_eq!(flying["jobId"], job_id.as_str());
    assert_eq!(flying["status"], "Dispatched");
    assert_eq!(flying["pipelineName"], "app");
    assert_eq!(flying["stageName"], "Source");
    assert_eq!(flying["actionName"], "Fetch");
    assert_eq!(flying["leaseExpires"], json!(1_800_000_040.0), "the default lease of 30 s from the poll");

    // A failure shows with its error; the customer's own custom queue is untouched.
    let token = w.client_token(polled["jobs"][0]["clientId"].as_str().expect("clientId"));
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job_id, "clientToken": token}), 12);
    let nonce = details["jobDetails"]["nonce"].clone();
    w.ok(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job_id, "nonce": nonce, "clientToken": token}), 12);
    let failure = json!({"jobId": job_id, "clientToken": token,
                         "failureDetails": {"type": "JobFailed", "message": "the repository is gone"}});
    w.ok(PARTNER, "PutThirdPartyJobFailureResult", failure, 13);
    let out = queues(PARTNER, 14);
    let source = queue(&out, "PartnerSource").expect("listed");
    assert_eq!(source["jobsInFlight"], 0);
    let failed = &source["recentFailures"][0];
    assert_eq!(failed["jobId"], job_id.as_str());
    assert_eq!(failed["status"], "Failed");
    assert_eq!(failed["errorType"], "JobFailed");
    assert_eq!(failed["errorMessage"], "the repository is gone");
    assert_eq!(failed["finished"], json!(1_800_000_013.0));

    // A custom job that times out shows as such, to its owner only.
    let mut decl = super::domain::declaration(
        "mine",
        vec![("Source", vec![super::domain::action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)])],
    );
    decl["stages"].as_array_mut().expect("stages").push(json!({"name": "Build", "actions": [
        super::domain::action("Compile", tp_id("Build", "PartnerBuild"), &["code"], &[], 1)]}));
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 20);
    start(&w, "mine", 20);
    w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Source", "MySource")}), 21);
    w.svc.tick(super::domain::at(20 + 3601)).expect("tick");
    let out = queues(CUSTOMER, 20 + 3602);
    let mine = queue(&out, "MySource").expect("listed");
    let timed_out = &mine["recentFailures"][0];
    assert_eq!(timed_out["status"], "TimedOut");
    assert_eq!(timed_out["errorType"], "JobTimedOut");
    assert_eq!(mine["pollers"][0]["accountId"], CUSTOMER);
    assert_eq!(mine["pollers"][0]["pollsPerMinute"], 0.0, "an hour ago");
    assert!(queue(&queues(PARTNER, 20 + 3602), "MySource").is_none());
}

pub(crate) fn reached_marks<S: Store>(s: S) {
    use super::contract::{execution, pipeline};
    let parts = |v: &[&str]| v.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    let latest = |s: &S, pipeline: &str| {
        s.read(&mut |tx| tx.latest_reached("1", pipeline, &parts(&["S", "S/A", "T", "U"]))).expect("read")
    };
    assert_eq!(latest(&s, "p"), None, "no such pipeline: the caller reads the history");
    s.write(&mut |tx| {
        assert!(tx.insert_pipeline(&pipeline("p", 1))?);
        assert!(tx.insert_pipeline(&pipeline("q", 1))?);
        tx.insert_execution(&execution("e1", "p", 1))?;
        tx.insert_execution(&execution("e2", "p", 2))?;
        // Started in the same millisecond as e2, stored after it: later in the history's order.
        tx.insert_execution(&execution("e3", "p", 2))?;
        tx.insert_execution(&execution("q1", "q", 9))
    })
    .expect("stored");
    assert_eq!(latest(&s, "p"), Some(vec![]), "a pipeline made with the marks: nothing reached yet");
    let mark = |s: &S, id: &str, pipeline: &str, p: &[&str]| {
        s.write(&mut |tx| tx.mark_reached("1", pipeline, id, &parts(p))).expect("marked")
    };
    mark(&s, "e3", "p", &["S"]);
    mark(&s, "e1", "p", &["S", "S/A", "T"]);
    mark(&s, "e2", "p", &["S", "S/A"]);
    mark(&s, "q1", "q", &["S", "T", "U"]);
    mark(&s, "e1", "p", &["S", "S/A", "T"]);
    mark(&s, "gone", "p", &["U"]);
    let got = latest(&s, "p").expect("complete");
    let want = [("S", "e3"), ("S/A", "e2"), ("T", "e1")].map(|(p, e)| (p.to_owned(), e.to_owned()));
    assert_eq!(got, want, "the latest per part, whatever the order of the marks; none for an unknown execution");
    assert_eq!(latest(&s, "q").expect("complete").len(), 3, "pipelines apart");
    // Deleted and made again under the same name: nothing reached.
    s.write(&mut |tx| {
        assert!(tx.delete_pipeline("1", "p")?);
        tx.insert_pipeline(&pipeline("p", 1))
    })
    .expect("made again");
    assert_eq!(latest(&s, "p"), Some(vec![]));
}
