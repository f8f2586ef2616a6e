"""Eight job workers drain a few hundred executions through several
`cpjobs serve` nodes at once, while the test (tests/e2e/nodes.rs) kills one
node and restarts another. Run as `python3 nodes_load.py`, with in the
environment: CPJOBS_ENDPOINTS_FILE (the live nodes' endpoints, one a line,
rewritten by the test as nodes come and go), the accounts' keys, PIPELINES
and EXECUTIONS. Prints `progress N` as jobs finish, then `ok` once every
check passed; any failed check raises (exit 1).

Each request goes to a node picked at random among the live ones; a request
that finds its node gone (refused, reset, 5xx) is sent again to another. What
is checked: no job is acknowledged by two workers, every execution ends
Succeeded, every build reads exactly its source's output, and every artifact
reads back identical from every live node.
"""

import os
import random
import sys
import threading
import time
from collections import defaultdict

import boto3
import botocore.config
import botocore.exceptions
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpsession import URLLib3Session

ENDPOINTS_FILE = os.environ["CPJOBS_ENDPOINTS_FILE"]
REGION = os.environ["AWS_DEFAULT_REGION"]
KEYS = {who: (os.environ[f"{who}_KEY"], os.environ[f"{who}_SECRET"]) for who in ("CUSTOMER", "PARTNER")}
PIPELINES = int(os.environ["PIPELINES"])
EXECUTIONS = int(os.environ["EXECUTIONS"])
WORKERS = 8
DEADLINE = time.monotonic() + float(os.environ.get("DEADLINE_SECONDS", "90"))
# One attempt per call: a failed one is sent again here, to another node.
NO_RETRIES = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=20)
TRANSIENT = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.HTTPClientError,
)
HTTP = URLLib3Session(timeout=20)
# What the checks gather, under one lock.
LOCK = threading.Lock()
ACKED_BY = defaultdict(set)  # job id -> workers whose acknowledge won
WRITTEN = {}  # (bucket, key) -> content
PROBLEMS = []
DONE = [0]
STOP = threading.Event()


def endpoints():
    with open(ENDPOINTS_FILE) as f:
        live = [line.strip() for line in f if line.strip()]
    assert live, "no live node"
    return live


BOTO = boto3.Session(region_name=REGION)
CLIENTS = threading.local()


def client(who, endpoint):
    """A codepipeline client of `who` for `endpoint`, made once per thread."""
    cache = CLIENTS.__dict__.setdefault("cache", {})
    if (who, endpoint) not in cache:
        key, secret = KEYS[who]
        with LOCK:  # making clients from one session is not thread-safe
            cache[(who, endpoint)] = BOTO.client(
                "codepipeline",
                endpoint_url=endpoint,
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                config=NO_RETRIES,
            )
    return cache[(who, endpoint)]


class Failed(Exception):
    """An S3 answer that is not a success: (status, body)."""


def s3(endpoint, creds, method, bucket, key, body=b""):
    """One S3 request with job (or account) credentials, signed as botocore signs S3."""
    request = AWSRequest(method=method, url=f"{endpoint}/{bucket}/{key}", data=body)
    request.context["payload_signing_enabled"] = True
    S3SigV4Auth(creds, "s3", REGION).add_auth(request)
    response = HTTP.send(request.prepare())
    if response.status_code >= 500:
        raise botocore.exceptions.ConnectionClosedError(endpoint_url=endpoint)
    if response.status_code != 200:
        raise Failed(response.status_code, response.content)
    return response.content


def retried(fn):
    """`fn(endpoint)` on a random live node; sent again to another while nodes come and go."""
    last = None
    while time.monotonic() < DEADLINE:
        endpoint = random.choice(endpoints())
        try:
            return fn(endpoint)
        except TRANSIENT as e:
            last = e
        except ClientError as e:
            if e.response["ResponseMetadata"].get("HTTPStatusCode", 0) < 500:
                raise
            last = e
        time.sleep(0.05)
    raise AssertionError(f"no node answered: {last}")


def call(who, op, **kwargs):
    return retried(lambda endpoint: getattr(client(who, endpoint), op)(**kwargs))


def type_id(category, provider):
    return {"category": category, "owner": "ThirdParty", "provider": provider, "version": "1"}


def action(name, category, provider, inputs, outputs):
    return {
        "name": name,
        "actionTypeId": type_id(category, provider),
        "inputArtifacts": [{"name": n} for n in inputs],
        "outputArtifacts": [{"name": n} for n in outputs],
    }


def pipeline(name):
    return {
        "name": name,
        "roleArn": f"arn:aws:iam::{os.environ['CUSTOMER_ACCOUNT']}:role/pipeline",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "pipelineType": "V2",
        "executionMode": "PARALLEL",
        "stages": [
            {"name": "Source", "actions": [action("Fetch", "Source", "PartnerSource", [], ["src"])]},
            {"name": "Build", "actions": [action("Compile", "Build", "PartnerBuild", ["src"], ["out"])]},
        ],
    }


def content(kind, execution):
    # Builds are larger than one read chunk, sources are small.
    body = f"{kind} of {execution}\n"
    return (body * (2000 if kind == "build" else 1)).encode()


