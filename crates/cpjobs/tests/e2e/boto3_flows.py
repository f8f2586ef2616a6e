"""boto3 against `cpjobs serve`: run by tests/e2e/boto3.rs as
`python3 boto3_flows.py <scenario>`, with the service's endpoint and the
accounts' keys in the environment. boto3 is used as a user would, with only
`endpoint_url=` pointing at cpjobs; cpjobs' own ListThirdPartyClients is sent
with botocore's SigV4Auth and HTTP session. Any failed check raises (exit 1).
"""

import datetime
import json
import os
import sys
import time

import boto3
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpsession import URLLib3Session

ENDPOINT = os.environ["CPJOBS_ENDPOINT"]
REGION = os.environ["AWS_DEFAULT_REGION"]
KEYS = {who: (os.environ[f"{who}_KEY"], os.environ[f"{who}_SECRET"]) for who in ("CUSTOMER", "PARTNER", "OTHER")}
CUSTOMER_ACCOUNT = os.environ["CUSTOMER_ACCOUNT"]


def client(who, secret=None):
    key, real_secret = KEYS[who]
    session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret or real_secret, region_name=REGION)
    return session.client("codepipeline", endpoint_url=ENDPOINT)


def expect(code, fn, **kwargs):
    """Calls fn, which must fail with `code`; returns the ClientError."""
    try:
        out = fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__}: expected {code}, got {got}: {e.response['Error']}"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        assert e.response["ResponseMetadata"]["RequestId"], e.response
        return e
    raise AssertionError(f"{fn.__name__} succeeded, expected {code}: {out}")


def list_clients(who):
    """cpjobs' extension operation, signed with botocore's SigV4Auth."""
    key, secret = KEYS[who]
    request = AWSRequest(
        method="POST",
        url=ENDPOINT + "/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Cpjobs_20261129.ListThirdPartyClients",
        },
    )
    SigV4Auth(Credentials(key, secret), "codepipeline", REGION).add_auth(request)
    response = URLLib3Session().send(request.prepare())
    assert response.status_code == 200, (response.status_code, response.content)
    return json.loads(response.content)["clients"]


def token_of(client_id):
    for c in list_clients("PARTNER"):
        if c["clientId"] == client_id:
            assert c["accountId"] == CUSTOMER_ACCOUNT, c
            return c["clientToken"]
    raise AssertionError(f"client {client_id} not listed")


def type_id(owner, category, provider):
    return {"category": category, "owner": owner, "provider": provider, "version": "1"}


def action(name, owner, category, provider, inputs, outputs):
    return {
        "name": name,
        "actionTypeId": type_id(owner, category, provider),
        "inputArtifacts": [{"name": n} for n in inputs],
        "outputArtifacts": [{"name": n} for n in outputs],
    }


def declaration(name, stages):
    return {
        "name": name,
        "roleArn": f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/pipeline",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": [{"name": n, "actions": a} for n, a in stages],
    }


def third_party_pipeline(name):
    return declaration(
        name,
        [
            ("Source", [action("Fetch", "ThirdParty", "Source", "PartnerSource", [], ["src"])]),
            ("Build", [action("Compile", "ThirdParty", "Build", "PartnerBuild", ["src"], ["out"])]),
        ],
    )


def start(cp, name):
    return cp.start_pipeline_execution(name=name)["pipelineExecutionId"]


def poll_one(partner, category, provider):
    jobs = partner.poll_for_third_party_jobs(actionTypeId=type_id("ThirdParty", category, provider), maxBatchSize=5)["jobs"]
    assert len(jobs) == 1, jobs
    return jobs[0]["jobId"], token_of(jobs[0]["clientId"])


def take(partner, category, provider):
    """Polls, reads the nonce from the details, acknowledges: (jobId, clientToken, data)."""
    job, token = poll_one(partner, category, provider)
    details = partner.get_third_party_job_details(jobId=job, clientToken=token)["jobDetails"]
    ack = partner.acknowledge_third_party_job(jobId=job, nonce=details["nonce"], clientToken=token)
    assert ack["status"] == "InProgress", ack
    return job, token, details["data"]


