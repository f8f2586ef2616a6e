//! `cpjobs-bench`: measures the real `cpjobs serve` over HTTP, with requests
//! signed by aws-sigv4 on keep-alive HTTP/1.1 connections, and a hello-world
//! axum server with the same load generator for reference.
//!
//! ```text
//! cargo build --release -p cpjobs -p cpjobs-bench
//! target/release/cpjobs-bench run --cpjobs target/release/cpjobs
//! ```
//!
//! Phases (see `bench/README.md`): `hello` (reference), `polls` (signed
//! `PollForThirdPartyJobs` on an empty queue), `lifecycles` (poll, details,
//! acknowledge, success, each a separate request, on jobs queued beforehand by
//! `StartPipelineExecution`), `latency` (one poll at a time at queue depths
//! 10, 10k and 1M, the depth kept by starting an execution after each poll),
//! and, asked for by name, `console` (the console's pipeline page and list
//! with 1,000 pipelines and 100,000 executions stored; see `console.rs`).
//! On SQLite (the default) or, with `--store postgres://...`, on PostgreSQL,
//! through one node or `--nodes N` nodes sharing that database.
//! Every load loop is bounded in time and count; only 127.0.0.1 is contacted.

mod client;
mod console;
mod latency;
mod pgfill;
mod procs;
mod setup;

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::{Conn, Signer, cp};
use crate::procs::Server;
use crate::setup::{CUSTOMER, PARTNER, PIPELINE};

const USAGE: &str = "usage: cpjobs-bench run --cpjobs PATH [options]
       cpjobs-bench hello [--listen 127.0.0.1:0]

run options:
  --cpjobs PATH           the cpjobs binary to measure (build it with --release)
  --phases LIST           comma-separated: hello,polls,lifecycles,latency (the default), console
  --connections N         connections for hello and polls (default 32)
  --lifecycle-connections N   connections for lifecycles (default 64)
  --duration SECS         length of one hello/polls window (default 5)
  --runs N                windows (hello, polls) or batches (lifecycles) per phase; medians are reported (default 3)
  --lifecycles N          jobs queued (and completed) per lifecycles batch (default 10000)
  --depths LIST           queue depths for latency (default 10,10000,1000000)
  --latency-polls N       measured polls per depth (default 2000, after 200 unmeasured; a tenth of fewer)
  --pipelines N           console: pipelines stored (default 1000)
  --executions N          console: executions stored in all (default 100000)
  --deep N                console: executions of the measured pipeline p0000 (default 10000)
  --fetches N             console: timed fetches of each page (default 20)
  --work-dir DIR          where data and logs go (default a fresh directory in the temp dir, removed after)
  --store URL             run cpjobs serve on this PostgreSQL database (an empty one: the bench makes its
                          pipeline there) instead of SQLite; not with the console phase, which fills the
                          SQLite file in bulk
  --nodes N               with --store: run N cpjobs serve nodes on that database, with one service key,
                          and spread the connections of polls and lifecycles over them (default 1;
                          the latency phase uses the first node)
  --store-connections N   the most connections cpjobs serve opens to that database (its default: 8)
  --aws-sigv4             sign each request with aws-sigv4's full signer, which derives the signing key
                          every time; by default the key is derived once a day, as the AWS SDKs do, and
                          each request is signed with it (the same headers: see client.rs)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("hello") => {
            let listen = flag(&args, "--listen").unwrap_or_else(|| "127.0.0.1:0".into());
            match procs::hello(&listen) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("cpjobs-bench hello: {e}");
                    1
                }
            }
        }
        Some("run") => match Opts::parse(&args[1..]) {
            Ok(opts) => match run(opts) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("cpjobs-bench: {e}");
                    1
                }
            },
            Err(e) => {
                eprintln!("cpjobs-bench: {e}\n{USAGE}");
                2
            }
        },
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

