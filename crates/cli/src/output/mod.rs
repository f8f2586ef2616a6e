//! PLACEHOLDER: replaced at merge.
//!
//! Responses read against the model, and the json/text/table formatters.

use cpjobs_model::Operation;

use crate::error::CliError;
use crate::py::PyValue;

/// Parses a 200 response body against the operation's output shape.
pub fn parse_response(op: &Operation, body: &[u8]) -> Result<PyValue, CliError> {
    let _ = (op, body);
    Err(CliError::general("response parsing is not built yet"))
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// json
    Json,
    /// text
    Text,
    /// table
    Table,
}

impl OutputFormat {
    /// The format with this name.
    pub fn parse(name: &str) -> Option<OutputFormat> {
        match name {
            "json" => Some(OutputFormat::Json),
            "text" => Some(OutputFormat::Text),
            "table" => Some(OutputFormat::Table),
            _ => None,
        }
    }
}

/// Writes `value` in `format`.
pub fn write_output(
    value: &PyValue,
    format: OutputFormat,
    color: bool,
    operation_name: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let _ = (value, format, color, operation_name, out);
    Err(std::io::Error::other("output formatting is not built yet"))
}

/// The CliError a formatter crash inside [`write_output`]'s io::Error carries.
pub fn formatter_crash(err: &std::io::Error) -> Option<CliError> {
    let _ = err;
    None
}
