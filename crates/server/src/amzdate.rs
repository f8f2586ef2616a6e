//! ISO-8601 basic timestamps (`20261129T180000Z`) as SigV4 and AWS's error
//! messages write them, converted to and from `SystemTime` without a date crate.
//!
//! Invariant: `parse(format(t)) == t` for every whole second after 1970.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats `t` (truncated to the second) as `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// Parses `YYYYMMDDTHHMMSSZ`; `None` for anything else, including impossible dates.
pub(crate) fn parse(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, sec) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || d == 0 || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    // Reject 2026-02-31 and friends: the day must survive a round trip.
    if civil_from_days(days) != (i64::from(y), mo, d) || days < 0 {
        return None;
    }
    let secs = days as u64 * 86_400 + u64::from(h) * 3600 + u64::from(mi) * 60 + u64::from(sec);
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_values() {
        assert_eq!(format(UNIX_EPOCH), "19700101T000000Z");
        // 2015-08-30T12:36:00Z, the SigV4 test suite's date.
        let t = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(format(t), "20150830T123600Z");
        assert_eq!(parse("20150830T123600Z"), Some(t));
        assert_eq!(format(parse("20240229T235959Z").unwrap()), "20240229T235959Z");
        for bad in
            ["20150230T000000Z", "20150830T123600", "2015-08-30T12:36:00Z", "20151330T000000Z", "2015083xT123600Z"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
