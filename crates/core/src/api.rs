//! The boundary between the HTTP layer and the domain: one call per operation,
//! JSON in and JSON out in the API model's shapes, AWS-named errors.

use std::time::SystemTime;

use serde_json::Value;

use crate::error_code::ErrorCode;
use crate::operation::Operation;

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
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// A client error (HTTP 400).
    pub fn client(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status: 400, code, message: message.into() }
    }

    /// A server error (HTTP 500); the message must not leak internals.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError { status: 500, code: ErrorCode::InternalFailure, message: message.into() }
    }

    /// Whether this is the service's own failure (`InternalFailure`, HTTP 500),
    /// already logged with its cause where it was made.
    pub fn is_internal(&self) -> bool {
        self.status == 500
    }

    /// `ValidationException`.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::client(ErrorCode::ValidationException, message)
    }
}

/// Receives an operation's answer (see [`Api::submit`]).
pub type Reply = Box<dyn FnOnce(Result<Value, ApiError>) + Send>;

/// Work that may block (on the store, on the disk): run it on a thread
/// where blocking is allowed; it sends the operation's answer to its reply.
pub type BlockingWork = Box<dyn FnOnce() + Send>;

/// What [`Api::submit`] did with an operation.
pub enum Submitted {
    /// The operation was taken: the reply has its answer, or will have it
    /// (from the store's writer, say) without the caller's help.
    Taken,
    /// The operation needs a thread that may block: run this there.
    Blocking(BlockingWork),
}

impl std::fmt::Debug for Submitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Submitted::Taken => f.write_str("Taken"),
            Submitted::Blocking(_) => f.write_str("Blocking(..)"),
        }
    }
}

/// The service's one entry point. `input` has already been checked against
/// the model's constraints (for CodePipeline's operations).
pub trait Api: Send + Sync + 'static {
    /// Starts `operation` for `caller` at time `now` without blocking the
    /// caller: the service answers `reply` at once when that takes only a
    /// short read, hands a durable write to the store's writer (`reply`
    /// hears from the writer's side once the commit is on disk), or returns
    /// the work that may block for the caller to run where it may. Called
    /// on the server's async threads.
    fn submit(&self, caller: &Caller, operation: Operation, input: Value, now: SystemTime, reply: Reply) -> Submitted;

    /// [`submit`](Api::submit) for callers that may block (tests, tools):
    /// runs any blocking work on this thread and waits for the answer.
    fn call(&self, caller: &Caller, operation: Operation, input: Value, now: SystemTime) -> Result<Value, ApiError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let reply: Reply = Box::new(move |r| {
            // The receiver waits below until it has an answer.
            let _ = tx.send(r);
        });
        match self.submit(caller, operation, input, now, reply) {
            Submitted::Taken => {}
            Submitted::Blocking(work) => work(),
        }
        rx.recv().unwrap_or_else(|_| Err(ApiError::internal("The service dropped the request without an answer")))
    }
}
