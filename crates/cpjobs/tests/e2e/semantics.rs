//! The pipeline around the jobs (issue 10) through AWS CLI v1: stage
//! transitions that hold an execution, the rules AWS is strict about, and an
//! operation cpjobs does not run.

use serde_json::{Value, json};

use crate::awscli::{aws, file, finish_source, ok, raw};
use crate::harness::{CUSTOMER, Server, TempDir, config, custom_pipeline, custom_type, gated_pipeline};

/// The `Gate` stage of the `held` pipeline, as get-pipeline-state shows it.
fn gate(server: &Server, home: &TempDir) -> Value {
    let state = ok(server, home, CUSTOMER, &["get-pipeline-state", "--name", "held"]);
    assert!(state["stageStates"][0].get("inboundTransitionState").is_none(), "{state}");
    state["stageStates"][1].clone()
}

#[test]
fn aws_cli_disabled_transition_holds_an_execution_until_enabled() {
    let home = TempDir::new("awscli-transitions");
    let mut server = Server::start(&home.0, &config(None));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "p.json", &gated_pipeline("held"))]);
    let disable = |stage: &str, kind: &str| {
        aws(
            &server,
            &home,
            CUSTOMER,
            &[
                "disable-stage-transition",
                "--pipeline-name",
                "held",
                "--stage-name",
                stage,
                "--transition-type",
                kind,
                "--reason",
                "Waiting for QA (ticket 7)",
            ],
        )
    };
    let refused = disable("Source", "Inbound").expect_err("no transition leads into the first stage");
    assert!(
        refused.contains("An error occurred (ValidationException) when calling the DisableStageTransition operation"),
        "{refused}"
    );
    let refused = disable("Nope", "Inbound").expect_err("no such stage");
    assert!(refused.contains("(StageNotFoundException)"), "{refused}");
    assert_eq!(disable("Gate", "Inbound"), Ok(Value::Null), "the CLI prints nothing");
    let held = gate(&server, &home);
    assert_eq!(held["inboundTransitionState"]["enabled"], false, "{held}");
    assert_eq!(held["inboundTransitionState"]["disabledReason"], "Waiting for QA (ticket 7)");
    assert_eq!(held["inboundTransitionState"]["lastChangedBy"], format!("arn:aws:iam::{}:root", CUSTOMER.account));
    assert!(held["inboundTransitionState"]["lastChangedAt"].is_number(), "{held}");

    let exec = ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "held"])["pipelineExecutionId"]
        .as_str()
        .expect("execution id")
        .to_owned();
    finish_source(&server, None);
    let status = |server: &Server| {
        ok(
            server,
            &home,
            CUSTOMER,
            &["get-pipeline-execution", "--pipeline-name", "held", "--pipeline-execution-id", &exec],
        )["pipelineExecution"]["status"]
            .clone()
    };
    assert_eq!(status(&server), "InProgress");
    assert!(gate(&server, &home).get("latestExecution").is_none(), "the execution waits before the stage");

    // Enabled from the other side: the Outbound transition of the stage before.
    let enabled = ok(
        &server,
        &home,
        CUSTOMER,
        &[
            "enable-stage-transition",
            "--pipeline-name",
            "held",
            "--stage-name",
            "Source",
            "--transition-type",
            "Outbound",
        ],
    );
    assert_eq!(enabled, Value::Null);
    let open = gate(&server, &home);
    assert_eq!(open["inboundTransitionState"]["enabled"], true, "{open}");
    assert_eq!(open["latestExecution"]["pipelineExecutionId"], exec.as_str(), "the execution went on");
    assert_eq!(open["actionStates"][0]["latestExecution"]["status"], "InProgress", "{open}");
    assert_eq!(status(&server), "InProgress");
    server.stop();
}

#[test]
fn aws_cli_strict_rules_and_operations_cpjobs_does_not_run() {
    let home = TempDir::new("awscli-strict");
    let mut server = Server::start(&home.0, &config(None));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Build", "MyBuild"));

    // Pipeline-level variables need a V2 pipeline; nothing is stored.
    let mut v1 = custom_pipeline("app");
    v1["variables"] = json!([{"name": "Env", "defaultValue": "dev"}]);
    let refused = aws(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "v1.json", &v1)])
        .expect_err("variables on V1");
    assert!(refused.contains("(ValidationException) when calling the CreatePipeline operation"), "{refused}");
    assert!(aws(&server, &home, CUSTOMER, &["get-pipeline", "--name", "app"]).is_err(), "nothing stored");

    let mut v2 = v1.clone();
    v2["pipelineType"] = json!("V2");
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "v2.json", &v2)]);
    let exec = ok(
        &server,
        &home,
        CUSTOMER,
        &["start-pipeline-execution", "--name", "app", "--variables", "name=Env,value=prod"],
    )["pipelineExecutionId"]
        .as_str()
        .expect("execution id")
        .to_owned();
    let got = ok(
        &server,
        &home,
        CUSTOMER,
        &["get-pipeline-execution", "--pipeline-name", "app", "--pipeline-execution-id", &exec],
    );
    assert_eq!(got["pipelineExecution"]["variables"], json!([{"name": "Env", "resolvedValue": "prod"}]));
    let refused = aws(
        &server,
        &home,
        CUSTOMER,
        &["start-pipeline-execution", "--name", "app", "--variables", "name=Nope,value=x"],
    )
    .expect_err("an undeclared variable");
    assert!(refused.contains("(ValidationException)"), "{refused}");

    // Output variables come with the action's last result only.
    finish_source(&server, None);
    let tid = "category=Build,owner=Custom,provider=MyBuild,version=1";
    let polled = ok(&server, &home, CUSTOMER, &["poll-for-jobs", "--action-type-id", tid]);
    let job = &polled["jobs"][0];
    let id = job["id"].as_str().expect("a build job");
    ok(
        &server,
        &home,
        CUSTOMER,
        &["acknowledge-job", "--job-id", id, "--nonce", job["nonce"].as_str().expect("nonce")],
    );
    let refused = aws(
        &server,
        &home,
        CUSTOMER,
        &["put-job-success-result", "--job-id", id, "--continuation-token", "step-2", "--output-variables", "V=1"],
    )
    .expect_err("output variables with a continuation");
    assert!(refused.contains("(ValidationException) when calling the PutJobSuccessResult operation"), "{refused}");
    ok(&server, &home, CUSTOMER, &["put-job-success-result", "--job-id", id, "--output-variables", "V=1"]);

    server.stop();
}
