//! Domain scenarios of issue 10, item 6: `PutActionRevision` starting
//! executions with a source's revision, and `ListDeployActionExecutionTargets`.
//! Listed in [`named`](super::named) like every scenario of
//! [`domain`](super::domain), which dispatches to them.
#![deny(dead_code)]

use serde_json::{Value, json};

use super::domain::{
    CUSTOMER, OTHER, PARTNER, World, action, custom_id, custom_source, declaration, partner_pipeline, run_custom,
};
use super::semantics::maker;
use crate::store::Store;

/// Custom `MySource` -> custom `Maker` (which takes the source's artifact).
fn custom_pipeline<S: Store>(w: &World<S>, name: &str) {
    custom_source(w);
    maker(w);
    let decl = declaration(
        name,
        vec![
            ("Source", vec![action("Get", custom_id("Source", "MySource"), &[], &["code"], 1)]),
            ("Build", vec![action("Make", custom_id("Build", "Maker"), &["code"], &[], 1)]),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
}

/// A `PutActionRevision` input for `pipeline`'s `stage`/`action`.
fn revision(pipeline: &str, stage: &str, action: &str, id: &str) -> Value {
    json!({"pipelineName": pipeline, "stageName": stage, "actionName": action,
           "actionRevision": {"revisionId": id, "revisionChangeId": format!("change-{id}"), "created": 1_700_000_000}})
}

/// How many executions the pipeline kept.
fn executions<S: Store>(w: &World<S>, pipeline: &str) -> usize {
    let out = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": pipeline}), 0);
    out["pipelineExecutionSummaries"].as_array().expect("summaries").len()
}

/// A custom source told of a revision: a new one starts an execution whose
/// source job, later jobs, state and execution carry it; one already used
/// starts nothing; bad targets are refused and change nothing.
pub(crate) fn put_action_revision_starts_executions<S: Store>(w: World<S>) {
    custom_pipeline(&w, "rev");
    let out = w.ok(CUSTOMER, "PutActionRevision", revision("rev", "Source", "Get", "r1"), 1);
    assert_eq!(out["newRevision"], true);
    let first = out["pipelineExecutionId"].as_str().expect("an execution").to_owned();
    assert_eq!(executions(&w, "rev"), 1);

    // The state shows the revision while the source job runs.
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "rev"}), 2);
    let source = &state["stageStates"][0]["actionStates"][0];
    assert_eq!(source["currentRevision"]["revisionId"], "r1");
    assert_eq!(source["currentRevision"]["revisionChangeId"], "change-r1");
    assert_eq!(source["currentRevision"]["created"], 1_700_000_000);
    // The source job's output artifact carries it, and so does the next job's input.
    let job = run_custom(&w, "Source", "MySource", 2);
    assert_eq!(job["data"]["pipelineContext"]["pipelineExecutionId"], first.as_str());
    assert_eq!(job["data"]["outputArtifacts"][0]["revision"], "r1");
    let build = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Build", "Maker")}), 3);
    assert_eq!(build["jobs"][0]["data"]["inputArtifacts"][0]["revision"], "r1");
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "rev", "pipelineExecutionId": first}), 3);
    let exec = &got["pipelineExecution"];
    assert_eq!(
        exec["artifactRevisions"],
        json!([{"name": "code", "revisionId": "r1", "revisionChangeIdentifier": "change-r1", "created": 1_700_000_000}])
    );
    assert_eq!(exec["trigger"]["triggerType"], "PutActionRevision");
    let listed = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "rev"}), 3);
    let summary = &listed["pipelineExecutionSummaries"][0];
    assert_eq!(summary["sourceRevisions"][0]["revisionId"], "r1");
    assert_eq!(summary["trigger"]["triggerType"], "PutActionRevision");

    // The same revision again starts nothing and names the execution that used it.
    let again = w.ok(CUSTOMER, "PutActionRevision", revision("rev", "Source", "Get", "r1"), 4);
    assert_eq!(again, json!({"newRevision": false, "pipelineExecutionId": first}));
    assert_eq!(executions(&w, "rev"), 1);

    // A revision a worker reported (PutJobSuccessResult) counts as used too.
    let started = w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "rev"}), 5)["pipelineExecutionId"].clone();
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Source", "MySource")}), 5);
    let src = polled["jobs"][0].clone();
    assert!(src["data"]["outputArtifacts"][0].get("revision").is_none(), "a start names no revision");
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": src["id"], "nonce": src["nonce"]}), 5);
    let reported = json!({"revision": "r2", "changeIdentifier": "c2", "created": 1_700_000_100});
    w.ok(CUSTOMER, "PutJobSuccessResult", json!({"jobId": src["id"], "currentRevision": reported}), 5);
    let used = w.ok(CUSTOMER, "PutActionRevision", revision("rev", "Source", "Get", "r2"), 6);
    assert_eq!(used, json!({"newRevision": false, "pipelineExecutionId": started}));
    assert_eq!(executions(&w, "rev"), 2);

    // A new revision starts another execution, the newest.
    let next = w.ok(CUSTOMER, "PutActionRevision", revision("rev", "Source", "Get", "r3"), 7);
    assert_eq!(next["newRevision"], true);
    assert_ne!(next["pipelineExecutionId"], first.as_str());
    assert_eq!(executions(&w, "rev"), 3);
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "rev"}), 7);
    assert_eq!(state["stageStates"][0]["actionStates"][0]["currentRevision"]["revisionId"], "r3");

    // Refusals, each changing nothing.
    let refusals = [
        (CUSTOMER, revision("nope", "Source", "Get", "r9"), "PipelineNotFoundException"),
        (OTHER, revision("rev", "Source", "Get", "r9"), "PipelineNotFoundException"),
        (CUSTOMER, revision("rev", "Nope", "Get", "r9"), "StageNotFoundException"),
        (CUSTOMER, revision("rev", "Source", "Nope", "r9"), "ActionNotFoundException"),
        (CUSTOMER, revision("rev", "Build", "Get", "r9"), "ActionNotFoundException"),
        // Only a source takes a revision.
        (CUSTOMER, revision("rev", "Build", "Make", "r9"), "ValidationException"),
    ];
    for (who, input, code) in refusals {
        assert_eq!(w.err(who, "PutActionRevision", input.clone(), 8), code, "{input}");
    }
    let mut no_created = revision("rev", "Source", "Get", "r9");
    no_created["actionRevision"].as_object_mut().expect("object").remove("created");
    assert_eq!(w.err(CUSTOMER, "PutActionRevision", no_created, 8), "ValidationException");
    assert_eq!(executions(&w, "rev"), 3);
}

