//! Reading a 2xx response body the way botocore's `_parse_body_as_json` does:
//! `body.decode('utf-8')` (strict: a bad byte raises and AWS CLI reports
//! Python's `UnicodeDecodeError` text), then `json.loads(body)`, where any
//! `ValueError` means "not JSON".
//!
//! Only success or failure of `json.loads` matters here (botocore swallows the
//! error message), so the decoder answers `None` for every input Python's
//! C scanner rejects and otherwise builds the same values: `dict` (duplicate
//! keys keep the first position and the last value), `int` of any size (but
//! no more than 4300 digits, Python 3.11's conversion limit), `float`
//! (including `NaN`, `Infinity`, `-Infinity` and literals that overflow to
//! infinity), and strings with every escape resolved.

use crate::py::PyValue;

/// Python 3.11's default `sys.get_int_max_str_digits()`: `int()` of a longer
/// literal raises `ValueError`, which `json.loads` passes on.
const INT_MAX_STR_DIGITS: usize = 4300;

/// How deep arrays and objects may nest. Python's C scanner counts each level
/// against the recursion limit (1000) on top of the frames AWS CLI already has
/// on the stack when botocore parses; measured with the real CLI: 974 levels
/// parse, the 975th raises `RecursionError` (exit 255).
pub(super) const MAX_DEPTH: usize = 974;

/// Why a body could not be read at all (not merely "not JSON").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BodyError {
    /// `str(UnicodeDecodeError)`.
    Utf8(String),
    /// Nesting beyond what Python's recursion limit allows: `str(RecursionError)`.
    TooDeep(String),
}

/// `body.decode('utf-8')` then `json.loads`: `Ok(None)` when the text is not JSON.
pub(super) fn decode_json(body: &[u8]) -> Result<Option<PyValue>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|e| BodyError::Utf8(utf8_error_message(body, &e)))?;
    let mut p = Parser { s: text.as_bytes(), text, pos: 0, depth: 0 };
    // json.loads refuses a leading BOM ("Unexpected UTF-8 BOM").
    if text.starts_with('\u{feff}') {
        return Ok(None);
    }
    p.skip_ws();
    let value = match p.value() {
        Ok(v) => v,
        Err(Fail::NotJson) => return Ok(None),
        Err(Fail::TooDeep(kind)) => {
            return Err(BodyError::TooDeep(format!(
                "maximum recursion depth exceeded while decoding a JSON {kind} from a unicode string"
            )));
        }
    };
    p.skip_ws();
    Ok(if p.pos == p.s.len() { Some(value) } else { None })
}

/// Python's `str(UnicodeDecodeError)` for the first bad sequence in `body`,
/// e.g. `'utf-8' codec can't decode byte 0xff in position 16: invalid start byte`.
fn utf8_error_message(body: &[u8], e: &std::str::Utf8Error) -> String {
    let start = e.valid_up_to();
    // Rust and CPython both end a bad sequence at its longest valid prefix
    // (Unicode's "maximal subpart" rule), so the ranges agree.
    let (end, reason) = match e.error_len() {
        None => (body.len(), "unexpected end of data"),
        Some(n) => {
            let lead = body[start];
            let reason = if (0x80..=0xC1).contains(&lead) || lead >= 0xF5 {
                "invalid start byte"
            } else {
                "invalid continuation byte"
            };
            (start + n, reason)
        }
    };
    if end - start == 1 {
        format!("'utf-8' codec can't decode byte 0x{:02x} in position {start}: {reason}", body[start])
    } else {
        format!("'utf-8' codec can't decode bytes in position {start}-{}: {reason}", end - 1)
    }
}