def third_party():
    cp, partner = client("CUSTOMER"), client("PARTNER")
    cp.create_pipeline(pipeline=third_party_pipeline("app"))
    execution = start(cp, "app")

    job, token, data = take(partner, "Source", "PartnerSource")
    assert data["pipelineContext"]["pipelineName"] == "app", data
    assert data["outputArtifacts"][0]["location"]["s3Location"]["bucketName"] == "artifact-bucket", data
    partner.put_third_party_job_success_result(
        jobId=job, clientToken=token, currentRevision={"revision": "rev-1", "changeIdentifier": "c1"}
    )

    job, token, data = take(partner, "Build", "PartnerBuild")
    assert data["inputArtifacts"][0]["revision"] == "rev-1", data
    partner.put_third_party_job_success_result(
        jobId=job,
        clientToken=token,
        continuationToken="step-2",
        executionDetails={"summary": "half way", "percentComplete": 50},
    )
    state = cp.get_pipeline_state(name="app")
    assert state["stageStates"][1]["actionStates"][0]["latestExecution"]["status"] == "InProgress", state
    next_job, next_token, data = take(partner, "Build", "PartnerBuild")
    assert next_job != job and next_token == token
    assert data["continuationToken"] == "step-2", data
    # Not only ASCII: the body is signed and validated as UTF-8, lengths count UTF-16 units.
    summary = "built \u2713 \u65e5\u672c \U0001f680"
    partner.put_third_party_job_success_result(
        jobId=next_job, clientToken=next_token, executionDetails={"summary": summary, "externalExecutionId": "run-1"}
    )

    state = cp.get_pipeline_state(name="app")
    latest = state["stageStates"][1]["actionStates"][0]["latestExecution"]
    assert latest["status"] == "Succeeded" and latest["summary"] == summary, state
    assert isinstance(latest["lastStatusChange"], datetime.datetime), latest
    got = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=execution)["pipelineExecution"]
    assert got["status"] == "Succeeded", got
    summaries = cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"]
    assert summaries[0]["pipelineExecutionId"] == execution and summaries[0]["status"] == "Succeeded", summaries


def custom():
    cp = client("CUSTOMER")
    for category, provider in (("Source", "MySource"), ("Build", "MyBuild")):
        cp.create_custom_action_type(
            category=category,
            provider=provider,
            version="1",
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 0 if category == "Source" else 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
        )
    listed = cp.list_action_types(actionOwnerFilter="Custom")["actionTypes"]
    assert {t["id"]["provider"] for t in listed} == {"MySource", "MyBuild"}, listed
    cp.create_pipeline(
        pipeline=declaration(
            "app",
            [
                ("Source", [action("Get", "Custom", "Source", "MySource", [], ["code"])]),
                ("Build", [action("Make", "Custom", "Build", "MyBuild", ["code"], ["bin"])]),
            ],
        )
    )

    def take_custom(category, provider):
        jobs = cp.poll_for_jobs(actionTypeId=type_id("Custom", category, provider))["jobs"]
        assert len(jobs) == 1, jobs
        assert cp.acknowledge_job(jobId=jobs[0]["id"], nonce=jobs[0]["nonce"])["status"] == "InProgress"
        return jobs[0]

    # A success with a continuation, then a failure: the action and the execution fail with its message.
    first = start(cp, "app")
    cp.put_job_success_result(jobId=take_custom("Source", "MySource")["id"])
    job = take_custom("Build", "MyBuild")
    details = cp.get_job_details(jobId=job["id"])["jobDetails"]
    assert details["accountId"] == CUSTOMER_ACCOUNT and details["data"]["inputArtifacts"][0]["name"] == "code", details
    cp.put_job_success_result(jobId=job["id"], continuationToken="more")
    job = take_custom("Build", "MyBuild")
    assert job["data"]["continuationToken"] == "more", job
    cp.put_job_failure_result(jobId=job["id"], failureDetails={"type": "JobFailed", "message": "linker crashed"})
    state = cp.get_pipeline_state(name="app")
    latest = state["stageStates"][1]["actionStates"][0]["latestExecution"]
    assert latest["status"] == "Failed" and latest["errorDetails"]["message"] == "linker crashed", state
    got = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=first)["pipelineExecution"]
    assert got["status"] == "Failed", got
    details = cp.list_action_executions(pipelineName="app", filter={"pipelineExecutionId": first})["actionExecutionDetails"]
    make = [d for d in details if d["actionName"] == "Make"][0]
    assert make["status"] == "Failed", make
    assert make["output"]["executionResult"]["errorDetails"]["message"] == "linker crashed", make

    # A second run succeeds.
    second = start(cp, "app")
    cp.put_job_success_result(jobId=take_custom("Source", "MySource")["id"])
    cp.put_job_success_result(jobId=take_custom("Build", "MyBuild")["id"])
    got = cp.get_pipeline_execution(pipelineName="app", pipelineExecutionId=second)["pipelineExecution"]
    assert got["status"] == "Succeeded", got


