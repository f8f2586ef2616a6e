//! The S3 endpoint against real clients: AWS CLI v1 (`aws s3`, `aws s3api`) and botocore,
//! on a server bound to 127.0.0.1:0 and stopped by each test.
//!
//! Credential expiry follows the test's clock, which the tests move; s3s still checks
//! each request's `x-amz-date` against the real clock, so the clock starts at real time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cpjobs_artifacts::{
    ArtifactAuth, ArtifactGrant, ArtifactStore, CredentialIssuer, ObjectRef, S3Options, TemporaryCredentials,
    s3_service, serve,
};
use md5::{Digest, Md5};
use tokio::process::Command;

const OWNER: (&str, &str, &str) = ("AKIAOWNER0000EXAMPLE", "ownerSecretKey0000000000000000000000000", "111122223333");
const OTHER: (&str, &str, &str) = ("AKIAOTHER0000EXAMPLE", "otherSecretKey0000000000000000000000000", "444455556666");
const BUCKET: &str = "artifacts-111122223333";
/// The job every test grant is issued for.
const JOB_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// A job gate the test drives: whether the job runs, and how often it was asked.
#[derive(Default)]
struct Gate {
    running: AtomicBool,
    asked: AtomicUsize,
}

struct Server {
    port: u16,
    dir: tempfile::TempDir,
    gate: Option<Arc<Gate>>,
    clock: Arc<AtomicU64>,
    issuer: Arc<CredentialIssuer>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

struct Creds<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
}

const fn account(p: &'static (&'static str, &'static str, &'static str)) -> Creds<'static> {
    Creds { key: p.0, secret: p.1, token: None }
}

