//! Python's `int(text)` for the words argparse and AWS CLI convert with it
//! (`--page-size`, `--max-items`, `--cli-read-timeout`, `--cli-connect-timeout`).
//!
//! Python strips surrounding whitespace, accepts one sign and `_` between
//! digits (`' 7'`, `+3`, `1_000`), and names the original text in its error.
//! Non-ASCII decimal digits, which Python also accepts, are refused here.

use crate::py::value::str_repr;

/// The canonical decimal text of `int(text)`, or `None` when Python raises `ValueError`.
pub fn parse(text: &str) -> Option<String> {
    let t = text.trim_matches(|c: char| c.is_whitespace());
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    if !digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let trimmed = clean.trim_start_matches('0');
    let magnitude = if trimmed.is_empty() { "0" } else { trimmed };
    Some(if negative && magnitude != "0" { format!("-{magnitude}") } else { magnitude.to_owned() })
}

/// Python's `ValueError` text for a refused `int()`.
pub fn error_message(text: &str) -> String {
    let mut r = String::new();
    str_repr(text, &mut r);
    format!("invalid literal for int() with base 10: {r}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_rules() {
        assert_eq!(parse(" 7\n").as_deref(), Some("7"));
        assert_eq!(parse("+3").as_deref(), Some("3"));
        assert_eq!(parse("-0").as_deref(), Some("0"));
        assert_eq!(parse("-12").as_deref(), Some("-12"));
        assert_eq!(parse("1_000").as_deref(), Some("1000"));
        assert_eq!(parse("007").as_deref(), Some("7"));
        for bad in ["", "1.5", "abc", "0x10", "1__0", "_1", "1_", "+", "- 1"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(error_message("1.5"), "invalid literal for int() with base 10: '1.5'");
    }
}