def refusals():
    """Run against a service with `dispatch_lease_seconds = 1`."""
    cp, partner, other = client("CUSTOMER"), client("PARTNER"), client("OTHER")
    cp.create_pipeline(pipeline=third_party_pipeline("app"))
    start(cp, "app")
    source = type_id("ThirdParty", "Source", "PartnerSource")

    # Another partner may not poll the partner's action type, nor touch its jobs.
    expect("ActionTypeNotFoundException", other.poll_for_third_party_jobs, actionTypeId=source)

    job, token = poll_one(partner, "Source", "PartnerSource")
    first = partner.get_third_party_job_details(jobId=job, clientToken=token)["jobDetails"]["nonce"]
    expect("InvalidNonceException", partner.acknowledge_third_party_job, jobId=job, nonce="not-the-nonce", clientToken=token)
    expect("InvalidClientTokenException", partner.get_third_party_job_details, jobId=job, clientToken="not-the-token")
    expect("InvalidClientTokenException", partner.acknowledge_third_party_job, jobId=job, nonce=first, clientToken="x" * 20)
    expect("JobNotFoundException", other.get_third_party_job_details, jobId=job, clientToken=token)
    expect("JobNotFoundException", cp.get_job_details, jobId=job)
    # Results need an acknowledged job.
    expect("InvalidJobStateException", partner.put_third_party_job_success_result, jobId=job, clientToken=token)

    # The 1 s lease ends: the old nonce is dead and the job is handed out again.
    time.sleep(1.3)
    expect("InvalidNonceException", partner.acknowledge_third_party_job, jobId=job, nonce=first, clientToken=token)
    again, _ = poll_one(partner, "Source", "PartnerSource")
    assert again == job, (again, job)
    # Acknowledged at once: the new lease is only 1 s long.
    second = partner.get_third_party_job_details(jobId=job, clientToken=token)["jobDetails"]["nonce"]
    assert partner.acknowledge_third_party_job(jobId=job, nonce=second, clientToken=token)["status"] == "InProgress"
    assert second != first
    expect("InvalidNonceException", partner.acknowledge_third_party_job, jobId=job, nonce=first, clientToken=token)
    # Acknowledged, the job outlives the lease.
    time.sleep(1.3)
    assert partner.poll_for_third_party_jobs(actionTypeId=source)["jobs"] == []
    assert partner.acknowledge_third_party_job(jobId=job, nonce=second, clientToken=token)["status"] == "InProgress"
    partner.put_third_party_job_success_result(jobId=job, clientToken=token)
    # A result on a finished job.
    expect("InvalidJobStateException", partner.put_third_party_job_success_result, jobId=job, clientToken=token)
    expect(
        "InvalidJobStateException",
        partner.put_third_party_job_failure_result,
        jobId=job,
        clientToken=token,
        failureDetails={"type": "JobFailed", "message": "too late"},
    )

    # Identity: a wrong secret, an unknown key, a clock 20 minutes behind.
    err = expect("InvalidSignatureException", client("PARTNER", secret="wrong-secret").poll_for_third_party_jobs, actionTypeId=source)
    assert "signature" in err.response["Error"]["Message"].lower(), err.response
    stranger = boto3.Session(aws_access_key_id="AKIANOBODY0000000000", aws_secret_access_key="x", region_name=REGION)
    expect("UnrecognizedClientException", stranger.client("codepipeline", endpoint_url=ENDPOINT).list_pipelines)
    real_now = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: real_now(*a, **k) - datetime.timedelta(minutes=20)
    try:
        err = expect("InvalidSignatureException", partner.poll_for_third_party_jobs, actionTypeId=source)
        assert "Signature expired" in err.response["Error"]["Message"], err.response
    finally:
        botocore.auth.get_current_datetime = real_now
    # Nothing a refused request did changed the service: the build job is there for the partner.
    build, build_token, _ = take(partner, "Build", "PartnerBuild")
    partner.put_third_party_job_success_result(jobId=build, clientToken=build_token)
    assert cp.list_pipeline_executions(pipelineName="app")["pipelineExecutionSummaries"][0]["status"] == "Succeeded"


