//! The `console` phase: the browser console's pages with many pipelines and
//! executions stored. `cpjobs serve --console` runs on a data directory of
//! its own, filled with `--pipelines` pipelines and `--executions`
//! executions, then the pipeline page and the pipeline list are fetched one
//! at a time, signed in as the customer, and timed by the server's own
//! `Server-Timing` header (and by this client, for reference).
//!
//! The fill, through the API where it decides what is stored and in SQL
//! where it only repeats that: the pipeline `p0000` runs two executions
//! (A: source succeeded, approval given, so every stage was reached; then
//! B: the source job failed, so `Gate` was not reached), the other
//! pipelines are created, and copies of B fill the rest: `--deep` of them
//! in `p0000`, between A and B, and the rest spread evenly over the other
//! pipelines. `p0000` is the worst case for the page: the latest execution
//! that reached `Gate` is the oldest of its history.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::{Conn, Signer, cp};
use crate::procs::Server;
use crate::setup::{self, CUSTOMER, PARTNER};

/// What the phase fills and measures.
pub(crate) struct Fill {
    /// Pipelines in all.
    pub(crate) pipelines: u64,
    /// Executions in all.
    pub(crate) executions: u64,
    /// Executions of the measured pipeline `p0000`.
    pub(crate) deep: u64,
    /// Timed fetches of each page (after 3 untimed).
    pub(crate) fetches: usize,
}

fn name(i: u64) -> String {
    format!("p{i:04}")
}

/// Runs the phase against `bin` in `work`.
pub(crate) async fn phase(bin: &Path, work: &Path, fill: &Fill) -> Result<(), String> {
    let config = work.join("console.toml");
    setup::write_config(&config, "")?;
    let data = work.join("console-data");
    let server = Server::cpjobs_with_console(bin, &config, &data, &work.join("console.log")).await?;
    let result = measure(&server, &data, fill).await;
    let stopped = server.stop().await;
    result.and(stopped)
}

async fn measure(server: &Server, data: &Path, fill: &Fill) -> Result<(), String> {
    let console = server.console.ok_or("the server announced no console")?;
    let customer = Signer::new(CUSTOMER.1, CUSTOMER.2, false);
    let partner = Signer::new(PARTNER.1, PARTNER.2, false);
    let t = Instant::now();
    let mut c = Conn::open(server.addr).await?;
    c.ok(&customer, &cp("CreatePipeline"), &pipeline(&name(0))).await?;
    let a = run_once(&mut c, &customer, &partner, true).await?;
    let b = run_once(&mut c, &customer, &partner, false).await?;
    create_pipelines(server.addr, &customer, fill.pipelines).await?;
    println!(
        "setup: {} pipelines and executions A ({a}) and B ({b}) through the API in {:.1} s",
        fill.pipelines,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let copies = fill.executions.saturating_sub(2);
    let deep = fill.deep.min(copies);
    let each = if fill.pipelines > 1 { (copies - deep) / (fill.pipelines - 1) } else { 0 };
    let db = data.join("cpjobs.sqlite3");
    let mut plan = vec![(name(0), deep)];
    plan.extend((1..fill.pipelines).map(|i| (name(i), each)));
    let stored = copy_executions(&db, &b, &a, &plan)?;
    println!(
        "setup: {stored} copies of B in SQL in {:.1} s ({deep} in p0000, {each} in each other pipeline; {} in all)",
        t.elapsed().as_secs_f64(),
        stored + 2
    );

    let cookie = sign_in(console).await?;
    let page = format!("/console/pipelines/{}", name(0));
    for (what, path) in [("pipeline page (p0000)", page.as_str()), ("pipeline list", "/console/pipelines")] {
        let mut server_ms = Vec::new();
        let mut client_ms = Vec::new();
        for i in 0..3 + fill.fetches {
            let t = Instant::now();
            let (status, head, body) = get(console, path, &cookie).await?;
            let elapsed = t.elapsed().as_secs_f64() * 1e3;
            if status != 200 || !body.contains("<h1>") {
                return Err(format!("GET {path} answered {status}: {}", &body[..body.len().min(300)]));
            }
            // The page must show what it is timed for: the source's latest run failed (B's copies),
            // the gate's succeeded (A, the oldest execution); the list, every pipeline.
            let shown = match path == "/console/pipelines" {
                true => body.contains(&format!(">{}</a>", name(fill.pipelines - 1))),
                false => body.contains("status failed") && body.contains("status ok"),
            };
            if !shown {
                return Err(format!("GET {path} does not show what it should: {body}"));
            }
            if i >= 3 {
                server_ms.push(server_timing(&head).ok_or_else(|| format!("no Server-Timing in {head}"))?);
                client_ms.push(elapsed);
            }
        }
        let (s, c) = (stats(&mut server_ms), stats(&mut client_ms));
        println!(
            "RESULT console {what}: server time median {:.1} ms, max {:.1} ms; at the client median {:.1} ms \
             ({} fetches, one at a time)",
            s.0, s.1, c.0, fill.fetches
        );
    }
    Ok(())
}

/// (median, max) of milliseconds.
fn stats(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() - 1])
}

