//! The last hour of the service's own figures, a minute at a time, for the
//! console's charts: per account, the job results its workers reported and
//! the polls it made (how many, how long they took to answer), and per queue
//! the queue depth sampled once a minute.
//!
//! Bounded twice: [`MINUTES`] minutes are kept (older ones are dropped as
//! time moves on), and each minute holds at most [`MAX_KEYS`] accounts and
//! as many queues (accounts are the configured ones, and only requests whose
//! signature was verified are counted, so the cap is a second fence).
//! In memory, per node: a restart starts an empty hour.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cpjobs_core::Operation;

/// How many minutes are kept.
pub const MINUTES: usize = 60;
/// The most accounts, and the most queues, one minute holds.
pub const MAX_KEYS: usize = 1000;

/// One account's figures in one minute.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AccountMinute {
    /// Job success results accepted (`PutJobSuccessResult`, `PutThirdPartyJobSuccessResult`).
    pub succeeded: u64,
    /// Job failure results accepted (`PutJobFailureResult`, `PutThirdPartyJobFailureResult`).
    pub failed: u64,
    /// Polls answered without an error.
    pub polls: u64,
    /// Their answer times added up, in seconds.
    pub poll_seconds: f64,
    /// The longest of them, in seconds.
    pub poll_max: f64,
}

impl AccountMinute {
    /// The mean time to answer a poll in this minute, if any poll was made.
    pub fn poll_mean(&self) -> Option<f64> {
        (self.polls > 0).then(|| self.poll_seconds / self.polls as f64)
    }
}

#[derive(Debug, Default)]
struct Minute {
    /// Minutes since the epoch.
    at: i64,
    accounts: HashMap<String, AccountMinute>,
    /// Queue key -> depth, as sampled in this minute (the latest sample;
    /// `None`: no sample yet, where an empty map is a sample of empty queues).
    depths: Option<HashMap<String, u64>>,
}

/// The ring of minutes (see the module's documentation).
#[derive(Debug, Default)]
pub struct History {
    minutes: Mutex<VecDeque<Minute>>,
}

/// Minutes since the epoch of `t`.
pub fn minute_of(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| (d.as_secs() / 60) as i64)
}

impl History {
    /// The minute `now` falls in, made (and the ring trimmed) if new.
    /// `None` for a time before the newest minute kept by more than the
    /// ring's span (a clock set back far): nothing is recorded then.
    fn with_minute<T>(&self, now: SystemTime, f: impl FnOnce(&mut Minute) -> T) -> Option<T> {
        let at = minute_of(now);
        let mut ring = self.minutes.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.back().is_none_or(|m| m.at < at) {
            ring.push_back(Minute { at, ..Minute::default() });
        }
        while ring.front().is_some_and(|m| m.at <= at - MINUTES as i64) || ring.len() > MINUTES {
            ring.pop_front();
        }
        ring.iter_mut().rev().find(|m| m.at == at).map(f)
    }

    /// Records one answered API request of `account` (its signature was
    /// verified): job results and polls count, other operations do not.
    pub fn record(&self, operation: Operation, ok: bool, account: &str, elapsed: Duration, now: SystemTime) {
        if !ok {
            return;
        }
        let kind = match operation {
            Operation::PutJobSuccessResult | Operation::PutThirdPartyJobSuccessResult => Kind::Succeeded,
            Operation::PutJobFailureResult | Operation::PutThirdPartyJobFailureResult => Kind::Failed,
            Operation::PollForJobs | Operation::PollForThirdPartyJobs => Kind::Poll,
            _ => return,
        };
        self.with_minute(now, |m| {
            if !m.accounts.contains_key(account) && m.accounts.len() >= MAX_KEYS {
                return;
            }
            let a = m.accounts.entry(account.to_owned()).or_default();
            match kind {
                Kind::Succeeded => a.succeeded += 1,
                Kind::Failed => a.failed += 1,
                Kind::Poll => {
                    let secs = elapsed.as_secs_f64();
                    a.polls += 1;
                    a.poll_seconds += secs;
                    a.poll_max = a.poll_max.max(secs);
                }
            }
        });
    }

    /// Records the depth of every queue, sampled at `now` (queues not listed hold no job).
    pub fn sample_depths(&self, depths: &[(String, u64)], now: SystemTime) {
        self.with_minute(now, |m| {
            m.depths = Some(depths.iter().take(MAX_KEYS).cloned().collect());
        });
    }

