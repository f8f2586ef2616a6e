//! Error responses and retries as botocore 1.43.11 handles them for an AWS
//! JSON 1.1 service: the error code and message (`parsers.py`), whether an
//! attempt is retried (legacy mode from `data/_retry.json`, standard mode
//! from `retries/standard.py`), the back-off, and the retry settings with
//! their validation messages.
//!
//! Invariant: decisions here are pure functions of the attempt number and
//! what that attempt produced, so they are unit-tested without a network.

use crate::error::CliError;
use crate::py::PyValue;

/// What a non-2xx response means: botocore's parsed `Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// `Error.Code` (may be empty).
    pub code: String,
    /// `Error.Message`.
    pub message: String,
}

/// Python `str()` of a JSON value, as botocore formats the message.
fn py_str(v: &serde_json::Value) -> String {
    to_py(v).py_str()
}

/// A JSON value as Python's `json.loads` gives it.
pub fn to_py(v: &serde_json::Value) -> PyValue {
    match v {
        serde_json::Value::Null => PyValue::None,
        serde_json::Value::Bool(b) => PyValue::Bool(*b),
        serde_json::Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                PyValue::Int(n.to_string())
            } else {
                PyValue::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => PyValue::Str(s.clone()),
        serde_json::Value::Array(a) => PyValue::List(a.iter().map(to_py).collect()),
        serde_json::Value::Object(o) => PyValue::Dict(o.iter().map(|(k, v)| (k.clone(), to_py(v))).collect()),
    }
}

/// Python's `http.client.responses` reason phrases.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

/// botocore's parse of an error response (status >= 301) for the `json` protocol.
/// Err holds a Python exception message for bodies botocore itself chokes on.
pub fn parse_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Result<ServiceError, String> {
    // Generic (HTML or empty) 5xx: code = status, message = reason phrase.
    if status >= 500 {
        let trimmed = trim_ascii_ws(body);
        if trimmed.is_empty() || trimmed.starts_with(b"<html>") {
            return Ok(ServiceError { code: status.to_string(), message: reason_phrase(status).to_owned() });
        }
    }
    let parsed: serde_json::Value = if body.is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        let text = std::str::from_utf8(body).map_err(|e| {
            format!(
                "'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
                body[e.valid_up_to()],
                e.valid_up_to()
            )
        })?;
        match serde_json::from_str(text) {
            Ok(v) => v,
            // botocore keeps an unparseable body as the message.
            Err(_) => serde_json::json!({ "message": text }),
        }
    };
    let Some(obj) = parsed.as_object() else {
        let ty = match parsed {
            serde_json::Value::Array(_) => "list",
            serde_json::Value::String(_) => "str",
            serde_json::Value::Number(ref n) if n.is_f64() => "float",
            serde_json::Value::Number(_) => "int",
            serde_json::Value::Bool(_) => "bool",
            _ => "NoneType",
        };
        return Err(format!("'{ty}' object has no attribute 'get'"));
    };
    let message = match obj.get("message").or_else(|| obj.get("Message")) {
        Some(v) => py_str(v),
        None => String::new(),
    };
    let code = match obj.get("__type") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Null) => None,
        Some(other) => Some(py_str(other)),
        None => Some(status.to_string()),
    };
    let code = match code {
        None => String::new(),
        Some(mut code) => {
            if let Some((head, _)) = code.split_once(':') {
                code = head.to_owned();
            }
            if let Some((_, tail)) = code.rsplit_once('#') {
                code = tail.to_owned();
            }
            // awsQueryCompatible services name the old query error code in a header.
            if let Some((_, qe)) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-query-error")) {
                let comps: Vec<&str> = qe.split(';').collect();
                if comps.len() == 2 && !comps[0].is_empty() {
                    code = comps[0].to_owned();
                }
            }
            code
        }
    };
    Ok(ServiceError { code, message })
}

