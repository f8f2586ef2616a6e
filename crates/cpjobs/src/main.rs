//! The `cpjobs` binary: `serve`, `worker`, `clients` (the partner's client
//! tokens) and the AWS CLI compatible `codepipeline <operation>` commands. The binary only dispatches; the work
//! lives in library crates so it can be tested without a process.

// The only module with unsafe code: an allocator chosen per subcommand.
#[allow(unsafe_code)]
mod alloc;
mod artifacts;

/// mimalloc for `serve` and `worker`, glibc's malloc for the CLI (see [`alloc`]).
#[global_allocator]
static GLOBAL: alloc::Chosen = alloc::Chosen;

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use cpjobs_core::{Service, ServiceConfig};
use cpjobs_server::cli::Domain;
use cpjobs_server::{DomainStats, StatsSource};
use cpjobs_store_sqlite::SqliteStore;

fn main() {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "cpjobs".to_owned());
    // AWS CLI names itself after how it was invoked (argparse's `prog`), so a
    // link named `aws` prints `aws: error: ...`.
    let prog =
        Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cpjobs".to_owned());
    let rest: Vec<String> = args.collect();
    let code = match rest.first().map(String::as_str) {
        Some("serve") => cpjobs_server::cli::run(&rest[1..], open_domain),
        Some("worker") => cpjobs_worker::run(&rest[1..]),
        // cpjobs' own operation, so not among the AWS CLI compatible commands.
        Some("clients") => cpjobs_cli::clients::run(&rest[1..]),
        _ => cpjobs_cli::run(&prog, &rest),
    };
    std::process::exit(code);
}

/// The embedded default: the domain over SQLite in the data directory.
fn open_domain(config: &ServiceConfig, data_dir: &Path) -> Result<Domain, String> {
    let path = data_dir.join("cpjobs.sqlite3");
    let store = SqliteStore::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let artifacts = artifacts::Artifacts::open(data_dir)?;
    let service = Service::new(config, store)
        .and_then(|s| s.with_token_key(artifacts.token_key()))
        .map_err(|e| format!("cannot start the service: {e}"))?;
    let service = Arc::new(
        service.with_credential_issuer(artifacts.credentials()).with_artifact_locations(artifacts.locations()),
    );
    let mut options = cpjobs_server::Options {
        // S3 requests (no X-Amz-Target) on the API port go to the artifact store.
        passthrough: Some(artifacts.passthrough(config, Arc::clone(&service))),
        ..cpjobs_server::Options::default()
    };
    let ticker = Arc::clone(&service);
    options.tick = Some(Arc::new(move |now| {
        // A failed sweep is retried at the next tick; the store logs its own errors.
        let _ = ticker.tick(now);
    }));
    options.stats = Some(Arc::new(Stats(Arc::clone(&service))));
    Ok(Domain { api: service, options })
}

/// `/metrics`' job gauges, read from the store at each scrape.
struct Stats(Arc<Service<SqliteStore>>);

impl StatsSource for Stats {
    fn stats(&self, _now: SystemTime) -> DomainStats {
        let jobs_by_status = self
            .0
            .job_counts()
            .map(|c| c.into_iter().map(|(status, n)| ("all".to_owned(), status.as_str().to_owned(), n)).collect())
            .unwrap_or_default();
        let queue_depth = self.0.queue_depths().unwrap_or_default();
        DomainStats { jobs_by_status, queue_depth }
    }
}
