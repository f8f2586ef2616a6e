//! JMESPath's built-in functions, with `jmespath.functions`' signatures, type
//! checks and Python results.
//!
//! Arity and types are checked when the function is called (not when the
//! expression compiles), in Python's order: unknown name, then arity, then the
//! declared type of each declared argument (a variadic function checks only the
//! first). Results follow Python: `sum` of ints stays an int, `avg` is a true
//! division, `ceil`/`floor` return ints, `max`/`min`/`sort` compare as Python does,
//! `to_string` is `json.dumps(x, separators=(',', ':'))`.

use std::cmp::Ordering;

use super::interp::{Frames, py_order, visit};
use super::number::{BigInt, Num, float_to_int, parse_py_float, parse_py_int};
use super::value::{Value, python_type_to_jmespath, str_list_repr};
use crate::py::json_encode::write_str;
use crate::py::value::float_repr;

type Result<T> = std::result::Result<T, String>;

/// One function's signature: the allowed types of each argument, and whether the last repeats.
struct Signature {
    args: &'static [&'static [&'static str]],
    variadic: bool,
}

const ANY: &[&str] = &[];

fn signature(name: &str) -> Option<Signature> {
    let fixed = |args| Some(Signature { args, variadic: false });
    match name {
        "abs" | "ceil" | "floor" => fixed(&[&["number"]]),
        "avg" | "sum" => fixed(&[&["array-number"]]),
        "not_null" => Some(Signature { args: &[ANY], variadic: true }),
        "to_array" | "to_string" | "to_number" | "type" => fixed(&[ANY]),
        "contains" => fixed(&[&["array", "string"], ANY]),
        "length" => fixed(&[&["string", "array", "object"]]),
        "ends_with" | "starts_with" => fixed(&[&["string"], &["string"]]),
        "reverse" => fixed(&[&["array", "string"]]),
        "join" => fixed(&[&["string"], &["array-string"]]),
        "map" => fixed(&[&["expref"], &["array"]]),
        "max" | "min" => fixed(&[&["array-number", "array-string"]]),
        "merge" => Some(Signature { args: &[&["object"]], variadic: true }),
        "sort" => fixed(&[&["array-string", "array-number"]]),
        "keys" | "values" => fixed(&[&["object"]]),
        "sort_by" | "min_by" | "max_by" => fixed(&[&["array"], &["expref"]]),
        _ => None,
    }
}

/// jmespath's `REVERSE_TYPES_MAP`: the Python type names a jmespath type admits.
fn python_types(jmespath_type: &str) -> &'static [&'static str] {
    match jmespath_type {
        "boolean" => &["bool"],
        "array" => &["list", "_Projection"],
        "object" => &["dict", "OrderedDict"],
        "null" => &["NoneType"],
        "string" => &["unicode", "str"],
        "number" => &["float", "int", "long"],
        "expref" => &["_Expression"],
        _ => &[],
    }
}

/// `JMESPathTypeError.__str__`.
fn type_error<S: AsRef<str>>(function: &str, value: &Value, actual: &str, expected: &[S]) -> String {
    format!(
        "In function {function}(), invalid type for value: {}, expected one of: {}, received: \"{actual}\"",
        value.py_str(),
        str_list_repr(expected)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "argument" } else { "arguments" }
}

/// Calls the built-in `name` on evaluated arguments.
pub(crate) fn call(name: &str, args: Vec<Value>) -> Result<Value> {
    // `call_function` and `_func_<name>`.
    let _frames = Frames::enter(2)?;
    Frames::check(super::interp::CALL_TAIL)?;
    let Some(sig) = signature(name) else { return Err(format!("Unknown function: {name}()")) };
    let expected = sig.args.len();
    if sig.variadic {
        if args.len() < expected {
            return Err(format!(
                "Expected at least {expected} {} for function {name}(), received {}",
                plural(expected),
                args.len()
            ));
        }
    } else if args.len() != expected {
        return Err(format!("Expected {expected} {} for function {name}(), received {}", plural(expected), args.len()));
    }
    for (types, arg) in sig.args.iter().zip(&args) {
        if !types.is_empty() {
            type_check(arg, types, name)?;
        }
    }
    dispatch(name, args)
}

