//! Several `cpjobs serve` nodes on one PostgreSQL database (the test server of
//! scripts/test-postgres.sh, a schema of its own) and one S3-compatible artifact
//! store (a throwaway moto server), sharing one service key: any node answers
//! any request. Driven by AWS CLI v1 (`aws s3api`, `aws s3`) and raw signed calls.
//!
//! Skipped without PostgreSQL or moto, unless CI (`CPJOBS_REQUIRE_POSTGRES`,
//! `CPJOBS_REQUIRE_S3`, `CI`) requires them: then it fails.

use std::io::BufRead;
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

use crate::harness::{
    CUSTOMER, Keys, PARTNER, REGION, Server, TempDir, client_token, config, signed_call, third_party_pipeline,
};
use crate::postgres::{fresh_schema, psql, server_url};

/// The bucket the moto server holds for the nodes.
const BACKEND_BUCKET: &str = "cpjobs-nodes";

/// A moto server on 127.0.0.1, stopped (its stdin closed, then killed) when dropped.
pub(crate) struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) endpoint: String,
}

impl Moto {
    /// Starts one holding `buckets`, or `None` (skipped) when moto is missing and not required.
    pub(crate) fn start(buckets: &[&str]) -> Option<Moto> {
        let required = ["CI", "CPJOBS_REQUIRE_S3"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0" && x != "false"));
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto-server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(buckets)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        let _ = std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        match line.trim().parse::<u16>() {
            Ok(port) => Some(Moto { child, endpoint: format!("http://127.0.0.1:{port}") }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                assert!(!required, "moto did not start: scripts/setup-test-deps.sh installs `moto[server]`");
                eprintln!("skipped: moto is not installed (scripts/setup-test-deps.sh installs it)");
                None
            }
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The config every node reads: the usual accounts and types, the shared key, and
/// the shared artifact store.
fn node_config(key_file: &std::path::Path, moto: &Moto, prefix: &str) -> String {
    format!(
        "service_key_file = \"{}\"\n{}\n[artifacts]\nbackend = \"s3\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\
         bucket = \"{BACKEND_BUCKET}\"\nprefix = \"{prefix}\"\naccess_key_id = \"testing\"\n\
         secret_access_key = \"testing\"\n",
        key_file.display(),
        config(None),
        moto.endpoint
    )
}

/// A fresh 32-byte key, private to its owner.
fn shared_key(dir: &TempDir) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("service.key");
    let mut key = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").expect("urandom"), &mut key).expect("random");
    std::fs::write(&path, key).expect("key written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

fn call(node: &Server, keys: Keys, op: &str, body: Value) -> Value {
    let a = signed_call(&node.endpoint, keys, &format!("CodePipeline_20150709.{op}"), &body);
    assert_eq!(a.status, 200, "{op} on {}: {}", node.endpoint, a.body);
    a.body
}

/// Job credentials as `artifactCredentials` hands them out.
struct JobCreds {
    key: String,
    secret: String,
    token: String,
}

/// `aws <args> --endpoint-url NODE` with job credentials, nothing of the host's.
fn aws(node: &Server, home: &TempDir, creds: &JobCreds, args: &[&str]) -> Output {
    Command::new("aws")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home.0)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ACCESS_KEY_ID", &creds.key)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret)
        .env("AWS_SESSION_TOKEN", &creds.token)
        .args(args)
        .args(["--endpoint-url", &node.endpoint])
        .output()
        .expect("aws (awscli 1.45.11) runs")
}

#[track_caller]
fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "aws failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// A job's credentials and its artifacts' `(bucket, key)`, as `node` tells them.
fn details(node: &Server, job: &str, token: &str) -> (JobCreds, Value, Value) {
    let d = call(node, PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}));
    let data = &d["jobDetails"]["data"];
    let c = &data["artifactCredentials"];
    let creds = JobCreds {
        key: c["accessKeyId"].as_str().expect("key").to_owned(),
        secret: c["secretAccessKey"].as_str().expect("secret").to_owned(),
        token: c["sessionToken"].as_str().expect("token").to_owned(),
    };
    (creds, data.clone(), d["jobDetails"]["nonce"].clone())
}

fn location(artifacts: &Value) -> (String, String) {
    let loc = &artifacts[0]["location"]["s3Location"];
    (loc["bucketName"].as_str().expect("bucket").to_owned(), loc["objectKey"].as_str().expect("key").to_owned())
}

fn poll(node: &Server, category: &str, provider: &str) -> (String, String) {
    let id = json!({"category": category, "owner": "ThirdParty", "provider": provider, "version": "1"});
    let polled = call(node, PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": id}));
    let job = polled["jobs"][0]["jobId"].as_str().unwrap_or_else(|| panic!("a {provider} job: {polled}")).to_owned();
    (job, polled["jobs"][0]["clientId"].as_str().expect("client").to_owned())
}

#[test]
fn two_nodes_share_jobs_credentials_and_a_multipart_artifact() {
    let Some(url) = server_url() else { return };
    let Some(moto) = Moto::start(&[BACKEND_BUCKET]) else { return };
    let (schema, store) = fresh_schema(&url, "e2enodes");
    let dir = TempDir::new("two-nodes");
    let key = shared_key(&dir);
    let text = node_config(&key, &moto, &format!("nodes{}", std::process::id()));
    let (dir_a, dir_b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&dir_a).expect("dir");
    std::fs::create_dir_all(&dir_b).expect("dir");
    let mut a = Server::start_with(&dir_a, &text, None, &["--store", &store]);
    let mut b = Server::start_with(&dir_b, &text, None, &["--store", &store]);

    // The pipeline made through A, started through B; the source job polled from A,
    // its client token (sealed under the shared key) read through B.
    call(&a, CUSTOMER, "CreatePipeline", json!({"pipeline": third_party_pipeline("app")}));
    call(&b, CUSTOMER, "StartPipelineExecution", json!({"name": "app"}));
    let (job, client) = poll(&a, "Source", "PartnerSource");
    let token = client_token(&b.endpoint, PARTNER, &client);
    // Credentials issued by B, the nonce honoured by A.
    let (creds, data, nonce) = details(&b, &job, &token);
    call(&a, PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": nonce, "clientToken": token}));

    // The output, uploaded in two parts: started on A, part 1 through B, part 2
    // through A, completed through B.
    let (bucket, object) = location(&data["outputArtifacts"]);
    let part1: Vec<u8> = (0..5 * 1024 * 1024).map(|i: u32| (i % 253) as u8).collect();
    let part2 = b"the tail of the build".to_vec();
    std::fs::write(dir.join("part1"), &part1).expect("written");
    std::fs::write(dir.join("part2"), &part2).expect("written");
    let s3api = |node: &Server, args: &[&str]| json_of(&aws(node, &dir, &creds, &[&["s3api"], args].concat()));
    let started = s3api(&a, &["create-multipart-upload", "--bucket", &bucket, "--key", &object]);
    let upload = started["UploadId"].as_str().expect("upload id").to_owned();
    let mut parts = Vec::new();
    for (n, node, file) in [(1, &b, "part1"), (2, &a, "part2")] {
        let body = dir.join(file).display().to_string();
        let n_text = n.to_string();
        let put = s3api(
            node,
            &[
                "upload-part",
                "--bucket",
                &bucket,
                "--key",
                &object,
                "--upload-id",
                &upload,
                "--part-number",
                &n_text,
                "--body",
                &body,
            ],
        );
        parts.push(json!({"PartNumber": n, "ETag": put["ETag"]}));
    }
    let parts_file = dir.join("parts.json");
    std::fs::write(&parts_file, json!({"Parts": parts}).to_string()).expect("written");
    let parts_arg = format!("file://{}", parts_file.display());
    let done = s3api(
        &b,
        &[
            "complete-multipart-upload",
            "--bucket",
            &bucket,
            "--key",
            &object,
            "--upload-id",
            &upload,
            "--multipart-upload",
            &parts_arg,
        ],
    );
    assert!(done["ETag"].as_str().is_some_and(|e| e.ends_with("-2\"")), "a two-part ETag: {done}");
    call(&b, PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}));

    // The build job, from A: its input is the uploaded output, read back through
    // either node with credentials A issued.
    let (build, client) = poll(&a, "Build", "PartnerBuild");
    let token = client_token(&a.endpoint, PARTNER, &client);
    let (creds, data, _) = details(&a, &build, &token);
    assert_eq!(location(&data["inputArtifacts"]), (bucket.clone(), object.clone()));
    let expected = [part1.as_slice(), part2.as_slice()].concat();
    for (node, name) in [(&b, "via-b"), (&a, "via-a")] {
        let got = dir.join(name).display().to_string();
        let out = aws(node, &dir, &creds, &["s3", "cp", &format!("s3://{bucket}/{object}"), &got]);
        assert!(out.status.success(), "aws s3 cp: {}", String::from_utf8_lossy(&out.stderr));
        assert!(std::fs::read(&got).expect("read") == expected, "the artifact reads back identical through {name}");
    }
    // Nothing of it went to either node's disk.
    for d in [&dir_a, &dir_b] {
        assert!(!d.join("data/artifacts").exists(), "{} holds no artifacts", d.display());
    }
    a.stop();
    b.stop();
    psql(&url, &format!("DROP SCHEMA {schema} CASCADE"));
}

#[test]
fn a_service_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("open-key");
    let key = shared_key(&dir);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::write(dir.join("cpjobs.toml"), config(None)).expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("cpjobs.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--service-key-file")
        .arg(&key)
        .output()
        .expect("cpjobs runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(stderr.contains("may be read by others (mode 644)") && stderr.contains("chmod 600"), "{stderr}");
    assert!(!dir.join("data/service.key").exists(), "no key of its own made instead");
}

#[test]
fn an_unreachable_artifact_store_is_named_at_start() {
    let dir = TempDir::new("no-s3");
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let text = format!(
        "{}\n[artifacts]\nbackend = \"s3\"\nendpoint = \"http://127.0.0.1:{port}\"\nregion = \"us-east-1\"\n\
         bucket = \"nowhere\"\naccess_key_id = \"testing\"\nsecret_access_key = \"testing\"\n",
        config(None)
    );
    std::fs::write(dir.join("cpjobs.toml"), text).expect("config");
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("cpjobs.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .expect("cpjobs runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(stderr.contains(&format!("the artifact store at http://127.0.0.1:{port}")), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "no hang: {:?}", started.elapsed());
}

#[test]
fn a_node_whose_artifact_store_goes_away_answers_slow_down() {
    let Some(moto) = Moto::start(&[BACKEND_BUCKET]) else { return };
    let dir = TempDir::new("s3-gone");
    let text = format!(
        "{}\n[artifacts]\nbackend = \"s3\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\nbucket = \"{BACKEND_BUCKET}\"\n\
         access_key_id = \"testing\"\nsecret_access_key = \"testing\"\nrequest_timeout_seconds = 5\n",
        config(None),
        moto.endpoint
    );
    let node = Server::start(&dir.0, &text);
    call(&node, CUSTOMER, "CreatePipeline", json!({"pipeline": third_party_pipeline("app")}));
    std::fs::write(dir.join("file"), "content").expect("written");
    let file = dir.join("file").display().to_string();
    let customer = JobCreds { key: CUSTOMER.key.into(), secret: CUSTOMER.secret.into(), token: String::new() };
    let cp = || {
        let mut cmd = Command::new("aws");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &dir.0)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_ACCESS_KEY_ID", &customer.key)
            .env("AWS_SECRET_ACCESS_KEY", &customer.secret)
            .args(["s3", "cp", &file, "s3://artifact-bucket/x", "--endpoint-url", &node.endpoint]);
        cmd.output().expect("aws runs")
    };
    let first = cp();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    drop(moto);
    let started = std::time::Instant::now();
    let refused = cp();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("SlowDown"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "no hang: {:?}", started.elapsed());
    let log = node.log();
    assert!(log.contains("the shared artifact store did not answer"), "the cause is logged: {log}");
}

/// Executions each of the load test's pipelines runs (two jobs each).
const LOAD_EXECUTIONS: usize = 50;
/// The load test's pipelines.
const LOAD_PIPELINES: usize = 4;

/// Issue 11's kill test: three nodes, eight workers, a few hundred executions;
/// one node SIGKILLed mid-load, another restarted. Checked by the driver
/// (`nodes_load.py`): no job acknowledged by two workers, every execution
/// Succeeded, every build read its own source, every artifact identical from
/// every node left.
#[test]
fn three_nodes_lose_one_and_restart_another_under_load() {
    let Some(url) = server_url() else { return };
    let Some(moto) = Moto::start(&[BACKEND_BUCKET]) else { return };
    let (schema, store) = fresh_schema(&url, "e2ekill");
    let dir = TempDir::new("three-nodes");
    let key = shared_key(&dir);
    // Leases of 5 s: a job whose poll answer died with its node is handed out again soon.
    let text = node_config(&key, &moto, &format!("kill{}", std::process::id())).replacen(
        "region = ",
        "dispatch_lease_seconds = 5\nregion = ",
        1,
    );
    let dirs: Vec<_> = ["a", "b", "c"].iter().map(|n| dir.join(n)).collect();
    let mut nodes: Vec<Server> = dirs
        .iter()
        .map(|d| {
            std::fs::create_dir_all(d).expect("dir");
            Server::start_with(d, &text, None, &["--store", &store])
        })
        .collect();
    let endpoints_file = dir.join("endpoints");
    let write_endpoints = |nodes: &[&Server]| {
        let text: String = nodes.iter().map(|n| format!("{}\n", n.endpoint)).collect();
        let tmp = dir.join("endpoints.tmp");
        std::fs::write(&tmp, text).expect("written");
        std::fs::rename(&tmp, &endpoints_file).expect("renamed");
    };
    write_endpoints(&nodes.iter().collect::<Vec<_>>());

    let started = std::time::Instant::now();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/nodes_load.py");
    let mut driver = Command::new("python3")
        .arg(&script)
        .env("CPJOBS_ENDPOINTS_FILE", &endpoints_file)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CUSTOMER_KEY", CUSTOMER.key)
        .env("CUSTOMER_SECRET", CUSTOMER.secret)
        .env("CUSTOMER_ACCOUNT", CUSTOMER.account)
        .env("PARTNER_KEY", PARTNER.key)
        .env("PARTNER_SECRET", PARTNER.secret)
        .env("PIPELINES", LOAD_PIPELINES.to_string())
        .env("EXECUTIONS", LOAD_EXECUTIONS.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    let jobs = 2 * LOAD_PIPELINES * LOAD_EXECUTIONS;
    let mut killed = false;
    let mut restarted = false;
    let mut last = String::new();
    for line in std::io::BufReader::new(driver.stdout.take().expect("stdout")).lines() {
        let line = line.expect("driver output");
        eprintln!("driver: {line} ({:?})", started.elapsed());
        if let Some(n) = line.strip_prefix("progress ").and_then(|n| n.parse::<usize>().ok()) {
            if !killed && n >= jobs / 4 {
                // Mid-load, without warning: out of the endpoints first, as a load
                // balancer's health check would take it out.
                write_endpoints(&[&nodes[0], &nodes[2]]);
                nodes[1].kill();
                killed = true;
            } else if killed && !restarted && n >= jobs / 2 {
                write_endpoints(&[&nodes[0]]);
                nodes[2].terminate();
                nodes[2] = Server::start_with(&dirs[2], &text, None, &["--store", &store]);
                write_endpoints(&[&nodes[0], &nodes[2]]);
                restarted = true;
            }
        }
        last = line;
    }
    let status = driver.wait().expect("driver ends");
    assert!(status.success() && last == "ok", "the load driver failed ({status:?}); last line {last:?}");
    assert!(killed && restarted, "the kill and the restart happened mid-load");
    eprintln!("three nodes: {jobs} jobs in {:?}", started.elapsed());
    nodes[0].stop();
    nodes[2].stop();
    psql(&url, &format!("DROP SCHEMA {schema} CASCADE"));
}
