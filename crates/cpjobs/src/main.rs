//! The `cpjobs` binary: `serve`, `worker` and the AWS CLI compatible
//! `codepipeline <operation>` commands. The binary only dispatches; the work
//! lives in library crates so it can be tested without a process.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use cpjobs_core::{Api, ApiError, Caller, ServiceConfig};
use cpjobs_server::cli::Domain;

fn main() {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "cpjobs".to_owned());
    // AWS CLI names itself after how it was invoked (argparse's `prog`), so a
    // link named `aws` prints `aws: error: ...`.
    let prog =
        Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cpjobs".to_owned());
    let rest: Vec<String> = args.collect();
    let code = if rest.first().map(String::as_str) == Some("serve") {
        cpjobs_server::cli::run(&rest[1..], open_domain)
    } else {
        cpjobs_cli::run(&prog, &rest)
    };
    std::process::exit(code);
}

/// Opens the domain that backs `cpjobs serve`.
///
/// The domain and its SQLite store are built on another branch; until they are
/// merged here, every operation is refused with a 500 that says so, and the
/// service's own layers (routing, SigV4, validation, metrics) work in full.
/// The merge replaces this body with the store-backed `Api`.
fn open_domain(_config: &ServiceConfig, _data_dir: &Path) -> Result<Domain, String> {
    Ok(Domain { api: Arc::new(NoDomain), options: cpjobs_server::Options::default() })
}

struct NoDomain;

impl Api for NoDomain {
    fn call(
        &self,
        _: &Caller,
        operation: &str,
        _: serde_json::Value,
        _: SystemTime,
    ) -> Result<serde_json::Value, ApiError> {
        Err(ApiError::internal(format!("{operation}: this build has no domain store linked in")))
    }
}
