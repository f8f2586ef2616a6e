//! How the console writes the API's values: timestamps (epoch seconds on the
//! wire) as UTC dates, spans as `1h 2m`, statuses as CSS classes, and which
//! links are safe to draw.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// A JSON member as text (`""` when missing or not a string).
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A wire timestamp (epoch seconds) of member `key`.
pub(crate) fn time(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Seconds since the epoch, now.
pub(crate) fn now_secs(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// `2026-12-03 12:00:05 UTC`.
pub(crate) fn date(secs: f64) -> String {
    let secs = secs.floor() as i64;
    let (y, m, d) = crate::amzdate::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", t / 3600, t / 60 % 60, t % 60)
}

/// The HTML `datetime` attribute of a timestamp (RFC 3339).
pub(crate) fn datetime_attr(secs: f64) -> String {
    date(secs).replace(" UTC", "Z").replacen(' ', "T", 1)
}

/// A span of seconds: `45s`, `3m 05s`, `2h 10m`, `3d 4h`.
pub(crate) fn span(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, s / 60 % 60),
        _ => format!("{}d {}h", s / 86_400, s / 3600 % 24),
    }
}

/// How long an execution ran: to its last update when it ended, to `now` while it runs.
pub(crate) fn run_time(summary: &Value, start_key: &str, end_key: &str, now: f64) -> Option<String> {
    let start = time(summary, start_key)?;
    let running = matches!(s(summary, "status"), "InProgress" | "Stopping");
    let end = if running { now } else { time(summary, end_key)? };
    Some(span(end - start))
}

/// The CSS class of a status: one colour per kind of outcome.
pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "Succeeded" => "ok",
        "Failed" => "failed",
        "InProgress" | "Stopping" => "running",
        "" => "none",
        _ => "stopped",
    }
}

/// `url` when it is an absolute http(s) address, so a configured template
/// can never make the console draw a `javascript:` link.
pub(crate) fn safe_link(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// A path segment, percent-encoded (pipeline and stage names allow `.`, `-`, `_`
/// and letters; anything else is encoded all the same).
pub(crate) fn seg(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_spans() {
        assert_eq!(date(1_764_763_205.9), "2025-12-03 12:00:05 UTC");
        assert_eq!(datetime_attr(1_764_763_205.0), "2025-12-03T12:00:05Z");
        assert_eq!(span(0.4), "0s");
        assert_eq!(span(59.0), "59s");
        assert_eq!(span(65.0), "1m 05s");
        assert_eq!(span(7_800.0), "2h 10m");
        assert_eq!(span(3.0 * 86_400.0 + 4.0 * 3600.0), "3d 4h");
    }

    #[test]
    fn run_time_counts_to_now_while_running() {
        let done = serde_json::json!({"status": "Succeeded", "startTime": 100.0, "lastUpdateTime": 130.0});
        assert_eq!(run_time(&done, "startTime", "lastUpdateTime", 1000.0).as_deref(), Some("30s"));
        let running = serde_json::json!({"status": "InProgress", "startTime": 100.0, "lastUpdateTime": 130.0});
        assert_eq!(run_time(&running, "startTime", "lastUpdateTime", 160.0).as_deref(), Some("1m 00s"));
    }

    #[test]
    fn only_web_links_are_drawn() {
        assert_eq!(safe_link("https://ci.example/run/1"), Some("https://ci.example/run/1"));
        assert_eq!(safe_link("HTTP://x"), Some("HTTP://x"));
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(safe_link(""), None);
        assert_eq!(seg("my pipe/x"), "my%20pipe%2Fx");
    }
}
