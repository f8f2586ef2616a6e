//! What every end-to-end test needs: the real `cpjobs serve` binary started
//! on `127.0.0.1:0` with a TOML config and a fresh data directory, stopped with
//! SIGTERM (or killed when a test panics), the accounts the config declares,
//! and a raw SigV4-signed JSON 1.1 call for cpjobs' own operation and for
//! requests no well-behaved client would send (bad signature, skewed clock).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use cpjobs_cli::config::credentials::Credentials;
use serde_json::Value;

/// An account's id and one of its access keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    /// 12-digit account id.
    pub(crate) account: &'static str,
    /// Access key id.
    pub(crate) key: &'static str,
    /// Secret access key.
    pub(crate) secret: &'static str,
}

/// Owns the pipelines and the custom action types.
pub(crate) const CUSTOMER: Keys =
    Keys { account: "111111111111", key: "AKIACUSTOMER00000001", secret: "customer-secret-0000000000000000000000" };
/// Owns the third-party action types (`PartnerSource`, `PartnerBuild`).
pub(crate) const PARTNER: Keys =
    Keys { account: "222222222222", key: "AKIAPARTNER000000001", secret: "partner-secret-00000000000000000000000" };
/// Another partner: owns `OtherBuild`, may poll nothing of `PARTNER`'s.
pub(crate) const OTHER: Keys =
    Keys { account: "333333333333", key: "AKIAOTHERPARTNER0001", secret: "other-secret-000000000000000000000000000" };

/// The region the service answers for.
pub(crate) const REGION: &str = "us-east-1";

/// The service configuration: three accounts, the partner's source and build
/// types (60 s job timeout, the minimum), and the other partner's type.
/// `lease` sets `dispatch_lease_seconds`.
pub(crate) fn config(lease: Option<u64>) -> String {
    let mut text = format!("region = \"{REGION}\"\n");
    if let Some(l) = lease {
        text.push_str(&format!("dispatch_lease_seconds = {l}\n"));
    }
    for k in [CUSTOMER, PARTNER, OTHER] {
        text.push_str(&format!(
            "\n[[account]]\nid = \"{}\"\n[[account.principal]]\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            k.account, k.key, k.secret
        ));
    }
    for (owner, category, provider) in
        [(PARTNER, "Source", "PartnerSource"), (PARTNER, "Build", "PartnerBuild"), (OTHER, "Build", "OtherBuild")]
    {
        text.push_str(&format!(
            "\n[[third_party_action_type]]\nowner_account = \"{}\"\ncategory = \"{category}\"\n\
             provider = \"{provider}\"\nversion = \"1\"\npolling_accounts = [\"{}\"]\njob_timeout_seconds = 60\n",
            owner.account, owner.account
        ));
    }
    text
}

/// A directory removed when the test ends (kept when it fails, for the logs).
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    /// A fresh directory named after the test.
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("cpjobs-e2e-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// A path inside it.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A running `cpjobs serve`.
pub(crate) struct Server {
    child: Option<Child>,
    /// Kept open so the service's stdout stays writable.
    _stdout: Option<BufReader<ChildStdout>>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) endpoint: String,
    /// Where its config, data and log live.
    pub(crate) dir: PathBuf,
    /// `http://127.0.0.1:PORT/console/` when started with the console.
    pub(crate) console: Option<String>,
}

impl Server {
    /// Starts the service with `config_text` on `dir/data` (created or reused).
    pub(crate) fn start(dir: &Path, config_text: &str) -> Server {
        Server::start_with_umask(dir, config_text, None)
    }

    /// [`Server::start`], the service running under `umask` (octal) when given.
    pub(crate) fn start_with_umask(dir: &Path, config_text: &str, umask: Option<&str>) -> Server {
        Server::start_with(dir, config_text, umask, &[])
    }

