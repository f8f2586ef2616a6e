//! The latency phase: poll latency at each queue depth, on either store.
//!
//! One connection polls one job at a time; after each poll another
//! connection starts an execution, which queues one job, so every poll finds
//! exactly `depth` jobs queued. Only the polls are timed. Deeper queues are
//! filled in bulk, in SQL, with copies of a job the service created: in the
//! SQLite file (`setup::bulk_queue`) or in the PostgreSQL database
//! (`pgfill.rs`, which also checks that the polls claimed the copies).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::{Conn, Signer, cp};
use crate::pgfill::{Filled, PgFill};
use crate::setup::{self, PIPELINE};

/// The most time the polls of one depth may take.
const BUDGET: Duration = Duration::from_secs(180);

/// The service's dispatch lease (its default): a polled job not
/// acknowledged within it is queued again.
const LEASE: Duration = Duration::from_secs(30);

/// Where the node keeps its jobs, so the phase can fill its queue.
pub(crate) enum Store {
    /// The node's SQLite file.
    Sqlite(PathBuf),
    /// The node's PostgreSQL database (the URL the node was given).
    Postgres(String),
}

/// A connection for the bulk fill.
enum Filler {
    Sqlite(PathBuf),
    Postgres(PgFill),
}

/// Runs the phase against the node at `addr` (its queue empty), at `depths`,
/// with `polls` measured polls per depth.
pub(crate) async fn phase(
    addr: SocketAddr,
    store: &Store,
    depths: &[u64],
    polls: usize,
    partner: &Signer,
    customer: &Signer,
    poll_body: &str,
) -> Result<(), String> {
    let mut poller = Conn::open(addr).await?;
    let mut starter = Conn::open(addr).await?;
    let start_body = json!({"name": PIPELINE});
    // Earlier phases complete every job they queue, so the queue starts empty here.
    let first = starter.ok(customer, &cp("StartPipelineExecution"), &start_body).await?;
    // The first claim's lease is the first that may run out: from then on,
    // jobs claimed before a depth may be queued again during it.
    let first_claim = Instant::now();
    // Jobs claimed before the depth being measured (the template first).
    let mut claimed_before = 1u64;
    let template = {
        let polled =
            poller.ok(partner, &cp("PollForThirdPartyJobs"), &json!({"actionTypeId": setup::action_type()})).await?;
        let id = polled["jobs"][0]["jobId"].as_str().ok_or_else(|| format!("no job after {first}: {polled}"))?;
        id.to_owned()
    };
    let filler = match store {
        Store::Sqlite(db) => Filler::Sqlite(db.clone()),
        Store::Postgres(url) => Filler::Postgres(PgFill::connect(url).await?),
    };
    // The template is now Dispatched; its copies are Queued. The queue is empty.
    let mut depth = 0u64;
    let mut depths = depths.to_vec();
    depths.sort_unstable();
    for target in depths {
        let t = Instant::now();
        let mut filled: Option<(Filled, u64)> = None;
        if target > depth {
            let count = target - depth;
            match &filler {
                Filler::Sqlite(db) => setup::bulk_queue(db, &template, count)?,
                Filler::Postgres(pg) => filled = Some((pg.queue(&template, count).await?, count)),
            }
            println!("setup: {count} jobs queued in bulk (SQL) in {:.1} s", t.elapsed().as_secs_f64());
            depth = target;
        }
        let mut times = Vec::with_capacity(polls);
        let mut claimed = Vec::new();
        // 200 unmeasured polls before the default 2,000; a tenth of fewer.
        let warmup = (polls / 10).min(200);
        // Bounded in time as every loop of the bench: a store that slows
        // down with depth shows it in fewer polls, not in a run that never ends.
        let deadline = Instant::now() + BUDGET;
        for i in 0..warmup + polls {
            if Instant::now() > deadline && times.len() > 1 {
                println!("note: stopped at depth {depth} after {} s, {} polls measured", BUDGET.as_secs(), times.len());
                break;
            }
            let t = Instant::now();
            let a = poller.call(partner, &cp("PollForThirdPartyJobs"), poll_body.as_bytes()).await?;
            let elapsed = t.elapsed();
            let polled = a.json();
            let id = match polled["jobs"].as_array().map(Vec::as_slice) {
                Some([job]) if a.status == 200 => job["jobId"].as_str().map(str::to_owned),
                _ => None,
            };
            let Some(id) = id else { return Err(format!("a poll at depth {depth} answered {}: {polled}", a.status)) };
            claimed.push(id);
            if i >= warmup {
                times.push(elapsed);
            }
            starter.ok(customer, &cp("StartPipelineExecution"), &start_body).await?;
        }
        if let (Filler::Postgres(pg), Some((filled, count))) = (&filler, filled) {
            // Claims go oldest first and the copies are as old as the
            // template: the first `count` polls must each have taken one. A
            // copy whose lease ran out may be claimed again: count each once.
            claimed.sort_unstable();
            claimed.dedup();
            let want = count.min(claimed.len() as u64);
            let got = pg.claimed(filled, &claimed).await?;
            println!(
                "check: {got} of the {} jobs polled at depth {depth} were bulk-filled copies ({want} expected)",
                claimed.len()
            );
            // Exactly `want` while no lease ran out. After the first claim's
            // lease could end, each job claimed before this depth may be
            // queued again, older than the copies, and taken in a copy's
            // place (jobs started during this depth are newer than every
            // copy): at most that many copies fewer.
            let may_be_back = if first_claim.elapsed() >= LEASE { claimed_before } else { 0 };
            if got == 0 || got > want || got + may_be_back < want {
                return Err(format!(
                    "at depth {depth}, {got} polls claimed a bulk-filled job, {want} should have \
                     (or {may_be_back} fewer, jobs claimed before whose leases ended)"
                ));
            }
        }
        claimed_before += claimed.len() as u64;
        times.sort_unstable();
        let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1e3;
        println!(
            "RESULT poll latency at depth {depth}: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms ({} polls, one at a time)",
            p(0.50),
            p(0.90),
            p(0.99),
            times.len()
        );
    }
    if let Filler::Postgres(pg) = filler {
        pg.close().await;
    }
    Ok(())
}
