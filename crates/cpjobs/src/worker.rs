//! `cpjobs worker`, wired as `serve` is: arguments (the worker crate's
//! parser) -> logging (shared with `serve`) -> the worker until a signal.

use std::process::ExitCode;

use crate::logging::{self, LogFormat};

/// Runs `cpjobs worker` with the arguments after `worker`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let args = match cpjobs_worker::parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{}", cpjobs_worker::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cpjobs worker: {e}\nTry 'cpjobs worker --help' for the options.");
            return ExitCode::from(2);
        }
    };
    logging::init(args.json_logs.map(|json| if json { LogFormat::Json } else { LogFormat::Text }));
    match cpjobs_worker::serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cpjobs worker: {e}");
            ExitCode::FAILURE
        }
    }
}
