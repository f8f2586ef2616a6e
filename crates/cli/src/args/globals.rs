//! AWS CLI's global options (`--region`, `--output`, ...), after parsing.
//!
//! Values stay as the user typed them where AWS CLI converts them later
//! (timeouts go through Python's `int()` when the client is built), so each
//! conversion happens at the moment, and with the message, AWS CLI has.

/// The global options of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalArgs {
    /// `--debug`.
    pub debug: bool,
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--no-verify-ssl`.
    pub no_verify_ssl: bool,
    /// `--no-paginate`.
    pub no_paginate: bool,
    /// `--output` (already one of json, text, table).
    pub output: Option<String>,
    /// `--query`, the raw expression.
    pub query: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--color`: on, off or auto.
    pub color: String,
    /// `--no-sign-request`.
    pub no_sign_request: bool,
    /// `--ca-bundle`.
    pub ca_bundle: Option<String>,
    /// `--cli-read-timeout`, raw.
    pub cli_read_timeout: Option<String>,
    /// `--cli-connect-timeout`, raw.
    pub cli_connect_timeout: Option<String>,
    /// `--v2-debug`.
    pub v2_debug: bool,
}

impl Default for GlobalArgs {
    fn default() -> Self {
        GlobalArgs {
            debug: false,
            endpoint_url: None,
            no_verify_ssl: false,
            no_paginate: false,
            output: None,
            query: None,
            profile: None,
            region: None,
            color: "auto".to_owned(),
            no_sign_request: false,
            ca_bundle: None,
            cli_read_timeout: None,
            cli_connect_timeout: None,
            v2_debug: false,
        }
    }
}