def secrets_and_round_trip():
    """Issue 8 items 7 and 13, as a boto3 user meets them. Run against a
    service whose operator lists the owner among the polling accounts and
    allows one pipeline per account."""
    cp, partner = client("CUSTOMER"), client("PARTNER")
    build = type_id("ThirdParty", "Build", "PartnerBuild")
    # The documented round trip: get, edit, update with what get gave.
    declared = partner.get_action_type(**build)["actionType"]
    assert declared["executor"]["configuration"]["jobWorkerExecutorConfiguration"]["pollingAccounts"], declared
    partner.update_action_type(actionType=declared)
    declared["properties"] = [{"name": "ApiKey", "optional": False, "key": False, "noEcho": True, "queryable": False}]
    partner.update_action_type(actionType=declared)
    again = partner.get_action_type(**build)["actionType"]
    assert again["properties"] == declared["properties"], again
    changed = json.loads(json.dumps(again))
    changed["executor"]["configuration"]["jobWorkerExecutorConfiguration"]["pollingAccounts"].append(CUSTOMER_ACCOUNT)
    expect("ValidationException", partner.update_action_type, actionType=changed)

    secret = "partner-api-key-0123456789"
    pipeline = third_party_pipeline("app")
    pipeline["stages"][1]["actions"][0]["configuration"] = {"ApiKey": secret}
    created = cp.create_pipeline(pipeline=pipeline)
    assert created["pipeline"]["stages"][1]["actions"][0]["configuration"] == {"ApiKey": "****"}, created
    got = cp.get_pipeline(name="app")
    assert got["pipeline"]["stages"][1]["actions"][0]["configuration"] == {"ApiKey": "****"}, got
    # The quota (one pipeline per account here) answers LimitExceededException.
    expect("LimitExceededException", cp.create_pipeline, pipeline=dict(pipeline, name="second"))
    # Sent back as it came, the mask keeps the secret.
    got["pipeline"]["roleArn"] = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/other"
    updated = cp.update_pipeline(pipeline=got["pipeline"])
    assert secret not in json.dumps(updated, default=str), updated

    start(cp, "app")
    job, token, _ = take(partner, "Source", "PartnerSource")
    partner.put_third_party_job_success_result(jobId=job, clientToken=token)
    job, token, data = take(partner, "Build", "PartnerBuild")
    assert data["actionConfiguration"]["configuration"] == {"ApiKey": secret}, data
    partner.put_third_party_job_success_result(jobId=job, clientToken=token)
    actions = cp.list_action_executions(pipelineName="app")["actionExecutionDetails"]
    compile_ = [d for d in actions if d["actionName"] == "Compile"][0]
    assert compile_["input"]["configuration"] == {"ApiKey": "****"}, compile_
    for answer in (
        actions,
        cp.get_pipeline(name="app"),
        cp.get_pipeline(name="app", version=1),
        cp.get_pipeline_state(name="app"),
    ):
        assert secret not in json.dumps(answer, default=str), answer