enum Fail {
    NotJson,
    /// The kind of container (`object`, `array`) whose opening went too deep.
    TooDeep(&'static str),
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// JSON whitespace only: Python's decoder skips `[ \t\n\r]*`.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<PyValue, Fail> {
        match self.peek() {
            Some(b'{') => self.nested("object", Self::object),
            Some(b'[') => self.nested("array", Self::array),
            Some(b'"') => {
                self.pos += 1;
                self.string().map(PyValue::Str)
            }
            Some(b'n') if self.eat("null") => Ok(PyValue::None),
            Some(b't') if self.eat("true") => Ok(PyValue::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(PyValue::Bool(false)),
            Some(b'N') if self.eat("NaN") => Ok(PyValue::Float(f64::NAN)),
            Some(b'I') if self.eat("Infinity") => Ok(PyValue::Float(f64::INFINITY)),
            Some(b'-') if self.eat("-Infinity") => Ok(PyValue::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(Fail::NotJson),
        }
    }

    fn nested(&mut self, kind: &'static str, f: fn(&mut Self) -> Result<PyValue, Fail>) -> Result<PyValue, Fail> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fail::TooDeep(kind));
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn object(&mut self) -> Result<PyValue, Fail> {
        self.pos += 1;
        let mut entries: Vec<(String, PyValue)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(PyValue::Dict(entries));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(Fail::NotJson);
            }
            self.pos += 1;
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(Fail::NotJson);
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            // A dict: a repeated key keeps its first position and takes the last value.
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(PyValue::Dict(entries));
                }
                _ => return Err(Fail::NotJson),
            }
        }
    }

    fn array(&mut self) -> Result<PyValue, Fail> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(PyValue::List(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(PyValue::List(items));
                }
                _ => return Err(Fail::NotJson),
            }
        }
    }

    /// After the opening quote. Python's C `scanstring` with `strict=True`:
    /// no raw control characters, only the JSON escapes, `\u` takes exactly
    /// four hex digits and pairs surrogates when a low one follows.
    fn string(&mut self) -> Result<String, Fail> {
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or(Fail::NotJson)?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let mut c = hi;
                            if (0xD800..0xDC00).contains(&hi) && self.s[self.pos..].starts_with(b"\\u") {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.pos = save;
                                }
                            }
                            // A lone surrogate is a valid Python str but cannot be a Rust
                            // char; it is kept as U+FFFD (see the module's gaps).
                            out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(Fail::NotJson),
                    }
                }
                // End of text or a raw control character.
                _ => return Err(Fail::NotJson),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let digits = self.s.get(self.pos..self.pos + 4).ok_or(Fail::NotJson)?;
        let mut n = 0u32;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16).ok_or(Fail::NotJson)?;
        }
        self.pos += 4;
        Ok(n)
    }

    /// Python's `NUMBER_RE`: `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`.
    /// An integer part alone is `int(...)`, anything else `float(...)`.
    fn number(&mut self) -> Result<PyValue, Fail> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Fail::NotJson),
        }
        let int_end = self.pos;
        let mut is_float = false;
        if self.peek() == Some(b'.') && self.s.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
            self.digits();
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.digits();
                is_float = true;
            } else {
                self.pos = save;
            }
        }
        let literal = &self.text[start..self.pos];
        if is_float {
            // Rust's parser rounds correctly like Python's float(); overflow gives inf in both.
            return literal.parse::<f64>().map(PyValue::Float).map_err(|_| Fail::NotJson);
        }
        let digits = &self.text[int_start..int_end];
        if digits.len() > INT_MAX_STR_DIGITS {
            return Err(Fail::NotJson);
        }
        Ok(PyValue::Int(if negative && digits != "0" { format!("-{digits}") } else { digits.to_owned() }))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> PyValue {
        decode_json(s.as_bytes()).unwrap().unwrap_or_else(|| panic!("{s:?} should be JSON"))
    }

    fn not_json(s: &str) {
        assert_eq!(decode_json(s.as_bytes()), Ok(None), "{s:?} should not be JSON");
    }

    #[test]
    fn values_are_pythons() {
        assert_eq!(
            ok(r#" {"b":1,"a":[true,null,-0,1.5E2,"x\u00e9\ud83d\ude00"],"b":2} "#),
            PyValue::Dict(vec![
                ("b".into(), PyValue::int(2)),
                (
                    "a".into(),
                    PyValue::List(vec![
                        PyValue::Bool(true),
                        PyValue::None,
                        PyValue::int(0),
                        PyValue::Float(150.0),
                        PyValue::str("xé😀"),
                    ])
                ),
            ])
        );
        assert_eq!(ok("-12345678901234567890123"), PyValue::Int("-12345678901234567890123".into()));
        assert_eq!(ok("1e400"), PyValue::Float(f64::INFINITY));
        assert_eq!(ok("-Infinity"), PyValue::Float(f64::NEG_INFINITY));
        assert!(matches!(ok("NaN"), PyValue::Float(f) if f.is_nan()));
        assert_eq!(ok(r#""a\/b\"\\\b\f\n\r\t""#), PyValue::str("a/b\"\\\u{8}\u{c}\n\r\t"));
        assert_eq!(ok(&"9".repeat(4300)), PyValue::Int("9".repeat(4300)));
    }

    #[test]
    fn rejects_what_python_rejects() {
        for s in [
            "",
            "   ",
            "{",
            "{\"a\":1,}",
            "[1,]",
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "\"a\tb\"",
            "\"\\x\"",
            "\"\\u12g4\"",
            "{1:2}",
            "nul",
            "[1] x",
            "\u{feff}{}",
            "infinity",
        ] {
            not_json(s);
        }
        not_json(&"9".repeat(4301));
        not_json(&format!("-{}", "9".repeat(4301)));
    }

    #[test]
    fn utf8_errors_read_like_python() {
        let msg = |b: &[u8]| match decode_json(b) {
            Err(BodyError::Utf8(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(msg(b"{\"a\":\"\xff\"}"), "'utf-8' codec can't decode byte 0xff in position 6: invalid start byte");
        assert_eq!(msg(b"ab\xe6\x97"), "'utf-8' codec can't decode bytes in position 2-3: unexpected end of data");
        assert_eq!(msg(b"\xe6"), "'utf-8' codec can't decode byte 0xe6 in position 0: unexpected end of data");
        assert_eq!(msg(b"\xe6\x97x"), "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte");
        assert_eq!(
            msg(b"\xed\xa0\x80"),
            "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"
        );
        assert_eq!(msg(b"\xc0\x80"), "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte");
    }

    #[test]
    fn nesting_stops_where_pythons_recursion_limit_does() {
        let arrays = |n| format!("{{\"x\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(decode_json(arrays(MAX_DEPTH - 1).as_bytes()).unwrap().is_some());
        assert_eq!(
            decode_json(arrays(MAX_DEPTH).as_bytes()),
            Err(BodyError::TooDeep(
                "maximum recursion depth exceeded while decoding a JSON array from a unicode string".into()
            ))
        );
        let objects = |n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(decode_json(objects(MAX_DEPTH).as_bytes()).unwrap().is_some());
        assert_eq!(
            decode_json(objects(MAX_DEPTH + 1).as_bytes()),
            Err(BodyError::TooDeep(
                "maximum recursion depth exceeded while decoding a JSON object from a unicode string".into()
            ))
        );
    }
}
