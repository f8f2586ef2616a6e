//! The PostgreSQL store against the shared store contract and domain
//! scenarios (each test on a schema of its own), plus what only a store on
//! a database server can show: nodes opening one database at once, a
//! restart that loses nothing, connections lost and made again.

mod support;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use cpjobs_core::testing::contract::job;
use cpjobs_core::testing::domain::{CUSTOMER, PARTNER, World, at, caller, partner_pipeline, tp_id};
use cpjobs_core::{Api, Operation, Store, StoreError, Submitted};
use cpjobs_store_postgres::{PgOptions, PgStore, redact_url};
use serde_json::json;
use support::{Fresh, admin, new_schema, open, ready, url_of};

fn fresh() -> Fresh {
    Fresh::new()
}

// One test per contract check and domain scenario: `contract::*`, `domain::*`.
cpjobs_core::store_tests!(fresh, ready = ready);

#[test]
fn nodes_starting_at_once_migrate_the_schema_once() {
    if !ready() {
        return;
    }
    let schema = new_schema();
    let stores: Vec<PgStore> = std::thread::scope(|s| {
        let opening: Vec<_> = (0..4).map(|_| s.spawn(|| open(&schema))).collect();
        opening.into_iter().map(|t| t.join().expect("open")).collect()
    });
    assert!(stores.iter().all(|s| s.schema_version() == 5));
    let s = open(&schema);
    assert_eq!(s.schema_version(), 5, "reopening keeps the version");
    stores[0].write(&mut |tx| tx.insert_job(&job("j", "q", 1))).expect("write on one node");
    assert!(stores[3].read(&mut |tx| tx.get_job("j")).expect("read on another").is_some());
    drop((stores, s));
    admin(&format!(
        "DO $$ BEGIN IF (SELECT COUNT(*) FROM {schema}.schema_version) <> 5 THEN \
         RAISE EXCEPTION 'the migration ran more than once'; END IF; END $$; DROP SCHEMA {schema} CASCADE"
    ));
}

#[test]
fn restart_mid_flow_loses_nothing_and_resumes_leases_and_timeouts() {
    if !ready() {
        return;
    }
    let schema = new_schema();
    let w = World::new(open(&schema));
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let (src, token, nonce) = w.take_third_party(PARTNER, "PartnerSource", "Source", 1);
    drop(w);

    let w = World::new(open(&schema));
    let again =
        w.ok(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": src, "nonce": nonce, "clientToken": token}), 2);
    assert_eq!(again["status"], "InProgress");
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": token}), 2);
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 3);
    let build = polled["jobs"][0]["jobId"].as_str().expect("job").to_owned();
    drop(w);

    let w = World::new(open(&schema));
    assert_eq!(w.svc.tick(at(20)).expect("tick").requeued, 0, "the lease survives the restart");
    assert_eq!(w.svc.tick(at(33)).expect("tick").requeued, 1, "and ends on time");
    let (again, btoken, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 40);
    assert_eq!(again, build);
    drop(w);

    let w = World::new(open(&schema));
    assert_eq!(w.svc.tick(at(601)).expect("tick").timed_out, 0);
    assert_eq!(w.svc.tick(at(603)).expect("tick").timed_out, 1);
    assert_eq!(w.status("app", &exec), "Failed");
    assert_eq!(
        w.err(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": build, "clientToken": btoken}), 604),
        "InvalidJobStateException"
    );
    drop(w);
    admin(&format!("DROP SCHEMA {schema} CASCADE"));
}

#[test]
fn reads_are_not_run_inline_on_async_threads() {
    if !ready() {
        return;
    }
    let w = World::new(fresh());
    assert!(!w.svc.store().inline_reads(), "each read waits for the network");
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 1);
    let details = json!({"jobId": job, "clientToken": token});
    // What the server would answer on its async threads is handed back as
    // blocking work instead: a details read and a poll alike.
    for (operation, input) in [
        (Operation::GetThirdPartyJobDetails, details.clone()),
        (Operation::PollForThirdPartyJobs, json!({"actionTypeId": tp_id("Build", "PartnerBuild")})),
    ] {
        let (tx, rx) = std::sync::mpsc::channel();
        let reply = Box::new(move |r| tx.send(r).expect("send"));
        match w.svc.submit(&caller(PARTNER), operation, input, at(2), reply) {
            Submitted::Blocking(..) => {}
            Submitted::Taken => panic!("{operation}'s read ran on the caller's thread: {:?}", rx.try_recv()),
        }
    }
    // The same details through a blocking call.
    let out = w.svc.call(&caller(PARTNER), Operation::GetThirdPartyJobDetails, details, at(2)).expect("details");
    assert_eq!(out["jobDetails"]["id"], job);
}