def variables():
    """Issue 10: a variable set at start, the S3 source's ETag and a build's
    output variable reach later jobs resolved, and are reported."""
    cp = client("CUSTOMER")
    key, secret = KEYS["CUSTOMER"]
    s3 = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION).client(
        "s3", endpoint_url=ENDPOINT
    )
    s3.create_bucket(Bucket="var-sources")
    etag = s3.put_object(Bucket="var-sources", Key="src.zip", Body=b"source v1")["ETag"].strip('"')
    for category, provider, prop in (("Build", "Compiler", "Project"), ("Deploy", "Shipper", "Target")):
        cp.create_custom_action_type(
            category=category,
            provider=provider,
            version="1",
            configurationProperties=[{"name": prop, "required": True, "key": False, "secret": False}],
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
        )
    source = action("Get", "AWS", "Source", "S3", [], ["code"])
    source["configuration"] = {"S3Bucket": "var-sources", "S3ObjectKey": "src.zip", "PollForSourceChanges": "false"}
    source["namespace"] = "SourceVariables"
    build = action("Make", "Custom", "Build", "Compiler", ["code"], [])
    build["configuration"] = {"Project": "#{variables.Env}-#{SourceVariables.ETag}"}
    build["namespace"] = "BuildVariables"
    deploy = action("Ship", "Custom", "Deploy", "Shipper", [], [])
    deploy["configuration"] = {"Target": "#{BuildVariables.Image}@#{codepipeline.PipelineExecutionId}"}
    decl = declaration("vars", [("Source", [source]), ("Build", [build]), ("Deploy", [deploy])])
    decl["variables"] = [{"name": "Env", "defaultValue": "dev", "description": "where it goes"}]
    expect("ValidationException", cp.create_pipeline, pipeline=decl)  # variables need V2
    decl["pipelineType"] = "V2"
    cp.create_pipeline(pipeline=decl)

    execution = cp.start_pipeline_execution(name="vars", variables=[{"name": "Env", "value": "prod"}])[
        "pipelineExecutionId"
    ]

    def take_custom(category, provider):
        for _ in range(50):  # the S3 source's copy runs before the start answers; the sweep is a fallback
            jobs = cp.poll_for_jobs(actionTypeId=type_id("Custom", category, provider))["jobs"]
            if jobs:
                assert cp.acknowledge_job(jobId=jobs[0]["id"], nonce=jobs[0]["nonce"])["status"] == "InProgress"
                return jobs[0]
            time.sleep(0.1)
        raise AssertionError(f"no {provider} job")

    job = take_custom("Build", "Compiler")
    assert job["data"]["actionConfiguration"]["configuration"] == {"Project": f"prod-{etag}"}, job
    cp.put_job_success_result(jobId=job["id"], outputVariables={"Image": "img-9"})
    job = take_custom("Deploy", "Shipper")
    assert job["data"]["actionConfiguration"]["configuration"] == {"Target": f"img-9@{execution}"}, job
    cp.put_job_success_result(jobId=job["id"])

    got = cp.get_pipeline_execution(pipelineName="vars", pipelineExecutionId=execution)["pipelineExecution"]
    assert got["status"] == "Succeeded", got
    assert got["variables"] == [{"name": "Env", "resolvedValue": "prod"}], got
    details = cp.list_action_executions(pipelineName="vars", filter={"pipelineExecutionId": execution})
    by_name = {d["actionName"]: d for d in details["actionExecutionDetails"]}
    assert by_name["Get"]["output"]["outputVariables"]["ETag"] == etag, by_name["Get"]
    assert by_name["Make"]["input"]["configuration"] == build["configuration"], by_name["Make"]
    assert by_name["Make"]["input"]["resolvedConfiguration"] == {"Project": f"prod-{etag}"}, by_name["Make"]
    assert by_name["Make"]["output"]["outputVariables"] == {"Image": "img-9"}, by_name["Make"]
    assert by_name["Ship"]["input"]["resolvedConfiguration"] == {"Target": f"img-9@{execution}"}, by_name["Ship"]

    # A reference to nothing upstream is refused when the pipeline is saved.
    deploy["configuration"] = {"Target": "#{Nowhere.Image}"}
    expect("InvalidActionDeclarationException", cp.update_pipeline, pipeline=decl)


