//! The official Rust SDK (`aws-sdk-codepipeline`) against `cpjobs serve`:
//! static credentials, a region and `endpoint_url`, nothing else changed
//! (the HTTP client is the SDK's hyper client over ring, see Cargo.toml).

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::builders::PipelineDeclarationBuilder;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionExecutionStatus, ActionOwner, ActionTypeId, ApprovalResult,
    ApprovalStatus, ArtifactDetails, ArtifactStore, ArtifactStoreType, ExecutionDetails, InputArtifact, OutputArtifact,
    PipelineDeclaration, PipelineExecutionStatus, StageDeclaration, WebhookAuthConfiguration,
    WebhookAuthenticationType, WebhookDefinition, WebhookFilterRule,
};
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;

use crate::harness::{CUSTOMER, Keys, PARTNER, REGION, Server, TempDir, client_token, config};

/// An SDK client for `keys` at the service's endpoint.
pub(crate) fn client(server: &Server, keys: Keys) -> Client {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let config = aws_sdk_codepipeline::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(keys.key, keys.secret, None, None, "e2e"))
        .region(Region::new(REGION))
        .endpoint_url(&server.endpoint)
        .http_client(http)
        .build();
    Client::from_conf(config)
}

/// An action type id.
pub(crate) fn type_id(owner: ActionOwner, category: ActionCategory, provider: &str) -> ActionTypeId {
    ActionTypeId::builder().owner(owner).category(category).provider(provider).version("1").build().expect("type id")
}

/// An action: its type, input and output artifact names.
pub(crate) fn action(name: &str, id: ActionTypeId, inputs: &[&str], outputs: &[&str]) -> ActionDeclaration {
    let mut a = ActionDeclaration::builder().name(name).action_type_id(id);
    for i in inputs {
        a = a.input_artifacts(InputArtifact::builder().name(*i).build().expect("input"));
    }
    for o in outputs {
        a = a.output_artifacts(OutputArtifact::builder().name(*o).build().expect("output"));
    }
    a.build().expect("action")
}

/// A pipeline declaration with `stages` (name, actions).
pub(crate) fn pipeline(name: &str, stages: Vec<(&str, Vec<ActionDeclaration>)>) -> PipelineDeclaration {
    pipeline_builder(name, stages).build().expect("pipeline")
}

/// [`pipeline`], left open for more settings.
pub(crate) fn pipeline_builder(name: &str, stages: Vec<(&str, Vec<ActionDeclaration>)>) -> PipelineDeclarationBuilder {
    let mut p = PipelineDeclaration::builder()
        .name(name)
        .role_arn(format!("arn:aws:iam::{}:role/pipeline", CUSTOMER.account))
        .artifact_store(
            ArtifactStore::builder().r#type(ArtifactStoreType::S3).location("artifact-bucket").build().expect("store"),
        );
    for (stage, actions) in stages {
        p = p.stages(StageDeclaration::builder().name(stage).set_actions(Some(actions)).build().expect("stage"));
    }
    p
}

/// Source (partner's `PartnerSource`) -> Build (partner's `PartnerBuild`).
pub(crate) fn third_party_pipeline(name: &str) -> PipelineDeclaration {
    third_party_pipeline_builder(name).build().expect("pipeline")
}

/// [`third_party_pipeline`], left open for more settings.
pub(crate) fn third_party_pipeline_builder(name: &str) -> PipelineDeclarationBuilder {
    pipeline_builder(
        name,
        vec![
            (
                "Source",
                vec![action(
                    "Fetch",
                    type_id(ActionOwner::ThirdParty, ActionCategory::Source, "PartnerSource"),
                    &[],
                    &["src"],
                )],
            ),
            (
                "Build",
                vec![action(
                    "Compile",
                    type_id(ActionOwner::ThirdParty, ActionCategory::Build, "PartnerBuild"),
                    &["src"],
                    &["out"],
                )],
            ),
        ],
    )
}

