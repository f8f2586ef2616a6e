//! `cpjobs serve` and `cpjobs worker` end to end, with real clients: AWS CLI v1
//! (`aws s3`) for the customer's uploads and a job's own credentials, the CLI's
//! signing client for API calls, and workers running real shell commands.
//! Every process here is started on 127.0.0.1:0 and stopped by its test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cpjobs_cli::args::GlobalArgs;
use cpjobs_cli::config::{Env, Session};
use cpjobs_cli::transport::Client;
use serde_json::{Value, json};

const CUSTOMER: (&str, &str, &str) = ("111111111111", "AKIACUSTOMER00000001", "customer-secret");
const PARTNER: (&str, &str, &str) = ("222222222222", "AKIAPARTNER000000001", "partner-secret");
const OTHER: (&str, &str, &str) = ("333333333333", "AKIAOTHER00000000001", "other-secret");
const BUCKET: &str = "artifacts-111111111111";
const SOURCES: &str = "sources-111111111111";

const CONFIG: &str = r#"
region = "us-east-1"
[[account]]
id = "111111111111"
[[account.principal]]
access_key_id = "AKIACUSTOMER00000001"
secret_access_key = "customer-secret"
[[account]]
id = "222222222222"
[[account.principal]]
access_key_id = "AKIAPARTNER000000001"
secret_access_key = "partner-secret"
[[account]]
id = "333333333333"
[[account.principal]]
access_key_id = "AKIAOTHER00000000001"
secret_access_key = "other-secret"
[[third_party_action_type]]
owner_account = "222222222222"
category = "Build"
provider = "AcmeCI"
version = "1"
polling_accounts = ["222222222222"]
"#;