/// The bench pipeline under another name (partner source, then an approval).
fn pipeline(name: &str) -> Value {
    let mut p = setup::pipeline();
    p["pipeline"]["name"] = json!(name);
    p
}

/// Runs one execution of `p0000`: its source job succeeds and its approval
/// is given (`succeed`), or its source job fails. Its id.
async fn run_once(c: &mut Conn, customer: &Signer, partner: &Signer, succeed: bool) -> Result<String, String> {
    let started = c.ok(customer, &cp("StartPipelineExecution"), &json!({"name": name(0)})).await?;
    let id = started["pipelineExecutionId"].as_str().ok_or("no execution id")?.to_owned();
    let polled = c.ok(partner, &cp("PollForThirdPartyJobs"), &json!({"actionTypeId": setup::action_type()})).await?;
    let job = polled["jobs"][0]["jobId"].as_str().ok_or_else(|| format!("no job: {polled}"))?.to_owned();
    let client = polled["jobs"][0]["clientId"].as_str().ok_or("no clientId")?.to_owned();
    let clients = c.ok(partner, "Cpjobs_20261129.ListThirdPartyClients", &json!({})).await?;
    let token = clients["clients"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["clientId"] == client.as_str()))
        .and_then(|x| x["clientToken"].as_str())
        .ok_or("the job's client is not listed")?
        .to_owned();
    let details = c.ok(partner, &cp("GetThirdPartyJobDetails"), &json!({"jobId": job, "clientToken": token})).await?;
    let nonce = details["jobDetails"]["nonce"].clone();
    let ack = json!({"jobId": job, "nonce": nonce, "clientToken": token});
    c.ok(partner, &cp("AcknowledgeThirdPartyJob"), &ack).await?;
    if !succeed {
        let failure = json!({"jobId": job, "clientToken": token,
                             "failureDetails": {"type": "JobFailed", "message": "the source is gone"}});
        c.ok(partner, &cp("PutThirdPartyJobFailureResult"), &failure).await?;
        return Ok(id);
    }
    c.ok(partner, &cp("PutThirdPartyJobSuccessResult"), &json!({"jobId": job, "clientToken": token})).await?;
    let state = c.ok(customer, &cp("GetPipelineState"), &json!({"name": name(0)})).await?;
    let approval = state["stageStates"][1]["actionStates"][0]["latestExecution"]["token"]
        .as_str()
        .ok_or_else(|| format!("no approval waits: {state}"))?
        .to_owned();
    let result = json!({"pipelineName": name(0), "stageName": "Gate", "actionName": "Approve", "token": approval,
                        "result": {"summary": "ok", "status": "Approved"}});
    c.ok(customer, &cp("PutApprovalResult"), &result).await?;
    Ok(id)
}