    /// [`Server::start`] with the browser console on `127.0.0.1:0` as well.
    pub(crate) fn start_with_console(dir: &Path, config_text: &str) -> Server {
        Server::start_with(dir, config_text, None, &["--console", "127.0.0.1:0"])
    }

    pub(crate) fn start_with(dir: &Path, config_text: &str, umask: Option<&str>, extra: &[&str]) -> Server {
        let config = dir.join("cpjobs.toml");
        std::fs::write(&config, config_text).expect("config written");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("serve.log")).expect("log");
        let mut command = match umask {
            Some(mask) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("umask {mask} && exec \"$0\" \"$@\""), env!("CARGO_BIN_EXE_cpjobs")]);
                sh
            }
            None => Command::new(env!("CARGO_BIN_EXE_cpjobs")),
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("cpjobs serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line).expect("banner");
        let log = || std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
        assert!(read > 0, "cpjobs serve ended before listening: {}", log());
        let endpoint = line
            .strip_prefix("cpjobs serve: listening on ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .to_owned();
        // The console's address is the banner's second line when it was asked for.
        let console = extra.contains(&"--console").then(|| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("console banner");
            line.trim_end()
                .strip_prefix("cpjobs serve: console on ")
                .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
                .to_owned()
        });
        Server { child: Some(child), _stdout: Some(stdout), endpoint, dir: dir.to_owned(), console }
    }

    /// SIGTERM, then waits: the service must exit 0.
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(status.success());
        let status = child.wait().expect("serve exits");
        assert!(status.success(), "SIGTERM ends serve with status 0, not {status:?}; log:\n{}", self.log());
        // Refusals are answers, not failures: nothing a test does may make the service log an error.
        let log = self.log();
        assert!(!log.contains("\"level\":\"ERROR\""), "the service logged errors:\n{log}");
    }

    /// SIGKILL: the node dies mid-request, as a crashed machine's would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL sent");
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for exit status 0 (what it logged is not judged).
    pub(crate) fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(status.success());
        let status = child.wait().expect("serve exits");
        assert!(status.success(), "SIGTERM ends serve with status 0, not {status:?}; log:\n{}", self.log());
    }

    /// What the service logged (warnings and errors).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A JSON 1.1 answer: status and body (`{}` when empty).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: u16,
    /// The parsed body.
    pub(crate) body: Value,
}

impl Answer {
    /// The error code (`__type`) of an error answer.
    pub(crate) fn code(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }
}

/// POSTs `body` to `target` (`Prefix.Operation`), signed with `secret` at `time`.
pub(crate) fn signed_call_with(
    endpoint: &str,
    keys: Keys,
    secret: &str,
    target: &str,
    body: &Value,
    time: SystemTime,
) -> Answer {
    try_signed_call(endpoint, keys, secret, target, body, time).expect("the service answers")
}

/// [`signed_call_with`], with transport failures (refused, reset) returned.
pub(crate) fn try_signed_call(
    endpoint: &str,
    keys: Keys,
    secret: &str,
    target: &str,
    body: &Value,
    time: SystemTime,
) -> Result<Answer, String> {
    let body = body.to_string();
    let host = endpoint.strip_prefix("http://").expect("http endpoint");
    let creds = Credentials { access_key: keys.key.into(), secret_key: secret.into(), token: None, method: "env" };
    let content_type = "application/x-amz-json-1.1";
    let headers = cpjobs_cli::transport::sign::sign(&cpjobs_cli::transport::sign::SignInput {
        url: &format!("{endpoint}/"),
        host,
        headers: &[("content-type", content_type), ("x-amz-target", target)],
        body: body.as_bytes(),
        region: REGION,
        service: "codepipeline",
        credentials: &creds,
        time,
    })
    .expect("signed");
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut req =
        agent.post(format!("{endpoint}/")).header("content-type", content_type).header("x-amz-target", target);
    for (k, v) in &headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let mut resp = req.send(body.as_bytes()).map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().map_err(|e| e.to_string())?;
    let body =
        if text.is_empty() { Value::Object(Default::default()) } else { serde_json::from_str(&text).expect("JSON") };
    Ok(Answer { status, body })
}

