//! The service driven from outside: protocol refusals, validation messages and
//! SigV4 verification through `app()` with tower's `oneshot`, requests signed by
//! aws-sigv4's signing side; then the real AWS CLI and boto3 against a server
//! on 127.0.0.1:0, to prove unmodified clients read our answers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::body::Body;
use cpjobs_core::config::{Account, Principal};
use cpjobs_core::{Api, ApiError, Caller, ErrorCode, Operation, Reply, ServiceConfig, Submitted};
use cpjobs_server::{Options, TemporaryCredential, TemporaryCredentials, app_with};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "AKIACUSTOMER00000001";
const SECRET: &str = "customer-secret";
const ACCOUNT: &str = "111111111111";
const JOB: &str = "11111111-2222-3333-4444-555555555555";

/// A test double of the domain: records what it was asked, answers a few
/// operations with model-shaped output and a modelled error.
/// Answers on the blocking thread the server runs its work on, as the
/// service answers most operations.
#[derive(Default)]
struct Double {
    calls: Arc<Mutex<Vec<(Caller, String, Value)>>>,
}

impl Api for Double {
    fn submit(&self, caller: &Caller, operation: Operation, input: Value, _now: SystemTime, reply: Reply) -> Submitted {
        let (calls, caller) = (Arc::clone(&self.calls), caller.clone());
        Submitted::Blocking(Box::new(move || {
            calls.lock().unwrap().push((caller, operation.to_string(), input.clone()));
            reply(match operation {
                Operation::ListPipelines => {
                    Ok(json!({"pipelines": [{"name": "demo", "version": 1, "created": 1.7e9}]}))
                }
                Operation::AcknowledgeJob if input["jobId"] == JOB => Ok(json!({"status": "InProgress"})),
                Operation::AcknowledgeJob => {
                    Err(ApiError::client(ErrorCode::JobNotFoundException, "The job was not found."))
                }
                Operation::ListThirdPartyClients => Ok(json!({"clients": []})),
                Operation::PollForJobs => panic!("the double panics here to test the service's catch"),
                _ => Ok(json!({})),
            })
        }))
    }
}

fn config() -> ServiceConfig {
    ServiceConfig {
        region: "us-east-1".into(),
        accounts: vec![Account {
            id: ACCOUNT.into(),
            principals: vec![Principal { access_key_id: KEY.into(), secret_access_key: SECRET.into() }],
        }],
        third_party_action_types: vec![],
        dispatch_lease_seconds: None,
        ..Default::default()
    }
}

/// Temporary credentials issued by "the domain": one live, one expired.
struct Temps {
    now: SystemTime,
}

impl TemporaryCredentials for Temps {
    fn lookup(&self, access_key_id: &str) -> Option<TemporaryCredential> {
        let expires = match access_key_id {
            "ASIALIVE" => self.now + Duration::from_secs(900),
            "ASIAEXPIRED" => self.now - Duration::from_secs(1),
            _ => return None,
        };
        Some(TemporaryCredential {
            account_id: ACCOUNT.into(),
            secret_access_key: "temp-secret".into(),
            session_token: "the-session-token".into(),
            expires,
        })
    }
}

/// 2026-11-29T18:00:00Z.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_975_200)
}

struct Harness {
    api: Arc<Double>,
    router: axum::Router,
}

fn harness_at(now: SystemTime) -> Harness {
    let api = Arc::new(Double::default());
    let options = Options {
        clock: Arc::new(move || now),
        temporary_credentials: Some(Arc::new(Temps { now })),
        max_body_bytes: 4096,
        ..Options::default()
    };
    let router = app_with(api.clone(), &config(), options);
    Harness { api, router }
}

struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    time: SystemTime,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Signer { key: KEY, secret: SECRET, token: None, region: "us-east-1", time: t0() }
    }
}

