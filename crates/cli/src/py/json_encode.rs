//! Python's `json.dumps`, as AWS CLI calls it.
//!
//! Two callers, two settings: request bodies are `json.dumps(params)`
//! (separators `", "` and `": "`, ASCII-only with `\uXXXX` escapes, no
//! indent), and `--output json` is `json.dump(indent=4, ensure_ascii=False)`.
//! Keys stay in insertion order; ints keep every digit.

use super::value::{PyValue, float_repr};

/// How to encode.
#[derive(Debug, Clone, Copy)]
pub struct DumpOptions {
    /// `indent=N`: newline and N spaces per level; `None` for one line.
    pub indent: Option<usize>,
    /// `ensure_ascii`: escape every non-ASCII character as `\uXXXX` (surrogate pairs above the BMP).
    pub ensure_ascii: bool,
}

impl DumpOptions {
    /// `json.dumps(x)`: what botocore puts on the wire.
    pub const WIRE: DumpOptions = DumpOptions { indent: None, ensure_ascii: true };
    /// `json.dump(x, indent=4, ensure_ascii=False)`: AWS CLI's `--output json`.
    pub const OUTPUT: DumpOptions = DumpOptions { indent: Some(4), ensure_ascii: false };
    /// `json.dumps(x, indent=4)`: `--generate-cli-skeleton`.
    pub const SKELETON: DumpOptions = DumpOptions { indent: Some(4), ensure_ascii: true };
}

/// Why a value cannot be encoded, worded as Python's `TypeError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSerializable(pub String);

/// Encodes `v` as `json.dumps` would.
pub fn dumps(v: &PyValue, opts: DumpOptions) -> Result<String, NotSerializable> {
    let mut out = String::new();
    write_value(v, opts, 0, &mut out)?;
    Ok(out)
}

fn newline(opts: DumpOptions, level: usize, out: &mut String) {
    if let Some(n) = opts.indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write_value(v: &PyValue, opts: DumpOptions, level: usize, out: &mut String) -> Result<(), NotSerializable> {
    match v {
        PyValue::None => out.push_str("null"),
        PyValue::Bool(true) => out.push_str("true"),
        PyValue::Bool(false) => out.push_str("false"),
        PyValue::Int(i) => out.push_str(i),
        PyValue::Float(f) => {
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&float_repr(*f));
            }
        }
        PyValue::Str(s) => write_str(s, opts.ensure_ascii, out),
        PyValue::Bytes(_) => return Err(NotSerializable("Object of type bytes is not JSON serializable".into())),
        PyValue::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if opts.indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(opts, level + 1, out);
                write_value(item, opts, level + 1, out)?;
            }
            newline(opts, level, out);
            out.push(']');
        }
        PyValue::Dict(entries) | PyValue::OrderedDict(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if opts.indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(opts, level + 1, out);
                write_str(k, opts.ensure_ascii, out);
                out.push_str(": ");
                write_value(item, opts, level + 1, out)?;
            }
            newline(opts, level, out);
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string literal as Python writes it.
pub fn write_str(s: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PyValue {
        PyValue::OrderedDict(vec![
            (
                "actionTypeId".into(),
                PyValue::Dict(vec![("provider".into(), PyValue::str("日本")), ("version".into(), PyValue::str("1"))]),
            ),
            ("maxBatchSize".into(), PyValue::Int("99999999999999999999".into())),
            ("l".into(), PyValue::List(vec![])),
        ])
    }

    #[test]
    fn wire_form_matches_python() {
        assert_eq!(
            dumps(&sample(), DumpOptions::WIRE).unwrap(),
            r#"{"actionTypeId": {"provider": "\u65e5\u672c", "version": "1"}, "maxBatchSize": 99999999999999999999, "l": []}"#
        );
        assert_eq!(dumps(&PyValue::str("\u{1F600}\u{7f}"), DumpOptions::WIRE).unwrap(), r#""\ud83d\ude00\u007f""#);
    }

    #[test]
    fn output_form_matches_python() {
        assert_eq!(
            dumps(&sample(), DumpOptions::OUTPUT).unwrap(),
            "{\n    \"actionTypeId\": {\n        \"provider\": \"日本\",\n        \"version\": \"1\"\n    },\n    \"maxBatchSize\": 99999999999999999999,\n    \"l\": []\n}"
        );
    }
}
