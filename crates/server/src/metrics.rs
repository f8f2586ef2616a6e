//! Prometheus text exposition (format 0.0.4) of the service's own request
//! counters and latencies, plus the gauges the domain reports through
//! [`StatsSource`] (jobs by status, queue depth per action type).
//!
//! Label values come only from the model's operation names, the extension
//! operations the domain knows, AWS error codes and the domain's own names
//! (`unknown` for any operation the service does not have), so a client
//! cannot grow the label set at will; as a second fence, at most
//! [`MAX_SERIES`] operation/code pairs are kept, later ones are counted
//! under `operation="unknown",code="Other"`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The most operation/code pairs counted apart (the model has some 45
/// operations and a few codes each in practice).
pub const MAX_SERIES: usize = 1000;

/// What the domain reports for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainStats {
    /// `(action type, job status, count)`, e.g. `("ThirdParty/Build/AcmeCI/1", "Queued", 3)`.
    pub jobs_by_status: Vec<(String, String, u64)>,
    /// `(action type, queued jobs waiting for a poller)`.
    pub queue_depth: Vec<(String, u64)>,
}

impl DomainStats {
    /// The same gauges without account ids, for readers who did not present
    /// the metrics token: every label segment (between `/`) that is a 12-digit
    /// account id is left out, and the series that then coincide are added up.
    pub fn without_account_ids(&self) -> DomainStats {
        fn strip(label: &str) -> String {
            let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
            label.split('/').filter(|s| !is_account(s)).collect::<Vec<_>>().join("/")
        }
        let mut jobs: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (t, status, n) in &self.jobs_by_status {
            *jobs.entry((strip(t), status.clone())).or_default() += n;
        }
        let mut depth: BTreeMap<String, u64> = BTreeMap::new();
        for (t, n) in &self.queue_depth {
            *depth.entry(strip(t)).or_default() += n;
        }
        DomainStats {
            jobs_by_status: jobs.into_iter().map(|((t, s), n)| (t, s, n)).collect(),
            queue_depth: depth.into_iter().collect(),
        }
    }
}

/// The domain's side of `/metrics`; called on a blocking thread at each scrape.
pub trait StatsSource: Send + Sync + 'static {
    /// Current job counts at `now`.
    fn stats(&self, now: SystemTime) -> DomainStats;
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counters and latency histograms.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts by operation, then code: looked up without allocating.
    requests: BTreeMap<String, BTreeMap<String, u64>>,
    latency: BTreeMap<String, Histogram>,
    /// Operation/code pairs in `requests`.
    series: usize,
}