/// A third-party source told of a revision: its partner's job carries it;
/// the service's own S3 source takes none (it reads the object's ETag).
pub(crate) fn put_action_revision_for_third_party_and_s3_sources<S: Store>(w: World<S>) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("tp")}), 0);
    let out = w.ok(CUSTOMER, "PutActionRevision", revision("tp", "Source", "Fetch", "abc123"), 1);
    assert_eq!(out["newRevision"], true);
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 2);
    let details = w.ok(PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}), 2);
    let data = &details["jobDetails"]["data"];
    assert_eq!(data["outputArtifacts"][0]["revision"], "abc123");
    assert_eq!(data["pipelineContext"]["pipelineExecutionId"], out["pipelineExecutionId"]);
    // The partner reports nothing of its own: the given revision stays the action's.
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}), 3);
    let got = w.ok(
        CUSTOMER,
        "GetPipelineExecution",
        json!({"pipelineName": "tp", "pipelineExecutionId": out["pipelineExecutionId"]}),
        3,
    );
    assert_eq!(
        got["pipelineExecution"]["artifactRevisions"],
        json!([{"name": "src", "revisionId": "abc123", "revisionChangeIdentifier": "change-abc123", "created": 1_700_000_000}])
    );
    let state = w.ok(CUSTOMER, "GetPipelineState", json!({"name": "tp"}), 3);
    assert_eq!(state["stageStates"][0]["actionStates"][0]["currentRevision"]["revisionChangeId"], "change-abc123");

    let s3 = declaration(
        "s3src",
        vec![
            (
                "Source",
                vec![
                    json!({"name": "Obj", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                        "configuration": {"S3Bucket": "artifact-bucket", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
                        "outputArtifacts": [{"name": "src"}]}),
                ],
            ),
            ("Build", vec![action("Make", custom_id("Build", "Maker"), &["src"], &[], 1)]),
        ],
    );
    maker(&w);
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": s3}), 4);
    assert_eq!(
        w.err(CUSTOMER, "PutActionRevision", revision("s3src", "Source", "Obj", "v1"), 5),
        "ValidationException"
    );
    assert_eq!(executions(&w, "s3src"), 0);
}

/// `ListDeployActionExecutionTargets`: an action execution of the caller's
/// pipelines has no targets (no action type cpjobs runs reports any);
/// anything else is refused.
pub(crate) fn deploy_action_targets<S: Store>(w: World<S>) {
    custom_pipeline(&w, "dep");
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "dep"}), 1);
    run_custom(&w, "Source", "MySource", 2);
    let actions = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "dep"}), 3);
    let ids: Vec<String> = actions["actionExecutionDetails"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["actionExecutionId"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "the source and the running build");
    for id in &ids {
        for input in [
            json!({"actionExecutionId": id}),
            json!({"actionExecutionId": id, "pipelineName": "dep"}),
            json!({"actionExecutionId": id, "filters": [{"name": "TARGET_STATUS", "values": ["Succeeded"]}], "maxResults": 5}),
        ] {
            assert_eq!(w.ok(CUSTOMER, "ListDeployActionExecutionTargets", input, 4), json!({"targets": []}));
        }
    }
    let id = &ids[0];
    let refusals = [
        (
            CUSTOMER,
            json!({"actionExecutionId": "00000000-0000-0000-0000-000000000000"}),
            "ActionExecutionNotFoundException",
        ),
        (OTHER, json!({"actionExecutionId": id}), "ActionExecutionNotFoundException"),
        (CUSTOMER, json!({"actionExecutionId": id, "pipelineName": "nope"}), "PipelineNotFoundException"),
        (CUSTOMER, json!({"actionExecutionId": id, "nextToken": "abc"}), "InvalidNextTokenException"),
    ];
    for (who, input, code) in refusals {
        assert_eq!(w.err(who, "ListDeployActionExecutionTargets", input.clone(), 5), code, "{input}");
    }
    // An action execution of another pipeline of the account is not this one's.
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("other")}), 6);
    assert_eq!(
        w.err(
            CUSTOMER,
            "ListDeployActionExecutionTargets",
            json!({"actionExecutionId": id, "pipelineName": "other"}),
            6
        ),
        "ActionExecutionNotFoundException"
    );
}
