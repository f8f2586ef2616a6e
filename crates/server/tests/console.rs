//! The console's router driven with tower's `oneshot` over a test double of
//! the domain and a clock the test moves: who gets in, what the cookies say,
//! which forms are refused (and then never reach the domain), what each
//! button asks the domain, and that the domain's text is escaped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use cpjobs_core::config::{Account, Principal};
use cpjobs_core::{Api, ApiError, Caller, ErrorCode, Operation, Reply, ServiceConfig, Submitted};
use cpjobs_server::console::{Settings, router};
use cpjobs_server::history::History;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "AKIACUSTOMER00000001";
const SECRET: &str = "customer-secret-value";
const ACCOUNT: &str = "111111111111";
const OTHER_KEY: &str = "AKIAOTHER00000000001";
const OTHER_SECRET: &str = "other-secret-value";
const OTHER: &str = "333333333333";

/// The domain as far as the console needs it: one pipeline `demo` of
/// `ACCOUNT`, waiting for an approval; it records every call.
#[derive(Default)]
struct Double {
    calls: Mutex<Vec<(Caller, String, Value)>>,
}

impl Double {
    fn ops(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(|(_, op, _)| op.clone()).collect()
    }
}

impl Api for Double {
    fn submit(&self, caller: &Caller, operation: Operation, input: Value, _now: SystemTime, reply: Reply) -> Submitted {
        reply(self.answer(caller, operation, input));
        Submitted::Taken
    }
}