/// Escapes a label value per the text format.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Records one answered request: its operation, its outcome (`OK` or the error code), its latency.
    pub fn record(&self, operation: &str, code: &str, elapsed: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let known = inner.requests.get(operation).is_some_and(|codes| codes.contains_key(code));
        let (operation, code) = if known || inner.series < MAX_SERIES {
            (operation, code)
        } else {
            (crate::protocol::UNKNOWN_OPERATION, "Other")
        };
        if !inner.requests.get(operation).is_some_and(|codes| codes.contains_key(code)) {
            inner.series += 1;
        }
        match inner.requests.get_mut(operation) {
            Some(codes) => match codes.get_mut(code) {
                Some(n) => *n += 1,
                None => {
                    codes.insert(code.to_owned(), 1);
                }
            },
            None => {
                inner.requests.insert(operation.to_owned(), BTreeMap::from([(code.to_owned(), 1)]));
            }
        }
        if !inner.latency.contains_key(operation) {
            inner.latency.insert(operation.to_owned(), Histogram::default());
        }
        let Some(h) = inner.latency.get_mut(operation) else { return };
        let secs = elapsed.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The whole exposition: own metrics, then the domain's.
    pub fn render(&self, domain: Option<&DomainStats>) -> String {
        let mut out = String::new();
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP cpjobs_requests_total API requests answered, by operation and outcome.\n");
        out.push_str("# TYPE cpjobs_requests_total counter\n");
        for (op, codes) in &inner.requests {
            for (code, n) in codes {
                let _ = writeln!(
                    out,
                    "cpjobs_requests_total{{operation=\"{}\",code=\"{}\"}} {n}",
                    escape(op),
                    escape(code)
                );
            }
        }
        out.push_str("# HELP cpjobs_request_duration_seconds Time to answer an API request, by operation.\n");
        out.push_str("# TYPE cpjobs_request_duration_seconds histogram\n");
        for (op, h) in &inner.latency {
            let op = escape(op);
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "cpjobs_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ =
                writeln!(out, "cpjobs_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "cpjobs_request_duration_seconds_sum{{operation=\"{op}\"}} {}", h.sum);
            let _ = writeln!(out, "cpjobs_request_duration_seconds_count{{operation=\"{op}\"}} {}", h.count);
        }
        drop(inner);
        if let Some(d) = domain {
            out.push_str("# HELP cpjobs_jobs Jobs by action type and status.\n# TYPE cpjobs_jobs gauge\n");
            for (t, status, n) in &d.jobs_by_status {
                let _ = writeln!(out, "cpjobs_jobs{{action_type=\"{}\",status=\"{}\"}} {n}", escape(t), escape(status));
            }
            out.push_str("# HELP cpjobs_queue_depth Queued jobs waiting for a poller, by action type.\n");
            out.push_str("# TYPE cpjobs_queue_depth gauge\n");
            for (t, n) in &d.queue_depth {
                let _ = writeln!(out, "cpjobs_queue_depth{{action_type=\"{}\"}} {n}", escape(t));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_histograms_and_domain_gauges() {
        let m = Metrics::default();
        m.record("PollForJobs", "OK", Duration::from_millis(3));
        m.record("PollForJobs", "OK", Duration::from_millis(30));
        m.record("PollForJobs", "ValidationException", Duration::from_millis(1));
        let stats = DomainStats {
            jobs_by_status: vec![("Custom/Build/X/1".into(), "Queued".into(), 2)],
            queue_depth: vec![("Custom/Build/X/1".into(), 2)],
        };
        let text = m.render(Some(&stats));
        assert!(text.contains("cpjobs_requests_total{operation=\"PollForJobs\",code=\"OK\"} 2\n"), "{text}");
        assert!(text.contains("cpjobs_requests_total{operation=\"PollForJobs\",code=\"ValidationException\"} 1\n"));
        assert!(text.contains("cpjobs_request_duration_seconds_bucket{operation=\"PollForJobs\",le=\"0.005\"} 2\n"));
        assert!(text.contains("cpjobs_request_duration_seconds_bucket{operation=\"PollForJobs\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("cpjobs_request_duration_seconds_count{operation=\"PollForJobs\"} 3\n"));
        assert!(text.contains("cpjobs_jobs{action_type=\"Custom/Build/X/1\",status=\"Queued\"} 2\n"));
        assert!(text.contains("cpjobs_queue_depth{action_type=\"Custom/Build/X/1\"} 2\n"));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn series_beyond_the_cap_are_counted_together() {
        let m = Metrics::default();
        for i in 0..MAX_SERIES + 50 {
            m.record("PollForJobs", &format!("Code{i}"), Duration::from_millis(1));
        }
        m.record("PollForJobs", "Code0", Duration::from_millis(1));
        let text = m.render(None);
        let counters = text.lines().filter(|l| l.starts_with("cpjobs_requests_total{")).count();
        assert_eq!(counters, MAX_SERIES + 1, "the cap and the one overflow series");
        assert!(text.contains("cpjobs_requests_total{operation=\"unknown\",code=\"Other\"} 50\n"), "{text}");
        assert!(text.contains("cpjobs_requests_total{operation=\"PollForJobs\",code=\"Code0\"} 2\n"));
    }

    #[test]
    fn anonymous_gauges_carry_no_account_ids() {
        let d = DomainStats {
            jobs_by_status: vec![("all".into(), "Queued".into(), 3)],
            queue_depth: vec![
                ("Custom/111111111111/Build/X/1".into(), 2),
                ("Custom/222222222222/Build/X/1".into(), 5),
                ("ThirdParty/Build/AcmeCI/1".into(), 1),
            ],
        };
        let a = d.without_account_ids();
        assert_eq!(a.queue_depth, [("Custom/Build/X/1".to_owned(), 7), ("ThirdParty/Build/AcmeCI/1".to_owned(), 1)]);
        assert_eq!(a.jobs_by_status, d.jobs_by_status);
    }
}
