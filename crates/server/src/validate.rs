//! Server-side checks of an operation's input against the API model, answered
//! as AWS answers them.
//!
//! Two tiers, as AWS's JSON services have them: a value of the wrong JSON type
//! is a `SerializationException` (the input cannot even be read), and values
//! that read fine but break a modelled constraint (required, enum, length,
//! range, pattern) are collected into one `ValidationException` whose message
//! lists each of them in AWS's words. Members the model does not know are
//! ignored, as AWS ignores them; a JSON `null` counts as absent.

use cpjobs_core::ErrorCode;
use std::collections::HashMap;

use cpjobs_core::{ApiError, Family, Operation};
use cpjobs_model::{ServiceModel, Shape, ShapeKind};
use regex::Regex;
use serde_json::Value;

/// Checks inputs against one model; the model's patterns are compiled once.
pub struct Validator {
    model: &'static ServiceModel,
    patterns: HashMap<String, Regex>,
    /// The input shape of each CodePipeline [`Operation`] the model has.
    inputs: HashMap<Operation, Option<&'static str>>,
}

/// What AWS prints instead of the value of a sensitive member.
const REDACTED: &str = "*** Sensitive Data Redacted ***";

impl Validator {
    /// A validator for `model`, with every pattern of the model compiled.
    pub fn new(model: &'static ServiceModel) -> Validator {
        let mut patterns = HashMap::new();
        for name in model.shape_names() {
            if let Some(p) = &model.shape(name).pattern {
                let re = Regex::new(&java_pattern_to_rust(p))
                    .unwrap_or_else(|e| panic!("model pattern {p:?} of {name} does not translate: {e}"));
                patterns.insert(p.clone(), re);
            }
        }
        let inputs = model
            .operations
            .iter()
            .filter_map(|o| Some((Operation::of(Family::CodePipeline, &o.name)?, o.input.as_deref())))
            .collect();
        Validator { model, patterns, inputs }
    }

    /// Checks `input` against the input shape of `operation`: CodePipeline's
    /// operations against the model; cpjobs's own check their input themselves.
    pub fn check_operation(&self, operation: Operation, input: &Value) -> Result<(), ApiError> {
        match operation.family() {
            Family::Cpjobs => Ok(()),
            Family::CodePipeline => match self.inputs.get(&operation) {
                Some(shape) => self.check_input(*shape, input),
                None => Err(ApiError::internal("operation is not in the model")),
            },
        }
    }

    /// Checks `input` against the input shape of `operation` (which must be in the model).
    pub fn check(&self, operation: &str, input: &Value) -> Result<(), ApiError> {
        let Some(op) = self.model.operation(operation) else {
            return Err(ApiError::internal("operation is not in the model"));
        };
        self.check_input(op.input.as_deref(), input)
    }

