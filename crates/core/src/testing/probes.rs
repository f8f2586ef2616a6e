//! The store contract of the reads that answer several questions at once,
//! which a backend reached over the network answers in one query:
//! [`Tx::job_with_client`] (every third-party job call) and
//! [`Tx::poll_probe`] (every poll). Each must answer exactly what its parts
//! answer one by one. Listed in [`named`](super::named);
//! [`contract`](super::contract) dispatches to it.
#![deny(dead_code)]

use serde_json::json;

use super::contract::job;
use crate::jobs::JobStatus;
use crate::store::{ClientRow, JobWithClient, PollProbe, Store, Tx};

fn client(id: &str, queue: &str) -> ClientRow {
    ClientRow {
        client_id: id.into(),
        client_token: format!("sealed-{id}"),
        owner_account: "9".into(),
        queue: queue.into(),
        account_id: "1".into(),
        pipeline_name: "p".into(),
        stage_name: "s".into(),
        action_name: format!("a-{id}"),
        created: 1,
    }
}

/// The answer of [`Tx::job_with_client`] from its parts, one read each.
fn composed(tx: &mut dyn Tx, id: &str) -> Option<JobWithClient> {
    let job = tx.get_job(id).expect("get_job")?;
    let client_token = job.client_id.as_deref().and_then(|c| tx.client_token(c).expect("client_token"));
    let type_revision = tx.action_type_revision(&job.queue).expect("action_type_revision");
    Some(JobWithClient { job, client_token, type_revision })
}

pub(super) fn combined_reads<S: Store>(s: S) {
    let tp = "ThirdParty/Build/X/1";
    let mut with_client = job("j1", tp, 1);
    with_client.client_id = Some("c1".into());
    let mut client_gone = job("j2", tp, 2);
    client_gone.client_id = Some("gone".into());
    let mut no_type = job("j3", "Custom/1/Build/None/1", 3);
    no_type.client_id = Some("c1".into());
    let mut filtered = job("j4", "Custom/1/Build/Q/1", 4);
    filtered.query_value = Some("blue".into());
    s.write(&mut |tx| {
        assert!(tx.insert_action_type(tp, "9", "ThirdParty", &json!({"t": 1}))?);
        assert!(tx.insert_action_type("Custom/1/Build/Q/1", "1", "Custom", &json!({"q": 1}))?);
        tx.insert_client(&client("c1", tp))?;
        for j in [&with_client, &client_gone, &no_type, &filtered, &job("j5", "Custom/1/Build/Q/1", 5)] {
            tx.insert_job(j)?;
        }
        Ok::<_, crate::store::StoreError>(())
    })
    .expect("setup");
    let revision = |key: &str| s.read(&mut |tx| tx.action_type_revision(key)).expect("read");
    s.read(&mut |tx| {
        for id in ["j1", "j2", "j3", "j4", "nope"] {
            let one = tx.job_with_client(id)?;
            assert_eq!(one, composed(tx, id), "job_with_client({id})");
        }
        Ok::<_, crate::store::StoreError>(())
    })
    .expect("read");
    let j1 = s.read(&mut |tx| tx.job_with_client("j1")).expect("read").expect("j1 stored");
    assert_eq!(j1.client_token.as_deref(), Some("sealed-c1"));
    assert!(j1.type_revision.is_some());
    assert_eq!(j1.job, with_client);

    // A poll probe answers each part as asked alone, at every time and filter.
    let probe = |queue: &str, value: Option<&str>, now: i64| {
        s.read(&mut |tx| {
            let one = tx.poll_probe(queue, value, now)?;
            let parts = PollProbe {
                type_revision: tx.action_type_revision(queue)?,
                may_have_queued: tx.may_have_queued(queue, value)?,
                anything_due: tx.anything_due(now)?,
            };
            assert_eq!(one, parts, "poll_probe({queue}, {value:?}, {now})");
            Ok::<_, crate::store::StoreError>(one)
        })
        .expect("read")
    };
    let q = "Custom/1/Build/Q/1";
    let p = probe(q, None, 10);
    assert_eq!(p.type_revision, revision(q));
    assert!(p.type_revision.is_some() && !p.anything_due);
    assert!(probe(q, Some("blue"), 10).may_have_queued);
    assert!(!probe(q, Some("green"), 10).may_have_queued, "no job of that value");
    let none = probe("Custom/1/Build/None/1", None, 10);
    assert_eq!(none.type_revision, None, "no action type stored under that key");
    assert!(probe(q, None, with_client.timeout_at).anything_due, "j1 times out then");
    // Once a queue's jobs are all claimed, a probe finds nothing queued.
    let mut n = 0;
    let claimed = s
        .write(&mut |tx| {
            tx.claim_jobs(q, None, 5, 20, 60, &mut || {
                n += 1;
                format!("n{n}")
            })
        })
        .expect("claim");
    let ids: Vec<_> = claimed.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["j4", "j5"], "oldest first, fewer than asked");
    assert!(claimed.iter().all(|j| j.status == JobStatus::Dispatched && j.lease_until == Some(60)));
    assert_ne!(claimed[0].nonce, claimed[1].nonce, "each claimed job has its own nonce");
    let p = probe(q, None, 20);
    assert!(!p.may_have_queued && !p.anything_due);
    assert!(probe(q, None, 60).anything_due, "the claims' leases end at 60");
}