impl Double {
    fn answer(&self, caller: &Caller, operation: Operation, input: Value) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().push((caller.clone(), operation.to_string(), input.clone()));
        let mine = caller.account_id == ACCOUNT;
        let named = input.get("name").or_else(|| input.get("pipelineName")).and_then(Value::as_str);
        if named.is_some() && (!mine || named != Some("demo")) {
            return Err(ApiError::client(ErrorCode::PipelineNotFoundException, "The pipeline was not found."));
        }
        Ok(match operation {
            Operation::ListPipelines if mine => json!({"pipelines": [{"name": "demo", "version": 1}]}),
            Operation::ListPipelines => json!({"pipelines": []}),
            Operation::ListPipelineExecutions => json!({"pipelineExecutionSummaries": [
                {"pipelineExecutionId": "9a9a9a9a-1111-2222-3333-444455556666", "status": "InProgress", "startTime": 1.7e9, "lastUpdateTime": 1.7e9}
            ]}),
            Operation::GetPipeline => json!({"pipeline": {"name": "demo", "stages": [
                {"name": "Gate", "actions": [{"name": "Approve", "actionTypeId":
                    {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]},
                {"name": "Ship", "actions": [{"name": "Deploy", "actionTypeId":
                    {"category": "Deploy", "owner": "Custom", "provider": "Shipper", "version": "1"}}]}
            ]}}),
            Operation::GetPipelineState => json!({"pipelineName": "demo", "stageStates": [{"stageName": "Gate",
                "latestExecution": {"pipelineExecutionId": "9a9a9a9a-1111-2222-3333-444455556666", "status": "InProgress"},
                "actionStates": [{"actionName": "Approve", "latestExecution": {
                    "status": "InProgress", "token": "0f0e0d0c-1111-2222-3333-444455556666",
                    "summary": "<script>alert(1)</script>", "externalExecutionUrl": "javascript:alert(1)"}}]},
                {"stageName": "Ship", "inboundTransitionState": {"enabled": false, "disabledReason": "<i>freeze</i>",
                    "lastChangedBy": "arn:aws:iam::111111111111:root", "lastChangedAt": 1_799_999_400.0},
                 "actionStates": [{"actionName": "Deploy"}]}]}),
            Operation::ListJobQueues if mine => json!({"pollersSeenBy": "this node", "queues": [
                {"actionTypeId": {"category": "Deploy", "owner": "Custom", "provider": "Shipper", "version": "1"},
                 "ownerAccount": ACCOUNT, "jobTimeoutSeconds": 3600, "queuedJobs": 2, "oldestQueuedTime": 1_799_999_910.0,
                 "jobsInFlight": 1,
                 "inFlight": [{"jobId": "j-flying", "status": "Dispatched", "accountId": ACCOUNT, "pipelineName": "demo",
                     "stageName": "Ship", "actionName": "Deploy", "created": 1_799_999_900.0, "updated": 1_799_999_990.0,
                     "leaseExpires": 1_800_000_020.0, "timesOutAt": 1_800_003_500.0}],
                 "recentFailures": [{"jobId": "j-failed", "status": "Failed", "accountId": ACCOUNT, "pipelineName": "demo",
                     "stageName": "Ship", "actionName": "Deploy", "created": 1_799_999_000.0, "finished": 1_799_999_100.0,
                     "errorType": "JobFailed", "errorMessage": "<b>disk full</b>"}],
                 "pollers": [{"accountId": ACCOUNT, "lastPollTime": 1_799_999_995.0, "pollsPerMinute": 12.5}]},
                {"actionTypeId": {"category": "Build", "owner": "Custom", "provider": "Idle", "version": "1"},
                 "ownerAccount": ACCOUNT, "jobTimeoutSeconds": 3600, "queuedJobs": 3, "oldestQueuedTime": 1_799_999_000.0,
                 "jobsInFlight": 0, "inFlight": [], "recentFailures": [], "pollers": []}
            ]}),
            Operation::ListJobQueues => json!({"pollersSeenBy": "this node", "queues": []}),
            _ => json!({}),
        })
    }
}

struct Console {
    api: Arc<Double>,
    router: axum::Router,
    now: Arc<Mutex<SystemTime>>,
    history: Arc<History>,
}

fn console() -> Console {
    let api = Arc::new(Double::default());
    let config = ServiceConfig {
        region: "us-east-1".into(),
        accounts: vec![
            Account {
                id: ACCOUNT.into(),
                principals: vec![Principal { access_key_id: KEY.into(), secret_access_key: SECRET.into() }],
            },
            Account {
                id: OTHER.into(),
                principals: vec![Principal { access_key_id: OTHER_KEY.into(), secret_access_key: OTHER_SECRET.into() }],
            },
        ],
        ..Default::default()
    };
    let now = Arc::new(Mutex::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    let clock = Arc::clone(&now);
    let settings = Settings { key: [9; 32], session_ttl: Duration::from_secs(3600) };
    let history = Arc::new(History::default());
    let router = router(api.clone(), &config, settings, Arc::new(move || *clock.lock().unwrap()), history.clone());
    Console { api, router, now, history }
}

struct Answer {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Console {
    async fn send(&self, method: &str, path: &str, cookie: Option<&str>, form: Option<&str>) -> Answer {
        let mut req = http::Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if form.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req.body(Body::from(form.unwrap_or_default().to_owned())).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let header = |name| resp.headers().get(name).map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned());
        let location = header("location");
        let cookies = resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let status = resp.status().as_u16();
        let body = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Answer { status, location, cookies, body }
    }

    /// Signs in as `key`/`secret` through the form; the session's `Cookie` header.
    async fn sign_in(&self, key: &str, secret: &str) -> String {
        let form = self.send("GET", "/console/signin", None, None).await;
        let bound = pair(&form.cookies[0]);
        let csrf = field(&form.body, "csrf");
        let body = format!("access_key_id={key}&secret_access_key={secret}&csrf={csrf}");
        let a = self.send("POST", "/console/signin", Some(&bound), Some(&body)).await;
        assert_eq!((a.status, a.location.as_deref()), (303, Some("/console/pipelines")), "{}", a.body);
        pair(a.cookies.iter().find(|c| c.starts_with("cpjobs_session=")).expect("a session cookie"))
    }
}

/// `name=value` of a `Set-Cookie`.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The value of the first hidden input `name` in a page.
fn field(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn signed_out_requests_lead_to_sign_in_and_reach_nothing() {
    let c = console();
    for (method, path) in [
        ("GET", "/console/pipelines"),
        ("GET", "/console/pipelines?live=1"),
        ("GET", "/console/pipelines/demo"),
        ("GET", "/console/pipelines/demo/executions/9a9a9a9a-1111-2222-3333-444455556666"),
        ("POST", "/console/pipelines/demo/start"),
        ("POST", "/console/signout"),
    ] {
        let a = c.send(method, path, Some("cpjobs_session=forged.0.0.0.00"), Some("csrf=x")).await;
        assert_eq!((a.status, a.location.as_deref()), (303, Some("/console/signin")), "{method} {path}");
    }
    for path in ["/", "/console", "/console/"] {
        assert_eq!(c.send("GET", path, None, None).await.location.as_deref(), Some("/console/pipelines"));
    }
    assert!(c.api.ops().is_empty(), "{:?}", c.api.ops());
}

#[tokio::test]
async fn sign_in_needs_the_right_secret_and_its_own_form() {
    let c = console();
    let form = c.send("GET", "/console/signin", None, None).await;
    assert_eq!(form.status, 200);
    assert!(
        form.cookies[0].starts_with("cpjobs_signin=")
            && form.cookies[0].ends_with("; Path=/console; Max-Age=3600; HttpOnly; SameSite=Strict")
    );
    let bound = pair(&form.cookies[0]);
    let csrf = field(&form.body, "csrf");
    let c = &c;
    let post = |cookie: Option<String>, body: String| async move {
        c.send("POST", "/console/signin", cookie.as_deref(), Some(&body)).await
    };
    // Another site's form: no cookie, or no token, or a token of another form.
    let good = format!("access_key_id={KEY}&secret_access_key={SECRET}");
    assert_eq!(post(None, format!("{good}&csrf={csrf}")).await.status, 403);
    assert_eq!(post(Some(bound.clone()), good.clone()).await.status, 403);
    assert_eq!(post(Some("cpjobs_signin=other".into()), format!("{good}&csrf={csrf}")).await.status, 403);
    // Wrong secrets and unknown keys: 401, no session, the secret not echoed.
    for body in [
        format!("access_key_id={KEY}&secret_access_key=wrong&csrf={csrf}"),
        format!("access_key_id={KEY}&secret_access_key={OTHER_SECRET}&csrf={csrf}"),
        format!("access_key_id=AKIANOBODY&secret_access_key={SECRET}&csrf={csrf}"),
        format!("access_key_id={KEY}&secret_access_key=&csrf={csrf}"),
    ] {
        let a = post(Some(bound.clone()), body.clone()).await;
        assert_eq!(a.status, 401, "{body}");
        assert!(a.cookies.is_empty() && !a.body.contains(SECRET) && !a.body.contains(OTHER_SECRET), "{body}");
    }
    let a = post(Some(bound), format!("{good}&csrf={csrf}")).await;
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/console/pipelines")));
    let session = a.cookies.iter().find(|s| s.starts_with("cpjobs_session=")).expect("session");
    assert!(session.ends_with("; Path=/console; Max-Age=3600; HttpOnly; SameSite=Strict"), "{session}");
    assert!(!session.contains(SECRET));
    assert!(c.api.ops().is_empty(), "signing in calls nothing: {:?}", c.api.ops());
}

#[tokio::test]
async fn sessions_end_at_their_expiry_and_at_sign_out() {
    let c = console();
    let cookie = c.sign_in(KEY, SECRET).await;
    assert_eq!(c.send("GET", "/console/pipelines", Some(&cookie), None).await.status, 200);
    *c.now.lock().unwrap() += Duration::from_secs(3599);
    let page = c.send("GET", "/console/pipelines", Some(&cookie), None).await;
    assert_eq!(page.status, 200);
    *c.now.lock().unwrap() += Duration::from_secs(1);
    assert_eq!(c.send("GET", "/console/pipelines", Some(&cookie), None).await.status, 303);

    let cookie = c.sign_in(KEY, SECRET).await;
    let page = c.send("GET", "/console/pipelines", Some(&cookie), None).await;
    let csrf = field(&page.body, "csrf");
    assert_eq!(c.send("POST", "/console/signout", Some(&cookie), Some("csrf=bad")).await.status, 403);
    let out = c.send("POST", "/console/signout", Some(&cookie), Some(&format!("csrf={csrf}"))).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/console/signin")));
    assert!(
        out.cookies.iter().any(|s| s.starts_with("cpjobs_session=; Path=/console; Max-Age=0")),
        "{:?}",
        out.cookies
    );
    // The cookie a browser kept (or anyone copied) is over too.
    assert_eq!(c.send("GET", "/console/pipelines", Some(&cookie), None).await.status, 303);
}

#[tokio::test]
async fn forms_without_their_token_are_refused_before_the_domain() {
    let c = console();
    let cookie = c.sign_in(KEY, SECRET).await;
    let other = c.sign_in(OTHER_KEY, OTHER_SECRET).await;
    let page = c.send("GET", "/console/pipelines/demo", Some(&cookie), None).await;
    let csrf = field(&page.body, "csrf");
    let others = field(&c.send("GET", "/console/pipelines", Some(&other), None).await.body, "csrf");
    let before = c.api.ops().len();
    for path in ["start", "stop", "retry", "approval", "transition"] {
        for body in [String::new(), "csrf=".into(), format!("csrf={others}"), format!("csrf={}", &csrf[..63])] {
            let a = c.send("POST", &format!("/console/pipelines/demo/{path}"), Some(&cookie), Some(&body)).await;
            assert_eq!(a.status, 403, "{path} {body:?}");
        }
    }
    assert_eq!(c.api.ops().len(), before, "no refused form reached the domain");

    let a = c.send("POST", "/console/pipelines/demo/start", Some(&cookie), Some(&format!("csrf={csrf}"))).await;
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/console/pipelines/demo")));
    let (caller, op, input) = c.api.calls.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (caller.account_id.as_str(), caller.access_key_id.as_str(), op.as_str()),
        (ACCOUNT, KEY, "StartPipelineExecution")
    );
    assert_eq!(input, json!({"name": "demo"}));
}

#[tokio::test]
async fn each_button_is_its_api_operation() {
    let c = console();
    let cookie = c.sign_in(KEY, SECRET).await;
    let page = c.send("GET", "/console/pipelines/demo", Some(&cookie), None).await;
    let csrf = field(&page.body, "csrf");
    let post = |path: &'static str, body: String| {
        let cookie = cookie.clone();
        let c = &c;
        async move { c.send("POST", &format!("/console/pipelines/demo/{path}"), Some(&cookie), Some(&body)).await }
    };
    let a = post("approval", format!("csrf={csrf}&stage=Gate&action=Approve&token=0f0e0d0c-1111-2222-3333-444455556666&summary=ship+it&decision=Approved")).await;
    assert_eq!(a.status, 303);
    let last = || c.api.calls.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last().1, "PutApprovalResult");
    assert_eq!(
        last().2,
        json!({"pipelineName": "demo", "stageName": "Gate", "actionName": "Approve",
               "result": {"summary": "ship it", "status": "Approved"}, "token": "0f0e0d0c-1111-2222-3333-444455556666"})
    );
    post("stop", format!("csrf={csrf}&execution=9a9a9a9a-1111-2222-3333-444455556666&abandon=true")).await;
    assert_eq!(last().1, "StopPipelineExecution");
    assert_eq!(last().2["abandon"], true);
    post("retry", format!("csrf={csrf}&stage=Gate&execution=9a9a9a9a-1111-2222-3333-444455556666")).await;
    assert_eq!((last().1.as_str(), &last().2["retryMode"]), ("RetryStageExecution", &json!("FAILED_ACTIONS")));

