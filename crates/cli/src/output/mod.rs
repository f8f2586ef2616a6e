//! Reading a successful response and printing it, as AWS CLI v1 does.
//!
//! Two steps, kept apart so `--query` can sit between them:
//! [`parse_response`] is botocore's JSON parser for a 2xx body (model member
//! order, unknown members dropped, wire-form timestamps and blobs), and
//! [`write_output`] is AWS CLI's formatter for `--output json|text|table`.
//!
//! Invariant: the bytes written are the bytes AWS CLI writes, including where
//! Python crashes. botocore and the formatters raise Python exceptions on
//! values of unexpected types; AWS CLI prints `"\n" + str(e) + "\n"` on stderr
//! and exits 255. [`parse_response`] returns that [`CliError`]; the formatters
//! return it inside an [`std::io::Error`] (see [`formatter_crash`]) after
//! writing whatever the real CLI had written before the crash.
//!
//! Paginated operations are formatted from values [`paged`] builds.
//!
//! The CLI's use, for one 2xx response:
//!
//! ```text
//! let parsed = parse_response_with(op, &body, &opts)?;      // Err: print, exit 255
//! stderr.write_all(parsed.stderr.as_bytes());               // v2-debug warning, usually empty
//! let value = query(parsed.value)?;                          // --query, if any
//! let format = OutputFormat::from_setting(&output)?;         // after the request, as AWS CLI
//! if let Err(e) = write_output(&value, format, table_color(&color), &op.name, &mut stdout) {
//!     let err = formatter_crash(&e).expect("write_output only fails with a crash");
//!     // print err.stderr, exit err.exit_code
//! }
//! ```
//!
//! Known gaps: a lone surrogate escape (`"\ud800"`) in a body becomes U+FFFD
//! (Python would fail later, printing it); the nesting depth at which
//! Python's RecursionError strikes (975 levels) was measured with the real
//! CLI for this code path, not derived; with `cli_timestamp_format = iso8601`
//! only the ISO 8601 and RFC 1123 string forms are read (dateutil reads many
//! more), and offsets near a DST change may differ from dateutil's fold logic.

mod body;
#[rustfmt::skip]
mod east_asian_width;
mod localtime;
pub mod paged;
pub(crate) mod parse;
mod table;
mod text;
mod timestamp;

use std::io::{self, Write};

use cpjobs_model::{Operation, ServiceModel};

use crate::error::CliError;
use crate::py::PyValue;
use crate::py::json_encode::{DumpOptions, dumps};

pub use timestamp::{TimestampFormat, V2_TIMESTAMP_WARNING};

/// botocore's JSON response parser for a 2xx body of `op`: returns the parsed
/// dict (model member order; unknown members dropped; `{}` for an empty or
/// non-JSON body, and for an operation without output), or the CliError AWS CLI
/// reports when botocore's parser crashes on a wrong type (`'str' object has no
/// attribute 'get'`), on a body that is not UTF-8, or on a `null` body.
pub fn parse_response(op: &Operation, body: &[u8]) -> Result<PyValue, CliError> {
    parse_response_with(op, body, &ParseOptions::default()).map(|p| p.value)
}

/// How AWS CLI's configuration changes response parsing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// `cli_timestamp_format` (default: wire).
    pub timestamp_format: TimestampFormat,
    /// `--v2-debug` (or `AWS_CLI_UPGRADE_DEBUG_MODE=true`) with no
    /// `cli_timestamp_format` configured: the first timestamp read prints
    /// [`V2_TIMESTAMP_WARNING`]. AWS CLI prints it once per run, so pass
    /// `false` for later pages once it has been printed.
    pub v2_timestamp_warning: bool,
}

/// A parsed 2xx response and what parsing wrote to stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedResponse {
    /// The parsed dict.
    pub value: PyValue,
    /// Written to stderr as soon as parsing is done (the v2 timestamp warning, or empty).
    pub stderr: String,
}

/// [`parse_response`] with AWS CLI's configuration applied. On failure the
/// CliError's stderr starts with anything parsing wrote before it failed.
pub fn parse_response_with(op: &Operation, body: &[u8], opts: &ParseOptions) -> Result<ParsedResponse, CliError> {
    parse::parse(ServiceModel::codepipeline(), op, body, opts)
}

