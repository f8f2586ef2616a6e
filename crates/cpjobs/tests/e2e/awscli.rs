//! AWS CLI v1 (`aws`, awscli 1.45.11) against `cpjobs serve`: the environment
//! is emptied except PATH, an empty HOME, the access key and the region; the
//! only option added to what a user types is `--endpoint-url`.

use std::collections::HashMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{
    CUSTOMER, Keys, PARTNER, REGION, Server, TempDir, config, custom_pipeline, custom_type, gated_pipeline,
    signed_call, third_party_pipeline,
};

/// Runs `aws codepipeline <args> --endpoint-url E` as `keys`; the parsed JSON
/// output (`Null` when the command prints nothing), or stderr when it fails.
pub(crate) fn aws(server: &Server, home: &TempDir, keys: Keys, args: &[&str]) -> Result<Value, String> {
    let out = Command::new("aws")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home.0)
        .env("AWS_ACCESS_KEY_ID", keys.key)
        .env("AWS_SECRET_ACCESS_KEY", keys.secret)
        .env("AWS_DEFAULT_REGION", REGION)
        .arg("codepipeline")
        .args(args)
        .args(["--endpoint-url", &server.endpoint])
        .output()
        .expect("aws (awscli 1.45.11) is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        assert_eq!(out.status.code(), Some(255), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    if stdout.trim().is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws {args:?} printed {stdout:?}: {e}")))
}

#[track_caller]
pub(crate) fn ok(server: &Server, home: &TempDir, keys: Keys, args: &[&str]) -> Value {
    aws(server, home, keys, args).unwrap_or_else(|e| panic!("aws {args:?} failed: {e}"))
}

/// `cpjobs clients --output json` as the partner, through the AWS credential
/// chain of the same environment: every client id with its token.
fn tokens_via_cpjobs_clients(server: &Server, home: &TempDir) -> HashMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .env_clear()
        .env("HOME", &home.0)
        .env("AWS_ACCESS_KEY_ID", PARTNER.key)
        .env("AWS_SECRET_ACCESS_KEY", PARTNER.secret)
        .env("AWS_DEFAULT_REGION", REGION)
        .args(["clients", "--endpoint-url", &server.endpoint])
        .output()
        .expect("cpjobs runs");
    assert!(out.status.success(), "cpjobs clients: {}", String::from_utf8_lossy(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    listed["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| (c["clientId"].as_str().expect("id").to_owned(), c["clientToken"].as_str().expect("token").to_owned()))
        .collect()
}

pub(crate) fn file(home: &TempDir, name: &str, value: &Value) -> String {
    let path = home.join(name);
    std::fs::write(&path, value.to_string()).expect("written");
    format!("file://{}", path.display())
}

fn type_id(owner: &str, category: &str, provider: &str) -> String {
    format!("category={category},owner={owner},provider={provider},version=1")
}

/// Polls one third-party job of `provider`, takes its token from `tokens`
/// (listed by `cpjobs clients`), its nonce from get-third-party-job-details,
/// and acknowledges it.
fn take_third_party(
    server: &Server,
    home: &TempDir,
    tokens: &HashMap<String, String>,
    category: &str,
    provider: &str,
) -> (String, String, Value) {
    let tid = type_id("ThirdParty", category, provider);
    let polled = ok(server, home, PARTNER, &["poll-for-third-party-jobs", "--action-type-id", &tid]);
    let job = &polled["jobs"][0];
    let id = job["jobId"].as_str().expect("a job").to_owned();
    let token = tokens[job["clientId"].as_str().expect("clientId")].clone();
    let details =
        ok(server, home, PARTNER, &["get-third-party-job-details", "--job-id", &id, "--client-token", &token]);
    let nonce = details["jobDetails"]["nonce"].as_str().expect("nonce").to_owned();
    let ack = ok(
        server,
        home,
        PARTNER,
        &["acknowledge-third-party-job", "--job-id", &id, "--nonce", &nonce, "--client-token", &token],
    );
    assert_eq!(ack["status"], "InProgress");
    (id, token, details["jobDetails"]["data"].clone())
}

/// A call made without the CLI (for the stages a test does not look at).
pub(crate) fn raw(server: &Server, keys: Keys, op: &str, body: Value) -> Value {
    let a = signed_call(&server.endpoint, keys, &format!("CodePipeline_20150709.{op}"), &body);
    assert_eq!(a.status, 200, "{op}: {}", a.body);
    a.body
}

/// Runs the source stage's job (third-party `PartnerSource` with `tokens`, or
/// the customer's custom `MySource`) to success with revision `rev-1`, without the CLI.
pub(crate) fn finish_source(server: &Server, tokens: Option<&HashMap<String, String>>) {
    let revision = json!({"revision": "rev-1", "changeIdentifier": "change-1"});
    match tokens {
        Some(tokens) => {
            let id = json!({"category": "Source", "owner": "ThirdParty", "provider": "PartnerSource", "version": "1"});
            let polled = raw(server, PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": id}));
            let job = polled["jobs"][0]["jobId"].clone();
            let token = tokens[polled["jobs"][0]["clientId"].as_str().expect("client")].clone();
            let details = raw(server, PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}));
            let nonce = details["jobDetails"]["nonce"].clone();
            let ack = json!({"jobId": job, "nonce": nonce, "clientToken": token});
            raw(server, PARTNER, "AcknowledgeThirdPartyJob", ack);
            let done = json!({"jobId": job, "clientToken": token, "currentRevision": revision});
            raw(server, PARTNER, "PutThirdPartyJobSuccessResult", done);
        }
        None => {
            let id = json!({"category": "Source", "owner": "Custom", "provider": "MySource", "version": "1"});
            let polled = raw(server, CUSTOMER, "PollForJobs", json!({"actionTypeId": id}));
            let job = &polled["jobs"][0];
            raw(server, CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}));
            raw(server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"], "currentRevision": revision}));
        }
    }
}

