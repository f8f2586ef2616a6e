//! Stage conditions, rules, automatic retry and rollback through real
//! clients (issue 10, items 3 and 4): boto3 (`boto3_conditions.py` next to
//! this file), AWS CLI v1 and the Rust SDK.

use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::{ConditionExecutionStatus, ConditionType, ExecutionType, StageExecutionStatus};
use serde_json::{Value, json};

use crate::awscli::{aws, file, finish_source, ok, raw};
use crate::boto3::run_script;
use crate::harness::{CUSTOMER, Server, TempDir, config, custom_pipeline, custom_type};

/// An entry condition that blocks and one that lets the stage run; a failed
/// stage rolled back automatically and by `RollbackStage`; rule executions
/// paged; a deployment window that holds an execution until it is
/// overridden; a stage retried by itself.
#[test]
fn boto3_conditions_block_roll_back_and_retry() {
    run_script("boto3_conditions.py", "conditions", &config(None), &[]);
}

/// `custom_pipeline` (MySource -> MyBuild), V2, with the variable `Env`
/// (default `dev`) and `build` merged into its Build stage; its types made.
fn create(server: &Server, build: Value) {
    raw(server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    raw(server, CUSTOMER, "CreateCustomActionType", custom_type("Build", "MyBuild"));
    let mut p = custom_pipeline("app");
    p["pipelineType"] = json!("V2");
    p["variables"] = json!([{"name": "Env", "defaultValue": "dev"}]);
    for (k, v) in build.as_object().into_iter().flatten() {
        p["stages"][1][k] = v.clone();
    }
    raw(server, CUSTOMER, "CreatePipeline", json!({"pipeline": p}));
}

fn rule(name: &str, provider: &str, configuration: Value) -> Value {
    json!({"name": name, "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
           "configuration": configuration})
}

#[test]
fn aws_cli_skipped_stage_rule_executions_and_refusals() {
    let home = TempDir::new("awscli-conditions");
    let mut server = Server::start(&home.0, &config(None));
    let env_is_prod =
        rule("EnvIsProd", "VariableCheck", json!({"Variable": "#{variables.Env}", "Value": "prod", "Operator": "EQ"}));
    create(&server, json!({"beforeEntry": {"conditions": [{"result": "SKIP", "rules": [env_is_prod]}]}}));
    let started = ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "app"]);
    let id = started["pipelineExecutionId"].as_str().expect("id").to_owned();
    finish_source(&server, None);
    let query = "stageStates[1].[latestExecution.status, beforeEntryConditionState.latestExecution.status]";
    let st = ok(&server, &home, CUSTOMER, &["get-pipeline-state", "--name", "app", "--query", query]);
    assert_eq!(st, json!(["Skipped", "Failed"]));
    let got = ok(
        &server,
        &home,
        CUSTOMER,
        &["get-pipeline-execution", "--pipeline-name", "app", "--pipeline-execution-id", &id],
    );
    assert_eq!(got["pipelineExecution"]["status"], "Succeeded", "{got}");

    let providers = ok(&server, &home, CUSTOMER, &["list-rule-types", "--query", "ruleTypes[].id.provider"]);
    assert_eq!(providers, json!(["DeploymentWindow", "VariableCheck"]));
    let rules = ok(
        &server,
        &home,
        CUSTOMER,
        &[
            "list-rule-executions",
            "--pipeline-name",
            "app",
            "--query",
            "ruleExecutionDetails[].[ruleName, status, input.resolvedConfiguration.Variable]",
        ],
    );
    assert_eq!(rules, json!([["EnvIsProd", "Failed", "dev"]]));

    let refused = aws(
        &server,
        &home,
        CUSTOMER,
        &["rollback-stage", "--pipeline-name", "app", "--stage-name", "Build", "--target-pipeline-execution-id", &id],
    )
    .expect_err("the stage was skipped, not succeeded");
    assert!(refused.contains("(UnableToRollbackStageException) when calling the RollbackStage operation"), "{refused}");
    let refused = aws(
        &server,
        &home,
        CUSTOMER,
        &[
            "override-stage-condition",
            "--pipeline-name",
            "app",
            "--stage-name",
            "Build",
            "--pipeline-execution-id",
            &id,
            "--condition-type",
            "BEFORE_ENTRY",
        ],
    )
    .expect_err("nothing waits");
    assert!(refused.contains("(ConditionNotOverridableException)"), "{refused}");

    // A rule type that needs another AWS service is refused, with what it needs.
    let mut p = custom_pipeline("alarm");
    p["pipelineType"] = json!("V2");
    p["stages"][1]["onSuccess"] = json!({"conditions": [{"result": "ROLLBACK", "rules": [rule("Alarm", "CloudWatchAlarm", json!({"AlarmName": "a"}))]}]});
    let refused = aws(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "alarm.json", &p)])
        .expect_err("CloudWatch alarms are not run");
    assert!(
        refused.contains("(InvalidStageDeclarationException)") && refused.contains("Amazon CloudWatch"),
        "{refused}"
    );
    server.stop();
}