/// A running `cpjobs serve` with its own data directory and empty HOME.
struct Serve {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Serve {
    fn start(env: &[(&str, &str)]) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::write(dir.path().join("cpjobs.toml"), CONFIG).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--config"])
            .arg(dir.path().join("cpjobs.toml"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(dir.path().join("serve.log")).unwrap()))
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("cpjobs serve: listening on http://127.0.0.1:"), "{line}");
        let port = line.rsplit(':').next().unwrap().split(' ').next().unwrap().parse().unwrap();
        Serve { child, port, dir }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// One API call, signed as `who`.
    fn call(&self, who: (&str, &str, &str), op: &str, body: Value) -> Result<Value, String> {
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", who.1),
            ("AWS_SECRET_ACCESS_KEY", who.2),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("HOME", self.path("home").to_str().unwrap()),
        ]);
        let globals = GlobalArgs { endpoint_url: Some(self.endpoint()), ..GlobalArgs::default() };
        let session = Session::load_with_env(&globals, env).unwrap();
        let client = Client::new(&session, &globals).unwrap();
        let resp = client.invoke(op, &body.to_string()).map_err(|e| e.stderr)?;
        Ok(serde_json::from_slice(&resp.body).unwrap_or(json!({})))
    }

    fn ok(&self, who: (&str, &str, &str), op: &str, body: Value) -> Value {
        self.call(who, op, body).unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    /// `aws --endpoint-url ... <args>` with only these credentials (and an empty HOME).
    fn aws(&self, key: &str, secret: &str, token: Option<&str>, args: &[&str]) -> (bool, String) {
        let mut cmd = Command::new("aws");
        cmd.arg("--endpoint-url").arg(self.endpoint()).args(args).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        if let Some(t) = token {
            cmd.env("AWS_SESSION_TOKEN", t);
        }
        let out = cmd.output().expect("aws (AWS CLI v1) is installed");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    fn customer_aws(&self, args: &[&str]) -> (bool, String) {
        self.aws(CUSTOMER.1, CUSTOMER.2, None, args)
    }

    /// `cpjobs worker` as `who`, logging to `<name>.log`.
    fn worker(&self, who: (&str, &str, &str), name: &str, type_id: &str, extra: &[&str], command: &str) -> Worker {
        let log = self.path(&format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
            .args(["worker", "--action-type-id", type_id, "--endpoint-url", &self.endpoint(), "--region", "us-east-1"])
            .args(["--poll-interval", "0.1", "--log-format", "json", "--work-dir"])
            .arg(self.path(&format!("{name}-runs")))
            .args(extra)
            .args(["--", "sh", "-c", command])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("AWS_ACCESS_KEY_ID", who.1)
            .env("AWS_SECRET_ACCESS_KEY", who.2)
            .env("MARKS", self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        Worker { child, log }
    }

    /// Uploads a zip holding `files` as `s3://SOURCES/<key>` with the customer's keys.
    fn upload_source(&self, key: &str, files: &[(&str, &str)]) {
        let src = self.path(&format!("src-{}", key.replace('/', "_")));
        std::fs::create_dir_all(&src).unwrap();
        for (name, content) in files {
            std::fs::write(src.join(name), content).unwrap();
        }
        let zip = self.path(&format!("{}.zip", key.replace('/', "_")));
        cpjobs_worker::archive::pack(&src, &zip).unwrap();
        let _ = self.customer_aws(&["s3", "mb", &format!("s3://{SOURCES}")]);
        let (ok, out) = self.customer_aws(&["s3", "cp", zip.to_str().unwrap(), &format!("s3://{SOURCES}/{key}")]);
        assert!(ok, "{out}");
    }

    /// Uploads the file at `path` as `s3://SOURCES/<key>` with the customer's keys.
    fn upload_file(&self, key: &str, path: &std::path::Path) {
        let _ = self.customer_aws(&["s3", "mb", &format!("s3://{SOURCES}")]);
        let (ok, out) = self.customer_aws(&["s3", "cp", path.to_str().unwrap(), &format!("s3://{SOURCES}/{key}")]);
        assert!(ok, "{out}");
    }

    fn wait_for(&self, pipeline: &str, id: &str, want: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let e =
                self.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": pipeline, "pipelineExecutionId": id}));
            let status = e["pipelineExecution"]["status"].as_str().unwrap_or_default().to_owned();
            if status == want {
                return e;
            }
            assert!(status == "InProgress" && Instant::now() < deadline, "execution {id} is {status}: {e}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn start_pipeline(&self, name: &str) -> String {
        let started = self.ok(CUSTOMER, "StartPipelineExecution", json!({"name": name}));
        started["pipelineExecutionId"].as_str().unwrap().to_owned()
    }

    /// The latest execution of each action in the pipeline's state, by action name.
    fn action_state(&self, pipeline: &str, action: &str) -> Value {
        let state = self.ok(CUSTOMER, "GetPipelineState", json!({"name": pipeline}));
        state["stageStates"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["actionStates"].as_array().unwrap().iter())
            .find(|a| a["actionName"] == action)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    /// SIGTERM, then the exit status (the worker finishes what it holds first).
    fn stop(&mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "worker did not stop: {}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3_source(key: &str, output: &str) -> Value {
    json!({
        "name": "Source",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {"S3Bucket": SOURCES, "S3ObjectKey": key, "PollForSourceChanges": "false"},
        "outputArtifacts": [{"name": output}],
    })
}

fn custom_type(category: &str, provider: &str, inputs: i64, outputs: i64) -> Value {
    json!({
        "category": category,
        "provider": provider,
        "version": "1",
        "configurationProperties": [
            {"name": "Expect", "required": false, "key": false, "secret": false, "queryable": false, "type": "String"}
        ],
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": inputs},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": outputs},
    })
}

fn custom_action(name: &str, category: &str, provider: &str, input: &str, output: Option<&str>) -> Value {
    let mut a = json!({
        "name": name,
        "actionTypeId": {"category": category, "owner": "Custom", "provider": provider, "version": "1"},
        "inputArtifacts": [{"name": input}],
    });
    if let Some(o) = output {
        a["outputArtifacts"] = json!([{"name": o}]);
    }
    a
}

fn pipeline(name: &str, stages: Vec<(&str, Value)>) -> Value {
    json!({"pipeline": {
        "name": name,
        "roleArn": "arn:aws:iam::111111111111:role/cpjobs",
        "artifactStore": {"type": "S3", "location": BUCKET},
        "stages": stages.into_iter().map(|(n, a)| json!({"name": n, "actions": [a]})).collect::<Vec<_>>(),
    }})
}

fn md5_etag_of(s: &Serve, key: &str) -> String {
    let (ok, out) = s.customer_aws(&["s3api", "head-object", "--bucket", SOURCES, "--key", key]);
    assert!(ok, "{out}");
    let head: Value = serde_json::from_str(&out).unwrap();
    head["ETag"].as_str().unwrap().trim_matches('"').to_owned()
}

#[test]
fn s3_source_third_party_build_and_custom_test_run_with_real_workers() {
    let s = Serve::start(&[]);
    s.upload_source("app/src.zip", &[("input.txt", "hello from s3\n")]);
    let etag = md5_etag_of(&s, "app/src.zip");
    s.ok(CUSTOMER, "CreateCustomActionType", custom_type("Test", "Checker", 1, 0));
    let build = json!({
        "name": "Build",
        "actionTypeId": {"category": "Build", "owner": "ThirdParty", "provider": "AcmeCI", "version": "1"},
        "inputArtifacts": [{"name": "SourceOut"}],
        "outputArtifacts": [{"name": "BuildOut"}],
    });
    let mut test = custom_action("Check", "Test", "Checker", "BuildOut", None);
    test["configuration"] = json!({"Expect": "hello from s3"});
    s.ok(
        CUSTOMER,
        "CreatePipeline",
        pipeline("demo", vec![("Source", s3_source("app/src.zip", "SourceOut")), ("Build", build), ("Test", test)]),
    );
    let (ok, out) = s.customer_aws(&["s3", "ls", &format!("s3://{BUCKET}/")]);
    assert!(ok, "the pipeline's artifact bucket exists for its account: {out}");

    let id = s.start_pipeline("demo");
    // The service ran the S3 source itself: its revision is the object's ETag.
    let e = s.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "demo", "pipelineExecutionId": id}));
    assert_eq!(e["pipelineExecution"]["artifactRevisions"][0]["name"], "SourceOut", "{e}");
    assert_eq!(e["pipelineExecution"]["artifactRevisions"][0]["revisionId"], etag.as_str(), "{e}");
    assert_eq!(s.action_state("demo", "Source")["currentRevision"]["revisionId"], etag.as_str());

    let mut builder = s.worker(
        PARTNER,
        "builder",
        "category=Build,owner=ThirdParty,provider=AcmeCI,version=1",
        &[],
        r#"test "$CPJOBS_PIPELINE/$CPJOBS_STAGE/$CPJOBS_ACTION" = demo/Build/Build || exit 9
           tr a-z A-Z < input.txt > "$CPJOBS_OUTPUT_DIR_BuildOut/out.txt" && echo built $(cat input.txt)"#,
    );
    let mut checker = s.worker(
        CUSTOMER,
        "checker",
        "category=Test,owner=Custom,provider=Checker,version=1",
        &["--max-jobs", "2"],
        r#"grep -qi "$CPJOBS_CONFIG_Expect" out.txt && echo "checked: $(cat out.txt)""#,
    );
    s.wait_for("demo", &id, "Succeeded");
    let build = s.action_state("demo", "Build");
    assert_eq!(build["latestExecution"]["summary"], "built hello from s3", "{build}");
    assert!(build["latestExecution"]["externalExecutionId"].as_str().unwrap().starts_with("run-"), "{build}");
    let check = s.action_state("demo", "Check");
    assert_eq!(check["latestExecution"]["summary"], "checked: HELLO FROM S3", "{check}");
    assert!(builder.stop().success());
    assert!(checker.stop().success());
    assert!(builder.log_text().contains("job succeeded"), "{}", builder.log_text());
}

#[test]
fn job_credentials_read_their_inputs_write_their_outputs_and_nothing_else() {
    let s = Serve::start(&[]);
    s.upload_source("a/src.zip", &[("input.txt", "a")]);
    s.upload_source("b/src.zip", &[("input.txt", "b")]);
    s.ok(CUSTOMER, "CreateCustomActionType", custom_type("Build", "Maker", 1, 1));
    for (name, key) in [("first", "a/src.zip"), ("second", "b/src.zip")] {
        let make = custom_action("Make", "Build", "Maker", "Src", Some("Out"));
        s.ok(CUSTOMER, "CreatePipeline", pipeline(name, vec![("Source", s3_source(key, "Src")), ("Build", make)]));
        s.start_pipeline(name);
    }
    let type_id = json!({"category": "Build", "owner": "Custom", "provider": "Maker", "version": "1"});
    let polled = s.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": type_id, "maxBatchSize": 2}));
    let jobs = polled["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{polled}");
    let location = |job: &Value, field: &str| {
        let l = &job["data"][field][0]["location"]["s3Location"];
        (l["bucketName"].as_str().unwrap().to_owned(), l["objectKey"].as_str().unwrap().to_owned())
    };
    let (job, other) = (&jobs[0], &jobs[1]);
    let pipeline_name = job["data"]["pipelineContext"]["pipelineName"].as_str().unwrap();
    let (bucket, input) = location(job, "inputArtifacts");
    let (_, output) = location(job, "outputArtifacts");
    assert_eq!(bucket, BUCKET);
    assert!(
        output.starts_with(&format!("{pipeline_name}/Out/")),
        "output keys are <pipeline>/<artifact>/<random>: {output}"
    );
    let (_, other_input) = location(other, "inputArtifacts");

    s.ok(CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}));
    let details = s.ok(CUSTOMER, "GetJobDetails", json!({"jobId": job["id"]}));
    let again = s.ok(CUSTOMER, "GetJobDetails", json!({"jobId": job["id"]}));
    let c = &details["jobDetails"]["data"]["artifactCredentials"];
    assert_ne!(c["accessKeyId"], again["jobDetails"]["data"]["artifactCredentials"]["accessKeyId"], "fresh each call");
    let (key, secret, token) = (
        c["accessKeyId"].as_str().unwrap(),
        c["secretAccessKey"].as_str().unwrap(),
        c["sessionToken"].as_str().unwrap(),
    );
    let job_aws = |args: &[&str]| s.aws(key, secret, Some(token), args);
    let got = s.path("got.zip");
    let (ok, out) = job_aws(&["s3", "cp", &format!("s3://{bucket}/{input}"), got.to_str().unwrap()]);
    assert!(ok, "a job reads its input: {out}");
    let refused = |(ok, out): (bool, String), code: &str| assert!(!ok && out.contains(code), "{code} expected: {out}");
    refused(job_aws(&["s3", "cp", &format!("s3://{bucket}/{other_input}"), s.path("x").to_str().unwrap()]), "403");
    refused(job_aws(&["s3api", "get-object", "--bucket", &bucket, "--key", &other_input, "x"]), "AccessDenied");
    refused(job_aws(&["s3", "ls", &format!("s3://{bucket}/")]), "AccessDenied");
    refused(job_aws(&["s3", "cp", got.to_str().unwrap(), &format!("s3://{bucket}/{input}")]), "AccessDenied");
    refused(job_aws(&["s3", "cp", got.to_str().unwrap(), &format!("s3://{SOURCES}/a/src.zip")]), "AccessDenied");
    let (ok, out) = job_aws(&["s3", "cp", got.to_str().unwrap(), &format!("s3://{bucket}/{output}")]);
    assert!(ok, "a job writes its output: {out}");
    refused(
        s.aws(
            key,
            "wrong-secret-wrong-secret-wrong-secret00",
            Some(token),
            &["s3api", "get-object", "--bucket", &bucket, "--key", &input, "x"],
        ),
        "SignatureDoesNotMatch",
    );
    refused(
        s.aws(
            "ASIAAAAAAAAAAAAAAAAA",
            secret,
            Some(token),
            &["s3api", "get-object", "--bucket", &bucket, "--key", &input, "x"],
        ),
        "InvalidAccessKeyId",
    );
    refused(s.aws(OTHER.1, OTHER.2, None, &["s3", "ls", &format!("s3://{bucket}/")]), "AccessDenied");

    // Another account cannot take the bucket for its own pipeline.
    s.ok(OTHER, "CreateCustomActionType", custom_type("Build", "Maker", 1, 1));
    let theft = pipeline(
        "theft",
        vec![
            ("Source", s3_source("a/src.zip", "Src")),
            ("Build", custom_action("Make", "Build", "Maker", "Src", Some("Out"))),
        ],
    );
    let err = s.call(OTHER, "CreatePipeline", theft).unwrap_err();
    assert!(err.contains("InvalidStructureException") && err.contains("belongs to another account"), "{err}");
}