fn trim_ascii_ws(b: &[u8]) -> &[u8] {
    // Python bytes.strip() strips ASCII whitespace only.
    let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = b.iter().position(|c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ws(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

/// `ClientError`'s message.
pub fn client_error_message(err: &ServiceError, operation: &str, max_retries_reached: Option<u32>) -> String {
    let retry = max_retries_reached.map(|n| format!(" (reached max retries: {n})")).unwrap_or_default();
    format!("An error occurred ({}) when calling the {} operation{}: {}", err.code, operation, retry, err.message)
}

/// The retry modes botocore accepts (`adaptive` adds client-side rate limiting to
/// `standard`, which a single CLI call never reaches, so it behaves as `standard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// `data/_retry.json` rules, 5 attempts.
    Legacy,
    /// `retries/standard.py`, 3 attempts.
    Standard,
}

/// Resolved retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Mode.
    pub mode: RetryMode,
    /// Total attempts, the first included.
    pub max_attempts: u32,
}

/// Python's `int()` on a string; Err is Python's message.
pub fn py_int(raw: &str) -> Result<i64, CliError> {
    let bad = || {
        let mut r = String::new();
        crate::py::value::str_repr(raw, &mut r);
        CliError::general(format!("invalid literal for int() with base 10: {r}"))
    };
    let s = raw.trim_matches(char::is_whitespace);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err(bad());
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = decimal_digit(c).ok_or_else(bad)?;
        // Values past i64 are not meaningful for any setting here; saturate.
        value = value.saturating_mul(10).saturating_add(i64::from(d));
    }
    Ok(if neg { -value } else { value })
}

/// The value of a Unicode decimal digit (category Nd), as `int()` accepts them.
fn decimal_digit(c: char) -> Option<u32> {
    if let Some(d) = c.to_digit(10) {
        return Some(d);
    }
    // Zero code points of the common Nd blocks (each block is 10 consecutive digits).
    const ZEROS: &[u32] = &[
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50,
        0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50,
        0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    ];
    let n = c as u32;
    ZEROS.iter().find(|&&z| n >= z && n < z + 10).map(|z| n - z)
}

impl RetryConfig {
    /// From `max_attempts` / `retry_mode` (env `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` or the profile),
    /// with botocore's conversions and validation order.
    pub fn resolve(max_attempts: Option<&str>, mode: Option<&str>) -> Result<RetryConfig, CliError> {
        let max = max_attempts.map(py_int).transpose()?;
        if let Some(m) = max
            && m < 1
        {
            return Err(CliError::general(format!(
                "Value provided to \"max_attempts\": {m} must be an integer greater than or equal to 1."
            )));
        }
        let mode = match mode.unwrap_or("legacy") {
            "legacy" => RetryMode::Legacy,
            "standard" | "adaptive" => RetryMode::Standard,
            other => {
                return Err(CliError::general(format!(
                    "Invalid value provided to \"mode\": \"{other}\" must be one of: ('legacy', 'standard', 'adaptive')"
                )));
            }
        };
        let default = if mode == RetryMode::Legacy { 5 } else { 3 };
        let max_attempts = max.map_or(default, |m| u32::try_from(m).unwrap_or(u32::MAX));
        Ok(RetryConfig { mode, max_attempts })
    }
}

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// An HTTP response with this status and parsed error code (empty for 2xx).
    Response {
        /// HTTP status.
        status: u16,
        /// Parsed `Error.Code`.
        code: &'a str,
    },
    /// A connection-level failure botocore retries (connect, closed, read timeout, SSL).
    ConnectionError,
    /// Any other exception from the HTTP client (not retried).
    OtherError,
}

/// The verdict after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Sleep `rand * factor` seconds (factor given), then try again.
    Retry {
        /// Upper bound of the back-off in seconds.
        max_delay: f64,
    },
    /// Stop; `max_reached` says whether botocore marks `MaxAttemptsReached`.
    Stop {
        /// Whether the error message gets " (reached max retries: N)".
        max_reached: bool,
    },
}

const LEGACY_THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
];
const STANDARD_THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];
const STANDARD_TRANSIENT_CODES: &[&str] = &["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"];

