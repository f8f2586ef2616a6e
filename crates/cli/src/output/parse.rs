//! botocore's `JSONParser` for a 2xx response, as AWS CLI v1 configures it.
//!
//! The body is walked against the operation's output shape
//! (`BaseJSONParser._handle_structure`, `_handle_list`, `_handle_map`):
//! structure members come out in model order, unknown members are dropped,
//! members whose value is `null` are left out, list elements that are `null`
//! stay `None`. Scalars are not checked against their shape (`"jobId": true`
//! passes through). AWS CLI installs an identity parser for blobs, and for
//! timestamps unless `cli_timestamp_format = iso8601` (see `timestamp`), so
//! both keep their wire form by default.
//!
//! A container of the wrong type makes botocore crash with a Python
//! `AttributeError`/`TypeError`, which AWS CLI prints as `str(e)` (`'str' object
//! has no attribute 'get'`); cpjobs says instead what the service sent and what
//! the model expects, with the same exit code (a deliberate difference,
//! tests/conformance/differences.tsv).

use std::cell::{Cell, OnceCell};

use cpjobs_model::{Operation, ServiceModel, Shape, ShapeKind};

use super::body::{self, BodyError};
use super::localtime::LocalZone;
use super::timestamp::{self, TimestampFormat, V2_TIMESTAMP_WARNING};
use super::{ParseOptions, ParsedResponse};
use crate::error::CliError;
use crate::py::PyValue;

/// Parses a 2xx body of `op` as botocore does (see [`super::parse_response_with`]).
pub(super) fn parse(
    model: &ServiceModel,
    op: &Operation,
    body: &[u8],
    opts: &ParseOptions,
) -> Result<ParsedResponse, CliError> {
    parse_in_zone(model, op, body, opts, OnceCell::new())
}

/// [`parse`] with the local zone given (tests), or read from the environment when empty.
pub(super) fn parse_in_zone(
    model: &ServiceModel,
    op: &Operation,
    body: &[u8],
    opts: &ParseOptions,
    zone: OnceCell<LocalZone>,
) -> Result<ParsedResponse, CliError> {
    // No output shape: botocore returns `{}` without looking at the body.
    let Some(output) = op.output.as_deref() else {
        return Ok(ParsedResponse { value: PyValue::Dict(Vec::new()), stderr: String::new() });
    };
    let json = if body.is_empty() {
        PyValue::Dict(Vec::new())
    } else {
        match body::decode_json(body) {
            Ok(Some(v)) => v,
            // `_parse_body_as_json`: a body that is not JSON becomes `{'message': body}`.
            Ok(None) => PyValue::Dict(vec![(
                "message".into(),
                PyValue::Str(String::from_utf8(body.to_vec()).expect("decode_json checked UTF-8")),
            )]),
            Err(BodyError::Utf8(msg) | BodyError::TooDeep(msg)) => return Err(CliError::general(msg)),
        }
    };
    let walker = Walker { model, opts, zone, warned: Cell::new(false) };
    let result = match walker.shape(model.shape(output), json) {
        // `_inject_response_metadata` then does `parsed.setdefault(...)` on the
        // result because every CodePipeline response carries `x-amzn-RequestId`.
        Ok(PyValue::None) => Err(CliError::general(shape_mismatch("an object", "NoneType"))),
        other => other,
    };
    // The upgrade warning was written to stderr when the first timestamp was read.
    let warning = if walker.warned.get() { V2_TIMESTAMP_WARNING } else { "" };
    match result {
        Ok(value) => Ok(ParsedResponse { value, stderr: warning.to_owned() }),
        Err(e) => Err(CliError::raw(e.exit_code, format!("{warning}{}", e.stderr))),
    }
}

/// Python's `type(x).__name__` for a value `json.loads` can produce.
pub(super) fn type_name(v: &PyValue) -> &'static str {
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

/// The message for a response whose container does not have the model's type:
/// `expected` is "an object" or "a list", `python_type` the Python type name of
/// what arrived (the one AWS CLI's crash message names).
pub(crate) fn shape_mismatch(expected: &str, python_type: &str) -> String {
    let sent = match python_type {
        "NoneType" => "null",
        "bool" => "a boolean",
        "int" => "an integer",
        "float" => "a number",
        "str" => "a string",
        "list" => "a list",
        _ => "an object",
    };
    format!("The service's response does not fit the API model: {expected} was expected where it sent {sent}")
}

