//! One argument's way from argparse's strings to a parameter value
//! (`ServiceOperation._unpack_arg`, `ParamShorthandParser`, `unpack_cli_arg`).
//!
//! The order of the checks is AWS CLI's, because it decides which message a
//! bad value gets: URI handler first (`file://` etc., errors prefixed with the
//! option name), then shorthand if the value does not look like JSON and the
//! shape allows it, else JSON / `int()` / list unpacking. Python exceptions
//! AWS CLI does not wrap (`int()` failures, `@=` file errors) keep their bare text.

use cpjobs_model::{ServiceModel, Shape, ShapeKind};

use super::pyops::{self, PyErr, PyErrKind};
use super::shorthand::{self, ShorthandError};
use super::{ArgKind, ArgSpec, ParamOptions, RawArg, param_error, paramfile};
use crate::debug;
use crate::error::CliError;
use crate::py::PyValue;
use crate::py::json_decode;

/// A failure while unpacking: a `ParamError` (gets the option-name prefix) or a bare Python exception.
enum Fail {
    Param(String),
    Py(PyErr),
}

impl From<PyErr> for Fail {
    fn from(e: PyErr) -> Fail {
        Fail::Py(e)
    }
}

/// Unpacks one given argument into its parameter value.
pub(super) fn unpack_argument(
    model: &ServiceModel,
    spec: &ArgSpec,
    raw: &RawArg,
    options: &ParamOptions,
) -> Result<PyValue, CliError> {
    let cli_name = format!("--{}", spec.cli_name);
    let mut value = match raw {
        // argparse gives a list argument (`nargs='*'`) a list, even of one value.
        RawArg::Value(s) if spec.kind == ArgKind::List => PyValue::List(vec![PyValue::str(s.clone())]),
        RawArg::Value(s) => PyValue::str(s.clone()),
        RawArg::Values(v) => PyValue::List(v.iter().cloned().map(PyValue::Str).collect()),
        RawArg::Flag(b) => PyValue::Bool(*b),
    };
    // URIArgumentHandler: a one-element list is looked at as its element.
    let candidate = match &value {
        PyValue::Str(s) => Some(s.as_str()),
        PyValue::List(items) if items.len() == 1 => match &items[0] {
            PyValue::Str(s) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    };
    if let Some(text) = candidate
        && let Some(loaded) =
            paramfile::get_paramfile(text, options.follow_urls).map_err(|e| param_error(&cli_name, &e))?
    {
        value = loaded;
    }
    if spec.kind == ArgKind::Boolean {
        return Ok(value);
    }
    let py_name = spec.cli_name.replace('-', "_");
    let shown = value.repr();
    let result = if should_parse_as_shorthand(model, model.shape(&spec.shape), &value, &py_name) {
        debug::log("awscli.argprocess", format!("Parsing param {cli_name} as shorthand"));
        parse_as_shorthand(model, &spec.shape, value)
    } else {
        unpack_cli_arg(model, &spec.shape, value)
    };
    let unpacked = result.map_err(|f| match f {
        Fail::Param(m) => param_error(&cli_name, &m),
        Fail::Py(e) => CliError::general(e.message),
    })?;
    debug::log(
        "awscli.arguments",
        format!("Unpacked value of {shown} for parameter \"{py_name}\": {}", unpacked.repr()),
    );
    Ok(unpacked)
}

/// `_should_parse_as_shorthand`: not JSON-looking, and a shape shorthand supports.
fn should_parse_as_shorthand(model: &ServiceModel, shape: &Shape, value: &PyValue, py_name: &str) -> bool {
    let check = match value {
        PyValue::List(items) if !items.is_empty() => &items[0],
        v => v,
    };
    if let PyValue::Str(s) = check
        && pyops::strip(s).starts_with(['[', '{'])
    {
        debug::log(
            "awscli.argprocess",
            format!("Param {py_name} looks like JSON, not considered for param shorthand."),
        );
        return false;
    }
    match shape.kind {
        ShapeKind::Structure | ShapeKind::Map => true,
        ShapeKind::List => {
            let member = model.shape(shape.member.as_deref().expect("list member"));
            matches!(member.kind, ShapeKind::Structure | ShapeKind::List | ShapeKind::Map)
        }
        _ => false,
    }
}

fn parse_as_shorthand(model: &ServiceModel, shape: &str, value: PyValue) -> Result<PyValue, Fail> {
    let parse_one = |v: &PyValue| -> Result<PyValue, Fail> {
        let r = match v {
            PyValue::Str(s) => shorthand::parse(s),
            PyValue::Bytes(b) => shorthand::parse_bytes(b),
            other => Err(ShorthandError::Plain(format!("'{}' object is not subscriptable", pyops::type_name(other)))),
        };
        r.map_err(|e| match e {
            ShorthandError::Parse(m) => Fail::Param(m),
            ShorthandError::Plain(m) => Fail::Py(PyErr { kind: PyErrKind::Type, message: m }),
        })
    };
    let mut parsed = match &value {
        PyValue::List(items) => PyValue::List(items.iter().map(parse_one).collect::<Result<_, _>>()?),
        other => parse_one(other)?,
    };
    shorthand::back_compat(model, &mut parsed, shape)?;
    Ok(parsed)
}

fn json(text: &str) -> Result<PyValue, Fail> {
    json_decode::loads(text).map_err(|e| Fail::Param(format!("Invalid JSON: {e}\nJSON received: {text}")))
}

fn index_error(value: &PyValue) -> Fail {
    let message = if matches!(value, PyValue::Bytes(_)) { "index out of range" } else { "string index out of range" };
    Fail::Py(PyErr { kind: PyErrKind::Index, message: message.into() })
}

/// `_unpack_cli_arg(argument_model, value, cli_name)`.
fn unpack_cli_arg(model: &ServiceModel, shape_name: &str, value: PyValue) -> Result<PyValue, Fail> {
    let shape = model.shape(shape_name);
    match shape.kind {
        ShapeKind::Structure | ShapeKind::Map => match &value {
            PyValue::Str(s) => match pyops::lstrip(s).chars().next() {
                None => Err(index_error(&value)),
                Some('{') => json(s),
                Some(_) => Err(Fail::Param(format!("Invalid JSON:\n{s}"))),
            },
            PyValue::Bytes(b) if b.iter().all(u8::is_ascii_whitespace) => Err(index_error(&value)),
            PyValue::Bytes(_) => Err(Fail::Param(format!("Invalid JSON:\n{}", value.py_str()))),
            other => Err(Fail::Py(PyErr {
                kind: PyErrKind::Attribute,
                message: format!("'{}' object has no attribute 'lstrip'", pyops::type_name(other)),
            })),
        },
        ShapeKind::List => {
            match &value {
                PyValue::Str(s) => match pyops::lstrip(s).chars().next() {
                    None => return Err(index_error(&value)),
                    Some('[') => return json(s),
                    Some(_) => {}
                },
                PyValue::List(items) if items.len() == 1 => {
                    if let PyValue::Str(s) = &items[0]
                        && pyops::strip(s).starts_with('[')
                    {
                        return json(s);
                    }
                }
                _ => {}
            }
            // A list of strings, or one JSON/scalar per element; iterating a str
            // (a file's contents) goes character by character, as in Python.
            let elements: Vec<PyValue> = match &value {
                PyValue::Str(s) => s.chars().map(|c| PyValue::Str(c.to_string())).collect(),
                PyValue::List(items) => items.clone(),
                PyValue::Bytes(b) => b.iter().map(|&x| PyValue::int(i64::from(x))).collect(),
                other => {
                    return Err(Fail::Py(PyErr {
                        kind: PyErrKind::Type,
                        message: format!("'{}' object is not iterable", pyops::type_name(other)),
                    }));
                }
            };
            let member = shape.member.as_deref().expect("list member");
            let mut out = Vec::with_capacity(elements.len());
            for element in elements {
                match unpack_cli_arg(model, member, element) {
                    Ok(v) => out.push(v),
                    // The list's own name is attached, with its first element as the message.
                    Err(Fail::Py(e)) if matches!(e.kind, PyErrKind::Value | PyErrKind::Type) => {
                        let first = match &value {
                            PyValue::Str(s) => s.chars().next().map(String::from).unwrap_or_default(),
                            PyValue::List(items) => items[0].py_str(),
                            PyValue::Bytes(b) => b[0].to_string(),
                            _ => String::new(),
                        };
                        return Err(Fail::Param(first));
                    }
                    Err(other) => return Err(other),
                }
            }
            Ok(PyValue::List(out))
        }
        ShapeKind::Integer | ShapeKind::Long => Ok(pyops::int(&value)?),
        ShapeKind::Float | ShapeKind::Double => Ok(pyops::float(&value)?),
        ShapeKind::Boolean => Ok(match &value {
            PyValue::Str(s) if s.to_lowercase() == "false" => PyValue::Bool(false),
            other => PyValue::Bool(pyops::truthy(other)),
        }),
        ShapeKind::String | ShapeKind::Timestamp | ShapeKind::Blob => Ok(value),
    }
}
