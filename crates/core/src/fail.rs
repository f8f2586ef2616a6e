//! The transaction error: an operation's failure inside a transaction
//! carries either an API error (the caller's answer) or a store error (a
//! conflict the service retries, or a backend failure).

use crate::api::ApiError;
use crate::error_code::ErrorCode;
use crate::store::StoreError;

/// An operation's failure inside a transaction: an answer for the caller, or
/// a store failure (a conflict is retried by the service).
#[derive(Debug)]
pub(crate) enum Fail {
    Api(ApiError),
    Store(StoreError),
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Fail {
        Fail::Api(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

/// Result of domain code running in a transaction.
pub(crate) type Res<T> = Result<T, Fail>;

/// A client error as a transaction failure.
pub(crate) fn fail<T>(code: ErrorCode, message: impl Into<String>) -> Res<T> {
    Err(Fail::Api(ApiError::client(code, message)))
}

/// A guarded update touched no row: another writer got there first. The
/// service retries the whole transaction, which then sees the new state.
pub(crate) fn lost_race<T>(what: &str) -> Res<T> {
    Err(Fail::Store(StoreError::Conflict(what.to_owned())))
}