/// [`signed_call_with`] with the right secret and the current time.
pub(crate) fn signed_call(endpoint: &str, keys: Keys, target: &str, body: &Value) -> Answer {
    signed_call_with(endpoint, keys, keys.secret, target, body, SystemTime::now())
}

/// The client token of `client_id`, as its partner lists it through
/// `Cpjobs_20261129.ListThirdPartyClients`.
pub(crate) fn client_token(endpoint: &str, partner: Keys, client_id: &str) -> String {
    let a = signed_call(endpoint, partner, "Cpjobs_20261129.ListThirdPartyClients", &serde_json::json!({}));
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["clientId"] == client_id)
        .and_then(|c| c["clientToken"].as_str())
        .unwrap_or_else(|| panic!("client {client_id} listed in {}", a.body))
        .to_owned()
}

/// A pipeline declaration: `stages` is `(stage name, actions)`.
pub(crate) fn declaration(name: &str, stages: &[(&str, Vec<Value>)]) -> Value {
    serde_json::json!({
        "name": name,
        "roleArn": format!("arn:aws:iam::{}:role/pipeline", CUSTOMER.account),
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": stages.iter().map(|(n, a)| serde_json::json!({"name": n, "actions": a})).collect::<Vec<_>>(),
    })
}

/// One action of a declaration.
pub(crate) fn action(
    name: &str,
    owner: &str,
    category: &str,
    provider: &str,
    inputs: &[&str],
    outputs: &[&str],
) -> Value {
    serde_json::json!({
        "name": name,
        "actionTypeId": {"category": category, "owner": owner, "provider": provider, "version": "1"},
        "inputArtifacts": inputs.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>(),
        "outputArtifacts": outputs.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>(),
    })
}

/// Source (partner's `PartnerSource`) -> Build (partner's `PartnerBuild`).
pub(crate) fn third_party_pipeline(name: &str) -> Value {
    declaration(
        name,
        &[
            ("Source", vec![action("Fetch", "ThirdParty", "Source", "PartnerSource", &[], &["src"])]),
            ("Build", vec![action("Compile", "ThirdParty", "Build", "PartnerBuild", &["src"], &["out"])]),
        ],
    )
}

/// The customer's custom action type `category/provider/1` (create-custom-action-type input).
pub(crate) fn custom_type(category: &str, provider: &str) -> Value {
    let (min_in, max_in) = if category == "Source" { (0, 0) } else { (0, 1) };
    serde_json::json!({
        "category": category,
        "provider": provider,
        "version": "1",
        "inputArtifactDetails": {"minimumCount": min_in, "maximumCount": max_in},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
    })
}

/// Source (custom `MySource`) -> Build (custom `MyBuild`).
pub(crate) fn custom_pipeline(name: &str) -> Value {
    declaration(
        name,
        &[
            ("Source", vec![action("Get", "Custom", "Source", "MySource", &[], &["code"])]),
            ("Build", vec![action("Make", "Custom", "Build", "MyBuild", &["code"], &["bin"])]),
        ],
    )
}

/// Source (custom `MySource`) -> Approve (Manual) -> Build (partner's `PartnerBuild`).
pub(crate) fn gated_pipeline(name: &str) -> Value {
    let mut approve = action("Approve", "AWS", "Approval", "Manual", &[], &[]);
    approve["configuration"] = serde_json::json!({"CustomData": "ship it?"});
    declaration(
        name,
        &[
            ("Source", vec![action("Get", "Custom", "Source", "MySource", &[], &["code"])]),
            ("Gate", vec![approve]),
            ("Build", vec![action("Compile", "ThirdParty", "Build", "PartnerBuild", &["code"], &[])]),
        ],
    )
}
