//! Evaluates a syntax tree against a value, as `jmespath.visitor.TreeInterpreter` does.
//!
//! Projections drop `None` results, filters test jmespath truth (`0` is true),
//! `==` is Python's equality except that `0`/`1` never equal booleans, and the
//! ordering operators yield `None` unless both sides are numbers or strings
//! (a number against a string raises Python's `TypeError`).

use std::cmp::Ordering;

use super::functions;
use super::parser::{Cmp, Node};
use super::value::Value;

/// Python's exception text when evaluation fails.
pub(crate) type EvalResult = Result<Value, String>;

pub(crate) fn visit(node: &Node, value: &Value) -> EvalResult {
    match node {
        Node::Identity | Node::Current => Ok(value.clone()),
        Node::Field(name) => Ok(field(value, name)),
        Node::Literal(v) => Ok(v.clone()),
        Node::Subexpression(children) | Node::IndexExpression(children) => {
            let mut result = value.clone();
            for child in children {
                result = visit(child, &result)?;
            }
            Ok(result)
        }
        Node::Pipe(left, right) => {
            let left = visit(left, value)?;
            visit(right, &left)
        }
        Node::Index(i) => Ok(match value {
            Value::List(items) => {
                let len = items.len() as i128;
                let mut idx = i128::from(*i);
                if idx < 0 {
                    idx += len;
                }
                if (0..len).contains(&idx) { items[idx as usize].clone() } else { Value::None }
            }
            _ => Value::None,
        }),
        Node::Slice(parts) => match value {
            Value::List(items) => Ok(Value::List(slice(items, *parts)?)),
            _ => Ok(Value::None),
        },
        Node::Projection(left, right) => {
            let Value::List(base) = visit(left, value)? else { return Ok(Value::None) };
            project(base.iter(), right)
        }
        Node::ValueProjection(left, right) => {
            let base = visit(left, value)?;
            let Some(entries) = base.entries() else { return Ok(Value::None) };
            project(entries.iter().map(|(_, v)| v), right)
        }
        Node::FilterProjection(left, right, condition) => {
            let Value::List(base) = visit(left, value)? else { return Ok(Value::None) };
            let mut collected = Vec::new();
            for element in &base {
                if !visit(condition, element)?.is_false() {
                    let current = visit(right, element)?;
                    if !matches!(current, Value::None) {
                        collected.push(current);
                    }
                }
            }
            Ok(Value::List(collected))
        }
        Node::Flatten(inner) => {
            let Value::List(base) = visit(inner, value)? else { return Ok(Value::None) };
            let mut merged = Vec::with_capacity(base.len());
            for element in base {
                match element {
                    Value::List(items) => merged.extend(items),
                    other => merged.push(other),
                }
            }
            Ok(Value::List(merged))
        }
        Node::Comparator(cmp, left, right) => {
            let left = visit(left, value)?;
            let right = visit(right, value)?;
            compare(*cmp, &left, &right)
        }
        Node::Or(left, right) => {
            let matched = visit(left, value)?;
            if matched.is_false() { visit(right, value) } else { Ok(matched) }
        }
        Node::And(left, right) => {
            let matched = visit(left, value)?;
            if matched.is_false() { Ok(matched) } else { visit(right, value) }
        }
        Node::Not(inner) => {
            let v = visit(inner, value)?;
            // `!0` is false: jmespath does not treat 0 as false.
            let is_zero = v.as_num().is_some_and(|n| n.partial_cmp(&zero()) == Some(Ordering::Equal));
            Ok(Value::Bool(!is_zero && !v.py_truthy()))
        }
        Node::MultiSelectList(items) => {
            if matches!(value, Value::None) {
                return Ok(Value::None);
            }
            Ok(Value::List(items.iter().map(|n| visit(n, value)).collect::<Result<_, _>>()?))
        }
        Node::MultiSelectDict(pairs) => {
            if matches!(value, Value::None) {
                return Ok(Value::None);
            }
            let mut collected: Vec<(String, Value)> = Vec::with_capacity(pairs.len());
            for (key, node) in pairs {
                let v = visit(node, value)?;
                dict_set(&mut collected, key, v);
            }
            Ok(Value::Dict(collected))
        }
        Node::Function(name, args) => {
            let resolved = args.iter().map(|a| visit(a, value)).collect::<Result<Vec<_>, _>>()?;
            functions::call(name, resolved)
        }
        Node::Expref(inner) => Ok(Value::Expref(inner.clone())),
    }
}