    post("transition", format!("csrf={csrf}&stage=Ship&transition=disable&reason=+code+freeze+")).await;
    assert_eq!(last().1, "DisableStageTransition");
    assert_eq!(
        last().2,
        json!({"pipelineName": "demo", "stageName": "Ship", "transitionType": "Inbound", "reason": "code freeze"})
    );
    let a = post("transition", format!("csrf={csrf}&stage=Ship&transition=enable")).await;
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/console/pipelines/demo")));
    assert_eq!(
        (last().1.as_str(), &last().2),
        ("EnableStageTransition", &json!({"pipelineName": "demo", "stageName": "Ship", "transitionType": "Inbound"}))
    );

    // Input the model refuses never reaches the domain, and answers the API's error.
    let before = c.api.ops().len();
    let a = post(
        "approval",
        format!("csrf={csrf}&stage=Gate&action=Approve&token=0f0e0d0c-1111-2222-3333-444455556666&decision=Maybe"),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("ValidationException"), "{}", a.body);
    // A reason outside the model's pattern or length, none at all, or neither enable nor disable.
    let long = "x".repeat(301);
    for body in
        ["reason=it%27s+friday&transition=disable", "transition=disable", &format!("transition=disable&reason={long}")]
    {
        let a = post("transition", format!("csrf={csrf}&stage=Ship&{body}")).await;
        assert_eq!(a.status, 400, "{body}");
        assert!(a.body.contains("ValidationException") && a.body.contains("reason"), "{body}: {}", a.body);
    }
    let a = post("transition", format!("csrf={csrf}&stage=Ship&transition=toggle")).await;
    assert_eq!(a.status, 400);
    assert_eq!(c.api.ops().len(), before);
}

