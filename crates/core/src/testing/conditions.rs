//! Domain scenarios of stage conditions, rules, automatic retry and
//! rollback (issue 10, items 3 and 4). Listed in [`named`](super::named)
//! like every scenario of [`domain`](super::domain), which dispatches to them.
#![deny(dead_code)]

use serde_json::{Value, json};

use super::domain::{CUSTOMER, OTHER, World, action, at, custom_id, custom_source, declaration, run_custom, start};
use super::semantics::maker;
use crate::store::Store;

/// Source (`MySource`, namespace `Src`) -> Build (`Maker`, namespace
/// `BuildVariables`), V2, with the variable `Env` (default `dev`); `build`
/// holds the Build stage's extra members (its conditions).
fn pipeline(name: &str, build: Value) -> Value {
    let mut source = action("Get", custom_id("Source", "MySource"), &[], &["code"], 1);
    source["namespace"] = json!("Src");
    let mut make = action("Make", custom_id("Build", "Maker"), &["code"], &[], 1);
    make["namespace"] = json!("BuildVariables");
    let mut d = declaration(name, vec![("Source", vec![source]), ("Build", vec![make])]);
    d["pipelineType"] = json!("V2");
    d["variables"] = json!([{"name": "Env", "defaultValue": "dev"}]);
    for (k, v) in build.as_object().into_iter().flatten() {
        d["stages"][1][k] = v.clone();
    }
    d
}

/// A rule declaration.
fn rule(name: &str, provider: &str, configuration: Value) -> Value {
    json!({"name": name, "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
           "configuration": configuration})
}

/// `Env` must be `prod`.
fn env_is_prod() -> Value {
    rule("EnvIsProd", "VariableCheck", json!({"Variable": "#{variables.Env}", "Value": "prod", "Operator": "EQ"}))
}

/// Creates the pipeline; the types it uses must exist.
fn create<S: Store>(w: &World<S>, name: &str, build: Value) {
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": pipeline(name, build)}), 0);
}

/// Starts an execution with `Env` set (or its default).
fn start_with<S: Store>(w: &World<S>, name: &str, env: Option<&str>, secs: u64) -> String {
    let mut input = json!({"name": name});
    if let Some(e) = env {
        input["variables"] = json!([{"name": "Env", "value": e}]);
    }
    w.ok(CUSTOMER, "StartPipelineExecution", input, secs)["pipelineExecutionId"].as_str().expect("id").to_owned()
}

/// Finishes the oldest queued custom job of `provider` with `result` (the
/// `PutJobSuccessResult` input without `jobId`, or `None` to fail it);
/// returns the job's data.
fn finish<S: Store>(w: &World<S>, category: &str, provider: &str, result: Option<Value>, secs: u64) -> Value {
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id(category, provider)}), secs);
    let job = polled["jobs"][0].clone();
    let id = job["id"].as_str().unwrap_or_else(|| panic!("a {provider} job: {polled}")).to_owned();
    w.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": id, "nonce": job["nonce"]}), secs);
    match result {
        Some(mut r) => {
            r["jobId"] = json!(id);
            w.ok(CUSTOMER, "PutJobSuccessResult", r, secs);
        }
        None => {
            let failure = json!({"jobId": id, "failureDetails": {"type": "JobFailed", "message": "it broke"}});
            w.ok(CUSTOMER, "PutJobFailureResult", failure, secs);
        }
    }
    job["data"].clone()
}

/// Runs the source with revision `rev`.
fn source<S: Store>(w: &World<S>, rev: &str, secs: u64) {
    let result = json!({"currentRevision": {"revision": rev, "changeIdentifier": format!("c-{rev}")}});
    finish(w, "Source", "MySource", Some(result), secs);
}

/// Stage `i` of the pipeline's state.
fn stage_state<S: Store>(w: &World<S>, name: &str, i: usize, secs: u64) -> Value {
    w.ok(CUSTOMER, "GetPipelineState", json!({"name": name}), secs)["stageStates"][i].clone()
}

/// The status of the Build action's latest execution (`Null`: none).
fn build_action<S: Store>(w: &World<S>, name: &str, secs: u64) -> Value {
    stage_state(w, name, 1, secs)["actionStates"][0]["latestExecution"]["status"].clone()
}

