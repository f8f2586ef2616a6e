//! Issue 8: what job credentials may still do once their job has a result, and
//! in a bucket another account re-created, against `cpjobs serve` with AWS CLI
//! v1's `aws s3` (the environment emptied but for the credentials and region).

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::harness::{
    CUSTOMER, Keys, OTHER, PARTNER, REGION, Server, TempDir, client_token, config, signed_call, third_party_pipeline,
};

/// Job credentials as `artifactCredentials` hands them out.
struct JobCreds {
    key: String,
    secret: String,
    token: String,
}

/// `aws s3 <args> --endpoint-url E` with long-term keys or job credentials.
fn s3(server: &Server, home: &TempDir, keys: Option<Keys>, job: Option<&JobCreds>, args: &[&str]) -> Output {
    let mut cmd = Command::new("aws");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home.0)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_MAX_ATTEMPTS", "1");
    if let Some(k) = keys {
        cmd.env("AWS_ACCESS_KEY_ID", k.key).env("AWS_SECRET_ACCESS_KEY", k.secret);
    }
    if let Some(j) = job {
        cmd.env("AWS_ACCESS_KEY_ID", &j.key).env("AWS_SECRET_ACCESS_KEY", &j.secret).env("AWS_SESSION_TOKEN", &j.token);
    }
    cmd.arg("s3").args(args).args(["--endpoint-url", &server.endpoint]).output().expect("aws (awscli 1.45.11) runs")
}

#[track_caller]
fn succeeded(out: &Output) {
    assert!(out.status.success(), "aws s3 failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[track_caller]
fn denied(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && stderr.contains("AccessDenied"), "expected AccessDenied: {stderr}");
    stderr
}

fn call(server: &Server, keys: Keys, op: &str, body: Value) -> Value {
    let a = signed_call(&server.endpoint, keys, &format!("CodePipeline_20150709.{op}"), &body);
    assert_eq!(a.status, 200, "{op}: {}", a.body);
    a.body
}

/// Details of the source job: its credentials and its output's `s3://bucket/key`.
fn details(server: &Server, job: &str, token: &str) -> (JobCreds, String, Value) {
    let d = call(server, PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}));
    let data = &d["jobDetails"]["data"];
    let c = &data["artifactCredentials"];
    let creds = JobCreds {
        key: c["accessKeyId"].as_str().expect("key").to_owned(),
        secret: c["secretAccessKey"].as_str().expect("secret").to_owned(),
        token: c["sessionToken"].as_str().expect("token").to_owned(),
    };
    let loc = &data["outputArtifacts"][0]["location"]["s3Location"];
    let url =
        format!("s3://{}/{}", loc["bucketName"].as_str().expect("bucket"), loc["objectKey"].as_str().expect("key"));
    (creds, url, d["jobDetails"]["nonce"].clone())
}

/// Creates and starts the customer's pipeline; polls the partner's source job.
/// Returns (jobId, clientToken).
fn source_job(server: &Server) -> (String, String) {
    call(server, CUSTOMER, "CreatePipeline", json!({"pipeline": third_party_pipeline("app")}));
    call(server, CUSTOMER, "StartPipelineExecution", json!({"name": "app"}));
    let id = json!({"category": "Source", "owner": "ThirdParty", "provider": "PartnerSource", "version": "1"});
    let polled = call(server, PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": id}));
    let job = polled["jobs"][0]["jobId"].as_str().expect("a job").to_owned();
    let token = client_token(&server.endpoint, PARTNER, polled["jobs"][0]["clientId"].as_str().expect("client"));
    (job, token)
}

#[test]
fn issue_8_credentials_of_a_finished_job_write_nothing() {
    finished_job_writes_nothing(&[]);
}

/// The test above, on a service started with `serve_args` too (another store).
pub(crate) fn finished_job_writes_nothing(serve_args: &[&str]) {
    let dir = TempDir::new("finished-writes");
    let mut server = Server::start_with(&dir.0, &config(None), None, serve_args);
    let (job, token) = source_job(&server);
    let (creds, out_url, nonce) = details(&server, &job, &token);
    call(&server, PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": nonce, "clientToken": token}));
    std::fs::write(dir.join("v1"), "the build the customer approves").expect("written");
    std::fs::write(dir.join("v2"), "a swapped build").expect("written");
    let v1 = dir.join("v1").display().to_string();
    let v2 = dir.join("v2").display().to_string();
    succeeded(&s3(&server, &dir, None, Some(&creds), &["cp", &v1, &out_url]));
    call(&server, PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}));

    // The same credentials, after the result.
    denied(&s3(&server, &dir, None, Some(&creds), &["cp", &v2, &out_url]));
    // Credentials fetched after the result.
    let (later, _, _) = details(&server, &job, &token);
    let refused = denied(&s3(&server, &dir, None, Some(&later), &["cp", &v2, &out_url]));
    assert!(refused.contains("no longer in progress"), "{refused}");

    let got = dir.join("got").display().to_string();
    succeeded(&s3(&server, &dir, Some(CUSTOMER), None, &["cp", &out_url, &got]));
    assert_eq!(std::fs::read_to_string(&got).expect("read"), "the build the customer approves");
    server.stop();
}

