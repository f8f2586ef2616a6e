//! `cpjobs serve` stopped with SIGTERM in the middle of a flow (a job polled
//! and acknowledged) and started again on the same data directory: the
//! worker's job, nonce and client token are still valid and the flow completes.

use aws_sdk_codepipeline::types::{ActionCategory, PipelineExecutionStatus};

use crate::harness::{CUSTOMER, PARTNER, Server, TempDir, config};
use crate::sdk::{client, execution_status, take_third_party, third_party_pipeline};

#[tokio::test]
async fn a_restart_mid_flow_loses_nothing() {
    let home = TempDir::new("restart");
    let mut server = Server::start(&home.0, &config(None));
    let cp = client(&server, CUSTOMER);
    cp.create_pipeline().pipeline(third_party_pipeline("app")).send().await.expect("create");
    let exec = cp.start_pipeline_execution().name("app").send().await.expect("start");
    let exec = exec.pipeline_execution_id().expect("id").to_owned();
    let partner = client(&server, PARTNER);
    let (job, token, nonce) = take_third_party(&server, &partner, ActionCategory::Source, "PartnerSource").await;
    server.stop();

    let mut server = Server::start(&home.0, &config(None));
    let (cp, partner) = (client(&server, CUSTOMER), client(&server, PARTNER));
    // Same client, same token; the job is still the worker's.
    let details = partner.get_third_party_job_details().job_id(&job).client_token(&token).send().await.expect("d");
    assert_eq!(details.job_details().and_then(|d| d.nonce()), Some(nonce.as_str()));
    assert_eq!(details.job_details().and_then(|d| d.id()), Some(job.as_str()));
    let again = partner
        .acknowledge_third_party_job()
        .job_id(&job)
        .nonce(&nonce)
        .client_token(&token)
        .send()
        .await
        .expect("repeated acknowledge");
    assert_eq!(again.status().map(|s| s.as_str()), Some("InProgress"));
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::InProgress);
    partner.put_third_party_job_success_result().job_id(&job).client_token(&token).send().await.expect("success");

    let (build, btoken, _) = take_third_party(&server, &partner, ActionCategory::Build, "PartnerBuild").await;
    partner.put_third_party_job_success_result().job_id(&build).client_token(&btoken).send().await.expect("done");
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::Succeeded);
    server.stop();
}