/// Polls one third-party job, finds its token, reads its nonce and
/// acknowledges it: (jobId, clientToken, nonce).
pub(crate) async fn take_third_party(
    server: &Server,
    partner: &Client,
    category: ActionCategory,
    provider: &str,
) -> (String, String, String) {
    let polled = partner
        .poll_for_third_party_jobs()
        .action_type_id(type_id(ActionOwner::ThirdParty, category, provider))
        .send()
        .await
        .expect("poll");
    let job = polled.jobs().first().expect("a job");
    let id = job.job_id().expect("job id").to_owned();
    let token = client_token(&server.endpoint, PARTNER, job.client_id().expect("client id"));
    let details = partner.get_third_party_job_details().job_id(&id).client_token(&token).send().await.expect("details");
    let nonce = details.job_details().and_then(|d| d.nonce()).expect("nonce").to_owned();
    let ack = partner
        .acknowledge_third_party_job()
        .job_id(&id)
        .nonce(&nonce)
        .client_token(&token)
        .send()
        .await
        .expect("acknowledge");
    assert_eq!(ack.status().map(|s| s.as_str()), Some("InProgress"));
    (id, token, nonce)
}

/// The status of one execution.
pub(crate) async fn execution_status(cp: &Client, pipeline: &str, id: &str) -> PipelineExecutionStatus {
    let got = cp.get_pipeline_execution().pipeline_name(pipeline).pipeline_execution_id(id).send().await.expect("get");
    got.pipeline_execution().and_then(|e| e.status()).expect("status").clone()
}

#[tokio::test]
async fn sdk_third_party_flow_with_continuation() {
    let home = TempDir::new("sdk-tp");
    let mut server = Server::start(&home.0, &config(None));
    let (cp, partner) = (client(&server, CUSTOMER), client(&server, PARTNER));
    let created = cp.create_pipeline().pipeline(third_party_pipeline("app")).send().await.expect("create");
    assert_eq!(created.pipeline().and_then(|p| p.version()), Some(1));
    let exec = cp.start_pipeline_execution().name("app").send().await.expect("start");
    let exec = exec.pipeline_execution_id().expect("id").to_owned();

    let (src, token, _) = take_third_party(&server, &partner, ActionCategory::Source, "PartnerSource").await;
    partner.put_third_party_job_success_result().job_id(&src).client_token(&token).send().await.expect("success");

    let (build, btoken, _) = take_third_party(&server, &partner, ActionCategory::Build, "PartnerBuild").await;
    partner
        .put_third_party_job_success_result()
        .job_id(&build)
        .client_token(&btoken)
        .continuation_token("step-2")
        .execution_details(ExecutionDetails::builder().summary("half way").percent_complete(50).build())
        .send()
        .await
        .expect("continue");
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::InProgress);
    let (next, ntoken, _) = take_third_party(&server, &partner, ActionCategory::Build, "PartnerBuild").await;
    assert_ne!(next, build);
    let details = partner.get_third_party_job_details().job_id(&next).client_token(&ntoken).send().await.expect("d");
    let data = details.job_details().and_then(|d| d.data()).expect("data");
    assert_eq!(data.continuation_token(), Some("step-2"));
    assert_eq!(data.pipeline_context().and_then(|c| c.pipeline_execution_id()), Some(exec.as_str()));
    partner
        .put_third_party_job_success_result()
        .job_id(&next)
        .client_token(&ntoken)
        .execution_details(ExecutionDetails::builder().summary("built").build())
        .send()
        .await
        .expect("finish");

    let state = cp.get_pipeline_state().name("app").send().await.expect("state");
    let latest = state.stage_states()[1].action_states()[0].latest_execution().expect("latest");
    assert_eq!(latest.status(), Some(&ActionExecutionStatus::Succeeded));
    assert_eq!(latest.summary(), Some("built"));
    assert!(latest.last_status_change().is_some());
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::Succeeded);

    // The SDK's typed errors: a finished job, a wrong nonce.
    let err = partner
        .put_third_party_job_success_result()
        .job_id(&next)
        .client_token(&ntoken)
        .send()
        .await
        .expect_err("finished")
        .into_service_error();
    assert!(err.is_invalid_job_state_exception(), "{err:?}");
    let err = partner
        .acknowledge_third_party_job()
        .job_id(&next)
        .nonce("not-the-nonce")
        .client_token(&ntoken)
        .send()
        .await
        .expect_err("wrong nonce")
        .into_service_error();
    assert!(err.is_invalid_nonce_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| !m.is_empty()));
    server.stop();
}