pub(crate) fn stage_conditions_gate_and_judge<S: Store>(w: World<S>) {
    custom_source(&w);
    maker(&w);

    // beforeEntry FAIL: not met, the stage fails before any action runs.
    create(&w, "gate", json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [env_is_prod()]}]}}));
    let dev = start_with(&w, "gate", None, 1);
    source(&w, "r1", 2);
    assert_eq!(w.status("gate", &dev), "Failed");
    let st = stage_state(&w, "gate", 1, 3);
    assert_eq!(st["latestExecution"]["status"], "Failed");
    assert!(st["actionStates"][0].get("latestExecution").is_none(), "no action ran");
    let cond = &st["beforeEntryConditionState"];
    assert_eq!(cond["latestExecution"]["status"], "Failed");
    let rs = &cond["conditionStates"][0]["ruleStates"][0];
    assert_eq!(
        (rs["ruleName"].as_str(), rs["latestExecution"]["status"].as_str()),
        (Some("EnvIsProd"), Some("Failed"))
    );
    let out = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "gate", "pipelineExecutionId": dev}), 3);
    assert!(out["pipelineExecution"]["statusSummary"].as_str().expect("summary").contains("entry condition"));
    // Met: the stage runs.
    let prod = start_with(&w, "gate", Some("prod"), 4);
    source(&w, "r2", 5);
    assert_eq!(build_action(&w, "gate", 5), "InProgress");
    assert_eq!(stage_state(&w, "gate", 1, 5)["beforeEntryConditionState"]["latestExecution"]["status"], "Succeeded");
    run_custom(&w, "Build", "Maker", 6);
    assert_eq!(w.status("gate", &prod), "Succeeded");

    // Rule executions: newest first, per execution, paged.
    let all = w.ok(CUSTOMER, "ListRuleExecutions", json!({"pipelineName": "gate"}), 7);
    let list = all["ruleExecutionDetails"].as_array().expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["pipelineExecutionId"].as_str(), list[0]["status"].as_str()),
        (Some(&*prod), Some("Succeeded"))
    );
    assert_eq!(list[1]["input"]["resolvedConfiguration"]["Variable"], "dev");
    assert_eq!(list[1]["input"]["configuration"]["Variable"], "#{variables.Env}");
    assert_eq!(list[1]["input"]["ruleTypeId"]["provider"], "VariableCheck");
    let page = w.ok(CUSTOMER, "ListRuleExecutions", json!({"pipelineName": "gate", "maxResults": 1}), 7);
    assert_eq!(page["ruleExecutionDetails"][0], list[0]);
    let token = page["nextToken"].clone();
    let next =
        w.ok(CUSTOMER, "ListRuleExecutions", json!({"pipelineName": "gate", "maxResults": 1, "nextToken": token}), 7);
    assert_eq!(next["ruleExecutionDetails"][0], list[1]);
    assert!(next.get("nextToken").is_none());
    let one = w.ok(
        CUSTOMER,
        "ListRuleExecutions",
        json!({"pipelineName": "gate", "filter": {"pipelineExecutionId": dev}}),
        7,
    );
    assert_eq!(one["ruleExecutionDetails"].as_array().map(Vec::len), Some(1));
    let e = w.err(
        CUSTOMER,
        "ListRuleExecutions",
        json!({"pipelineName": "gate", "filter": {"pipelineExecutionId": "nope"}}),
        7,
    );
    assert_eq!(e, "PipelineExecutionNotFoundException");
    let latest = |range: &str| {
        let filter = json!({"latestInPipelineExecution": {"pipelineExecutionId": dev, "startTimeRange": range}});
        w.ok(CUSTOMER, "ListRuleExecutions", json!({"pipelineName": "gate", "filter": filter}), 7)
    };
    assert_eq!(latest("All"), one);
    assert_eq!(latest("Latest"), one, "one evaluation: the latest");
    let mixed = json!({"pipelineExecutionId": prod,
                       "latestInPipelineExecution": {"pipelineExecutionId": dev, "startTimeRange": "All"}});
    let e = w.err(CUSTOMER, "ListRuleExecutions", json!({"pipelineName": "gate", "filter": mixed}), 7);
    assert_eq!(e, "ValidationException");
    assert_eq!(w.err(OTHER, "ListRuleExecutions", json!({"pipelineName": "gate"}), 7), "PipelineNotFoundException");

    // beforeEntry SKIP: the stage is skipped and the execution goes on (here, to its end).
    create(&w, "skip", json!({"beforeEntry": {"conditions": [{"result": "SKIP", "rules": [env_is_prod()]}]}}));
    let skipped = start_with(&w, "skip", None, 10);
    source(&w, "r3", 11);
    assert_eq!(w.status("skip", &skipped), "Succeeded");
    assert_eq!(stage_state(&w, "skip", 1, 11)["latestExecution"]["status"], "Skipped");
    assert_eq!(build_action(&w, "skip", 11), Value::Null, "no action of a skipped stage runs");

    // onSuccess FAIL, on an output variable of the stage's own action.
    let ok_var =
        rule("BuildOk", "VariableCheck", json!({"Variable": "#{BuildVariables.Ok}", "Value": "yes", "Operator": "EQ"}));
    create(&w, "judge", json!({"onSuccess": {"conditions": [{"result": "FAIL", "rules": [ok_var]}]}}));
    let bad = start_with(&w, "judge", None, 12);
    source(&w, "r4", 12);
    finish(&w, "Build", "Maker", Some(json!({"outputVariables": {"Ok": "no"}})), 13);
    assert_eq!(w.status("judge", &bad), "Failed");
    assert_eq!(stage_state(&w, "judge", 1, 13)["onSuccessConditionState"]["latestExecution"]["status"], "Failed");
    // Retried, the stage has nothing to run again and its success condition is evaluated again:
    // two evaluations of the rule, of which `Latest` lists the newer.
    let retry = json!({"pipelineName": "judge", "stageName": "Build", "pipelineExecutionId": bad, "retryMode": "FAILED_ACTIONS"});
    w.ok(CUSTOMER, "RetryStageExecution", retry, 13);
    assert_eq!(w.status("judge", &bad), "Failed", "still not met");
    let evaluations = |range: &str| {
        let filter = json!({"latestInPipelineExecution": {"pipelineExecutionId": bad, "startTimeRange": range}});
        let out = w.ok(CUSTOMER, "ListRuleExecutions", json!({"pipelineName": "judge", "filter": filter}), 13);
        out["ruleExecutionDetails"].as_array().expect("list").clone()
    };
    let (all, latest) = (evaluations("All"), evaluations("Latest"));
    assert_eq!(all.len(), 2);
    assert_eq!(latest, all[..1], "the newer evaluation");
    let st = stage_state(&w, "judge", 1, 13);
    let shown = &st["onSuccessConditionState"]["conditionStates"][0]["ruleStates"][0]["latestExecution"];
    assert_eq!(latest[0]["ruleExecutionId"], shown["ruleExecutionId"], "the one the state shows");
    assert_ne!(all[0]["ruleExecutionId"], all[1]["ruleExecutionId"]);
    let good = start_with(&w, "judge", None, 14);
    source(&w, "r5", 14);
    finish(&w, "Build", "Maker", Some(json!({"outputVariables": {"Ok": "yes"}})), 15);
    assert_eq!(w.status("judge", &good), "Succeeded");

    // What AWS does not take, and what cpjobs cannot run, is refused and stores nothing.
    let window = rule("W", "DeploymentWindow", json!({"Cron": "* * 9-17 ? * MON-FRI *"}));
    let cond = |result: &str, rules: Value| json!({"conditions": [{"result": result, "rules": rules}]});
    for (build, why) in [
        (json!({"beforeEntry": cond("ROLLBACK", json!([env_is_prod()]))}), "beforeEntry takes FAIL or SKIP"),
        (json!({"beforeEntry": cond("RETRY", json!([env_is_prod()]))}), "beforeEntry takes FAIL or SKIP"),
        (json!({"onSuccess": cond("SKIP", json!([env_is_prod()]))}), "onSuccess takes ROLLBACK or FAIL"),
        (json!({"onFailure": {"result": "SKIP"}}), "onFailure takes ROLLBACK or RETRY"),
        (json!({"onFailure": {"result": "FAIL"}}), "onFailure takes ROLLBACK or RETRY"),
        (json!({"onFailure": {}}), "onFailure needs a result"),
        (
            json!({"onFailure": {"result": "ROLLBACK", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}}}),
            "retry needs RETRY",
        ),
        (json!({"beforeEntry": cond("FAIL", json!([]))}), "a condition has rules"),
        (json!({"beforeEntry": cond("FAIL", json!([env_is_prod(), env_is_prod()]))}), "rule names are unique"),
        (
            json!({"beforeEntry": cond("FAIL", json!([rule("L", "LambdaInvoke", json!({"FunctionName": "f"}))]))}),
            "Lambda",
        ),
        (json!({"beforeEntry": cond("FAIL", json!([rule("C", "Commands", json!({}))]))}), "Commands"),
        (
            json!({"beforeEntry": cond("FAIL", json!([rule("W", "DeploymentWindow", json!({"Cron": "0 9 * * *"}))]))}),
            "cron",
        ),
        (
            json!({"beforeEntry": cond("FAIL", json!([rule("V", "VariableCheck", json!({"Variable": "#{BuildVariables.X}", "Value": "y", "Operator": "EQ"}))]))}),
            "the stage's own action runs after entry",
        ),
        (
            json!({"onSuccess": cond("FAIL", json!([rule("V", "VariableCheck", json!({"Variable": "#{variables.Nope}", "Value": "y", "Operator": "EQ"}))]))}),
            "an undeclared variable",
        ),
    ] {
        let d = pipeline("refused", build);
        assert_eq!(
            w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": d}), 9),
            "InvalidStageDeclarationException",
            "{why}"
        );
    }
    let mut d = pipeline("refused", json!({}));
    d["stages"][0]["onFailure"] = json!({"result": "ROLLBACK"});
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": d}), 9),
        "InvalidStageDeclarationException",
        "a source stage is not rolled back"
    );
    let mut d = pipeline("refused", json!({"beforeEntry": cond("FAIL", json!([window]))}));
    d["pipelineType"] = json!("V1");
    d.as_object_mut().expect("object").remove("variables");
    assert_eq!(
        w.err(CUSTOMER, "CreatePipeline", json!({"pipeline": d}), 9),
        "ValidationException",
        "conditions need V2"
    );
    assert_eq!(w.err(CUSTOMER, "GetPipeline", json!({"name": "refused"}), 9), "PipelineNotFoundException");
    let before = w.ok(CUSTOMER, "GetPipeline", json!({"name": "gate"}), 9);
    let d = pipeline("gate", json!({"onFailure": {"result": "SKIP"}}));
    assert_eq!(w.err(CUSTOMER, "UpdatePipeline", json!({"pipeline": d}), 9), "InvalidStageDeclarationException");
    assert_eq!(w.ok(CUSTOMER, "GetPipeline", json!({"name": "gate"}), 9), before, "a refused update changes nothing");

    // ListRuleTypes: what cpjobs runs, in this region only.
    let types = w.ok(CUSTOMER, "ListRuleTypes", json!({}), 16);
    let providers: Vec<&str> =
        types["ruleTypes"].as_array().expect("list").iter().filter_map(|t| t["id"]["provider"].as_str()).collect();
    assert_eq!(providers, ["DeploymentWindow", "VariableCheck"]);
    let filtered = w.ok(CUSTOMER, "ListRuleTypes", json!({"ruleOwnerFilter": "AWS", "regionFilter": "us-east-1"}), 16);
    assert_eq!(filtered, types);
    let elsewhere = w.ok(CUSTOMER, "ListRuleTypes", json!({"regionFilter": "eu-west-1"}), 16);
    assert_eq!(elsewhere, json!({"ruleTypes": []}));
}