struct Opts {
    cpjobs: PathBuf,
    phases: Vec<String>,
    connections: usize,
    lifecycle_connections: usize,
    duration: Duration,
    runs: usize,
    lifecycles: u64,
    depths: Vec<u64>,
    latency_polls: usize,
    work_dir: Option<PathBuf>,
    aws_sigv4: bool,
    store: Option<String>,
    store_connections: Option<u64>,
    nodes: usize,
    fill: console::Fill,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let mut o = Opts {
            cpjobs: PathBuf::new(),
            phases: ["hello", "polls", "lifecycles", "latency"].map(String::from).to_vec(),
            connections: 32,
            lifecycle_connections: 64,
            duration: Duration::from_secs(5),
            runs: 3,
            lifecycles: 10_000,
            depths: vec![10, 10_000, 1_000_000],
            latency_polls: 2000,
            work_dir: None,
            aws_sigv4: false,
            store: None,
            store_connections: None,
            nodes: 1,
            fill: console::Fill { pipelines: 1000, executions: 100_000, deep: 10_000, fetches: 20 },
        };
        let num = |v: &str, name: &str| v.parse::<u64>().map_err(|_| format!("{name} needs a number, not {v:?}"));
        let mut it = args.iter();
        while let Some(name) = it.next() {
            if name == "--aws-sigv4" {
                o.aws_sigv4 = true;
                continue;
            }
            let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            match name.as_str() {
                "--cpjobs" => o.cpjobs = PathBuf::from(v),
                "--phases" => o.phases = v.split(',').map(str::to_owned).collect(),
                "--connections" => o.connections = num(v, name)?.clamp(1, 1024) as usize,
                "--lifecycle-connections" => o.lifecycle_connections = num(v, name)?.clamp(1, 1024) as usize,
                "--duration" => o.duration = Duration::from_secs(num(v, name)?.clamp(1, 120)),
                "--runs" => o.runs = num(v, name)?.clamp(1, 20) as usize,
                "--lifecycles" => o.lifecycles = num(v, name)?.clamp(1, 1_000_000),
                "--depths" => o.depths = v.split(',').map(|d| num(d, name)).collect::<Result<_, _>>()?,
                "--latency-polls" => o.latency_polls = num(v, name)?.clamp(1, 100_000) as usize,
                "--work-dir" => o.work_dir = Some(PathBuf::from(v)),
                "--store" => o.store = Some(v.clone()),
                "--store-connections" => o.store_connections = Some(num(v, name)?.clamp(1, 1000)),
                "--nodes" => o.nodes = num(v, name)?.clamp(1, 8) as usize,
                "--pipelines" => o.fill.pipelines = num(v, name)?.clamp(1, 10_000),
                "--executions" => o.fill.executions = num(v, name)?.clamp(2, 10_000_000),
                "--deep" => o.fill.deep = num(v, name)?,
                "--fetches" => o.fill.fetches = num(v, name)?.clamp(1, 10_000) as usize,
                other => return Err(format!("unknown option {other}")),
            }
        }
        for p in &o.phases {
            if !["hello", "polls", "lifecycles", "latency", "console"].contains(&p.as_str()) {
                return Err(format!("unknown phase {p}"));
            }
        }
        if o.cpjobs.as_os_str().is_empty() && o.phases.iter().any(|p| p != "hello") {
            return Err("--cpjobs PATH is required".into());
        }
        if o.store.is_some() && o.phases.iter().any(|p| p == "console") {
            return Err("--store: the console phase fills the SQLite store in bulk; choose other --phases".into());
        }
        if o.nodes > 1 && o.store.is_none() {
            return Err("--nodes: several nodes share a PostgreSQL database (--store URL)".into());
        }
        if o.depths.contains(&0) {
            return Err("queue depths must be at least 1".into());
        }
        Ok(o)
    }
}

fn run(opts: Opts) -> Result<(), String> {
    let (work, remove) = match &opts.work_dir {
        Some(d) => (d.clone(), false),
        None => (std::env::temp_dir().join(format!("cpjobs-bench-{}", std::process::id())), true),
    };
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(phases(&opts, &work));
    if remove && result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("data and logs kept in {}", work.display());
    }
    result
}

