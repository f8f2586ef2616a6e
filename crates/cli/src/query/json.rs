//! Python's `json.loads`, as JMESPath's lexer calls it.
//!
//! Backtick literals are `json.loads(lexeme)` and quoted identifiers are
//! `json.loads('"' + lexeme + '"')`, so what the lexer accepts, and the wording
//! of its errors (`Invalid \escape`), is that of CPython's C scanner: NaN and
//! Infinity accepted, control characters in strings refused, ints unbounded,
//! duplicate keys keep their first position and their last value.

use super::number::BigInt;
use super::value::Value;

/// A decode failure: the message before Python's `": line X column Y (char Z)"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) msg: String,
    /// A `RecursionError` rather than a `ValueError`: callers must not treat it as bad JSON.
    pub(crate) recursion: bool,
}

fn err<T>(msg: &str) -> Result<T, JsonError> {
    Err(JsonError { msg: msg.to_string(), recursion: false })
}

/// The nesting level at which CPython's scanner, called from the lexer under AWS
/// CLI's `--query` handling, runs out of recursion depth (measured on aws-cli
/// 1.45.11: 977 nested arrays decode, 978 do not).
const MAX_NESTING: usize = 978;

/// How to build objects: `json.loads(s)` gives dicts; with `object_pairs_hook=OrderedDict`, OrderedDicts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Objects {
    Dict,
    /// Only the differential tests read documents this way (AWS CLI's own `json.loads` calls do).
    #[cfg_attr(not(test), allow(dead_code))]
    OrderedDict,
}

/// Python's `json.loads(s)`.
pub(crate) fn loads(s: &str, objects: Objects) -> Result<Value, JsonError> {
    if s.starts_with('\u{feff}') {
        return err("Unexpected UTF-8 BOM (decode using utf-8-sig)");
    }
    let chars: Vec<char> = s.chars().collect();
    let mut p = Decoder { s: &chars, objects, depth: 0 };
    let start = p.skip_ws(0);
    let (v, end) = p.value(start)?.ok_or_else(|| JsonError { msg: "Expecting value".into(), recursion: false })?;
    let end = p.skip_ws(end);
    if end != chars.len() {
        return err("Extra data");
    }
    Ok(v)
}

struct Decoder<'a> {
    s: &'a [char],
    objects: Objects,
    depth: usize,
}

