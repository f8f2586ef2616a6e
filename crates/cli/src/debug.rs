//! `--debug`: a log on stderr in the shape of Python's logging as AWS CLI
//! configures it (`2026-11-29 17:54:27,123 - MainThread - botocore.endpoint - DEBUG - ...`).
//!
//! One process-wide switch, set once from the arguments; writing is a no-op
//! when it is off, so call sites need no guard.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns the log on for the rest of the process.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether `--debug` is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Writes one log record from `logger` (e.g. `awscli.clidriver`).
pub fn log(logger: &str, message: impl AsRef<str>) {
    if !enabled() {
        return;
    }
    let line = format!("{} - MainThread - {} - DEBUG - {}\n", timestamp(SystemTime::now()), logger, message.as_ref());
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in UTC.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02},{:03}", rem / 3600, rem % 3600 / 60, rem % 60, d.subsec_millis())
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamp_format() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_974_867_123);
        assert_eq!(timestamp(t), "2026-11-29 17:54:27,123");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