#[tokio::test]
async fn sdk_condition_states_override_and_rollback() {
    let home = TempDir::new("sdk-conditions");
    let mut server = Server::start(&home.0, &config(None));
    let later = rule("Later", "DeploymentWindow", json!({"Cron": "* * * ? * * 2199"}));
    create(&server, json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [later]}]}}));
    let cp = crate::sdk::client(&server, CUSTOMER);
    let types = cp.list_rule_types().send().await.expect("list rule types");
    let providers: Vec<&str> = types.rule_types().iter().map(|t| t.id().map_or("", |i| i.provider())).collect();
    assert_eq!(providers, ["DeploymentWindow", "VariableCheck"]);

    let held = cp.start_pipeline_execution().name("app").send().await.expect("start");
    let held = held.pipeline_execution_id().expect("id").to_owned();
    finish_source(&server, None);
    let state = cp.get_pipeline_state().name("app").send().await.expect("state");
    let build = &state.stage_states()[1];
    let entry = build.before_entry_condition_state().expect("entry condition state");
    assert_eq!(entry.latest_execution().and_then(|e| e.status()), Some(&ConditionExecutionStatus::InProgress));
    let rule_state = &entry.condition_states()[0].rule_states()[0];
    assert_eq!(rule_state.rule_name(), Some("Later"));

    let err = cp
        .override_stage_condition()
        .pipeline_name("app")
        .stage_name("Build")
        .pipeline_execution_id(&held)
        .condition_type(ConditionType::OnSuccess)
        .send()
        .await
        .expect_err("no success condition waits");
    assert_eq!(err.code(), Some("ConditionNotOverridableException"), "{err:?}");
    cp.override_stage_condition()
        .pipeline_name("app")
        .stage_name("Build")
        .pipeline_execution_id(&held)
        .condition_type(ConditionType::BeforeEntry)
        .send()
        .await
        .expect("override");
    let build_id = json!({"category": "Build", "owner": "Custom", "provider": "MyBuild", "version": "1"});
    let polled = raw(&server, CUSTOMER, "PollForJobs", json!({"actionTypeId": build_id}));
    let job = &polled["jobs"][0];
    raw(&server, CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}));
    raw(&server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}));

    let rolled = cp
        .rollback_stage()
        .pipeline_name("app")
        .stage_name("Build")
        .target_pipeline_execution_id(&held)
        .send()
        .await
        .expect("rollback");
    let rolled = rolled.pipeline_execution_id().to_owned();
    let got =
        cp.get_pipeline_execution().pipeline_name("app").pipeline_execution_id(&rolled).send().await.expect("get");
    let e = got.pipeline_execution().expect("execution");
    assert_eq!(e.execution_type(), Some(&ExecutionType::Rollback));
    assert_eq!(e.rollback_metadata().and_then(|m| m.rollback_target_pipeline_execution_id()), Some(held.as_str()));
    let state = cp.get_pipeline_state().name("app").send().await.expect("state");
    let latest = state.stage_states()[1].latest_execution().expect("latest");
    assert_eq!((latest.status(), latest.r#type()), (&StageExecutionStatus::InProgress, Some(&ExecutionType::Rollback)));
    let rules = cp.list_rule_executions().pipeline_name("app").send().await.expect("rule executions");
    assert_eq!(rules.rule_execution_details().len(), 2, "the held run's and the rollback's entry rules");
    let err = cp
        .rollback_stage()
        .pipeline_name("app")
        .stage_name("Build")
        .target_pipeline_execution_id("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .expect_err("no such execution");
    assert_eq!(err.code(), Some("PipelineExecutionNotFoundException"), "{err:?}");
    server.stop();
}
