//! The console in a real headless Chromium against `cpjobs serve --console`:
//! signing in, a pipeline seen running to success without a reload while
//! its jobs are driven through the API, an approval given from the page, a
//! failed action's error and its retry, a transition disabled (an execution
//! waits there) and enabled again (it goes on), an execution's details with the
//! secret masked, another account seeing none of it, forms refused without
//! their CSRF token, signed-out pages leading to sign-in, and the jobs page:
//! a queued job, a poller, a failure's error, a job in flight followed live.
//!
//! `CPJOBS_SCREENSHOTS=docs/console` saves the main pages as PNGs (the
//! README's "The console" shows them).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Browser, PATIENCE};
use crate::harness::{
    CUSTOMER, Keys, OTHER, PARTNER, Server, TempDir, action, client_token, config, custom_type, declaration,
    gated_pipeline, signed_call,
};

fn api(server: &Server, keys: Keys, op: &str, body: Value) -> Value {
    let a = signed_call(&server.endpoint, keys, &format!("CodePipeline_20150709.{op}"), &body);
    assert_eq!(a.status, 200, "{op}: {}", a.body);
    a.body
}

/// Polls `provider` (custom, the customer's) until a job comes, and acknowledges it.
fn custom_job(server: &Server, category: &str, provider: &str) -> Value {
    let id = json!({"category": category, "owner": "Custom", "provider": provider, "version": "1"});
    let start = Instant::now();
    loop {
        let polled = api(server, CUSTOMER, "PollForJobs", json!({"actionTypeId": id}));
        if let Some(job) = polled["jobs"].get(0) {
            api(server, CUSTOMER, "AcknowledgeJob", json!({"jobId": job["id"], "nonce": job["nonce"]}));
            return job.clone();
        }
        assert!(start.elapsed() < PATIENCE, "no {provider} job came");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The customer's `MyBuild` type, with a plain and a secret configuration property.
fn build_type() -> Value {
    let mut t = custom_type("Build", "MyBuild");
    t["configurationProperties"] = json!([
        {"name": "Mode", "required": false, "key": false, "secret": false},
        {"name": "Token", "required": false, "key": false, "secret": true},
    ]);
    t
}

/// Signs in through the form as `keys`.
async fn sign_in(b: &Browser, console: &str, keys: Keys) {
    b.goto(&format!("{console}signin")).await;
    b.fill("#akid", keys.key).await;
    b.fill("#secret", keys.secret).await;
    b.click("form.signin button").await;
    b.wait_text("h1", |t| t == "Pipelines").await;
}

/// Leaves a mark in the page that only a reload can erase.
async fn mark(b: &Browser) {
    b.js("window.cpjobsMark = 'still here'; return null;").await;
}

async fn still_marked(b: &Browser) -> bool {
    b.js("return window.cpjobsMark || null;").await == json!("still here")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_browser() {
    let started = Instant::now();
    let Some(b) = Browser::start("console").await else { return };
    let dir = TempDir::new("console");
    let mut server = Server::start_with_console(&dir.0, &config(None));
    let console = server.console.clone().expect("console address");
    let origin = console.trim_end_matches("/console/").to_owned();

    // Signed out, every page leads to the sign-in form; a wrong secret is refused there.
    b.goto(&format!("{console}pipelines")).await;
    assert_eq!(b.path().await, "/console/signin");
    b.screenshot("signin").await;
    b.fill("#akid", CUSTOMER.key).await;
    b.fill("#secret", "not-the-secret").await;
    b.click("form.signin button").await;
    b.wait_text("p.error", |t| t.contains("not right")).await;
    sign_in(&b, &console, CUSTOMER).await;
    b.wait_text("main", |t| t.contains("no pipelines")).await;

    // A pipeline with a gate, run by jobs driven through the API while the page watches.
    api(&server, CUSTOMER, "CreateCustomActionType", custom_type("Source", "MySource"));
    api(&server, CUSTOMER, "CreateCustomActionType", build_type());
    api(&server, CUSTOMER, "CreatePipeline", json!({"pipeline": gated_pipeline("gated")}));
    api(&server, CUSTOMER, "StartPipelineExecution", json!({"name": "gated"}));
    b.goto(&format!("{console}pipelines/gated")).await;
    mark(&b).await;
    b.wait_text("section[aria-label='Stage Source'] article", |t| t.contains("InProgress")).await;
    let job = custom_job(&server, "Source", "MySource");
    let details = json!({"summary": "fetched rev-1", "percentComplete": 100});
    let revision = json!({"revision": "rev-1", "changeIdentifier": "change-1"});
    api(
        &server,
        CUSTOMER,
        "PutJobSuccessResult",
        json!({"jobId": job["id"], "executionDetails": details, "currentRevision": revision}),
    );
    let source = b.wait_text("section[aria-label='Stage Source'] article", |t| t.contains("Succeeded")).await;
    assert!(source.contains("fetched rev-1") && source.contains("rev-1"), "{source}");
    b.wait_text("section[aria-label='Stage Gate'] form.approval", |_| true).await;
    let gate = b.wait_text("section[aria-label='Stage Gate'] article", |t| t.contains("InProgress")).await;
    assert!(gate.contains("Asks: ship it?"), "the approval's question: {gate}");
    assert!(still_marked(&b).await, "the page changed without a reload");
    b.screenshot("pipeline-approval").await;

    // Approved from the page.
    b.fill("form.approval textarea", "looks good").await;
    b.click("form.approval button[value=Approved]").await;
    let gate = b.wait_text("section[aria-label='Stage Gate'] article", |t| t.contains("Succeeded")).await;
    assert!(gate.contains("looks good"), "{gate}");
    mark(&b).await;
    b.wait_text("section[aria-label='Stage Build'] article", |t| t.contains("InProgress")).await;
    b.wait_text("section.latest", |t| t.contains("InProgress")).await;

    // The partner's build job finishes; the page shows the run succeed, still without a reload.
    let type_id = json!({"category": "Build", "owner": "ThirdParty", "provider": "PartnerBuild", "version": "1"});
    let polled = api(&server, PARTNER, "PollForThirdPartyJobs", json!({"actionTypeId": type_id}));
    let (job, client) = (polled["jobs"][0]["jobId"].clone(), polled["jobs"][0]["clientId"].as_str().expect("client"));
    let token = client_token(&server.endpoint, PARTNER, client);
    let got = api(&server, PARTNER, "GetThirdPartyJobDetails", json!({"jobId": job, "clientToken": token}));
    let ack = json!({"jobId": job, "nonce": got["jobDetails"]["nonce"], "clientToken": token});
    api(&server, PARTNER, "AcknowledgeThirdPartyJob", ack);
    let done = json!({"jobId": job, "clientToken": token, "executionDetails": {"summary": "built 42 files"}});
    api(&server, PARTNER, "PutThirdPartyJobSuccessResult", done);
    b.wait_text("section.latest", |t| t.contains("Succeeded")).await;
    let build = b.wait_text("section[aria-label='Stage Build'] article", |t| t.contains("Succeeded")).await;
    assert!(build.contains("built 42 files"), "{build}");
    assert!(still_marked(&b).await, "the run was followed without a reload");
    b.screenshot("pipeline").await;

    // A build that fails: its error on the page, and a retry from there.
    let mut make = action("Make", "Custom", "Build", "MyBuild", &["code"], &[]);
    make["configuration"] = json!({"Mode": "fast", "Token": "hunter2-secret"});
    let get = action("Get", "Custom", "Source", "MySource", &[], &["code"]);
    let broken = declaration("broken", &[("Source", vec![get]), ("Build", vec![make])]);
    api(&server, CUSTOMER, "CreatePipeline", json!({"pipeline": broken}));
    api(&server, CUSTOMER, "StartPipelineExecution", json!({"name": "broken"}));
    b.goto(&format!("{console}pipelines/broken")).await;
    let job = custom_job(&server, "Source", "MySource");
    api(&server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}));
    let job = custom_job(&server, "Build", "MyBuild");
    let failure = json!({"type": "JobFailed", "message": "compiler said no"});
    api(&server, CUSTOMER, "PutJobFailureResult", json!({"jobId": job["id"], "failureDetails": failure}));
    let error = b.wait_text("section[aria-label='Stage Build'] p.error", |t| t.contains("compiler said no")).await;
    assert!(error.contains("JobFailed"), "{error}");
    b.wait_text("section.latest", |t| t.contains("Failed")).await;
    b.screenshot("pipeline-failed").await;
    b.click("form.retry button").await;
    b.wait_text("section[aria-label='Stage Build'] article", |t| t.contains("InProgress")).await;
    let retried = custom_job(&server, "Build", "MyBuild");
    api(&server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": retried["id"]}));
    b.wait_text("section.latest", |t| t.contains("Succeeded")).await;

    // The transition into Build disabled from the page: the next run waits there, no build job is
    // queued, until the transition is enabled again; the page follows it without a reload.
    b.click("li.transition details summary").await;
    b.fill("li.transition input[name=reason]", "code freeze").await;
    b.click("li.transition form button").await;
    let closed = b.wait_text("li.transition", |t| t.contains("Transition disabled")).await;
    assert!(closed.contains("code freeze") && closed.contains("111111111111"), "who and why: {closed}");
    mark(&b).await;
    api(&server, CUSTOMER, "StartPipelineExecution", json!({"name": "broken"}));
    b.wait_text("section[aria-label='Stage Source'] article", |t| t.contains("InProgress")).await;
    let job = custom_job(&server, "Source", "MySource");
    api(&server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}));
    b.wait_text("section[aria-label='Stage Source'] article", |t| t.contains("Succeeded")).await;
    std::thread::sleep(Duration::from_millis(2500));
    let build_type = json!({"category": "Build", "owner": "Custom", "provider": "MyBuild", "version": "1"});
    let polled = api(&server, CUSTOMER, "PollForJobs", json!({"actionTypeId": build_type}));
    assert_eq!(polled["jobs"], json!([]), "a build job passed the disabled transition");
    let build = b.wait_text("section[aria-label='Stage Build'] article", |_| true).await;
    assert!(!build.contains("InProgress"), "{build}");
    b.wait_text("section.latest", |t| t.contains("InProgress")).await;
    assert!(still_marked(&b).await, "the wait was followed without a reload");
    b.screenshot("pipeline-transition").await;
    b.click("li.transition form button").await;
    b.wait_text("li.transition", |t| !t.contains("Transition disabled")).await;
    b.wait_text("section[aria-label='Stage Build'] article", |t| t.contains("InProgress")).await;
    let job = custom_job(&server, "Build", "MyBuild");
    api(&server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}));
    b.wait_text("section.latest", |t| t.contains("Succeeded")).await;

    // The execution's action executions: configuration resolved, the secret masked.
    b.click("section.latest a").await;
    b.wait_text("h1", |t| t.starts_with("Execution ")).await;
    b.js("document.querySelectorAll('details').forEach(function (d) { d.open = true; }); return null;").await;
    let page = b.wait_text("#live", |t| t.contains("Make")).await;
    assert!(page.contains("fast") && page.contains("****"), "{page}");
    assert!(!b.client.source().await.expect("source").contains("hunter2"), "a secret reached the page");
    b.screenshot("execution").await;
    let execution_path = b.path().await;
    b.goto(&format!("{console}pipelines/gated/executions")).await;
    b.wait_text("table.list tbody", |t| t.contains("Succeeded")).await;
    b.screenshot("executions").await;
    b.goto(&format!("{console}pipelines")).await;
    let list = b.wait_text("table.list tbody", |t| t.contains("broken") && t.contains("gated")).await;
    assert!(list.contains("Succeeded"), "{list}");
    b.screenshot("pipelines").await;
    b.client.set_window_size(390, 844).await.expect("phone width");
    b.goto(&format!("{console}pipelines/gated")).await;
    b.wait_text("section.latest", |t| t.contains("Succeeded")).await;
    b.screenshot("pipeline-phone").await;
    b.client.set_window_size(1280, 900).await.expect("laptop width");

    // The jobs page: a queued job waiting, a poller seen, the earlier failure with its error; then the
    // job in flight, followed without a reload.
    api(&server, CUSTOMER, "StartPipelineExecution", json!({"name": "broken"}));
    api(&server, CUSTOMER, "PollForJobs", json!({"actionTypeId": build_type}));
    b.click("header.top nav a[href='/console/jobs']").await;
    b.wait_text("h1", |t| t == "Jobs and workers").await;
    mark(&b).await;
    b.wait_text("section[aria-labelledby=queues-h] tbody", |t| t.contains("MySource")).await;
    let rows = b
        .js("return Array.from(document.querySelectorAll('section[aria-labelledby=queues-h] tbody tr'))\
             .map(function (r) { return Array.from(r.cells).map(function (c) { return c.textContent.trim(); }); });")
        .await;
    let rows = rows.as_array().expect("rows");
    let source = rows.iter().find(|r| r[0].as_str().is_some_and(|t| t.contains("MySource"))).expect("MySource");
    assert_eq!(source[1], "1", "one job queued: {rows:?}");
    let pollers = b.wait_text("section[aria-labelledby=pollers-h]", |t| t.contains("MyBuild")).await;
    assert!(pollers.contains("111111111111"), "{pollers}");
    let page = b.body().await;
    assert!(page.contains("compiler said no") && page.contains("JobFailed"), "the failure's error: {page}");
    assert!(page.contains("Job results per minute") && page.contains("Poll latency"), "the charts: {page}");
    b.screenshot("jobs").await;
    b.js("document.getElementById('hour-h').scrollIntoView(); return null;").await;
    b.screenshot("jobs-charts").await;
    let job = custom_job(&server, "Source", "MySource");
    let id = job["id"].as_str().expect("id").to_owned();
    let flying = b.wait_text("#live", |t| t.contains(&id)).await;
    assert!(flying.contains("In flight") && flying.contains("InProgress"), "{flying}");
    assert!(still_marked(&b).await, "the job was followed without a reload");
    api(&server, CUSTOMER, "PutJobSuccessResult", json!({"jobId": job["id"]}));
    b.wait_text("#live", |t| !t.contains(&id)).await;
    b.goto(&format!("{console}pipelines/gated")).await;

    // A form without its CSRF token, or with another one, is refused and changes nothing.
    let runs = || api(&server, CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": "gated"}));
    let before = runs()["pipelineExecutionSummaries"].as_array().expect("runs").len();
    b.js("document.querySelector('form[action$=\"/start\"] input[name=csrf]').remove(); return null;").await;
    b.click("form[action$='/start'] button").await;
    b.wait_text("p.error", |t| t.contains("did not come from this console")).await;
    let cookie = b.client.get_named_cookie("cpjobs_session").await.expect("session cookie");
    let cookie = format!("cpjobs_session={}", cookie.value());
    let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent();
    let start_url = format!("{console}pipelines/gated/start");
    for body in ["", "csrf=", "csrf=00112233", "csrf=not-hex"] {
        let resp = agent
            .post(&start_url)
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .send(body)
            .expect("answered");
        assert_eq!(resp.status(), 403, "{body:?}");
    }
    assert_eq!(runs()["pipelineExecutionSummaries"].as_array().expect("runs").len(), before, "nothing started");

    // Signing out ends the session, also for a copy of its cookie.
    b.goto(&format!("{console}pipelines")).await;
    b.click("form.signout button").await;
    b.wait_text("h1", |t| t == "Sign in").await;
    for path in ["pipelines/gated", "pipelines/gated/executions", &execution_path["/console/".len()..]] {
        b.goto(&format!("{console}{path}")).await;
        assert_eq!(b.path().await, "/console/signin", "{path}");
    }
    let resp = agent.get(format!("{console}pipelines?live=1")).header("cookie", &cookie).call().expect("answered");
    assert_eq!((resp.status().as_u16(), resp.headers()["location"].to_str().ok()), (303, Some("/console/signin")));

    // Another account sees none of it.
    sign_in(&b, &console, OTHER).await;
    let page = b.wait_text("main", |t| t.contains("no pipelines")).await;
    assert!(!page.contains("gated") && !page.contains("broken"), "{page}");
    for path in ["pipelines/gated", "pipelines/broken/executions", &execution_path["/console/".len()..]] {
        b.goto(&format!("{console}{path}")).await;
        let text = b.body().await;
        assert!(text.contains("PipelineNotFoundException") && !text.contains("compiler said no"), "{path}: {text}");
    }
    b.goto(&format!("{console}jobs")).await;
    let page = b.wait_text("h1", |t| t == "Jobs and workers").await;
    let page = format!("{page}{}", b.body().await);
    for hidden in ["MySource", "MyBuild", "compiler said no"] {
        assert!(!page.contains(hidden), "{hidden} shown to another account: {page}");
    }
    let resp = agent.get(format!("{origin}/console/nowhere")).call().expect("answered");
    assert_eq!(resp.status(), 404);

    b.close().await;
    server.stop();
    eprintln!("the console's browser test took {:.1} s", started.elapsed().as_secs_f64());
}
