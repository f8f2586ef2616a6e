"""boto3 against `cpjobs serve`: stage conditions, rules, automatic retry and
rollback (issue 10, items 3 and 4). Run by tests/e2e/conditions.rs as
`python3 boto3_conditions.py <scenario>`, with the same environment as
boto3_flows.py, whose helpers it uses. Any failed check raises (exit 1).
"""

import sys

# Importing the flows must not leave a compiled copy of them in the source tree.
sys.dont_write_bytecode = True

from boto3_flows import action, client, declaration, expect, type_id  # noqa: E402


def rule(name, provider, configuration):
    return {
        "name": name,
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
        "configuration": configuration,
    }


def pipeline(name, **build_members):
    """Source (MySource) -> Build (Maker, namespace BuildVariables), V2, variable Env (default dev)."""
    decl = declaration(
        name,
        [
            ("Source", [action("Get", "Custom", "Source", "MySource", [], ["code"])]),
            ("Build", [action("Make", "Custom", "Build", "Maker", ["code"], [])]),
        ],
    )
    decl["pipelineType"] = "V2"
    decl["variables"] = [{"name": "Env", "defaultValue": "dev"}]
    decl["stages"][1]["actions"][0]["namespace"] = "BuildVariables"
    decl["stages"][1].update(build_members)
    return decl