#[test]
fn a_panicking_queued_write_fails_alone() {
    if !ready() {
        return;
    }
    let s = fresh();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    s.write_then(
        Box::new(|t| -> Result<bool, StoreError> {
            t.insert_job(&job("before-panic", "q", 1))?;
            panic!("a bug in a write")
        }),
        Box::new(move |r| tx.send(r).expect("send")),
    );
    s.write_then(
        Box::new(|tx| {
            tx.insert_job(&job("after", "q", 1))?;
            Ok(true)
        }),
        Box::new(move |r| tx2.send(r).expect("send")),
    );
    let wait = || rx.recv_timeout(Duration::from_secs(30)).expect("answered");
    let mut answers = vec![wait(), wait()];
    answers.sort_by_key(|a| a.is_ok());
    assert!(matches!(&answers[0], Err(StoreError::Backend(m)) if m.contains("panicked")), "{answers:?}");
    assert_eq!(answers[1], Ok(true), "the writer threads go on after a panicking write");
    assert!(s.read(&mut |tx| tx.get_job("after")).expect("read").is_some());
    assert!(s.read(&mut |tx| tx.get_job("before-panic")).expect("read").is_none(), "the panicking write left nothing");
}

#[test]
fn a_dropped_store_answers_every_queued_write() {
    if !ready() {
        return;
    }
    let schema = new_schema();
    let s = open(&schema);
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..100 {
        let tx = tx.clone();
        s.write_then(
            Box::new(move |t| t.insert_job(&job(&format!("j{i}"), "q", i))),
            Box::new(move |r: Result<(), StoreError>| tx.send(r).expect("send")),
        );
    }
    drop(s);
    drop(tx);
    assert_eq!(rx.iter().filter(Result::is_ok).count(), 100, "every queued write is answered, none lost");
    let s = open(&schema);
    for i in 0..100 {
        assert!(s.read(&mut |t| t.get_job(&format!("j{i}"))).expect("read").is_some(), "j{i}");
    }
    drop(s);
    admin(&format!("DROP SCHEMA {schema} CASCADE"));
}

/// Ends every session of the test server on `schema` but the caller's, as
/// a restart of the server (or a network cut) would.
fn cut_connections(schema: &str) {
    admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND datname = current_database() AND application_name = 'cpjobs-{schema}'"
    ));
}

/// The store on `schema`, its sessions named so [`cut_connections`] finds them.
fn named(schema: &str) -> PgStore {
    let url = format!("{}&application_name=cpjobs-{schema}", url_of(schema));
    PgStore::open(&PgOptions { max_connections: 2, ..PgOptions::new(url) }).expect("open")
}

#[test]
fn lost_connections_are_made_again_and_a_cut_mid_transaction_is_a_backend_error() {
    if !ready() {
        return;
    }
    let schema = new_schema();
    let s = named(&schema);
    s.write(&mut |tx| tx.insert_job(&job("a", "q", 1))).expect("write");

    // Idle connections cut (the database restarted): the next transactions
    // reconnect and work.
    cut_connections(&schema);
    std::thread::sleep(Duration::from_millis(200));
    assert!(s.read(&mut |tx| tx.get_job("a")).expect("read after the cut").is_some());
    s.write(&mut |tx| tx.insert_job(&job("b", "q", 2))).expect("write after the cut");

    // Cut in the middle of a write: the write fails with the cause, keeps
    // nothing, and the store works on.
    let cut = s.write(&mut |tx| {
        tx.insert_job(&job("c", "q", 3))?;
        cut_connections(&schema);
        tx.get_job("c")
    });
    match cut {
        Err(StoreError::Backend(m)) => assert!(m.contains("lost"), "{m}"),
        other => panic!("a write whose connection was cut answered {other:?}"),
    }
    assert!(s.read(&mut |tx| tx.get_job("c")).expect("read").is_none(), "the cut write kept nothing");
    assert!(s.read(&mut |tx| tx.get_job("b")).expect("read").is_some());
    drop(s);
    admin(&format!("DROP SCHEMA {schema} CASCADE"));
}