#[test]
fn a_missing_source_object_fails_the_source_action_with_its_name() {
    let s = Serve::start(&[]);
    s.upload_source("present.zip", &[("f", "x")]);
    s.ok(CUSTOMER, "CreateCustomActionType", custom_type("Build", "Maker", 1, 1));
    let make = custom_action("Make", "Build", "Maker", "Src", None);
    s.ok(
        CUSTOMER,
        "CreatePipeline",
        pipeline("gone", vec![("Source", s3_source("absent.zip", "Src")), ("Build", make)]),
    );
    let id = s.start_pipeline("gone");
    s.wait_for("gone", &id, "Failed");
    let source = s.action_state("gone", "Source");
    let message = source["latestExecution"]["errorDetails"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains(&format!("s3://{SOURCES}/absent.zip does not exist")), "{source}");
}

/// A pipeline `name`: S3 source -> one custom `Run` action of type Build/Runner with output `Out`.
fn runner_pipeline(s: &Serve, name: &str, parallel: bool) {
    let run = custom_action("Run", "Build", "Runner", "Src", Some("Out"));
    let mut p = pipeline(name, vec![("Source", s3_source("run/src.zip", "Src")), ("Build", run)]);
    if parallel {
        p["pipeline"]["pipelineType"] = json!("V2");
        p["pipeline"]["executionMode"] = json!("PARALLEL");
    }
    s.ok(CUSTOMER, "CreatePipeline", p);
}