fn zero() -> super::number::Num {
    super::number::Num::Int(super::number::BigInt::zero())
}

/// Python's `d[key] = v`: an existing key keeps its place.
pub(crate) fn dict_set(entries: &mut Vec<(String, Value)>, key: &str, v: Value) {
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = v,
        None => entries.push((key.to_string(), v)),
    }
}

fn field(value: &Value, name: &str) -> Value {
    value.entries().and_then(|e| e.iter().find(|(k, _)| k == name)).map_or(Value::None, |(_, v)| v.clone())
}

fn project<'a>(base: impl Iterator<Item = &'a Value>, right: &Node) -> EvalResult {
    let mut collected = Vec::new();
    for element in base {
        let current = visit(right, element)?;
        if !matches!(current, Value::None) {
            collected.push(current);
        }
    }
    Ok(Value::List(collected))
}

/// Python's `list[start:stop:step]` (CPython's `PySlice_AdjustIndices`).
fn slice(items: &[Value], parts: [Option<i64>; 3]) -> Result<Vec<Value>, String> {
    let step = i128::from(parts[2].unwrap_or(1));
    if step == 0 {
        return Err("slice step cannot be zero".into());
    }
    let len = items.len() as i128;
    let adjust = |v: i128| {
        if v < 0 {
            let v = v + len;
            if v < 0 { if step < 0 { -1 } else { 0 } } else { v }
        } else if v >= len {
            if step < 0 { len - 1 } else { len }
        } else {
            v
        }
    };
    let (max, min) = (i128::from(i64::MAX), i128::from(i64::MIN));
    let start = adjust(parts[0].map_or(if step < 0 { max } else { 0 }, i128::from));
    let stop = adjust(parts[1].map_or(if step < 0 { min } else { max }, i128::from));
    let count = if step < 0 {
        if stop < start { (start - stop - 1) / (-step) + 1 } else { 0 }
    } else if start < stop {
        (stop - start - 1) / step + 1
    } else {
        0
    };
    Ok((0..count).map(|i| items[(start + i * step) as usize].clone()).collect())
}

/// jmespath's `_equals`: Python's `==`, except that 0 and 1 never equal a boolean.
pub(crate) fn jmespath_equals(x: &Value, y: &Value) -> bool {
    let zero_or_one = |v: &Value| {
        v.as_num().is_some_and(|n| {
            let one = super::number::Num::Int(super::number::BigInt::parse("1"));
            n.partial_cmp(&zero()) == Some(Ordering::Equal) || n.partial_cmp(&one) == Some(Ordering::Equal)
        })
    };
    let special = if zero_or_one(x) {
        matches!(y, Value::Bool(_))
    } else if zero_or_one(y) {
        matches!(x, Value::Bool(_))
    } else {
        false
    };
    !special && x.py_eq(y)
}

fn compare(cmp: Cmp, left: &Value, right: &Value) -> EvalResult {
    let (symbol, wanted): (&str, &[Ordering]) = match cmp {
        Cmp::Eq => return Ok(Value::Bool(jmespath_equals(left, right))),
        Cmp::Ne => return Ok(Value::Bool(!jmespath_equals(left, right))),
        Cmp::Lt => ("<", &[Ordering::Less]),
        Cmp::Gt => (">", &[Ordering::Greater]),
        Cmp::Lte => ("<=", &[Ordering::Less, Ordering::Equal]),
        Cmp::Gte => (">=", &[Ordering::Greater, Ordering::Equal]),
    };
    let comparable = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_));
    if !comparable(left) || !comparable(right) {
        return Ok(Value::None);
    }
    let ord = py_order(symbol, left, right)?;
    Ok(Value::Bool(ord.is_some_and(|o| wanted.contains(&o))))
}

/// Python's ordering of two numbers or two strings; `None` when unordered (NaN);
/// `Err` is the `TypeError` for anything else, naming the operator tried.
pub(crate) fn py_order(symbol: &str, left: &Value, right: &Value) -> Result<Option<Ordering>, String> {
    match (left, right) {
        (Value::Str(a), Value::Str(b)) => Ok(Some(a.cmp(b))),
        _ => match (left.as_num(), right.as_num()) {
            (Some(a), Some(b)) => Ok(a.partial_cmp(&b)),
            _ => Err(format!(
                "'{symbol}' not supported between instances of '{}' and '{}'",
                left.type_name(),
                right.type_name()
            )),
        },
    }
}