fn mismatch(expected: &str, v: &PyValue) -> CliError {
    CliError::general(shape_mismatch(expected, type_name(v)))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

struct Walker<'m> {
    model: &'m ServiceModel,
    opts: &'m ParseOptions,
    /// The local zone, read at the first timestamp that needs it.
    zone: OnceCell<LocalZone>,
    /// Whether the v2 upgrade warning has been written.
    warned: Cell<bool>,
}

impl Walker<'_> {
    /// `ResponseParser._parse_shape`.
    fn shape(&self, shape: &Shape, value: PyValue) -> Result<PyValue, CliError> {
        match shape.kind {
            ShapeKind::Structure => self.structure(shape, value),
            ShapeKind::List => self.list(shape, value),
            ShapeKind::Map => self.map(shape, value),
            ShapeKind::Timestamp => self.timestamp(value),
            // `_default_handle`, and the identity blob parser AWS CLI installs.
            _ => Ok(value),
        }
    }

    /// The timestamp parser `cli_timestamp_format` selects.
    fn timestamp(&self, value: PyValue) -> Result<PyValue, CliError> {
        match self.opts.timestamp_format {
            TimestampFormat::Wire => {
                if self.opts.v2_timestamp_warning {
                    self.warned.set(true);
                }
                Ok(value)
            }
            TimestampFormat::Iso8601 => {
                let zone = self.zone.get_or_init(|| LocalZone::from_env(unix_now()));
                timestamp::iso_format(&value, zone).map(PyValue::Str).map_err(CliError::general)
            }
        }
    }

    fn target(&self, name: &Option<String>) -> &Shape {
        self.model.shape(name.as_deref().expect("list and map shapes name their targets"))
    }

    /// `_handle_structure`: `None` stays `None`; otherwise `value.get(member)` per model member.
    fn structure(&self, shape: &Shape, value: PyValue) -> Result<PyValue, CliError> {
        let entries = match value {
            PyValue::None => return Ok(PyValue::None),
            PyValue::Dict(e) | PyValue::OrderedDict(e) => e,
            other => return Err(mismatch("an object", &other)),
        };
        let mut entries: Vec<(String, Option<PyValue>)> = entries.into_iter().map(|(k, v)| (k, Some(v))).collect();
        let mut parsed = Vec::new();
        for member in &shape.members {
            let raw = entries.iter_mut().find(|(k, _)| *k == member.name).and_then(|(_, v)| v.take());
            match raw {
                None | Some(PyValue::None) => {}
                Some(raw) => {
                    let v = self.shape(self.model.shape(&member.shape), raw)?;
                    parsed.push((member.name.clone(), v));
                }
            }
        }
        Ok(PyValue::Dict(parsed))
    }

    /// `_handle_list`: `for item in node`, so a str yields its characters and a
    /// dict its keys; `None` items stay `None`.
    fn list(&self, shape: &Shape, value: PyValue) -> Result<PyValue, CliError> {
        let items: Vec<PyValue> = match value {
            PyValue::List(items) => items,
            PyValue::Str(s) => s.chars().map(|c| PyValue::Str(c.to_string())).collect(),
            PyValue::Dict(e) | PyValue::OrderedDict(e) => e.into_iter().map(|(k, _)| PyValue::Str(k)).collect(),
            other => return Err(mismatch("a list", &other)),
        };
        let member = self.target(&shape.member);
        let mut parsed = Vec::with_capacity(items.len());
        for item in items {
            parsed.push(match item {
                PyValue::None => PyValue::None,
                item => self.shape(member, item)?,
            });
        }
        Ok(PyValue::List(parsed))
    }

    /// `_handle_map`: `value.items()`, keys and values parsed by their shapes.
    fn map(&self, shape: &Shape, value: PyValue) -> Result<PyValue, CliError> {
        let entries = match value {
            PyValue::Dict(e) | PyValue::OrderedDict(e) => e,
            other => return Err(mismatch("an object", &other)),
        };
        let value_shape = self.target(&shape.value);
        let mut parsed: Vec<(String, PyValue)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            // Key shapes are strings, whose handler is the identity.
            let v = self.shape(value_shape, v)?;
            parsed.push((k, v));
        }
        Ok(PyValue::Dict(parsed))
    }
}