#[tokio::test]
async fn a_transition_shows_its_state_and_the_form_that_changes_it() {
    let c = console();
    let cookie = c.sign_in(KEY, SECRET).await;
    let page = c.send("GET", "/console/pipelines/demo?live=1", Some(&cookie), None).await;
    let body = &page.body;
    let ship = &body[body.find("aria-label=\"Transition into Ship\"").expect("the transition into Ship")..];
    let ship = &ship[..ship.find("</li>").unwrap()];
    assert!(ship.contains("Transition disabled") && ship.contains("&lt;i&gt;freeze&lt;/i&gt;"), "{ship}");
    assert!(ship.contains("arn:aws:iam::111111111111:root") && ship.contains("10m 00s ago"), "{ship}");
    assert!(ship.contains("name=\"transition\" value=\"enable\"") && ship.contains("name=\"stage\" value=\"Ship\""));
    assert!(!body.contains("Transition into Gate"), "the first stage has no transition into it");
}

#[tokio::test]
async fn pages_show_only_the_account_s_own_and_escape_the_domain_s_text() {
    let c = console();
    let cookie = c.sign_in(KEY, SECRET).await;
    let page = c.send("GET", "/console/pipelines/demo", Some(&cookie), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.body.contains("<script>alert"));
    assert!(!page.body.contains("javascript:"), "an unsafe link was drawn");
    assert!(page.body.contains("name=\"token\" value=\"0f0e0d0c-1111-2222-3333-444455556666\""), "the approval form");
    assert!(!page.body.contains(SECRET));
    let live = c.send("GET", "/console/pipelines/demo?live=1", Some(&cookie), None).await;
    assert!(live.body.starts_with("<div id=\"live\"") || live.body.starts_with("<section"), "{}", live.body);
    assert!(!live.body.contains("<html"), "the live region alone");

    let other = c.sign_in(OTHER_KEY, OTHER_SECRET).await;
    let list = c.send("GET", "/console/pipelines", Some(&other), None).await;
    assert!(list.body.contains("no pipelines") && !list.body.contains("demo"), "{}", list.body);
    let a = c.send("GET", "/console/pipelines/demo", Some(&other), None).await;
    assert_eq!(a.status, 404);
    assert!(a.body.contains("PipelineNotFoundException"));
    let callers: Vec<String> = c.api.calls.lock().unwrap().iter().map(|(c, _, _)| c.account_id.clone()).collect();
    assert!(callers.contains(&OTHER.to_owned()) && callers.contains(&ACCOUNT.to_owned()));
}

