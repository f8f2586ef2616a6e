//! Python's `json.loads` (the C-accelerated scanner of CPython 3.11), as AWS
//! CLI calls it on JSON-looking arguments and on `--cli-input-json`.
//!
//! What matters is not only the value but the failure: AWS CLI prints the
//! decoder's message (`Expecting value: line 1 column 1 (char 0)`), so every
//! error here carries CPython's wording and a position counted in characters.
//! Objects keep key order; a repeated key keeps its first position and takes
//! the last value, as `dict`/`OrderedDict` built from pairs do. `NaN`,
//! `Infinity` and `-Infinity` are accepted like Python does.

use super::int::{MAX_STR_DIGITS, canonical};
use super::value::PyValue;

/// How many nested arrays/objects CPython's scanner enters before its
/// `RecursionError`, from where AWS CLI calls it on an argument value
/// (1000 frames less the ~19 already on the stack there; measured).
pub const ARG_MAX_DEPTH: usize = 981;

/// The same limit for `--cli-input-json`, called one frame higher up.
pub const CLI_INPUT_MAX_DEPTH: usize = 982;

/// `json.loads(text, object_pairs_hook=OrderedDict)`: objects become `OrderedDict`s.
pub fn loads(text: &str) -> Result<PyValue, String> {
    decode(text, true, ARG_MAX_DEPTH)
}

/// `json.loads(text)`: objects become plain `dict`s (what `--cli-input-json` uses).
pub fn loads_plain(text: &str) -> Result<PyValue, String> {
    decode(text, false, CLI_INPUT_MAX_DEPTH)
}

/// `json.loads(data)` on bytes: the encoding is detected like Python does
/// (UTF-8, UTF-8 with BOM, UTF-16/32 by BOM or NUL pattern); `ordered` picks
/// `OrderedDict` or `dict` objects.
pub fn loads_bytes(data: &[u8], ordered: bool) -> Result<PyValue, String> {
    let text = decode_bytes(data)?;
    let chars: Vec<char> = text.chars().collect();
    let max_depth = if ordered { ARG_MAX_DEPTH } else { CLI_INPUT_MAX_DEPTH };
    Decoder { s: &chars, ordered, max_depth }.document()
}

fn decode(text: &str, ordered: bool, max_depth: usize) -> Result<PyValue, String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.first() == Some(&'\u{feff}') {
        return Err(located("Unexpected UTF-8 BOM (decode using utf-8-sig)", &chars, 0));
    }
    Decoder { s: &chars, ordered, max_depth }.document()
}

