//! Log set-up of the long-running commands: `tracing` to stderr, text on a
//! terminal and JSON lines otherwise (what a log collector reads), the level
//! from `RUST_LOG` (default `info`).

use std::io::IsTerminal;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `--log-format`'s value.
    pub(crate) fn parse(v: &str) -> Result<LogFormat, String> {
        match v {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("--log-format must be text or json, not {other:?}")),
        }
    }
}

/// Installs the subscriber; `None` chooses by whether stderr is a terminal.
pub(crate) fn init(format: Option<LogFormat>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let format = format.unwrap_or(if std::io::stderr().is_terminal() { LogFormat::Text } else { LogFormat::Json });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