fn type_check(current: &Value, types: &[&str], function: &str) -> Result<()> {
    let mut allowed: Vec<&str> = Vec::new();
    let mut allowed_sub: Vec<&[&str]> = Vec::new();
    for t in types {
        match t.split_once('-') {
            Some((outer, sub)) => {
                allowed_sub.push(python_types(sub));
                allowed.extend(python_types(outer));
            }
            None => allowed.extend(python_types(t)),
        }
    }
    let actual = current.type_name();
    if !allowed.contains(&actual) {
        return Err(type_error(function, current, python_type_to_jmespath(actual), types));
    }
    let Value::List(items) = current else { return Ok(()) };
    // Subtype errors print the Python type name, not the jmespath one, as jmespath does.
    let check_all = |subtypes: &[&str]| {
        for element in items {
            if !subtypes.contains(&element.type_name()) {
                return Err(type_error(function, element, element.type_name(), types));
            }
        }
        Ok(())
    };
    match allowed_sub.len() {
        0 => Ok(()),
        1 => check_all(allowed_sub[0]),
        _ => {
            let Some(first) = items.first() else { return Ok(()) };
            match allowed_sub.iter().find(|s| s.contains(&first.type_name())) {
                Some(subtypes) => check_all(subtypes),
                None => Err(type_error(function, first, first.type_name(), types)),
            }
        }
    }
}

fn list(v: Value) -> Vec<Value> {
    match v {
        Value::List(items) => items,
        other => unreachable!("type-checked as an array: {other:?}"),
    }
}

fn string(v: &Value) -> &str {
    match v {
        Value::Str(s) => s,
        other => unreachable!("type-checked as a string: {other:?}"),
    }
}

fn num(v: &Value) -> Num {
    v.as_num().expect("type-checked as a number")
}

fn dispatch(name: &str, args: Vec<Value>) -> Result<Value> {
    let mut args = args.into_iter();
    let mut arg = || args.next().expect("arity checked");
    match name {
        "abs" => Ok(match arg() {
            Value::Int(i) => Value::Int(i.trim_start_matches('-').to_string()),
            Value::Float(f) => Value::Float(f.abs()),
            other => unreachable!("type-checked as a number: {other:?}"),
        }),
        "avg" => {
            let items = list(arg());
            if items.is_empty() {
                return Ok(Value::None);
            }
            Ok(Value::Float(match sum(&items)? {
                Num::Int(i) => i.true_div(items.len() as u64)?,
                Num::Float(f) => f / items.len() as f64,
            }))
        }
        "sum" => Ok(Value::from_num(sum(&list(arg()))?)),
        "ceil" | "floor" => Ok(match arg() {
            Value::Float(f) => Value::int(float_to_int(if name == "ceil" { f.ceil() } else { f.floor() })?),
            int => int,
        }),
        "not_null" => Ok(args.find(|a| !matches!(a, Value::None)).unwrap_or(Value::None)),
        "to_array" => Ok(match arg() {
            l @ Value::List(_) => l,
            other => Value::List(vec![other]),
        }),
        "to_string" => Ok(match arg() {
            s @ Value::Str(_) => s,
            other => {
                let mut out = String::new();
                compact_json(&other, &mut out);
                Value::Str(out)
            }
        }),
        "to_number" => to_number(arg()),
        "contains" => {
            let subject = arg();
            let search = arg();
            match (&subject, &search) {
                (Value::List(items), _) => Ok(Value::Bool(items.iter().any(|x| x.py_eq(&search)))),
                (Value::Str(s), Value::Str(needle)) => Ok(Value::Bool(s.contains(needle.as_str()))),
                (_, other) => Err(format!("'in <string>' requires string as left operand, not {}", other.tp_name())),
            }
        }
        "length" => {
            // Python's len(): a str counts code points.
            let n = match arg() {
                Value::Str(s) => s.chars().count(),
                Value::List(l) => l.len(),
                other => other.entries().map_or(0, <[_]>::len),
            };
            Ok(Value::Int(n.to_string()))
        }
        "ends_with" | "starts_with" => {
            let subject = arg();
            let affix = arg();
            let (s, a) = (string(&subject), string(&affix));
            Ok(Value::Bool(if name == "ends_with" { s.ends_with(a) } else { s.starts_with(a) }))
        }
        "reverse" => Ok(match arg() {
            Value::Str(s) => Value::Str(s.chars().rev().collect()),
            Value::List(mut l) => {
                l.reverse();
                Value::List(l)
            }
            other => unreachable!("type-checked: {other:?}"),
        }),
        "join" => {
            let sep = arg();
            let items = list(arg());
            Ok(Value::Str(items.iter().map(string).collect::<Vec<_>>().join(string(&sep))))
        }
        "map" => {
            let Value::Expref(expr) = arg() else { unreachable!("type-checked as an expref") };
            let items = list(arg());
            // `expref.visit` sits between `_func_map` and the interpreter.
            let _frames = Frames::enter(1)?;
            Ok(Value::List(items.iter().map(|x| visit(&expr, x)).collect::<Result<_>>()?))
        }
        "max" | "min" => {
            let items = list(arg());
            let want = if name == "max" { Ordering::Greater } else { Ordering::Less };
            let symbol = if name == "max" { ">" } else { "<" };
            let mut items = items.into_iter();
            let Some(mut best) = items.next() else { return Ok(Value::None) };
            for item in items {
                if py_order(symbol, &item, &best)? == Some(want) {
                    best = item;
                }
            }
            Ok(best)
        }
        "merge" => merge(arg(), args),
        "sort" => {
            let items = list(arg());
            let keyed = items.into_iter().map(|v| (v.clone(), v)).collect();
            Ok(Value::List(py_sort(keyed).into_iter().map(|(_, v)| v).collect()))
        }
        "keys" => {
            Ok(Value::List(arg().entries().unwrap_or_default().iter().map(|(k, _)| Value::Str(k.clone())).collect()))
        }
        "values" => Ok(Value::List(arg().entries().unwrap_or_default().iter().map(|(_, v)| v.clone()).collect())),
        "type" => Ok(match arg() {
            Value::Str(_) => Value::Str("string".into()),
            Value::Bool(_) => Value::Str("boolean".into()),
            Value::List(_) => Value::Str("array".into()),
            Value::Dict(_) | Value::OrderedDict(_) => Value::Str("object".into()),
            Value::Int(_) | Value::Float(_) => Value::Str("number".into()),
            Value::None => Value::Str("null".into()),
            Value::Bytes(_) | Value::Expref(_) => Value::None,
        }),
        "sort_by" => {
            let items = list(arg());
            let Value::Expref(expr) = arg() else { unreachable!("type-checked as an expref") };
            if items.is_empty() {
                return Ok(Value::List(items));
            }
            let required = {
                let _frames = Frames::enter(1)?;
                visit(&expr, &items[0])?.jmespath_type()
            };
            if required != "number" && required != "string" {
                return Err(type_error("sort_by", &items[0], required, &["string", "number"]));
            }
            let mut keyed = Vec::with_capacity(items.len());
            for item in items {
                let key = key_of(&expr, &item, &[required], "sort_by")?;
                keyed.push((key, item));
            }
            Ok(Value::List(py_sort(keyed).into_iter().map(|(_, v)| v).collect()))
        }
        "min_by" | "max_by" => {
            let items = list(arg());
            let Value::Expref(expr) = arg() else { unreachable!("type-checked as an expref") };
            let (want, symbol) = if name == "max_by" { (Ordering::Greater, ">") } else { (Ordering::Less, "<") };
            let mut items = items.into_iter();
            let Some(mut best) = items.next() else { return Ok(Value::None) };
            let mut best_key = key_of(&expr, &best, &["number", "string"], name)?;
            for item in items {
                let key = key_of(&expr, &item, &["number", "string"], name)?;
                if py_order(symbol, &key, &best_key)? == Some(want) {
                    best = item;
                    best_key = key;
                }
            }
            Ok(best)
        }
        other => unreachable!("function {other} has a signature but no body"),
    }
}