const RUNNER: &str = "category=Build,owner=Custom,provider=Runner,version=1";

fn runner_service(env: &[(&str, &str)]) -> Serve {
    let s = Serve::start(env);
    s.upload_source("run/src.zip", &[("input.txt", "payload")]);
    s.ok(CUSTOMER, "CreateCustomActionType", custom_type("Build", "Runner", 1, 1));
    s
}

#[test]
fn a_failing_command_fails_the_job_with_its_exit_code_and_stderr() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "failing", false);
    let id = s.start_pipeline("failing");
    let mut w = s.worker(CUSTOMER, "w", RUNNER, &[], "echo progress; echo 'compiler says no' >&2; exit 3");
    s.wait_for("failing", &id, "Failed");
    let run = s.action_state("failing", "Run");
    let message = run["latestExecution"]["errorDetails"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("The command exited with code 3"), "{run}");
    assert!(message.ends_with("compiler says no"), "{run}");
    assert!(w.stop().success());
}

#[test]
fn sigterm_mid_job_lets_the_job_finish_then_exits_zero() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "slow", false);
    let id = s.start_pipeline("slow");
    let mut w = s.worker(
        CUSTOMER,
        "w",
        RUNNER,
        &[],
        r#"touch "$MARKS/started"; sleep 1.5; cp input.txt "$CPJOBS_OUTPUT_DIR_Out/"; echo finished after sigterm"#,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s.path("started").exists() {
        assert!(Instant::now() < deadline, "the job never started: {}", w.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = w.stop();
    assert!(status.success(), "{status:?}: {}", w.log_text());
    s.wait_for("slow", &id, "Succeeded");
    assert_eq!(s.action_state("slow", "Run")["latestExecution"]["summary"], "finished after sigterm");
}

#[test]
fn two_workers_on_one_queue_never_run_the_same_job() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "many", true);
    let ids: Vec<String> = (0..8).map(|_| s.start_pipeline("many")).collect();
    let command = r#"echo "$CPJOBS_JOB_ID" >> "$MARKS/ran.log"; sleep 0.2; echo ok > "$CPJOBS_OUTPUT_DIR_Out/f""#;
    let mut a = s.worker(CUSTOMER, "a", RUNNER, &["--max-jobs", "2"], command);
    let mut b = s.worker(CUSTOMER, "b", RUNNER, &["--max-jobs", "2"], command);
    for id in &ids {
        s.wait_for("many", id, "Succeeded");
    }
    assert!(a.stop().success() && b.stop().success());
    let ran = std::fs::read_to_string(s.path("ran.log")).unwrap();
    let mut jobs: Vec<&str> = ran.lines().collect();
    assert_eq!(jobs.len(), 8, "{ran}");
    jobs.sort_unstable();
    jobs.dedup();
    assert_eq!(jobs.len(), 8, "a job ran twice: {ran}");
    assert!(a.log_text().contains("job succeeded") && b.log_text().contains("job succeeded"), "both workers worked");
}