async fn phases(opts: &Opts, work: &Path) -> Result<(), String> {
    println!(
        "machine: {} cores (shared by the server and this load generator); {} connections (hello, polls), {} (lifecycles)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        opts.connections,
        opts.lifecycle_connections
    );
    let want = |p: &str| opts.phases.iter().any(|x| x == p);
    let partner = Signer::new(PARTNER.1, PARTNER.2, opts.aws_sigv4);
    let customer = Signer::new(CUSTOMER.1, CUSTOMER.2, opts.aws_sigv4);
    let poll_body = json!({"actionTypeId": setup::action_type(), "maxBatchSize": 1}).to_string();

    if want("hello") {
        let server = Server::hello(&work.join("hello.log")).await?;
        let mut rates = Vec::new();
        for _ in 0..opts.runs {
            let r =
                closed_loop(&[server.addr], &partner, opts.connections, opts.duration, &poll_body, b"{\"jobs\":[]}")
                    .await?;
            println!("hello-world POST /: {r:.0} req/s");
            rates.push(r);
        }
        server.stop().await?;
        println!("RESULT hello req/s median {:.0} of {}", median(&rates), show(&rates));
    }

    if want("console") {
        console::phase(&opts.cpjobs, work, &opts.fill).await?;
    }

    if !want("polls") && !want("lifecycles") && !want("latency") {
        return Ok(());
    }
    let config = work.join("cpjobs.toml");
    let top = match opts.store_connections {
        Some(n) => format!("store_max_connections = {n}\n"),
        None => String::new(),
    };
    setup::write_config(&config, &top)?;
    let data = work.join("data");
    let mut servers = Vec::new();
    let started = start_nodes(opts, work, &config, &data, &mut servers).await;
    let result = match started {
        Ok(()) => cpjobs_phases(opts, &servers, &data, &partner, &customer, &poll_body).await,
        Err(e) => Err(e),
    };
    let mut stopped = Ok(());
    for server in servers {
        stopped = stopped.and(server.stop().await);
    }
    result.and(stopped)
}

/// Starts the nodes under test into `servers`: one on SQLite in `data`, or
/// `--nodes` on the PostgreSQL database, each with a data directory of its
/// own (`data`, `data-2`, ...) and all with one service key file, as nodes
/// behind one load balancer are run (a client token sealed by one node is
/// opened by the others).
async fn start_nodes(
    opts: &Opts,
    work: &Path,
    config: &Path,
    data: &Path,
    servers: &mut Vec<Server>,
) -> Result<(), String> {
    let key = match &opts.store {
        Some(_) => Some(setup::write_service_key(&work.join("service.key"))?),
        None => None,
    };
    for i in 1..=opts.nodes {
        let (dir, log) = match i {
            1 => (data.to_owned(), work.join("cpjobs.log")),
            i => (work.join(format!("data-{i}")), work.join(format!("cpjobs-{i}.log"))),
        };
        servers.push(Server::cpjobs(&opts.cpjobs, config, &dir, &log, opts.store.as_deref(), key.as_deref()).await?);
    }
    if opts.nodes > 1 {
        let addrs: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();
        println!("{} nodes on one PostgreSQL database: {}", opts.nodes, addrs.join(", "));
    }
    Ok(())
}

