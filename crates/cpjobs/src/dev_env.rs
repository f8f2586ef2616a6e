//! `cpjobs dev-env`: the shell lines that point AWS CLI and the SDKs at a
//! local `cpjobs serve` running on its development account, for
//! `eval "$(cpjobs dev-env)"`, at any time and as often as needed.
//!
//! The development account is a local development credential: made by
//! `cpjobs serve` in its data directory on first start, kept there (0600), and
//! never valid anywhere but that service.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cpjobs_core::ServiceConfig;
use cpjobs_server::config::DEV_ACCOUNT_FILE;

use crate::serve::{DEFAULT_LISTEN, ENDPOINT_FILE};
use crate::{cmdline, paths};

const USAGE: &str = "usage: cpjobs dev-env [--data-dir DIR]

Prints the shell line that points AWS CLI, the AWS SDKs and cpjobs at a local
`cpjobs serve` on its development account:

  export AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. AWS_DEFAULT_REGION=.. AWS_ENDPOINT_URL=..

Use it as: eval \"$(cpjobs dev-env)\". AWS_ENDPOINT_URL is where that service last
listened. The credentials are a local development credential, valid only there.

  --data-dir DIR   the service's data directory (default $XDG_DATA_HOME/cpjobs,
                   else ~/.local/share/cpjobs; the same default as cpjobs serve)
  -h, --help       this text";

/// Runs `cpjobs dev-env` with the arguments after `dev-env`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    match parse_args(args).and_then(|dir| dir.map(|d| lines(&d)).transpose()) {
        Ok(Some(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(e)) => {
            eprintln!("cpjobs dev-env: {e}\nTry 'cpjobs dev-env --help' for the options.");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("cpjobs dev-env: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    /// The command line: exit 2, as every cpjobs command.
    Usage(String),
    /// Anything else: exit 1.
    Other(String),
}

fn parse_args(args: &[String]) -> Result<Option<PathBuf>, Failure> {
    use lexopt::prelude::*;
    let mut data_dir = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| Failure::Usage(e.to_string()))? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("data-dir") => data_dir = Some(PathBuf::from(cmdline::value(&mut parser).map_err(Failure::Usage)?)),
            other => return Err(Failure::Usage(other.unexpected().to_string())),
        }
    }
    match data_dir {
        Some(d) => Ok(Some(d)),
        None => paths::default_data_dir().map(Some).map_err(Failure::Usage),
    }
}

fn lines(data_dir: &Path) -> Result<String, Failure> {
    let file = data_dir.join(DEV_ACCOUNT_FILE);
    if !file.exists() {
        return Err(Failure::Other(format!(
            "no development account in {}: start `cpjobs serve{}` once (without --config) to create it",
            data_dir.display(),
            data_dir_arg(data_dir)
        )));
    }
    let config = cpjobs_server::config::load(&file).map_err(|e| Failure::Other(e.to_string()))?;
    let endpoint = std::fs::read_to_string(data_dir.join(ENDPOINT_FILE))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("http://{DEFAULT_LISTEN}"));
    Ok(format!("{}\n", export_line(&config, &endpoint)))
}

/// ` --data-dir DIR` when `dir` is not the default, so a printed command
/// finds the same directory.
pub(crate) fn data_dir_arg(dir: &Path) -> String {
    match paths::default_data_dir() {
        Ok(d) if d == dir => String::new(),
        _ => format!(" --data-dir {}", shell_quote(&dir.display().to_string())),
    }
}

/// The `export` line for the development account `config` at `endpoint`.
pub(crate) fn export_line(config: &ServiceConfig, endpoint: &str) -> String {
    let p = &config.accounts[0].principals[0];
    format!(
        "export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION={} AWS_ENDPOINT_URL={}",
        shell_quote(&p.access_key_id),
        shell_quote(&p.secret_access_key),
        shell_quote(&config.region),
        shell_quote(endpoint)
    )
}

/// Quotes `s` for a POSIX shell when it holds anything but plain characters
/// (the file is the user's to edit; `eval` must never run what it holds).
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:+=@%,".contains(&b));
    if plain { s.to_owned() } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_anything_a_shell_would_read() {
        assert_eq!(shell_quote("AKIA123"), "AKIA123");
        assert_eq!(shell_quote("http://127.0.0.1:7700"), "http://127.0.0.1:7700");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
