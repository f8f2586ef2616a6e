//! Measures durable job lifecycles per second on the SQLite store through
//! `Api::submit`, as the server sends them: start an execution, poll,
//! acknowledge, succeed (four durable commits), from several threads at once.
//!
//! `cargo run --release -p cpjobs-store-sqlite --example lifecycles -- [threads] [jobs]`

use std::sync::Arc;
use std::time::Instant;

use cpjobs_core::testing::domain::{CUSTOMER, World, declaration};
use cpjobs_store_sqlite::SqliteStore;
use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let jobs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("cpjobs-lifecycles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let w = Arc::new(World::new(SqliteStore::open(dir.join("db.sqlite")).expect("open")));
    let source = json!({"category": "Source", "owner": "Custom", "provider": "Bench", "version": "1"});
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": "Source", "provider": "Bench", "version": "1",
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
               "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}}),
        0,
    );
    let manual = json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"});
    let decl = declaration(
        "bench",
        vec![
            ("Source", vec![json!({"name": "S", "actionTypeId": source})]),
            ("Gate", vec![json!({"name": "G", "actionTypeId": manual})]),
        ],
    );
    // PARALLEL: every execution reaches its source job at once (the default,
    // SUPERSEDED, would hold all but one at the stage entrance).
    let mut decl = decl;
    decl["pipelineType"] = json!("V2");
    decl["executionMode"] = json!("PARALLEL");
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let w = Arc::clone(&w);
            let source = source.clone();
            std::thread::spawn(move || {
                for _ in 0..jobs / threads {
                    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "bench"}), 1);
                    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": source}), 1);
                    let Some(job) = polled["jobs"].get(0).cloned() else { continue };
                    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}), 1);
                    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}), 1);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let secs = started.elapsed().as_secs_f64();
    let done = w.svc.job_counts().expect("counts");
    println!(
        "{threads} threads, {jobs} lifecycles in {secs:.2} s: {:.0} lifecycles/s; jobs by status {done:?}",
        jobs as f64 / secs
    );
    let _ = std::fs::remove_dir_all(&dir);
}