/// `bytes.decode(json.detect_encoding(b), 'surrogatepass')`, with the `UnicodeDecodeError` text on failure.
fn decode_bytes(b: &[u8]) -> Result<String, String> {
    let enc = if b.starts_with(&[0, 0, 0xfe, 0xff]) || b.starts_with(&[0xff, 0xfe, 0, 0]) {
        "utf-32"
    } else if b.starts_with(&[0xfe, 0xff]) || b.starts_with(&[0xff, 0xfe]) {
        "utf-16"
    } else if b.starts_with(&[0xef, 0xbb, 0xbf]) {
        "utf-8-sig"
    } else if b.len() >= 4 {
        if b[0] == 0 {
            if b[1] != 0 { "utf-16-be" } else { "utf-32-be" }
        } else if b[1] == 0 {
            if b[2] != 0 || b[3] != 0 { "utf-16-le" } else { "utf-32-le" }
        } else {
            "utf-8"
        }
    } else if b.len() == 2 && b[0] == 0 {
        "utf-16-be"
    } else if b.len() == 2 && b[1] == 0 {
        "utf-16-le"
    } else {
        "utf-8"
    };
    match enc {
        "utf-8" => utf8(b, "utf-8"),
        "utf-8-sig" => utf8(&b[3..], "utf-8"),
        "utf-16" | "utf-16-le" | "utf-16-be" => {
            let (body, big) = match enc {
                "utf-16" => (&b[2..], b[0] == 0xfe),
                "utf-16-be" => (b, true),
                _ => (b, false),
            };
            let units: Vec<u16> = body
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| if big { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
                .collect();
            if body.len() % 2 == 1 {
                // Python names the byte order it settled on, BOM or not.
                let codec = if big { "utf-16-be" } else { "utf-16-le" };
                return Err(format!(
                    "'{}' codec can't decode byte 0x{:02x} in position {}: truncated data",
                    codec,
                    body[body.len() - 1],
                    b.len() - 1
                ));
            }
            String::from_utf16(&units).map_err(|_| format!("'{enc}' codec can't decode bytes: illegal encoding"))
        }
        _ => {
            let (body, big) = match enc {
                "utf-32" => (&b[4..], b[0] == 0),
                "utf-32-be" => (b, true),
                _ => (b, false),
            };
            let mut out = String::new();
            for c in body.chunks(4) {
                let arr: [u8; 4] =
                    c.try_into().map_err(|_| format!("'{enc}' codec can't decode bytes: truncated data"))?;
                let n = if big { u32::from_be_bytes(arr) } else { u32::from_le_bytes(arr) };
                out.push(
                    char::from_u32(n).ok_or_else(|| {
                        format!("'{enc}' codec can't decode bytes: code point not in range(0x110000)")
                    })?,
                );
            }
            Ok(out)
        }
    }
}

/// Strict UTF-8 decoding with Python's `UnicodeDecodeError` message.
pub(crate) fn utf8(b: &[u8], codec: &str) -> Result<String, String> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let at = e.valid_up_to();
            let first = b[at];
            Err(match e.error_len() {
                None if b.len() - at > 1 => format!(
                    "'{codec}' codec can't decode bytes in position {}-{}: unexpected end of data",
                    at,
                    b.len() - 1
                ),
                None => {
                    format!("'{codec}' codec can't decode byte 0x{first:02x} in position {at}: unexpected end of data")
                }
                Some(_) if (0xc2..=0xf4).contains(&first) => {
                    format!(
                        "'{codec}' codec can't decode byte 0x{first:02x} in position {at}: invalid continuation byte"
                    )
                }
                Some(_) => {
                    format!("'{codec}' codec can't decode byte 0x{first:02x} in position {at}: invalid start byte")
                }
            })
        }
    }
}