def revisions():
    """Issue 10 item 6: a revision put for a partner's source starts an execution that carries it
    (job data, artifactRevisions, state); the same revision starts nothing; action executions
    have no deploy targets."""
    cp = client("CUSTOMER")
    partner = client("PARTNER")
    cp.create_pipeline(pipeline=third_party_pipeline("rev"))
    created = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)
    revision = {"revisionId": "sha-1", "revisionChangeId": "push-1", "created": created}
    where = {"pipelineName": "rev", "stageName": "Source", "actionName": "Fetch"}
    out = cp.put_action_revision(actionRevision=revision, **where)
    assert out["newRevision"] is True, out
    execution = out["pipelineExecutionId"]
    job, token, data = take(partner, "Source", "PartnerSource")
    assert data["pipelineContext"]["pipelineExecutionId"] == execution, data
    assert data["outputArtifacts"][0]["revision"] == "sha-1", data
    partner.put_third_party_job_success_result(jobId=job, clientToken=token)
    got = cp.get_pipeline_execution(pipelineName="rev", pipelineExecutionId=execution)["pipelineExecution"]
    assert got["trigger"]["triggerType"] == "PutActionRevision", got
    rev = got["artifactRevisions"][0]
    assert (rev["name"], rev["revisionId"], rev["revisionChangeIdentifier"], rev["created"]) == (
        "src",
        "sha-1",
        "push-1",
        created,
    ), got
    state = cp.get_pipeline_state(name="rev")
    current = state["stageStates"][0]["actionStates"][0]["currentRevision"]
    assert current == revision, current

    again = cp.put_action_revision(actionRevision=revision, **where)
    assert (again["newRevision"], again["pipelineExecutionId"]) == (False, execution), again
    assert len(cp.list_pipeline_executions(pipelineName="rev")["pipelineExecutionSummaries"]) == 1
    expect("ActionNotFoundException", cp.put_action_revision, actionRevision=revision, **{**where, "actionName": "Nope"})
    expect("PipelineNotFoundException", client("OTHER").put_action_revision, actionRevision=revision, **where)

    actions = cp.list_action_executions(pipelineName="rev")["actionExecutionDetails"]
    assert len(actions) == 2, actions
    for a in actions:
        out = cp.list_deploy_action_execution_targets(pipelineName="rev", actionExecutionId=a["actionExecutionId"])
        assert out["targets"] == [], out
    missing = "00000000-0000-0000-0000-000000000000"
    expect("ActionExecutionNotFoundException", cp.list_deploy_action_execution_targets, actionExecutionId=missing)
    expect(
        "InvalidNextTokenException",
        cp.list_deploy_action_execution_targets,
        actionExecutionId=actions[0]["actionExecutionId"],
        nextToken="abc",
    )


if __name__ == "__main__":
    scenarios = {
        "third_party": third_party,
        "custom": custom,
        "refusals": refusals,
        "secrets_and_round_trip": secrets_and_round_trip,
        "variables": variables,
        "revisions": revisions,
    }
    scenarios[sys.argv[1]]()
    print("ok")
