//! Property tests that look for the next hostile-input bug (issue 8): the
//! request decoder (routing, body, JSON, target, validation) through the
//! router with random and mutated requests, and the SigV4 verifier with
//! mutations of valid signed requests and random headers. Case counts are
//! bounded so the suite stays fast.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::body::Body;
use cpjobs_core::config::{Account, Principal};
use cpjobs_core::{Api, Caller, Operation, Reply, ServiceConfig, Submitted};
use cpjobs_server::sigv4::{SignedRequest, Verifier};
use cpjobs_server::{Options, app_with};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "AKIACUSTOMER00000001";
const SECRET: &str = "customer-secret";

/// Answers every operation it is handed, as the domain would for valid input.
struct Echo;

impl Api for Echo {
    fn submit(&self, _: &Caller, _: Operation, _: Value, _: SystemTime, reply: Reply) -> Submitted {
        reply(Ok(json!({})));
        Submitted::Taken
    }
}

fn config() -> ServiceConfig {
    ServiceConfig {
        region: "us-east-1".into(),
        accounts: vec![Account {
            id: "111111111111".into(),
            principals: vec![Principal { access_key_id: KEY.into(), secret_access_key: SECRET.into() }],
        }],
        third_party_action_types: vec![],
        dispatch_lease_seconds: None,
        ..Default::default()
    }
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_975_200)
}

/// `(name, value)` headers of a request signed for codepipeline over `body`.
fn sign_headers(method: &str, path: &str, target: &str, body: &[u8]) -> Vec<(String, String)> {
    let headers = [("host", "localhost"), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)];
    let identity = Credentials::new(KEY, SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("codepipeline")
        .time(t0())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!("http://localhost{path}");
    let signable = SignableRequest::new(method, &uri, headers.iter().copied(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in instructions.headers() {
        out.push((k.to_owned(), v.to_owned()));
    }
    out
}

fn header_map(headers: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(v)) {
            map.append(k, v);
        }
    }
    map
}

/// Targets: real operations, extension names, and garbage.
fn targets() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("CodePipeline_20150709.PollForJobs".to_owned()),
        Just("CodePipeline_20150709.CreatePipeline".to_owned()),
        Just("CodePipeline_20150709.PutJobSuccessResult".to_owned()),
        Just("Cpjobs_20261129.ListThirdPartyClients".to_owned()),
        "[A-Za-z_0-9]{0,20}\\.[A-Za-z0-9]{0,70}",
        ".{0,40}",
    ]
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,30}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies: random bytes, random JSON, and real inputs with random members.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let members = ["actionTypeId", "maxBatchSize", "queryParam", "jobId", "nonce", "pipeline", "clientToken"];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (prop::sample::select(members.to_vec()), json_value()).prop_map(|(k, v)| {
            let mut input =
                json!({"actionTypeId": {"category": "Build", "owner": "Custom", "provider": "X", "version": "1"}});
            input[k] = v;
            input.to_string().into_bytes()
        }),
    ]
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

fn send(rt: &tokio::runtime::Runtime, router: &axum::Router, req: http::Request<Body>) -> Answer {
    rt.block_on(async {
        let resp = router.clone().oneshot(req).await.unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer { status, headers, body }
    })
}

/// Every refusal is an AWS JSON 1.1 error a client can read; never a 5xx.
fn assert_aws_answer(a: &Answer) -> Result<(), TestCaseError> {
    prop_assert!(a.status < 500, "status {} {}", a.status, String::from_utf8_lossy(&a.body));
    prop_assert!(a.headers.contains_key("x-amzn-requestid"));
    if a.status != 200 {
        let v: Value = serde_json::from_slice(&a.body).map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
        prop_assert!(v["__type"].is_string() && v["message"].is_string(), "{v}");
        prop_assert_eq!(&a.headers["content-type"], "application/x-amz-json-1.1");
        prop_assert_eq!(a.headers["x-amzn-errortype"].to_str().unwrap(), v["__type"].as_str().unwrap());
    }
    Ok(())
}

fn router() -> axum::Router {
    // The S3 side stands ready: anything that reaches it answers XML, which the assertions refuse.
    let passthrough: cpjobs_server::Passthrough = Arc::new(|_req: http::Request<Body>| {
        Box::pin(async { http::Response::builder().status(501).body(Body::from("<Error/>")).unwrap() })
    });
    let options =
        Options { clock: Arc::new(t0), max_body_bytes: 4096, passthrough: Some(passthrough), ..Options::default() };
    app_with(Arc::new(Echo), &config(), options)
}