#[test]
fn credentials_are_refreshed_when_a_job_outlives_them() {
    // Credentials live 2 s here; the command takes 3 s, so the upload needs new ones.
    let s = runner_service(&[("CPJOBS_ARTIFACT_CREDENTIALS_TTL_SECS", "2")]);
    runner_pipeline(&s, "long", false);
    let id = s.start_pipeline("long");
    let command = r#"sleep 3; cp input.txt "$CPJOBS_OUTPUT_DIR_Out/"; echo uploaded late"#;
    let mut w = s.worker(CUSTOMER, "w", RUNNER, &[], command);
    s.wait_for("long", &id, "Succeeded");
    assert!(w.stop().success());
    let log = w.log_text();
    assert!(log.contains("artifact credentials refreshed") && log.contains("\"forced\":true"), "{log}");

    // The refresh margin makes the worker renew credentials before they end, without an S3 refusal.
    let id = s.start_pipeline("long");
    let mut w = s.worker(
        CUSTOMER,
        "margin",
        RUNNER,
        &["--refresh-margin", "899.5"],
        "sleep 1; echo quick > \"$CPJOBS_OUTPUT_DIR_Out/f\"",
    );
    s.wait_for("long", &id, "Succeeded");
    assert!(w.stop().success());
    let log = w.log_text();
    assert!(log.contains("artifact credentials refreshed") && log.contains("\"forced\":false"), "{log}");
}

