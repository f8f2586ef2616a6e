//! The boundary between the HTTP layer and the domain: one call per operation,
//! JSON in and JSON out in the API model's shapes, AWS-named errors.

use std::time::SystemTime;

use serde_json::Value;

/// Who is calling: an authenticated principal of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The 12-digit account id the principal belongs to.
    pub account_id: String,
    /// The access key id the request was signed with.
    pub access_key_id: String,
}

/// An error as the API answers it: `{"__type": code, "message": message}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (400 for client errors, 500 for server errors).
    pub status: u16,
    /// The error shape name, e.g. `JobNotFoundException`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// A client error (HTTP 400).
    pub fn client(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { status: 400, code: code.into(), message: message.into() }
    }

    /// A server error (HTTP 500); the message must not leak internals.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError { status: 500, code: "InternalFailure".into(), message: message.into() }
    }

    /// `ValidationException`.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::client("ValidationException", message)
    }
}

/// The service's operations. `operation` is the PascalCase name from `X-Amz-Target`
/// (`PollForThirdPartyJobs`, or a cpjobs extension such as `ListThirdPartyClients`);
/// `input` has already been checked against the model's constraints.
pub trait Api: Send + Sync + 'static {
    /// Runs one operation for `caller` at time `now`.
    fn call(&self, caller: &Caller, operation: &str, input: Value, now: SystemTime) -> Result<Value, ApiError>;

    /// Answers the operation at once when that needs only a short read (no
    /// wait for the writer, no disk sync), so the server may call it on its
    /// async threads; `None` means "use [`call`](Api::call) on a blocking
    /// thread". The default never answers.
    fn call_now(
        &self,
        caller: &Caller,
        operation: &str,
        input: &Value,
        now: SystemTime,
    ) -> Option<Result<Value, ApiError>> {
        let _ = (caller, operation, input, now);
        None
    }
}
