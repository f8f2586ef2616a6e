//! The cron expressions of a `DeploymentWindow` rule: the moments a
//! deployment may enter a stage, as AWS's rule reference defines them (six
//! fields and an optional year: seconds, minutes, hours, day of month, month,
//! day of week, year; `*`, `?`, ranges, lists, steps, `L`, `W` and `#`).
//!
//! An expression is a window, not a schedule: a moment is inside it when
//! every field matches that moment in the rule's time zone (seconds only
//! take `*`). Where both day fields are given (neither is `?`), both must
//! match; AWS does not say, and requiring both never opens a window wider
//! than either field allows.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;

/// One item of a field: values from `lo` to `hi` every `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    lo: u32,
    hi: u32,
    step: u32,
}

impl Range {
    fn contains(&self, v: u32) -> bool {
        v >= self.lo && v <= self.hi && (v - self.lo).is_multiple_of(self.step)
    }
}

/// A day-of-month item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayItem {
    Plain(Range),
    /// `L` or `L-n`: the last day of the month, less `n`.
    Last(u32),
    /// `nW`: the weekday nearest day `n` in the same month.
    NearestWeekday(u32),
    /// `LW`: the last weekday of the month.
    LastWeekday,
}

/// A day-of-week item (1 = Sunday .. 7 = Saturday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeekdayItem {
    Plain(Range),
    /// `nL`: the last such day of the month.
    Last(u32),
    /// `n#k`: the k-th such day of the month.
    Nth(u32, u32),
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    minutes: Vec<Range>,
    hours: Vec<Range>,
    /// `None`: `?` (no constraint from this field).
    days: Option<Vec<DayItem>>,
    months: Vec<Range>,
    weekdays: Option<Vec<WeekdayItem>>,
    years: Vec<Range>,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Reads a number or (for months and weekdays) a name, within `lo..=hi`.
fn value(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    let v = match names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        Some(i) => i as u32 + 1,
        None => text.parse::<u32>().map_err(|_| format!("'{text}' is not a value of this field"))?,
    };
    if v < lo || v > hi {
        return Err(format!("{v} is outside {lo}-{hi}"));
    }
    Ok(v)
}

