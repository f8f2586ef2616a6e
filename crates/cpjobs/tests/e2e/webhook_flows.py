"""Webhooks and the S3 source's change detection against `cpjobs serve`, with
boto3 as a user drives it (only `endpoint_url=` points at cpjobs) and POSTs
made as GitHub makes them (urllib, signed with the webhook's secret). Run by
tests/e2e/webhooks.rs as `python3 webhook_flows.py <scenario>`, with the
environment boto3_flows.py reads. Any failed check raises (exit 1).
"""

import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request

import boto3

from boto3_flows import CUSTOMER_ACCOUNT, ENDPOINT, KEYS, REGION, action, client, declaration, expect


def post(url, body, headers=None):
    """POSTs `body` (bytes) to `url`; answers (status, JSON body)."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def signed(secret, body):
    """GitHub's headers for `body` under `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": "push"}


def executions(cp, name):
    return cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]


def webhooks():
    cp = client("CUSTOMER")
    cp.create_custom_action_type(
        category="Source",
        provider="Git",
        version="1",
        configurationProperties=[{"name": "Branch", "required": True, "key": True, "secret": False}],
        inputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
        outputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
    )
    source = action("Checkout", "Custom", "Source", "Git", [], ["code"])
    source["configuration"] = {"Branch": "main"}
    build = action("Compile", "ThirdParty", "Build", "PartnerBuild", ["code"], ["out"])
    cp.create_pipeline(pipeline=declaration("hooked", [("Source", [source]), ("Build", [build])]))

    secret = "e2e-secret-token"
    definition = {
        "name": "gh",
        "targetPipeline": "hooked",
        "targetAction": "Checkout",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}],
        "authentication": "GITHUB_HMAC",
        "authenticationConfiguration": {"SecretToken": secret},
    }
    made = cp.put_webhook(webhook=definition, tags=[{"key": "team", "value": "ci"}])["webhook"]
    url, arn = made["url"], made["arn"]
    assert url.startswith(f"{ENDPOINT}/webhooks/{CUSTOMER_ACCOUNT}/"), url
    assert arn == f"arn:aws:codepipeline:{REGION}:{CUSTOMER_ACCOUNT}:webhook:gh", arn
    assert made["definition"]["authenticationConfiguration"] == {"SecretToken": "****"}, made

    # A push to main, signed with the secret: the pipeline starts.
    push = json.dumps({"ref": "refs/heads/main", "after": "0123abc"}).encode()
    status, answer = post(url, push, signed(secret, push))
    assert status == 200 and "pipelineExecutionId" in answer, (status, answer)
    got = cp.get_pipeline_execution(pipelineName="hooked", pipelineExecutionId=answer["pipelineExecutionId"])
    assert got["pipelineExecution"]["trigger"] == {"triggerType": "Webhook", "triggerDetail": arn}, got
    jobs = cp.poll_for_jobs(actionTypeId={"category": "Source", "owner": "Custom", "provider": "Git", "version": "1"})
    assert jobs["jobs"][0]["data"]["pipelineContext"]["pipelineExecutionId"] == answer["pipelineExecutionId"], jobs

    # A bad signature, none, and a push to another branch start nothing.
    status, answer = post(url, push, signed("not-the-secret", push))
    assert status == 401 and "signature" in answer["message"], (status, answer)
    status, answer = post(url, push)
    assert status == 401, (status, answer)
    dev = json.dumps({"ref": "refs/heads/dev"}).encode()
    status, answer = post(url, dev, signed(secret, dev))
    assert status == 200 and "pipelineExecutionId" not in answer and "filter 1" in answer["message"], answer
    status, answer = post(url[:-4] + "0000", push, signed(secret, push))
    assert status == 404, (status, answer)
    assert len(executions(cp, "hooked")) == 1

    # IP authentication: this test's POSTs come from 127.0.0.1.
    ip = {**definition, "name": "ip", "filters": [], "authentication": "IP"}
    ip["authenticationConfiguration"] = {"AllowedIPRange": "10.0.0.0/8"}
    far = cp.put_webhook(webhook=ip)["webhook"]["url"]
    status, answer = post(far, b"{}")
    assert status == 403, (status, answer)
    ip["authenticationConfiguration"] = {"AllowedIPRange": "127.0.0.0/8"}
    near = cp.put_webhook(webhook=ip)["webhook"]["url"]
    assert near == far, "a webhook put again keeps its URL"
    status, answer = post(near, b"{}")
    assert status == 200 and "pipelineExecutionId" in answer, (status, answer)
    assert len(executions(cp, "hooked")) == 2

    # Refusals.
    expect("PipelineNotFoundException", cp.put_webhook, webhook={**definition, "targetPipeline": "nope"})
    expect("ValidationException", cp.put_webhook, webhook={**definition, "targetAction": "Compile"})
    expect(
        "InvalidWebhookFilterPatternException",
        cp.put_webhook,
        webhook={**definition, "filters": [{"jsonPath": "$.ref", "matchEquals": "{Nope}"}]},
    )
    expect(
        "InvalidWebhookAuthenticationParametersException",
        cp.put_webhook,
        webhook={**definition, "authenticationConfiguration": {}},
    )

    # Listing, a page at a time; the secret never shows.
    listed = cp.list_webhooks()["webhooks"]
    assert [h["definition"]["name"] for h in listed] == ["gh", "ip"], listed
    gh = listed[0]
    assert gh["definition"]["authenticationConfiguration"]["SecretToken"] == "****", gh
    assert gh["lastTriggered"].year >= 2026, gh
    assert gh["tags"] == [{"key": "team", "value": "ci"}], gh
    pages = list(cp.get_paginator("list_webhooks").paginate(PaginationConfig={"PageSize": 1}))
    assert [[h["definition"]["name"] for h in p["webhooks"]] for p in pages] == [["gh"], ["ip"]], pages
    assert cp.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "ci"}]
    assert client("OTHER").list_webhooks()["webhooks"] == []

    # Registration is recorded; deleting ends the URL.
    cp.register_webhook_with_third_party(webhookName="gh")
    cp.deregister_webhook_with_third_party(webhookName="gh")
    expect("WebhookNotFoundException", cp.register_webhook_with_third_party, webhookName="nope")
    cp.delete_webhook(name="gh")
    cp.delete_webhook(name="gh")
    status, answer = post(url, push, signed(secret, push))
    assert status == 404, (status, answer)
    assert [h["definition"]["name"] for h in cp.list_webhooks()["webhooks"]] == ["ip"]
    print("ok")