/// A request signed as an SDK signs it, by aws-sigv4's signing side.
fn signed(target: &str, body: &str, s: &Signer<'_>) -> http::Request<Body> {
    let headers = [
        ("host", "localhost"),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
        ("user-agent", "test/1.0"),
    ];
    let identity = Credentials::new(s.key, s.secret, s.token.map(str::to_owned), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name("codepipeline")
        .time(s.time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        "http://localhost/",
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder().method("POST").uri("/");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let mut req = req.body(Body::from(body.to_owned())).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    req
}

fn target(op: &str) -> String {
    format!("CodePipeline_20150709.{op}")
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

async fn send(router: &axum::Router, req: http::Request<Body>) -> Answer {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    Answer { status, headers, body }
}

fn assert_error(a: &Answer, status: u16, code: &str) -> String {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["__type"], code, "{}", a.body);
    assert_eq!(a.headers["content-type"], "application/x-amz-json-1.1");
    assert_eq!(a.headers["x-amzn-requestid"].to_str().unwrap().len(), 36);
    a.body["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn signed_request_reaches_the_api_as_its_account() {
    let h = harness_at(t0());
    let a = send(&h.router, signed(&target("ListPipelines"), "{}", &Signer::default())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["pipelines"][0]["name"], "demo");
    assert_eq!(a.headers["content-type"], "application/x-amz-json-1.1");
    assert!(a.headers.contains_key("x-amzn-requestid"));
    let calls = h.api.calls.lock().unwrap();
    assert_eq!(calls[0].0, Caller { account_id: ACCOUNT.into(), access_key_id: KEY.into() });
    assert_eq!(calls[0].1, "ListPipelines");
}

#[tokio::test]
async fn routing_refusals_follow_aws_json() {
    let h = harness_at(t0());
    let a = send(&h.router, signed(&target("NoSuchOperation"), "{}", &Signer::default())).await;
    let m = assert_error(&a, 400, "UnknownOperationException");
    assert!(m.contains("CodePipeline_20150709.NoSuchOperation"), "{m}");
    let a = send(&h.router, signed("Other_20150709.ListPipelines", "{}", &Signer::default())).await;
    assert_error(&a, 400, "UnknownOperationException");

    let a = send(&h.router, http::Request::post("/").body(Body::from("{}")).unwrap()).await;
    assert_error(&a, 400, "UnknownOperationException");
    let a = send(&h.router, http::Request::get("/").body(Body::empty()).unwrap()).await;
    assert_error(&a, 405, "UnknownOperationException");
    let req = http::Request::post("/v1/pipelines").header("x-amz-target", target("ListPipelines"));
    let a = send(&h.router, req.body(Body::from("{}")).unwrap()).await;
    assert_error(&a, 404, "UnknownOperationException");
    assert_eq!(a.headers["x-amzn-errortype"], "UnknownOperationException");

    // Extensions route to the domain without model validation.
    let a = send(&h.router, signed("Cpjobs_20261129.ListThirdPartyClients", "{}", &Signer::default())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(h.api.calls.lock().unwrap()[0].1, "ListThirdPartyClients");
}

#[tokio::test]
async fn bodies_that_cannot_be_read_are_serialization_errors() {
    let h = harness_at(t0());
    let a = send(&h.router, signed(&target("ListPipelines"), "{\"nextToken\":", &Signer::default())).await;
    let m = assert_error(&a, 400, "SerializationException");
    assert!(m.contains("not valid JSON"), "{m}");
    let a = send(&h.router, signed(&target("ListPipelines"), "[]", &Signer::default())).await;
    assert_error(&a, 400, "SerializationException");
    // Wrong JSON types, in Jackson's words.
    let body = json!({"actionTypeId": {"category": "Build", "owner": "Custom", "provider": "X", "version": "1"}, "maxBatchSize": "5"});
    let a = send(&h.router, signed(&target("PollForJobs"), &body.to_string(), &Signer::default())).await;
    assert_eq!(assert_error(&a, 400, "SerializationException"), "STRING_VALUE can not be converted to an Integer");
    let a =
        send(&h.router, signed(&target("AcknowledgeJob"), r#"{"jobId": 5, "nonce": "n"}"#, &Signer::default())).await;
    assert_eq!(assert_error(&a, 400, "SerializationException"), "NUMBER_VALUE can not be converted to a String");
    // An empty body is an empty input, as in AWS JSON.
    let a = send(&h.router, signed(&target("ListPipelines"), "", &Signer::default())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Oversized bodies are refused before anything else reads them.
    let big = format!("{{\"nextToken\": \"{}\"}}", "x".repeat(5000));
    let a = send(&h.router, signed(&target("ListPipelines"), &big, &Signer::default())).await;
    assert_error(&a, 413, "SerializationException");
    assert!(h.api.calls.lock().unwrap().len() == 1);
}

#[tokio::test]
async fn constraint_violations_answer_aws_validation_messages() {
    let h = harness_at(t0());
    let s = Signer::default();
    let body = json!({
        "actionTypeId": {"category": "Bake", "owner": "Custom", "provider": "X", "version": "1"},
        "maxBatchSize": 0,
        "someFutureMember": true
    });
    let a = send(&h.router, signed(&target("PollForJobs"), &body.to_string(), &s)).await;
    assert_eq!(
        assert_error(&a, 400, "ValidationException"),
        "2 validation errors detected: Value 'Bake' at 'actionTypeId.category' failed to satisfy constraint: \
         Member must satisfy enum value set: [Source, Build, Deploy, Test, Invoke, Approval, Compute]; \
         Value '0' at 'maxBatchSize' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let body = json!({"jobId": JOB, "executionDetails": {"summary": "s", "percentComplete": 101}});
    let a = send(&h.router, signed(&target("PutJobSuccessResult"), &body.to_string(), &s)).await;
    assert_eq!(
        assert_error(&a, 400, "ValidationException"),
        "1 validation error detected: Value '101' at 'executionDetails.percentComplete' failed to satisfy constraint: \
         Member must have value less than or equal to 100"
    );
    let a = send(&h.router, signed(&target("AcknowledgeJob"), "{}", &s)).await;
    assert_eq!(
        assert_error(&a, 400, "ValidationException"),
        "2 validation errors detected: Value null at 'jobId' failed to satisfy constraint: Member must not be null; \
         Value null at 'nonce' failed to satisfy constraint: Member must not be null"
    );
    let a =
        send(&h.router, signed(&target("AcknowledgeJob"), &json!({"jobId": JOB, "nonce": ""}).to_string(), &s)).await;
    assert_eq!(
        assert_error(&a, 400, "ValidationException"),
        "1 validation error detected: Value '' at 'nonce' failed to satisfy constraint: \
         Member must have length greater than or equal to 1"
    );
    let a =
        send(&h.router, signed(&target("AcknowledgeJob"), &json!({"jobId": "job-1", "nonce": "n"}).to_string(), &s))
            .await;
    assert_eq!(
        assert_error(&a, 400, "ValidationException"),
        "1 validation error detected: Value 'job-1' at 'jobId' failed to satisfy constraint: Member must satisfy \
         regular expression pattern: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    );
    let body = json!({"jobId": JOB, "nonce": "n", "clientToken": "x".repeat(257)});
    let a = send(&h.router, signed(&target("AcknowledgeThirdPartyJob"), &body.to_string(), &s)).await;
    let m = assert_error(&a, 400, "ValidationException");
    assert!(
        m.ends_with("at 'clientToken' failed to satisfy constraint: Member must have length less than or equal to 256"),
        "{m}"
    );
    // List elements are named by 1-based position, as AWS does.
    let body = json!({"pipeline": {"name": "p", "roleArn": "arn:aws:iam::123456789012:role/r", "stages": [
        {"name": "ok", "actions": []},
        {"name": "bad name!", "actions": []}
    ]}});
    let a = send(&h.router, signed(&target("CreatePipeline"), &body.to_string(), &s)).await;
    let m = assert_error(&a, 400, "ValidationException");
    assert!(m.contains("Value 'bad name!' at 'pipeline.stages.2.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{m}");
    assert!(h.api.calls.lock().unwrap().is_empty(), "nothing invalid reaches the domain");

    // Null members count as absent; unknown members are ignored.
    let body = json!({"jobId": JOB, "nonce": "n", "extra": {"deep": [1]}, "clientToken": null});
    let a = send(&h.router, signed(&target("AcknowledgeJob"), &body.to_string(), &s)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, json!({"status": "InProgress"}));
}

#[tokio::test]
async fn domain_errors_and_panics_become_aws_errors() {
    let h = harness_at(t0());
    let s = Signer::default();
    let other = "22222222-2222-3333-4444-555555555555";
    let a = send(&h.router, signed(&target("AcknowledgeJob"), &json!({"jobId": other, "nonce": "n"}).to_string(), &s))
        .await;
    assert_eq!(assert_error(&a, 400, "JobNotFoundException"), "The job was not found.");
    let body = json!({"actionTypeId": {"category": "Build", "owner": "Custom", "provider": "X", "version": "1"}});
    let a = send(&h.router, signed(&target("PollForJobs"), &body.to_string(), &s)).await;
    assert_error(&a, 500, "InternalFailure");
    // The service is still answering after the panic.
    let a = send(&h.router, signed(&target("ListPipelines"), "{}", &s)).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn signature_refusals_use_aws_names_and_words() {
    let h = harness_at(t0());
    let list = target("ListPipelines");

    let req = http::Request::post("/").header("x-amz-target", &list).body(Body::from("{}")).unwrap();
    let a = send(&h.router, req).await;
    assert_eq!(assert_error(&a, 400, "MissingAuthenticationTokenException"), "Missing Authentication Token");

    let a = send(&h.router, signed(&list, "{}", &Signer { key: "AKIANOBODY", ..Signer::default() })).await;
    assert_eq!(
        assert_error(&a, 400, "UnrecognizedClientException"),
        "The security token included in the request is invalid."
    );

    let a = send(&h.router, signed(&list, "{}", &Signer { secret: "not-the-secret", ..Signer::default() })).await;
    let m = assert_error(&a, 400, "InvalidSignatureException");
    assert!(m.starts_with("The request signature we calculated does not match the signature you provided."), "{m}");

    // A body changed after signing no longer matches.
    let mut req = signed(&list, "{}", &Signer::default());
    *req.body_mut() = Body::from("{ }");
    let a = send(&h.router, req).await;
    assert_error(&a, 400, "InvalidSignatureException");

    let a = send(&h.router, signed(&list, "{}", &Signer { region: "eu-west-1", ..Signer::default() })).await;
    let m = assert_error(&a, 400, "InvalidSignatureException");
    assert!(m.starts_with("Credential should be scoped to a valid region"), "{m}");

    let mut req = signed(&list, "{}", &Signer::default());
    req.headers_mut().insert(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKIACUSTOMER00000001/20261129/us-east-1/codepipeline/aws4_request"
            .parse()
            .unwrap(),
    );
    let a = send(&h.router, req).await;
    let m = assert_error(&a, 400, "IncompleteSignatureException");
    assert!(m.starts_with("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."), "{m}");
    assert_eq!(h.api.calls.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn clock_skew_beyond_fifteen_minutes_is_refused() {
    let list = target("ListPipelines");
    let late = harness_at(t0() + Duration::from_secs(16 * 60));
    let a = send(&late.router, signed(&list, "{}", &Signer::default())).await;
    assert_eq!(
        assert_error(&a, 400, "InvalidSignatureException"),
        "Signature expired: 20261129T180000Z is now earlier than 20261129T180100Z (20261129T181600Z - 15 min.)"
    );
    let early = harness_at(t0() - Duration::from_secs(16 * 60));
    let a = send(&early.router, signed(&list, "{}", &Signer::default())).await;
    assert_eq!(
        assert_error(&a, 400, "InvalidSignatureException"),
        "Signature not yet current: 20261129T180000Z is still later than 20261129T175900Z (20261129T174400Z + 15 min.)"
    );
    // Within the window it is accepted.
    let close = harness_at(t0() + Duration::from_secs(14 * 60));
    assert_eq!(send(&close.router, signed(&list, "{}", &Signer::default())).await.status, 200);
}

#[tokio::test]
async fn session_tokens_are_checked_against_issued_credentials() {
    let h = harness_at(t0());
    let list = target("ListPipelines");
    let temp = Signer { key: "ASIALIVE", secret: "temp-secret", token: Some("the-session-token"), ..Signer::default() };
    let a = send(&h.router, signed(&list, "{}", &temp)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(h.api.calls.lock().unwrap()[0].0.access_key_id, "ASIALIVE");

    let a = send(&h.router, signed(&list, "{}", &Signer { token: Some("another-token"), ..temp })).await;
    assert_error(&a, 400, "UnrecognizedClientException");
    let a = send(&h.router, signed(&list, "{}", &Signer { key: "ASIAEXPIRED", ..temp })).await;
    assert_eq!(assert_error(&a, 400, "ExpiredTokenException"), "The security token included in the request is expired");
    // A temporary key without its token, and a long-term key with one, are not valid.
    let a = send(&h.router, signed(&list, "{}", &Signer { token: None, ..temp })).await;
    assert_error(&a, 400, "UnrecognizedClientException");
    let a =
        send(&h.router, signed(&list, "{}", &Signer { token: Some("the-session-token"), ..Signer::default() })).await;
    assert_error(&a, 400, "UnrecognizedClientException");
    // Wrong secret with the right token.
    let a = send(&h.router, signed(&list, "{}", &Signer { secret: "nope", ..temp })).await;
    assert_error(&a, 400, "InvalidSignatureException");
}

#[tokio::test]
async fn health_and_metrics_report_requests_and_domain_gauges() {
    struct Stats;
    impl cpjobs_server::StatsSource for Stats {
        fn stats(&self, _now: SystemTime) -> cpjobs_server::DomainStats {
            cpjobs_server::DomainStats {
                jobs_by_status: vec![("ThirdParty/Build/AcmeCI/1".into(), "Queued".into(), 4)],
                queue_depth: vec![("ThirdParty/Build/AcmeCI/1".into(), 4)],
            }
        }
    }
    let api = Arc::new(Double::default());
    let options = Options { clock: Arc::new(t0), stats: Some(Arc::new(Stats)), ..Options::default() };
    let router = app_with(api, &config(), options);
    let a = send(&router, signed(&target("ListPipelines"), "{}", &Signer::default())).await;
    assert_eq!(a.status, 200);
    let a = send(&router, signed(&target("ListPipelines"), "{}", &Signer { secret: "x", ..Signer::default() })).await;
    assert_eq!(a.status, 400);

    let health = router.clone().oneshot(http::Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(health.status(), 200);
    let resp = router.clone().oneshot(http::Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("cpjobs_requests_total{operation=\"ListPipelines\",code=\"OK\"} 1\n"), "{text}");
    assert!(text.contains("cpjobs_requests_total{operation=\"ListPipelines\",code=\"InvalidSignatureException\"} 1\n"));
    assert!(text.contains("cpjobs_request_duration_seconds_count{operation=\"ListPipelines\"} 2\n"));
    assert!(text.contains("cpjobs_queue_depth{action_type=\"ThirdParty/Build/AcmeCI/1\"} 4\n"));
}

/// A server on 127.0.0.1:0 with the tick hook; stopped by the test.
struct Running {
    port: u16,
    api: Arc<Double>,
    ticks: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let api = Arc::new(Double::default());
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = ticks.clone();
    let options = Options {
        tick: Some(Arc::new(move |_now| {
            counter.fetch_add(1, Ordering::SeqCst);
        })),
        tick_interval: Duration::from_millis(20),
        temporary_credentials: Some(Arc::new(Temps { now: SystemTime::now() })),
        ..Options::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let api_dyn: Arc<dyn Api> = api.clone();
    let task = tokio::spawn(async move {
        cpjobs_server::serve(listener, api_dyn, &config(), options, async {
            let _ = rx.await;
        })
        .await
    });
    Running { port, api, ticks, stop: Some(tx), task }
}

impl Running {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("server stops").unwrap().unwrap();
    }
}

/// Runs a real client process with only our credentials and endpoint in its environment.
fn client(program: &str, args: &[&str], key: &str, secret: &str, token: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(t) = token {
        cmd.env("AWS_SESSION_TOKEN", t);
    }
    cmd.output().unwrap_or_else(|e| panic!("{program} must be installed (scripts/setup-test-deps.sh): {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_aws_cli_and_boto3_read_our_answers() {
    let server = start().await;
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    let ep = endpoint.clone();
    let (cli_ok, cli_err, cli_bad_key) = tokio::task::spawn_blocking(move || {
        let ok = client("aws", &["--endpoint-url", &ep, "codepipeline", "list-pipelines"], KEY, SECRET, None);
        let err = client(
            "aws",
            &[
                "--endpoint-url",
                &ep,
                "codepipeline",
                "acknowledge-job",
                "--job-id",
                "22222222-2222-3333-4444-555555555555",
                "--nonce",
                "n",
            ],
            KEY,
            SECRET,
            None,
        );
        let bad = client("aws", &["--endpoint-url", &ep, "codepipeline", "list-pipelines"], KEY, "wrong", None);
        (ok, err, bad)
    })
    .await
    .unwrap();
    assert!(cli_ok.status.success(), "{}", String::from_utf8_lossy(&cli_ok.stderr));
    let out: Value = serde_json::from_slice(&cli_ok.stdout).unwrap();
    assert_eq!(out["pipelines"][0]["name"], "demo");
    // AWS CLI v1 exits 255 on a service error.
    assert_eq!(cli_err.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&cli_err.stderr);
    assert!(
        stderr.contains(
            "An error occurred (JobNotFoundException) when calling the AcknowledgeJob operation: The job was not found."
        ),
        "{stderr}"
    );
    let stderr = String::from_utf8_lossy(&cli_bad_key.stderr);
    assert!(stderr.contains("(InvalidSignatureException) when calling the ListPipelines operation"), "{stderr}");

    // boto3: success, a modelled error, a server-side ValidationException
    // (client-side validation off), and temporary credentials with a session token.
    let script = r#"
import sys, json, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
ep = sys.argv[1]
c = boto3.client("codepipeline", endpoint_url=ep, config=Config(parameter_validation=False, retries={"max_attempts": 1}))
out = {"names": [p["name"] for p in c.list_pipelines()["pipelines"]]}
out["ack"] = c.acknowledge_job(jobId="11111111-2222-3333-4444-555555555555", nonce="n")["status"]
for name, call in [("missing", lambda: c.acknowledge_job(jobId="22222222-2222-3333-4444-555555555555", nonce="n")),
                   ("invalid", lambda: c.poll_for_jobs(actionTypeId={"category": "Bake", "owner": "Custom", "provider": "X", "version": "1"}))]:
    try:
        call()
        out[name] = None
    except ClientError as e:
        out[name] = [e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"], len(e.response["ResponseMetadata"]["RequestId"])]
temp = boto3.client("codepipeline", endpoint_url=ep, aws_access_key_id="ASIALIVE", aws_secret_access_key="temp-secret", aws_session_token="the-session-token")
out["temp"] = len(temp.list_pipelines()["pipelines"])
print(json.dumps(out))
"#;
    let ep = endpoint.clone();
    let py =
        tokio::task::spawn_blocking(move || client("python3", &["-c", script, &ep], KEY, SECRET, None)).await.unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let out: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(out["names"], json!(["demo"]));
    assert_eq!(out["ack"], "InProgress");
    assert_eq!(out["missing"], json!(["JobNotFoundException", "The job was not found.", 400, 36]));
    assert_eq!(out["invalid"][0], "ValidationException");
    assert!(out["invalid"][1].as_str().unwrap().contains("at 'actionTypeId.category'"), "{out}");
    assert_eq!(out["temp"], 1);

    let calls = server.api.calls.lock().unwrap().len();
    assert!(calls >= 5, "{calls}");
    assert!(server.ticks.load(Ordering::SeqCst) > 0, "the tick hook runs while serving");
    server.stop().await;
}

#[tokio::test]
async fn slow_requests_are_answered_with_a_json_timeout() {
    struct Slow;
    impl Api for Slow {
        fn submit(&self, _: &Caller, _: Operation, _: Value, _: SystemTime, reply: Reply) -> Submitted {
            Submitted::Blocking(Box::new(move || {
                std::thread::sleep(Duration::from_millis(300));
                reply(Ok(json!({})));
            }))
        }
    }
    let options = Options { clock: Arc::new(t0), request_timeout: Duration::from_millis(50), ..Options::default() };
    let router = app_with(Arc::new(Slow), &config(), options);
    let a = send(&router, signed(&target("ListPipelines"), "{}", &Signer::default())).await;
    assert_error(&a, 408, "RequestTimeoutException");
}

#[tokio::test]
async fn requests_without_a_target_go_to_the_passthrough_and_the_api_keeps_its_own() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let passthrough: cpjobs_server::Passthrough = Arc::new(move |req: http::Request<Body>| {
        log.lock().unwrap().push(format!("{} {}", req.method(), req.uri()));
        Box::pin(async { http::Response::builder().status(207).body(Body::from("<Other/>")).unwrap() })
    });
    let api = Arc::new(Double::default());
    let now = t0();
    let options = Options { clock: Arc::new(move || now), passthrough: Some(passthrough), ..Options::default() };
    let router = app_with(api.clone(), &config(), options);
    for req in [
        http::Request::get("/bucket/key").body(Body::empty()).unwrap(),
        http::Request::get("/").body(Body::empty()).unwrap(),
        http::Request::post("/?delete").body(Body::from("<Delete/>")).unwrap(),
        http::Request::put("/health").body(Body::empty()).unwrap(),
    ] {
        assert_eq!(send(&router, req).await.status, 207);
    }
    assert_eq!(*seen.lock().unwrap(), ["GET /bucket/key", "GET /", "POST /?delete", "PUT /health"]);
    assert_eq!(send(&router, http::Request::get("/health").body(Body::empty()).unwrap()).await.status, 200);
    let a = send(&router, signed(&target("ListPipelines"), "{}", &Signer::default())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(seen.lock().unwrap().len(), 4, "API and own pages never reach the passthrough");
}

/// Unsigned POSTs under `/webhooks/` go to the webhook receiver with their
/// signature headers and body; signed ones (S3 on a bucket named `webhooks`)
/// stay the passthrough's; bodies over the limit answer 413 unread.
#[tokio::test]
async fn unsigned_webhook_posts_reach_the_receiver_and_signed_ones_stay_s3s() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let passthrough: cpjobs_server::Passthrough = Arc::new(move |req: http::Request<Body>| {
        log.lock().unwrap().push(format!("s3 {} {}", req.method(), req.uri()));
        Box::pin(async { http::Response::builder().status(207).body(Body::from("<Other/>")).unwrap() })
    });
    let posts = Arc::new(Mutex::new(Vec::new()));
    let got = posts.clone();
    let receiver: cpjobs_server::WebhookReceiver = Arc::new(move |post: cpjobs_core::WebhookPost, now| {
        assert_eq!(now, t0(), "the service's clock");
        got.lock().unwrap().push(post.clone());
        cpjobs_core::WebhookAnswer { status: 200, body: json!({"pipelineExecutionId": "e-1"}) }
    });
    let now = t0();
    let options = Options {
        clock: Arc::new(move || now),
        passthrough: Some(passthrough),
        webhooks: Some(receiver),
        ..Options::default()
    };
    let router = app_with(Arc::new(Double::default()), &config(), options);
    let hook = http::Request::post("/webhooks/111111111111/abc")
        .header("x-hub-signature-256", "sha256=00")
        .header("x-hub-signature", "sha1=11")
        .body(Body::from(r#"{"ref":"refs/heads/main"}"#))
        .unwrap();
    let a = send(&router, hook).await;
    assert_eq!((a.status, a.body.clone()), (200, json!({"pipelineExecutionId": "e-1"})));
    {
        let posts = posts.lock().unwrap();
        let p = &posts[0];
        assert_eq!((p.account_id.as_str(), p.id.as_str()), ("111111111111", "abc"));
        assert_eq!((p.signature_sha256.as_deref(), p.signature_sha1.as_deref()), (Some("sha256=00"), Some("sha1=11")));
        assert_eq!(p.body, br#"{"ref":"refs/heads/main"}"#);
        assert!(p.peer.is_unspecified(), "no socket, no peer");
    }
    for req in [
        http::Request::post("/webhooks/111111111111/abc?uploads")
            .header("authorization", "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request")
            .body(Body::empty())
            .unwrap(),
        http::Request::post("/webhooks/k?X-Amz-Signature=00&uploadId=1").body(Body::empty()).unwrap(),
        http::Request::get("/webhooks/111111111111/abc").body(Body::empty()).unwrap(),
    ] {
        assert_eq!(send(&router, req).await.status, 207, "S3's");
    }
    assert_eq!(seen.lock().unwrap().len(), 3);
    let big = vec![b' '; cpjobs_core::WEBHOOK_MAX_BODY_BYTES + 1];
    let a = send(&router, http::Request::post("/webhooks/111111111111/abc").body(Body::from(big)).unwrap()).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert_eq!(posts.lock().unwrap().len(), 1, "a refused body never reaches the domain");
}

/// A GET on a real server, read to its end (`Connection: close`).
async fn raw_get(port: u16, path: &str, authorization: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out)).await.unwrap().unwrap();
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

async fn get(router: &axum::Router, path: &str, authorization: Option<&str>) -> (u16, http::HeaderMap, String) {
    let mut req = http::Request::get(path);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let text = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, headers, text)
}

/// Regression, issue 8 item 8: made-up targets added a series each.
#[tokio::test]
async fn made_up_operations_share_one_metrics_label() {
    let h = harness_at(t0());
    for i in 0..30 {
        let a = send(&h.router, signed(&format!("Cpjobs_20261129.Made{i}"), "{}", &Signer::default())).await;
        assert_error(&a, 400, "UnknownOperationException");
        let a = send(&h.router, signed(&format!("CodePipeline_20150709.Made{i}"), "{}", &Signer::default())).await;
        assert_error(&a, 400, "UnknownOperationException");
    }
    let a = send(&h.router, signed("Cpjobs_20261129.ListThirdPartyClients", "{}", &Signer::default())).await;
    assert_eq!(a.status, 200);
    let (_, _, text) = get(&h.router, "/metrics", None).await;
    assert!(!text.contains("Made"), "{text}");
    assert!(
        text.contains("cpjobs_requests_total{operation=\"unknown\",code=\"UnknownOperationException\"} 60\n"),
        "{text}"
    );
    assert!(text.contains("cpjobs_requests_total{operation=\"ListThirdPartyClients\",code=\"OK\"} 1\n"), "{text}");
}

struct AccountStats;

impl cpjobs_server::StatsSource for AccountStats {
    fn stats(&self, _now: SystemTime) -> cpjobs_server::DomainStats {
        cpjobs_server::DomainStats {
            jobs_by_status: vec![("all".into(), "Queued".into(), 5)],
            queue_depth: vec![("Custom/111111111111/Build/X/1".into(), 2), ("Custom/222222222222/Build/X/1".into(), 3)],
        }
    }
}

/// Issue 8 item 8: who may read `/metrics`, and what anonymous readers see.
#[tokio::test]
async fn metrics_need_the_token_when_one_is_set_and_hide_account_ids_otherwise() {
    let open = Options { clock: Arc::new(t0), stats: Some(Arc::new(AccountStats)), ..Options::default() };
    let router = app_with(Arc::new(Double::default()), &config(), open.clone());
    let (status, _, text) = get(&router, "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(!text.contains("111111111111") && !text.contains("222222222222"), "{text}");
    assert!(text.contains("cpjobs_queue_depth{action_type=\"Custom/Build/X/1\"} 5\n"), "{text}");

    let guarded =
        Options { metrics: cpjobs_server::MetricsAccess { token: Some("s3cret".into()), listen: None }, ..open };
    let router = app_with(Arc::new(Double::default()), &config(), guarded);
    for auth in [None, Some("Bearer nope"), Some("Basic s3cret"), Some("Bearer s3cret-and-more")] {
        let (status, headers, text) = get(&router, "/metrics", auth).await;
        assert_eq!(status, 401, "{auth:?}");
        assert_eq!(headers["www-authenticate"], "Bearer realm=\"cpjobs metrics\"");
        assert!(!text.contains("cpjobs_"), "{text}");
    }
    let (status, _, text) = get(&router, "/metrics", Some("Bearer s3cret")).await;
    assert_eq!(status, 200);
    assert!(text.contains("cpjobs_queue_depth{action_type=\"Custom/111111111111/Build/X/1\"} 2\n"), "{text}");
    assert_eq!(get(&router, "/health", None).await.0, 200, "/health stays open");
}

/// Issue 8 item 8: `/metrics` on an address of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_served_on_another_address_only() {
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (api_port, metrics_port) =
        (api_listener.local_addr().unwrap().port(), metrics_listener.local_addr().unwrap().port());
    let options = Options {
        stats: Some(Arc::new(AccountStats)),
        metrics: cpjobs_server::MetricsAccess { token: None, listen: Some(metrics_listener.local_addr().unwrap()) },
        ..Options::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        cpjobs_server::serve_on(
            api_listener,
            Some(metrics_listener),
            Arc::new(Double::default()),
            &config(),
            options,
            async {
                let _ = rx.await;
            },
        )
        .await
    });
    let (status, text) = raw_get(metrics_port, "/metrics", None).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("cpjobs_queue_depth{action_type=\"Custom/Build/X/1\"} 5"), "{text}");
    let (status, text) = raw_get(api_port, "/metrics", None).await;
    assert_eq!(status, 404, "{text}");
    assert!(!text.contains("cpjobs_queue_depth"), "{text}");
    assert_eq!(raw_get(api_port, "/health", None).await.0, 200);
    let _ = tx.send(());
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap().unwrap();
}

/// Regression, issue 8 item 11: a codepipeline-signed request without a
/// target went to the S3 side and got its XML `NotImplemented`.
#[tokio::test]
async fn requests_signed_for_codepipeline_always_get_json_answers() {
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    let passthrough: cpjobs_server::Passthrough = Arc::new(move |_req: http::Request<Body>| {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { http::Response::builder().status(501).body(Body::from("<Error/>")).unwrap() })
    });
    let options = Options { clock: Arc::new(t0), passthrough: Some(passthrough), ..Options::default() };
    let router = app_with(Arc::new(Double::default()), &config(), options);

    let mut req = signed(&target("ListPipelines"), "{}", &Signer::default());
    req.headers_mut().remove("x-amz-target");
    let a = send(&router, req).await;
    let message = assert_error(&a, 400, "UnknownOperationException");
    assert!(message.contains("X-Amz-Target"), "{message}");

    let presigned = "/some-bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIACUSTOMER00000001%2F20261129%2Fus-east-1%2Fcodepipeline%2Faws4_request&X-Amz-Date=20261129T180000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
    let a = send(&router, http::Request::get(presigned).body(Body::empty()).unwrap()).await;
    assert_error(&a, 404, "UnknownOperationException");
    let a = send(&router, http::Request::post("/?delete").header("authorization", "AWS4-HMAC-SHA256 Credential=AKIACUSTOMER00000001/20261129/us-east-1/codepipeline/aws4_request, SignedHeaders=host, Signature=00").body(Body::empty()).unwrap()).await;
    assert_error(&a, 400, "UnknownOperationException");
    assert_eq!(seen.load(Ordering::SeqCst), 0, "none reached the S3 side");

    // Signed for s3, or not signed: the S3 side's.
    let s3 = "AWS4-HMAC-SHA256 Credential=AKIACUSTOMER00000001/20261129/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    let a = send(&router, http::Request::get("/b/k").header("authorization", s3).body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, 501);
    let a = send(
        &router,
        http::Request::get("/b/k?X-Amz-Credential=K%2F20261129%2Fus-east-1%2Fs3%2Faws4_request")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 501);
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

/// Issue 8 item 13: request logs at DEBUG show neither `Authorization`, nor
/// session tokens, nor presigned signatures and credentials.
#[tokio::test]
async fn debug_request_logs_hold_no_signing_secrets() {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();

    let passthrough: cpjobs_server::Passthrough = Arc::new(|_req: http::Request<Body>| {
        Box::pin(async { http::Response::builder().status(403).body(Body::from("<Error/>")).unwrap() })
    });
    let options = Options {
        clock: Arc::new(t0),
        temporary_credentials: Some(Arc::new(Temps { now: t0() })),
        passthrough: Some(passthrough),
        ..Options::default()
    };
    let router = app_with(Arc::new(Double::default()), &config(), options);
    let temp = Signer { key: "ASIALIVE", secret: "temp-secret", token: Some("the-session-token"), ..Signer::default() };
    let request = signed(&target("ListPipelines"), "{}", &temp);
    let _guard = tracing::subscriber::set_default(subscriber);
    let a = send(&router, request).await;
    assert_eq!(a.status, 200);
    let presigned = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIALIVE%2F20261129%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=the-session-token&X-Amz-SignedHeaders=host&X-Amz-Signature=feedfacefeedface";
    assert_eq!(send(&router, http::Request::get(presigned).body(Body::empty()).unwrap()).await.status, 403);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("X-Amz-Signature=REDACTED"), "the request is logged at DEBUG: {logs}");
    let logs = logs.replace("X-Amz-Signature=REDACTED", "");
    for secret in ["the-session-token", "feedfacefeedface", "Signature=", "temp-secret"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs: {logs}");
    }
}
