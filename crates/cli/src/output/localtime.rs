//! The local time zone as `dateutil.tz.tzlocal()` sees it, for
//! `cli_timestamp_format = iso8601`.
//!
//! tzlocal has two offsets, taken from Python's `time.timezone`/`time.altzone`
//! (the zone's offsets near 1 January and 2 July of the current year), and
//! uses the DST one whenever C's `localtime()` says DST is in effect. The zone
//! is `TZ` (a POSIX rule or a tzdata name) or `/etc/localtime` (a TZif file);
//! `localtime()` is answered from the TZif transitions, then from its footer
//! rule. Without a readable zone it is UTC, as glibc makes it.

use std::path::Path;

/// A POSIX TZ rule: `STD offset [DST [offset] [,start[/time],end[/time]]]`.
#[derive(Debug, Clone, PartialEq)]
struct PosixTz {
    /// Seconds east of UTC in standard time.
    std: i64,
    /// Seconds east of UTC in DST, and the transition rules, if it has DST.
    dst: Option<(i64, Rule, Rule)>,
}

/// A transition date rule with its local time of day.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian(i64, i64),
    /// `n`: day 0..=365, February 29 counted.
    Zero(i64, i64),
    /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month(i64, i64, i64, i64),
}

/// One zone: TZif transitions (UTC second, type index), types (offset, isdst), footer rule.
#[derive(Debug, Clone, Default)]
struct Zone {
    transitions: Vec<(i64, usize)>,
    types: Vec<(i64, bool)>,
    footer: Option<PosixTz>,
}

impl Zone {
    fn utc() -> Zone {
        Zone { transitions: Vec::new(), types: vec![(0, false)], footer: None }
    }

    /// `localtime(t)`: (`tm_gmtoff`, `tm_isdst`).
    fn at(&self, t: i64) -> (i64, bool) {
        let n = self.transitions.partition_point(|&(when, _)| when <= t);
        if n == self.transitions.len()
            && let Some(rule) = &self.footer
        {
            // After the last transition (or with none at all) the footer rule applies.
            return rule.at(t);
        }
        if n == 0 {
            // Before the first transition: the first standard-time type (as glibc does).
            return self
                .types
                .iter()
                .copied()
                .find(|&(_, dst)| !dst)
                .or(self.types.first().copied())
                .unwrap_or((0, false));
        }
        self.types.get(self.transitions[n - 1].1).copied().unwrap_or((0, false))
    }
}

/// The local zone and tzlocal's two offsets.
#[derive(Debug, Clone)]
pub(super) struct LocalZone {
    zone: Zone,
    std_offset: i64,
    dst_offset: i64,
}

impl LocalZone {
    /// UTC, where both offsets are zero.
    #[cfg(test)]
    pub(super) fn utc() -> LocalZone {
        LocalZone { zone: Zone::utc(), std_offset: 0, dst_offset: 0 }
    }

    /// The process's local zone, with Python's `time.timezone`/`altzone` for the year of `now`.
    pub(super) fn from_env(now: i64) -> LocalZone {
        let zone = match std::env::var("TZ") {
            Err(_) => read_tzif(Path::new("/etc/localtime")).unwrap_or_else(Zone::utc),
            Ok(tz) => zone_from_tz(&tz),
        };
        LocalZone::new(zone, now)
    }

    /// The zone `TZ` would name, with the offsets for the year of `now` (tests).
    #[cfg(test)]
    pub(super) fn from_tz(tz: &str, now: i64) -> LocalZone {
        LocalZone::new(zone_from_tz(tz), now)
    }

    fn new(zone: Zone, now: i64) -> LocalZone {
        // CPython's init_timezone: YEAR = (365 * 24 + 6) * 3600.
        const YEAR: i64 = (365 * 24 + 6) * 3600;
        let jan_t = now.div_euclid(YEAR) * YEAR;
        let janzone = -zone.at(jan_t).0;
        let julyzone = -zone.at(jan_t + YEAR / 2).0;
        let (timezone, altzone) = if janzone < julyzone { (julyzone, janzone) } else { (janzone, julyzone) };
        LocalZone { zone, std_offset: -timezone, dst_offset: -altzone }
    }

    /// tzlocal's UTC offset for the UTC instant `t`, in seconds east.
    pub(super) fn offset_at(&self, t: i64) -> i64 {
        if self.std_offset != self.dst_offset && self.zone.at(t).1 { self.dst_offset } else { self.std_offset }
    }
}

/// glibc's reading of `TZ`: empty is UTC; `:name` or `name` is a tzdata file
/// (absolute, or under /usr/share/zoneinfo); otherwise a POSIX rule.
fn zone_from_tz(tz: &str) -> Zone {
    let name = tz.strip_prefix(':').unwrap_or(tz);
    if name.is_empty() {
        return Zone::utc();
    }
    let path =
        if name.starts_with('/') { Path::new(name).to_path_buf() } else { Path::new("/usr/share/zoneinfo").join(name) };
    if !name.contains("..")
        && let Some(zone) = read_tzif(&path)
    {
        return zone;
    }
    match parse_posix(name) {
        Some(rule) => Zone { footer: Some(rule), ..Zone::default() },
        // An unusable TZ is UTC (under its given name) for glibc.
        None => Zone::utc(),
    }
}