#[test]
fn aws_cli_third_party_flow_with_continuation() {
    let home = TempDir::new("awscli-tp");
    let mut server = Server::start(&home.0, &config(None));
    let decl = file(&home, "pipeline.json", &third_party_pipeline("app"));
    let created = ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &decl]);
    assert_eq!(created["pipeline"]["version"], 1);
    let tokens = tokens_via_cpjobs_clients(&server, &home);
    let exec = ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "app"])["pipelineExecutionId"]
        .as_str()
        .expect("execution id")
        .to_owned();

    finish_source(&server, Some(&tokens));

    let (build, btoken, data) = take_third_party(&server, &home, &tokens, "Build", "PartnerBuild");
    assert_eq!(data["pipelineContext"]["pipelineExecutionId"], exec.as_str());
    assert_eq!(data["inputArtifacts"][0]["name"], "src");
    assert_eq!(data["inputArtifacts"][0]["revision"], "rev-1");
    ok(
        &server,
        &home,
        PARTNER,
        &[
            "put-third-party-job-success-result",
            "--job-id",
            &build,
            "--client-token",
            &btoken,
            "--continuation-token",
            "step-2",
            "--execution-details",
            "summary=half way,percentComplete=50",
        ],
    );
    let (next, ntoken, ndata) = take_third_party(&server, &home, &tokens, "Build", "PartnerBuild");
    assert_ne!(next, build, "a continuation is a new job");
    assert_eq!(ndata["continuationToken"], "step-2");
    ok(
        &server,
        &home,
        PARTNER,
        &[
            "put-third-party-job-success-result",
            "--job-id",
            &next,
            "--client-token",
            &ntoken,
            "--execution-details",
            "summary=built,externalExecutionId=run-7,percentComplete=100",
        ],
    );

    let state = ok(&server, &home, CUSTOMER, &["get-pipeline-state", "--name", "app"]);
    let build_action = &state["stageStates"][1]["actionStates"][0];
    assert_eq!(build_action["latestExecution"]["status"], "Succeeded", "{state}");
    assert_eq!(build_action["latestExecution"]["summary"], "built");
    assert_eq!(build_action["latestExecution"]["externalExecutionId"], "run-7");
    let got = ok(
        &server,
        &home,
        CUSTOMER,
        &["get-pipeline-execution", "--pipeline-name", "app", "--pipeline-execution-id", &exec],
    );
    assert_eq!(got["pipelineExecution"]["status"], "Succeeded");
    assert_eq!(got["pipelineExecution"]["artifactRevisions"][0]["revisionId"], "rev-1");

    server.stop();
}

