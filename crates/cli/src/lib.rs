//! The AWS CLI v1 compatible front end: `cpjobs codepipeline <operation> ...`.
//!
//! The flow follows ripgrep's split of raw arguments from validated intent:
//! argv -> parsed arguments (argparse rules) -> request parameters (shorthand,
//! JSON, files, validation against the model) -> signed request with AWS CLI's
//! retries -> response read against the model -> output (json, text, table,
//! `--query`). Every step reproduces AWS CLI v1.45.11's bytes and exit codes.

pub mod args;
pub mod clients;
pub mod config;
pub mod debug;
#[cfg(test)]
mod differences;
pub mod driver;
pub mod error;
pub mod help;
pub mod output;
pub mod params;
pub mod py;
pub mod query;
pub mod transport;

pub use error::CliError;

/// Runs the AWS CLI front end on `args` (without the program name) and returns the exit code.
/// `prog` is the program name as invoked (`aws` when called through a link of that name).
pub fn run(prog: &str, args: &[String]) -> i32 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match driver::main(prog, args, &mut out) {
        Ok(code) => code,
        Err(e) => {
            use std::io::Write;
            let _ = out.flush();
            let _ = std::io::stderr().lock().write_all(e.stderr.as_bytes());
            e.exit_code
        }
    }
}
