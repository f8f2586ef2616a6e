//! The values a JMESPath expression computes with.
//!
//! These are the Python objects `jmespath` handles: a [`PyValue`] plus the
//! `_Expression` object an `&expr` evaluates to, which can end up anywhere a
//! value can (`[&a]`, `not_null(&a)`). Python's rules live here: what is
//! false, `==` (with `1 == True`, `1 == 1.0`, order-blind dicts), `str()` and
//! `repr()` as error messages print them, and the type names the type checks use.

use std::sync::Arc;

use super::number::{BigInt, Num};
use super::parser::Node;
use crate::py::PyValue;
use crate::py::printable::str_repr;
use crate::py::value::float_repr;

/// A Python value inside the interpreter.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    None,
    Bool(bool),
    /// An `int`, canonical decimal text.
    Int(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Dict(Vec<(String, Value)>),
    OrderedDict(Vec<(String, Value)>),
    /// jmespath's `_Expression`: the target of `&expr`.
    Expref(Arc<Node>),
}

/// How Python prints an `_Expression` object; the address is the one thing we cannot reproduce.
const EXPREF_REPR: &str = "<jmespath.visitor._Expression object at 0x7f0000000000>";

impl Value {
    pub(crate) fn from_py(v: &PyValue) -> Value {
        match v {
            PyValue::None => Value::None,
            PyValue::Bool(b) => Value::Bool(*b),
            PyValue::Int(i) => Value::Int(i.clone()),
            PyValue::Float(f) => Value::Float(*f),
            PyValue::Str(s) => Value::Str(s.clone()),
            PyValue::Bytes(b) => Value::Bytes(b.clone()),
            PyValue::List(items) => Value::List(items.iter().map(Value::from_py).collect()),
            PyValue::Dict(e) => Value::Dict(e.iter().map(|(k, v)| (k.clone(), Value::from_py(v))).collect()),
            PyValue::OrderedDict(e) => {
                Value::OrderedDict(e.iter().map(|(k, v)| (k.clone(), Value::from_py(v))).collect())
            }
        }
    }

    /// The result as a [`PyValue`]; `Err` when it holds an `&expr`, which AWS CLI's
    /// JSON encoder refuses with this message.
    pub(crate) fn into_py(self) -> Result<PyValue, String> {
        Ok(match self {
            Value::None => PyValue::None,
            Value::Bool(b) => PyValue::Bool(b),
            Value::Int(i) => PyValue::Int(i),
            Value::Float(f) => PyValue::Float(f),
            Value::Str(s) => PyValue::Str(s),
            Value::Bytes(b) => PyValue::Bytes(b),
            Value::List(items) => PyValue::List(items.into_iter().map(Value::into_py).collect::<Result<_, _>>()?),
            Value::Dict(e) => PyValue::Dict(into_py_entries(e)?),
            Value::OrderedDict(e) => PyValue::OrderedDict(into_py_entries(e)?),
            Value::Expref(_) => return Err("Encountered unrecognized type in JSON encoder.".into()),
        })
    }

    pub(crate) fn int(i: BigInt) -> Value {
        Value::Int(i.to_string())
    }

    pub(crate) fn from_num(n: Num) -> Value {
        match n {
            Num::Int(i) => Value::int(i),
            Num::Float(f) => Value::Float(f),
        }
    }

    /// The value as a Python number (bool excluded, as jmespath's `_is_actual_number` does).
    pub(crate) fn as_num(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(BigInt::parse(i))),
            Value::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    /// The value as Python sees it in arithmetic comparisons: bools are 0 and 1.
    fn as_num_or_bool(&self) -> Option<Num> {
        match self {
            Value::Bool(b) => Some(Num::Int(BigInt::parse(if *b { "1" } else { "0" }))),
            other => other.as_num(),
        }
    }

    pub(crate) fn entries(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Dict(e) | Value::OrderedDict(e) => Some(e),
            _ => None,
        }
    }

    /// `type(x).__name__`.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::OrderedDict(_) => "OrderedDict",
            Value::Expref(_) => "_Expression",
        }
    }

    /// The type's `tp_name`, as CPython's own messages print it (`'in <string>' requires
    /// string as left operand, not collections.OrderedDict`).
    pub(crate) fn tp_name(&self) -> &'static str {
        match self {
            Value::OrderedDict(_) => "collections.OrderedDict",
            other => other.type_name(),
        }
    }

    /// jmespath's `TYPES_MAP.get(type(x).__name__, 'unknown')`.
    pub(crate) fn jmespath_type(&self) -> &'static str {
        python_type_to_jmespath(self.type_name())
    }

    /// jmespath's `_is_false`: `''`, `[]`, `{}`, `None` and `False` are false; `0` is true.
    pub(crate) fn is_false(&self) -> bool {
        match self {
            Value::Str(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Dict(e) | Value::OrderedDict(e) => e.is_empty(),
            Value::None => true,
            Value::Bool(b) => !b,
            _ => false,
        }
    }

    /// Python's `bool(x)`.
    pub(crate) fn py_truthy(&self) -> bool {
        match self {
            Value::Int(i) => i != "0",
            Value::Float(f) => *f != 0.0,
            Value::Bytes(b) => !b.is_empty(),
            Value::Expref(_) => true,
            other => !other.is_false(),
        }
    }

    /// Python's `x == y`.
    pub(crate) fn py_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.py_eq(y)),
            (Value::OrderedDict(a), Value::OrderedDict(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && va.py_eq(vb))
            }
            (Value::Dict(a) | Value::OrderedDict(a), Value::Dict(b) | Value::OrderedDict(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, va)| b.iter().find(|(kb, _)| kb == k).is_some_and(|(_, vb)| va.py_eq(vb)))
            }
            _ => match (self.as_num_or_bool(), other.as_num_or_bool()) {
                (Some(a), Some(b)) => a.partial_cmp(&b) == Some(std::cmp::Ordering::Equal),
                _ => false,
            },
        }
    }

    /// Python's `str(x)`.
    pub(crate) fn py_str(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.repr(),
        }
    }

    /// Python's `repr(x)`.
    pub(crate) fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => out.push_str(i),
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => str_repr(s, out),
            Value::Bytes(b) => out.push_str(&PyValue::Bytes(b.clone()).repr()),
            Value::Expref(_) => out.push_str(EXPREF_REPR),
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_repr(out);
                }
                out.push(']');
            }
            Value::Dict(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    str_repr(k, out);
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
            Value::OrderedDict(entries) => {
                if entries.is_empty() {
                    out.push_str("OrderedDict()");
                    return;
                }
                out.push_str("OrderedDict([");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push('(');
                    str_repr(k, out);
                    out.push_str(", ");
                    v.write_repr(out);
                    out.push(')');
                }
                out.push_str("])");
            }
        }
    }
}

fn into_py_entries(e: Vec<(String, Value)>) -> Result<Vec<(String, PyValue)>, String> {
    e.into_iter().map(|(k, v)| Ok((k, v.into_py()?))).collect()
}

/// jmespath's `TYPES_MAP`.
pub(crate) fn python_type_to_jmespath(name: &str) -> &'static str {
    match name {
        "bool" => "boolean",
        "list" => "array",
        "dict" | "OrderedDict" => "object",
        "NoneType" => "null",
        "str" => "string",
        "float" | "int" => "number",
        "_Expression" => "expref",
        _ => "unknown",
    }
}

/// Python's `repr()` of a list of str, as messages print `expected one of: [...]`.
pub(crate) fn str_list_repr<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        str_repr(s.as_ref(), &mut out);
    }
    out.push(']');
    out
}