#[test]
fn a_continuation_token_runs_the_command_again_with_it() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "twice", false);
    let id = s.start_pipeline("twice");
    let command = r#"if [ -z "$CPJOBS_CONTINUATION_TOKEN" ]; then
            echo step-2 > "$CPJOBS_CONTINUATION_FILE"; echo first run
        else
            cp input.txt "$CPJOBS_OUTPUT_DIR_Out/"; echo "second run after $CPJOBS_CONTINUATION_TOKEN"
        fi"#;
    let mut w = s.worker(CUSTOMER, "w", RUNNER, &[], command);
    s.wait_for("twice", &id, "Succeeded");
    assert!(w.stop().success());
    assert_eq!(s.action_state("twice", "Run")["latestExecution"]["summary"], "second run after step-2");
    let log = w.log_text();
    assert!(log.contains("job continues") && log.contains("job succeeded"), "{log}");
}

#[test]
fn a_worker_for_an_action_type_it_may_not_poll_exits_with_the_reason() {
    let s = Serve::start(&[]);
    // The customer may not poll the partner's type.
    let mut w = s.worker(CUSTOMER, "w", "category=Build,owner=ThirdParty,provider=AcmeCI,version=1", &[], "true");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = w.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker kept polling: {}", w.log_text());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    assert!(w.log_text().contains("ActionTypeNotFoundException"), "{}", w.log_text());
}

/// The failure message of the latest run of `action`.
fn error_message(s: &Serve, pipeline: &str, action: &str) -> String {
    let state = s.action_state(pipeline, action);
    state["latestExecution"]["errorDetails"]["message"].as_str().unwrap_or_default().to_owned()
}

/// A pipeline `name`: S3 source `key` -> the custom `Run` action (Build/Runner) with output `Out`.
fn runner_pipeline_on(s: &Serve, name: &str, key: &str) {
    let run = custom_action("Run", "Build", "Runner", "Src", Some("Out"));
    s.ok(CUSTOMER, "CreatePipeline", pipeline(name, vec![("Source", s3_source(key, "Src")), ("Build", run)]));
}

/// Every object of the artifact bucket, as the customer sees it, downloaded.
fn artifact_bucket_contents(s: &Serve) -> Vec<u8> {
    let dir = s.path("bucket-copy");
    let (ok, out) = s.customer_aws(&["s3", "cp", "--recursive", &format!("s3://{BUCKET}/"), dir.to_str().unwrap()]);
    assert!(ok, "{out}");
    let mut all = Vec::new();
    let mut todo = vec![dir];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                all.extend(std::fs::read(e.path()).unwrap());
            }
        }
    }
    all
}