    fn check_input(&self, shape: Option<&str>, input: &Value) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        match shape {
            Some(shape) => self.walk(self.model.shape(shape), input, "", &mut errors)?,
            None if input.is_object() => {}
            None => return Err(mismatch(input, "a structure")),
        }
        match errors.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!("1 validation error detected: {}", errors[0]))),
            n => Err(ApiError::validation(format!("{n} validation errors detected: {}", errors.join("; ")))),
        }
    }

    fn walk(&self, shape: &Shape, value: &Value, path: &str, errors: &mut Vec<String>) -> Result<(), ApiError> {
        let violation = |errors: &mut Vec<String>, what: String| {
            let shown = if shape.sensitive { format!("'{REDACTED}'") } else { format!("'{}'", java_string(value)) };
            errors.push(format!("Value {shown} at '{path}' failed to satisfy constraint: {what}"));
        };
        match shape.kind {
            ShapeKind::Structure => {
                let Value::Object(obj) = value else { return Err(mismatch(value, "a structure")) };
                for member in &shape.members {
                    let child = join(path, &member.name);
                    match obj.get(&member.name) {
                        None | Some(Value::Null) => {
                            if shape.required.contains(&member.name) {
                                errors.push(format!(
                                    "Value null at '{child}' failed to satisfy constraint: Member must not be null"
                                ));
                            }
                        }
                        Some(v) => self.walk(self.model.shape(&member.shape), v, &child, errors)?,
                    }
                }
            }
            ShapeKind::List => {
                let Value::Array(items) = value else { return Err(mismatch(value, "a list")) };
                check_length(shape, items.len(), |w| violation(errors, w));
                let member = self.model.shape(shape.member.as_deref().unwrap_or_default());
                for (i, item) in items.iter().enumerate() {
                    if !item.is_null() {
                        self.walk(member, item, &format!("{}.{}.member", path, i + 1), errors)?;
                    }
                }
            }
            ShapeKind::Map => {
                let Value::Object(entries) = value else { return Err(mismatch(value, "a map")) };
                check_length(shape, entries.len(), |w| violation(errors, w));
                let key = self.model.shape(shape.key.as_deref().unwrap_or_default());
                let val = self.model.shape(shape.value.as_deref().unwrap_or_default());
                for (k, v) in entries {
                    self.walk(key, &Value::String(k.clone()), &format!("{path}.{k}.key"), errors)?;
                    if !v.is_null() {
                        self.walk(val, v, &format!("{path}.{k}.member"), errors)?;
                    }
                }
            }
            ShapeKind::String => {
                let Value::String(s) = value else { return Err(mismatch(value, "a String")) };
                if !shape.enum_values.is_empty() && !shape.enum_values.contains(s) {
                    violation(
                        errors,
                        format!("Member must satisfy enum value set: [{}]", shape.enum_values.join(", ")),
                    );
                }
                // Java measures strings in UTF-16 code units.
                check_length(shape, s.encode_utf16().count(), |w| violation(errors, w));
                if let Some(p) = &shape.pattern
                    && !self.patterns[p].is_match(s)
                {
                    violation(errors, format!("Member must satisfy regular expression pattern: {p}"));
                }
            }
            ShapeKind::Integer | ShapeKind::Long => {
                let Some(n) = value.as_i64() else {
                    let what = if shape.kind == ShapeKind::Integer { "an Integer" } else { "a Long" };
                    return Err(mismatch(value, what));
                };
                if shape.kind == ShapeKind::Integer && i32::try_from(n).is_err() {
                    return Err(ApiError::client(
                        ErrorCode::SerializationException,
                        format!("Numeric value ({n}) out of range of int"),
                    ));
                }
                if let Some(min) = shape.min
                    && n < min
                {
                    violation(errors, format!("Member must have value greater than or equal to {min}"));
                }
                if let Some(max) = shape.max
                    && n > max
                {
                    violation(errors, format!("Member must have value less than or equal to {max}"));
                }
            }
            ShapeKind::Float | ShapeKind::Double => {
                if !value.is_number() {
                    return Err(mismatch(value, "a Double"));
                }
            }
            ShapeKind::Boolean => {
                if !value.is_boolean() {
                    return Err(mismatch(value, "a Boolean"));
                }
            }
            // The JSON protocols send timestamps as epoch seconds.
            ShapeKind::Timestamp => {
                if !value.is_number() {
                    return Err(mismatch(value, "a Date"));
                }
            }
            ShapeKind::Blob => {
                if !value.is_string() {
                    return Err(mismatch(value, "a ByteBuffer"));
                }
            }
        }
        Ok(())
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

fn check_length(shape: &Shape, len: usize, mut violation: impl FnMut(String)) {
    let len = len as i64;
    if let Some(min) = shape.min
        && len < min
    {
        violation(format!("Member must have length greater than or equal to {min}"));
    }
    if let Some(max) = shape.max
        && len > max
    {
        violation(format!("Member must have length less than or equal to {max}"));
    }
}

/// The `SerializationException` AWS's JSON services (Jackson underneath) answer
/// when a value has the wrong JSON type.
fn mismatch(value: &Value, expected: &str) -> ApiError {
    let message = match value {
        Value::Object(_) => "Start of structure or map found where not expected.".to_owned(),
        Value::Array(_) => "Start of list found where not expected".to_owned(),
        Value::String(_) => format!("STRING_VALUE can not be converted to {expected}"),
        Value::Number(_) => format!("NUMBER_VALUE can not be converted to {expected}"),
        Value::Bool(true) => format!("TRUE_VALUE can not be converted to {expected}"),
        Value::Bool(false) => format!("FALSE_VALUE can not be converted to {expected}"),
        Value::Null => format!("NULL_VALUE can not be converted to {expected}"),
    };
    ApiError::client(ErrorCode::SerializationException, message)
}

/// A value as Java's `toString` prints it in AWS's messages: strings bare,
/// lists as `[a, b]`, maps and structures as `{k=v}`.
fn java_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(java_string).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            format!("{{{}}}", o.iter().map(|(k, v)| format!("{k}={}", java_string(v))).collect::<Vec<_>>().join(", "))
        }
    }
}

