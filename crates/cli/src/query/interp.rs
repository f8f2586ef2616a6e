//! Evaluates a syntax tree against a value, as `jmespath.visitor.TreeInterpreter` does.
//!
//! Projections drop `None` results, filters test jmespath truth (`0` is true),
//! `==` is Python's equality except that `0`/`1` never equal booleans, and the
//! ordering operators yield `None` unless both sides are numbers or strings
//! (a number against a string raises Python's `TypeError`).

use std::cell::Cell;
use std::cmp::Ordering;

use super::functions;
use super::parser::{Cmp, Node};
use super::value::Value;

/// Python's exception text when evaluation fails.
pub(crate) type EvalResult = Result<Value, String>;

/// Python's recursion limit: no more than this many frames may be active.
const RECURSION_LIMIT: usize = 1000;

/// Python frames active when AWS CLI's `search` makes its first `visit` (the
/// request machinery, the formatter, `ParsedResult.search`). Calibrated against
/// aws-cli 1.45.11 (486 nested `!` evaluate, 487 raise RecursionError) and, for
/// the other constructs, against Python's jmespath run at that depth.
const BASE_FRAMES: usize = 21;

/// How far below its own frame a visit method's helpers reach: `_is_actual_number`
/// and the ABC `isinstance(x, Number)` machinery under `!`, deeper still under
/// comparators (`_equals` -> `_is_special_number_case` -> `_is_actual_number`).
const NOT_TAIL: usize = 7;
const ORDERING_TAIL: usize = 8;
const EQUALITY_TAIL: usize = 9;
/// `call_function` -> `_validate_arguments` -> `_type_check` -> `_type_check_single` -> `_get_allowed_pytypes`.
pub(crate) const CALL_TAIL: usize = 4;

thread_local! {
    /// Python frames the evaluation in progress on this thread would have active.
    static FRAMES: Cell<usize> = const { Cell::new(BASE_FRAMES) };
}

/// Python frames held while a node is visited; released on drop.
pub(crate) struct Frames(usize);

impl Frames {
    /// Enters `n` frames, failing as Python does when that passes the recursion limit
    /// (the `+ 1` is the helper every visit method calls one level further down).
    pub(crate) fn enter(n: usize) -> Result<Frames, String> {
        let now = FRAMES.with(|f| {
            f.set(f.get() + n);
            f.get()
        });
        let guard = Frames(n);
        if now + 1 > RECURSION_LIMIT {
            return Err(recursion_error());
        }
        Ok(guard)
    }

    /// Fails if helpers reaching `tail` frames below the current one would pass the limit.
    pub(crate) fn check(tail: usize) -> Result<(), String> {
        if FRAMES.with(Cell::get) + tail > RECURSION_LIMIT { Err(recursion_error()) } else { Ok(()) }
    }
}

fn recursion_error() -> String {
    "maximum recursion depth exceeded while calling a Python object".into()
}

impl Drop for Frames {
    fn drop(&mut self) {
        FRAMES.with(|f| f.set(f.get() - self.0));
    }
}

/// Evaluates `node` against `value`: `TreeInterpreter.visit`, costing Python's
/// two frames (`visit` and `visit_<type>`).
pub(crate) fn visit(node: &Node, value: &Value) -> EvalResult {
    let _frames = Frames::enter(2)?;
    visit_node(node, value)
}

fn visit_node(node: &Node, value: &Value) -> EvalResult {
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
            Frames::check(if matches!(cmp, Cmp::Eq | Cmp::Ne) { EQUALITY_TAIL } else { ORDERING_TAIL })?;
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
            Frames::check(NOT_TAIL)?;
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
                // Each pair is a `key_val_pair` node: `visit` and `visit_key_val_pair`.
                let _pair = Frames::enter(2)?;
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
                left.tp_name(),
                right.tp_name()
            )),
        },
    }
}
