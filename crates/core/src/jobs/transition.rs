//! The job transitions, listed: [`MOVES`] holds every legal change of a
//! job's status, and [`transition`] is the one way domain code writes one.
//! It checks the move against the list, captures the guard (the status and
//! nonce the job was loaded with) and writes the job only if the stored one
//! still has them, so two workers can never both own a job. A move that is
//! not listed is a bug in cpjobs, not in the request: it is logged and
//! answered `InternalFailure`, and nothing is written.
//!
//! One move is not made here: a poll's claim (`Queued -> Dispatched`) is the
//! store's [`Tx::claim_jobs`], a guarded update of its own that picks the
//! jobs and moves them in one statement; it is listed all the same, and the
//! store contract checks it.

use crate::api::ApiError;
use crate::fail::{Fail, Res};
use crate::jobs::JobStatus::{self, Created, Dispatched, Failed, InProgress, Queued, Succeeded, TimedOut};
use crate::store::{JobRow, Millis, Tx};

/// Every legal move, with who makes it.
pub(crate) const MOVES: &[(JobStatus, JobStatus)] = &[
    // AWS's first step; cpjobs creates its jobs `Queued` already.
    (Created, Queued),
    // A poll claims the job (`Tx::claim_jobs`), with a nonce and a lease.
    (Queued, Dispatched),
    // The lease ended before an acknowledge (the sweep): the nonce dies.
    (Dispatched, Queued),
    // The poller acknowledged with the current nonce.
    (Dispatched, InProgress),
    // A result.
    (InProgress, Succeeded),
    (InProgress, Failed),
    // The job timeout passed (the sweep), whatever the job was doing.
    (Created, TimedOut),
    (Queued, TimedOut),
    (Dispatched, TimedOut),
    (InProgress, TimedOut),
    // Cancelled: its execution was stopped with abandon, or its pipeline deleted.
    (Created, Failed),
    (Queued, Failed),
    (Dispatched, Failed),
];

/// Whether `from -> to` is a legal move.
pub(crate) fn is_legal(from: JobStatus, to: JobStatus) -> bool {
    MOVES.contains(&(from, to))
}

/// The status and nonce a job had when it was loaded: the stored job must
/// still have them for a move to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Guard {
    pub(crate) status: JobStatus,
    pub(crate) nonce: Option<String>,
}

/// Moves `job` (as loaded) to `to` at `now`, in memory: captures the guard,
/// sets the status and `updated`, ends any lease (no move made here goes to
/// `Dispatched`), and forgets the nonce when the job is `Queued` again. An
/// illegal move leaves `job` as it was and is refused.
pub(crate) fn prepare(job: &mut JobRow, to: JobStatus, now: Millis) -> Result<Guard, Fail> {
    // `Queued -> Dispatched` is legal, but only the store's claim makes it (with a nonce and a lease).
    if !is_legal(job.status, to) || to == Dispatched {
        tracing::error!(
            job = %job.id,
            from = job.status.as_str(),
            to = to.as_str(),
            "illegal job transition refused, nothing written (a bug in cpjobs)"
        );
        return Err(Fail::Api(ApiError::internal("The service could not complete the request; try again")));
    }
    let guard = Guard { status: job.status, nonce: job.nonce.clone() };
    job.status = to;
    job.lease_until = None;
    if to == Queued {
        job.nonce = None;
    }
    job.updated = now;
    Ok(guard)
}

/// Moves `job` to `to` at `now` and writes it (with whatever else the
/// caller changed, such as its result) if the stored job is still as it was
/// loaded: `Ok(false)` when another writer got there first.
pub(crate) fn transition(tx: &mut dyn Tx, job: &mut JobRow, to: JobStatus, now: Millis) -> Res<bool> {
    let guard = prepare(job, to, now)?;
    Ok(tx.update_job(job, guard.status, guard.nonce.as_deref())?)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::store::JsonText;

    fn job(status: JobStatus) -> JobRow {
        JobRow {
            id: "j1".into(),
            queue: "q".into(),
            account_id: "111111111111".into(),
            pipeline_name: "p".into(),
            execution_id: "e1".into(),
            action_execution_id: "a1".into(),
            client_id: None,
            status,
            nonce: Some("n1".into()),
            lease_until: Some(50),
            timeout_at: 1_000,
            created: 1,
            updated: 1,
            query_value: None,
            data: JsonText::of(&serde_json::json!({})),
            result: None,
        }
    }

    /// A log sink for one test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_illegal_move_is_refused_logged_and_leaves_the_job_as_it_was() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let mut refused = 0;
        tracing::subscriber::with_default(subscriber, || {
            for from in JobStatus::ALL {
                for to in JobStatus::ALL {
                    if is_legal(from, to) && to != Dispatched {
                        continue;
                    }
                    let mut j = job(from);
                    let before = j.clone();
                    match prepare(&mut j, to, 99) {
                        Err(Fail::Api(e)) => {
                            assert_eq!((e.status, e.code.as_str()), (500, "InternalFailure"), "{from:?} -> {to:?}")
                        }
                        other => panic!("{from:?} -> {to:?} must be refused, got {other:?}"),
                    }
                    assert_eq!(j, before, "{from:?} -> {to:?} changed the job");
                    refused += 1;
                }
            }
        });
        // 49 pairs, 13 legal, one of which (the claim) only the store makes.
        assert_eq!(refused, 49 - MOVES.len() + 1);
        let log = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        assert_eq!(log.matches("illegal job transition refused").count(), refused, "{log}");
        assert!(log.contains("from=\"Queued\"") && log.contains("to=\"Succeeded\""), "{log}");
    }

    #[test]
    fn a_legal_move_captures_the_guard_and_changes_what_the_move_means() {
        for &(from, to) in MOVES.iter().filter(|(_, to)| *to != Dispatched) {
            let mut j = job(from);
            let guard = prepare(&mut j, to, 99).expect("legal");
            assert_eq!(guard, Guard { status: from, nonce: Some("n1".into()) }, "{from:?} -> {to:?}");
            assert_eq!((j.status, j.updated, j.lease_until), (to, 99, None), "{from:?} -> {to:?}");
            let nonce = if to == Queued { None } else { Some("n1".into()) };
            assert_eq!(j.nonce, nonce, "{from:?} -> {to:?}: the nonce dies when the job is queued again");
        }
    }

    #[test]
    fn finished_jobs_never_move() {
        for from in JobStatus::ALL.into_iter().filter(|s| !s.is_unfinished()) {
            assert!(JobStatus::ALL.into_iter().all(|to| !is_legal(from, to)), "{from:?}");
        }
    }
}
