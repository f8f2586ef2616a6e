//! How the worker stops. The first SIGTERM or SIGINT stops polling and starts
//! the grace period (`--shutdown-grace`): commands may still finish and their
//! jobs get their results. When the grace period ends, or at a second signal,
//! every command still running is killed (its whole process group) and its
//! job is failed; the worker then exits without waiting for the service.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the worker is in stopping; shared by the poll loop and the job threads.
#[derive(Debug)]
pub struct Stop {
    grace: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Running,
    Draining { since: Instant },
    Now { since: Instant },
}

impl Stop {
    /// Not stopping yet; `grace` is how long commands may run after the first signal.
    pub fn new(grace: Duration) -> Stop {
        Stop { grace, state: Mutex::new(State::Running) }
    }

    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A signal arrived: the first one starts the grace period, the next stops at once.
    pub fn signal(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = match *s {
            State::Running => {
                tracing::info!(
                    grace_secs = self.grace.as_secs_f64(),
                    "stopping: no more polls; running commands have the grace period to finish"
                );
                State::Draining { since: Instant::now() }
            }
            State::Draining { .. } | State::Now { .. } => {
                tracing::warn!("second signal: stopping now; running commands are killed");
                State::Now { since: Instant::now() }
            }
        };
    }

    /// No more polls.
    pub fn stopping(&self) -> bool {
        !matches!(self.state(), State::Running)
    }

    /// Commands still running must be killed now (grace over, or a second signal).
    pub fn kill_now(&self) -> bool {
        match self.state() {
            State::Running => false,
            State::Draining { since } => since.elapsed() >= self.grace,
            State::Now { .. } => true,
        }
    }

    /// Since when commands have been killed, if they are.
    pub fn killing_since(&self) -> Option<Instant> {
        match self.state() {
            State::Running => None,
            State::Draining { since } => Some(since + self.grace).filter(|t| *t <= Instant::now()),
            State::Now { since } => Some(since),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_signal_drains_and_a_second_kills() {
        let stop = Stop::new(Duration::from_secs(3600));
        assert!(!stop.stopping() && !stop.kill_now());
        stop.signal();
        assert!(stop.stopping() && !stop.kill_now() && stop.killing_since().is_none());
        stop.signal();
        assert!(stop.kill_now() && stop.killing_since().is_some());

        let no_grace = Stop::new(Duration::ZERO);
        no_grace.signal();
        assert!(no_grace.kill_now());
    }
}