/// The `--output` formats AWS CLI v1 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `json`: `json.dump(indent=4, ensure_ascii=False)`.
    Json,
    /// `text`: tab-separated lines (`awscli/text.py`).
    Text,
    /// `table`: boxed sections (`awscli/table.py`).
    Table,
}

impl OutputFormat {
    /// The format with this exact name (`json`, `text`, `table`); anything else
    /// is AWS CLI's `Unknown output type: <name>`.
    pub fn parse(name: &str) -> Option<OutputFormat> {
        match name {
            "json" => Some(OutputFormat::Json),
            "text" => Some(OutputFormat::Text),
            "table" => Some(OutputFormat::Table),
            _ => None,
        }
    }

    /// The format for an `output` setting from the environment or config file,
    /// or AWS CLI's error for an unknown one (`get_formatter`'s ValueError,
    /// raised after the request has been made).
    pub fn from_setting(name: &str) -> Result<OutputFormat, CliError> {
        OutputFormat::parse(name).ok_or_else(|| CliError::general(format!("Unknown output type: {name}")))
    }
}

/// A Python exception raised while formatting: its `str()`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PyException(String);

/// What a formatter crash carries inside the [`io::Error`] that
/// [`write_output`] returns; [`formatter_crash`] gets the [`CliError`] back.
#[derive(Debug)]
struct FormatterCrash(CliError);

impl std::fmt::Display for FormatterCrash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.stderr.trim())
    }
}

impl std::error::Error for FormatterCrash {}

/// The CliError AWS CLI reports when its formatter crashed, if `err` came
/// from [`write_output`] (which returns no other errors).
pub fn formatter_crash(err: &io::Error) -> Option<CliError> {
    err.get_ref()?.downcast_ref::<FormatterCrash>().map(|c| c.0.clone())
}

/// Everything AWS CLI's formatter writes to stdout for `value` (already
/// filtered by --query): json (`{}` prints nothing, null prints `null`), text
/// (awscli/text.py), table (awscli/table.py: title = operation_name, width 80
/// when stdout is not a TTY, else the terminal's; nested sections, sorted
/// headers, vertical fallback, East-Asian widths). `color` = colorama-style
/// ANSI for table output, as AWS CLI does with `--color on` or with `auto`
/// when stdout is a TTY (autoreset ESC[0m after every write()); it has no
/// effect on json and text.
///
/// When colour is on for a table and stdout is a terminal, the `ESC[0m`
/// colorama writes to stdout at exit (its atexit `reset_all`) is written last.
///
/// A formatter crash comes back as an [`io::Error`] that [`formatter_crash`]
/// turns into the CliError to report; with colour on, its stderr text carries
/// the ESC[0m colorama also appends to stderr writes. A failed write (stdout
/// closed early, as by `| head`) is ignored by the json and table formatters
/// (`Ok`, exit 0) and is such a crash for text (`[Errno 32] Broken pipe`, 255),
/// as measured with the real CLI.
pub fn write_output(
    value: &PyValue,
    format: OutputFormat,
    color: bool,
    operation_name: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let tty = rustix::termios::isatty(io::stdout());
    render(value, format, color, operation_name, terminal_width(), tty, out)
}

/// [`write_output`] as if stdout were not a terminal but the table had
/// `terminal_width` columns to fit in.
pub fn write_output_with_width(
    value: &PyValue,
    format: OutputFormat,
    color: bool,
    operation_name: &str,
    terminal_width: i64,
    out: &mut dyn Write,
) -> io::Result<()> {
    render(value, format, color, operation_name, terminal_width, false, out)
}

