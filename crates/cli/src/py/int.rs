//! Python's `int(x)` in base 10, as AWS CLI applies it to integer arguments
//! (`--max-batch-size ' 7'`, `+3`, `1_000`, `٣`) and as `json.loads` uses it
//! for JSON integers.
//!
//! Invariant: the result is the canonical decimal text of the value (no
//! leading zeros, no `-0`), because `PyValue::Int` keeps ints as text and the
//! wire carries them as `json.dumps` writes them.

use super::value::{PyValue, str_repr};

/// Python's default `sys.get_int_max_str_digits()`: longer digit strings are refused.
pub const MAX_STR_DIGITS: usize = 4300;

/// `int(text)`: the canonical decimal text, or Python's `ValueError` message.
pub fn parse_int(text: &str) -> Result<String, String> {
    // CPython keeps ASCII as is and maps every other whitespace character to a
    // space and every Unicode decimal digit to its ASCII digit; the parser then
    // skips ASCII whitespace only (so '\x1c', whitespace to `str.isspace`, fails).
    let mapped: Option<String> = text
        .chars()
        .map(|c| {
            if (c as u32) < 127 {
                Some(c)
            } else if is_py_space(c) {
                Some(' ')
            } else {
                unicode_decimal(c).and_then(|d| char::from_digit(d, 10))
            }
        })
        .collect();
    let invalid = || {
        let mut r = String::new();
        str_repr(text, &mut r);
        format!("invalid literal for int() with base 10: {}", truncate_chars(&r, 200))
    };
    let mapped = mapped.ok_or_else(invalid)?;
    parse_ascii(mapped.trim_matches(is_ascii_space)).map_err(|e| e.unwrap_or_else(invalid))
}

/// `int(b'...')`: bytes are parsed with ASCII whitespace and ASCII digits only.
pub fn parse_int_bytes(bytes: &[u8]) -> Result<String, String> {
    let invalid = || {
        let r = PyValue::Bytes(bytes.to_vec()).repr();
        format!("invalid literal for int() with base 10: {}", truncate_chars(&r, 200))
    };
    let text = std::str::from_utf8(bytes).ok().filter(|t| t.is_ascii()).ok_or_else(invalid)?;
    let trimmed = text.trim_matches(is_ascii_space);
    parse_ascii(trimmed).map_err(|e| e.unwrap_or_else(invalid))
}

/// CPython's `Py_ISSPACE`: the ASCII whitespace `int()` skips around the digits.
fn is_ascii_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Parses `[+-]digits(_digits)*`; `Err(None)` means "invalid literal", `Err(Some(m))` another error.
fn parse_ascii(s: &str) -> Result<String, Option<String>> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return Err(None);
    }
    if !body.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Err(None);
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if digits.len() > MAX_STR_DIGITS {
        return Err(Some(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    Ok(canonical(negative, &digits))
}

/// Canonical decimal text of a sign and ASCII digits.
pub(crate) fn canonical(negative: bool, digits: &str) -> String {
    let stripped = digits.trim_start_matches('0');
    if stripped.is_empty() {
        "0".to_owned()
    } else if negative {
        format!("-{stripped}")
    } else {
        stripped.to_owned()
    }
}

fn truncate_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Python's `str.isspace()` for one character (also what `\s` and `str.strip()` use).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Zero digits of the Unicode `Nd` blocks (Unicode 14, as in Python 3.11); each block holds 0-9.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0,
    0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
    0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0,
    0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// `unicodedata.decimal(c)`.
pub fn unicode_decimal(c: char) -> Option<u32> {
    let n = c as u32;
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= n);
    let zero = *DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
    (n - zero < 10).then_some(n - zero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_python_accepts() {
        for (input, want) in [
            (" 7", "7"),
            ("+3", "3"),
            ("1_000", "1000"),
            ("٣", "3"),
            ("-0", "0"),
            ("007", "7"),
            ("\u{a0}1\u{a0}", "1"),
            ("6\n", "6"),
            ("99999999999999999999", "99999999999999999999"),
            ("-12", "-12"),
            ("１２", "12"),
        ] {
            assert_eq!(parse_int(input).as_deref(), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn rejects_with_python_messages() {
        for (input, want) in [
            ("1.5", "invalid literal for int() with base 10: '1.5'"),
            ("abc", "invalid literal for int() with base 10: 'abc'"),
            ("", "invalid literal for int() with base 10: ''"),
            ("0x10", "invalid literal for int() with base 10: '0x10'"),
            ("1__0", "invalid literal for int() with base 10: '1__0'"),
            ("_1", "invalid literal for int() with base 10: '_1'"),
            ("+", "invalid literal for int() with base 10: '+'"),
            ("1\0", "invalid literal for int() with base 10: '1\\x00'"),
            ("\x1c1", "invalid literal for int() with base 10: '\\x1c1'"),
            ("it's", "invalid literal for int() with base 10: \"it's\""),
        ] {
            assert_eq!(parse_int(input), Err(want.to_owned()), "{input:?}");
        }
        let long = "x".repeat(300);
        let msg = parse_int(&long).unwrap_err();
        assert_eq!(msg, format!("invalid literal for int() with base 10: '{}", "x".repeat(199)));
        assert_eq!(
            parse_int(&format!(" {}", "0".repeat(4301))).unwrap_err(),
            "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"
        );
        assert_eq!(parse_int(&"1_0".repeat(2000)).map(|s| s.len()), Ok(4000));
    }

    #[test]
    fn bytes_follow_python() {
        assert_eq!(parse_int_bytes(b"6\n").as_deref(), Ok("6"));
        assert_eq!(parse_int_bytes(b"x").unwrap_err(), "invalid literal for int() with base 10: b'x'");
    }
}