async fn cpjobs_phases(
    opts: &Opts,
    servers: &[Server],
    data: &Path,
    partner: &Signer,
    customer: &Signer,
    poll_body: &str,
) -> Result<(), String> {
    let want = |p: &str| opts.phases.iter().any(|x| x == p);
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let addr = addrs[0];
    if want("polls") {
        let mut rates = Vec::new();
        for _ in 0..opts.runs {
            let r = closed_loop(&addrs, partner, opts.connections, opts.duration, poll_body, b"{\"jobs\":[]}").await?;
            println!("PollForThirdPartyJobs, empty queue: {r:.0} polls/s");
            rates.push(r);
        }
        println!("RESULT polls/s median {:.0} of {}", median(&rates), show(&rates));
    }
    if !want("lifecycles") && !want("latency") {
        return Ok(());
    }
    let mut c = Conn::open(addr).await?;
    c.ok(customer, &cp("CreatePipeline"), &setup::pipeline()).await?;
    let clients = c.ok(partner, "Cpjobs_20261129.ListThirdPartyClients", &json!({})).await?;
    let tokens: HashMap<String, String> = clients["clients"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|c| Some((c["clientId"].as_str()?.to_owned(), c["clientToken"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    if tokens.is_empty() {
        return Err(format!("ListThirdPartyClients gave no client: {clients}"));
    }
    let tokens = Arc::new(tokens);

    if want("lifecycles") {
        let mut rates = Vec::new();
        for _ in 0..opts.runs {
            let t = Instant::now();
            start_executions(&addrs, customer, opts.lifecycle_connections, opts.lifecycles).await?;
            println!(
                "setup: {} executions started through the API in {:.1} s",
                opts.lifecycles,
                t.elapsed().as_secs_f64()
            );
            let (done, secs) =
                lifecycles(&addrs, partner, &tokens, opts.lifecycle_connections, opts.lifecycles, poll_body).await?;
            let r = done as f64 / secs;
            println!(
                "durable third-party lifecycles (4 requests each, {} node(s)): {done} in {secs:.2} s = {r:.0}/s",
                addrs.len()
            );
            if done != opts.lifecycles {
                return Err(format!("{done} lifecycles completed, {} were queued", opts.lifecycles));
            }
            rates.push(r);
        }
        println!("RESULT lifecycles/s median {:.0} of {} ({} node(s))", median(&rates), show(&rates), addrs.len());
    }

    if want("latency") {
        let store = match &opts.store {
            Some(url) => latency::Store::Postgres(url.clone()),
            None => latency::Store::Sqlite(data.join("cpjobs.sqlite3")),
        };
        latency::phase(addr, &store, &opts.depths, opts.latency_polls, partner, customer, poll_body).await?;
    }
    Ok(())
}

/// `connections` loops sending the same signed request for `duration`,
/// connection `i` to `addrs[i % len]`; every answer must be 200 with
/// `expect` as its body. Requests per second.
async fn closed_loop(
    addrs: &[SocketAddr],
    signer: &Signer,
    connections: usize,
    duration: Duration,
    body: &str,
    expect: &'static [u8],
) -> Result<f64, String> {
    let count = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::new();
    for i in 0..connections {
        conns.push(Conn::open(addrs[i % addrs.len()]).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for mut conn in conns {
        let (signer, body, count) = (signer.clone(), body.to_owned(), count.clone());
        tasks.push(tokio::spawn(async move {
            let target = cp("PollForThirdPartyJobs");
            while Instant::now() < deadline {
                let a = conn.call(&signer, &target, body.as_bytes()).await?;
                if a.status != 200 || a.body.as_slice() != expect {
                    return Err(format!("unexpected answer {}: {}", a.status, String::from_utf8_lossy(&a.body)));
                }
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Starts `n` executions of the bench pipeline over `connections` connections
/// spread over `addrs` (setup, not measured).
async fn start_executions(addrs: &[SocketAddr], customer: &Signer, connections: usize, n: u64) -> Result<(), String> {
    let left = Arc::new(AtomicU64::new(n));
    let mut tasks = Vec::new();
    for i in 0..connections.min(n as usize) {
        let mut conn = Conn::open(addrs[i % addrs.len()]).await?;
        let (customer, left) = (customer.clone(), left.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"name": PIPELINE});
            while left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(1)).is_ok() {
                conn.ok(&customer, &cp("StartPipelineExecution"), &body).await?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// The parts of `PollForThirdPartyJobs`' answer a worker reads.
#[derive(Deserialize)]
struct Polled<'a> {
    #[serde(borrow)]
    jobs: Vec<PolledJob<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolledJob<'a> {
    #[serde(borrow)]
    job_id: Cow<'a, str>,
    #[serde(borrow)]
    client_id: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details<'a> {
    #[serde(borrow)]
    job_details: JobDetails<'a>,
}

#[derive(Deserialize)]
struct JobDetails<'a> {
    #[serde(borrow)]
    nonce: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Acknowledged<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
}

/// The body of a job call: `GetThirdPartyJobDetails` (no nonce, no result),
/// `AcknowledgeThirdPartyJob` (a nonce), `PutThirdPartyJobSuccessResult`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobCall<'a> {
    job_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    client_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_revision: Option<Revision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution_details: Option<ExecutionDetails>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Revision {
    revision: &'static str,
    change_identifier: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionDetails {
    summary: &'static str,
    percent_complete: u8,
}

/// The JSON of an answer, which must parse as `T` (every byte is parsed: a
/// malformed answer is an error).
fn parse<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("{what} answered {e}: {}", String::from_utf8_lossy(body)))
}

const POLL: &str = "CodePipeline_20150709.PollForThirdPartyJobs";
const DETAILS: &str = "CodePipeline_20150709.GetThirdPartyJobDetails";
const ACKNOWLEDGE: &str = "CodePipeline_20150709.AcknowledgeThirdPartyJob";
const SUCCESS: &str = "CodePipeline_20150709.PutThirdPartyJobSuccessResult";

/// One worker's lifecycle of one job: poll, get details (the nonce, with the
/// client's token), acknowledge, succeed. `false` when the poll found no job.
async fn lifecycle(
    conn: &mut Conn,
    partner: &Signer,
    tokens: &HashMap<String, String>,
    poll_body: &str,
) -> Result<bool, String> {
    let a = conn.call(partner, POLL, poll_body.as_bytes()).await?;
    if a.status != 200 {
        return Err(format!("poll answered {}: {}", a.status, String::from_utf8_lossy(&a.body)));
    }
    let polled: Polled = parse("poll", &a.body)?;
    let Some(job) = polled.jobs.first() else { return Ok(false) };
    let id = &*job.job_id;
    let token = tokens.get(&*job.client_id).ok_or("unknown clientId")?;
    let mut call =
        JobCall { job_id: id, nonce: None, client_token: token, current_revision: None, execution_details: None };
    let details = conn.call_ok(partner, DETAILS, &call).await?;
    let details: Details = parse("details", &details.body)?;
    call.nonce = Some(&details.job_details.nonce);
    let ack = conn.call_ok(partner, ACKNOWLEDGE, &call).await?;
    let acked: Acknowledged = parse("acknowledge", &ack.body)?;
    if acked.status != "InProgress" {
        return Err(format!("acknowledge answered {}", String::from_utf8_lossy(&ack.body)));
    }
    call.nonce = None;
    call.current_revision = Some(Revision { revision: "r1", change_identifier: "c1" });
    call.execution_details = Some(ExecutionDetails { summary: "bench", percent_complete: 100 });
    let done = conn.call_ok(partner, SUCCESS, &call).await?;
    parse::<serde::de::IgnoredAny>("success", &done.body)?;
    Ok(true)
}

/// Completes the queued jobs over `connections` connections spread over
/// `addrs` (a worker's jobs may have been queued through any node), each worker
/// running [`lifecycle`] until its poll finds nothing (at most `max` jobs in
/// all, within 10 minutes). `(completed, seconds)`.
async fn lifecycles(
    addrs: &[SocketAddr],
    partner: &Signer,
    tokens: &Arc<HashMap<String, String>>,
    connections: usize,
    max: u64,
    poll_body: &str,
) -> Result<(u64, f64), String> {
    let done = Arc::new(AtomicU64::new(0));
    let budget = Arc::new(AtomicU64::new(max));
    let stop = Arc::new(AtomicBool::new(false));
    let mut conns = Vec::new();
    for i in 0..connections {
        conns.push(Conn::open(addrs[i % addrs.len()]).await?);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    let mut tasks = Vec::new();
    for mut conn in conns {
        let (partner, tokens, done, budget, stop) =
            (partner.clone(), tokens.clone(), done.clone(), budget.clone(), stop.clone());
        let poll_body = poll_body.to_owned();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed)
                && Instant::now() < deadline
                && budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1)).is_ok()
            {
                match lifecycle(&mut conn, &partner, &tokens, &poll_body).await {
                    Ok(true) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(false) => break,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok((done.load(Ordering::Relaxed), started.elapsed().as_secs_f64()))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() { 0.0 } else { s[s.len() / 2] }
}

fn show(v: &[f64]) -> String {
    v.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::Opts;

    fn parse(args: &[&str]) -> Result<Opts, String> {
        let mut all = vec!["--cpjobs".to_owned(), "/bin/cpjobs".to_owned()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        Opts::parse(&all)
    }

    #[test]
    fn several_nodes_need_a_shared_database() {
        let e = parse(&["--nodes", "2"]).err().unwrap();
        assert!(e.contains("--nodes"), "{e}");
        let o = parse(&["--nodes", "2", "--store", "postgres://u@127.0.0.1/db"]).unwrap();
        assert_eq!(o.nodes, 2);
        assert_eq!(parse(&[]).unwrap().nodes, 1);
    }

    #[test]
    fn postgres_runs_the_latency_phase_but_not_the_console() {
        let url = "postgres://u@127.0.0.1/db";
        let o = parse(&["--store", url, "--phases", "latency", "--depths", "10,1000000"]).unwrap();
        assert_eq!(o.depths, vec![10, 1_000_000]);
        let e = parse(&["--store", url, "--phases", "console"]).err().unwrap();
        assert!(e.contains("console"), "{e}");
    }
}
