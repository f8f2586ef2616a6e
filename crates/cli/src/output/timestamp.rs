//! Timestamps in responses, as `cli_timestamp_format` has AWS CLI v1 print them
//! (`awscli/customizations/scalarparse.py`).
//!
//! `wire` (also `none`, and the default) keeps the value exactly as it came
//! (an epoch number on the JSON wire). `iso8601` is
//! `botocore.utils.parse_timestamp(value).isoformat()`: numbers (and strings
//! Python's `float()` reads) are `datetime.fromtimestamp(v, tzlocal())`, with
//! microseconds rounded half-to-even; other strings go through dateutil's
//! parser, of which the ISO 8601 and RFC 1123 forms are supported here;
//! everything else fails with botocore's message.

use super::localtime::{LocalZone, civil_from_days, days_from_civil};
use super::parse::type_name;
use crate::py::PyValue;
use crate::py::value::float_repr;

/// The `cli_timestamp_format` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampFormat {
    /// `wire` / `none` / unset: as the service sent it.
    #[default]
    Wire,
    /// `iso8601`: ISO 8601 in the local time zone.
    Iso8601,
}

impl TimestampFormat {
    /// The format a `cli_timestamp_format` value names, or the message AWS CLI
    /// fails with (`ValueError`, at start-up) for any other value.
    pub fn from_config(value: &str) -> Result<TimestampFormat, String> {
        match value {
            "wire" | "none" => Ok(TimestampFormat::Wire),
            "iso8601" => Ok(TimestampFormat::Iso8601),
            other => Err(format!(
                "Unknown cli_timestamp_format value: {other}, valid values are \"none\", \"wire\" or \"iso8601\""
            )),
        }
    }
}

/// What AWS CLI v1 prints on stderr, once per run, at the first timestamp of a
/// response when `--v2-debug` (or `AWS_CLI_UPGRADE_DEBUG_MODE=true`) is on and
/// `cli_timestamp_format` is not configured.
pub const V2_TIMESTAMP_WARNING: &str = "\nAWS CLI v2 UPGRADE WARNING: In AWS CLI v2, all timestamp response values \
are returned in the ISO 8601 format. This is different from v1 behavior, where the timestamps are returned as they \
appear in the service API response. To retain AWS CLI v1 behavior in AWS CLI v2, set the configuration variable \
`cli_timestamp_format` to `wire`. See https://docs.aws.amazon.com/cli/latest/userguide/cliv2-migration-changes.html\
#cliv2-migration-timestamp.\n";

/// Why `fromtimestamp` failed, by the Python exception class that decides what happens next.
enum FromTimestampError {
    /// `ValueError`: NaN, or a year outside 1..=9999 (its message).
    Value(String),
    /// `OverflowError`/`OSError`: botocore's fallback fails too.
    Overflow,
}

/// `iso_format(value)` for a timestamp member; `Err` is `str()` of what Python raises.
pub(super) fn iso_format(value: &PyValue, zone: &LocalZone) -> Result<String, String> {
    let unable = |text: &str| format!("Unable to calculate correct timezone offset for \"{text}\"");
    let number_result = |r: Result<String, FromTimestampError>, text: &str| match r {
        Ok(s) => Ok(s),
        Err(FromTimestampError::Value(m)) => Err(m),
        Err(FromTimestampError::Overflow) => Err(unable(text)),
    };
    match value {
        PyValue::Bool(b) => number_result(from_timestamp(i64::from(*b), 0, zone), &value.py_str()),
        PyValue::Int(i) => match i.parse::<i64>() {
            Ok(secs) => number_result(from_timestamp(secs, 0, zone), i),
            Err(_) => Err(unable(i)),
        },
        PyValue::Float(f) => number_result(from_float(*f, zone), &float_repr(*f)),
        PyValue::Str(s) => {
            if let Some(f) = python_float(s) {
                match from_float(f, zone) {
                    Ok(iso) => return Ok(iso),
                    // parse_timestamp retries the number without a time zone, which overflows as well.
                    Err(FromTimestampError::Overflow) => return Err(unable(s)),
                    // A ValueError sends the string on to dateutil.
                    Err(FromTimestampError::Value(_)) => {}
                }
            }
            parse_date_string(s).ok_or_else(|| {
                let why = if s.trim().is_empty() {
                    format!("String does not contain a date: {s}")
                } else {
                    format!("Unknown string format: {s}")
                };
                format!("Invalid timestamp \"{s}\": {why}")
            })
        }
        other => Err(format!(
            "Invalid timestamp \"{}\": Parser must be a string or character stream, not {}",
            other.py_str(),
            type_name(other)
        )),
    }
}