impl RetryConfig {
    /// Whether `outcome` of attempt number `attempt` (1-based) is retried.
    pub fn decide(&self, attempt: u32, outcome: Outcome<'_>) -> Decision {
        match self.mode {
            RetryMode::Legacy => {
                let retryable = match outcome {
                    Outcome::Response { status, code } => {
                        matches!(status, 429 | 500 | 502 | 503 | 504 | 509)
                            || (status == 400 && LEGACY_THROTTLE_CODES.contains(&code))
                    }
                    Outcome::ConnectionError => true,
                    Outcome::OtherError => false,
                };
                if !retryable {
                    Decision::Stop { max_reached: false }
                } else if attempt >= self.max_attempts {
                    // MaxAttemptsReached is only recorded on a response, never on an exception.
                    Decision::Stop { max_reached: matches!(outcome, Outcome::Response { .. }) }
                } else {
                    Decision::Retry { max_delay: 2f64.powi(attempt as i32 - 1) }
                }
            }
            RetryMode::Standard => {
                if attempt >= self.max_attempts {
                    // The max-attempts checker runs first and marks the response whatever the error.
                    return Decision::Stop { max_reached: matches!(outcome, Outcome::Response { .. }) };
                }
                let retryable = match outcome {
                    Outcome::Response { status, code } => {
                        STANDARD_TRANSIENT_CODES.contains(&code)
                            || matches!(status, 500 | 502 | 503 | 504)
                            || STANDARD_THROTTLE_CODES.contains(&code)
                    }
                    Outcome::ConnectionError | Outcome::OtherError => true,
                };
                if retryable {
                    Decision::Retry { max_delay: 2f64.powi(attempt as i32 - 1).min(20.0) }
                } else {
                    Decision::Stop { max_reached: false }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.to_owned(), v.to_owned())]
    }

    #[test]
    fn error_codes() {
        let e = parse_error(400, &[], br#"{"__type": "ValidationException", "message": "bad"}"#).unwrap();
        assert_eq!(e, ServiceError { code: "ValidationException".into(), message: "bad".into() });
        let e = parse_error(400, &[], br#"{"__type": "com.amazon.coral#Foo:http://x", "Message": "M"}"#).unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("Foo", "M"));
        let e = parse_error(400, &[], b"").unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("400", ""));
        let e = parse_error(404, &[], b"<html>nope</html>").unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("404", "<html>nope</html>"));
        let e = parse_error(500, &[], b"  ").unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("500", "Internal Server Error"));
        let e = parse_error(502, &[], b"<html><body>x</body></html>").unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("502", "Bad Gateway"));
        let e = parse_error(
            500,
            &[],
            br#"{"__type": "InternalFailure", "message": "We encountered an internal error. Please try again."}"#,
        )
        .unwrap();
        assert_eq!(e.code, "InternalFailure");
        let e = parse_error(
            400,
            &h("X-Amzn-Query-Error", "AWS.SimpleQueueService.NonExistentQueue;Sender"),
            br#"{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "q"}"#,
        )
        .unwrap();
        assert_eq!(e.code, "AWS.SimpleQueueService.NonExistentQueue");
        let e = parse_error(400, &h("x-amzn-query-error", "NoSemicolon"), br#"{"__type": "A#B"}"#).unwrap();
        assert_eq!(e.code, "B");
        let e = parse_error(400, &[], br#"{"__type": null, "message": 5}"#).unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("", "5"));
        let e = parse_error(400, &[], br#"{"message": null}"#).unwrap();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("400", "None"));
        assert_eq!(parse_error(400, &[], b"[1]").unwrap_err(), "'list' object has no attribute 'get'");
    }

    #[test]
    fn messages() {
        let e = ServiceError { code: "ThrottlingException".into(), message: "Rate exceeded".into() };
        assert_eq!(
            client_error_message(&e, "PollForThirdPartyJobs", Some(4)),
            "An error occurred (ThrottlingException) when calling the PollForThirdPartyJobs operation (reached max retries: 4): Rate exceeded"
        );
        assert_eq!(
            client_error_message(&e, "X", None),
            "An error occurred (ThrottlingException) when calling the X operation: Rate exceeded"
        );
    }

    #[test]
    fn legacy_decisions() {
        let c = RetryConfig::resolve(None, None).unwrap();
        assert_eq!(c, RetryConfig { mode: RetryMode::Legacy, max_attempts: 5 });
        let r = |status, code| Outcome::Response { status, code };
        for s in [429, 500, 502, 503, 504, 509] {
            assert_eq!(c.decide(1, r(s, "Whatever")), Decision::Retry { max_delay: 1.0 }, "{s}");
        }
        assert_eq!(c.decide(3, r(400, "ThrottlingException")), Decision::Retry { max_delay: 4.0 });
        assert_eq!(c.decide(1, r(400, "ProvisionedThroughputExceededException")), Decision::Retry { max_delay: 1.0 });
        assert_eq!(c.decide(1, r(403, "ThrottlingException")), Decision::Stop { max_reached: false });
        assert_eq!(c.decide(1, r(400, "ValidationException")), Decision::Stop { max_reached: false });
        assert_eq!(c.decide(1, r(501, "501")), Decision::Stop { max_reached: false });
        assert_eq!(c.decide(1, r(301, "301")), Decision::Stop { max_reached: false });
        assert_eq!(c.decide(5, r(500, "x")), Decision::Stop { max_reached: true });
        assert_eq!(c.decide(4, Outcome::ConnectionError), Decision::Retry { max_delay: 8.0 });
        assert_eq!(c.decide(5, Outcome::ConnectionError), Decision::Stop { max_reached: false });
        assert_eq!(c.decide(1, Outcome::OtherError), Decision::Stop { max_reached: false });
        let one = RetryConfig::resolve(Some("1"), None).unwrap();
        assert_eq!(one.decide(1, r(500, "x")), Decision::Stop { max_reached: true });
    }

    #[test]
    fn standard_decisions() {
        let c = RetryConfig::resolve(None, Some("standard")).unwrap();
        assert_eq!(c.max_attempts, 3);
        let r = |status, code| Outcome::Response { status, code };
        assert_eq!(c.decide(1, r(400, "TooManyRequestsException")), Decision::Retry { max_delay: 1.0 });
        assert_eq!(c.decide(1, r(429, "Other")), Decision::Stop { max_reached: false });
        assert_eq!(c.decide(2, r(503, "x")), Decision::Retry { max_delay: 2.0 });
        assert_eq!(c.decide(3, r(400, "ValidationException")), Decision::Stop { max_reached: true });
        assert_eq!(c.decide(1, Outcome::OtherError), Decision::Retry { max_delay: 1.0 });
        assert_eq!(RetryConfig::resolve(None, Some("adaptive")).unwrap().mode, RetryMode::Standard);
    }

    #[test]
    fn retry_settings_errors() {
        assert_eq!(
            RetryConfig::resolve(None, Some("bogus")).unwrap_err().stderr,
            "\nInvalid value provided to \"mode\": \"bogus\" must be one of: ('legacy', 'standard', 'adaptive')\n"
        );
        assert_eq!(
            RetryConfig::resolve(Some("0"), None).unwrap_err().stderr,
            "\nValue provided to \"max_attempts\": 0 must be an integer greater than or equal to 1.\n"
        );
        assert_eq!(
            RetryConfig::resolve(Some("2.5"), None).unwrap_err().stderr,
            "\ninvalid literal for int() with base 10: '2.5'\n"
        );
        assert!(RetryConfig::resolve(Some("0"), Some("bogus")).unwrap_err().stderr.contains("max_attempts"));
        assert_eq!(RetryConfig::resolve(Some(" 2 "), None).unwrap().max_attempts, 2);
    }

    #[test]
    fn python_int() {
        assert_eq!(py_int(" 7").unwrap(), 7);
        assert_eq!(py_int("+3").unwrap(), 3);
        assert_eq!(py_int("1_000").unwrap(), 1000);
        assert_eq!(py_int("\u{663}").unwrap(), 3);
        assert_eq!(py_int("-1").unwrap(), -1);
        for bad in ["1.5", "abc", "", "0x1", "1__0", "_1", "- 1"] {
            assert!(py_int(bad).is_err(), "{bad}");
        }
        assert_eq!(py_int("abc").unwrap_err().stderr, "\ninvalid literal for int() with base 10: 'abc'\n");
    }
}
