//! The one error type of the CLI: what to print on stderr and the exit code.
//!
//! AWS CLI v1 exits 2 for argument (argparse) errors, 255 for everything else
//! it reports, and 1 only when Python itself crashes. Messages are kept as the
//! exact text AWS CLI writes, so each caller decides the leading/trailing
//! newlines the real CLI prints.

/// A failure that ends the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Process exit code.
    pub exit_code: i32,
    /// Exact bytes for stderr.
    pub stderr: String,
}

impl CliError {
    /// The usual AWS CLI report: `"\n" + message + "\n"`, exit 255.
    pub fn general(message: impl AsRef<str>) -> CliError {
        CliError { exit_code: 255, stderr: format!("\n{}\n", message.as_ref()) }
    }

    /// A message printed as is (no leading blank line), exit 255.
    pub fn bare(message: impl AsRef<str>) -> CliError {
        CliError { exit_code: 255, stderr: format!("{}\n", message.as_ref()) }
    }

    /// Exact stderr text and exit code.
    pub fn raw(exit_code: i32, stderr: impl Into<String>) -> CliError {
        CliError { exit_code, stderr: stderr.into() }
    }
}