fn read_tzif(path: &Path) -> Option<Zone> {
    parse_tzif(&std::fs::read(path).ok()?)
}

/// RFC 8536: a v1 block (32-bit times), then for v2+ a second block with
/// 64-bit times and a footer holding a POSIX TZ rule.
fn parse_tzif(data: &[u8]) -> Option<Zone> {
    let header = |at: usize| -> Option<(u8, [usize; 6])> {
        if data.get(at..at + 4)? != b"TZif" {
            return None;
        }
        let version = *data.get(at + 4)?;
        let mut counts = [0usize; 6];
        for (i, c) in counts.iter_mut().enumerate() {
            let b = data.get(at + 20 + 4 * i..at + 24 + 4 * i)?;
            *c = u32::from_be_bytes(b.try_into().ok()?) as usize;
        }
        Some((version, counts))
    };
    let block_len = |c: [usize; 6], time_size: usize| {
        let [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = c;
        timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) + isstdcnt + isutcnt
    };
    let (version, counts) = header(0)?;
    let (start, counts, time_size) = if version >= b'2' {
        let second = 44 + block_len(counts, 4);
        (second + 44, header(second)?.1, 8)
    } else {
        (44, counts, 4)
    };
    let [_, _, _, timecnt, typecnt, _] = counts;
    let mut pos = start;
    let mut transitions = Vec::with_capacity(timecnt);
    for i in 0..timecnt {
        let b = data.get(pos + i * time_size..pos + (i + 1) * time_size)?;
        let t = if time_size == 8 {
            i64::from_be_bytes(b.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(b.try_into().ok()?))
        };
        transitions.push((t, 0));
    }
    pos += timecnt * time_size;
    for (i, tr) in transitions.iter_mut().enumerate() {
        tr.1 = usize::from(*data.get(pos + i)?);
    }
    pos += timecnt;
    let mut types = Vec::with_capacity(typecnt);
    for i in 0..typecnt {
        let b = data.get(pos + 6 * i..pos + 6 * i + 6)?;
        types.push((i64::from(i32::from_be_bytes(b[..4].try_into().ok()?)), b[4] != 0));
    }
    let footer = if time_size == 8 {
        let end = start + block_len(counts, 8);
        let rest = data.get(end..)?;
        let text = std::str::from_utf8(rest).ok()?.trim_matches('\n');
        parse_posix(text)
    } else {
        None
    };
    if types.is_empty() {
        return None;
    }
    Some(Zone { transitions, types, footer })
}

/// Parses a POSIX TZ rule such as `CET-1CEST,M3.5.0,M10.5.0/3` or `<+0330>-3:30`.
fn parse_posix(s: &str) -> Option<PosixTz> {
    let mut p = s;
    let name = |p: &mut &str| -> Option<()> {
        if let Some(rest) = p.strip_prefix('<') {
            let end = rest.find('>')?;
            *p = &rest[end + 1..];
        } else {
            let n = p.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(p.len());
            if n < 3 {
                return None;
            }
            *p = &p[n..];
        }
        Some(())
    };
    name(&mut p)?;
    // POSIX offsets are west of UTC: `CET-1` is one hour east.
    let std = -parse_hms(&mut p)?;
    if p.is_empty() {
        return Some(PosixTz { std, dst: None });
    }
    name(&mut p)?;
    let dst_offset = if p.starts_with(|c: char| c == '+' || c == '-' || c.is_ascii_digit()) {
        -parse_hms(&mut p)?
    } else {
        std + 3600
    };
    // Without rules, glibc uses the US rules of 2007.
    let (start, end) = if p.is_empty() {
        (Rule::Month(3, 2, 0, 7200), Rule::Month(11, 1, 0, 7200))
    } else {
        p = p.strip_prefix(',')?;
        let start = parse_rule(&mut p)?;
        p = p.strip_prefix(',')?;
        let end = parse_rule(&mut p)?;
        if !p.is_empty() {
            return None;
        }
        (start, end)
    };
    Some(PosixTz { std, dst: Some((dst_offset, start, end)) })
}

/// `[+-]hh[:mm[:ss]]` in seconds.
fn parse_hms(p: &mut &str) -> Option<i64> {
    let sign = match p.chars().next()? {
        '-' => {
            *p = &p[1..];
            -1
        }
        '+' => {
            *p = &p[1..];
            1
        }
        _ => 1,
    };
    let mut total = 0;
    for (i, scale) in [3600, 60, 1].into_iter().enumerate() {
        if i > 0 {
            match p.strip_prefix(':') {
                Some(rest) => *p = rest,
                None => break,
            }
        }
        let n = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
        if n == 0 {
            return None;
        }
        total += p[..n].parse::<i64>().ok()? * scale;
        *p = &p[n..];
    }
    Some(sign * total)
}