impl Decoder<'_> {
    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.s.len() && matches!(self.s[i], ' ' | '\t' | '\n' | '\r') {
            i += 1;
        }
        i
    }

    fn starts(&self, i: usize, word: &str) -> bool {
        let w: Vec<char> = word.chars().collect();
        self.s.len() >= i + w.len() && self.s[i..i + w.len()] == w[..]
    }

    /// One value at `i`; `Ok(None)` is the scanner's StopIteration ("Expecting value").
    fn value(&mut self, i: usize) -> Result<Option<(Value, usize)>, JsonError> {
        let Some(&c) = self.s.get(i) else { return Ok(None) };
        if matches!(c, '[' | '{') && self.depth + 1 >= MAX_NESTING {
            let what = if c == '[' { "array" } else { "object" };
            return Err(JsonError {
                msg: format!("maximum recursion depth exceeded while decoding a JSON {what} from a unicode string"),
                recursion: true,
            });
        }
        Ok(Some(match c {
            '"' => {
                let (text, end) = self.string(i + 1)?;
                (Value::Str(text), end)
            }
            '{' => {
                self.depth += 1;
                let r = self.object(i + 1)?;
                self.depth -= 1;
                r
            }
            '[' => {
                self.depth += 1;
                let r = self.array(i + 1)?;
                self.depth -= 1;
                r
            }
            'n' if self.starts(i, "null") => (Value::None, i + 4),
            't' if self.starts(i, "true") => (Value::Bool(true), i + 4),
            'f' if self.starts(i, "false") => (Value::Bool(false), i + 5),
            'N' if self.starts(i, "NaN") => (Value::Float(f64::NAN), i + 3),
            'I' if self.starts(i, "Infinity") => (Value::Float(f64::INFINITY), i + 8),
            '-' if self.starts(i, "-Infinity") => (Value::Float(f64::NEG_INFINITY), i + 9),
            _ => match self.number(i)? {
                Some(r) => r,
                None => return Ok(None),
            },
        }))
    }

    fn number(&self, start: usize) -> Result<Option<(Value, usize)>, JsonError> {
        let s = self.s;
        let digit = |i: usize| s.get(i).is_some_and(|c| c.is_ascii_digit());
        let mut i = start;
        if s.get(i) == Some(&'-') {
            i += 1;
        }
        match s.get(i) {
            Some('1'..='9') => {
                while digit(i) {
                    i += 1;
                }
            }
            Some('0') => i += 1,
            _ => return Ok(None),
        }
        let int_end = i;
        let mut is_float = false;
        if s.get(i) == Some(&'.') && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
            is_float = true;
        }
        if matches!(s.get(i), Some('e' | 'E')) {
            let save = i;
            i += 1;
            if matches!(s.get(i), Some('+' | '-')) {
                i += 1;
            }
            if digit(i) {
                while digit(i) {
                    i += 1;
                }
                is_float = true;
            } else {
                i = save;
            }
        }
        let text: String = s[start..i].iter().collect();
        if is_float {
            let f: f64 = text.parse().expect("JSON number text parses as a float");
            Ok(Some((Value::Float(f), i)))
        } else {
            let digits = int_end - start - usize::from(s[start] == '-');
            if digits > 4300 {
                return err(&format!(
                    "Exceeds the limit (4300 digits) for integer string conversion: value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
                ));
            }
            Ok(Some((Value::Int(BigInt::parse(&text).to_string()), i)))
        }
    }

    /// A string body starting after the opening quote; returns the text and the index after the closing quote.
    fn string(&self, mut i: usize) -> Result<(String, usize), JsonError> {
        let s = self.s;
        let mut out = String::new();
        loop {
            let Some(&c) = s.get(i) else { return err("Unterminated string starting at") };
            i += 1;
            match c {
                '"' => return Ok((out, i)),
                '\\' => {
                    let Some(&e) = s.get(i) else { return err("Unterminated string starting at") };
                    i += 1;
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = self.hex4(i)?;
                            i += 4;
                            let mut code = hi;
                            if (0xd800..0xdc00).contains(&hi)
                                && s.get(i) == Some(&'\\')
                                && s.get(i + 1) == Some(&'u')
                                && let Ok(lo) = self.hex4(i + 2)
                                && (0xdc00..0xe000).contains(&lo)
                            {
                                code = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                                i += 6;
                            }
                            // A lone surrogate is a valid Python str but not a Rust one.
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        _ => return err("Invalid \\escape"),
                    }
                }
                c if (c as u32) < 0x20 => return err("Invalid control character at"),
                c => out.push(c),
            }
        }
    }

    fn hex4(&self, i: usize) -> Result<u32, JsonError> {
        let mut v = 0;
        for k in 0..4 {
            match self.s.get(i + k).and_then(|c| c.to_digit(16)) {
                Some(d) => v = v * 16 + d,
                None => return err("Invalid \\uXXXX escape"),
            }
        }
        Ok(v)
    }

    fn object(&mut self, i: usize) -> Result<(Value, usize), JsonError> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        let mut i = self.skip_ws(i);
        let finish = |entries, objects| match objects {
            Objects::Dict => Value::Dict(entries),
            Objects::OrderedDict => Value::OrderedDict(entries),
        };
        if self.s.get(i) == Some(&'}') {
            return Ok((finish(entries, self.objects), i + 1));
        }
        loop {
            if self.s.get(i) != Some(&'"') {
                return err("Expecting property name enclosed in double quotes");
            }
            let (key, end) = self.string(i + 1)?;
            i = self.skip_ws(end);
            if self.s.get(i) != Some(&':') {
                return err("Expecting ':' delimiter");
            }
            i = self.skip_ws(i + 1);
            let (v, end) =
                self.value(i)?.ok_or_else(|| JsonError { msg: "Expecting value".into(), recursion: false })?;
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = v,
                None => entries.push((key, v)),
            }
            i = self.skip_ws(end);
            match self.s.get(i) {
                Some('}') => return Ok((finish(entries, self.objects), i + 1)),
                Some(',') => i = self.skip_ws(i + 1),
                _ => return err("Expecting ',' delimiter"),
            }
        }
    }

    fn array(&mut self, i: usize) -> Result<(Value, usize), JsonError> {
        let mut items = Vec::new();
        let mut i = self.skip_ws(i);
        if self.s.get(i) == Some(&']') {
            return Ok((Value::List(items), i + 1));
        }
        loop {
            let (v, end) =
                self.value(i)?.ok_or_else(|| JsonError { msg: "Expecting value".into(), recursion: false })?;
            items.push(v);
            i = self.skip_ws(end);
            match self.s.get(i) {
                Some(']') => return Ok((Value::List(items), i + 1)),
                Some(',') => i = self.skip_ws(i + 1),
                _ => return err("Expecting ',' delimiter"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        loads(s, Objects::Dict).unwrap().repr()
    }

    fn bad(s: &str) -> String {
        loads(s, Objects::Dict).unwrap_err().msg
    }

    #[test]
    fn decodes_like_python() {
        assert_eq!(ok(r#" {"a": [1, 2.0, -0, 1e2, "x\u00e9"], "b": null, "a": true} "#), "{'a': True, 'b': None}");
        assert_eq!(ok(r#"{"b": 1, "a": 2, "b": 3}"#), "{'b': 3, 'a': 2}");
        assert_eq!(ok("[NaN, -Infinity, 12345678901234567890]"), "[nan, -inf, 12345678901234567890]");
        assert_eq!(ok(r#""x\u00e9\ud83d\ude00""#), "'xé😀'");
        assert_eq!(ok("1E400"), "inf");
    }

    #[test]
    fn refuses_like_python() {
        assert_eq!(bad("foo"), "Expecting value");
        assert_eq!(bad("1 2"), "Extra data");
        assert_eq!(bad("01"), "Extra data");
        assert_eq!(bad(r#""\a""#), "Invalid \\escape");
        assert_eq!(bad(r#""\u12""#), "Invalid \\uXXXX escape");
        assert_eq!(bad("\"\u{1}\""), "Invalid control character at");
        assert_eq!(bad("[1,]"), "Expecting value");
        assert_eq!(bad("{\"a\":1,}"), "Expecting property name enclosed in double quotes");
        assert_eq!(bad("\u{feff}1"), "Unexpected UTF-8 BOM (decode using utf-8-sig)");
    }
}