/// Reads `*`, `a`, `a-b`, with an optional `/step`.
fn range(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Range, String> {
    let (base, step) = match text.split_once('/') {
        Some((b, s)) => {
            let step = s.parse::<u32>().map_err(|_| format!("'{s}' is not a step"))?;
            if step == 0 {
                return Err("a step of 0".into());
            }
            (b, step)
        }
        None => (text, 1),
    };
    let (a, b) = match base {
        "*" => (lo, hi),
        _ => match base.split_once('-') {
            Some((a, b)) => (value(a, lo, hi, names)?, value(b, lo, hi, names)?),
            // `a/step` runs from `a` to the end of the field.
            None if step > 1 => (value(base, lo, hi, names)?, hi),
            None => {
                let v = value(base, lo, hi, names)?;
                (v, v)
            }
        },
    };
    if a > b {
        return Err(format!("the range {base} runs backwards"));
    }
    Ok(Range { lo: a, hi: b, step })
}

fn ranges(field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<Range>, String> {
    field.split(',').map(|item| range(item, lo, hi, names)).collect()
}

fn day_item(item: &str) -> Result<DayItem, String> {
    let up = item.to_ascii_uppercase();
    if up == "LW" {
        return Ok(DayItem::LastWeekday);
    }
    if up == "L" {
        return Ok(DayItem::Last(0));
    }
    if let Some(off) = up.strip_prefix("L-") {
        let n = off.parse::<u32>().map_err(|_| format!("'{item}' is not a day of the month"))?;
        if n > 30 {
            return Err(format!("'{item}' reaches before the month"));
        }
        return Ok(DayItem::Last(n));
    }
    if let Some(d) = up.strip_suffix('W') {
        return Ok(DayItem::NearestWeekday(value(d, 1, 31, &[])?));
    }
    Ok(DayItem::Plain(range(item, 1, 31, &[])?))
}

fn weekday_item(item: &str) -> Result<WeekdayItem, String> {
    let up = item.to_ascii_uppercase();
    if up == "L" {
        return Ok(WeekdayItem::Plain(Range { lo: 7, hi: 7, step: 1 }));
    }
    if let Some(d) = up.strip_suffix('L') {
        return Ok(WeekdayItem::Last(value(d, 1, 7, &WEEKDAYS)?));
    }
    if let Some((d, k)) = up.split_once('#') {
        let k = k.parse::<u32>().map_err(|_| format!("'{item}' names no week of the month"))?;
        if !(1..=5).contains(&k) {
            return Err(format!("'{item}' names no week of the month"));
        }
        return Ok(WeekdayItem::Nth(value(d, 1, 7, &WEEKDAYS)?, k));
    }
    Ok(WeekdayItem::Plain(range(item, 1, 7, &WEEKDAYS)?))
}

impl Window {
    /// Parses an expression; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Window, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        if !(6..=7).contains(&fields.len()) {
            return Err(format!("it has {} fields where 6 or 7 are expected", fields.len()));
        }
        if fields[0] != "*" {
            return Err("its seconds field must be *".into());
        }
        fn with_field(name: &'static str) -> impl Fn(String) -> String {
            move |e| format!("its {name} field is not valid: {e}")
        }
        let days = match fields[3] {
            "?" => None,
            f => Some(f.split(',').map(day_item).collect::<Result<_, _>>().map_err(with_field("day-of-month"))?),
        };
        let weekdays = match fields[5] {
            "?" => None,
            f => Some(f.split(',').map(weekday_item).collect::<Result<_, _>>().map_err(with_field("day-of-week"))?),
        };
        Ok(Window {
            minutes: ranges(fields[1], 0, 59, &[]).map_err(with_field("minutes"))?,
            hours: ranges(fields[2], 0, 23, &[]).map_err(with_field("hours"))?,
            days,
            months: ranges(fields[4], 1, 12, &MONTHS).map_err(with_field("month"))?,
            weekdays,
            years: match fields.get(6) {
                Some(f) => ranges(f, 1970, 2199, &[]).map_err(with_field("year"))?,
                None => vec![Range { lo: 1970, hi: 2199, step: 1 }],
            },
        })
    }

    fn date_matches(&self, d: Date) -> bool {
        let in_list = |l: &[Range], v: i64| u32::try_from(v).is_ok_and(|v| l.iter().any(|r| r.contains(v)));
        if !in_list(&self.years, d.year().into()) || !in_list(&self.months, d.month().into()) {
            return false;
        }
        let day = d.day() as u32;
        let last = d.days_in_month() as u32;
        let weekday = |day: u32| d.with().day(day as i8).build().map(|x| x.weekday()).unwrap_or(Weekday::Sunday);
        let is_workday = |w: Weekday| !matches!(w, Weekday::Saturday | Weekday::Sunday);
        // The weekday nearest `n` without leaving the month, as Quartz's `W`.
        let nearest_weekday = |n: u32| {
            let n = n.min(last);
            match weekday(n) {
                Weekday::Saturday if n == 1 => 3,
                Weekday::Saturday => n - 1,
                Weekday::Sunday if n == last => n - 2,
                Weekday::Sunday => n + 1,
                _ => n,
            }
        };
        let days_ok = self.days.as_ref().is_none_or(|items| {
            items.iter().any(|i| match *i {
                DayItem::Plain(r) => r.contains(day),
                DayItem::Last(off) => last.checked_sub(off) == Some(day),
                DayItem::NearestWeekday(n) => nearest_weekday(n) == day,
                DayItem::LastWeekday => (1..=last).rev().find(|&x| is_workday(weekday(x))) == Some(day),
            })
        });
        let wd = d.weekday().to_sunday_one_offset() as u32;
        let weekdays_ok = self.weekdays.as_ref().is_none_or(|items| {
            items.iter().any(|i| match *i {
                WeekdayItem::Plain(r) => r.contains(wd),
                WeekdayItem::Last(w) => w == wd && day + 7 > last,
                WeekdayItem::Nth(w, k) => w == wd && (day - 1) / 7 + 1 == k,
            })
        });
        days_ok && weekdays_ok
    }

    fn hour_matches(&self, h: i8) -> bool {
        self.hours.iter().any(|r| r.contains(h as u32))
    }

    fn minute_matches(&self, m: i8) -> bool {
        self.minutes.iter().any(|r| r.contains(m as u32))
    }

    /// Whether the local moment `t` is inside the window.
    fn contains_local(&self, t: DateTime) -> bool {
        self.date_matches(t.date()) && self.hour_matches(t.hour()) && self.minute_matches(t.minute())
    }

    /// Whether the instant `ms` (Unix milliseconds) is inside the window in `tz`.
    pub(crate) fn contains(&self, ms: i64, tz: &TimeZone) -> bool {
        match Timestamp::from_millisecond(ms) {
            Ok(ts) => self.contains_local(tz.to_datetime(ts)),
            Err(_) => false,
        }
    }

    /// The first instant after `ms` at which the window is open, within about
    /// five years (`None`: the expression opens no window in that time).
    pub(crate) fn next_open(&self, ms: i64, tz: &TimeZone) -> Option<i64> {
        let ts = Timestamp::from_millisecond(ms).ok()?;
        let local = tz.to_datetime(ts);
        // The next whole minute: the window's grain.
        let mut t =
            local.date().at(local.hour(), local.minute(), 0, 0).checked_add(jiff::Span::new().minutes(1)).ok()?;
        let end = local.date().checked_add(jiff::Span::new().days(5 * 366)).ok()?;
        while t.date() < end {
            if !self.date_matches(t.date()) {
                t = t.date().tomorrow().ok()?.at(0, 0, 0, 0);
            } else if !self.hour_matches(t.hour()) {
                t = t.date().at(t.hour(), 0, 0, 0).checked_add(jiff::Span::new().hours(1)).ok()?;
            } else if !self.minute_matches(t.minute()) {
                t = t.checked_add(jiff::Span::new().minutes(1)).ok()?;
            } else {
                // A local time a clock change skips maps to the instant after the gap.
                let at = tz.to_timestamp(t).ok()?.as_millisecond();
                if at > ms {
                    return Some(at);
                }
                t = t.checked_add(jiff::Span::new().minutes(1)).ok()?;
            }
        }
        None
    }
}