/// Custom source and build types, with a Manual approval between them.
#[tokio::test]
async fn sdk_custom_action_flow_with_approval() {
    let home = TempDir::new("sdk-custom");
    let mut server = Server::start(&home.0, &config(None));
    let cp = client(&server, CUSTOMER);
    for (category, provider, max_in) in [(ActionCategory::Source, "MySource", 0), (ActionCategory::Build, "MyBuild", 1)]
    {
        let details = |min, max| ArtifactDetails::builder().minimum_count(min).maximum_count(max).build();
        cp.create_custom_action_type()
            .category(category)
            .provider(provider)
            .version("1")
            .input_artifact_details(details(0, max_in))
            .output_artifact_details(details(0, 1))
            .send()
            .await
            .expect("custom type");
    }
    let source = type_id(ActionOwner::Custom, ActionCategory::Source, "MySource");
    let build = type_id(ActionOwner::Custom, ActionCategory::Build, "MyBuild");
    let manual = ActionTypeId::builder()
        .owner(ActionOwner::Aws)
        .category(ActionCategory::Approval)
        .provider("Manual")
        .version("1")
        .build()
        .expect("manual");
    let decl = pipeline(
        "app",
        vec![
            ("Source", vec![action("Get", source.clone(), &[], &["code"])]),
            ("Gate", vec![action("Approve", manual, &[], &[])]),
            ("Build", vec![action("Make", build.clone(), &["code"], &[])]),
        ],
    );
    cp.create_pipeline().pipeline(decl).send().await.expect("create");
    let exec = cp.start_pipeline_execution().name("app").send().await.expect("start");
    let exec = exec.pipeline_execution_id().expect("id").to_owned();

    let take = |id: ActionTypeId| {
        let cp = cp.clone();
        async move {
            let polled = cp.poll_for_jobs().action_type_id(id).max_batch_size(10).send().await.expect("poll");
            assert_eq!(polled.jobs().len(), 1);
            let job = polled.jobs()[0].clone();
            let ack = cp
                .acknowledge_job()
                .job_id(job.id().expect("id"))
                .nonce(job.nonce().expect("nonce"))
                .send()
                .await
                .expect("ack");
            assert_eq!(ack.status().map(|s| s.as_str()), Some("InProgress"));
            job
        }
    };
    let src = take(source).await;
    assert_eq!(src.account_id(), Some(CUSTOMER.account));
    cp.put_job_success_result().job_id(src.id().expect("id")).send().await.expect("source done");

    let state = cp.get_pipeline_state().name("app").send().await.expect("state");
    let gate = state.stage_states()[1].action_states()[0].latest_execution().expect("gate");
    assert_eq!(gate.status(), Some(&ActionExecutionStatus::InProgress));
    let approved = cp
        .put_approval_result()
        .pipeline_name("app")
        .stage_name("Gate")
        .action_name("Approve")
        .token(gate.token().expect("approval token"))
        .result(ApprovalResult::builder().summary("ok").status(ApprovalStatus::Approved).build().expect("result"))
        .send()
        .await
        .expect("approve");
    assert!(approved.approved_at().is_some());

    let job = take(build.clone()).await;
    let details = cp.get_job_details().job_id(job.id().expect("id")).send().await.expect("details");
    let input = &details.job_details().and_then(|d| d.data()).expect("data").input_artifacts()[0];
    assert_eq!(input.name(), Some("code"));
    cp.put_job_success_result()
        .job_id(job.id().expect("id"))
        .continuation_token("more")
        .send()
        .await
        .expect("continue");
    let next = take(build).await;
    assert_eq!(next.data().and_then(|d| d.continuation_token()), Some("more"));
    cp.put_job_success_result().job_id(next.id().expect("id")).send().await.expect("done");
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::Succeeded);
    server.stop();
}

