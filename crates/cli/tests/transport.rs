//! The transport against a mock CodePipeline endpoint on 127.0.0.1:0: the
//! exact request (headers, body, signature recomputed independently),
//! retries with one invocation id, and AWS CLI's messages for each failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpjobs_cli::args::GlobalArgs;
use cpjobs_cli::config::{Env, Session};
use cpjobs_cli::transport::Client;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

#[derive(Clone)]
enum Action {
    Respond { status: u16, headers: Vec<(&'static str, &'static str)>, body: &'static str },
    Close,
    Delay(Duration),
}

#[derive(Debug, Clone)]
struct Recorded {
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Mock {
    port: u16,
    log: Arc<Mutex<Vec<Recorded>>>,
}

/// Serves `script` (the last action repeats) and records every request.
fn mock(script: Vec<Action>) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = log2.clone();
            let script = script.clone();
            std::thread::spawn(move || serve(stream, &script, &log));
        }
    });
    Mock { port, log }
}

fn serve(stream: TcpStream, script: &[Action], log: &Mutex<Vec<Recorded>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.to_owned(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let n = {
            let mut l = log.lock().unwrap();
            l.push(Recorded { target, headers, body });
            l.len()
        };
        let mut action = script[(n - 1).min(script.len() - 1)].clone();
        if let Action::Delay(d) = action {
            std::thread::sleep(d);
            action = Action::Respond { status: 200, headers: vec![], body: "{}" };
        }
        match action {
            Action::Close => return,
            Action::Respond { status, headers, body } => {
                let mut out =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nx-amzn-RequestId: r-{n}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(body);
                if stream.write_all(out.as_bytes()).is_err() {
                    return;
                }
            }
            Action::Delay(_) => unreachable!(),
        }
    }
}

