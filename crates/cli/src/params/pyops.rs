//! The few Python built-ins AWS CLI applies to argument values (`int()`,
//! `float()`, `str.lower()`, `bool()`, `str()`), with the exception class and
//! message Python would raise, because some callers catch only `ValueError`
//! and `TypeError` and the rest reach the user verbatim.

use crate::py::PyValue;
use crate::py::int::{is_py_space, parse_int, parse_int_bytes};

/// The Python exception classes these operations raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyErrKind {
    /// `ValueError` (includes `json.JSONDecodeError`, `UnicodeDecodeError`).
    Value,
    /// `TypeError`.
    Type,
    /// `AttributeError`.
    Attribute,
    /// `IndexError`.
    Index,
}

/// A Python exception: its class and `str(e)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyErr {
    /// The exception class.
    pub kind: PyErrKind,
    /// `str(e)`.
    pub message: String,
}

impl PyErr {
    fn new(kind: PyErrKind, message: impl Into<String>) -> PyErr {
        PyErr { kind, message: message.into() }
    }
}

/// Python's type name as in `'list' object ...`.
pub fn type_name(v: &PyValue) -> &'static str {
    match v {
        PyValue::None => "NoneType",
        PyValue::Bool(_) => "bool",
        PyValue::Int(_) => "int",
        PyValue::Float(_) => "float",
        PyValue::Str(_) => "str",
        PyValue::Bytes(_) => "bytes",
        PyValue::List(_) => "list",
        PyValue::Dict(_) => "dict",
        PyValue::OrderedDict(_) => "OrderedDict",
    }
}

/// `int(v)`.
pub fn int(v: &PyValue) -> Result<PyValue, PyErr> {
    match v {
        PyValue::Str(s) => parse_int(s).map(PyValue::Int).map_err(|m| PyErr::new(PyErrKind::Value, m)),
        PyValue::Bytes(b) => parse_int_bytes(b).map(PyValue::Int).map_err(|m| PyErr::new(PyErrKind::Value, m)),
        PyValue::Int(_) => Ok(v.clone()),
        PyValue::Bool(b) => Ok(PyValue::int(i64::from(*b))),
        PyValue::Float(f) if f.is_nan() => Err(PyErr::new(PyErrKind::Value, "cannot convert float NaN to integer")),
        PyValue::Float(f) if f.is_infinite() => {
            Err(PyErr::new(PyErrKind::Attribute, "cannot convert float infinity to integer"))
        }
        PyValue::Float(f) => Ok(PyValue::Int(format!("{:.0}", f.trunc()))),
        other => Err(PyErr::new(
            PyErrKind::Type,
            format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                type_name(other)
            ),
        )),
    }
}

/// `float(v)`.
pub fn float(v: &PyValue) -> Result<PyValue, PyErr> {
    let from_text = |t: &str, shown: String| {
        parse_float(t)
            .map(PyValue::Float)
            .ok_or_else(|| PyErr::new(PyErrKind::Value, format!("could not convert string to float: {shown}")))
    };
    match v {
        PyValue::Str(s) => from_text(s, v.repr()),
        PyValue::Bytes(b) => from_text(&String::from_utf8_lossy(b), v.repr()),
        PyValue::Int(i) => Ok(PyValue::Float(i.parse().unwrap_or(f64::INFINITY))),
        PyValue::Bool(b) => Ok(PyValue::Float(f64::from(u8::from(*b)))),
        PyValue::Float(_) => Ok(v.clone()),
        other => Err(PyErr::new(
            PyErrKind::Type,
            format!("float() argument must be a string or a real number, not '{}'", type_name(other)),
        )),
    }
}

/// Python's `float(str)` grammar: whitespace, sign, `inf`/`infinity`/`nan`, digits with single `_` between digits.
pub fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim_matches(is_py_space);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let magnitude = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            let b = body.as_bytes();
            // Underscores only between two digits.
            for (k, &c) in b.iter().enumerate() {
                if c == b'_' && !(k > 0 && b[k - 1].is_ascii_digit() && b.get(k + 1).is_some_and(u8::is_ascii_digit)) {
                    return None;
                }
            }
            let clean: String = body.chars().filter(|&c| c != '_').collect();
            let (mantissa, exp) = match clean.find(['e', 'E']) {
                Some(k) => (&clean[..k], Some(&clean[k + 1..])),
                None => (clean.as_str(), None),
            };
            let (ip, fp) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let digits_ok = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
            if (ip.is_empty() && fp.is_empty()) || !digits_ok(ip) || !digits_ok(fp) {
                return None;
            }
            if let Some(e) = exp {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                if e.is_empty() || !digits_ok(e) {
                    return None;
                }
            }
            clean.parse::<f64>().ok()?
        }
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// `v.lower()` on what the shorthand visitor gives a boolean member: `Some` for a str,
/// `None` for bytes (whose lowered form never equals a str), an `AttributeError` otherwise.
pub fn lower(v: &PyValue) -> Result<Option<String>, PyErr> {
    match v {
        PyValue::None => Ok(None),
        PyValue::Str(s) => Ok(Some(s.to_lowercase())),
        PyValue::Bytes(_) => Ok(None),
        other => {
            Err(PyErr::new(PyErrKind::Attribute, format!("'{}' object has no attribute 'lower'", type_name(other))))
        }
    }
}

/// `bool(v)`.
pub fn truthy(v: &PyValue) -> bool {
    match v {
        PyValue::None => false,
        PyValue::Bool(b) => *b,
        PyValue::Int(i) => i != "0",
        PyValue::Float(f) => *f != 0.0,
        PyValue::Str(s) => !s.is_empty(),
        PyValue::Bytes(b) => !b.is_empty(),
        PyValue::List(l) => !l.is_empty(),
        PyValue::Dict(e) | PyValue::OrderedDict(e) => !e.is_empty(),
    }
}

/// `str.lstrip()` / `str.strip()` with Python's whitespace.
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_py_space)
}

/// `str.strip()` with Python's whitespace.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_python() {
        assert_eq!(int(&PyValue::str(" 5 ")).unwrap(), PyValue::int(5));
        assert_eq!(
            int(&PyValue::List(vec![])).unwrap_err().message,
            "int() argument must be a string, a bytes-like object or a real number, not 'list'"
        );
        assert_eq!(float(&PyValue::str("abc")).unwrap_err().message, "could not convert string to float: 'abc'");
        assert_eq!(float(&PyValue::str(" 1_0.5e1 ")).unwrap(), PyValue::Float(105.0));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("1__0"), None);
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(lower(&PyValue::Dict(vec![])).unwrap_err().message, "'dict' object has no attribute 'lower'");
    }
}