#[test]
fn aws_cli_custom_action_flow() {
    let home = TempDir::new("awscli-custom");
    let mut server = Server::start(&home.0, &config(None));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    let input = file(&home, "type.json", &custom_type("Build", "MyBuild"));
    let created = ok(&server, &home, CUSTOMER, &["create-custom-action-type", "--cli-input-json", &input]);
    assert_eq!(created["actionType"]["id"]["owner"], "Custom");
    let decl = file(&home, "pipeline.json", &custom_pipeline("app"));
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &decl]);
    let exec = ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "app"])["pipelineExecutionId"]
        .as_str()
        .expect("execution id")
        .to_owned();
    finish_source(&server, None);

    // Custom polls return the whole job, nonce included.
    let take = |provider: &str, category: &str| -> Value {
        let tid = type_id("Custom", category, provider);
        let polled =
            ok(&server, &home, CUSTOMER, &["poll-for-jobs", "--action-type-id", &tid, "--max-batch-size", "5"]);
        let jobs = polled["jobs"].as_array().expect("jobs");
        assert_eq!(jobs.len(), 1, "{polled}");
        let job = jobs[0].clone();
        assert_eq!(job["accountId"], CUSTOMER.account);
        let (id, nonce) = (job["id"].as_str().expect("id"), job["nonce"].as_str().expect("nonce"));
        let ack = ok(&server, &home, CUSTOMER, &["acknowledge-job", "--job-id", id, "--nonce", nonce]);
        assert_eq!(ack["status"], "InProgress");
        job
    };
    let build = take("MyBuild", "Build");
    let bid = build["id"].as_str().expect("id");
    let details = ok(&server, &home, CUSTOMER, &["get-job-details", "--job-id", bid]);
    assert_eq!(details["jobDetails"]["data"]["pipelineContext"]["stage"]["name"], "Build");
    assert_eq!(details["jobDetails"]["accountId"], CUSTOMER.account);
    ok(&server, &home, CUSTOMER, &["put-job-success-result", "--job-id", bid, "--continuation-token", "more"]);
    let next = take("MyBuild", "Build");
    assert_eq!(next["data"]["continuationToken"], "more");
    ok(&server, &home, CUSTOMER, &["put-job-success-result", "--job-id", next["id"].as_str().expect("id")]);

    let state = ok(&server, &home, CUSTOMER, &["get-pipeline-state", "--name", "app"]);
    assert_eq!(state["stageStates"][1]["actionStates"][0]["latestExecution"]["status"], "Succeeded", "{state}");
    let got = ok(
        &server,
        &home,
        CUSTOMER,
        &["get-pipeline-execution", "--pipeline-name", "app", "--pipeline-execution-id", &exec],
    );
    assert_eq!(got["pipelineExecution"]["status"], "Succeeded");
    server.stop();
}

