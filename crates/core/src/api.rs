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

    /// Whether this is the service's own failure (`InternalFailure`, HTTP 500),
    /// already logged with its cause where it was made.
    pub fn is_internal(&self) -> bool {
        self.status == 500
    }

    /// `ValidationException`.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::client("ValidationException", message)
    }
}

/// Receives an operation's answer (see [`Api::submit`]).
pub type Reply = Box<dyn FnOnce(Result<Value, ApiError>) + Send>;

/// What [`Api::submit`] did with an operation.
pub enum Submitted {
    /// The operation was taken: the reply has its answer, or will have it.
    Taken,
    /// The operation needs [`Api::call`] on a blocking thread: its input and
    /// the reply, handed back untouched.
    Declined(Value, Reply),
}

impl std::fmt::Debug for Submitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Submitted::Taken => f.write_str("Taken"),
            Submitted::Declined(input, _) => f.debug_tuple("Declined").field(input).finish_non_exhaustive(),
        }
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

    /// Starts the operation without blocking the caller, when the service
    /// can: `reply` gets the answer later, possibly on another thread (a
    /// durable write answers once its commit is on disk). Called on the
    /// server's async threads, so it may do a short read but never waits for
    /// the writer. The default declines everything.
    fn submit(&self, caller: &Caller, operation: &str, input: Value, now: SystemTime, reply: Reply) -> Submitted {
        let _ = (caller, operation, now);
        Submitted::Declined(input, reply)
    }
}
