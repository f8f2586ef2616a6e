//! Reading the API's JSON input members, each refused with the
//! `ValidationException` AWS gives, and the wire's timestamps (epoch
//! seconds with a fraction on AWS JSON 1.1; milliseconds in the domain).

use crate::error_code::ErrorCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::fail::{Res, fail};
use crate::store::Millis;

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
        Some(_) => fail(ErrorCode::ValidationException, format!("{name} must be a string")),
        None => fail(
            ErrorCode::ValidationException,
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
        Some(_) => fail(ErrorCode::ValidationException, format!("{name} must be a string")),
    }
}

/// An optional integer member.
pub(crate) fn opt_i64(input: &Value, name: &str) -> Res<Option<i64>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) => Ok(Some(n)),
            None => fail(ErrorCode::ValidationException, format!("{name} must be an integer")),
        },
    }
}

/// An optional boolean member.
pub(crate) fn opt_bool(input: &Value, name: &str) -> Res<Option<bool>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => fail(ErrorCode::ValidationException, format!("{name} must be a boolean")),
    }
}

/// A required object member.
pub(crate) fn req_obj<'a>(input: &'a Value, name: &str) -> Res<&'a Map<String, Value>> {
    match input.get(name) {
        Some(Value::Object(m)) => Ok(m),
        Some(_) => fail(ErrorCode::ValidationException, format!("{name} must be a structure")),
        None => fail(
            ErrorCode::ValidationException,
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
        Some(_) => fail(ErrorCode::ValidationException, format!("{name} must be a list")),
    }
}