pub(crate) fn deployment_window_holds_until_open_or_overridden<S: Store>(w: World<S>) {
    custom_source(&w);
    maker(&w);
    // t0 is a Friday, 08:00 UTC: the window opens at 09:00 (t0 + 3600 s).
    let office = rule("Office", "DeploymentWindow", json!({"Cron": "* * 9-17 ? * MON-FRI *"}));
    create(&w, "window", json!({"beforeEntry": {"conditions": [{"rules": [office]}]}}));
    let id = start_with(&w, "window", None, 1);
    source(&w, "r1", 2);
    assert_eq!(w.status("window", &id), "InProgress");
    let st = stage_state(&w, "window", 1, 3);
    assert_eq!(st["latestExecution"]["status"], "InProgress");
    assert_eq!(st["beforeEntryConditionState"]["latestExecution"]["status"], "InProgress");
    assert_eq!(build_action(&w, "window", 3), Value::Null, "held before the stage's actions");
    assert_eq!(w.svc.tick(at(1800)).expect("sweep").conditions_evaluated, 0, "not due before the window opens");
    assert_eq!(build_action(&w, "window", 1800), Value::Null, "still outside the window");
    assert_eq!(w.svc.tick(at(3600)).expect("sweep").conditions_evaluated, 1);
    assert_eq!(build_action(&w, "window", 3600), "InProgress", "the window opened");
    assert_eq!(
        stage_state(&w, "window", 1, 3600)["beforeEntryConditionState"]["latestExecution"]["status"],
        "Succeeded"
    );
    run_custom(&w, "Build", "Maker", 3601);
    assert_eq!(w.status("window", &id), "Succeeded");

    // A window only on Sundays, in Tokyo: overridden by hand.
    let sunday = rule("Sunday", "DeploymentWindow", json!({"Cron": "* * * ? * SUN *", "TimeZone": "Asia/Tokyo"}));
    create(&w, "sunday", json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [sunday]}]}}));
    let held = start_with(&w, "sunday", None, 4000);
    source(&w, "r2", 4000);
    let ov = |id: &str, stage: &str, kind: &str| json!({"pipelineName": "sunday", "stageName": stage, "pipelineExecutionId": id, "conditionType": kind});
    assert_eq!(
        w.err(CUSTOMER, "OverrideStageCondition", ov(&held, "Build", "ON_SUCCESS"), 4001),
        "ConditionNotOverridableException"
    );
    assert_eq!(
        w.err(CUSTOMER, "OverrideStageCondition", ov("nope", "Build", "BEFORE_ENTRY"), 4001),
        "ConditionNotOverridableException"
    );
    assert_eq!(
        w.err(CUSTOMER, "OverrideStageCondition", ov(&held, "Nope", "BEFORE_ENTRY"), 4001),
        "StageNotFoundException"
    );
    assert_eq!(
        w.err(OTHER, "OverrideStageCondition", ov(&held, "Build", "BEFORE_ENTRY"), 4001),
        "PipelineNotFoundException"
    );
    assert_eq!(build_action(&w, "sunday", 4001), Value::Null, "refusals let nothing through");
    w.ok(CUSTOMER, "OverrideStageCondition", ov(&held, "Build", "BEFORE_ENTRY"), 4002);
    assert_eq!(build_action(&w, "sunday", 4002), "InProgress");
    assert_eq!(
        stage_state(&w, "sunday", 1, 4002)["beforeEntryConditionState"]["latestExecution"]["status"],
        "Overridden"
    );
    assert_eq!(
        w.err(CUSTOMER, "OverrideStageCondition", ov(&held, "Build", "BEFORE_ENTRY"), 4003),
        "ConditionNotOverridableException"
    );
    run_custom(&w, "Build", "Maker", 4004);
    assert_eq!(w.status("sunday", &held), "Succeeded");

    // An execution stopped while it waits: the condition is cancelled, and the sweep leaves it be.
    let stopped = start_with(&w, "sunday", None, 4500);
    source(&w, "r2b", 4500);
    let st = stage_state(&w, "sunday", 1, 4500);
    assert_eq!(st["beforeEntryConditionState"]["latestExecution"]["status"], "InProgress");
    w.ok(CUSTOMER, "StopPipelineExecution", json!({"pipelineName": "sunday", "pipelineExecutionId": stopped}), 4501);
    assert_eq!(w.status("sunday", &stopped), "Stopped");
    let st = stage_state(&w, "sunday", 1, 4501);
    assert_eq!(st["latestExecution"]["status"], "Stopped");
    assert_eq!(st["beforeEntryConditionState"]["latestExecution"]["status"], "Cancelled");
    let ov_stopped = ov(&stopped, "Build", "BEFORE_ENTRY");
    assert_eq!(w.err(CUSTOMER, "OverrideStageCondition", ov_stopped, 4502), "ConditionNotOverridableException");

    // A rule timeout ends the wait: the rule fails and the result engages.
    let mut brief = rule("Sunday", "DeploymentWindow", json!({"Cron": "* * * ? * SUN *"}));
    brief["timeoutInMinutes"] = json!(5);
    create(&w, "brief", json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [brief]}]}}));
    let timed = start_with(&w, "brief", None, 5000);
    source(&w, "r3", 5000);
    w.svc.tick(at(5299)).expect("sweep");
    assert_eq!(w.status("brief", &timed), "InProgress");
    w.svc.tick(at(5300)).expect("sweep");
    assert_eq!(w.status("brief", &timed), "Failed");
    let rs = &stage_state(&w, "brief", 1, 5301)["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0];
    assert_eq!(rs["latestExecution"]["errorDetails"]["code"], "RuleTimedOut");
}