/// Python's `float(str)`: surrounding whitespace, `_` between digits,
/// `inf`/`infinity`/`nan` in any case, with a sign.
fn python_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let bytes = body.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'_' {
            let digit = |j: Option<&u8>| j.is_some_and(u8::is_ascii_digit);
            if !digit(i.checked_sub(1).and_then(|j| bytes.get(j))) || !digit(bytes.get(i + 1)) {
                return None;
            }
        } else if !(c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
            return None;
        }
    }
    let cleaned: String = body.chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() || !cleaned.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    cleaned.parse::<f64>().ok().map(|f| sign * f)
}

/// `datetime.fromtimestamp(f, tz)`: split into seconds and microseconds the
/// way CPython does (`modf`, then round half to even, then carry).
fn from_float(f: f64, zone: &LocalZone) -> Result<String, FromTimestampError> {
    if f.is_nan() {
        return Err(FromTimestampError::Value("Invalid value NaN (not a number)".into()));
    }
    let mut int_part = f.trunc();
    let mut micros = ((f - int_part) * 1e6).round_ties_even();
    if micros >= 1e6 {
        micros -= 1e6;
        int_part += 1.0;
    } else if micros < 0.0 {
        micros += 1e6;
        int_part -= 1.0;
    }
    // time_t range (and infinity): [-2^63, 2^63).
    const TIME_T_END: f64 = 9_223_372_036_854_775_808.0;
    if !(-TIME_T_END..TIME_T_END).contains(&int_part) {
        return Err(FromTimestampError::Overflow);
    }
    from_timestamp(int_part as i64, micros as i64, zone)
}

/// `fromtimestamp(secs + micros / 1e6, tzlocal())`, formatted by `isoformat()`.
fn from_timestamp(secs: i64, micros: i64, zone: &LocalZone) -> Result<String, FromTimestampError> {
    // gmtime() fails (OSError) once the year no longer fits a C int.
    if secs.unsigned_abs() > 67_767_976_233_316_800 {
        return Err(FromTimestampError::Overflow);
    }
    let utc_year = civil_from_days(secs.div_euclid(86400)).0;
    if !(1..=9999).contains(&utc_year) {
        return Err(FromTimestampError::Value(format!("year {utc_year} is out of range")));
    }
    let offset = zone.offset_at(secs);
    let local = secs + offset;
    let (y, m, d) = civil_from_days(local.div_euclid(86400));
    if !(1..=9999).contains(&y) {
        // tz.fromutc leaves the datetime range: OverflowError, then the fallback fails too.
        return Err(FromTimestampError::Overflow);
    }
    let tod = local.rem_euclid(86400);
    Ok(iso(y, m, d, tod / 3600, tod / 60 % 60, tod % 60, micros, Some(offset)))
}

/// `datetime.isoformat()`: microseconds only when non-zero, the offset as `+HH:MM[:SS]`.
#[allow(clippy::too_many_arguments)]
fn iso(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, micros: i64, offset: Option<i64>) -> String {
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    if let Some(off) = offset {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        out.push_str(&format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60));
        if a % 60 != 0 {
            out.push_str(&format!(":{:02}", a % 60));
        }
    }
    out
}

/// The date forms dateutil's parser reads that services send: ISO 8601
/// (`2026-11-29T17:54:27.5Z`, `20261129T175427+0530`, date only, space
/// instead of `T`) and RFC 1123 (`Sun, 29 Nov 2026 17:54:27 GMT`).
fn parse_date_string(s: &str) -> Option<String> {
    let t = s.trim();
    parse_iso(t).or_else(|| parse_rfc1123(t))
}

struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let d = self.0.get(..n)?;
        if !d.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        self.0 = &self.0[n..];
        d.parse().ok()
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.0.strip_prefix(prefix) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// `Z`, `UTC`, `GMT` (optionally after a space), `+HH`, `+HHMM` or `+HH:MM`; `None` inside for naive.
    fn zone(&mut self) -> Option<Option<i64>> {
        let _ = self.eat(" ");
        if self.0.is_empty() {
            return Some(None);
        }
        if self.eat("Z") || self.eat("UTC") || self.eat("GMT") {
            return Some(Some(0));
        }
        let sign = if self.eat("+") {
            1
        } else if self.eat("-") {
            -1
        } else {
            return None;
        };
        let h = self.digits(2)?;
        let colon = self.eat(":");
        let m = if self.0.is_empty() && !colon { 0 } else { self.digits(2)? };
        if h > 23 || m > 59 {
            return None;
        }
        Some(Some(sign * (h * 3600 + m * 60)))
    }
}

fn valid_date(y: i64, m: i64, d: i64) -> bool {
    (1..=12).contains(&m)
        && d >= 1
        && d <= days_from_civil(if m == 12 { y + 1 } else { y }, m % 12 + 1, 1) - days_from_civil(y, m, 1)
}

#[allow(clippy::too_many_arguments)]
fn finish(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, us: i64, zone: Option<i64>) -> Option<String> {
    if !valid_date(y, mo, d) || h > 23 || mi > 59 || s > 59 || !(1..=9999).contains(&y) {
        return None;
    }
    Some(iso(y, mo, d, h, mi, s, us, zone))
}

fn parse_iso(t: &str) -> Option<String> {
    let mut c = Cursor(t);
    let y = c.digits(4)?;
    let dashed = c.eat("-");
    let mo = c.digits(2)?;
    if dashed && !c.eat("-") {
        return None;
    }
    let d = c.digits(2)?;
    if c.0.is_empty() {
        return finish(y, mo, d, 0, 0, 0, 0, None);
    }
    if !(c.eat("T") || c.eat(" ")) {
        return None;
    }
    let h = c.digits(2)?;
    let colons = c.eat(":");
    let mi = c.digits(2)?;
    let mut s = 0;
    let mut us = 0;
    if (colons && c.eat(":")) || (!colons && c.0.starts_with(|ch: char| ch.is_ascii_digit())) {
        s = c.digits(2)?;
        if c.eat(".") || c.eat(",") {
            let n = c.0.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(c.0.len());
            if n == 0 {
                return None;
            }
            // dateutil keeps the first six digits (no rounding).
            let frac = format!("{:0<6}", &c.0[..n.min(6)]);
            us = frac.parse().ok()?;
            c.0 = &c.0[n..];
        }
    }
    let zone = c.zone()?;
    if !c.0.is_empty() {
        return None;
    }
    finish(y, mo, d, h, mi, s, us, zone)
}