fn job(c: &TemporaryCredentials) -> Creds<'_> {
    Creds { key: &c.access_key_id, secret: &c.secret_access_key, token: Some(&c.session_token) }
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Server {
    async fn start() -> Server {
        Server::start_gated(None).await
    }

    /// A service whose job credentials write only while `gate` says the job runs.
    async fn start_gated(gate: Option<Arc<Gate>>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        fs_mkdir(&dir.path().join("home"));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        Server::start_in(dir, Arc::new(AtomicU64::new(now)), gate).await
    }

    /// A service over the data directory `dir`: what `cpjobs serve` builds at start.
    async fn start_in(dir: tempfile::TempDir, clock: Arc<AtomicU64>, gate: Option<Arc<Gate>>) -> Server {
        let issuer = Arc::new(CredentialIssuer::load_or_create(dir.path()).unwrap());
        let store = ArtifactStore::open(dir.path().join("artifacts")).unwrap();
        store.ensure_bucket_blocking(BUCKET, OWNER.2).unwrap();
        let principals =
            |id: &str| [OWNER, OTHER].into_iter().find(|p| p.0 == id).map(|p| (p.1.to_owned(), p.2.to_owned()));
        let c = clock.clone();
        let mut auth = ArtifactAuth::new(issuer.clone(), principals)
            .with_clock(move || UNIX_EPOCH + Duration::from_secs(c.load(Ordering::SeqCst)));
        if let Some(g) = gate.clone() {
            auth = auth.with_job_gate(move |job: &str, _now: SystemTime| {
                assert_eq!(job, JOB_ID);
                g.asked.fetch_add(1, Ordering::SeqCst);
                Ok(g.running.load(Ordering::SeqCst))
            });
        }
        let service = s3_service(store, auth, S3Options::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(serve(listener, service, async {
            let _ = stopped.await;
        }));
        Server { port, dir, gate, clock, issuer, stop: Some(stop), task: Some(task) }
    }

    /// Stops this service and starts a new one, on a new port, over the same data.
    async fn restart(mut self) -> Server {
        self.shut_down().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Server::start_in(dir, self.clock.clone(), self.gate.clone()).await
    }

    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.clock.load(Ordering::SeqCst))
    }

    fn advance(&self, by: Duration) {
        self.clock.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    fn issue(&self, read: &[&str], write: &[&str]) -> TemporaryCredentials {
        let refs = |keys: &[&str]| keys.iter().map(|k| ObjectRef::new(BUCKET, *k)).collect();
        self.issuer.issue(ArtifactGrant::new(OWNER.2, refs(read), refs(write)).for_job(JOB_ID), self.now())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `aws --endpoint-url http://127.0.0.1:PORT <args>` with only these credentials.
    async fn aws(&self, creds: &Creds<'_>, args: &[&str]) -> Output {
        let mut cmd = Command::new("aws");
        cmd.arg("--endpoint-url").arg(format!("http://127.0.0.1:{}", self.port));
        cmd.args(args);
        self.client_env(&mut cmd, creds);
        run(cmd).await
    }

    /// Runs a Python snippet (botocore is there with the CLI) with the same environment.
    async fn python(&self, creds: &Creds<'_>, script: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script).arg(self.port.to_string()).args(args);
        self.client_env(&mut cmd, creds);
        run(cmd).await
    }

    fn client_env(&self, cmd: &mut Command, creds: &Creds<'_>) {
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", self.path("home"))
            .env("AWS_CONFIG_FILE", self.path("home/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("home/credentials"))
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_ACCESS_KEY_ID", creds.key)
            .env("AWS_SECRET_ACCESS_KEY", creds.secret);
        if let Some(token) = creds.token {
            cmd.env("AWS_SESSION_TOKEN", token);
        }
        cmd.kill_on_drop(true);
    }

    async fn stop(mut self) {
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("server stops").unwrap().unwrap();
        }
    }
}

impl Drop for Server {
    // A failed test still stops its server.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn run(mut cmd: Command) -> Output {
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("client finishes")
        .expect("client runs");
    Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fs_mkdir(p: &Path) {
    std::fs::create_dir_all(p).unwrap();
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.ok, "expected success\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
}

#[track_caller]
fn assert_refused(out: &Output, code: &str) {
    assert!(!out.ok, "expected {code}, got success: {}", out.stdout);
    assert!(out.stderr.contains(code), "expected {code}, got: {}", out.stderr);
}

fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reads_its_inputs_and_writes_its_outputs_and_nothing_else() {
    let s = Server::start().await;
    let owner = account(&OWNER);
    std::fs::write(s.path("source.zip"), b"the source artifact").unwrap();
    let up = s
        .aws(
            &owner,
            &["s3", "cp", s.path("source.zip").to_str().unwrap(), &format!("s3://{BUCKET}/pipe/in/source.zip")],
        )
        .await;
    assert_ok(&up);

    let creds = s.issue(&["pipe/in/source.zip"], &["pipe/out/build.zip"]);
    let job = job(&creds);

    // Reads its input.
    let down = s
        .aws(&job, &["s3", "cp", &format!("s3://{BUCKET}/pipe/in/source.zip"), s.path("got.zip").to_str().unwrap()])
        .await;
    assert_ok(&down);
    assert_eq!(std::fs::read(s.path("got.zip")).unwrap(), b"the source artifact");

    // Writes its output; the owner reads it back, with the MD5 ETag.
    std::fs::write(s.path("build.zip"), b"the build output").unwrap();
    let put = s
        .aws(&job, &["s3", "cp", s.path("build.zip").to_str().unwrap(), &format!("s3://{BUCKET}/pipe/out/build.zip")])
        .await;
    assert_ok(&put);
    let head = s.aws(&owner, &["s3api", "head-object", "--bucket", BUCKET, "--key", "pipe/out/build.zip"]).await;
    assert_ok(&head);
    assert!(head.stdout.contains(&md5_hex(b"the build output")), "{}", head.stdout);
    assert!(head.stdout.contains("\"ContentLength\": 16"), "{}", head.stdout);

    // Overwriting an input, reading an output, listing, deleting: refused.
    let write_input = s
        .aws(&job, &["s3", "cp", s.path("build.zip").to_str().unwrap(), &format!("s3://{BUCKET}/pipe/in/source.zip")])
        .await;
    assert_refused(&write_input, "AccessDenied");
    let read_output = s
        .aws(
            &job,
            &["s3api", "get-object", "--bucket", BUCKET, "--key", "pipe/out/build.zip", s.path("x").to_str().unwrap()],
        )
        .await;
    assert_refused(&read_output, "AccessDenied");
    let list = s.aws(&job, &["s3", "ls", &format!("s3://{BUCKET}/")]).await;
    assert_refused(&list, "AccessDenied");
    let list_buckets = s.aws(&job, &["s3api", "list-buckets"]).await;
    assert_refused(&list_buckets, "AccessDenied");
    let delete = s.aws(&job, &["s3api", "delete-object", "--bucket", BUCKET, "--key", "pipe/out/build.zip"]).await;
    assert_refused(&delete, "AccessDenied");
    let create = s.aws(&job, &["s3api", "create-bucket", "--bucket", "job-made-bucket"]).await;
    assert_refused(&create, "AccessDenied");

    // The input is unchanged after the refused write.
    let get = s
        .aws(
            &owner,
            &[
                "s3api",
                "get-object",
                "--bucket",
                BUCKET,
                "--key",
                "pipe/in/source.zip",
                s.path("again").to_str().unwrap(),
            ],
        )
        .await;
    assert_ok(&get);
    assert_eq!(std::fs::read(s.path("again")).unwrap(), b"the source artifact");

    // The owner lists; another account may not read, list or write the owner's bucket.
    let ls = s.aws(&owner, &["s3", "ls", &format!("s3://{BUCKET}/pipe/"), "--recursive"]).await;
    assert_ok(&ls);
    assert!(ls.stdout.contains("pipe/in/source.zip") && ls.stdout.contains("pipe/out/build.zip"), "{}", ls.stdout);
    let other = account(&OTHER);
    let stolen = s
        .aws(
            &other,
            &["s3api", "get-object", "--bucket", BUCKET, "--key", "pipe/in/source.zip", s.path("y").to_str().unwrap()],
        )
        .await;
    assert_refused(&stolen, "AccessDenied");
    assert_refused(&s.aws(&other, &["s3", "ls", &format!("s3://{BUCKET}/")]).await, "AccessDenied");
    let other_buckets = s.aws(&other, &["s3api", "list-buckets"]).await;
    assert_ok(&other_buckets);
    assert!(!other_buckets.stdout.contains(BUCKET), "{}", other_buckets.stdout);
    let taken = s.aws(&other, &["s3api", "create-bucket", "--bucket", BUCKET]).await;
    assert_refused(&taken, "BucketAlreadyExists");
    s.stop().await;
}

async fn get_in(s: &Server, c: Creds<'_>) -> Output {
    let target = s.path("out");
    s.aws(&c, &["s3api", "get-object", "--bucket", BUCKET, "--key", "in", target.to_str().unwrap()]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_expired_and_unknown_credentials_are_refused_with_aws_codes() {
    let s = Server::start().await;
    let owner = account(&OWNER);
    std::fs::write(s.path("in"), b"input").unwrap();
    assert_ok(&s.aws(&owner, &["s3", "cp", s.path("in").to_str().unwrap(), &format!("s3://{BUCKET}/in")]).await);
    let creds = s.issue(&["in"], &[]);
    assert_ok(&get_in(&s, job(&creds)).await);

    // A token altered by one character.
    let mut tampered = creds.session_token.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let out = get_in(&s, Creds { token: Some(&tampered), ..job(&creds) }).await;
    assert_refused(&out, "InvalidToken");

    // Another job's token with this key id.
    let other_job = s.issue(&["in"], &[]);
    let out = get_in(&s, Creds { token: Some(&other_job.session_token), ..job(&creds) }).await;
    assert_refused(&out, "InvalidToken");

    // No token at all.
    let out = get_in(&s, Creds { token: None, ..job(&creds) }).await;
    assert_refused(&out, "InvalidAccessKeyId");

    // A wrong secret.
    let out = get_in(&s, Creds { secret: "wrongSecretKey0000000000000000000000000", ..job(&creds) }).await;
    assert_refused(&out, "SignatureDoesNotMatch");

    // A key id nobody issued.
    let out = get_in(&s, Creds { key: "ASIAAAAAAAAAAAAAAAAA", ..job(&creds) }).await;
    assert_refused(&out, "InvalidAccessKeyId");
    assert_refused(
        &get_in(&s, Creds { key: "AKIAUNKNOWN000000000", secret: OWNER.1, token: None }).await,
        "InvalidAccessKeyId",
    );

    // Past its 15 minutes, by the service's clock.
    s.advance(Duration::from_secs(15 * 60));
    assert_refused(&get_in(&s, job(&creds)).await, "ExpiredToken");
    // Fresh credentials, issued now, work again, and still after a restart: the
    // service keeps no state about them.
    let fresh = s.issue(&["in"], &[]);
    assert_ok(&get_in(&s, job(&fresh)).await);
    let s = s.restart().await;
    assert_ok(&get_in(&s, job(&fresh)).await);
    assert_refused(&get_in(&s, job(&creds)).await, "ExpiredToken");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_outputs_upload_in_parts_with_the_multipart_etag() {
    let s = Server::start().await;
    // 9 MiB: AWS CLI switches to multipart at 8 MiB, in 8 MiB parts.
    let data: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(s.path("big.bin"), &data).unwrap();
    let creds = s.issue(&[], &["pipe/out/big.bin"]);
    let up = s
        .aws(
            &job(&creds),
            &["s3", "cp", s.path("big.bin").to_str().unwrap(), &format!("s3://{BUCKET}/pipe/out/big.bin")],
        )
        .await;
    assert_ok(&up);

    let part = 8 * 1024 * 1024;
    let mut md5s = Md5::new();
    md5s.update(Md5::digest(&data[..part]));
    md5s.update(Md5::digest(&data[part..]));
    let expected_etag = format!("{}-2", hex(&md5s.finalize()));

    let owner = account(&OWNER);
    let head = s.aws(&owner, &["s3api", "head-object", "--bucket", BUCKET, "--key", "pipe/out/big.bin"]).await;
    assert_ok(&head);
    assert!(head.stdout.contains(&expected_etag), "want {expected_etag} in {}", head.stdout);
    let down = s
        .aws(&owner, &["s3", "cp", &format!("s3://{BUCKET}/pipe/out/big.bin"), s.path("back.bin").to_str().unwrap()])
        .await;
    assert_ok(&down);
    assert!(std::fs::read(s.path("back.bin")).unwrap() == data, "content differs");

    // A range read.
    let range = s
        .aws(
            &owner,
            &[
                "s3api",
                "get-object",
                "--bucket",
                BUCKET,
                "--key",
                "pipe/out/big.bin",
                "--range",
                "bytes=8388606-8388609",
                s.path("range.bin").to_str().unwrap(),
            ],
        )
        .await;
    assert_ok(&range);
    assert!(range.stdout.contains("bytes 8388606-8388609/9437184"), "{}", range.stdout);
    assert_eq!(std::fs::read(s.path("range.bin")).unwrap(), &data[8388606..8388610]);

    // No temporary files or uploads are left behind.
    let bucket_dir = s.path("artifacts/buckets").join(BUCKET);
    assert_eq!(std::fs::read_dir(bucket_dir.join("tmp")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(bucket_dir.join("uploads")).unwrap().count(), 0);
    s.stop().await;
}

/// Signs a GET with botocore for a virtual-host-style URL and sends it to 127.0.0.1,
/// so no name resolution of `<bucket>.localhost` is needed.
const VHOST_GET: &str = r#"
import os, sys, http.client
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
port, host, path = sys.argv[1], sys.argv[2], sys.argv[3]
req = AWSRequest(method="GET", url=f"http://{host}:{port}{path}", headers={"Host": f"{host}:{port}"})
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN"))
S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
conn = http.client.HTTPConnection("127.0.0.1", int(port))
conn.request("GET", path, headers=dict(req.headers.items()))
r = conn.getresponse()
print(r.status)
sys.stdout.write(r.read().decode())
"#;

/// Fetches a URL without any credentials of its own.
const FETCH: &str = r#"
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[2])
    print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); sys.stdout.write(e.read().decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_host_presigned_and_anonymous_requests() {
    let s = Server::start().await;
    let owner = account(&OWNER);
    std::fs::write(s.path("in"), b"vhost content").unwrap();
    assert_ok(&s.aws(&owner, &["s3", "cp", s.path("in").to_str().unwrap(), &format!("s3://{BUCKET}/dir/in")]).await);
    let creds = s.issue(&["dir/in"], &[]);

    let vhost = s.python(&job(&creds), VHOST_GET, &[&format!("{BUCKET}.localhost"), "/dir/in"]).await;
    assert_ok(&vhost);
    assert_eq!(vhost.stdout, "200\nvhost content");
    let path_style = s.python(&job(&creds), VHOST_GET, &["localhost", &format!("/{BUCKET}/dir/in")]).await;
    assert_eq!(path_style.stdout, "200\nvhost content", "{}", path_style.stderr);

    // AWS CLI v1 presigns with SigV2 by default, which never signs the token: refused.
    let nobody = Creds { key: "", secret: "", token: None };
    let presign = |key: &str| format!("s3://{BUCKET}/{key}");
    let url = s.aws(&job(&creds), &["s3", "presign", &presign("dir/in")]).await;
    assert_ok(&url);
    assert!(url.stdout.contains("Signature=") && url.stdout.contains("x-amz-security-token="), "{}", url.stdout);
    let fetched = s.python(&nobody, FETCH, &[url.stdout.trim()]).await;
    assert!(fetched.stdout.starts_with("400\n") && fetched.stdout.contains("AWS4-HMAC-SHA256"), "{}", fetched.stdout);

    // A SigV4 presigned URL carries the token in its query, signed.
    std::fs::write(s.path("home/config"), "[default]\ns3 =\n    signature_version = s3v4\n").unwrap();
    let url = s.aws(&job(&creds), &["s3", "presign", &presign("dir/in"), "--expires-in", "300"]).await;
    assert_ok(&url);
    assert!(url.stdout.contains("X-Amz-Security-Token="), "{}", url.stdout);
    let fetched = s.python(&nobody, FETCH, &[url.stdout.trim()]).await;
    assert_eq!(fetched.stdout, "200\nvhost content", "{}", fetched.stderr);
    // The same for an object outside the grant is refused.
    let url = s.aws(&job(&creds), &["s3", "presign", &format!("s3://{BUCKET}/dir/other")]).await;
    let fetched = s.python(&nobody, FETCH, &[url.stdout.trim()]).await;
    assert!(fetched.stdout.starts_with("403\n") && fetched.stdout.contains("AccessDenied"), "{}", fetched.stdout);

    // Unsigned requests are refused.
    let anonymous = s.python(&nobody, FETCH, &[&format!("http://127.0.0.1:{}/{BUCKET}/dir/in", s.port)]).await;
    assert!(anonymous.stdout.starts_with("403\n") && anonymous.stdout.contains("AccessDenied"), "{}", anonymous.stdout);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_sent_by_the_client_are_verified() {
    let s = Server::start().await;
    let owner = account(&OWNER);
    std::fs::write(s.path("hello"), b"hello world").unwrap();
    let put = |crc: &'static str| {
        let body = s.path("hello");
        let s = &s;
        let owner = &owner;
        async move {
            s.aws(
                owner,
                &[
                    "s3api",
                    "put-object",
                    "--bucket",
                    BUCKET,
                    "--key",
                    "hello",
                    "--body",
                    body.to_str().unwrap(),
                    "--checksum-crc32",
                    crc,
                ],
            )
            .await
        }
    };
    assert_refused(&put("AAAAAA==").await, "BadDigest");
    let head = s.aws(&owner, &["s3api", "head-object", "--bucket", BUCKET, "--key", "hello"]).await;
    assert_refused(&head, "404");
    // CRC32 of "hello world" is 0x0d4a1185.
    let ok = put("DUoRhQ==").await;
    assert_ok(&ok);
    assert!(ok.stdout.contains("\"ChecksumCRC32\": \"DUoRhQ==\""), "{}", ok.stdout);
    s.stop().await;
}

/// Presigns a GetObject with boto3: `port region expires-in bucket key`.
const BOTO3_PRESIGN: &str = r#"
import sys, boto3
from botocore.config import Config
port, region, expires, bucket, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires))
"#;

/// Signs a GET with botocore's SigV4 signer for any region and service: `port path region service`.
const SIGNED_FOR: &str = r#"
import os, sys, http.client
from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
port, path, region, service = sys.argv[1:5]
req = AWSRequest(method="GET", url=f"http://127.0.0.1:{port}{path}", headers={"Host": f"127.0.0.1:{port}"})
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN"))
(S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, region).add_auth(req)
conn = http.client.HTTPConnection("127.0.0.1", int(port))
conn.request("GET", path, headers=dict(req.headers.items()))
r = conn.getresponse()
print(r.status)
sys.stdout.write(r.read().decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_8_presigned_urls_over_a_week_and_foreign_scopes_are_refused() {
    let s = Server::start().await;
    let owner = account(&OWNER);
    std::fs::write(s.path("in"), b"scoped").unwrap();
    assert_ok(&s.aws(&owner, &["s3", "cp", s.path("in").to_str().unwrap(), &format!("s3://{BUCKET}/in")]).await);
    async fn presigned(s: &Server, region: &str, expires: &str) -> String {
        let url = s.python(&account(&OWNER), BOTO3_PRESIGN, &[region, expires, BUCKET, "in"]).await;
        assert_ok(&url);
        let nobody = Creds { key: "", secret: "", token: None };
        s.python(&nobody, FETCH, &[url.stdout.trim()]).await.stdout
    }
    // Seven days is the longest S3 accepts; ten years was accepted before.
    assert_eq!(presigned(&s, "us-east-1", "604800").await, "200\nscoped");
    for expires in ["604801", "315360000"] {
        let answer = presigned(&s, "us-east-1", expires).await;
        assert!(
            answer.starts_with("400\n")
                && answer.contains("<Code>AuthorizationQueryParametersError</Code>")
                && answer.contains("604800"),
            "{expires}: {answer}"
        );
    }
    let mars = presigned(&s, "mars-1", "60").await;
    assert!(
        mars.starts_with("400\n")
            && mars.contains("AuthorizationQueryParametersError")
            && mars.contains("'mars-1' is wrong; expecting 'us-east-1'"),
        "{mars}"
    );

    // Header signatures scoped to another region or service than ours and s3.
    let path = format!("/{BUCKET}/in");
    async fn signed(s: &Server, path: &str, region: &str, service: &str) -> String {
        s.python(&account(&OWNER), SIGNED_FOR, &[path, region, service]).await.stdout
    }
    assert_eq!(signed(&s, &path, "us-east-1", "s3").await, "200\nscoped");
    let mars = signed(&s, &path, "mars-1", "s3").await;
    assert!(
        mars.starts_with("400\n")
            && mars.contains("<Code>AuthorizationHeaderMalformed</Code>")
            && mars.contains("expecting 'us-east-1'"),
        "{mars}"
    );
    let sts = signed(&s, &path, "us-east-1", "sts").await;
    assert!(sts.starts_with("400\n") && sts.contains("AuthorizationHeaderMalformed") && sts.contains("sts"), "{sts}");
    // Job credentials get the same answers.
    let creds = s.issue(&["in"], &[]);
    let job_sts = s.python(&job(&creds), SIGNED_FOR, &[&path, "us-east-1", "sts"]).await.stdout;
    assert!(job_sts.starts_with("400\n") && job_sts.contains("AuthorizationHeaderMalformed"), "{job_sts}");
    s.stop().await;
}

/// Sends a signed PUT in two halves with an unsigned payload, printing `sent` after the
/// first and waiting for a line on stdin before the second: `port path`.
const TRICKLED_PUT: &str = r#"
import os, sys, http.client
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
class Unsigned(S3SigV4Auth):
    def _should_sha256_sign_payload(self, request):
        return False
port, path = sys.argv[1], sys.argv[2]
body = b"swapped after the result"
req = AWSRequest(method="PUT", url=f"http://127.0.0.1:{port}{path}", data=body,
                 headers={"Host": f"127.0.0.1:{port}", "Content-Length": str(len(body))})
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN"))
Unsigned(creds, "s3", "us-east-1").add_auth(req)
conn = http.client.HTTPConnection("127.0.0.1", int(port))
conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
for k, v in req.headers.items():
    conn.putheader(k, v)
conn.endheaders()
conn.send(body[:8])
print("sent", flush=True)
sys.stdin.readline()
conn.send(body[8:])
r = conn.getresponse()
print(r.status)
sys.stdout.write(r.read().decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_8_job_credentials_write_only_while_the_job_runs() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let gate = Arc::new(Gate::default());
    gate.running.store(true, Ordering::SeqCst);
    let s = Server::start_gated(Some(gate.clone())).await;
    let owner = account(&OWNER);
    std::fs::write(s.path("in"), b"input").unwrap();
    assert_ok(&s.aws(&owner, &["s3", "cp", s.path("in").to_str().unwrap(), &format!("s3://{BUCKET}/in")]).await);
    let creds = s.issue(&["in"], &["out"]);
    let out_url = format!("s3://{BUCKET}/out");
    std::fs::write(s.path("v1"), b"approved build").unwrap();
    assert_ok(&s.aws(&job(&creds), &["s3", "cp", s.path("v1").to_str().unwrap(), &out_url]).await);

    // A PUT whose body is still coming in when the job gets its result is refused at
    // its end: it passed the check on arrival, so the object must not change.
    let asked_before = gate.asked.load(Ordering::SeqCst);
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(TRICKLED_PUT).arg(s.port.to_string()).arg(format!("/{BUCKET}/out"));
    s.client_env(&mut cmd, &job(&creds));
    let mut child = cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).await.unwrap();
    assert_eq!(line, "sent\n");
    for _ in 0..600 {
        if gate.asked.load(Ordering::SeqCst) > asked_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gate.asked.load(Ordering::SeqCst) > asked_before, "the PUT was checked on arrival");
    gate.running.store(false, Ordering::SeqCst);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").await.unwrap();
    drop(stdin);
    let mut rest = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut rest).await.unwrap();
    assert!(child.wait().await.unwrap().success());
    assert!(
        rest.starts_with("403\n") && rest.contains("AccessDenied") && rest.contains("no longer in progress"),
        "{rest}"
    );

    // Once the job has finished, every write is refused when it arrives: PUT, and
    // multipart (aws s3 cp uploads 9 MiB in parts).
    std::fs::write(s.path("v2"), b"swapped build").unwrap();
    let late = s.aws(&job(&creds), &["s3", "cp", s.path("v2").to_str().unwrap(), &out_url]).await;
    assert_refused(&late, "AccessDenied");
    std::fs::write(s.path("big"), vec![b'x'; 9 * 1024 * 1024]).unwrap();
    let multipart = s.aws(&job(&creds), &["s3", "cp", s.path("big").to_str().unwrap(), &out_url]).await;
    assert_refused(&multipart, "AccessDenied");
    assert!(multipart.stderr.contains("CreateMultipartUpload"), "{}", multipart.stderr);
    // Fresh credentials for the finished job fare no better; reading inputs still works.
    let fresh = s.issue(&["in"], &["out"]);
    assert_refused(&s.aws(&job(&fresh), &["s3", "cp", s.path("v2").to_str().unwrap(), &out_url]).await, "AccessDenied");
    assert_ok(&s.aws(&job(&fresh), &["s3", "cp", &format!("s3://{BUCKET}/in"), s.path("got").to_str().unwrap()]).await);

    // The approved output is still the one the job wrote while it ran.
    assert_ok(&s.aws(&owner, &["s3", "cp", &out_url, s.path("now").to_str().unwrap()]).await);
    assert_eq!(std::fs::read(s.path("now")).unwrap(), b"approved build");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_8_a_bucket_recreated_by_another_account_is_not_the_jobs() {
    let s = Server::start().await;
    let (owner, other) = (account(&OWNER), account(&OTHER));
    let creds = s.issue(&["in"], &["out"]);
    // The owner deletes its (empty) bucket; another account creates the name and
    // plants an input.
    assert_ok(&s.aws(&owner, &["s3", "rb", &format!("s3://{BUCKET}")]).await);
    assert_ok(&s.aws(&other, &["s3", "mb", &format!("s3://{BUCKET}")]).await);
    std::fs::write(s.path("planted"), b"planted input").unwrap();
    assert_ok(&s.aws(&other, &["s3", "cp", s.path("planted").to_str().unwrap(), &format!("s3://{BUCKET}/in")]).await);

    std::fs::write(s.path("out"), b"the customer's build").unwrap();
    let put = s.aws(&job(&creds), &["s3", "cp", s.path("out").to_str().unwrap(), &format!("s3://{BUCKET}/out")]).await;
    assert_refused(&put, "AccessDenied");
    assert!(put.stderr.contains("no longer belongs"), "{}", put.stderr);
    let get = s
        .aws(&job(&creds), &["s3api", "get-object", "--bucket", BUCKET, "--key", "in", s.path("got").to_str().unwrap()])
        .await;
    assert_refused(&get, "AccessDenied");
    let ls = s.aws(&other, &["s3", "ls", &format!("s3://{BUCKET}/"), "--recursive"]).await;
    assert_ok(&ls);
    assert!(!ls.stdout.contains("out"), "the other account's bucket received nothing: {}", ls.stdout);
    s.stop().await;
}