/// Issue 8 item 1: an input artifact's links to host files, and a command's
/// links out of its output directory, never bring a host file into an artifact.
#[test]
fn links_in_inputs_and_outputs_never_carry_host_files_into_artifacts() {
    use std::io::Write;
    let s = runner_service(&[]);
    let secret = s.path("host-secret");
    std::fs::write(&secret, "HOST-SECRET-CONTENT").unwrap();
    let hostile = s.path("hostile.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&hostile).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("input.txt", options).unwrap();
    zip.write_all(b"payload").unwrap();
    zip.add_symlink("stolen", secret.to_str().unwrap(), options).unwrap();
    zip.add_symlink("passwd", "../../../../../../../../../../etc/passwd", options).unwrap();
    zip.finish().unwrap();
    s.upload_file("hostile.zip", &hostile);
    runner_pipeline_on(&s, "unpacked", "hostile.zip");
    runner_pipeline(&s, "packed", false);
    let mut w = s.worker(
        CUSTOMER,
        "w",
        RUNNER,
        &[],
        r#"cp -a . "$CPJOBS_OUTPUT_DIR_Out"/; ln -s "$MARKS/host-secret" "$CPJOBS_OUTPUT_DIR_Out/leak"; echo copied"#,
    );
    let id = s.start_pipeline("unpacked");
    s.wait_for("unpacked", &id, "Failed");
    let message = error_message(&s, "unpacked", "Run");
    assert!(
        message.contains("unpacking input artifact Src failed") && message.contains("leads out of the artifact"),
        "{message}"
    );
    let id = s.start_pipeline("packed");
    s.wait_for("packed", &id, "Failed");
    let message = error_message(&s, "packed", "Run");
    assert!(
        message.contains("packing output artifact Out failed") && message.contains("outside the output directory"),
        "{message}"
    );
    assert!(w.stop().success());
    let uploaded = artifact_bucket_contents(&s);
    assert!(!String::from_utf8_lossy(&uploaded).contains("HOST-SECRET"), "a host file reached the artifact store");
    let passwd = std::fs::read("/etc/passwd").unwrap();
    assert!(!uploaded.windows(passwd.len().min(32)).any(|w| w == &passwd[..passwd.len().min(32)]));
}

/// Issue 8 items 2 and 4: the command gets none of the worker's AWS identity,
/// a HOME without the worker's ~/.aws, and a private run directory.
#[test]
fn the_command_gets_no_worker_credentials_and_a_private_run_directory() {
    let s = runner_service(&[]);
    std::fs::create_dir_all(s.path("home/.aws")).unwrap();
    std::fs::write(s.path("home/.aws/credentials"), "[default]\naws_access_key_id = AKIAFROMFILE\n").unwrap();
    runner_pipeline(&s, "envcheck", false);
    let id = s.start_pipeline("envcheck");
    let mut w = s.worker(
        CUSTOMER,
        "w",
        RUNNER,
        &[],
        r#"env > "$MARKS/command-env"; cat "$HOME/.aws/credentials" >> "$MARKS/command-env" 2>/dev/null
           echo "home=$HOME run=$(stat -c %a ..) work=$(stat -c %a "$MARKS/w-runs")""#,
    );
    s.wait_for("envcheck", &id, "Succeeded");
    assert!(w.stop().success());
    let env = std::fs::read_to_string(s.path("command-env")).unwrap();
    for leak in [CUSTOMER.1, CUSTOMER.2, "AKIAFROMFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(!env.contains(leak), "{leak} reached the command:\n{env}");
    }
    assert!(env.contains("CPJOBS_JOB_ID="), "{env}");
    let summary = s.action_state("envcheck", "Run")["latestExecution"]["summary"].as_str().unwrap().to_owned();
    let runs = s.path("w-runs");
    assert!(summary.starts_with(&format!("home={}/run-", runs.display())), "{summary}");
    assert!(summary.ends_with(" run=700 work=700"), "{summary}");
}

/// Issue 8 item 4: a work directory another user could reach is refused.
#[test]
fn a_work_directory_open_to_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = runner_service(&[]);
    let runs = s.path("open-runs");
    std::fs::create_dir(&runs).unwrap();
    std::fs::set_permissions(&runs, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut w = s.worker(CUSTOMER, "open", RUNNER, &[], "true");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = w.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker ran in an open directory: {}", w.log_text());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    assert!(w.log_text().contains("open to other users (mode 777)"), "{}", w.log_text());
}

/// Issue 8 item 3: an input over --max-input-bytes fails its job, and the
/// worker goes on with the next one.
#[test]
fn an_input_over_the_size_limit_fails_its_job_and_the_worker_goes_on() {
    let s = runner_service(&[]);
    s.upload_source("big.zip", &[("big.txt", &"x".repeat(200_000))]);
    runner_pipeline_on(&s, "big", "big.zip");
    runner_pipeline(&s, "small", false);
    let mut w =
        s.worker(CUSTOMER, "w", RUNNER, &["--max-input-bytes", "100000"], r#"echo ok > "$CPJOBS_OUTPUT_DIR_Out/f""#);
    let id = s.start_pipeline("big");
    s.wait_for("big", &id, "Failed");
    let message = error_message(&s, "big", "Run");
    assert!(message.contains("more than --max-input-bytes (100000 bytes)"), "{message}");
    // An object larger than the limit is cut off while it downloads.
    let plain = s.path("plain.bin");
    std::fs::write(&plain, (0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<u8>>())
        .unwrap();
    s.upload_file("plain.bin", &plain);
    runner_pipeline_on(&s, "plain", "plain.bin");
    let id = s.start_pipeline("plain");
    s.wait_for("plain", &id, "Failed");
    let message = error_message(&s, "plain", "Run");
    assert!(message.contains("the object is larger than --max-input-bytes (100000 bytes)"), "{message}");
    let id = s.start_pipeline("small");
    s.wait_for("small", &id, "Succeeded");
    assert!(w.stop().success());
}

/// Reads the pid in `file` and waits (bounded) until that process is gone.
fn process_ends(file: &std::path::Path) -> bool {
    let pid = std::fs::read_to_string(file).unwrap().trim().to_owned();
    (0..400).any(|_| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for init to reap it.
        let alive = stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z') && !rest.is_empty());
        if alive {
            std::thread::sleep(Duration::from_millis(25));
        }
        !alive
    })
}

const STUBBORN: &str = r#"trap '' TERM INT; echo $$ > "$MARKS/cmd.pid"; sleep 100000 & echo $! > "$MARKS/bg.pid"
                          touch "$MARKS/started"; wait; wait"#;

fn wait_started(s: &Serve, w: &Worker) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s.path("started").exists() {
        assert!(Instant::now() < deadline, "the job never started: {}", w.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 14: a command that ignores SIGTERM cannot hold the worker past its
/// grace period; its process group goes and its job fails with the reason.
#[test]
fn sigterm_kills_a_stubborn_command_after_the_grace_period() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "stubborn", false);
    let id = s.start_pipeline("stubborn");
    let mut w = s.worker(CUSTOMER, "w", RUNNER, &["--shutdown-grace", "1"], STUBBORN);
    wait_started(&s, &w);
    let status = w.stop();
    assert!(status.success(), "{status:?}: {}", w.log_text());
    assert!(
        process_ends(&s.path("cmd.pid")) && process_ends(&s.path("bg.pid")),
        "the command's processes outlived the worker"
    );
    s.wait_for("stubborn", &id, "Failed");
    let message = error_message(&s, "stubborn", "Run");
    assert!(message.starts_with("The worker was stopped before the command finished"), "{message}");
}

/// Issue 14: a second signal stops at once, whatever the grace period.
#[test]
fn a_second_signal_stops_at_once() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "twice", false);
    let id = s.start_pipeline("twice");
    let mut w = s.worker(CUSTOMER, "w", RUNNER, &["--shutdown-grace", "100000"], STUBBORN);
    wait_started(&s, &w);
    Command::new("kill").args(["-TERM", &w.child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !w.log_text().contains("grace period") {
        assert!(Instant::now() < deadline, "{}", w.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(w.child.try_wait().unwrap().is_none(), "the first signal waits for the command");
    let status = w.stop(); // the second signal
    assert!(status.success(), "{status:?}: {}", w.log_text());
    assert!(process_ends(&s.path("cmd.pid")) && process_ends(&s.path("bg.pid")));
    s.wait_for("twice", &id, "Failed");
}

/// Issue 14: `--command-timeout` fails a job whose command runs too long.
#[test]
fn a_command_past_the_command_timeout_fails_its_job() {
    let s = runner_service(&[]);
    runner_pipeline(&s, "slowpoke", false);
    let id = s.start_pipeline("slowpoke");
    let mut w = s.worker(CUSTOMER, "w", RUNNER, &["--command-timeout", "0.5"], STUBBORN);
    s.wait_for("slowpoke", &id, "Failed");
    let message = error_message(&s, "slowpoke", "Run");
    assert!(message.starts_with("The command ran longer than the worker's --command-timeout (0.5 s)"), "{message}");
    assert!(process_ends(&s.path("bg.pid")));
    assert!(w.stop().success());
}

/// Issue 10 item 7: `--query-param` polls only the matching jobs, and
/// `$CPJOBS_OUTPUT_VARIABLES_FILE` becomes the success's outputVariables.
#[test]
fn query_params_pick_jobs_and_output_variables_reach_the_execution() {
    let s = Serve::start(&[]);
    s.upload_source("run/src.zip", &[("input.txt", "payload")]);
    let mut t = custom_type("Build", "Brancher", 1, 0);
    t["configurationProperties"] = json!([
        {"name": "Branch", "required": true, "key": true, "secret": false, "queryable": true, "type": "String"}
    ]);
    s.ok(CUSTOMER, "CreateCustomActionType", t);
    for branch in ["main", "dev"] {
        let mut run = custom_action("Run", "Build", "Brancher", "Src", None);
        run["configuration"] = json!({"Branch": branch});
        let p = pipeline(branch, vec![("Source", s3_source("run/src.zip", "Src")), ("Build", run)]);
        s.ok(CUSTOMER, "CreatePipeline", p);
    }
    let dev = s.start_pipeline("dev");
    let main = s.start_pipeline("main");
    let mut w = s.worker(
        CUSTOMER,
        "w",
        "category=Build,owner=Custom,provider=Brancher,version=1",
        &["--query-param", "Branch=main"],
        r#"printf 'Version=1.2.%s\nBranch=%s\n' 3 "$CPJOBS_CONFIG_Branch" > "$CPJOBS_OUTPUT_VARIABLES_FILE"; echo built"#,
    );
    s.wait_for("main", &main, "Succeeded");
    let runs = s.ok(
        CUSTOMER,
        "ListActionExecutions",
        json!({"pipelineName": "main", "filter": {"pipelineExecutionId": main}}),
    );
    let run = runs["actionExecutionDetails"].as_array().unwrap().iter().find(|a| a["actionName"] == "Run").unwrap();
    assert_eq!(run["output"]["outputVariables"], json!({"Version": "1.2.3", "Branch": "main"}), "{run}");
    assert!(w.stop().success());
    // The dev job was never polled by this worker.
    let e = s.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "dev", "pipelineExecutionId": dev}));
    assert_eq!(e["pipelineExecution"]["status"], "InProgress", "{e}");
    assert_eq!(w.log_text().matches("job acknowledged").count(), 1, "{}", w.log_text());
}
