//! Checks a JSON output against the API model's shape, so the scenarios
//! catch a misspelt member, a wrong type or an unknown enum value in what the
//! service answers, as an SDK would when it parses the response.

use cpjobs_model::{ServiceModel, ShapeKind};
use serde_json::Value;

/// Checks `output` against the output shape of `operation`; `Err` names the
/// first member that does not fit. Operations the model does not know (cpjobs
/// extensions) are not checked.
pub fn check_output(operation: &str, output: &Value) -> Result<(), String> {
    let model = ServiceModel::codepipeline();
    let Some(op) = model.operation(operation) else { return Ok(()) };
    match &op.output {
        Some(shape) => check(model, shape, output, operation),
        None => match output {
            Value::Object(o) if o.is_empty() => Ok(()),
            other => Err(format!("{operation} has no output, got {other}")),
        },
    }
}

fn check(model: &ServiceModel, shape_name: &str, v: &Value, path: &str) -> Result<(), String> {
    let shape = model.shape(shape_name);
    let bad = |what: &str| Err(format!("{path}: expected {what} ({shape_name}), got {v}"));
    match shape.kind {
        ShapeKind::Structure => {
            let Value::Object(o) = v else { return bad("a structure") };
            for (k, mv) in o {
                let Some(m) = shape.member(k) else { return Err(format!("{path}: {shape_name} has no member {k:?}")) };
                check(model, &m.shape, mv, &format!("{path}.{k}"))?;
            }
            for r in &shape.required {
                if !o.contains_key(r) {
                    return Err(format!("{path}: required member {r:?} of {shape_name} is missing"));
                }
            }
            Ok(())
        }
        ShapeKind::List => {
            let Value::Array(a) = v else { return bad("a list") };
            let member = shape.member.as_deref().expect("list shapes have a member");
            a.iter().enumerate().try_for_each(|(i, x)| check(model, member, x, &format!("{path}[{i}]")))
        }
        ShapeKind::Map => {
            let Value::Object(o) = v else { return bad("a map") };
            let value = shape.value.as_deref().expect("map shapes have a value");
            o.iter().try_for_each(|(k, x)| check(model, value, x, &format!("{path}.{k}")))
        }
        ShapeKind::String => match v {
            Value::String(s) if shape.enum_values.is_empty() || shape.enum_values.contains(s) => Ok(()),
            Value::String(_) => bad(&format!("one of {:?}", shape.enum_values)),
            _ => bad("a string"),
        },
        ShapeKind::Integer | ShapeKind::Long => {
            if v.is_i64() || v.is_u64() {
                Ok(())
            } else {
                bad("an integer")
            }
        }
        ShapeKind::Float | ShapeKind::Double | ShapeKind::Timestamp => {
            if v.is_number() {
                Ok(())
            } else {
                bad("a number")
            }
        }
        ShapeKind::Boolean => {
            if v.is_boolean() {
                Ok(())
            } else {
                bad("a boolean")
            }
        }
        ShapeKind::Blob => {
            if v.is_string() {
                Ok(())
            } else {
                bad("a base64 string")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check_output;

    #[test]
    fn catches_wrong_members_types_and_enums() {
        assert!(check_output("AcknowledgeJob", &json!({"status": "InProgress"})).is_ok());
        assert!(check_output("AcknowledgeJob", &json!({"status": "Running"})).is_err());
        assert!(check_output("AcknowledgeJob", &json!({"state": "InProgress"})).is_err());
        assert!(check_output("PollForThirdPartyJobs", &json!({"jobs": [{"jobId": 1}]})).is_err());
        assert!(check_output("ListActionTypes", &json!({})).is_err(), "actionTypes is required");
        assert!(check_output("DeletePipeline", &json!({})).is_ok());
        assert!(check_output("ListThirdPartyClients", &json!({"clients": []})).is_ok());
    }
}