/// Tags as tooling sets and reads them: at creation, added, overwritten,
/// listed across pages (the CLI pages with `--page-size`), removed, refused
/// when reserved, and gone with a deleted pipeline.
#[test]
fn aws_cli_tags_a_pipeline() {
    let home = TempDir::new("awscli-tags");
    let mut server = Server::start(&home.0, &config(None));
    let decl = file(&home, "pipeline.json", &third_party_pipeline("app"));
    let create = ["create-pipeline", "--pipeline", &decl, "--tags", "key=team,value=ci", "key=env,value=prod"];
    let created = ok(&server, &home, CUSTOMER, &create);
    assert_eq!(created["tags"], json!([{"key": "team", "value": "ci"}, {"key": "env", "value": "prod"}]));
    let got = ok(&server, &home, CUSTOMER, &["get-pipeline", "--name", "app"]);
    let arn = got["metadata"]["pipelineArn"].as_str().expect("pipeline ARN").to_owned();
    let list = |extra: &[&str]| {
        let mut args = vec!["list-tags-for-resource", "--resource-arn", &arn];
        args.extend_from_slice(extra);
        ok(&server, &home, CUSTOMER, &args)["tags"].clone()
    };
    assert_eq!(list(&[]), json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "ci"}]));

    ok(
        &server,
        &home,
        CUSTOMER,
        &["tag-resource", "--resource-arn", &arn, "--tags", "key=team,value=cd", "key=cost,value=42"],
    );
    let all = json!([{"key": "cost", "value": "42"}, {"key": "env", "value": "prod"}, {"key": "team", "value": "cd"}]);
    assert_eq!(list(&[]), all);
    assert_eq!(list(&["--page-size", "1"]), all, "one tag a page, every page read");
    ok(&server, &home, CUSTOMER, &["untag-resource", "--resource-arn", &arn, "--tag-keys", "env", "absent"]);
    assert_eq!(list(&[]), json!([{"key": "cost", "value": "42"}, {"key": "team", "value": "cd"}]));

    let refused =
        aws(&server, &home, CUSTOMER, &["tag-resource", "--resource-arn", &arn, "--tags", "key=aws:x,value=y"])
            .expect_err("a reserved key");
    assert!(refused.contains("InvalidTagsException"), "{refused}");
    let elsewhere = arn.replace(REGION, "eu-west-3");
    let refused = aws(&server, &home, CUSTOMER, &["list-tags-for-resource", "--resource-arn", &elsewhere])
        .expect_err("another region's ARN");
    assert!(refused.contains("InvalidArnException"), "{refused}");
    let refused = aws(&server, &home, PARTNER, &["list-tags-for-resource", "--resource-arn", &arn])
        .expect_err("another account's pipeline");
    assert!(refused.contains("ResourceNotFoundException"), "{refused}");

    ok(&server, &home, CUSTOMER, &["delete-pipeline", "--name", "app"]);
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &decl]);
    assert_eq!(list(&[]), json!([]), "a recreated pipeline starts untagged");
    server.stop();
}

/// A Manual approval answered with the token from get-pipeline-state, then a
/// third-party failure that fails the action and the execution with its message.
#[test]
fn aws_cli_approval_then_failure() {
    let home = TempDir::new("awscli-gate");
    let mut server = Server::start(&home.0, &config(None));
    raw(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "p.json", &gated_pipeline("gated"))]);
    let tokens = tokens_via_cpjobs_clients(&server, &home);
    let exec = ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "gated"])["pipelineExecutionId"]
        .as_str()
        .expect("execution id")
        .to_owned();
    finish_source(&server, None);

    let state = ok(&server, &home, CUSTOMER, &["get-pipeline-state", "--name", "gated"]);
    let gate = &state["stageStates"][1]["actionStates"][0]["latestExecution"];
    assert_eq!(gate["status"], "InProgress", "{state}");
    let token = gate["token"].as_str().expect("approval token").to_owned();
    let answered = ok(
        &server,
        &home,
        CUSTOMER,
        &[
            "put-approval-result",
            "--pipeline-name",
            "gated",
            "--stage-name",
            "Gate",
            "--action-name",
            "Approve",
            "--result",
            "summary=looks good,status=Approved",
            "--token",
            &token,
        ],
    );
    assert!(answered["approvedAt"].is_number() || answered["approvedAt"].is_string(), "{answered}");

    let (job, ctoken, _) = take_third_party(&server, &home, &tokens, "Build", "PartnerBuild");
    ok(
        &server,
        &home,
        PARTNER,
        &[
            "put-third-party-job-failure-result",
            "--job-id",
            &job,
            "--client-token",
            &ctoken,
            "--failure-details",
            "type=JobFailed,message=compiler exploded,externalExecutionId=run-9",
        ],
    );
    let state = ok(&server, &home, CUSTOMER, &["get-pipeline-state", "--name", "gated"]);
    let build = &state["stageStates"][2];
    assert_eq!(build["latestExecution"]["status"], "Failed", "{state}");
    assert_eq!(build["actionStates"][0]["latestExecution"]["status"], "Failed");
    assert_eq!(build["actionStates"][0]["latestExecution"]["errorDetails"]["message"], "compiler exploded");
    let got = ok(
        &server,
        &home,
        CUSTOMER,
        &["get-pipeline-execution", "--pipeline-name", "gated", "--pipeline-execution-id", &exec],
    );
    assert_eq!(got["pipelineExecution"]["status"], "Failed");
    let actions = ok(
        &server,
        &home,
        CUSTOMER,
        &["list-action-executions", "--pipeline-name", "gated", "--filter", &format!("pipelineExecutionId={exec}")],
    );
    let compile = actions["actionExecutionDetails"]
        .as_array()
        .expect("details")
        .iter()
        .find(|d| d["actionName"] == "Compile")
        .expect("the build action is listed")
        .clone();
    assert_eq!(compile["status"], "Failed");
    assert_eq!(compile["output"]["executionResult"]["errorDetails"]["message"], "compiler exploded", "{compile}");
    assert_eq!(compile["output"]["executionResult"]["externalExecutionId"], "run-9");
    server.stop();
}

