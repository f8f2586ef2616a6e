//! PLACEHOLDER: replaced at merge.
//!
//! Profiles, region and output settings.

use crate::args::GlobalArgs;
use crate::error::CliError;

/// The resolved configuration of one invocation.
#[derive(Debug)]
pub struct Session;

impl Session {
    /// Loads config and credentials files for `globals`.
    pub fn load(globals: &GlobalArgs) -> Result<Session, CliError> {
        let _ = globals;
        Err(CliError::general("configuration is not built yet"))
    }

    /// The region, or AWS CLI's error.
    pub fn region(&self) -> Result<String, CliError> {
        Err(CliError::general("configuration is not built yet"))
    }

    /// The configured output format, if any.
    pub fn output_format(&self) -> Option<String> {
        None
    }
}