/// The time zone a rule names (an IANA name; `UTC` when none is given).
pub(crate) fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        None | Some("UTC") => Ok(TimeZone::UTC),
        Some(n) => TimeZone::get(n).map_err(|_| format!("'{n}' is not a time zone this service knows")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix milliseconds of a UTC civil time.
    fn utc(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        TimeZone::UTC.to_timestamp(jiff::civil::date(y, mo, d).at(h, mi, 0, 0)).expect("valid").as_millisecond()
    }

    #[test]
    fn weekday_office_hours() {
        let w = Window::parse("* * 9-17 ? * MON-FRI *").expect("parses");
        // 2026-12-03 is a Thursday; 2026-12-05 a Saturday.
        assert!(w.contains(utc(2026, 12, 3, 9, 0), &TimeZone::UTC));
        assert!(w.contains(utc(2026, 12, 3, 17, 59), &TimeZone::UTC));
        assert!(!w.contains(utc(2026, 12, 3, 18, 0), &TimeZone::UTC));
        assert!(!w.contains(utc(2026, 12, 5, 12, 0), &TimeZone::UTC));
        assert_eq!(w.next_open(utc(2026, 12, 5, 12, 0), &TimeZone::UTC), Some(utc(2026, 12, 7, 9, 0)));
        assert_eq!(w.next_open(utc(2026, 12, 3, 20, 30), &TimeZone::UTC), Some(utc(2026, 12, 4, 9, 0)));
    }

    #[test]
    fn time_zones_shift_the_window() {
        let w = Window::parse("* * 9 ? * * *").expect("parses");
        let tokyo = time_zone(Some("Asia/Tokyo")).expect("known zone");
        assert!(w.contains(utc(2026, 12, 3, 0, 30), &tokyo), "09:30 in Tokyo");
        assert!(!w.contains(utc(2026, 12, 3, 9, 30), &tokyo));
        assert!(time_zone(Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn last_nearest_and_nth_days() {
        let l = Window::parse("* * * L * ? *").expect("parses");
        assert!(l.contains(utc(2027, 2, 28, 1, 0), &TimeZone::UTC));
        assert!(!l.contains(utc(2028, 2, 28, 1, 0), &TimeZone::UTC), "2028 is a leap year");
        let l3 = Window::parse("* * * L-3 * ?").expect("parses");
        assert!(l3.contains(utc(2026, 12, 28, 1, 0), &TimeZone::UTC));
        // 2026-11-01 is a Sunday: 1W is Monday the 2nd.
        let w1 = Window::parse("* * * 1W * ?").expect("parses");
        assert!(w1.contains(utc(2026, 11, 2, 1, 0), &TimeZone::UTC));
        assert!(!w1.contains(utc(2026, 11, 1, 1, 0), &TimeZone::UTC));
        // The third Friday of December 2026 is the 18th; the last Friday the 25th.
        let third = Window::parse("* * * ? * 6#3").expect("parses");
        assert!(third.contains(utc(2026, 12, 18, 1, 0), &TimeZone::UTC));
        assert!(!third.contains(utc(2026, 12, 11, 1, 0), &TimeZone::UTC));
        let last_fri = Window::parse("* * * ? DEC FRIL").expect("parses");
        assert!(last_fri.contains(utc(2026, 12, 25, 1, 0), &TimeZone::UTC));
        assert!(!last_fri.contains(utc(2026, 12, 18, 1, 0), &TimeZone::UTC));
    }

    #[test]
    fn steps_lists_and_years() {
        let w = Window::parse("* 0/15,7 * * * ? 2027").expect("parses");
        assert!(w.contains(utc(2027, 1, 1, 0, 45), &TimeZone::UTC));
        assert!(w.contains(utc(2027, 1, 1, 0, 7), &TimeZone::UTC));
        assert!(!w.contains(utc(2027, 1, 1, 0, 8), &TimeZone::UTC));
        assert!(!w.contains(utc(2026, 1, 1, 0, 45), &TimeZone::UTC));
        assert_eq!(w.next_open(utc(2026, 6, 1, 0, 0), &TimeZone::UTC), Some(utc(2027, 1, 1, 0, 0)));
        let never = Window::parse("* * * 30 FEB ?").expect("parses");
        assert_eq!(never.next_open(utc(2026, 1, 1, 0, 0), &TimeZone::UTC), None);
    }

    #[test]
    fn bad_expressions_say_why() {
        for (text, why) in [
            ("* * * * *", "fields"),
            ("0 * * ? * *", "seconds"),
            ("* 60 * ? * *", "minutes"),
            ("* * 5-2 ? * *", "hours"),
            ("* * * ? FOO *", "month"),
            ("* * * ? * 2#6", "day-of-week"),
            ("* * * ? * * 1969", "year"),
            ("* */0 * ? * *", "minutes"),
        ] {
            let e = Window::parse(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