def wait_for(what, check, seconds=20):
    """Polls `check` until it answers something truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out = check()
        if out:
            return out
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def s3_source_changes():
    cp = client("CUSTOMER")
    key, secret = KEYS["CUSTOMER"]
    s3 = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION).client(
        "s3", endpoint_url=ENDPOINT
    )
    s3.create_bucket(Bucket="watched-sources")
    cp.create_custom_action_type(
        category="Build",
        provider="Packer",
        version="1",
        inputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
        outputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
    )

    def pipeline(name, poll):
        source = action("Get", "AWS", "Source", "S3", [], ["code"])
        source["configuration"] = {"S3Bucket": "watched-sources", "S3ObjectKey": "app.zip"}
        if poll is not None:
            source["configuration"]["PollForSourceChanges"] = poll
        build = action("Pack", "Custom", "Build", "Packer", ["code"], [])
        return declaration(name, [("Source", [source]), ("Build", [build])])

    cp.create_pipeline(pipeline=pipeline("watched", None))
    cp.create_pipeline(pipeline=pipeline("quiet", "false"))
    assert executions(cp, "watched") == []

    # A PUT of a new version starts the watching pipeline, with that version's ETag.
    etag = s3.put_object(Bucket="watched-sources", Key="app.zip", Body=b"version 1")["ETag"].strip('"')

    def revisions():
        return [e["sourceRevisions"][0]["revisionId"] for e in executions(cp, "watched") if e.get("sourceRevisions")]

    assert wait_for("an execution with the object's ETag", revisions) == [etag]
    first = executions(cp, "watched")[0]
    assert first["trigger"] == {"triggerType": "PollForSourceChanges", "triggerDetail": "Get"}, first
    jobs = cp.poll_for_jobs(actionTypeId={"category": "Build", "owner": "Custom", "provider": "Packer", "version": "1"})
    assert jobs["jobs"][0]["data"]["inputArtifacts"][0]["revision"] == etag, jobs

    # A completed multipart upload is a new version too.
    upload = s3.create_multipart_upload(Bucket="watched-sources", Key="app.zip")["UploadId"]
    part = s3.upload_part(Bucket="watched-sources", Key="app.zip", UploadId=upload, PartNumber=1, Body=b"version 2")
    done = s3.complete_multipart_upload(
        Bucket="watched-sources",
        Key="app.zip",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    etag2 = done["ETag"].strip('"')
    assert wait_for("a second execution", lambda: len(revisions()) == 2 and revisions()) == [etag2, etag]

    # Another object, and a source that does not poll, start nothing.
    s3.put_object(Bucket="watched-sources", Key="other.zip", Body=b"not watched")
    time.sleep(1)
    assert len(executions(cp, "watched")) == 2
    assert executions(cp, "quiet") == []
    print("ok")


if __name__ == "__main__":
    {"webhooks": webhooks, "s3_source_changes": s3_source_changes}[sys.argv[1]]()
