//! Many workers polling one service at once through the Rust SDK: every job
//! is handed to exactly one worker (leases last 30 s, far longer than the
//! test, so no job may be handed out twice), every acknowledge wins, and every
//! job and execution completes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_codepipeline::types::{ActionCategory, ActionOwner, ExecutionMode, PipelineExecutionStatus, PipelineType};
use serde_json::json;

use crate::harness::{PARTNER, Server, TempDir, config, signed_call};
use crate::sdk::{client, third_party_pipeline_builder, type_id};

const EXECUTIONS: usize = 100;
/// A source job and a build job per execution.
const JOBS: usize = 2 * EXECUTIONS;
const WORKERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_share_one_queue_without_duplicates() {
    let home = TempDir::new("concurrency");
    let mut server = Server::start(&home.0, &config(None));
    let cp = client(&server, crate::harness::CUSTOMER);
    // PARALLEL executions never wait for each other, so all source jobs are queued at once.
    let decl = third_party_pipeline_builder("busy")
        .pipeline_type(PipelineType::V2)
        .execution_mode(ExecutionMode::Parallel)
        .build()
        .expect("pipeline");
    cp.create_pipeline().pipeline(decl).send().await.expect("create");
    for _ in 0..EXECUTIONS {
        cp.start_pipeline_execution().name("busy").send().await.expect("start");
    }
    // Both actions' clients exist from the pipeline's creation.
    let listed = signed_call(&server.endpoint, PARTNER, "Cpjobs_20261129.ListThirdPartyClients", &json!({}));
    let tokens: Arc<HashMap<String, String>> = Arc::new(
        listed.body["clients"]
            .as_array()
            .expect("clients")
            .iter()
            .map(|c| (c["clientId"].as_str().unwrap().to_owned(), c["clientToken"].as_str().unwrap().to_owned()))
            .collect(),
    );
    assert_eq!(tokens.len(), 2);

    let handed: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let partner = client(&server, PARTNER);
            let (handed, done, tokens) = (Arc::clone(&handed), Arc::clone(&done), Arc::clone(&tokens));
            tokio::spawn(async move {
                let mut mine = 0;
                let queues = [(ActionCategory::Source, "PartnerSource"), (ActionCategory::Build, "PartnerBuild")];
                let mut turn = w;
                while done.load(Ordering::SeqCst) < JOBS {
                    assert!(started.elapsed() < Duration::from_secs(25), "workers stalled at {done:?} jobs");
                    let (category, provider) = queues[turn % 2].clone();
                    turn += 1;
                    let polled = partner
                        .poll_for_third_party_jobs()
                        .action_type_id(type_id(ActionOwner::ThirdParty, category, provider))
                        .max_batch_size(1 + (w % 3) as i32)
                        .send()
                        .await
                        .expect("poll");
                    if polled.jobs().is_empty() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    for job in polled.jobs() {
                        let id = job.job_id().expect("id").to_owned();
                        *handed.lock().unwrap().entry(id.clone()).or_default() += 1;
                        let token = &tokens[job.client_id().expect("client")];
                        let details = partner
                            .get_third_party_job_details()
                            .job_id(&id)
                            .client_token(token)
                            .send()
                            .await
                            .expect("details");
                        let nonce = details.job_details().and_then(|d| d.nonce()).expect("nonce");
                        let ack = partner
                            .acknowledge_third_party_job()
                            .job_id(&id)
                            .nonce(nonce)
                            .client_token(token)
                            .send()
                            .await
                            .unwrap_or_else(|e| panic!("worker {w} lost job {id}: {:?}", e.into_service_error()));
                        assert_eq!(ack.status().map(|s| s.as_str()), Some("InProgress"));
                        partner
                            .put_third_party_job_success_result()
                            .job_id(&id)
                            .client_token(token)
                            .send()
                            .await
                            .expect("success");
                        done.fetch_add(1, Ordering::SeqCst);
                        mine += 1;
                    }
                }
                mine
            })
        })
        .collect();
    let mut per_worker = Vec::new();
    for w in workers {
        per_worker.push(w.await.expect("worker"));
    }
    let handed = handed.lock().unwrap().clone();
    assert_eq!(handed.len(), JOBS, "every job was handed out");
    let twice: Vec<_> = handed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "jobs handed to two workers: {twice:?}");
    assert_eq!(per_worker.iter().sum::<usize>(), JOBS);
    assert!(per_worker.iter().filter(|n| **n > 0).count() > 1, "the work was shared: {per_worker:?}");

    let list = cp.list_pipeline_executions().pipeline_name("busy").max_results(100).send().await.expect("list");
    let summaries = list.pipeline_execution_summaries();
    assert_eq!(summaries.len(), EXECUTIONS);
    for s in summaries {
        assert_eq!(s.status(), Some(&PipelineExecutionStatus::Succeeded), "{s:?}");
    }
    server.stop();
}