#[test]
fn issue_8_a_recreated_bucket_of_another_account_never_receives_artifacts() {
    let dir = TempDir::new("recreated-bucket");
    let mut server = Server::start(&dir.0, &config(None));
    let (job, token) = source_job(&server);
    let (creds, out_url, nonce) = details(&server, &job, &token);
    call(&server, PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": nonce, "clientToken": token}));
    // The customer deletes its (empty) artifact bucket; another account takes the name.
    succeeded(&s3(&server, &dir, Some(CUSTOMER), None, &["rb", "s3://artifact-bucket"]));
    succeeded(&s3(&server, &dir, Some(OTHER), None, &["mb", "s3://artifact-bucket"]));

    std::fs::write(dir.join("out"), "the customer's build").expect("written");
    let out = dir.join("out").display().to_string();
    let refused = denied(&s3(&server, &dir, None, Some(&creds), &["cp", &out, &out_url]));
    assert!(refused.contains("no longer belongs"), "{refused}");
    let listed = s3(&server, &dir, Some(OTHER), None, &["ls", "s3://artifact-bucket", "--recursive"]);
    succeeded(&listed);
    assert!(listed.stdout.is_empty(), "{}", String::from_utf8_lossy(&listed.stdout));
    // No new execution starts on the other account's bucket.
    let a = signed_call(
        &server.endpoint,
        CUSTOMER,
        "CodePipeline_20150709.StartPipelineExecution",
        &json!({"name": "app"}),
    );
    assert_eq!((a.status, a.code()), (400, "InvalidStructureException"), "{}", a.body);
    assert!(a.body["message"].as_str().unwrap_or_default().contains("artifact-bucket"), "{}", a.body);
    server.stop();
}

/// Every path under `dir` (itself included) with its permission bits, links skipped.
fn modes(dir: &std::path::Path) -> Vec<(String, bool, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let meta = std::fs::symlink_metadata(dir).expect("stat");
    out.push((dir.display().to_string(), meta.is_dir(), meta.mode() & 0o7777));
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir).expect("listed") {
            let path = entry.expect("entry").path();
            if !std::fs::symlink_metadata(&path).expect("stat").file_type().is_symlink() {
                out.extend(modes(&path));
            }
        }
    }
    out
}

#[track_caller]
fn assert_private(data: &std::path::Path) {
    let all = modes(data);
    for (path, is_dir, mode) in &all {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{path} is {mode:o}, not {want:o}");
    }
    for name in ["cpjobs.sqlite3", "cpjobs.sqlite3-wal", "cpjobs.sqlite3-shm", "service.key"] {
        assert!(all.iter().any(|(p, _, _)| p.ends_with(name)), "{name} checked: {all:?}");
    }
    assert!(all.iter().any(|(p, d, _)| p.contains("/objects/") && !d), "an artifact object checked: {all:?}");
}

#[test]
fn issue_8_the_data_directory_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("private-data");
    // A data directory left loose by an older version: tightened at start.
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("artifacts")).expect("made");
    std::fs::write(data.join("service.key"), [7u8; 32]).expect("written");
    let loose = [(data.clone(), 0o755), (data.join("artifacts"), 0o777), (data.join("service.key"), 0o644)];
    for (path, mode) in loose {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let mut server = Server::start_with_umask(&dir.0, &config(None), Some("000"));
    let (job, token) = source_job(&server);
    let (creds, out_url, nonce) = details(&server, &job, &token);
    call(&server, PARTNER, "AcknowledgeThirdPartyJob", json!({"jobId": job, "nonce": nonce, "clientToken": token}));
    std::fs::write(dir.join("artifact"), "output").expect("written");
    succeeded(&s3(&server, &dir, None, Some(&creds), &["cp", &dir.join("artifact").display().to_string(), &out_url]));
    assert_private(&data);
    server.stop();
    // The client token is at rest sealed: not in the database (checkpointed at stop).
    let db = std::fs::read(data.join("cpjobs.sqlite3")).expect("database");
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()), "the client token is stored in clear");
    assert!(db.windows(8).any(|w| w == b"sealed1:"), "the client token is stored sealed");
}
