//! The pollers this node has served: per queue and polling account, when it
//! last polled and how often. Kept in memory only, per node (a poll leaves
//! nothing in the store unless it claims a job, and a worker fleet polls an
//! empty queue far more often than anything is written), so a service of
//! several nodes shows on each node the pollers that node answered.
//!
//! Bounded: at most [`MAX_POLLERS`] (queue, account) pairs; a new pair
//! beyond that takes the place of the one that polled least recently. Only
//! polls the domain accepted (the caller may poll that action type) are
//! recorded, so a caller cannot fill the table with names of its choosing.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::store::Millis;

/// The most (queue, account) pairs remembered.
pub(crate) const MAX_POLLERS: usize = 4096;

/// How long one counting window lasts: polls per minute are counted per minute.
const WINDOW: Millis = 60_000;

/// What is known of one account polling one queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PollerSeen {
    /// When it last polled.
    pub(crate) last_poll: Millis,
    /// Polls in the minute up to `now`: the current window's count plus the
    /// share of the previous window's that still falls within the last 60 s
    /// (polls spread evenly across a window, the usual sliding estimate).
    pub(crate) per_minute: f64,
}

#[derive(Debug, Clone, Copy)]
struct Counts {
    last_poll: Millis,
    /// Start of the current window (a multiple of [`WINDOW`]).
    window: Millis,
    current: u64,
    previous: u64,
}

impl Counts {
    /// The counts as of `now`: windows that ended since are rolled over.
    fn at(self, now: Millis) -> Counts {
        let window = now - now.rem_euclid(WINDOW);
        if window == self.window {
            self
        } else if window == self.window + WINDOW {
            Counts { window, current: 0, previous: self.current, ..self }
        } else {
            Counts { window, current: 0, previous: 0, ..self }
        }
    }

    /// One more poll at `now`.
    fn count(&mut self, now: Millis) {
        let mut next = self.at(now);
        next.current += 1;
        next.last_poll = next.last_poll.max(now);
        *self = next;
    }

    fn seen(self, now: Millis) -> PollerSeen {
        let c = self.at(now);
        let into = (now - c.window) as f64 / WINDOW as f64;
        PollerSeen { last_poll: self.last_poll, per_minute: c.current as f64 + c.previous as f64 * (1.0 - into) }
    }
}

/// The pollers seen by this node (see the module's documentation).
#[derive(Debug, Default)]
pub(crate) struct Pollers {
    seen: Mutex<Seen>,
}

/// Queue -> account -> counts: nested, so a poll of a known pair is looked
/// up by `&str` and allocates nothing (every poll is recorded).
#[derive(Debug, Default)]
struct Seen {
    by_queue: HashMap<String, HashMap<String, Counts>>,
    /// Pairs held.
    len: usize,
}

impl Pollers {
    /// Records one accepted poll of `queue` by `account` at `now`.
    pub(crate) fn record(&self, queue: &str, account: &str, now: Millis) {
        let mut seen = self.lock();
        if let Some(c) = seen.by_queue.get_mut(queue).and_then(|q| q.get_mut(account)) {
            c.count(now);
            return;
        }
        if seen.len >= MAX_POLLERS {
            seen.forget_stalest();
        }
        let mut c = Counts { last_poll: now, window: 0, current: 0, previous: 0 };
        c.count(now);
        seen.by_queue.entry(queue.to_owned()).or_default().insert(account.to_owned(), c);
        seen.len += 1;
    }

    /// The accounts seen polling `queue`, as of `now`, by account id.
    pub(crate) fn of_queue(&self, queue: &str, now: Millis) -> Vec<(String, PollerSeen)> {
        let seen = self.lock();
        let mut out: Vec<(String, PollerSeen)> = seen
            .by_queue
            .get(queue)
            .map(|q| q.iter().map(|(a, c)| (a.clone(), c.seen(now))).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Every statement leaves the map whole: a panic cannot leave it half-written.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Seen {
    /// Makes room: forgets the pair that polled least recently (a scan,
    /// only when the table is full and a new pair comes).
    fn forget_stalest(&mut self) {
        let stalest = self
            .by_queue
            .iter()
            .flat_map(|(q, accounts)| accounts.iter().map(move |(a, c)| (c.last_poll, q, a)))
            .min()
            .map(|(_, q, a)| (q.clone(), a.clone()));
        if let Some((q, a)) = stalest
            && let Some(accounts) = self.by_queue.get_mut(&q)
        {
            accounts.remove(&a);
            self.len -= 1;
            if accounts.is_empty() {
                self.by_queue.remove(&q);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_polls_per_minute_and_forgets_old_windows() {
        let p = Pollers::default();
        for s in 0..30 {
            p.record("q", "a", 120_000 + s * 1000);
        }
        let seen = p.of_queue("q", 149_000);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].1.last_poll, 149_000);
        assert_eq!(seen[0].1.per_minute, 30.0);
        // Half way into the next minute, half the previous minute's polls still count.
        assert_eq!(p.of_queue("q", 210_000)[0].1.per_minute, 15.0);
        // Two minutes later none do; the last poll stays known.
        let later = p.of_queue("q", 400_000);
        assert_eq!(later[0].1.per_minute, 0.0);
        assert_eq!(later[0].1.last_poll, 149_000);
        assert!(p.of_queue("other", 400_000).is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_keeps_the_latest_pollers() {
        let p = Pollers::default();
        for i in 0..MAX_POLLERS as i64 + 10 {
            p.record("q", &format!("{i:012}"), 1000 + i);
        }
        let seen = p.of_queue("q", 1_000_000);
        assert_eq!(seen.len(), MAX_POLLERS);
        assert!(seen.iter().all(|(a, _)| a.as_str() >= "000000000010"), "the stalest made room");
    }
}