pub(crate) fn failed_stage_retries_itself_once<S: Store>(w: World<S>) {
    custom_source(&w);
    maker(&w);
    create(
        &w,
        "retry",
        json!({"onFailure": {"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}}),
    );
    let id = start(&w, "retry", 1);
    source(&w, "r1", 2);
    finish(&w, "Build", "Maker", None, 3);
    assert_eq!(w.status("retry", &id), "InProgress", "retried at once");
    let st = stage_state(&w, "retry", 1, 3);
    assert_eq!(st["latestExecution"]["status"], "InProgress");
    assert_eq!(
        st["retryStageMetadata"],
        json!({"autoStageRetryAttempt": 1, "latestRetryTrigger": "AutomatedStageRetry"})
    );
    assert_eq!(build_action(&w, "retry", 3), "InProgress");
    // AWS retries once: the second failure fails the stage.
    finish(&w, "Build", "Maker", None, 4);
    assert_eq!(w.status("retry", &id), "Failed");
    // A manual retry is counted too, and works as before.
    let retry =
        json!({"pipelineName": "retry", "stageName": "Build", "pipelineExecutionId": id, "retryMode": "ALL_ACTIONS"});
    w.ok(CUSTOMER, "RetryStageExecution", retry, 5);
    let st = stage_state(&w, "retry", 1, 5);
    assert_eq!(
        st["retryStageMetadata"],
        json!({"autoStageRetryAttempt": 1, "manualStageRetryAttempt": 1, "latestRetryTrigger": "ManualStageRetry"})
    );
    run_custom(&w, "Build", "Maker", 6);
    assert_eq!(w.status("retry", &id), "Succeeded");
    let actions = w.ok(CUSTOMER, "ListActionExecutions", json!({"pipelineName": "retry"}), 7);
    let builds = actions["actionExecutionDetails"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|d| d["actionName"] == "Make")
        .count();
    assert_eq!(builds, 3, "two failed attempts and the one that succeeded");
}

/// The executions of a pipeline, newest first.
fn executions<S: Store>(w: &World<S>, name: &str, secs: u64) -> Vec<Value> {
    let out = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": name}), secs);
    out["pipelineExecutionSummaries"].as_array().expect("list").clone()
}

pub(crate) fn failed_stage_rolls_back<S: Store>(w: World<S>) {
    custom_source(&w);
    maker(&w);
    create(&w, "rb", json!({"onFailure": {"result": "ROLLBACK"}}));
    // Nothing succeeded the stage yet: a failure has nothing to roll back to.
    let first = start(&w, "rb", 1);
    source(&w, "r0", 1);
    finish(&w, "Build", "Maker", None, 2);
    assert_eq!(w.status("rb", &first), "Failed");
    assert_eq!(executions(&w, "rb", 2).len(), 1, "no rollback started");

    let good = start(&w, "rb", 3);
    source(&w, "r1", 3);
    finish(&w, "Build", "Maker", Some(json!({"outputVariables": {"Built": "one"}})), 4);
    assert_eq!(w.status("rb", &good), "Succeeded");
    let bad = start(&w, "rb", 5);
    source(&w, "r2", 5);
    let data = finish(&w, "Build", "Maker", None, 6);
    assert_eq!(data["inputArtifacts"][0]["revision"], "r2");
    assert_eq!(w.status("rb", &bad), "Failed");
    let list = executions(&w, "rb", 6);
    assert_eq!(list.len(), 4);
    let rollback = &list[0];
    assert_eq!(rollback["executionType"], "ROLLBACK");
    assert_eq!(rollback["rollbackMetadata"], json!({"rollbackTargetPipelineExecutionId": good}));
    assert_eq!(rollback["trigger"]["triggerType"], "AutomatedRollback");
    assert_eq!(rollback["trigger"]["triggerDetail"], json!(bad));
    assert_eq!(rollback["sourceRevisions"][0]["revisionId"], "r1");
    assert_eq!(list[1]["executionType"], "STANDARD");
    let rid = rollback["pipelineExecutionId"].as_str().expect("id").to_owned();
    // The rollback runs the stage with the target's revisions.
    let data = finish(&w, "Build", "Maker", None, 7);
    assert_eq!(data["inputArtifacts"][0]["revision"], "r1", "the target's source revision");
    // A failed rollback is not rolled back again.
    assert_eq!(w.status("rb", &rid), "Failed");
    assert_eq!(executions(&w, "rb", 7).len(), 4);
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "rb", "pipelineExecutionId": rid}), 7);
    assert_eq!(got["pipelineExecution"]["executionType"], "ROLLBACK");
    assert_eq!(got["pipelineExecution"]["rollbackMetadata"]["rollbackTargetPipelineExecutionId"], json!(good));
    let st = stage_state(&w, "rb", 1, 7);
    assert_eq!(st["latestExecution"], json!({"pipelineExecutionId": rid, "status": "Failed", "type": "ROLLBACK"}));
    assert_eq!(
        stage_state(&w, "rb", 0, 7)["latestExecution"]["pipelineExecutionId"],
        json!(bad),
        "a rollback runs one stage"
    );

    // onFailure with a condition: the rollback engages only when it is met. The rollback's entry
    // rule reads the source's output variable as the target execution had it.
    let good_commit =
        rule("Commit", "VariableCheck", json!({"Variable": "#{Src.Commit}", "Value": "^good-", "Operator": "MATCHES"}));
    create(
        &w,
        "cond",
        json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [good_commit]}]},
               "onFailure": {"conditions": [{"result": "ROLLBACK", "rules": [env_is_prod()]}]}}),
    );
    let commit = |c: &str| json!({"outputVariables": {"Commit": c}});
    let target = start_with(&w, "cond", Some("prod"), 20);
    finish(&w, "Source", "MySource", Some(commit("good-1")), 20);
    run_custom(&w, "Build", "Maker", 21);
    assert_eq!(w.status("cond", &target), "Succeeded");
    let dev = start_with(&w, "cond", None, 22);
    finish(&w, "Source", "MySource", Some(commit("good-2")), 22);
    finish(&w, "Build", "Maker", None, 23);
    assert_eq!(w.status("cond", &dev), "Failed");
    assert_eq!(executions(&w, "cond", 23).len(), 2, "not met (Env is dev): no rollback");
    let st = stage_state(&w, "cond", 1, 23);
    assert_eq!(st["onFailureConditionState"]["latestExecution"]["status"], "Failed");
    let prod = start_with(&w, "cond", Some("prod"), 24);
    finish(&w, "Source", "MySource", Some(commit("good-3")), 24);
    finish(&w, "Build", "Maker", None, 25);
    assert_eq!(w.status("cond", &prod), "Failed");
    let back = executions(&w, "cond", 25)[0].clone();
    assert_eq!(back["rollbackMetadata"]["rollbackTargetPipelineExecutionId"], json!(target), "met: rolled back");
    assert_eq!(stage_state(&w, "cond", 1, 25)["beforeEntryConditionState"]["latestExecution"]["status"], "Succeeded");
    let bid = back["pipelineExecutionId"].as_str().expect("id").to_owned();
    let rules = w.ok(
        CUSTOMER,
        "ListRuleExecutions",
        json!({"pipelineName": "cond", "filter": {"pipelineExecutionId": bid}}),
        25,
    );
    assert_eq!(rules["ruleExecutionDetails"][0]["input"]["resolvedConfiguration"]["Variable"], "good-1");
    run_custom(&w, "Build", "Maker", 26);
    assert_eq!(w.status("cond", &bid), "Succeeded");

    // onSuccess ROLLBACK: a stage that succeeds but fails its check rolls back (and the rollback passes it).
    let ok_var =
        rule("BuildOk", "VariableCheck", json!({"Variable": "#{BuildVariables.Ok}", "Value": "yes", "Operator": "EQ"}));
    create(&w, "check", json!({"onSuccess": {"conditions": [{"result": "ROLLBACK", "rules": [ok_var]}]}}));
    let fine = start(&w, "check", 10);
    source(&w, "k1", 10);
    finish(&w, "Build", "Maker", Some(json!({"outputVariables": {"Ok": "yes"}})), 11);
    let worse = start(&w, "check", 12);
    source(&w, "k2", 12);
    finish(&w, "Build", "Maker", Some(json!({"outputVariables": {"Ok": "no"}})), 13);
    assert_eq!((w.status("check", &fine), w.status("check", &worse)), ("Succeeded".into(), "Failed".into()));
    let back = executions(&w, "check", 13)[0].clone();
    assert_eq!(back["rollbackMetadata"]["rollbackTargetPipelineExecutionId"], json!(fine));
    let data = finish(&w, "Build", "Maker", Some(json!({"outputVariables": {"Ok": "yes"}})), 14);
    assert_eq!(data["inputArtifacts"][0]["revision"], "k1");
    assert_eq!(w.status("check", back["pipelineExecutionId"].as_str().expect("id")), "Succeeded");
}