fn parse_rfc1123(t: &str) -> Option<String> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let rest = match t.split_once(", ") {
        Some((wd, rest)) if wd.len() == 3 && wd.bytes().all(|b| b.is_ascii_alphabetic()) => rest,
        _ => t,
    };
    let mut parts = rest.splitn(4, ' ');
    let d: i64 = parts.next()?.parse().ok()?;
    let mon = parts.next()?;
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(mon))? as i64 + 1;
    let y: i64 = parts.next()?.parse().ok()?;
    let mut c = Cursor(parts.next()?);
    let h = c.digits(2)?;
    if !c.eat(":") {
        return None;
    }
    let mi = c.digits(2)?;
    let s = if c.eat(":") { c.digits(2)? } else { 0 };
    let zone = c.zone()?;
    if !c.0.is_empty() {
        return None;
    }
    finish(y, mo, d, h, mi, s, 0, zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> LocalZone {
        LocalZone::utc()
    }

    #[test]
    fn iso8601_matches_botocore_in_utc() {
        // Expectations from awscli.customizations.scalarparse.iso_format with TZ unset (UTC).
        let ok = |v: PyValue, want: &str| assert_eq!(iso_format(&v, &utc()).as_deref(), Ok(want), "{v:?}");
        ok(PyValue::Float(1764438867.123), "2025-11-29T17:54:27.123000+00:00");
        ok(PyValue::int(0), "1970-01-01T00:00:00+00:00");
        ok(PyValue::Float(-1.5), "1969-12-31T23:59:58.500000+00:00");
        ok(PyValue::int(253402300799), "9999-12-31T23:59:59+00:00");
        ok(PyValue::int(-62135596800), "0001-01-01T00:00:00+00:00");
        ok(PyValue::str("1764438867"), "2025-11-29T17:54:27+00:00");
        ok(PyValue::str(" 1764438867.25 "), "2025-11-29T17:54:27.250000+00:00");
        ok(PyValue::str("1_000"), "1970-01-01T00:16:40+00:00");
        ok(PyValue::str("2026-11-29"), "2026-11-29T00:00:00");
        ok(PyValue::str("2026-11-29T17:54:27.5"), "2026-11-29T17:54:27.500000");
        ok(PyValue::str("20261129T175427Z"), "2026-11-29T17:54:27+00:00");
        ok(PyValue::str("2026-11-29T17:54:27+0530"), "2026-11-29T17:54:27+05:30");
        ok(PyValue::str("2026-11-29T17:54:27-08:00"), "2026-11-29T17:54:27-08:00");
        ok(PyValue::str("2026-11-29T17:54:27.123456789+02:00"), "2026-11-29T17:54:27.123456+02:00");
        ok(PyValue::str("Sun, 29 Nov 2026 17:54:27 GMT"), "2026-11-29T17:54:27+00:00");
        ok(PyValue::str("Sun, 29 Nov 2026 17:54:27 +0000"), "2026-11-29T17:54:27+00:00");
        ok(PyValue::str("2026-11-29T17:54:27 UTC"), "2026-11-29T17:54:27+00:00");
        ok(PyValue::str("2026-11-29 17:54"), "2026-11-29T17:54:00");
        ok(PyValue::Bool(true), "1970-01-01T00:00:01+00:00");
        ok(PyValue::Float(1.0000005), "1970-01-01T00:00:01.000001+00:00");
        ok(PyValue::Float(0.9999995), "1970-01-01T00:00:01+00:00");
        ok(PyValue::Float(1764438867.9999995), "2025-11-29T17:54:28+00:00");
        ok(PyValue::Float(0.0000005), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn iso8601_failures_read_like_python() {
        let err = |v: PyValue, want: &str| assert_eq!(iso_format(&v, &utc()), Err(want.to_owned()), "{v:?}");
        err(PyValue::Float(1e12), "year 33658 is out of range");
        err(PyValue::str("1e12"), "Invalid timestamp \"1e12\": Unknown string format: 1e12");
        err(PyValue::Float(1e20), "Unable to calculate correct timezone offset for \"1e+20\"");
        err(PyValue::int(253402300800), "year 10000 is out of range");
        err(PyValue::int(-62135596801), "year 0 is out of range");
        err(PyValue::str("nan"), "Invalid timestamp \"nan\": Unknown string format: nan");
        err(PyValue::Float(f64::NAN), "Invalid value NaN (not a number)");
        err(PyValue::Float(f64::INFINITY), "Unable to calculate correct timezone offset for \"inf\"");
        err(PyValue::str("junk"), "Invalid timestamp \"junk\": Unknown string format: junk");
        err(PyValue::str(""), "Invalid timestamp \"\": String does not contain a date: ");
        err(
            PyValue::List(vec![PyValue::int(1)]),
            "Invalid timestamp \"[1]\": Parser must be a string or character stream, not list",
        );
        err(
            PyValue::Dict(vec![("a".into(), PyValue::int(1))]),
            "Invalid timestamp \"{'a': 1}\": Parser must be a string or character stream, not dict",
        );
    }

    #[test]
    fn config_values() {
        assert_eq!(TimestampFormat::from_config("wire"), Ok(TimestampFormat::Wire));
        assert_eq!(TimestampFormat::from_config("none"), Ok(TimestampFormat::Wire));
        assert_eq!(TimestampFormat::from_config("iso8601"), Ok(TimestampFormat::Iso8601));
        assert_eq!(
            TimestampFormat::from_config("ISO8601"),
            Err("Unknown cli_timestamp_format value: ISO8601, valid values are \"none\", \"wire\" or \"iso8601\""
                .into())
        );
    }
}
