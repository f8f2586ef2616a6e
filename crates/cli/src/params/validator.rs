//! botocore's `ParamValidator`: the client-side checks AWS CLI runs before
//! sending, and the exact "Parameter validation failed:" report.
//!
//! Only what botocore checks is checked: required members, unknown members,
//! Python types, and `min` (length or value). Enums, `max` and patterns are
//! left to the service, as AWS CLI does. The report keeps botocore's order:
//! per structure, missing required members (model order), unknown members
//! (input order), then each known member in input order, depth first.

use cpjobs_model::{ServiceModel, Shape, ShapeKind};

use super::timestamp;
use crate::py::PyValue;

/// Validates `params` against `shape`; returns the report lines.
pub fn report(model: &ServiceModel, params: &PyValue, shape: &str) -> Vec<String> {
    let mut errors = Vec::new();
    validate(model, params, model.shape(shape), "", &mut errors);
    errors
}

fn shown(name: &str) -> &str {
    if name.is_empty() { "input" } else { name.strip_prefix('.').unwrap_or(name) }
}

fn invalid_type(errors: &mut Vec<String>, name: &str, v: &PyValue, valid: &str) {
    errors.push(format!(
        "Invalid type for parameter {}, value: {}, type: {}, valid types: {valid}",
        shown(name),
        v.py_str(),
        type_name(v)
    ));
}

/// The kind of a value in the words of the parameter syntax (JSON and shorthand).
/// botocore prints Python class reprs here (`<class 'str'>`); cpjobs names the
/// kinds a user writes instead, a deliberate difference (tests/conformance/differences.tsv).
fn type_name(v: &PyValue) -> &'static str {
    match v {
        PyValue::None => "null",
        PyValue::Bool(_) => BOOL,
        PyValue::Int(_) => INT,
        PyValue::Float(_) => "float",
        PyValue::Str(_) => STR,
        PyValue::Bytes(_) => "bytes",
        PyValue::List(_) => LIST,
        PyValue::Dict(_) | PyValue::OrderedDict(_) => DICT,
    }
}

fn range_check(errors: &mut Vec<String>, name: &str, value: &PyValue, shape: &Shape, what: &str) {
    let Some(min) = shape.min else { return };
    let below = match value {
        PyValue::Int(i) => int_lt(i, min),
        PyValue::Bool(b) => i64::from(*b) < min,
        PyValue::Float(f) => *f < min as f64,
        _ => false,
    };
    if below {
        let kind = if what == "length" { "Invalid length" } else { "Invalid value" };
        errors.push(format!(
            "{kind} for parameter {}, value: {}, valid min {what}: {min}",
            shown(name),
            value.py_str()
        ));
    }
}

/// `int(text) < min` for an int of any size.
fn int_lt(text: &str, min: i64) -> bool {
    match text.parse::<i64>() {
        Ok(v) => v < min,
        Err(_) => text.starts_with('-'),
    }
}

fn length(n: usize) -> PyValue {
    PyValue::Int(n.to_string())
}

const STR: &str = "string";
const INT: &str = "integer";
const BOOL: &str = "boolean";
const FLOAT: &str = "float, integer";
const DICT: &str = "object";
const LIST: &str = "list";

fn scalar_type_ok(kind: &ShapeKind, v: &PyValue) -> Option<bool> {
    Some(match kind {
        ShapeKind::String => matches!(v, PyValue::Str(_)),
        ShapeKind::Integer | ShapeKind::Long => matches!(v, PyValue::Int(_) | PyValue::Bool(_)),
        ShapeKind::Boolean => matches!(v, PyValue::Bool(_)),
        ShapeKind::Float | ShapeKind::Double => matches!(v, PyValue::Int(_) | PyValue::Bool(_) | PyValue::Float(_)),
        _ => return None,
    })
}

fn scalar_valid_names(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::String => STR,
        ShapeKind::Integer | ShapeKind::Long => INT,
        ShapeKind::Boolean => BOOL,
        _ => FLOAT,
    }
}

fn validate(model: &ServiceModel, v: &PyValue, shape: &Shape, name: &str, errors: &mut Vec<String>) {
    match shape.kind {
        ShapeKind::Structure => {
            let Some(entries) = v.entries() else {
                return invalid_type(errors, name, v, DICT);
            };
            for req in &shape.required {
                if !entries.iter().any(|(k, _)| k == req) {
                    errors.push(format!("Missing required parameter in {}: \"{req}\"", shown(name)));
                }
            }
            let mut known = Vec::new();
            for (k, value) in entries {
                match shape.member(k) {
                    Some(m) => known.push((k, value, m)),
                    None => {
                        let names: Vec<&str> = shape.members.iter().map(|m| m.name.as_str()).collect();
                        errors.push(format!(
                            "Unknown parameter in {}: \"{k}\", must be one of: {}",
                            shown(name),
                            names.join(", ")
                        ));
                    }
                }
            }
            for (k, value, m) in known {
                validate(model, value, model.shape(&m.shape), &format!("{name}.{k}"), errors);
            }
        }
        ShapeKind::List => {
            let PyValue::List(items) = v else {
                return invalid_type(errors, name, v, LIST);
            };
            range_check(errors, name, &length(items.len()), shape, "length");
            let member = model.shape(shape.member.as_deref().expect("list member"));
            let unconstrained = member.required.is_empty() && member.min.is_none();
            if let (Some(_), true) = (scalar_type_ok(&member.kind, &PyValue::None), unconstrained) {
                for (i, item) in items.iter().enumerate() {
                    if scalar_type_ok(&member.kind, item) == Some(false) {
                        invalid_type(errors, &format!("{name}[{i}]"), item, scalar_valid_names(&member.kind));
                    }
                }
                return;
            }
            for (i, item) in items.iter().enumerate() {
                validate(model, item, member, &format!("{name}[{i}]"), errors);
            }
        }
        ShapeKind::Map => {
            let Some(entries) = v.entries() else {
                return invalid_type(errors, name, v, DICT);
            };
            let key = model.shape(shape.key.as_deref().expect("map key"));
            let value = model.shape(shape.value.as_deref().expect("map value"));
            for (k, item) in entries {
                validate(model, &PyValue::Str(k.clone()), key, &format!("{name} (key: {k})"), errors);
                validate(model, item, value, &format!("{name}.{k}"), errors);
            }
        }
        ShapeKind::String => {
            if let PyValue::Str(s) = v {
                range_check(errors, name, &length(s.chars().count()), shape, "length");
            } else {
                invalid_type(errors, name, v, STR);
            }
        }
        ShapeKind::Integer | ShapeKind::Long | ShapeKind::Float | ShapeKind::Double | ShapeKind::Boolean => {
            if scalar_type_ok(&shape.kind, v) == Some(true) {
                if shape.kind != ShapeKind::Boolean {
                    range_check(errors, name, v, shape, "value");
                }
            } else {
                invalid_type(errors, name, v, scalar_valid_names(&shape.kind));
            }
        }
        ShapeKind::Blob => {
            if !matches!(v, PyValue::Bytes(_) | PyValue::Str(_)) {
                invalid_type(errors, name, v, "bytes (fileb://)");
            }
        }
        ShapeKind::Timestamp => {
            if timestamp::epoch_seconds(v).is_none() {
                invalid_type(errors, name, v, "timestamp (ISO 8601 text or epoch seconds)");
            }
        }
    }
}