/// `JSONDecodeError.__str__`: `msg: line L column C (char P)`, positions in characters.
fn located(msg: &str, s: &[char], pos: usize) -> String {
    let before = &s[..pos.min(s.len())];
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let col = match before.iter().rposition(|&c| c == '\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    format!("{msg}: line {line} column {col} (char {pos})")
}

enum Fail {
    /// `JSONDecodeError(msg, doc, pos)`.
    At(&'static str, usize),
    /// `StopIteration(pos)`: no value here; becomes "Expecting value".
    NoValue(usize),
    /// A plain `ValueError` (the int digit limit).
    Plain(String),
}

struct Decoder<'a> {
    s: &'a [char],
    ordered: bool,
    /// Containers that may be open at once; one more is Python's `RecursionError`.
    max_depth: usize,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

impl Decoder<'_> {
    fn document(&self) -> Result<PyValue, String> {
        let start = self.skip_ws(0);
        let result = self.scan(start).and_then(|(v, end)| {
            let end = self.skip_ws(end);
            if end != self.s.len() { Err(Fail::At("Extra data", end)) } else { Ok(v) }
        });
        result.map_err(|f| match f {
            Fail::At(msg, pos) => located(msg, self.s, pos),
            Fail::NoValue(pos) => located("Expecting value", self.s, pos),
            Fail::Plain(msg) => msg,
        })
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.s.len() && is_ws(self.s[i]) {
            i += 1;
        }
        i
    }

    fn starts(&self, i: usize, word: &str) -> bool {
        let w: Vec<char> = word.chars().collect();
        self.s.len() >= i + w.len() && self.s[i..i + w.len()] == w[..]
    }

    /// `scan_once(s, idx)`: one value starting exactly at `i`. Containers are
    /// tracked on an explicit stack (CPython recurses; a deep input must not
    /// overflow ours), and checked in the same textual order as CPython's.
    fn scan(&self, mut i: usize) -> Result<(PyValue, usize), Fail> {
        enum Open {
            Array(Vec<PyValue>),
            Object(Vec<(String, PyValue)>, String),
        }
        let mut stack: Vec<Open> = Vec::new();
        'value: loop {
            // Expecting a value at `i`.
            let (mut value, mut next) = match self.s.get(i) {
                Some(&c @ ('{' | '[')) => {
                    if stack.len() >= self.max_depth {
                        let what = if c == '{' { "object" } else { "array" };
                        return Err(Fail::Plain(format!(
                            "maximum recursion depth exceeded while decoding a JSON {what} from a unicode string"
                        )));
                    }
                    let j = self.skip_ws(i + 1);
                    if c == '[' {
                        if self.s.get(j) == Some(&']') {
                            (PyValue::List(Vec::new()), j + 1)
                        } else {
                            stack.push(Open::Array(Vec::new()));
                            i = j;
                            continue 'value;
                        }
                    } else if self.s.get(j) == Some(&'}') {
                        (self.object_value(Vec::new()), j + 1)
                    } else {
                        let (key, after) = self.key(j)?;
                        stack.push(Open::Object(Vec::new(), key));
                        i = after;
                        continue 'value;
                    }
                }
                _ => self.scalar(i)?,
            };
            // A complete value ends at `next`: hand it to the open container.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok((value, next));
                };
                let j = self.skip_ws(next);
                let close = match top {
                    Open::Array(items) => {
                        items.push(value);
                        ']'
                    }
                    Open::Object(entries, key) => {
                        let key = std::mem::take(key);
                        match entries.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = value,
                            None => entries.push((key, value)),
                        }
                        '}'
                    }
                };
                match self.s.get(j) {
                    Some(&c) if c == close => {
                        value = match stack.pop().expect("open container") {
                            Open::Array(items) => PyValue::List(items),
                            Open::Object(entries, _) => self.object_value(entries),
                        };
                        next = j + 1;
                    }
                    Some(',') => {
                        let k = self.skip_ws(j + 1);
                        match top {
                            Open::Array(_) => i = k,
                            Open::Object(_, key) => {
                                let (new_key, after) = self.key(k)?;
                                *key = new_key;
                                i = after;
                            }
                        }
                        continue 'value;
                    }
                    _ => return Err(Fail::At("Expecting ',' delimiter", j)),
                }
            }
        }
    }

    fn object_value(&self, entries: Vec<(String, PyValue)>) -> PyValue {
        if self.ordered { PyValue::OrderedDict(entries) } else { PyValue::Dict(entries) }
    }

    /// An object key at `i`, its `:` and the whitespace after: returns the key and where its value starts.
    fn key(&self, i: usize) -> Result<(String, usize), Fail> {
        if self.s.get(i) != Some(&'"') {
            return Err(Fail::At("Expecting property name enclosed in double quotes", i));
        }
        let (key, next) = self.string(i + 1)?;
        let j = self.skip_ws(next);
        if self.s.get(j) != Some(&':') {
            return Err(Fail::At("Expecting ':' delimiter", j));
        }
        Ok((key, self.skip_ws(j + 1)))
    }

    /// A string, constant or number at `i`.
    fn scalar(&self, i: usize) -> Result<(PyValue, usize), Fail> {
        let Some(&c) = self.s.get(i) else {
            return Err(Fail::NoValue(i));
        };
        match c {
            '"' => self.string(i + 1).map(|(s, e)| (PyValue::Str(s), e)),
            'n' if self.starts(i, "null") => Ok((PyValue::None, i + 4)),
            't' if self.starts(i, "true") => Ok((PyValue::Bool(true), i + 4)),
            'f' if self.starts(i, "false") => Ok((PyValue::Bool(false), i + 5)),
            'N' if self.starts(i, "NaN") => Ok((PyValue::Float(f64::NAN), i + 3)),
            'I' if self.starts(i, "Infinity") => Ok((PyValue::Float(f64::INFINITY), i + 8)),
            '-' if self.starts(i, "-Infinity") => Ok((PyValue::Float(f64::NEG_INFINITY), i + 9)),
            _ => self.number(i),
        }
    }

    fn digit(&self, i: usize) -> bool {
        self.s.get(i).is_some_and(|c| c.is_ascii_digit())
    }

    fn number(&self, start: usize) -> Result<(PyValue, usize), Fail> {
        let mut i = start;
        if self.s[i] == '-' {
            i += 1;
            if i >= self.s.len() {
                return Err(Fail::NoValue(start));
            }
        }
        match self.s[i] {
            '1'..='9' => {
                i += 1;
                while self.digit(i) {
                    i += 1;
                }
            }
            '0' => i += 1,
            _ => return Err(Fail::NoValue(start)),
        }
        let int_end = i;
        let mut is_float = false;
        if self.s.get(i) == Some(&'.') && self.digit(i + 1) {
            is_float = true;
            i += 2;
            while self.digit(i) {
                i += 1;
            }
        }
        if matches!(self.s.get(i), Some('e' | 'E')) && i + 1 < self.s.len() {
            let e_start = i;
            i += 1;
            if matches!(self.s.get(i), Some('-' | '+')) && i + 1 < self.s.len() {
                i += 1;
            }
            while self.digit(i) {
                i += 1;
            }
            if self.s[i - 1].is_ascii_digit() {
                is_float = true;
            } else {
                i = e_start;
            }
        }
        let text: String = self.s[start..i].iter().collect();
        if is_float {
            let f: f64 = text.parse().unwrap_or(f64::NAN);
            return Ok((PyValue::Float(f), i));
        }
        let negative = text.starts_with('-');
        let digits: String = self.s[if negative { start + 1 } else { start }..int_end].iter().collect();
        if digits.len() > MAX_STR_DIGITS {
            return Err(Fail::Plain(format!(
                "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
                digits.len()
            )));
        }
        Ok((PyValue::Int(canonical(negative, &digits)), i))
    }

    /// `scanstring(s, end)`: `begin` is just after the opening quote.
    fn string(&self, begin: usize) -> Result<(String, usize), Fail> {
        let s = self.s;
        let mut out = String::new();
        let mut i = begin;
        loop {
            let Some(&c) = s.get(i) else {
                return Err(Fail::At("Unterminated string starting at", begin - 1));
            };
            match c {
                '"' => return Ok((out, i + 1)),
                '\\' => {}
                c if (c as u32) <= 0x1f => return Err(Fail::At("Invalid control character at", i)),
                c => {
                    out.push(c);
                    i += 1;
                    continue;
                }
            }
            i += 1;
            let Some(&e) = s.get(i) else {
                return Err(Fail::At("Unterminated string starting at", begin - 1));
            };
            if e != 'u' {
                out.push(match e {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => return Err(Fail::At("Invalid \\escape", i - 1)),
                });
                i += 1;
                continue;
            }
            let hex_start = i + 1;
            let end = hex_start + 4;
            if end >= s.len() {
                return Err(Fail::At("Invalid \\uXXXX escape", i));
            }
            let unit = self.hex4(hex_start).ok_or(Fail::At("Invalid \\uXXXX escape", hex_start - 1))?;
            i = end;
            let mut code = unit;
            if (0xd800..0xdc00).contains(&unit) && end + 6 < s.len() && s[end] == '\\' && s[end + 1] == 'u' {
                let low = self.hex4(end + 2).ok_or(Fail::At("Invalid \\uXXXX escape", end + 1))?;
                if (0xdc00..0xe000).contains(&low) {
                    code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                    i = end + 6;
                }
            }
            // A lone surrogate cannot live in a Rust string: it becomes U+FFFD (documented gap).
            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = v * 16 + self.s.get(at + k)?.to_digit(16)?;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        loads(text).unwrap_err()
    }

    #[test]
    fn values_keep_python_types_and_order() {
        let v = loads(
            r#" {"b": [1, -0, 2.50, 1e400, true, null, "\u65e5\ud83d\ude00\n"], "a": {"x": NaN}, "b": -Infinity} "#,
        )
        .unwrap();
        assert_eq!(v.repr(), "OrderedDict([('b', -inf), ('a', OrderedDict([('x', nan)]))])");
        let v = loads(
            r#"[1, -0, 2.50, 1e400, 1E2, 10e-1, true, null, "\u65e5\ud83d\ude00\n", 123456789012345678901234567890]"#,
        )
        .unwrap();
        assert_eq!(v.repr(), "[1, 0, 2.5, inf, 100.0, 1.0, True, None, '日😀\\n', 123456789012345678901234567890]");
        assert_eq!(loads_plain(r#"{"a": {"b": 1}}"#).unwrap().repr(), "{'a': {'b': 1}}");
        assert_eq!(loads("{}").unwrap().repr(), "OrderedDict()");
    }

    #[test]
    fn errors_match_cpython() {
        // Expected texts from CPython 3.11's json.loads.
        for (input, want) in [
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ("not json", "Expecting value: line 1 column 1 (char 0)"),
            (r#"{"actionTypeId": "#, "Expecting value: line 1 column 18 (char 17)"),
            (
                r#"{"category":"Build","#,
                "Expecting property name enclosed in double quotes: line 1 column 21 (char 20)",
            ),
            (r#"{"a":1}x"#, "Extra data: line 1 column 8 (char 7)"),
            ("{'category':'Build'}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
            (r#"{"category":"Build"#, "Unterminated string starting at: line 1 column 13 (char 12)"),
            ("\"a\u{1}\"", "Invalid control character at: line 1 column 3 (char 2)"),
            (r#""\x""#, "Invalid \\escape: line 1 column 2 (char 1)"),
            (r#""\u12""#, "Invalid \\uXXXX escape: line 1 column 3 (char 2)"),
            (r#""\u12x4""#, "Invalid \\uXXXX escape: line 1 column 3 (char 2)"),
            (r#""\u1234"#, "Invalid \\uXXXX escape: line 1 column 3 (char 2)"),
            ("[1,\n 2,,]", "Expecting value: line 2 column 4 (char 7)"),
            ("[", "Expecting value: line 1 column 2 (char 1)"),
            ("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"),
            (r#"{"a" 1}"#, "Expecting ':' delimiter: line 1 column 6 (char 5)"),
            (r#"{"a":1 "b":2}"#, "Expecting ',' delimiter: line 1 column 8 (char 7)"),
            (r#"{"a":1,}"#, "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"),
            ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
            ("-", "Expecting value: line 1 column 1 (char 0)"),
            ("01", "Extra data: line 1 column 2 (char 1)"),
            ("1.", "Extra data: line 1 column 2 (char 1)"),
            ("1e", "Extra data: line 1 column 2 (char 1)"),
            ("\u{feff}{}", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"),
            ("日本", "Expecting value: line 1 column 1 (char 0)"),
            ("[\"日本\" x]", "Expecting ',' delimiter: line 1 column 7 (char 6)"),
            ("nul", "Expecting value: line 1 column 1 (char 0)"),
            ("\"abc\\", "Unterminated string starting at: line 1 column 1 (char 0)"),
        ] {
            assert_eq!(err(input), want, "{input:?}");
        }
    }

    #[test]
    fn nesting_stops_where_python_recurses_too_deep() {
        let nest = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(loads(&nest(980)).is_ok());
        assert_eq!(
            loads(&nest(981)).unwrap_err(),
            "maximum recursion depth exceeded while decoding a JSON array from a unicode string"
        );
        assert!(loads_plain(&nest(981)).is_ok());
        assert!(loads_plain(&nest(982)).is_err());
        let objects = format!("{}1{}", "{\"a\":".repeat(990), "}".repeat(990));
        assert_eq!(
            loads(&objects).unwrap_err(),
            "maximum recursion depth exceeded while decoding a JSON object from a unicode string"
        );
        assert!(loads(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn bytes_are_decoded_like_python() {
        assert_eq!(loads_bytes(b"\xef\xbb\xbf{\"a\": 1}", false).unwrap().repr(), "{'a': 1}");
        assert_eq!(loads_bytes(b"{\x00}\x00", false).unwrap().repr(), "{}");
        assert_eq!(
            loads_bytes(b"\xff", true).unwrap_err(),
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
        );
    }
}