pub(crate) fn rollback_stage_by_hand<S: Store>(w: World<S>) {
    custom_source(&w);
    maker(&w);
    create(&w, "man", json!({}));
    let a = start(&w, "man", 1);
    source(&w, "r1", 1);
    run_custom(&w, "Build", "Maker", 2);
    let b = start(&w, "man", 3);
    source(&w, "r2", 3);
    run_custom(&w, "Build", "Maker", 4);
    let failed = start(&w, "man", 5);
    source(&w, "r3", 5);
    finish(&w, "Build", "Maker", None, 6);
    let rb = |stage: &str, target: &str| json!({"pipelineName": "man", "stageName": stage, "targetPipelineExecutionId": target});
    let err = |input: Value, secs| w.err(CUSTOMER, "RollbackStage", input, secs);
    assert_eq!(w.err(OTHER, "RollbackStage", rb("Build", &a), 7), "PipelineNotFoundException");
    assert_eq!(err(rb("Nope", &a), 7), "StageNotFoundException");
    assert_eq!(err(rb("Build", "no-such-execution"), 7), "PipelineExecutionNotFoundException");
    assert_eq!(err(rb("Source", &a), 7), "UnableToRollbackStageException", "a source stage");
    assert_eq!(err(rb("Build", &failed), 7), "UnableToRollbackStageException", "the target did not succeed the stage");
    assert_eq!(executions(&w, "man", 7).len(), 3, "refusals start nothing");

    let r = w.ok(CUSTOMER, "RollbackStage", rb("Build", &a), 8)["pipelineExecutionId"].as_str().expect("id").to_owned();
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "man", "pipelineExecutionId": r}), 8);
    let e = &got["pipelineExecution"];
    assert_eq!((e["executionType"].as_str(), e["status"].as_str()), (Some("ROLLBACK"), Some("InProgress")));
    assert_eq!(
        e["trigger"],
        json!({"triggerType": "ManualRollback", "triggerDetail": format!("arn:aws:iam::{CUSTOMER}:root")})
    );
    assert_eq!(e["rollbackMetadata"]["rollbackTargetPipelineExecutionId"], json!(a));
    assert_eq!(err(rb("Build", &b), 8), "ConflictException", "the stage is running the rollback");
    assert_eq!(err(rb("Build", &r), 8), "UnableToRollbackStageException", "a rollback is no target");
    let data = run_custom(&w, "Build", "Maker", 9);
    assert_eq!(data["data"]["inputArtifacts"][0]["revision"], "r1");
    assert_eq!(w.status("man", &r), "Succeeded");
    assert_eq!(stage_state(&w, "man", 1, 9)["latestExecution"]["type"], "ROLLBACK");

    // After an update, executions of the older version are outdated targets.
    w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": pipeline("man", json!({}))}), 10);
    assert_eq!(err(rb("Build", &b), 10), "PipelineExecutionOutdatedException");
}