fn render(
    value: &PyValue,
    format: OutputFormat,
    color: bool,
    operation_name: &str,
    terminal_width: i64,
    stdout_is_tty: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if format == OutputFormat::Table && color && stdout_is_tty {
        // colorama.init registered reset_all at exit; on a terminal its wrapper
        // does not strip, so one more RESET_ALL follows everything else.
        let result = render(value, format, color, operation_name, terminal_width, false, out);
        let _ = out.write_all(b"\x1b[0m").and_then(|()| out.flush());
        return result;
    }
    let written = |r: io::Result<()>| match r {
        // The json and table formatters catch OSError (a closed pipe): nothing
        // more is written, nothing reported, exit 0. The text formatter does
        // not, so AWS CLI reports it like any other exception.
        Err(e) if format == OutputFormat::Text => Err(crash(PyException(python_os_error(&e)), false)),
        _ => Ok(()),
    };
    match format {
        OutputFormat::Json => {
            // JSONFormatter: an empty dict is the "no response body" case and prints nothing.
            if value.entries().is_some_and(<[_]>::is_empty) {
                return Ok(());
            }
            let mut text = dumps(&bytes_as_base64(value), DumpOptions::OUTPUT)
                .expect("every value is serializable once bytes are base64");
            text.push('\n');
            written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
        }
        OutputFormat::Text => {
            let mut buf = String::new();
            let result = text::format_text(value, &mut buf);
            written(out.write_all(buf.as_bytes()).and_then(|()| out.flush()))?;
            result.map_err(|e| crash(e, false))
        }
        OutputFormat::Table => match table::format_table(value, operation_name, color, terminal_width) {
            Ok(Some(text)) => written(out.write_all(text.as_bytes()).and_then(|()| out.flush())),
            Ok(None) => Ok(()),
            Err(e) => Err(crash(e, color)),
        },
    }
}

/// `str(OSError)`: `[Errno 32] Broken pipe`.
fn python_os_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            // Rust words it "Broken pipe (os error 32)", from the same strerror().
            let text = e.to_string();
            let message = text.split(" (os error ").next().unwrap_or(&text);
            format!("[Errno {n}] {message}")
        }
        None if e.kind() == io::ErrorKind::BrokenPipe => "[Errno 32] Broken pipe".into(),
        None => e.to_string(),
    }
}

fn crash(e: PyException, color: bool) -> io::Error {
    let stderr = if color {
        // write_exception's three writes, each followed by colorama's autoreset.
        format!("\n\x1b[0m{}\x1b[0m\n\x1b[0m", e.0)
    } else {
        format!("\n{}\n", e.0)
    };
    io::Error::other(FormatterCrash(CliError::raw(255, stderr)))
}

/// The `color` argument of [`write_output`] for a `--color` value (`on`,
/// `off`, `auto`): `auto` colours the table when stdout is a terminal, as
/// `MultiTable` does when it picks its styler.
pub fn table_color(setting: &str) -> bool {
    match setting {
        "on" => true,
        "auto" => rustix::termios::isatty(io::stdout()),
        _ => false,
    }
}

/// The width `awscli.table.determine_terminal_width` finds: the columns of
/// the terminal on stdout (TIOCGWINSZ), or 80 when stdout is not a terminal.
pub fn terminal_width() -> i64 {
    match rustix::termios::tcgetwinsize(io::stdout()) {
        // Python unpacks the columns as a signed short.
        Ok(ws) => i64::from(ws.ws_col as i16),
        Err(_) => 80,
    }
}

/// AWS CLI's `json_encoder` writes bytes as base64 text.
fn bytes_as_base64(v: &PyValue) -> std::borrow::Cow<'_, PyValue> {
    fn has_bytes(v: &PyValue) -> bool {
        match v {
            PyValue::Bytes(_) => true,
            PyValue::List(l) => l.iter().any(has_bytes),
            PyValue::Dict(e) | PyValue::OrderedDict(e) => e.iter().any(|(_, v)| has_bytes(v)),
            _ => false,
        }
    }
    fn convert(v: &PyValue) -> PyValue {
        match v {
            PyValue::Bytes(b) => PyValue::Str(base64(b)),
            PyValue::List(l) => PyValue::List(l.iter().map(convert).collect()),
            PyValue::Dict(e) => PyValue::Dict(e.iter().map(|(k, v)| (k.clone(), convert(v))).collect()),
            PyValue::OrderedDict(e) => PyValue::OrderedDict(e.iter().map(|(k, v)| (k.clone(), convert(v))).collect()),
            other => other.clone(),
        }
    }
    if has_bytes(v) { std::borrow::Cow::Owned(convert(v)) } else { std::borrow::Cow::Borrowed(v) }
}

/// Standard base64 with padding (`base64.b64encode`).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