    /// `account`'s figures for each of the last [`MINUTES`] minutes up to
    /// `now`, oldest first (minutes with nothing recorded are all zero).
    pub fn account(&self, account: &str, now: SystemTime) -> Vec<(i64, AccountMinute)> {
        let ring = self.minutes.lock().unwrap_or_else(PoisonError::into_inner);
        span(now)
            .map(|at| {
                let m = ring.iter().find(|m| m.at == at);
                (at, m.and_then(|m| m.accounts.get(account)).copied().unwrap_or_default())
            })
            .collect()
    }

    /// The depth of `queues` together for each of the last [`MINUTES`]
    /// minutes up to `now`, oldest first; `None` for a minute with no sample.
    pub fn depth(&self, queues: &[String], now: SystemTime) -> Vec<(i64, Option<u64>)> {
        let ring = self.minutes.lock().unwrap_or_else(PoisonError::into_inner);
        span(now)
            .map(|at| {
                let sample = ring.iter().find(|m| m.at == at).and_then(|m| m.depths.as_ref());
                (at, sample.map(|d| queues.iter().filter_map(|q| d.get(q)).sum()))
            })
            .collect()
    }
}

enum Kind {
    Succeeded,
    Failed,
    Poll,
}

/// The minutes of the hour up to `now`, oldest first.
fn span(now: SystemTime) -> impl Iterator<Item = i64> {
    let last = minute_of(now);
    (last - MINUTES as i64 + 1)..=last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u64, second: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 / 60 * 60 + minute * 60 + second)
    }

    #[test]
    fn counts_results_and_polls_per_account_and_minute() {
        let h = History::default();
        let ms = Duration::from_millis;
        h.record(Operation::PutJobSuccessResult, true, "a", ms(1), at(0, 1));
        h.record(Operation::PutThirdPartyJobFailureResult, true, "a", ms(1), at(0, 2));
        h.record(Operation::PutJobSuccessResult, false, "a", ms(1), at(0, 3));
        h.record(Operation::PollForJobs, true, "a", ms(10), at(1, 0));
        h.record(Operation::PollForThirdPartyJobs, true, "a", ms(30), at(1, 59));
        h.record(Operation::PollForJobs, true, "b", ms(5), at(1, 0));
        h.record(Operation::GetPipeline, true, "a", ms(5), at(1, 0));
        let a = h.account("a", at(1, 59));
        assert_eq!(a.len(), MINUTES);
        let (m0, m1) = (a[MINUTES - 2].1, a[MINUTES - 1].1);
        assert_eq!((m0.succeeded, m0.failed, m0.polls), (1, 1, 0), "refused results do not count");
        assert_eq!((m1.succeeded, m1.failed, m1.polls), (0, 0, 2), "other operations do not count");
        assert!((m1.poll_mean().expect("polls") - 0.020).abs() < 1e-9);
        assert!((m1.poll_max - 0.030).abs() < 1e-9);
        assert_eq!(h.account("b", at(1, 59))[MINUTES - 1].1.polls, 1, "accounts apart");
        // An hour later the minutes have left the ring.
        let later = h.account("a", at(61, 0));
        assert!(later.iter().all(|(_, m)| *m == AccountMinute::default()));
        assert!(h.minutes.lock().expect("ring").len() <= MINUTES);
    }

    #[test]
    fn depth_sums_the_queues_asked_for_and_tells_no_sample_from_empty() {
        let h = History::default();
        h.sample_depths(&[("q1".into(), 3), ("q2".into(), 4), ("theirs".into(), 100)], at(0, 0));
        h.sample_depths(&[], at(2, 0));
        let mine = ["q1".to_owned(), "q2".to_owned()];
        let d = h.depth(&mine, at(2, 30));
        assert_eq!(d[MINUTES - 3].1, Some(7), "only the queues asked for");
        assert_eq!(d[MINUTES - 2].1, None, "no sample that minute");
        assert_eq!(d[MINUTES - 1].1, Some(0), "a sample of empty queues");
    }

    #[test]
    fn each_minute_holds_a_bounded_number_of_accounts() {
        let h = History::default();
        for i in 0..MAX_KEYS + 5 {
            h.record(Operation::PollForJobs, true, &format!("{i}"), Duration::ZERO, at(0, 0));
        }
        assert_eq!(h.minutes.lock().expect("ring")[0].accounts.len(), MAX_KEYS);
    }
}
