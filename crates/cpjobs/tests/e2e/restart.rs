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