/// jmespath's `_create_key_func`: the expression's value for `x`, which must be of an allowed type.
fn key_of(expr: &super::parser::Node, x: &Value, allowed: &[&str], function: &str) -> Result<Value> {
    // `keyfunc` and `expref.visit` sit between the function and the interpreter.
    let _frames = Frames::enter(2)?;
    let key = visit(expr, x)?;
    let jt = key.jmespath_type();
    if !allowed.contains(&jt) {
        return Err(type_error(function, &key, jt, allowed));
    }
    Ok(key)
}

/// Python's `sum(items)`, starting from the int 0.
fn sum(items: &[Value]) -> Result<Num> {
    items.iter().try_fold(Num::Int(BigInt::zero()), |acc, x| acc.add(&num(x)))
}

fn to_number(v: Value) -> Result<Value> {
    let text = match v {
        Value::List(_) | Value::Dict(_) | Value::OrderedDict(_) | Value::Bool(_) | Value::None => {
            return Ok(Value::None);
        }
        n @ (Value::Int(_) | Value::Float(_)) => return Ok(n),
        Value::Str(s) => s,
        Value::Bytes(b) => match String::from_utf8(b) {
            Ok(s) if s.is_ascii() => s,
            _ => return Ok(Value::None),
        },
        Value::Expref(_) => {
            return Err(
                "int() argument must be a string, a bytes-like object or a real number, not '_Expression'".into()
            );
        }
    };
    if let Ok(i) = parse_py_int(&text) {
        return Ok(Value::int(i));
    }
    Ok(parse_py_float(&text).map_or(Value::None, Value::Float))
}