def work(worker, tokens):
    queues = [("Source", "PartnerSource"), ("Build", "PartnerBuild")]
    turn = worker
    while not STOP.is_set():
        assert time.monotonic() < DEADLINE, "the workers did not finish in time"
        category, provider = queues[turn % 2]
        turn += 1
        polled = call("PARTNER", "poll_for_third_party_jobs", actionTypeId=type_id(category, provider))
        if not polled["jobs"]:
            time.sleep(0.02)
            continue
        for job in polled["jobs"]:
            run_job(worker, job["jobId"], tokens[job["clientId"]], category)


def run_job(worker, job_id, token, category):
    details = call("PARTNER", "get_third_party_job_details", jobId=job_id, clientToken=token)
    data = details["jobDetails"]["data"]
    try:
        ack = call(
            "PARTNER",
            "acknowledge_third_party_job",
            jobId=job_id,
            nonce=details["jobDetails"]["nonce"],
            clientToken=token,
        )
    except ClientError as e:
        if e.response["Error"]["Code"] == "InvalidNonceException":
            # Its lease ended first: another worker has it now.
            return
        raise
    assert ack["status"] == "InProgress", ack
    with LOCK:
        ACKED_BY[job_id].add(worker)
    execution = data["pipelineContext"]["pipelineExecutionId"]
    c = data["artifactCredentials"]
    creds = Credentials(c["accessKeyId"], c["secretAccessKey"], c["sessionToken"])
    if category == "Build":
        loc = data["inputArtifacts"][0]["location"]["s3Location"]
        body = retried(lambda e: s3(e, creds, "GET", loc["bucketName"], loc["objectKey"]))
        if body != content("source", execution):
            with LOCK:
                PROBLEMS.append(f"build {job_id} read {body[:60]!r} as its source")
    out = data["outputArtifacts"][0]["location"]["s3Location"]
    body = content("source" if category == "Source" else "build", execution)
    retried(lambda e: s3(e, creds, "PUT", out["bucketName"], out["objectKey"], body))
    with LOCK:
        WRITTEN[(out["bucketName"], out["objectKey"])] = body
    try:
        call("PARTNER", "put_third_party_job_success_result", jobId=job_id, clientToken=token)
    except ClientError as e:
        # A result whose answer was lost with its node, sent again: the first one counted.
        if e.response["Error"]["Code"] != "InvalidJobStateException":
            raise
    with LOCK:
        DONE[0] += 1
        if DONE[0] % 20 == 0:
            print(f"progress {DONE[0]}", flush=True)


def statuses(name):
    found = []
    token = None
    while True:
        kwargs = {"pipelineName": name, "maxResults": 100}
        if token:
            kwargs["nextToken"] = token
        page = call("CUSTOMER", "list_pipeline_executions", **kwargs)
        found += [s["status"] for s in page["pipelineExecutionSummaries"]]
        token = page.get("nextToken")
        if not token:
            return found


def main():
    names = [f"load-{i}" for i in range(PIPELINES)]
    for name in names:
        call("CUSTOMER", "create_pipeline", pipeline=pipeline(name))
    for _ in range(EXECUTIONS):
        for name in names:
            call("CUSTOMER", "start_pipeline_execution", name=name)
    clients = call_list_clients()
    threads = [threading.Thread(target=guard, args=(w, clients)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    try:
        while True:
            assert time.monotonic() < DEADLINE, f"executions did not finish in time ({DONE[0]} jobs done)"
            assert not PROBLEMS, PROBLEMS
            all_statuses = [s for name in names for s in statuses(name)]
            assert "Failed" not in all_statuses, all_statuses
            if len(all_statuses) == PIPELINES * EXECUTIONS and set(all_statuses) == {"Succeeded"}:
                break
            time.sleep(0.5)
    finally:
        STOP.set()
        for t in threads:
            t.join()
    assert not PROBLEMS, PROBLEMS
    twice = {job: sorted(ws) for job, ws in ACKED_BY.items() if len(ws) > 1}
    assert not twice, f"jobs acknowledged by two workers: {twice}"
    assert len(ACKED_BY) == 2 * PIPELINES * EXECUTIONS, len(ACKED_BY)
    # Every artifact, read back through every live node.
    owner = Credentials(*KEYS["CUSTOMER"])
    for endpoint in endpoints():
        for (bucket, key), body in WRITTEN.items():
            got = s3(endpoint, owner, "GET", bucket, key)
            assert got == body, f"{bucket}/{key} through {endpoint}: {got[:60]!r}"
    print(f"checked {len(WRITTEN)} artifacts through {len(endpoints())} nodes", flush=True)
    print("ok", flush=True)


def guard(worker, clients):
    try:
        work(worker, clients)
    except BaseException as e:  # noqa: BLE001 - reported, then the run fails
        with LOCK:
            PROBLEMS.append(f"worker {worker}: {e!r}")
        STOP.set()


def call_list_clients():
    """cpjobs' ListThirdPartyClients, signed as botocore signs."""
    import json

    from botocore.auth import SigV4Auth

    key, secret = KEYS["PARTNER"]
    while True:
        endpoint = random.choice(endpoints())
        request = AWSRequest(
            method="POST",
            url=endpoint + "/",
            data=b"{}",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Cpjobs_20261129.ListThirdPartyClients",
            },
        )
        SigV4Auth(Credentials(key, secret), "codepipeline", REGION).add_auth(request)
        response = HTTP.send(request.prepare())
        if response.status_code == 200:
            return {c["clientId"]: c["clientToken"] for c in json.loads(response.content)["clients"]}
        assert time.monotonic() < DEADLINE, (response.status_code, response.content)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
