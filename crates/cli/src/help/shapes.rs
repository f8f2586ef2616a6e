//! Describing model shapes in help: type names, constraints, member trees,
//! and example values in shorthand and JSON syntax.
//!
//! Trees stop at a fixed depth so a deep shape (a pipeline declaration)
//! stays readable; the depth is the same for every operation.

use std::fmt::Write;

use cpjobs_model::{ServiceModel, Shape, ShapeKind};

const MAX_DEPTH: usize = 4;

/// A short type name: `string`, `integer`, `structure`, `list of Tag`, `map`.
pub(super) fn type_name(shape: &Shape) -> String {
    let model = ServiceModel::codepipeline();
    match shape.kind {
        ShapeKind::Structure => "structure".to_owned(),
        ShapeKind::List => {
            let m = shape.member.as_deref().map(|m| model.shape(m));
            match m {
                Some(m) if m.kind == ShapeKind::Structure => format!("list of {}", m.name),
                Some(m) => format!("list of {}", type_name(m)),
                None => "list".to_owned(),
            }
        }
        ShapeKind::Map => "map".to_owned(),
        ShapeKind::String => "string".to_owned(),
        ShapeKind::Integer => "integer".to_owned(),
        ShapeKind::Long => "long".to_owned(),
        ShapeKind::Boolean => "boolean".to_owned(),
        ShapeKind::Timestamp => "timestamp".to_owned(),
        ShapeKind::Blob => "blob".to_owned(),
        ShapeKind::Float => "float".to_owned(),
        ShapeKind::Double => "double".to_owned(),
    }
}

/// The model's constraints of a shape, each as a short phrase.
pub(super) fn constraints(shape: &Shape) -> Vec<String> {
    let numeric = matches!(shape.kind, ShapeKind::Integer | ShapeKind::Long | ShapeKind::Float | ShapeKind::Double);
    let unit = if numeric { "value" } else { "length" };
    let mut out = Vec::new();
    if let Some(min) = shape.min {
        out.push(format!("min {unit} {min}"));
    }
    if let Some(max) = shape.max {
        out.push(format!("max {unit} {max}"));
    }
    if let Some(p) = &shape.pattern {
        out.push(format!("pattern {p}"));
    }
    if !shape.enum_values.is_empty() {
        out.push(format!("one of: {}", shape.enum_values.join(", ")));
    }
    if shape.sensitive {
        out.push("sensitive".to_owned());
    }
    out
}

/// Writes the member tree of a structure (or of a list's / map's elements), indented by `indent`.
pub(super) fn describe_members(shape: &Shape, indent: usize, out: &mut String) {
    walk(shape, indent, 0, out);
}

fn walk(shape: &Shape, indent: usize, depth: usize, out: &mut String) {
    let model = ServiceModel::codepipeline();
    let target = match shape.kind {
        ShapeKind::List => shape.member.as_deref().map(|m| model.shape(m)),
        ShapeKind::Map => shape.value.as_deref().map(|m| model.shape(m)),
        _ => Some(shape),
    };
    let Some(target) = target else { return };
    if target.kind != ShapeKind::Structure {
        return;
    }
    if depth >= MAX_DEPTH {
        let _ = writeln!(out, "{:indent$}... ({} members not shown)", "", target.members.len());
        return;
    }
    for m in &target.members {
        let ms = model.shape(&m.shape);
        let mut facts = vec![type_name(ms)];
        if target.required.contains(&m.name) {
            facts.push("required".to_owned());
        }
        facts.extend(constraints(ms));
        let _ = writeln!(out, "{:indent$}{} -> ({})", "", m.name, facts.join(", "));
        walk(ms, indent + 2, depth + 1, out);
    }
}

fn scalar_word(shape: &Shape) -> String {
    type_name(shape)
}

/// A shorthand example for structures, maps and lists; `None` for scalars.
pub(super) fn shorthand(shape: &Shape) -> Option<String> {
    let model = ServiceModel::codepipeline();
    match shape.kind {
        ShapeKind::Structure => Some(shorthand_members(shape, 0)),
        ShapeKind::Map => {
            let v = shape.value.as_deref().map(|v| model.shape(v))?;
            let value = shorthand_value(v, 1);
            Some(format!("KeyName1={value},KeyName2={value}"))
        }
        ShapeKind::List => {
            let m = shape.member.as_deref().map(|m| model.shape(m))?;
            // A top-level list takes one word per element.
            let one = match m.kind {
                ShapeKind::Structure => shorthand_members(m, 1),
                _ => shorthand_value(m, 1),
            };
            Some(format!("{one} {one}"))
        }
        _ => None,
    }
}

fn shorthand_members(shape: &Shape, depth: usize) -> String {
    let model = ServiceModel::codepipeline();
    shape
        .members
        .iter()
        .map(|m| format!("{}={}", m.name, shorthand_value(model.shape(&m.shape), depth + 1)))
        .collect::<Vec<_>>()
        .join(",")
}

fn shorthand_value(shape: &Shape, depth: usize) -> String {
    let model = ServiceModel::codepipeline();
    if depth > MAX_DEPTH {
        return "{...}".to_owned();
    }
    match shape.kind {
        ShapeKind::Structure => format!("{{{}}}", shorthand_members(shape, depth)),
        ShapeKind::List => match shape.member.as_deref().map(|m| model.shape(m)) {
            Some(m) => {
                let v = shorthand_value(m, depth + 1);
                format!("[{v},{v}]")
            }
            None => "[]".to_owned(),
        },
        ShapeKind::Map => match shape.value.as_deref().map(|v| model.shape(v)) {
            Some(v) => format!("{{KeyName1={}}}", shorthand_value(v, depth + 1)),
            None => "{}".to_owned(),
        },
        _ => scalar_word(shape),
    }
}

/// A one-line JSON example.
pub(super) fn json_example(shape: &Shape) -> Option<String> {
    let mut s = String::new();
    json_value(shape, 0, &mut s);
    Some(s)
}

fn json_value(shape: &Shape, depth: usize, out: &mut String) {
    let model = ServiceModel::codepipeline();
    if depth > MAX_DEPTH {
        out.push_str("{...}");
        return;
    }
    match shape.kind {
        ShapeKind::Structure => {
            out.push('{');
            for (i, m) in shape.members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "\"{}\": ", m.name);
                json_value(model.shape(&m.shape), depth + 1, out);
            }
            out.push('}');
        }
        ShapeKind::List => {
            out.push('[');
            if let Some(m) = shape.member.as_deref() {
                json_value(model.shape(m), depth + 1, out);
                out.push_str(", ...");
            }
            out.push(']');
        }
        ShapeKind::Map => {
            out.push_str("{\"KeyName\": ");
            if let Some(v) = shape.value.as_deref() {
                json_value(model.shape(v), depth + 1, out);
            }
            out.push('}');
        }
        ShapeKind::String | ShapeKind::Timestamp | ShapeKind::Blob => {
            let _ = write!(out, "\"{}\"", type_name(shape));
        }
        _ => out.push_str(&type_name(shape)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_of_nested_shapes() {
        let m = ServiceModel::codepipeline();
        assert_eq!(
            shorthand(m.shape("ActionTypeId")).unwrap(),
            "category=string,owner=string,provider=string,version=string"
        );
        assert_eq!(
            json_example(m.shape("ActionTypeId")).unwrap(),
            "{\"category\": \"string\", \"owner\": \"string\", \"provider\": \"string\", \"version\": \"string\"}"
        );
        assert_eq!(constraints(m.shape("MaxBatchSize")), ["min value 1"]);
    }
}