/// AWS CLI's paginators (`--page-size`, `--max-items`, `--starting-token`)
/// over the service's `nextToken`s: every item once, in order.
#[test]
fn aws_cli_paginates_pipelines_and_executions() {
    let home = TempDir::new("awscli-pages");
    let mut server = Server::start(&home.0, &config(None));
    let call = |op: &str, body: Value| raw(&server, CUSTOMER, op, body);
    for i in 0..12 {
        let mut decl = third_party_pipeline(&format!("p-{i:02}"));
        if i == 0 {
            decl["pipelineType"] = json!("V2");
            decl["executionMode"] = json!("PARALLEL");
        }
        call("CreatePipeline", json!({"pipeline": decl}));
    }
    let mut started = Vec::new();
    for _ in 0..105 {
        started.push(call("StartPipelineExecution", json!({"name": "p-00"}))["pipelineExecutionId"].clone());
    }
    started.reverse(); // newest first, as listed

    let all = ok(&server, &home, CUSTOMER, &["list-pipelines", "--page-size", "5"]);
    let names: Vec<_> = all["pipelines"].as_array().expect("pipelines").iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names.len(), 12, "{all}");
    assert_eq!(names[0], "p-00");
    assert_eq!(names[11], "p-11");

    let args = ["list-pipeline-executions", "--pipeline-name", "p-00", "--page-size", "40"];
    let all = ok(&server, &home, CUSTOMER, &args);
    let ids: Vec<_> = all["pipelineExecutionSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .map(|s| s["pipelineExecutionId"].clone())
        .collect();
    assert_eq!(ids, started, "three pages, each execution once, newest first");

    let first = ok(&server, &home, CUSTOMER, &[&args[..3], &["--max-items", "50"]].concat());
    assert_eq!(first["pipelineExecutionSummaries"].as_array().map(Vec::len), Some(50));
    let token = first["NextToken"].as_str().expect("a NextToken for the rest").to_owned();
    let rest = ok(&server, &home, CUSTOMER, &[&args[..3], &["--starting-token", &token]].concat());
    let rest: Vec<_> = rest["pipelineExecutionSummaries"]
        .as_array()
        .expect("rest")
        .iter()
        .map(|s| s["pipelineExecutionId"].clone())
        .collect();
    assert_eq!(rest, started[50..]);

    // Every execution's source action (one each), across the service's pages of executions.
    let acts =
        ok(&server, &home, CUSTOMER, &["list-action-executions", "--pipeline-name", "p-00", "--page-size", "40"]);
    let of: Vec<_> = acts["actionExecutionDetails"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["pipelineExecutionId"].clone())
        .collect();
    assert_eq!(of, started, "each execution's action once, newest execution first");

    // Every version of a declaration stays readable.
    let mut decl = third_party_pipeline("p-01");
    decl["roleArn"] = json!("arn:aws:iam::111111111111:role/updated");
    let updated = ok(&server, &home, CUSTOMER, &["update-pipeline", "--pipeline", &decl.to_string()]);
    assert_eq!(updated["pipeline"]["version"], 2);
    let version = |v: &str| aws(&server, &home, CUSTOMER, &["get-pipeline", "--name", "p-01", "--pipeline-version", v]);
    let first = version("1").expect("version 1");
    assert_eq!(first["pipeline"]["version"], 1);
    assert_ne!(first["pipeline"]["roleArn"], decl["roleArn"]);
    assert_eq!(version("2").expect("version 2")["pipeline"]["roleArn"], decl["roleArn"]);
    let missing = version("3").expect_err("no version 3");
    assert!(missing.contains("(PipelineVersionNotFoundException)"), "{missing}");
    server.stop();
}