def conditions():
    cp = client("CUSTOMER")
    for category, provider in (("Source", "MySource"), ("Build", "Maker")):
        cp.create_custom_action_type(
            category=category,
            provider=provider,
            version="1",
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 0 if category == "Source" else 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
        )

    def take(provider):
        category = "Source" if provider == "MySource" else "Build"
        jobs = cp.poll_for_jobs(actionTypeId=type_id("Custom", category, provider))["jobs"]
        assert len(jobs) == 1, jobs
        assert cp.acknowledge_job(jobId=jobs[0]["id"], nonce=jobs[0]["nonce"])["status"] == "InProgress"
        return jobs[0]

    def source(revision):
        job = take("MySource")
        cp.put_job_success_result(jobId=job["id"], currentRevision={"revision": revision, "changeIdentifier": revision})

    def nothing_queued():
        jobs = cp.poll_for_jobs(actionTypeId=type_id("Custom", "Build", "Maker"))["jobs"]
        assert jobs == [], jobs

    def status(name, execution):
        return cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)["pipelineExecution"]

    types = cp.list_rule_types(ruleOwnerFilter="AWS")["ruleTypes"]
    assert sorted(t["id"]["provider"] for t in types) == ["DeploymentWindow", "VariableCheck"], types

    env_is_prod = rule("EnvIsProd", "VariableCheck", {"Variable": "#{variables.Env}", "Value": "prod", "Operator": "EQ"})
    gate = {"conditions": [{"result": "FAIL", "rules": [env_is_prod]}]}
    lambda_rule = rule("Check", "LambdaInvoke", {"FunctionName": "f"})
    e = expect(
        "InvalidStageDeclarationException",
        cp.create_pipeline,
        pipeline=pipeline("app", beforeEntry={"conditions": [{"result": "FAIL", "rules": [lambda_rule]}]}),
    )
    assert "AWS Lambda" in e.response["Error"]["Message"], e.response
    expect("InvalidStageDeclarationException", cp.create_pipeline, pipeline=pipeline("app", onFailure={"result": "SKIP"}))
    cp.create_pipeline(pipeline=pipeline("app", beforeEntry=gate, onFailure={"result": "ROLLBACK"}))

    # The entry condition blocks: not met, the stage fails and no build job is made.
    blocked = cp.start_pipeline_execution(name="app")["pipelineExecutionId"]
    source("r1")
    got = status("app", blocked)
    assert got["status"] == "Failed" and got["executionType"] == "STANDARD", got
    nothing_queued()
    build = cp.get_pipeline_state(name="app")["stageStates"][1]
    entry = build["beforeEntryConditionState"]
    assert entry["latestExecution"]["status"] == "Failed", build
    assert entry["conditionStates"][0]["ruleStates"][0]["ruleName"] == "EnvIsProd", build

    # Met: the stage runs.
    good = cp.start_pipeline_execution(name="app", variables=[{"name": "Env", "value": "prod"}])["pipelineExecutionId"]
    source("r2")
    cp.put_job_success_result(jobId=take("Maker")["id"])
    assert status("app", good)["status"] == "Succeeded"

    # A failure rolls the stage back to the last execution that succeeded it, with its revision.
    bad = cp.start_pipeline_execution(name="app", variables=[{"name": "Env", "value": "prod"}])["pipelineExecutionId"]
    source("r3")
    job = take("Maker")
    assert job["data"]["inputArtifacts"][0]["revision"] == "r3", job
    cp.put_job_failure_result(jobId=job["id"], failureDetails={"type": "JobFailed", "message": "tests failed"})
    assert status("app", bad)["status"] == "Failed"
    newest = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]
    assert newest["executionType"] == "ROLLBACK", newest
    assert newest["rollbackMetadata"] == {"rollbackTargetPipelineExecutionId": good}, newest
    assert newest["trigger"]["triggerType"] == "AutomatedRollback", newest
    job = take("Maker")
    assert job["data"]["inputArtifacts"][0]["revision"] == "r2", job
    cp.put_job_success_result(jobId=job["id"])
    assert status("app", newest["pipelineExecutionId"])["status"] == "Succeeded"
    stage = cp.get_pipeline_state(name="app")["stageStates"][1]
    assert stage["latestExecution"]["type"] == "ROLLBACK", stage

    # RollbackStage by hand; its refusals.
    expect("UnableToRollbackStageException", cp.rollback_stage, pipelineName="app", stageName="Build", targetPipelineExecutionId=bad)
    expect("StageNotFoundException", cp.rollback_stage, pipelineName="app", stageName="Nope", targetPipelineExecutionId=good)
    manual = cp.rollback_stage(pipelineName="app", stageName="Build", targetPipelineExecutionId=good)["pipelineExecutionId"]
    got = status("app", manual)
    assert got["executionType"] == "ROLLBACK" and got["trigger"]["triggerType"] == "ManualRollback", got
    cp.put_job_success_result(jobId=take("Maker")["id"])
    assert status("app", manual)["status"] == "Succeeded"

    # Rule executions, through boto3's paginator.
    pages = cp.get_paginator("list_rule_executions").paginate(pipelineName="app", PaginationConfig={"PageSize": 1})
    details = [d for page in pages for d in page["ruleExecutionDetails"]]
    # Newest first: the manual rollback, the automatic one, the failed run, the good one, the blocked one.
    assert [d["status"] for d in details] == ["Succeeded"] * 4 + ["Failed"], details
    assert [d["pipelineExecutionId"] for d in details][::-1][:2] == [blocked, good], details
    assert details[-1]["input"]["resolvedConfiguration"]["Variable"] == "dev", details[-1]

    # A deployment window that opens only in 2199 holds the execution; an override lets it in.
    window = rule("Later", "DeploymentWindow", {"Cron": "* * * ? * * 2199", "TimeZone": "Europe/Paris"})
    cp.create_pipeline(pipeline=pipeline("held", beforeEntry={"conditions": [{"result": "FAIL", "rules": [window]}]}))
    held = cp.start_pipeline_execution(name="held")["pipelineExecutionId"]
    source("h1")
    assert status("held", held)["status"] == "InProgress"
    nothing_queued()
    state = cp.get_pipeline_state(name="held")["stageStates"][1]
    assert state["beforeEntryConditionState"]["latestExecution"]["status"] == "InProgress", state
    where = {"pipelineName": "held", "stageName": "Build", "pipelineExecutionId": held}
    expect("ConditionNotOverridableException", cp.override_stage_condition, conditionType="ON_SUCCESS", **where)
    cp.override_stage_condition(conditionType="BEFORE_ENTRY", **where)
    cp.put_job_success_result(jobId=take("Maker")["id"])
    assert status("held", held)["status"] == "Succeeded"

    # onFailure RETRY: a failed stage is retried once by itself.
    cp.create_pipeline(
        pipeline=pipeline("retry", onFailure={"result": "RETRY", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}})
    )
    retried = cp.start_pipeline_execution(name="retry")["pipelineExecutionId"]
    source("t1")
    cp.put_job_failure_result(jobId=take("Maker")["id"], failureDetails={"type": "JobFailed", "message": "flaky"})
    assert status("retry", retried)["status"] == "InProgress"
    meta = cp.get_pipeline_state(name="retry")["stageStates"][1]["retryStageMetadata"]
    assert meta == {"autoStageRetryAttempt": 1, "latestRetryTrigger": "AutomatedStageRetry"}, meta
    cp.put_job_success_result(jobId=take("Maker")["id"])
    assert status("retry", retried)["status"] == "Succeeded"


if __name__ == "__main__":
    {"conditions": conditions}[sys.argv[1]]()
    print("ok")
