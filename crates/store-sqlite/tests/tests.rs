//! The SQLite store against the shared store contract and domain scenarios,
//! plus what only a file-backed store can show: nothing is lost on restart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use cpjobs_core::testing::domain::{CUSTOMER, PARTNER, World, at, partner_pipeline, tp_id};
use cpjobs_store_sqlite::SqliteStore;
use serde_json::json;

/// A fresh database file in a per-process temporary folder.
fn fresh_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("db-{}.sqlite", N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&path);
    path
}

fn fresh() -> SqliteStore {
    SqliteStore::open(fresh_path()).expect("open store")
}

// One test per contract check and domain scenario: `contract::*`, `domain::*`.
cpjobs_core::store_tests!(fresh);

#[test]
fn schema_is_versioned_and_reopening_keeps_it() {
    let path = fresh_path();
    let s = SqliteStore::open(&path).expect("open");
    assert_eq!(s.schema_version().expect("version"), 7);
    drop(s);
    let s = SqliteStore::open(&path).expect("reopen");
    assert_eq!(s.schema_version().expect("version"), 7);
}

#[test]
fn restart_mid_flow_loses_nothing_and_resumes_leases_and_timeouts() {
    let path = fresh_path();
    let w = World::new(SqliteStore::open(&path).expect("open"));
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    let exec = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0)["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let (src, token, nonce) = w.take_third_party(PARTNER, "PartnerSource", "Source", 1);
    drop(w);

    // The acknowledged job is still the worker's after a restart.
    let w = World::new(SqliteStore::open(&path).expect("reopen"));
    let again =
        w.ok(PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": src, "nonce": nonce, "clientToken": token}), 2);
    assert_eq!(again["status"], "InProgress");
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": src, "clientToken": token}), 2);
    // The build job is dispatched, then the service restarts during its lease.
    let polled = w.ok(PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": tp_id("Build", "PartnerBuild")}), 3);
    let build = polled["jobs"][0]["jobId"].as_str().expect("job").to_owned();
    drop(w);

    let w = World::new(SqliteStore::open(&path).expect("reopen"));
    assert_eq!(w.svc.tick(at(20)).expect("tick").requeued, 0, "the lease survives the restart");
    assert_eq!(w.svc.tick(at(33)).expect("tick").requeued, 1, "and ends on time");
    let (again, btoken, _) = w.take_third_party(PARTNER, "PartnerBuild", "Build", 40);
    assert_eq!(again, build);
    drop(w);

    // The job timeout (600 s from creation at t = 2) is kept across restarts too.
    let w = World::new(SqliteStore::open(&path).expect("reopen"));
    assert_eq!(w.svc.tick(at(601)).expect("tick").timed_out, 0);
    assert_eq!(w.svc.tick(at(603)).expect("tick").timed_out, 1);
    assert_eq!(w.status("app", &exec), "Failed");
    assert_eq!(
        w.err(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": build, "clientToken": btoken}), 604),
        "InvalidJobStateException"
    );
}

#[test]
fn a_panicking_queued_write_fails_alone() {
    use cpjobs_core::{Store, StoreError};
    let s = fresh();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    s.write_then(
        Box::new(|_| -> Result<(), StoreError> { panic!("a bug in a write") }),
        Box::new(move |r| tx.send(r.map(|()| false)).expect("send")),
    );
    s.write_then(
        Box::new(|tx| {
            tx.insert_job(&cpjobs_core::testing::contract::job("after", "q", 1))?;
            Ok(true)
        }),
        Box::new(move |r| tx2.send(r).expect("send")),
    );
    let wait = || rx.recv_timeout(std::time::Duration::from_secs(30)).expect("answered");
    assert!(matches!(wait(), Err(StoreError::Backend(m)) if m.contains("panicked")));
    assert_eq!(wait(), Ok(true), "the writer thread goes on after a panicking write");
    assert!(s.read(&mut |tx| tx.get_job("after")).expect("read").is_some());
}

#[test]
fn a_failed_sync_is_never_answered_as_durable() {
    use cpjobs_core::{Store, StoreError};
    let path = fresh_path();
    let s = SqliteStore::open(&path).expect("open");
    // The sync thread opens the WAL by its name at the first sync: moved
    // away, that sync fails, as a failing disk's would.
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    let moved = path.with_extension("moved-wal");
    std::fs::rename(&wal, &moved).expect("move the WAL away");
    let insert = |id: &'static str| s.write(&mut |tx| tx.insert_job(&cpjobs_core::testing::contract::job(id, "q", 1)));
    for id in ["first", "second"] {
        match insert(id) {
            Err(StoreError::Backend(m)) => assert!(m.contains("restart the service"), "{m}"),
            other => panic!("a write whose sync failed was answered with {other:?}"),
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    s.write_then(
        Box::new(|tx| tx.insert_job(&cpjobs_core::testing::contract::job("third", "q", 1))),
        Box::new(move |r| tx.send(r).expect("send")),
    );
    let queued = rx.recv_timeout(std::time::Duration::from_secs(30)).expect("answered");
    assert!(matches!(queued, Err(StoreError::Backend(_))), "{queued:?}");
    drop(s);
    let _ = std::fs::remove_file(&moved);
}

#[test]
fn a_dropped_store_leaves_one_file_with_everything_answered() {
    use cpjobs_core::{Store, StoreError};
    let path = fresh_path();
    let s = SqliteStore::open(&path).expect("open");
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..200 {
        let tx = tx.clone();
        s.write_then(
            Box::new(move |t| t.insert_job(&cpjobs_core::testing::contract::job(&format!("j{i}"), "q", i))),
            Box::new(move |r: Result<(), StoreError>| tx.send(r).expect("send")),
        );
    }
    drop(s);
    drop(tx);
    assert_eq!(rx.iter().filter(Result::is_ok).count(), 200, "every queued write is answered before the store ends");
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    assert!(!std::path::Path::new(&wal).exists(), "the last connection checkpointed and removed the WAL");
    let s = SqliteStore::open(&path).expect("reopen");
    for i in 0..200 {
        assert!(s.read(&mut |t| t.get_job(&format!("j{i}"))).expect("read").is_some(), "j{i}");
    }
}

#[test]
fn a_store_whose_last_owner_is_a_write_callback_ends_without_waiting_for_itself() {
    use cpjobs_core::{Store, StoreError};
    use std::sync::{Arc, Mutex};
    let s = Arc::new(fresh());
    let (tx, rx) = std::sync::mpsc::channel();
    // One callback runs where failed writes are answered (the writer thread),
    // one where committed writes are (the sync thread); each holds the store.
    let holder = Arc::new(Mutex::new(Some(Arc::clone(&s))));
    let (h1, h2, tx1, tx2) = (Arc::clone(&holder), Arc::clone(&holder), tx.clone(), tx);
    // The first write waits until the test has let go of the store, so the
    // callbacks hold its last reference.
    let (dropped, wait_dropped) = std::sync::mpsc::channel::<()>();
    s.write_then(
        Box::new(move |_| {
            let _ = wait_dropped.recv_timeout(std::time::Duration::from_secs(30));
            Err::<(), _>(StoreError::Backend("refused".into()))
        }),
        Box::new(move |_| {
            drop(h1.lock().expect("lock").take());
            tx1.send(()).expect("send");
        }),
    );
    s.write_then(
        Box::new(|t| t.insert_job(&cpjobs_core::testing::contract::job("x", "q", 1))),
        Box::new(move |_| {
            drop(h2.lock().expect("lock").take());
            tx2.send(()).expect("send");
        }),
    );
    drop(s);
    dropped.send(()).expect("signal");
    for _ in 0..2 {
        rx.recv_timeout(std::time::Duration::from_secs(30)).expect("both callbacks ran, none deadlocked");
    }
    assert!(holder.lock().expect("lock").is_none());
}
