//! The `cpjobs` binary: `serve`, `worker`, `dev-env`, `clients` (the partner's
//! client tokens) and the AWS CLI compatible `codepipeline <operation>`
//! commands. The binary dispatches and wires; the work lives in library crates
//! so it can be tested without a process.

mod artifacts;
mod cmdline;
mod dev_env;
mod logging;
mod paths;
mod serve;
mod worker;

/// mimalloc for every subcommand: under load glibc's malloc and free were a
/// fifth to a quarter of the service's CPU. Its version 2 without
/// transparent huge pages (the `v2` and `no_thp` features): version 3 touched
/// twice the memory in a CLI run (peak RSS 15 MiB against 6), version 2
/// touches what glibc's malloc does and costs the CLI's start-up no
/// measurable CPU (README, "Benchmarks", has the figures).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "cpjobs".to_owned());
    // AWS CLI names itself after how it was invoked (argparse's `prog`), so a
    // link named `aws` prints `aws: error: ...`.
    let prog =
        Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cpjobs".to_owned());
    let rest: Vec<String> = args.collect();
    match rest.first().map(String::as_str) {
        Some("serve") => serve::run(&rest[1..]),
        Some("worker") => worker::run(&rest[1..]),
        Some("dev-env") => dev_env::run(&rest[1..]),
        // cpjobs' own operation, so not among the AWS CLI compatible commands.
        Some("clients") => code(cpjobs_cli::clients::run(&rest[1..])),
        // `aws --help` is a usage error (argparse without add_help); `cpjobs
        // --help` is how a newcomer asks what the binary does.
        Some("--help" | "-h") if rest.len() == 1 && prog != "aws" => code(cpjobs_cli::run(&prog, &["help".to_owned()])),
        _ => code(cpjobs_cli::run(&prog, &rest)),
    }
}

/// A library's exit status (0, 1, 2, 255) as the process's.
fn code(status: i32) -> ExitCode {
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