/// Issue 8 items 7 and 13 as the AWS documentation shows them with the CLI:
/// `get-action-type` into a file, edit it, `update-action-type
/// --cli-input-json file://...` (the test config lists the owner among the
/// polling accounts, as operators do); then a secret (`noEcho`) property's
/// value shows as `****` to the customer, survives `update-pipeline` with the
/// pipeline `get-pipeline` printed, and reaches the partner's job.
#[test]
fn aws_cli_action_type_round_trip_and_secret_masks() {
    let home = TempDir::new("awscli-secrets");
    let mut server = Server::start(&home.0, &config(None));
    let get = [
        "get-action-type",
        "--category",
        "Build",
        "--owner",
        "ThirdParty",
        "--provider",
        "PartnerBuild",
        "--action-version",
        "1",
    ];
    let got = ok(&server, &home, PARTNER, &get);
    let unchanged = file(&home, "unchanged.json", &got);
    ok(&server, &home, PARTNER, &["update-action-type", "--cli-input-json", &unchanged]);
    let mut edited = got.clone();
    edited["actionType"]["properties"] =
        json!([{"name": "ApiKey", "optional": false, "key": false, "noEcho": true, "queryable": false}]);
    let edited_file = file(&home, "edited.json", &edited);
    ok(&server, &home, PARTNER, &["update-action-type", "--cli-input-json", &edited_file]);
    assert_eq!(ok(&server, &home, PARTNER, &get), edited);

    let secret = "partner-api-key-from-the-cli";
    let mut pipeline = third_party_pipeline("app");
    pipeline["stages"][1]["actions"][0]["configuration"] = json!({"ApiKey": secret});
    let created = ok(&server, &home, CUSTOMER, &["create-pipeline", "--pipeline", &file(&home, "p.json", &pipeline)]);
    assert_eq!(created["pipeline"]["stages"][1]["actions"][0]["configuration"], json!({"ApiKey": "****"}));
    let shown = ok(&server, &home, CUSTOMER, &["get-pipeline", "--name", "app"]);
    assert!(!shown.to_string().contains(secret), "{shown}");
    let back = file(&home, "back.json", &shown["pipeline"]);
    let updated = ok(&server, &home, CUSTOMER, &["update-pipeline", "--pipeline", &back]);
    assert_eq!(updated["pipeline"]["version"], 2);
    assert!(!updated.to_string().contains(secret), "{updated}");

    ok(&server, &home, CUSTOMER, &["start-pipeline-execution", "--name", "app"]);
    let tokens = tokens_via_cpjobs_clients(&server, &home);
    finish_source(&server, Some(&tokens));
    let (_, _, data) = take_third_party(&server, &home, &tokens, "Build", "PartnerBuild");
    assert_eq!(data["actionConfiguration"]["configuration"], json!({"ApiKey": secret}));
    let actions = ok(&server, &home, CUSTOMER, &["list-action-executions", "--pipeline-name", "app"]);
    assert!(!actions.to_string().contains(secret), "{actions}");
    server.stop();
}