fn router_without_passthrough() -> axum::Router {
    let options = Options { clock: Arc::new(t0), max_body_bytes: 4096, ..Options::default() };
    app_with(Arc::new(Echo), &config(), options)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Unsigned, hostile requests of any shape: an AWS error, never a panic or a 5xx.
    #[test]
    fn any_request_gets_an_aws_answer(
        method in prop::sample::select(vec!["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"]),
        path in prop_oneof![Just("/".to_owned()), "/[a-z?=&%/]{0,20}"],
        target in prop::option::of(targets()),
        extra in prop::collection::vec(("[a-z-]{1,20}", "[ -~]{0,40}"), 0..5),
        body in bodies(),
    ) {
        let rt = runtime();
        let mut req = http::Request::builder().method(method).uri(&path);
        if let Some(v) = target.as_deref().and_then(|t| http::HeaderValue::from_str(t).ok()) {
            req = req.header("x-amz-target", v);
        }
        for (k, v) in &extra {
            if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(v)) {
                req = req.header(k, v);
            }
        }
        let Ok(req) = req.body(Body::from(body)) else { return Ok(()) };
        let a = send(&rt, &router_without_passthrough(), req);
        prop_assert!(a.status != 200, "unsigned requests are never answered 200");
        assert_aws_answer(&a)?;
    }

    /// Correctly signed requests with random targets and bodies: they pass the
    /// signature, then JSON, target and model checks answer them, never a 5xx.
    #[test]
    fn signed_random_bodies_get_aws_answers(
        target in targets(),
        body in bodies(),
        drop_target in prop::bool::weighted(0.2),
        method in prop::sample::select(vec!["POST", "POST", "GET", "PUT", "DELETE"]),
        path in prop_oneof![3 => Just("/".to_owned()), 1 => "/[a-z]{1,10}(/[a-z]{1,10})?"],
    ) {
        let rt = runtime();
        if http::HeaderValue::from_str(&target).is_err() {
            return Ok(());
        }
        let headers = sign_headers(method, &path, &target, &body);
        let mut req = http::Request::builder().method(method).uri(&path);
        for (k, v) in &headers {
            // Signed for codepipeline, whatever is left out: never the S3 side's.
            if !(drop_target && k == "x-amz-target") {
                req = req.header(k.as_str(), v.as_str());
            }
        }
        let a = send(&rt, &router(), req.body(Body::from(body)).unwrap());
        assert_aws_answer(&a)?;
        if a.status != 200 {
            let v: Value = serde_json::from_slice(&a.body).unwrap();
            let code = v["__type"].as_str().unwrap();
            prop_assert!(
                ["UnknownOperationException", "SerializationException", "ValidationException"].contains(&code),
                "a signed request is refused only for its content: {v}"
            );
        }
    }

    /// One mutation of a valid signed request (body, a signed header, the
    /// method, the path, the signature, the date) never verifies.
    #[test]
    fn mutated_signed_requests_never_verify(
        body in prop::collection::vec(any::<u8>(), 0..64),
        mutation in 0usize..6,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let verifier = Verifier::new(&config(), None);
        let target = "CodePipeline_20150709.PollForJobs";
        let mut headers = sign_headers("POST", "/", target, &body);
        let (mut method, mut path, mut body) = ("POST".to_owned(), "/".to_owned(), body);
        {
            let map = header_map(&headers);
            let ok = verifier.verify(&SignedRequest { method: &method, path_and_query: &path, headers: &map, body: &body }, t0());
            prop_assert!(ok.is_ok(), "the unmutated request verifies: {:?}", ok.err().map(|e| e.message));
        }
        let flip = |s: &str, i: usize| -> String {
            let mut b = s.as_bytes().to_vec();
            let i = i % b.len().max(1);
            if b.is_empty() { return "x".into() }
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            String::from_utf8_lossy(&b).into_owned()
        };
        match mutation {
            0 => {
                if body.is_empty() { body.push(byte) } else {
                    let i = at.index(body.len());
                    body[i] = body[i].wrapping_add(1 + byte % 255);
                }
            }
            1 => {
                let i = headers.iter().position(|(k, _)| k == "x-amz-target").unwrap();
                headers[i].1 = flip(&headers[i].1, at.index(64));
            }
            2 => method = "PUT".into(),
            3 => path = "/other".into(),
            4 => {
                let i = headers.iter().position(|(k, _)| k == "authorization").unwrap();
                let auth = headers[i].1.clone();
                let sig_at = auth.find("Signature=").unwrap() + "Signature=".len();
                let j = sig_at + at.index(64);
                let mut b = auth.into_bytes();
                b[j] = if b[j] == b'0' { b'1' } else { b'0' };
                headers[i].1 = String::from_utf8(b).unwrap();
            }
            _ => {
                let i = headers.iter().position(|(k, _)| k == "x-amz-date").unwrap();
                headers[i].1 = "20261129T180001Z".into();
            }
        }
        let map = header_map(&headers);
        let r = verifier.verify(&SignedRequest { method: &method, path_and_query: &path, headers: &map, body: &body }, t0());
        prop_assert!(r.is_err(), "mutation {} verified", mutation);
    }

    /// Random and half-valid `Authorization` and date headers never panic the
    /// verifier, and never verify.
    #[test]
    fn random_headers_never_panic_the_verifier(
        auth in prop_oneof![
            "[ -~]{0,120}",
            ("[A-Z0-9]{0,24}", "[0-9]{0,8}", "[a-z0-9-]{0,12}", "[a-z]{0,14}", "[a-z;-]{0,30}", "[0-9a-f]{0,70}")
                .prop_map(|(k, d, r, s, h, sig)| format!("AWS4-HMAC-SHA256 Credential={k}/{d}/{r}/{s}/aws4_request, SignedHeaders={h}, Signature={sig}")),
        ],
        date in prop_oneof!["[0-9TZ]{0,20}", Just("20261129T180000Z".to_owned())],
        token in prop::option::of("[ -~]{0,40}"),
        extra in prop::collection::vec(("[a-z-]{1,16}", "[ -~]{0,30}"), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let verifier = Verifier::new(&config(), None);
        let mut headers = vec![
            ("host".to_owned(), "localhost".to_owned()),
            ("authorization".to_owned(), auth),
            ("x-amz-date".to_owned(), date),
        ];
        if let Some(t) = token {
            headers.push(("x-amz-security-token".into(), t));
        }
        headers.extend(extra);
        let map = header_map(&headers);
        let r = verifier.verify(&SignedRequest { method: "POST", path_and_query: "/", headers: &map, body: &body }, t0());
        prop_assert!(r.is_err());
        let e = r.unwrap_err();
        prop_assert!(e.status >= 400 && e.status < 500, "{} {}", e.status, e.code);
    }
}
