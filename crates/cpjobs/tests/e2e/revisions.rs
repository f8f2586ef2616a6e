//! Executions started by a source's revision (`put-action-revision`) and the
//! deploy targets of an action execution, through AWS CLI v1 (issue 10, item 6).

use serde_json::{Value, json};

use crate::awscli::{aws, file, ok, raw};
use crate::harness::{CUSTOMER, OTHER, Server, TempDir, config, custom_pipeline, custom_type};

/// `put-action-revision` for the `app` pipeline's `stage`/`action`.
fn put_revision(server: &Server, home: &TempDir, stage: &str, action: &str, id: &str) -> Result<Value, String> {
    let revision = format!("revisionId={id},revisionChangeId=change-{id},created=2026-12-01T10:00:00Z");
    aws(
        server,
        home,
        CUSTOMER,
        &[
            "put-action-revision",
            "--pipeline-name",
            "app",
            "--stage-name",
            stage,
            "--action-name",
            action,
            "--action-revision",
            &revision,
        ],
    )
}

#[test]
fn aws_cli_put_action_revision_starts_an_execution_with_the_revision() {
    let home = TempDir::new("awscli-revision");
    let mut server = Server::start(&home.0, &config(None));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Build", "MyBuild"));
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "p.json", &custom_pipeline("app"))]);

    let first = put_revision(&server, &home, "Source", "Get", "r1").expect("accepted");
    assert_eq!(first["newRevision"], true, "{first}");
    let exec = first["pipelineExecutionId"].as_str().expect("an execution").to_owned();
    let polled = ok(
        &server,
        &home,
        CUSTOMER,
        &["poll-for-jobs", "--action-type-id", "category=Source,owner=Custom,provider=MySource,version=1"],
    );
    let data = &polled["jobs"][0]["data"];
    assert_eq!(data["pipelineContext"]["pipelineExecutionId"], exec.as_str(), "{polled}");
    assert_eq!(data["outputArtifacts"][0]["revision"], "r1", "{polled}");
    let state = ok(&server, &home, CUSTOMER, &["get-pipeline-state", "--name", "app"]);
    let current = &state["stageStates"][0]["actionStates"][0]["currentRevision"];
    assert_eq!(current["revisionId"], "r1", "{state}");
    assert_eq!(current["revisionChangeId"], "change-r1", "{state}");
    assert!(!current["created"].is_null(), "{state}");
    let got = ok(&server, &home, CUSTOMER, &["list-pipeline-executions", "--pipeline-name", "app"]);
    assert_eq!(got["pipelineExecutionSummaries"][0]["trigger"]["triggerType"], "PutActionRevision", "{got}");

    // The same revision starts nothing.
    let again = put_revision(&server, &home, "Source", "Get", "r1").expect("accepted");
    assert_eq!(again, json!({"newRevision": false, "pipelineExecutionId": exec}));
    let listed = ok(&server, &home, CUSTOMER, &["list-pipeline-executions", "--pipeline-name", "app"]);
    assert_eq!(listed["pipelineExecutionSummaries"].as_array().map(Vec::len), Some(1), "{listed}");

    let refused = put_revision(&server, &home, "Build", "Make", "r2").expect_err("not a source");
    assert!(refused.contains("(ValidationException) when calling the PutActionRevision operation"), "{refused}");
    let refused = put_revision(&server, &home, "Source", "Nope", "r2").expect_err("no such action");
    assert!(refused.contains("(ActionNotFoundException)"), "{refused}");
    let refused = put_revision(&server, &home, "Nope", "Get", "r2").expect_err("no such stage");
    assert!(refused.contains("(StageNotFoundException)"), "{refused}");
    let long = "x".repeat(1501);
    let refused = put_revision(&server, &home, "Source", "Get", &long).expect_err("revisionId over 1500");
    assert!(refused.contains("(ValidationException)"), "{refused}");
    server.stop();
}

#[test]
fn aws_cli_deploy_targets_of_an_action_execution_are_none() {
    let home = TempDir::new("awscli-targets");
    let mut server = Server::start(&home.0, &config(None));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Build", "MyBuild"));
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "p.json", &custom_pipeline("app"))]);
    ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "app"]);
    let actions = ok(&server, &home, CUSTOMER, &["list-action-executions", "--pipeline-name", "app"]);
    let id = actions["actionExecutionDetails"][0]["actionExecutionId"].as_str().expect("the source's").to_owned();

    let targets = |keys, extra: &[&str]| {
        let mut args = vec!["list-deploy-action-execution-targets", "--action-execution-id", id.as_str()];
        args.extend_from_slice(extra);
        aws(&server, &home, keys, &args)
    };
    assert_eq!(targets(CUSTOMER, &[]), Ok(json!({"targets": []})));
    assert_eq!(
        targets(CUSTOMER, &["--pipeline-name", "app", "--filters", "name=TARGET_STATUS,values=Succeeded,Failed"]),
        Ok(json!({"targets": []}))
    );
    let refused = targets(CUSTOMER, &["--filters", "name=STATUS,values=Succeeded"]).expect_err("not a filter name");
    assert!(
        refused.contains("(ValidationException) when calling the ListDeployActionExecutionTargets operation"),
        "{refused}"
    );
    let refused = targets(OTHER, &[]).expect_err("another account's");
    assert!(refused.contains("(ActionExecutionNotFoundException)"), "{refused}");
    let refused = targets(CUSTOMER, &["--pipeline-name", "nope"]).expect_err("no such pipeline");
    assert!(refused.contains("(PipelineNotFoundException)"), "{refused}");
    server.stop();
}
