//! PLACEHOLDER: replaced at merge.
//!
//! Signed HTTP calls with AWS CLI's retries.

use cpjobs_model::Operation;

use crate::args::GlobalArgs;
use crate::config::Session;
use crate::error::CliError;

/// A response as received.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A client for the CodePipeline endpoint.
#[derive(Debug)]
pub struct Client;

impl Client {
    /// Builds the client (endpoint, credentials, timeouts).
    pub fn new(session: &Session, globals: &GlobalArgs) -> Result<Client, CliError> {
        let _ = (session, globals);
        Err(CliError::general("the HTTP client is not built yet"))
    }

    /// Sends one operation with this JSON body.
    pub fn call(&self, op: &Operation, body: &str) -> Result<HttpResponse, CliError> {
        let _ = (op, body);
        Err(CliError::general("the HTTP client is not built yet"))
    }
}