/// Creates `p0001` to the last pipeline over a few connections.
async fn create_pipelines(addr: SocketAddr, customer: &Signer, pipelines: u64) -> Result<(), String> {
    let mut tasks = Vec::new();
    for k in 0..4u64 {
        let mut c = Conn::open(addr).await?;
        let customer = customer.clone();
        tasks.push(tokio::spawn(async move {
            for i in (1..pipelines).filter(|i| i % 4 == k) {
                c.ok(&customer, &cp("CreatePipeline"), &pipeline(&name(i))).await?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// Stores copies of execution `template` (fresh ids, the id inside its
/// document replaced too), `count` of them in each pipeline of `plan`, all
/// started when `first` was (so, in the history's order, after `first` and
/// before `template`). Written against the `executions` table of schema
/// versions 1 to 7 of `cpjobs-store-sqlite`; ends with a WAL checkpoint.
fn copy_executions(db: &Path, template: &str, first: &str, plan: &[(String, u64)]) -> Result<u64, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let version: i64 =
        conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if !(1..=7).contains(&version) {
        return Err(format!("the bulk setup knows schema versions 1 to 7, the file is at {version}"));
    }
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2), \
               ids(id) AS MATERIALIZED (SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' \
                 || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) \
                 FROM n) \
               INSERT INTO executions (id, account_id, pipeline_name, status, started, updated, revision, wake_at, \
                 stage, waiting_for, doc) \
               SELECT ids.id, e.account_id, ?3, e.status, f.started, f.started, e.revision, NULL, NULL, NULL, \
                 replace(e.doc, e.id, ids.id) \
               FROM ids, executions e, executions f WHERE e.id = ?1 AND f.id = ?4";
    let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
    let mut stored = 0;
    for (pipeline, count) in plan.iter().filter(|(_, n)| *n > 0) {
        let added =
            tx.execute(sql, rusqlite::params![template, *count as i64, pipeline, first]).map_err(|e| e.to_string())?;
        if added as u64 != *count {
            return Err(format!("{added} copies stored in {pipeline}, {count} wanted"));
        }
        stored += *count;
    }
    tx.commit().map_err(|e| e.to_string())?;
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| e.to_string())?;
    Ok(stored)
}

/// One request on a connection of its own, read to its end: (status, head, body).
async fn request(addr: SocketAddr, head: &str, body: &str) -> Result<(u16, String, String), String> {
    let mut s = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    let text = format!("{head}host: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    s.write_all(text.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
        .await
        .map_err(|_| "no answer within 60 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no end of the head")?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    Ok((status, head.to_owned(), body.to_owned()))
}

async fn get(addr: SocketAddr, path: &str, cookie: &str) -> Result<(u16, String, String), String> {
    request(addr, &format!("GET {path} HTTP/1.1\r\ncookie: {cookie}\r\n"), "").await
}

/// The values of one header (`Set-Cookie` comes once per cookie).
fn headers<'a>(head: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    head.split("\r\n")
        .filter_map(move |l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

/// `app;dur=12.3` in milliseconds.
fn server_timing(head: &str) -> Option<f64> {
    headers(head, "server-timing").find_map(|v| v.split("dur=").nth(1)?.split([',', ';']).next()?.parse().ok())
}

/// Signs in through the console's form as the customer; the session's `Cookie` header.
async fn sign_in(addr: SocketAddr) -> Result<String, String> {
    let (_, head, body) = get(addr, "/console/signin", "").await?;
    let bound: Vec<&str> = headers(&head, "set-cookie").filter_map(|c| c.split(';').next()).collect();
    let at = body.find("name=\"csrf\" value=\"").ok_or("no CSRF token in the sign-in form")? + 19;
    let csrf = &body[at..at + body[at..].find('"').ok_or("unterminated CSRF token")?];
    let form = format!("access_key_id={}&secret_access_key={}&csrf={csrf}", CUSTOMER.1, CUSTOMER.2);
    let head_out = format!(
        "POST /console/signin HTTP/1.1\r\ncookie: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n",
        bound.join("; ")
    );
    let (status, head, _) = request(addr, &head_out, &form).await?;
    let session = headers(&head, "set-cookie")
        .filter_map(|c| c.split(';').next())
        .find(|c| c.starts_with("cpjobs_session="))
        .ok_or_else(|| format!("sign-in answered {status} without a session: {head}"))?;
    Ok(session.to_owned())
}