/// Workers keep going while the service is stopped with SIGTERM and started
/// again: requests in flight finish, every answered write survives the
/// restart, jobs whose worker lost track come back after their (1 s) lease,
/// and every execution completes.
#[test]
fn sigterm_under_load_then_restart() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, RwLock};
    use std::time::{Duration, Instant, SystemTime};

    use serde_json::{Value, json};

    use crate::harness::{Answer, signed_call, try_signed_call};

    const EXECUTIONS: usize = 30;
    let home = TempDir::new("restart-load");
    let mut server = Server::start(&home.0, &config(Some(1)));
    let endpoint = Arc::new(RwLock::new(server.endpoint.clone()));
    let mut decl = crate::harness::third_party_pipeline("busy");
    decl["pipelineType"] = json!("V2");
    decl["executionMode"] = json!("PARALLEL");
    let cp = |e: &str, op: &str, body: Value| signed_call(e, CUSTOMER, &format!("CodePipeline_20150709.{op}"), &body);
    assert_eq!(cp(&server.endpoint, "CreatePipeline", json!({"pipeline": decl})).status, 200);
    for _ in 0..EXECUTIONS {
        assert_eq!(cp(&server.endpoint, "StartPipelineExecution", json!({"name": "busy"})).status, 200);
    }
    let listed = signed_call(&server.endpoint, PARTNER, "Cpjobs_20261129.ListThirdPartyClients", &json!({}));
    let tokens: Arc<HashMap<String, String>> = Arc::new(
        listed.body["clients"]
            .as_array()
            .expect("clients")
            .iter()
            .map(|c| (c["clientId"].as_str().unwrap().to_owned(), c["clientToken"].as_str().unwrap().to_owned()))
            .collect(),
    );

    // Jobs whose success the service answered 200, with their nonce.
    let succeeded: Arc<Mutex<HashMap<String, (String, String)>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    // One partner call, repeated across transport failures (the service is restarting).
    let call = {
        let endpoint = Arc::clone(&endpoint);
        move |op: &str, body: &Value| -> Answer {
            loop {
                assert!(started.elapsed() < Duration::from_secs(40), "the service did not come back");
                let e = endpoint.read().unwrap().clone();
                let target = format!("CodePipeline_20150709.{op}");
                match try_signed_call(&e, PARTNER, PARTNER.secret, &target, body, SystemTime::now()) {
                    Ok(a) => return a,
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    };
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (call, tokens, succeeded, done, stop) =
                (call.clone(), Arc::clone(&tokens), Arc::clone(&succeeded), Arc::clone(&done), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut turn = w;
                while !stop.load(Ordering::SeqCst) {
                    turn += 1;
                    let (category, provider) =
                        if turn % 2 == 0 { ("Source", "PartnerSource") } else { ("Build", "PartnerBuild") };
                    let id = json!({"category": category, "owner": "ThirdParty", "provider": provider, "version": "1"});
                    let polled = call("PollForThirdPartyJobs", &json!({"actionTypeId": id}));
                    assert_eq!(polled.status, 200, "{}", polled.body);
                    let Some(job) = polled.body["jobs"].as_array().and_then(|j| j.first()).cloned() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let job_id = job["jobId"].as_str().unwrap().to_owned();
                    let token = tokens[job["clientId"].as_str().unwrap()].clone();
                    let details = call("GetThirdPartyJobDetails", &json!({"jobId": job_id, "clientToken": token}));
                    assert_eq!(details.status, 200, "{}", details.body);
                    let Some(nonce) = details.body["jobDetails"]["nonce"].as_str().map(str::to_owned) else {
                        continue; // the lease ended while the service restarted; someone else has it
                    };
                    let ack = call(
                        "AcknowledgeThirdPartyJob",
                        &json!({"jobId": job_id, "nonce": nonce, "clientToken": token}),
                    );
                    if ack.code() == "InvalidNonceException" {
                        continue; // the lease ended meanwhile: the job went back to the queue
                    }
                    assert_eq!((ack.status, ack.body["status"].as_str()), (200, Some("InProgress")), "{}", ack.body);
                    let result = call("PutThirdPartyJobSuccessResult", &json!({"jobId": job_id, "clientToken": token}));
                    // A retry of a success the service applied before it stopped answers InvalidJobState.
                    assert!(result.status == 200 || result.code() == "InvalidJobStateException", "{}", result.body);
                    if result.status == 200 {
                        let again = succeeded.lock().unwrap().insert(job_id.clone(), (nonce, token));
                        assert!(again.is_none(), "job {job_id} succeeded twice");
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Stop the service in the middle of the work, then bring it back on the same data.
    while done.load(Ordering::SeqCst) < EXECUTIONS / 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    server.stop();
    let before: Vec<_> = succeeded.lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut server = Server::start(&home.0, &config(Some(1)));
    *endpoint.write().unwrap() = server.endpoint.clone();

    // Every success answered before the stop is still there.
    for (job, (nonce, token)) in &before {
        let a = call("AcknowledgeThirdPartyJob", &json!({"jobId": job, "nonce": nonce, "clientToken": token}));
        assert_eq!(a.body["status"], "Succeeded", "job {job} after the restart: {}", a.body);
    }
    let finished = loop {
        assert!(started.elapsed() < Duration::from_secs(40), "executions did not finish");
        let list = cp(&server.endpoint, "ListPipelineExecutions", json!({"pipelineName": "busy"}));
        let summaries = list.body["pipelineExecutionSummaries"].as_array().expect("summaries").clone();
        if summaries.iter().all(|s| s["status"] == "Succeeded") {
            break summaries.len();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("worker");
    }
    assert_eq!(finished, EXECUTIONS);
    assert!(succeeded.lock().unwrap().len() <= 2 * EXECUTIONS);
    server.stop();
}