/// `merge`: `dict.update` with each argument in turn, into a fresh dict.
fn merge(first: Value, rest: impl Iterator<Item = Value>) -> Result<Value> {
    let mut merged: Vec<(String, Value)> = Vec::new();
    for arg in std::iter::once(first).chain(rest) {
        update(&mut merged, arg)?;
    }
    Ok(Value::Dict(merged))
}

/// Python's `dict.update(arg)`: from a mapping, or from a sequence of key/value pairs.
fn update(merged: &mut Vec<(String, Value)>, arg: Value) -> Result<()> {
    let set = super::interp::dict_set;
    let sequence = match arg {
        Value::Dict(e) | Value::OrderedDict(e) => {
            for (k, v) in e {
                set(merged, &k, v);
            }
            return Ok(());
        }
        Value::List(items) => items,
        Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
        Value::Bytes(b) => b.iter().map(|&x| Value::Int(x.to_string())).collect(),
        other => return Err(format!("'{}' object is not iterable", other.tp_name())),
    };
    for (i, item) in sequence.into_iter().enumerate() {
        let pair: Vec<Value> = match item {
            Value::List(l) => l,
            Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
            Value::Dict(e) | Value::OrderedDict(e) => e.into_iter().map(|(k, _)| Value::Str(k)).collect(),
            Value::Bytes(b) => b.iter().map(|&x| Value::Int(x.to_string())).collect(),
            _ => return Err(format!("cannot convert dictionary update sequence element #{i} to a sequence")),
        };
        if pair.len() != 2 {
            return Err(format!("dictionary update sequence element #{i} has length {}; 2 is required", pair.len()));
        }
        let mut pair = pair.into_iter();
        let (key, value) = (pair.next().expect("two"), pair.next().expect("two"));
        match key {
            Value::Str(k) => set(merged, &k, value),
            unhashable @ (Value::List(_) | Value::Dict(_) | Value::OrderedDict(_)) => {
                return Err(format!("unhashable type: '{}'", unhashable.tp_name()));
            }
            // A dict keyed by a non-string cannot be held by our string-keyed objects.
            other => {
                return Err(format!("merge() with a {} key is not supported by cpjobs", other.type_name()));
            }
        }
    }
    Ok(())
}

/// `json.dumps(x, separators=(',', ':'), default=str)`: ASCII-only, no spaces.
fn compact_json(v: &Value, out: &mut String) {
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(i),
        Value::Float(f) if f.is_nan() => out.push_str("NaN"),
        Value::Float(f) if f.is_infinite() => out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" }),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => write_str(s, true, out),
        Value::Bytes(_) | Value::Expref(_) => write_str(&v.py_str(), true, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_json(item, out);
            }
            out.push(']');
        }
        Value::Dict(e) | Value::OrderedDict(e) => {
            out.push('{');
            for (i, (k, item)) in e.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, true, out);
                out.push(':');
                compact_json(item, out);
            }
            out.push('}');
        }
    }
}

/// Python's `<` on two sort keys of the same type (numbers or strings).
fn less(a: &Value, b: &Value) -> bool {
    py_order("<", a, b).ok().flatten() == Some(Ordering::Less)
}

/// Python's `sorted(..., key=...)` on (key, value) pairs: stable, using only `<`.
///
/// Below 64 elements this is CPython's own algorithm (a natural run, then
/// binary insertion), so even keys without a total order (NaN) land where
/// Python puts them. Longer lists use a stable merge sort, which agrees with
/// CPython whenever the keys are totally ordered.
fn py_sort(mut items: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    let n = items.len();
    if n < 2 {
        return items;
    }
    if n >= 64 {
        return merge_sort(items);
    }
    // count_run: a strictly descending run is reversed, else a non-descending run.
    let mut run = 2;
    if less(&items[1].0, &items[0].0) {
        while run < n && less(&items[run].0, &items[run - 1].0) {
            run += 1;
        }
        items[..run].reverse();
    } else {
        while run < n && !less(&items[run].0, &items[run - 1].0) {
            run += 1;
        }
    }
    // binarysort: insert each remaining element after equal keys.
    for start in run..n {
        let (mut l, mut r) = (0, start);
        while l < r {
            let p = l + ((r - l) >> 1);
            if less(&items[start].0, &items[p].0) {
                r = p;
            } else {
                l = p + 1;
            }
        }
        let pivot = items.remove(start);
        items.insert(l, pivot);
    }
    items
}

fn merge_sort(items: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    if items.len() < 2 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let (left, right) = (merge_sort(left), merge_sort(right));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                if less(&b.0, &a.0) {
                    out.push(r.next().expect("peeked"));
                } else {
                    out.push(l.next().expect("peeked"));
                }
            }
            (Some(_), None) => out.extend(l.by_ref()),
            (None, Some(_)) => out.extend(r.by_ref()),
            (None, None) => return out,
        }
    }
}