#[test]
fn writes_that_read_a_pipeline_as_a_set_run_one_after_the_other() {
    if !ready() {
        return;
    }
    // Eight threads each read the unfinished jobs of one pipeline and add a
    // job numbered after them: each write must see every write before it
    // (under plain READ COMMITTED two would read the same count), and
    // deadlocks or conflicts on the way are retried until each write lands once.
    let s = Arc::new(fresh());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..5 {
                    // After its attempts a write may answer a conflict, which the
                    // service retries in turn; so does this test, boundedly.
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        let r = s.write(&mut |tx| {
                            let n = tx.unfinished_jobs_of_pipeline("111111111111", "p")?.len() as i64;
                            tx.insert_job(&job(&format!("t{t}-{i}"), "q", n))
                        });
                        match r {
                            Err(StoreError::Conflict(_)) if tries < 50 => continue,
                            r => break r.expect("write"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let mut created: Vec<i64> = s
        .read(&mut |tx| tx.unfinished_jobs_of_pipeline("111111111111", "p"))
        .expect("read")
        .into_iter()
        .map(|j| j.created)
        .collect();
    created.sort();
    assert_eq!(created, (0..40).collect::<Vec<_>>(), "each write saw every write before it: a serial order");
}

#[test]
fn a_wrong_password_is_a_clear_error_without_the_password() {
    if !ready() {
        return;
    }
    let url = support::server_url().expect("server");
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let wrong = format!("{scheme}://cpjobs:not-the-password@{host}");
    let e = PgStore::open(&PgOptions::new(wrong.clone())).expect_err("refused");
    let StoreError::Backend(m) = e else { panic!("{e:?}") };
    assert!(m.contains("password authentication failed"), "{m}");
    assert!(!m.contains("not-the-password"), "{m}");
    assert_eq!(redact_url(&wrong), format!("{scheme}://cpjobs:***@{host}"));
}

#[test]
fn a_pipelines_job_list_waits_for_results_in_flight() {
    if !ready() {
        return;
    }
    use cpjobs_core::store::ExecutionRow;
    // A job result in flight (its execution updated, a next job added, not
    // committed yet) and a deletion listing the pipeline's unfinished jobs:
    // the list must wait for the result and hold its job, or the job would
    // outlive its pipeline.
    let s = Arc::new(fresh());
    let execution = ExecutionRow {
        id: "e1".into(),
        account_id: "111111111111".into(),
        pipeline_name: "p".into(),
        status: "InProgress".into(),
        started: 1,
        updated: 1,
        revision: 0,
        wake_at: None,
        stage: Some("Build".into()),
        waiting_for: None,
        doc: json!({}).into(),
    };
    s.write(&mut |tx| {
        tx.insert_execution(&execution)?;
        tx.insert_job(&job("first", "q", 1))
    })
    .expect("setup");
    let (updated, wait_updated) = std::sync::mpsc::channel();
    let result = {
        let (s, execution) = (Arc::clone(&s), execution.clone());
        std::thread::spawn(move || {
            s.write(&mut |tx| {
                let mut next = execution.clone();
                next.updated = 2;
                assert!(tx.update_execution(&next, 0)?, "the guard holds");
                tx.insert_job(&job("next", "q", 2))?;
                let _ = updated.send(());
                std::thread::sleep(Duration::from_millis(300));
                Ok::<_, StoreError>(())
            })
        })
    };
    wait_updated.recv_timeout(Duration::from_secs(30)).expect("the result is in flight");
    let listed: Vec<String> = s
        .write(&mut |tx| tx.unfinished_jobs_of_pipeline("111111111111", "p"))
        .expect("list")
        .into_iter()
        .map(|j| j.id)
        .collect();
    result.join().expect("thread").expect("the result commits");
    assert_eq!(listed, ["first", "next"], "the list waited for the result in flight");
}

/// During a rolling upgrade, nodes of the version before keep the latest
/// execution per stage in `latest_reached` (one row per part) while nodes of
/// this version add rows of their own to `reached`: readers take the later
/// of both, so a mark written by either is seen.
#[test]
fn marks_of_nodes_of_the_version_before_are_read_beside_this_versions() {
    if !ready() {
        return;
    }
    let schema = new_schema();
    let w = World::new(open(&schema));
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 1)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let reader = open(&schema);
    let latest = || reader.read(&mut |tx| tx.latest_reached(CUSTOMER, "app", &["Source".to_owned()])).expect("read");
    assert_eq!(latest(), Some(vec![("Source".to_owned(), exec.clone())]), "this version's mark");
    // An older node marks a later execution (its table, its upsert).
    admin(&format!(
        "INSERT INTO {schema}.latest_reached VALUES ('{CUSTOMER}', 'app', 'Source', 'from-an-old-node', 9000000000000000, 99)"
    ));
    assert_eq!(latest(), Some(vec![("Source".to_owned(), "from-an-old-node".to_owned())]), "the later mark wins");
    admin(&format!("UPDATE {schema}.latest_reached SET started = 0, seq = 0"));
    assert_eq!(latest(), Some(vec![("Source".to_owned(), exec)]), "an earlier old mark loses");
    drop((w, reader));
    admin(&format!("DROP SCHEMA {schema} CASCADE"));
}

/// Rows far larger than a socket's buffers go out and come back whole: the
/// connection is driven by the waiting thread, which must go on writing
/// when the socket takes no more and reading a message spread over many
/// reads.
#[test]
fn rows_larger_than_the_socket_buffers_go_and_come_back_whole() {
    if !ready() {
        return;
    }
    let schema = new_schema();
    let s = open(&schema);
    let mut big = job("big", "q", 1);
    // 8 MiB of JSON that does not compress into a few pages.
    let text: String = (0..1_000_000u32).map(|i| format!("{:08x}", i.wrapping_mul(2_654_435_761))).collect();
    big.data = json!({"blob": text}).into();
    s.write(&mut |tx| tx.insert_job(&big)).expect("a large write");
    for _ in 0..3 {
        let back = s.read(&mut |tx| tx.get_job("big")).expect("a large read").expect("stored");
        assert_eq!(back, big);
    }
    drop(s);
    admin(&format!("DROP SCHEMA {schema} CASCADE"));
}