/// Every operation cpjobs runs, once, through the SDK: its typed parsers
/// accept each answer (types, timestamps, enums, nesting), and the
/// operations cpjobs does not run answer a clear error the SDK understands.
#[tokio::test]
async fn sdk_every_supported_operation() {
    use aws_sdk_codepipeline::types::{
        ActionConfigurationProperty, ActionConfigurationPropertyType, ActionExecutionFilter, ActionTypeSettings,
        CurrentRevision, FailureDetails, FailureType, StageRetryMode, StageTransitionType,
    };

    let home = TempDir::new("sdk-all");
    let mut server = Server::start(&home.0, &config(None));
    let (cp, partner) = (client(&server, CUSTOMER), client(&server, PARTNER));
    let details = |min, max| ArtifactDetails::builder().minimum_count(min).maximum_count(max).build();
    let created = cp
        .create_custom_action_type()
        .category(ActionCategory::Source)
        .provider("MySource")
        .version("1")
        .settings(
            ActionTypeSettings::builder()
                .execution_url_template("https://src.example/{Config:Repo}/{ExternalExecutionId}")
                .entity_url_template("https://src.example/{Config:Repo}")
                .build(),
        )
        .configuration_properties(
            ActionConfigurationProperty::builder()
                .name("Repo")
                .required(true)
                .key(true)
                .secret(false)
                .queryable(true)
                .r#type(ActionConfigurationPropertyType::String)
                .build()
                .expect("property"),
        )
        .input_artifact_details(details(0, 0))
        .output_artifact_details(details(1, 1))
        .send()
        .await
        .expect("create custom type");
    let declared = created.action_type().expect("action type");
    assert_eq!(declared.action_configuration_properties()[0].name(), "Repo");
    let types = cp.list_action_types().send().await.expect("list types");
    assert!(types.action_types().iter().any(|t| t.id().map(|i| i.provider()) == Some("PartnerBuild")), "{types:?}");
    // GetActionType is for AWS and third-party types only (the model's owner pattern).
    let got = cp
        .get_action_type()
        .category(ActionCategory::Build)
        .owner("ThirdParty")
        .provider("PartnerBuild")
        .version("1")
        .send()
        .await
        .expect("get action type");
    let declared = got.action_type().expect("declaration");
    assert_eq!(declared.id().map(|i| i.provider()), Some("PartnerBuild"));
    assert_eq!(declared.executor().and_then(|e| e.job_timeout()), Some(60));

    let mut source = action("Get", type_id(ActionOwner::Custom, ActionCategory::Source, "MySource"), &[], &["code"]);
    source.configuration = Some([("Repo".to_owned(), "widgets".to_owned())].into());
    let build =
        action("Compile", type_id(ActionOwner::ThirdParty, ActionCategory::Build, "PartnerBuild"), &["code"], &[]);
    let decl = pipeline("app", vec![("Source", vec![source]), ("Build", vec![build])]);
    let created = cp.create_pipeline().pipeline(decl.clone()).send().await.expect("create pipeline");
    assert_eq!(created.pipeline().map(|p| p.stages().len()), Some(2));
    let updated = cp.update_pipeline().pipeline(decl).send().await.expect("update pipeline");
    assert_eq!(updated.pipeline().and_then(|p| p.version()), Some(2));
    let got = cp.get_pipeline().name("app").send().await.expect("get pipeline");
    let meta = got.metadata().expect("metadata");
    assert!(meta.created().is_some() && meta.updated().is_some());
    assert_eq!(meta.pipeline_arn(), Some(format!("arn:aws:codepipeline:{REGION}:{}:app", CUSTOMER.account).as_str()));
    let listed = cp.list_pipelines().send().await.expect("list pipelines");
    assert_eq!(listed.pipelines()[0].version(), Some(2));

    let first = cp.start_pipeline_execution().name("app").client_request_token("once").send().await.expect("start");
    let again = cp.start_pipeline_execution().name("app").client_request_token("once").send().await.expect("again");
    assert_eq!(first.pipeline_execution_id(), again.pipeline_execution_id(), "the same token, the same execution");
    let exec = first.pipeline_execution_id().expect("id").to_owned();

    // Custom source job with a query parameter, a revision, details and an execution URL.
    let polled = cp
        .poll_for_jobs()
        .action_type_id(type_id(ActionOwner::Custom, ActionCategory::Source, "MySource"))
        .query_param("Repo", "widgets")
        .send()
        .await
        .expect("poll");
    let job = polled.jobs().first().expect("a job").clone();
    let data = job.data().expect("data");
    assert_eq!(
        data.action_configuration().and_then(|c| c.configuration()).map(|c| c["Repo"].as_str()),
        Some("widgets")
    );
    assert_eq!(data.output_artifacts()[0].name(), Some("code"));
    let id = job.id().expect("id");
    cp.acknowledge_job().job_id(id).nonce(job.nonce().expect("nonce")).send().await.expect("ack");
    cp.get_job_details().job_id(id).send().await.expect("details");
    cp.put_job_success_result()
        .job_id(id)
        .current_revision(CurrentRevision::builder().revision("rev-1").change_identifier("c-1").build().expect("rev"))
        .execution_details(
            ExecutionDetails::builder().summary("fetched").external_execution_id("run-1").percent_complete(100).build(),
        )
        .output_variables("commit", "abc")
        .send()
        .await
        .expect("success");

    // The third-party build fails, then a retry of the failed action succeeds.
    let (job, token, _) = take_third_party(&server, &partner, ActionCategory::Build, "PartnerBuild").await;
    partner
        .put_third_party_job_failure_result()
        .job_id(&job)
        .client_token(&token)
        .failure_details(
            FailureDetails::builder().r#type(FailureType::JobFailed).message("boom").build().expect("failure"),
        )
        .send()
        .await
        .expect("failure");
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::Failed);
    let retried = cp
        .retry_stage_execution()
        .pipeline_name("app")
        .stage_name("Build")
        .pipeline_execution_id(&exec)
        .retry_mode(StageRetryMode::FailedActions)
        .send()
        .await
        .expect("retry");
    assert_eq!(retried.pipeline_execution_id(), Some(exec.as_str()));
    let (job, token, _) = take_third_party(&server, &partner, ActionCategory::Build, "PartnerBuild").await;
    partner.put_third_party_job_success_result().job_id(&job).client_token(&token).send().await.expect("success");
    assert_eq!(execution_status(&cp, "app", &exec).await, PipelineExecutionStatus::Succeeded);

    let state = cp.get_pipeline_state().name("app").send().await.expect("state");
    let src = &state.stage_states()[0].action_states()[0];
    assert_eq!(src.current_revision().map(|r| r.revision_id()), Some("rev-1"));
    assert_eq!(src.entity_url(), Some("https://src.example/widgets"));
    assert_eq!(
        src.latest_execution().and_then(|l| l.external_execution_url()),
        Some("https://src.example/widgets/run-1")
    );
    // Stage transitions: the SDK parses the transition state (its timestamp included).
    cp.disable_stage_transition()
        .pipeline_name("app")
        .stage_name("Build")
        .transition_type(StageTransitionType::Inbound)
        .reason("Frozen for release")
        .send()
        .await
        .expect("disable transition");
    let held = cp.get_pipeline_state().name("app").send().await.expect("state");
    assert!(held.stage_states()[0].inbound_transition_state().is_none(), "none into the first stage");
    let t = held.stage_states()[1].inbound_transition_state().expect("transition state");
    assert!(!t.enabled());
    assert_eq!(t.disabled_reason(), Some("Frozen for release"));
    assert!(t.last_changed_at().is_some() && t.last_changed_by().is_some(), "{t:?}");
    cp.enable_stage_transition()
        .pipeline_name("app")
        .stage_name("Source")
        .transition_type(StageTransitionType::Outbound)
        .send()
        .await
        .expect("enable transition");
    let open = cp.get_pipeline_state().name("app").send().await.expect("state");
    assert!(open.stage_states()[1].inbound_transition_state().is_some_and(|t| t.enabled()));
    let listed = cp.list_pipeline_executions().pipeline_name("app").send().await.expect("list executions");
    let summary = &listed.pipeline_execution_summaries()[0];
    assert_eq!(summary.source_revisions()[0].revision_id(), Some("rev-1"));
    assert!(summary.start_time().is_some() && summary.last_update_time().is_some());
    let actions = cp
        .list_action_executions()
        .pipeline_name("app")
        .filter(ActionExecutionFilter::builder().pipeline_execution_id(&exec).build())
        .send()
        .await
        .expect("action executions");
    let details = actions.action_execution_details();
    assert_eq!(details.len(), 3, "source, the failed build, the retried build: {details:?}");
    let get = details.iter().find(|d| d.action_name() == Some("Get")).expect("source listed");
    let vars = get.output().and_then(|o| o.output_variables()).expect("output variables");
    assert_eq!(vars.get("commit").map(String::as_str), Some("abc"));

    // Stop with abandon: the running source job is withdrawn.
    let second = cp.start_pipeline_execution().name("app").send().await.expect("start");
    let second = second.pipeline_execution_id().expect("id").to_owned();
    cp.stop_pipeline_execution()
        .pipeline_name("app")
        .pipeline_execution_id(&second)
        .abandon(true)
        .reason("enough")
        .send()
        .await
        .expect("stop");
    assert_eq!(execution_status(&cp, "app", &second).await, PipelineExecutionStatus::Stopped);

    // Webhooks: the SDK reads one back, its secret redacted, and lists it.
    let definition = WebhookDefinition::builder()
        .name("sdk-hook")
        .target_pipeline("app")
        .target_action("Get")
        .filters(WebhookFilterRule::builder().json_path("$.ref").match_equals("refs/heads/main").build().expect("rule"))
        .authentication(WebhookAuthenticationType::GithubHmac)
        .authentication_configuration(WebhookAuthConfiguration::builder().secret_token("sdk-secret").build())
        .build()
        .expect("definition");
    let put = cp.put_webhook().webhook(definition).send().await.expect("put webhook");
    let item = put.webhook().expect("the webhook");
    assert!(item.url().starts_with(&format!("{}/webhooks/{}/", server.endpoint, CUSTOMER.account)), "{item:?}");
    let secret = item.definition().and_then(|d| d.authentication_configuration()).and_then(|a| a.secret_token());
    assert_eq!(secret, Some("****"));
    let listed = cp.list_webhooks().send().await.expect("list webhooks");
    assert_eq!(listed.webhooks().len(), 1);
    assert_eq!(listed.webhooks()[0].arn(), item.arn());
    cp.delete_webhook().name("sdk-hook").send().await.expect("delete webhook");

    cp.delete_pipeline().name("app").send().await.expect("delete pipeline");
    cp.delete_custom_action_type()
        .category(ActionCategory::Source)
        .provider("MySource")
        .version("1")
        .send()
        .await
        .expect("delete type");
    assert!(cp.list_pipelines().send().await.expect("list").pipelines().is_empty());
    server.stop();
}