/// Translates a model pattern (Java `java.util.regex`, matched whole with
/// `String.matches`) into an anchored Rust regex with Java's meanings:
/// `\w`, `\d` and `\s` are ASCII-only in Java, and `.` stops at every Java line
/// terminator, not only `\n`.
pub fn java_pattern_to_rust(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push_str("\\\\");
                    break;
                };
                let (inside, outside): (&str, &str) = match e {
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                    'd' => ("0-9", "[0-9]"),
                    's' => (" \\t\\n\\x0B\\f\\r", "[ \\t\\n\\x0B\\f\\r]"),
                    'W' => ("", "[^0-9A-Za-z_]"),
                    'D' => ("", "[^0-9]"),
                    'S' => ("", "[^ \\t\\n\\x0B\\f\\r]"),
                    _ => {
                        out.push('\\');
                        out.push(e);
                        continue;
                    }
                };
                // A negated escape inside a class becomes a nested class, which Rust unites.
                out.push_str(if in_class && !inside.is_empty() { inside } else { outside });
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A leading `]` or `^]` is literal in both dialects; copy it through.
                let rest = chars.as_str();
                if let Some(r) = rest.strip_prefix("^]") {
                    out.push_str("^\\]");
                    chars = r.chars();
                } else if let Some(r) = rest.strip_prefix(']') {
                    out.push_str("\\]");
                    chars = r.chars();
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '.' if !in_class => out.push_str("[^\\n\\r\\x{85}\\x{2028}\\x{2029}]"),
            _ => out.push(c),
        }
    }
    format!("^(?:{out})$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_are_redacted_and_errors_are_counted() {
        let model = r#"{"metadata": {"apiVersion": "1", "endpointPrefix": "x", "jsonVersion": "1.1",
            "targetPrefix": "X", "serviceId": "X"},
          "operations": {"Op": {"input": {"shape": "In"}}},
          "shapes": {"In": {"type": "structure", "required": ["a"], "members": {
              "a": {"shape": "Secret"}, "b": {"shape": "Names"}, "c": {"shape": "Tags"}}},
            "Secret": {"type": "string", "sensitive": true, "min": 3},
            "Names": {"type": "list", "member": {"shape": "Name"}, "max": 1},
            "Name": {"type": "string", "pattern": "[a-z]+"},
            "Tags": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Name"}}}}"#;
        let model: &'static ServiceModel = Box::leak(Box::new(ServiceModel::parse(model).unwrap()));
        let v = Validator::new(model);
        let e = v.check("Op", &serde_json::json!({"a": "xy", "b": ["ok", "B"], "c": {"K": "v"}})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert_eq!(
            e.message,
            "4 validation errors detected: \
             Value '*** Sensitive Data Redacted ***' at 'a' failed to satisfy constraint: Member must have length greater than or equal to 3; \
             Value '[ok, B]' at 'b' failed to satisfy constraint: Member must have length less than or equal to 1; \
             Value 'B' at 'b.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+; \
             Value 'K' at 'c.K.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+"
        );
        let e = v.check("Op", &serde_json::json!({"a": "xyz", "b": "ok"})).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("SerializationException", "STRING_VALUE can not be converted to a list")
        );
        assert!(v.check("Op", &serde_json::json!({"a": "xyz", "zzz": 1})).is_ok());
    }

    #[test]
    fn every_model_pattern_translates_and_keeps_java_meaning() {
        let v = Validator::new(ServiceModel::codepipeline());
        assert!(!v.patterns.is_empty());
        let re = |p: &str| Regex::new(&java_pattern_to_rust(p)).unwrap();
        assert!(re("[A-Za-z0-9.@\\-_]+").is_match("a-b_c.d@e"));
        assert!(!re("[A-Za-z0-9.@\\-_]+").is_match("a b"));
        // Whole-string match, as Java's String.matches.
        assert!(!re("[0-9]{12}").is_match("1234567890123"));
        assert!(re("[0-9]{12}|\\*").is_match("*"));
        // Java's \w is ASCII.
        assert!(re("arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*").is_match("arn:aws-cn:iam::123456789012:role/x"));
        assert!(!re("arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*").is_match("arn:aws-é:iam::123456789012:role/x"));
        // Java's . stops at \r too.
        assert!(!re(".*").is_match("a\rb"));
        assert!(re("^[a-zA-Z0-9-]+$").is_match("abc-1"));
        assert!(re("[a-zA-Z0-9!@ \\(\\)\\.\\*\\?\\-]+").is_match("a (b)? *"));
    }
}