fn ok() -> Action {
    Action::Respond { status: 200, headers: vec![("Date", "Sun, 29 Nov 2026 17:54:27 GMT")], body: r#"{"jobs": []}"# }
}

fn throttle() -> Action {
    Action::Respond {
        status: 400,
        headers: vec![("Date", "Sun, 29 Nov 2026 17:54:27 GMT")],
        body: r#"{"__type": "ThrottlingException", "message": "Rate exceeded"}"#,
    }
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn empty_home() -> String {
    let dir = std::env::temp_dir().join(format!("cpjobs-transport-home-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

fn session(globals: &GlobalArgs, extra: &[(&str, &str)]) -> Session {
    let mut env = vec![
        ("HOME".to_owned(), empty_home()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDEXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), SECRET.to_owned()),
        ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
    ];
    for (k, v) in extra {
        env.retain(|(ek, _)| ek != k);
        if !v.is_empty() {
            env.push((k.to_string(), v.to_string()));
        }
    }
    Session::load_with_env(globals, Env::from_pairs(env)).unwrap()
}

fn globals(url: &str) -> GlobalArgs {
    GlobalArgs { endpoint_url: Some(url.to_owned()), ..GlobalArgs::default() }
}

fn client(globals: &GlobalArgs, extra: &[(&str, &str)]) -> (Client, Arc<Mutex<Vec<Duration>>>) {
    let mut c = Client::new(&session(globals, extra), globals).unwrap();
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let s2 = sleeps.clone();
    c.set_sleeper(Arc::new(move |d| s2.lock().unwrap().push(d)));
    (c, sleeps)
}

fn op() -> cpjobs_model::Operation {
    cpjobs_model::ServiceModel::codepipeline().operation("PollForThirdPartyJobs").unwrap().clone()
}

const BODY: &str = r#"{"actionTypeId": {"category": "Build", "owner": "ThirdParty", "provider": "p", "version": "1"}}"#;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Recomputes the signature the way botocore's auth.py does and compares.
fn verify_sigv4(r: &Recorded, secret: &str, canonical_uri: &str, canonical_query: &str) {
    let auth = r.header("authorization").expect("signed");
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 Credential=").unwrap();
    let (cred, rest) = rest.split_once(", SignedHeaders=").unwrap();
    let (signed, sig) = rest.split_once(", Signature=").unwrap();
    let scope: Vec<&str> = cred.split('/').collect();
    let names: Vec<&str> = signed.split(';').collect();
    let canonical_headers: String = names.iter().map(|n| format!("{n}:{}\n", r.header(n).unwrap().trim())).collect();
    let cr = format!(
        "POST\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed}\n{}",
        hex(&Sha256::digest(&r.body))
    );
    let date = r.header("x-amz-date").unwrap();
    let sts = format!("AWS4-HMAC-SHA256\n{date}\n{}\n{}", scope[1..].join("/"), hex(&Sha256::digest(cr.as_bytes())));
    let mac = |key: &[u8], msg: &str| {
        let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
        m.update(msg.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let mut k = mac(format!("AWS4{secret}").as_bytes(), scope[1]);
    for part in &scope[2..5] {
        k = mac(&k, part);
    }
    assert_eq!(sig, hex(&mac(&k, &sts)), "signature");
}

#[test]
fn request_is_aws_cli_s() {
    let m = mock(vec![ok()]);
    let url = format!("http://127.0.0.1:{}", m.port);
    let (c, _) = client(&globals(&url), &[]);
    let resp = c.call(&op(), BODY).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, br#"{"jobs": []}"#);
    assert_eq!(resp.header("x-amzn-requestid"), Some("r-1"));
    let log = m.log.lock().unwrap();
    assert_eq!(log.len(), 1);
    let r = &log[0];
    assert_eq!(r.target, "/");
    assert_eq!(r.body, BODY.as_bytes());
    let mut names: Vec<String> = r
        .headers
        .iter()
        .map(|(k, _)| k.to_lowercase())
        .filter(|k| !matches!(k.as_str(), "accept" | "connection"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "accept-encoding",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "user-agent",
            "x-amz-date",
            "x-amz-target"
        ]
    );
    assert_eq!(r.header("host").unwrap(), format!("127.0.0.1:{}", m.port));
    assert_eq!(r.header("accept-encoding"), Some("identity"));
    assert_eq!(r.header("x-amz-target"), Some("CodePipeline_20150709.PollForThirdPartyJobs"));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    assert_eq!(r.header("content-length"), Some("95"));
    assert_eq!(r.header("amz-sdk-request"), Some("attempt=1"));
    let id = r.header("amz-sdk-invocation-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).unwrap().get_version_num() == 4, "{id}");
    let auth = r.header("authorization").unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
    assert!(
        auth.contains(
            "/us-east-1/codepipeline/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
        ),
        "{auth}"
    );
    verify_sigv4(r, SECRET, "/", "");
}

#[test]
fn endpoint_path_query_and_session_token() {
    let m = mock(vec![ok()]);
    let url = format!("http://127.0.0.1:{}/base%20x/path?x=1&a=b%20c", m.port);
    let (c, _) = client(&globals(&url), &[("AWS_SESSION_TOKEN", "FAKESESSIONTOKEN//abc==")]);
    c.call(&op(), BODY).unwrap();
    let log = m.log.lock().unwrap();
    let r = &log[0];
    assert_eq!(r.target, "/base%20x/path?x=1&a=b%20c");
    assert_eq!(r.header("x-amz-security-token"), Some("FAKESESSIONTOKEN//abc=="));
    assert!(
        r.header("authorization")
            .unwrap()
            .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target")
    );
    verify_sigv4(r, SECRET, "/base%2520x/path", "a=b%20c&x=1");
}

#[test]
fn unsigned_request_needs_no_credentials() {
    let m = mock(vec![ok()]);
    let g = GlobalArgs { no_sign_request: true, ..globals(&format!("http://127.0.0.1:{}", m.port)) };
    let (c, _) = client(&g, &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")]);
    c.call(&op(), BODY).unwrap();
    let r = &m.log.lock().unwrap()[0];
    assert!(r.header("authorization").is_none() && r.header("x-amz-date").is_none());
}

#[test]
fn throttling_is_retried_with_one_invocation_id() {
    let m = mock(vec![throttle(), throttle(), ok()]);
    let (c, sleeps) = client(&globals(&format!("http://127.0.0.1:{}", m.port)), &[]);
    assert_eq!(c.call(&op(), BODY).unwrap().status, 200);
    let log = m.log.lock().unwrap();
    assert_eq!(log.len(), 3);
    let ids: Vec<&str> = log.iter().map(|r| r.header("amz-sdk-invocation-id").unwrap()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]));
    assert_eq!(log[0].header("amz-sdk-request"), Some("attempt=1"));
    for (i, r) in log.iter().enumerate().skip(1) {
        let v = r.header("amz-sdk-request").unwrap();
        let (ttl, rest) = v.split_once("; ").unwrap();
        assert_eq!(rest, format!("attempt={}; max=5", i + 1));
        let ttl = ttl.strip_prefix("ttl=").unwrap();
        // The server's Date is fixed, so ttl = that date + 60 s read timeout (± clock jitter).
        assert!(["20261129T175527Z", "20261129T175526Z", "20261129T175528Z"].contains(&ttl), "{ttl}");
        verify_sigv4(r, SECRET, "/", "");
    }
    let sleeps = sleeps.lock().unwrap();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] < Duration::from_secs(1) && sleeps[1] < Duration::from_secs(2));
}

#[test]
fn exhausted_retries_say_so() {
    let m = mock(vec![Action::Respond { status: 500, headers: vec![], body: "" }]);
    let (c, sleeps) = client(&globals(&format!("http://127.0.0.1:{}", m.port)), &[]);
    let e = c.call(&op(), BODY).unwrap_err();
    assert_eq!(e.exit_code, 255);
    assert_eq!(
        e.stderr,
        "\nAn error occurred (500) when calling the PollForThirdPartyJobs operation (reached max retries: 4): Internal Server Error\n"
    );
    assert_eq!(m.log.lock().unwrap().len(), 5);
    assert_eq!(sleeps.lock().unwrap().len(), 4);
    // Without a Date header there is no ttl.
    assert_eq!(m.log.lock().unwrap()[4].header("amz-sdk-request"), Some("attempt=5; max=5"));
}

#[test]
fn max_attempts_and_non_retryable() {
    let m = mock(vec![Action::Respond {
        status: 500,
        headers: vec![],
        body: r#"{"__type": "InternalFailure", "message": "m"}"#,
    }]);
    let (c, _) = client(&globals(&format!("http://127.0.0.1:{}", m.port)), &[("AWS_MAX_ATTEMPTS", "2")]);
    assert_eq!(
        c.call(&op(), BODY).unwrap_err().stderr,
        "\nAn error occurred (InternalFailure) when calling the PollForThirdPartyJobs operation (reached max retries: 1): m\n"
    );
    assert_eq!(m.log.lock().unwrap().len(), 2);

    let m = mock(vec![Action::Respond {
        status: 400,
        headers: vec![],
        body: r#"{"__type": "ValidationException", "message": "bad"}"#,
    }]);
    let (c, _) = client(&globals(&format!("http://127.0.0.1:{}", m.port)), &[]);
    assert_eq!(
        c.call(&op(), BODY).unwrap_err().stderr,
        "\nAn error occurred (ValidationException) when calling the PollForThirdPartyJobs operation: bad\n"
    );
    assert_eq!(m.log.lock().unwrap().len(), 1);
}

#[test]
fn closed_connection_then_ok() {
    let m = mock(vec![Action::Close, ok()]);
    let (c, sleeps) = client(&globals(&format!("http://127.0.0.1:{}", m.port)), &[]);
    assert_eq!(c.call(&op(), BODY).unwrap().status, 200);
    let log = m.log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].header("amz-sdk-request"), Some("attempt=2; max=5"));
    assert_eq!(sleeps.lock().unwrap().len(), 1);
}

#[test]
fn closed_connection_every_time() {
    let m = mock(vec![Action::Close]);
    let url = format!("http://127.0.0.1:{}", m.port);
    let (c, _) = client(&globals(&url), &[]);
    let e = c.call(&op(), BODY).unwrap_err();
    assert_eq!(
        e.stderr,
        format!("\nConnection was closed before we received a valid response from endpoint URL: \"{url}/\".\n")
    );
    assert_eq!(m.log.lock().unwrap().len(), 5);
}

#[test]
fn connection_refused() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (c, sleeps) = client(&globals(&format!("http://127.0.0.1:{port}")), &[]);
    let e = c.call(&op(), BODY).unwrap_err();
    assert_eq!(e.stderr, format!("\nCould not connect to the endpoint URL: \"http://127.0.0.1:{port}/\"\n"));
    assert_eq!(sleeps.lock().unwrap().len(), 4);
}

#[test]
fn read_timeout() {
    let m = mock(vec![Action::Delay(Duration::from_millis(2500))]);
    let mut g = globals(&format!("http://127.0.0.1:{}", m.port));
    g.cli_read_timeout = Some("1".into());
    let (c, _) = client(&g, &[("AWS_MAX_ATTEMPTS", "1")]);
    let e = c.call(&op(), BODY).unwrap_err();
    assert_eq!(e.stderr, format!("\nRead timeout on endpoint URL: \"http://127.0.0.1:{}/\"\n", m.port));
}

#[test]
fn client_creation_errors_in_aws_cli_order() {
    let g = globals("http://127.0.0.1:1");
    // No region: reported before missing credentials.
    let s = session(&g, &[("AWS_DEFAULT_REGION", ""), ("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")]);
    assert_eq!(
        Client::new(&s, &g).unwrap_err().stderr,
        "You must specify a region. You can also configure your region by running \"aws configure\".\n"
    );
    // Partial credentials come before the missing region.
    let s = session(&g, &[("AWS_DEFAULT_REGION", ""), ("AWS_SECRET_ACCESS_KEY", "")]);
    assert_eq!(
        Client::new(&s, &g).unwrap_err().stderr,
        "\nPartial credentials found in env, missing: AWS_SECRET_ACCESS_KEY\n"
    );
    // Missing credentials only show when a request is signed.
    let s = session(&g, &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")]);
    let c = Client::new(&s, &g).unwrap();
    assert_eq!(
        c.call(&op(), BODY).unwrap_err().stderr,
        "Unable to locate credentials. You can configure credentials by running \"aws configure\".\n"
    );
    // Retry settings, then timeouts, then the endpoint itself.
    let s = session(&g, &[("AWS_RETRY_MODE", "bogus")]);
    assert!(Client::new(&s, &g).unwrap_err().stderr.contains("\"mode\": \"bogus\""));
    let mut t = g.clone();
    t.cli_read_timeout = Some("-1".into());
    assert_eq!(
        Client::new(&session(&t, &[]), &t).unwrap_err().stderr,
        "\nAttempted to set read timeout to -1, but the timeout cannot be set to a value less than or equal to 0.\n"
    );
    let ftp = globals("ftp://127.0.0.1:1");
    let c = Client::new(&session(&ftp, &[]), &ftp).unwrap();
    assert_eq!(
        c.call(&op(), BODY).unwrap_err().stderr,
        "\nAn HTTP Client raised an unhandled exception: Not supported URL scheme ftp\n"
    );
    let big = globals("http://127.0.0.1:99999");
    let c = Client::new(&session(&big, &[]), &big).unwrap();
    assert_eq!(c.call(&op(), BODY).unwrap_err().stderr, "\nPort out of range 0-65535\n");
    let bad = globals("127.0.0.1:1");
    assert!(Client::new(&session(&bad, &[]), &bad).unwrap_err().stderr.contains("scheme is missing"));
}

#[test]
fn configured_endpoint_env() {
    let m = mock(vec![ok()]);
    let g = GlobalArgs::default();
    let url = format!("http://127.0.0.1:{}", m.port);
    let (c, _) =
        client(&g, &[("AWS_ENDPOINT_URL_CODEPIPELINE", url.as_str()), ("AWS_ENDPOINT_URL", "http://127.0.0.1:1")]);
    assert_eq!(c.url(), format!("{url}/"));
    c.call(&op(), BODY).unwrap();
    assert_eq!(m.log.lock().unwrap().len(), 1);
}

const STS_OK: &str = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumedsecret</SecretAccessKey><SessionToken>assumed/token==</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";

/// A HOME of its own per test: assumed credentials get cached under it.
fn role_session(url: &str, tag: &str) -> (GlobalArgs, Session) {
    let home = std::env::temp_dir().join(format!("cpjobs-transport-role-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!("[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\nregion = us-east-1\n[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let g = GlobalArgs { profile: Some("r".into()), ..globals(url) };
    let env = Env::from_pairs([("HOME", home.display().to_string()), ("AWS_ENDPOINT_URL_STS", url.to_owned())]);
    let s = Session::load_with_env(&g, env).unwrap();
    (g, s)
}

#[test]
fn assume_role_then_call() {
    let m = mock(vec![Action::Respond { status: 200, headers: vec![], body: STS_OK }, ok()]);
    let url = format!("http://127.0.0.1:{}", m.port);
    let (g, s) = role_session(&url, "ok");
    let c = Client::new(&s, &g).unwrap();
    assert_eq!(m.log.lock().unwrap().len(), 0, "STS is called only when signing");
    c.call(&op(), BODY).unwrap();
    let log = m.log.lock().unwrap();
    assert_eq!(log.len(), 2);
    let sts = &log[0];
    assert_eq!(sts.header("content-type"), Some("application/x-www-form-urlencoded; charset=utf-8"));
    assert!(sts.header("x-amz-target").is_none());
    let body = String::from_utf8(sts.body.clone()).unwrap();
    assert!(body.starts_with("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&RoleSessionName=botocore-session-"), "{body}");
    let auth = sts.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDBASE/")
            && auth.contains("/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, "),
        "{auth}"
    );
    verify_sigv4(sts, SECRET, "/", "");
    let cp = &log[1];
    assert_eq!(cp.header("x-amz-security-token"), Some("assumed/token=="));
    assert!(cp.header("authorization").unwrap().contains("Credential=ASIAASSUMED/"));
    verify_sigv4(cp, "assumedsecret", "/", "");
}

#[test]
fn assume_role_failure_reads_like_aws_cli() {
    let denied = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>";
    let m = mock(vec![Action::Respond { status: 403, headers: vec![], body: denied }]);
    let url = format!("http://127.0.0.1:{}", m.port);
    let (g, s) = role_session(&url, "denied");
    let c = Client::new(&s, &g).unwrap();
    assert_eq!(
        c.call(&op(), BODY).unwrap_err().stderr,
        "\nAn error occurred (AccessDenied) when calling the AssumeRole operation: User is not authorized\n"
    );
    assert_eq!(m.log.lock().unwrap().len(), 1);
}

#[test]
fn web_identity_then_call() {
    let m = mock(vec![Action::Respond { status: 200, headers: vec![], body: STS_OK }, ok()]);
    let url = format!("http://127.0.0.1:{}", m.port);
    let dir = std::env::temp_dir().join(format!("cpjobs-transport-wi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tok = dir.join("token");
    std::fs::write(&tok, "eyJ.token+/=").unwrap();
    let g = globals(&url);
    let env = Env::from_pairs([
        ("HOME", dir.display().to_string()),
        ("AWS_DEFAULT_REGION", "eu-west-1".to_owned()),
        ("AWS_ENDPOINT_URL_STS", url.clone()),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", tok.display().to_string()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/w".to_owned()),
        ("AWS_ROLE_SESSION_NAME", "sess".to_owned()),
    ]);
    let s = Session::load_with_env(&g, env).unwrap();
    Client::new(&s, &g).unwrap().call(&op(), BODY).unwrap();
    let log = m.log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[0].header("authorization").is_none(), "AssumeRoleWithWebIdentity is unsigned");
    assert_eq!(
        String::from_utf8(log[0].body.clone()).unwrap(),
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fw&RoleSessionName=sess&WebIdentityToken=eyJ.token%2B%2F%3D"
    );
    assert!(log[1].header("authorization").unwrap().contains("Credential=ASIAASSUMED/"));
    verify_sigv4(&log[1], "assumedsecret", "/", "");
}

#[test]
fn assumed_credentials_are_cached_like_aws_cli() {
    let sts_ok = "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/x/s</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIACACHED</AccessKeyId><SecretAccessKey>cachedsecret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
    let m = mock(vec![Action::Respond { status: 200, headers: vec![], body: sts_ok }, ok()]);
    let url = format!("http://127.0.0.1:{}", m.port);
    let home = std::env::temp_dir().join(format!("cpjobs-transport-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!("[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\nregion = us-east-1\n[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let g = GlobalArgs { profile: Some("r".into()), ..globals(&url) };
    let env = || Env::from_pairs([("HOME", home.display().to_string()), ("AWS_ENDPOINT_URL_STS", url.clone())]);
    for _ in 0..2 {
        let s = Session::load_with_env(&g, env()).unwrap();
        Client::new(&s, &g).unwrap().call(&op(), BODY).unwrap();
    }
    let log = m.log.lock().unwrap();
    // One STS call, then two CodePipeline calls: the second process reads the cache.
    assert_eq!(log.len(), 3);
    assert!(log[2].header("authorization").unwrap().contains("Credential=ASIACACHED/"));
    let cached =
        std::fs::read_to_string(home.join(".aws/cli/cache/f84d75ff2dd3e8682912dae5e7be77540d9d68d0.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&cached).unwrap();
    assert_eq!(v["Credentials"]["Expiration"], "2099-01-01T00:00:00UTC");
    assert_eq!(v["AssumedRoleUser"]["Arn"], "arn:aws:sts::123456789012:assumed-role/x/s");
}

/// An https endpoint with the self-signed certificate in tests/data (SAN IP:127.0.0.1).
fn tls_mock() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(include_bytes!("data/selfsigned.pem")).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("data/selfsigned.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read headers and a body of Content-Length bytes, then answer.
                loop {
                    let Ok(n) = tls.read(&mut chunk) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

#[test]
fn tls_like_python_ssl() {
    let port = tls_mock();
    let url = format!("https://127.0.0.1:{port}");
    let run = |g: GlobalArgs| {
        let (c, _) = client(&g, &[("AWS_MAX_ATTEMPTS", "1")]);
        c.call(&op(), BODY).map(|r| r.status).map_err(|e| e.stderr)
    };
    assert_eq!(
        run(globals(&url)).unwrap_err(),
        format!(
            "\nSSL validation failed for {url}/ [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)\n"
        )
    );
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/selfsigned.pem");
    assert_eq!(run(GlobalArgs { ca_bundle: Some(bundle.into()), ..globals(&url) }), Ok(200));
    assert_eq!(run(GlobalArgs { no_verify_ssl: true, ..globals(&url) }), Ok(200));
    assert_eq!(
        run(GlobalArgs { ca_bundle: Some("/nonexistent/ca.pem".into()), ..globals(&url) }).unwrap_err(),
        format!("\nSSL validation failed for {url}/ [Errno 2] No such file or directory\n")
    );
    // The certificate names 127.0.0.1 only.
    let by_name = format!("https://localhost:{port}");
    assert_eq!(
        run(GlobalArgs { ca_bundle: Some(bundle.into()), ..globals(&by_name) }).unwrap_err(),
        format!("\nSSL validation failed for {by_name}/ hostname 'localhost' doesn't match '127.0.0.1'\n")
    );
}

#[test]
fn https_to_plain_http() {
    // A plain HTTP server answers the TLS ClientHello with an HTTP error, as Python's does.
    // (One that just hangs up reads as "Connection was closed ...", in AWS CLI too.)
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.0 400 Bad request version\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let url = format!("https://127.0.0.1:{port}");
    let (c, _) = client(&globals(&url), &[("AWS_MAX_ATTEMPTS", "1")]);
    assert_eq!(
        c.call(&op(), BODY).unwrap_err().stderr,
        format!("\nSSL validation failed for {url}/ [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)\n")
    );
}

#[test]
fn empty_region_signs_with_empty_scope_like_botocore() {
    let m = mock(vec![ok()]);
    let g = GlobalArgs { region: Some(String::new()), ..globals(&format!("http://127.0.0.1:{}", m.port)) };
    let (c, _) = client(&g, &[]);
    c.call(&op(), BODY).unwrap();
    let r = &m.log.lock().unwrap()[0];
    assert!(r.header("authorization").unwrap().contains("//codepipeline/aws4_request"));
    verify_sigv4(r, SECRET, "/", "");
    // Without an endpoint the default one has an empty label.
    let g = GlobalArgs { region: Some(String::new()), ..GlobalArgs::default() };
    let s = session(&g, &[]);
    assert_eq!(Client::new(&s, &g).unwrap_err().stderr, "\nInvalid endpoint: https://codepipeline..amazonaws.com\n");
}

#[test]
fn container_credentials() {
    use cpjobs_cli::config::credentials::from_container;
    let creds = r#"{"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "cs", "Token": "ct", "Expiration": "2099-01-01T00:00:00Z"}"#;
    let m = mock(vec![
        Action::Respond { status: 500, headers: vec![], body: "boom" },
        Action::Respond { status: 200, headers: vec![], body: creds },
    ]);
    let full = format!("http://127.0.0.1:{}/creds", m.port);
    let env = |extra: &[(&str, &str)]| {
        let mut pairs =
            vec![("HOME".to_owned(), empty_home()), ("AWS_CONTAINER_CREDENTIALS_FULL_URI".to_owned(), full.clone())];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Session::load_with_env(&GlobalArgs::default(), Env::from_pairs(pairs)).unwrap()
    };
    let slept = Mutex::new(0);
    let c =
        from_container(&env(&[("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer x")]), &|_| *slept.lock().unwrap() += 1)
            .unwrap()
            .unwrap();
    assert_eq!((c.access_key.as_str(), c.token.as_deref()), ("ASIACONTAINER", Some("ct")));
    assert_eq!(*slept.lock().unwrap(), 1, "one failed attempt, then success");
    let log = m.log.lock().unwrap();
    assert_eq!(log[1].target, "/creds");
    assert_eq!(log[1].header("authorization"), Some("Bearer x"));
    assert_eq!(log[1].header("accept"), Some("application/json"));
    drop(log);
    // The chain uses it when nothing else has credentials.
    let s = env(&[]);
    assert_eq!(s.credentials().unwrap().unwrap().access_key, "ASIACONTAINER");
    let bad = Session::load_with_env(
        &GlobalArgs::default(),
        Env::from_pairs([
            ("HOME", empty_home()),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/x".to_owned()),
        ]),
    )
    .unwrap();
    assert_eq!(
        from_container(&bad, &|_| {}).unwrap_err().stderr,
        "\nUnsupported host 'example.com'.  Can only retrieve metadata from a loopback address or one of these hosts: 169.254.170.2, 169.254.170.23, fd00:ec2::23, localhost\n"
    );
}
