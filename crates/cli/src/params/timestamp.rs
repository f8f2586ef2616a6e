//! Timestamps as botocore reads them (`parse_to_aware_datetime`) and writes
//! them on the JSON wire (`int(calendar.timegm(dt.timetuple()))`).
//!
//! botocore takes epoch numbers (also as text), then anything `dateutil`
//! parses, naive times being UTC. The date-time forms handled here are ISO
//! 8601 and its usual relatives (`2020-01-01 10:00`, `2020/01/02`,
//! `20200101T101010Z`, fractions, `Z`/`UTC`/`GMT`/`±HH[:MM]` zones);
//! `dateutil`'s free text (`Jan 1 2020`) is not recognised.

use super::pyops::parse_float;
use crate::py::PyValue;

/// Epoch seconds of a timestamp parameter value, `None` when botocore would refuse it.
pub fn epoch_seconds(v: &PyValue) -> Option<i64> {
    match v {
        PyValue::Int(i) => i.parse::<i64>().ok().filter(|s| in_range(*s as f64)),
        PyValue::Bool(b) => Some(i64::from(*b)),
        PyValue::Float(f) => in_range(*f).then(|| f.floor() as i64),
        PyValue::Str(s) => from_text(s),
        PyValue::Bytes(b) => std::str::from_utf8(b).ok().and_then(from_text),
        _ => None,
    }
}

/// `datetime.fromtimestamp` works for years 1..9999.
fn in_range(secs: f64) -> bool {
    secs.is_finite() && (-62_135_596_800.0..253_402_300_800.0).contains(&secs)
}

fn from_text(s: &str) -> Option<i64> {
    match parse_float(s) {
        Some(f) if in_range(f) => Some(f.floor() as i64),
        Some(_) => None,
        None => date_time(s.trim()),
    }
}

/// `n` ASCII digits at the start of `s`, and the rest.
fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn date_time(s: &str) -> Option<i64> {
    // Date: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD.
    let (year, rest) = digits(s, 4)?;
    let (month, day, rest) = match rest.as_bytes().first() {
        Some(b'-' | b'/') => {
            let sep = rest.as_bytes()[0];
            let (m, r) = digits(&rest[1..], 2)?;
            if r.as_bytes().first() != Some(&sep) {
                return None;
            }
            let (d, r) = digits(&r[1..], 2)?;
            (m, d, r)
        }
        _ => {
            let (m, r) = digits(rest, 2)?;
            let (d, r) = digits(r, 2)?;
            (m, d, r)
        }
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut rest = rest;
    if let Some(time) = rest.strip_prefix(['T', 't', ' ']) {
        let (h, r) = digits(time, 2)?;
        let r = r.strip_prefix(':').unwrap_or(r);
        let (mi, mut r) = digits(r, 2)?;
        let mut sec = 0;
        if let Some((sv, r2)) = digits(r.strip_prefix(':').unwrap_or(r), 2) {
            sec = sv;
            r = r2;
            if let Some(frac) = r.strip_prefix(['.', ',']) {
                let n = frac.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                r = &frac[n..];
            }
        }
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        secs += h * 3600 + mi * 60 + sec;
        rest = r;
    }
    let zone = rest.trim_start();
    let offset = match zone {
        "" | "Z" | "z" | "UTC" | "GMT" => 0,
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hh, r) = digits(&zone[1..], 2)?;
            let r = r.strip_prefix(':').unwrap_or(r);
            let mm = if r.is_empty() { 0 } else { digits(r, 2).filter(|(_, t)| t.is_empty())?.0 };
            if hh > 23 || mm > 59 {
                return None;
            }
            sign * (hh * 3600 + mm * 60)
        }
    };
    Some(secs - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_match_botocore() {
        // Expected values from botocore.utils.parse_to_aware_datetime + calendar.timegm.
        for (input, want) in [
            ("2020-01-01 10:00", Some(1_577_872_800)),
            ("20200101", Some(20_200_101)),
            ("20200101T101010Z", Some(1_577_873_410)),
            ("2020-01-01T00:00:00.123Z", Some(1_577_836_800)),
            ("2020-01-01T10:00:00-0500", Some(1_577_890_800)),
            ("2020-06-01T12:30:00+02:00", Some(1_591_007_400)),
            ("2020", Some(2020)),
            ("  2020-01-01  ", Some(1_577_836_800)),
            ("-5", Some(-5)),
            ("1e3", Some(1000)),
            ("1577836800.5", Some(1_577_836_800)),
            ("2020/01/02", Some(1_577_923_200)),
            ("2020-13-01", None),
            ("2020-01-01T25:00:00", None),
            ("2021-02-29", None),
            ("nan", None),
            ("inf", None),
            ("xyz", None),
        ] {
            assert_eq!(epoch_seconds(&PyValue::str(input)), want, "{input:?}");
        }
        assert_eq!(epoch_seconds(&PyValue::List(vec![])), None);
        assert_eq!(epoch_seconds(&PyValue::int(7)), Some(7));
    }
}