#[tokio::test]
async fn every_answer_forbids_framing_and_foreign_scripts() {
    let c = console();
    let req = http::Request::builder().uri("/console/signin").body(Body::empty()).unwrap();
    let resp = c.router.clone().oneshot(req).await.unwrap();
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let css = c.send("GET", "/console/assets/console.css", None, None).await;
    assert_eq!(css.status, 200);
    assert_eq!(c.send("GET", "/console/nothing-here", None, None).await.status, 404);
}

#[tokio::test]
async fn the_jobs_page_shows_the_account_s_queues_pollers_and_hour() {
    let c = console();
    let now = *c.now.lock().unwrap();
    let ms = Duration::from_millis;
    c.history.record(Operation::PutJobSuccessResult, true, ACCOUNT, ms(2), now);
    c.history.record(Operation::PutJobFailureResult, true, ACCOUNT, ms(2), now);
    c.history.record(Operation::PollForJobs, true, ACCOUNT, ms(12), now);
    c.history.record(Operation::PollForJobs, true, OTHER, ms(700), now);
    c.history.sample_depths(
        &[("Custom/111111111111/Deploy/Shipper/1".into(), 2), ("Custom/333333333333/Deploy/Shipper/1".into(), 77)],
        now,
    );
    let session = c.sign_in(KEY, SECRET).await;
    let page = c.send("GET", "/console/jobs", Some(&session), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (caller, op, _) = c.api.calls.lock().unwrap().last().cloned().expect("a call");
    assert_eq!((caller.account_id.as_str(), op.as_str()), (ACCOUNT, "ListJobQueues"), "asked as the signed-in account");
    let b = &page.body;
    for shown in [
        "<h1>Jobs and workers</h1>",
        "<strong>Shipper</strong>",
        "1m 30s",   // the oldest queued job's age (now - 1_799_999_910)
        "j-flying", // in flight
        "demo › Ship › Deploy",
        "30s",     // lease left
        "58m 20s", // timeout in
        "j-failed",
        "&lt;b&gt;disk full&lt;/b&gt;", // the error, escaped
        "Nobody polls",                 // the idle queue has jobs and no poller
        "12.5",                         // polls per minute
        "Pollers seen by this node",
        "1 succeeded, 1 failed in the hour.",
        "2 waiting at the latest sample", // its own queue's depth only
        "1 poll, mean 12.0 ms",           // its own polls only
        r#"role="img""#,
        r#"data-src="/console/jobs?live=1""#,
        r#"href="/console/jobs" aria-current="page""#,
    ] {
        assert!(b.contains(shown), "{shown} missing from {b}");
    }
    assert!(!b.contains("<b>disk full</b>"), "the domain's text is escaped");
    let live = c.send("GET", "/console/jobs?live=1", Some(&session), None).await;
    assert!(live.body.contains("j-flying") && !live.body.contains("<h1>"), "the live region alone: {}", live.body);

    // Another account sees none of it: not the queues, not the figures of this account's workers.
    let other = c.sign_in(OTHER_KEY, OTHER_SECRET).await;
    let page = c.send("GET", "/console/jobs", Some(&other), None).await;
    assert_eq!(page.status, 200);
    // The sign-out form's CSRF token is random hex, which may hold "77": the
    // figures are looked for in the page without it.
    let token_at = page.body.find(r#"name="csrf" value=""#).expect("a sign-out form") + r#"name="csrf" value=""#.len();
    let token_end = token_at + page.body[token_at..].find('"').expect("the token's end");
    let without_token = format!("{}{}", &page.body[..token_at], &page.body[token_end..]);
    for hidden in ["Shipper", "j-flying", "j-failed", "disk full", "succeeded, 1 failed", "12.0 ms", "77", "Idle"] {
        assert!(!without_token.contains(hidden), "{hidden} shown to another account: {}", page.body);
    }
    assert!(page.body.contains("owns no action type it may poll"), "{}", page.body);
    assert!(page.body.contains("1 poll, mean 700.0 ms"), "its own polls: {}", page.body);

    // Signed out, the page leads to sign-in and asks the domain nothing.
    let calls = c.api.calls.lock().unwrap().len();
    let out = c.send("GET", "/console/jobs", None, None).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/console/signin")));
    assert_eq!(c.api.calls.lock().unwrap().len(), calls);
}
