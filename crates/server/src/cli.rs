//! `cpjobs serve`: arguments, logging, configuration (file or development
//! account), then the service until SIGTERM or ctrl-c.
//!
//! The domain is opened by a function the binary passes in, so this crate does
//! not depend on any store and the binary decides what backs the service.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cpjobs_core::{Api, ServiceConfig};

use crate::Options;

/// The address `cpjobs serve` listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7700";
/// The data directory by default.
pub const DEFAULT_DATA_DIR: &str = "./cpjobs-data";

const USAGE: &str = "usage: cpjobs serve [--config FILE] [--listen ADDR] [--data-dir DIR] [--log-format text|json]

  --config FILE      accounts, principals and third-party action types (TOML);
                     without it a development account is created in the data directory
  --listen ADDR      address to listen on (default 127.0.0.1:7700)
  --data-dir DIR     where the service keeps its data (default ./cpjobs-data)
  --log-format FMT   text (default on a terminal) or json (default otherwise);
                     RUST_LOG sets the level (default info)";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Validated `cpjobs serve` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeArgs {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--log-format`, when given.
    pub log_format: Option<LogFormat>,
}

/// Parses the arguments after `serve`. `Ok(None)` means help was asked for.
pub fn parse_args(args: &[String]) -> Result<Option<ServeArgs>, String> {
    let mut config = None;
    let mut listen = DEFAULT_LISTEN.to_owned();
    let mut data_dir = PathBuf::from(DEFAULT_DATA_DIR);
    let mut log_format = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        let mut value = || inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{name} needs a value"));
        match name {
            "--config" => config = Some(PathBuf::from(value()?)),
            "--listen" => listen = value()?,
            "--data-dir" => data_dir = PathBuf::from(value()?),
            "--log-format" => {
                log_format = Some(match value()?.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => return Err(format!("--log-format must be text or json, not {other:?}")),
                })
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = listen.parse().map_err(|_| format!("--listen {listen:?} is not an address such as 127.0.0.1:7700"))?;
    Ok(Some(ServeArgs { config, listen, data_dir, log_format }))
}

/// What the binary's domain opener returns: the API and its hooks.
pub struct Domain {
    /// The operations.
    pub api: Arc<dyn Api>,
    /// Hooks (tick, stats, temporary credentials) and limits.
    pub options: Options,
}

fn init_logging(format: Option<LogFormat>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let format = format.unwrap_or(if std::io::stderr().is_terminal() { LogFormat::Text } else { LogFormat::Json });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The block a user pastes to point the AWS CLI (or an SDK) at this service.
pub fn credentials_banner(config: &ServiceConfig, endpoint: &str, kept_in: &Path) -> String {
    let account = &config.accounts[0];
    let p = &account.principals[0];
    format!(
        "Development account {} created; its credentials are kept in {}.\n\
         To use it:\n\n\
         export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION={}\n\
         aws --endpoint-url {endpoint} codepipeline list-pipelines\n",
        account.id,
        kept_in.display(),
        p.access_key_id,
        p.secret_access_key,
        config.region
    )
}

/// Writes to stdout, ignoring a closed stdout: the service must keep serving
/// when whoever started it stopped reading (`println!` would panic).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Runs `cpjobs serve` with `args` (after `serve`); returns the exit code.
pub fn run(args: &[String], open: impl FnOnce(&ServiceConfig, &Path) -> Result<Domain, String>) -> i32 {
    let args = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("cpjobs serve: {e}\n{USAGE}");
            return 2;
        }
    };
    init_logging(args.log_format);
    match serve_blocking(&args, open) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cpjobs serve: {e}");
            1
        }
    }
}

fn serve_blocking(
    args: &ServeArgs,
    open: impl FnOnce(&ServiceConfig, &Path) -> Result<Domain, String>,
) -> Result<(), String> {
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", args.data_dir.display()))?;
    let (config, dev) = match &args.config {
        Some(path) => (crate::config::load(path).map_err(|e| e.to_string())?, None),
        None => {
            let dev = crate::config::dev_account(&args.data_dir).map_err(|e| e.to_string())?;
            (dev.config.clone(), Some(dev))
        }
    };
    let domain = open(&config, &args.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shutdown = crate::shutdown_signal();
        // 0.0.0.0 is where it listens, not where a client connects.
        let shown = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
        let endpoint = format!("http://{shown}");
        let mut banner = format!("cpjobs serve: listening on {endpoint} (region {})\n", config.region);
        match &dev {
            Some(d) if d.created => banner.push_str(&credentials_banner(&config, &endpoint, &d.path)),
            Some(d) => banner.push_str(&format!(
                "Using the development account {} (credentials in {}).\n",
                config.accounts[0].id,
                d.path.display()
            )),
            None => {}
        }
        say(&banner);
        tracing::info!(listen = %addr, region = %config.region, accounts = config.accounts.len(), "serving");
        crate::serve(listener, domain.api, &config, domain.options, shutdown)
            .await
            .map_err(|e| format!("server error: {e}"))?;
        tracing::info!("stopped");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags_and_defaults() {
        let a = parse_args(&[]).unwrap().unwrap();
        assert_eq!(a.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(a.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        let a = parse_args(&args(&[
            "--config",
            "c.toml",
            "--listen=0.0.0.0:80",
            "--data-dir",
            "d",
            "--log-format",
            "json",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.config, Some(PathBuf::from("c.toml")));
        assert_eq!(a.listen.port(), 80);
        assert_eq!(a.log_format, Some(LogFormat::Json));
        assert!(parse_args(&args(&["--listen", "nowhere"])).unwrap_err().contains("not an address"));
        assert!(parse_args(&args(&["--bogus"])).unwrap_err().contains("unknown argument"));
        assert!(parse_args(&args(&["--config"])).unwrap_err().contains("needs a value"));
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
    }
}
