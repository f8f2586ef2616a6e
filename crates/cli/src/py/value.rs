//! Python values, as AWS CLI v1 holds them.
//!
//! AWS CLI is Python: its messages print `repr()`s of parsed parameters
//! (`['a', 'b']`, `OrderedDict([('x', 1)])`, `b'..'`, `None`) and its output
//! keeps dict insertion order. Holding parameters and responses as this type
//! keeps those facts (order, int vs float, dict vs OrderedDict, str vs bytes)
//! that a plain JSON value would lose.

/// A Python value as produced by `json.loads`, the shorthand parser or botocore's response parser.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None`
    None,
    /// `True` / `False`
    Bool(bool),
    /// An `int` of any size, kept as its canonical decimal text (`-12`, `99999999999999999999`).
    Int(String),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `bytes` (from `fileb://`).
    Bytes(Vec<u8>),
    /// A `list`.
    List(Vec<PyValue>),
    /// A plain `dict` in insertion order (shorthand maps, botocore-parsed responses).
    Dict(Vec<(String, PyValue)>),
    /// An `OrderedDict` (what AWS CLI's `json.loads(..., object_pairs_hook=OrderedDict)` gives).
    OrderedDict(Vec<(String, PyValue)>),
}

impl PyValue {
    /// An int from a Rust integer.
    pub fn int(i: i64) -> PyValue {
        PyValue::Int(i.to_string())
    }

    /// A str.
    pub fn str(s: impl Into<String>) -> PyValue {
        PyValue::Str(s.into())
    }

    /// The entries of a dict or OrderedDict.
    pub fn entries(&self) -> Option<&[(String, PyValue)]> {
        match self {
            PyValue::Dict(e) | PyValue::OrderedDict(e) => Some(e),
            _ => None,
        }
    }

    /// Whether this is a dict or OrderedDict.
    pub fn is_dict(&self) -> bool {
        self.entries().is_some()
    }

    /// The value under `key` in a dict.
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        self.entries()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Python's `type(x)` as printed: `<class 'str'>`.
    pub fn type_repr(&self) -> &'static str {
        match self {
            PyValue::None => "<class 'NoneType'>",
            PyValue::Bool(_) => "<class 'bool'>",
            PyValue::Int(_) => "<class 'int'>",
            PyValue::Float(_) => "<class 'float'>",
            PyValue::Str(_) => "<class 'str'>",
            PyValue::Bytes(_) => "<class 'bytes'>",
            PyValue::List(_) => "<class 'list'>",
            PyValue::Dict(_) => "<class 'dict'>",
            PyValue::OrderedDict(_) => "<class 'collections.OrderedDict'>",
        }
    }

    /// Python's `repr(x)`.
    pub fn repr(&self) -> String {
        let mut s = String::new();
        self.write_repr(&mut s);
        s
    }

    /// Python's `str(x)`: like `repr` except that a str is itself.
    pub fn py_str(&self) -> String {
        match self {
            PyValue::Str(s) => s.clone(),
            other => other.repr(),
        }
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            PyValue::None => out.push_str("None"),
            PyValue::Bool(true) => out.push_str("True"),
            PyValue::Bool(false) => out.push_str("False"),
            PyValue::Int(i) => out.push_str(i),
            PyValue::Float(f) => out.push_str(&float_repr(*f)),
            PyValue::Str(s) => str_repr(s, out),
            PyValue::Bytes(b) => bytes_repr(b, out),
            PyValue::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_repr(out);
                }
                out.push(']');
            }
            PyValue::Dict(entries) => {
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
            PyValue::OrderedDict(entries) => {
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

/// Python's `repr(float)`: the shortest text that reads back to the same
/// float, in fixed notation for exponents -4..16 and `1e+16` style outside.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-7".
    let sci = format!("{:e}", f);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()));
    }
    out
}

pub use super::printable::str_repr;

fn bytes_repr(b: &[u8], out: &mut String) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') { '"' } else { '\'' };
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        for (f, want) in [
            (1.5, "1.5"),
            (3.0, "3.0"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5e100, "-2.5e+100"),
            (0.1, "0.1"),
        ] {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn reprs_match_python() {
        let v = PyValue::List(vec![PyValue::str("a"), PyValue::str("it's"), PyValue::None, PyValue::int(1)]);
        assert_eq!(v.repr(), r#"['a', "it's", None, 1]"#);
        let d = PyValue::OrderedDict(vec![("x".into(), PyValue::int(1))]);
        assert_eq!(d.repr(), "OrderedDict([('x', 1)])");
        assert_eq!(PyValue::Dict(vec![("a".into(), PyValue::str("b"))]).repr(), "{'a': 'b'}");
        assert_eq!(PyValue::Bytes(b"a'\n\xff".to_vec()).repr(), r#"b"a'\n\xff""#);
        assert_eq!(PyValue::str("日本\u{7}").repr(), "'日本\\x07'");
        // Private-use and unassigned code points are escaped, as Python's isprintable() says.
        assert_eq!(PyValue::str("\u{e000}\u{378}a").repr(), "'\\ue000\\u0378a'");
    }
}
