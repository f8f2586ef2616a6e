//! Small conversions between the API's JSON and the domain: reading input
//! members, timestamps (epoch seconds on the AWS JSON 1.1 wire), paging
//! tokens, random identifiers, and the transaction error that carries either
//! an API error or a store error.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::api::ApiError;
use crate::store::{Millis, StoreError};

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
pub(crate) fn fail<T>(code: &str, message: impl Into<String>) -> Res<T> {
    Err(Fail::Api(ApiError::client(code, message)))
}

/// A guarded update touched no row: another writer got there first. The
/// service retries the whole transaction, which then sees the new state.
pub(crate) fn lost_race<T>(what: &str) -> Res<T> {
    Err(Fail::Store(StoreError::Conflict(what.to_owned())))
}

/// `now` as milliseconds since the epoch (times before 1970 clamp to 0).
pub(crate) fn millis(now: SystemTime) -> Millis {
    now.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
}

/// A timestamp as the JSON wire carries it: epoch seconds with a fraction.
pub(crate) fn timestamp(ms: Millis) -> Value {
    let secs = ms as f64 / 1000.0;
    Value::from(secs)
}

/// A required string member.
pub(crate) fn req_str<'a>(input: &'a Value, name: &str) -> Res<&'a str> {
    match input.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => fail("ValidationException", format!("{name} must be a string")),
        None => fail(
            "ValidationException",
            format!(
                "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            ),
        ),
    }
}

/// An optional string member.
pub(crate) fn opt_str<'a>(input: &'a Value, name: &str) -> Res<Option<&'a str>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => fail("ValidationException", format!("{name} must be a string")),
    }
}

/// An optional integer member.
pub(crate) fn opt_i64(input: &Value, name: &str) -> Res<Option<i64>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) => Ok(Some(n)),
            None => fail("ValidationException", format!("{name} must be an integer")),
        },
    }
}

/// An optional boolean member.
pub(crate) fn opt_bool(input: &Value, name: &str) -> Res<Option<bool>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => fail("ValidationException", format!("{name} must be a boolean")),
    }
}

/// A required object member.
pub(crate) fn req_obj<'a>(input: &'a Value, name: &str) -> Res<&'a Map<String, Value>> {
    match input.get(name) {
        Some(Value::Object(m)) => Ok(m),
        Some(_) => fail("ValidationException", format!("{name} must be a structure")),
        None => fail(
            "ValidationException",
            format!(
                "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            ),
        ),
    }
}

/// An optional list member (absent or null is empty).
pub(crate) fn opt_list<'a>(input: &'a Value, name: &str) -> Res<&'a [Value]> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => fail("ValidationException", format!("{name} must be a list")),
    }
}

/// A fresh UUID (job ids, execution ids, client ids, nonces).
pub(crate) fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A secret token: 256 random bits, hex.
pub(crate) fn secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// A short random suffix for artifact object keys.
pub(crate) fn short_id() -> String {
    let s = uuid::Uuid::new_v4().simple().to_string();
    s[..7].to_owned()
}

/// Encodes a paging position as an opaque `nextToken`.
pub(crate) fn encode_token(position: &str) -> String {
    position.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a `nextToken`; a token we did not issue is `InvalidNextTokenException`.
pub(crate) fn decode_token(token: &str) -> Res<String> {
    let bad = || Fail::Api(ApiError::client("InvalidNextTokenException", "The next token is not valid."));
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())
}

/// Decodes a numeric paging offset.
pub(crate) fn decode_offset(token: Option<&str>) -> Res<usize> {
    match token {
        None => Ok(0),
        Some(t) => decode_token(t)?
            .strip_prefix("offset:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| Fail::Api(ApiError::client("InvalidNextTokenException", "The next token is not valid."))),
    }
}

/// Encodes a numeric paging offset.
pub(crate) fn encode_offset(offset: usize) -> String {
    encode_token(&format!("offset:{offset}"))
}

/// Compares secrets in time independent of where they first differ.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_token(&encode_token("pipe-1")).unwrap(), "pipe-1");
        assert_eq!(decode_offset(Some(&encode_offset(42))).unwrap(), 42);
        assert!(decode_token("zz").is_err());
        assert!(decode_offset(Some(&encode_token("nope"))).is_err());
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