fn parse_rule(p: &mut &str) -> Option<Rule> {
    fn number(p: &mut &str) -> Option<i64> {
        let n = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
        let v = p[..n].parse().ok()?;
        *p = &p[n..];
        Some(v)
    }
    if let Some(rest) = p.strip_prefix('J') {
        *p = rest;
        let d = number(p)?;
        Some(Rule::Julian(d, time_of_rule(p)?))
    } else if let Some(rest) = p.strip_prefix('M') {
        *p = rest;
        let m = number(p)?;
        *p = p.strip_prefix('.')?;
        let w = number(p)?;
        *p = p.strip_prefix('.')?;
        let d = number(p)?;
        Some(Rule::Month(m, w, d, time_of_rule(p)?))
    } else {
        let d = number(p)?;
        Some(Rule::Zero(d, time_of_rule(p)?))
    }
}

fn time_of_rule(p: &mut &str) -> Option<i64> {
    match p.strip_prefix('/') {
        Some(rest) => {
            *p = rest;
            parse_hms(p)
        }
        None => Some(7200),
    }
}

impl PosixTz {
    /// (`tm_gmtoff`, `tm_isdst`) at the UTC instant `t`.
    fn at(&self, t: i64) -> (i64, bool) {
        let Some((dst, start, end)) = self.dst else { return (self.std, false) };
        let year = civil_from_days((t + self.std).div_euclid(86400)).0;
        // Transition instants in UTC: the start is given in standard time, the end in DST.
        let start_utc = rule_local_seconds(year, start) - self.std;
        let end_utc = rule_local_seconds(year, end) - dst;
        let in_dst = if start_utc < end_utc {
            start_utc <= t && t < end_utc
        } else {
            // Southern hemisphere: DST spans the new year.
            !(end_utc <= t && t < start_utc)
        };
        if in_dst { (dst, true) } else { (self.std, false) }
    }
}

/// Seconds from the epoch (as if local time were UTC) at which `rule` fires in `year`.
fn rule_local_seconds(year: i64, rule: Rule) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    let (day, time) = match rule {
        Rule::Julian(n, t) => {
            let leap_shift = i64::from(is_leap(year) && n >= 60);
            (jan1 + n - 1 + leap_shift, t)
        }
        Rule::Zero(n, t) => (jan1 + n, t),
        Rule::Month(m, w, d, t) => {
            let first = days_from_civil(year, m, 1);
            // 1970-01-01 was a Thursday (4).
            let first_wd = (first + 4).rem_euclid(7);
            let mut day = first + (d - first_wd).rem_euclid(7) + (w - 1) * 7;
            let month_len = days_from_civil(if m == 12 { year + 1 } else { year }, m % 12 + 1, 1) - first;
            while day - first >= month_len {
                day -= 7;
            }
            (day, t)
        }
    };
    day * 86400 + time
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(super) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub(super) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29, the "now" the expectations below were computed at.
    const NOW: i64 = 1_795_960_000;

    fn offsets(tz: &str, instants: &[i64]) -> Vec<i64> {
        let zone = LocalZone::new(zone_from_tz(tz), NOW);
        instants.iter().map(|&t| zone.offset_at(t)).collect()
    }

    #[test]
    fn civil_dates_round_trip() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (1969, 12, 31), (9999, 12, 31), (1, 1, 1), (-4, 3, 1)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2025, 11, 29), 20421);
    }

    #[test]
    fn posix_rules() {
        // Values from Python with TZ set (dateutil.tz.tzlocal), see the module doc.
        let instants = [1764438867, 1751328000, 0, 4102444800 + 86400 * 180];
        assert_eq!(offsets("EST5EDT,M3.2.0,M11.1.0", &instants), [-18000, -14400, -18000, -14400]);
        assert_eq!(offsets("<+0330>-3:30", &instants), [12600; 4]);
        assert_eq!(offsets("UTC", &instants), [0; 4]);
        assert_eq!(offsets("", &instants), [0; 4]);
    }

    #[test]
    fn tzdata_zones() {
        if !Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            return;
        }
        let instants = [1764438867, 1751328000, 0, 4102444800 + 86400 * 180];
        assert_eq!(offsets("Europe/Berlin", &instants), [3600, 7200, 3600, 7200]);
        assert_eq!(offsets("Australia/Lord_Howe", &instants), [39600, 37800, 37800, 37800]);
        assert_eq!(offsets("America/Sao_Paulo", &instants), [-10800; 4]);
        assert_eq!(offsets("Asia/Kolkata", &instants), [19800; 4]);
    }
}
