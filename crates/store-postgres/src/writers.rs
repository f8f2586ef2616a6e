//! The threads behind [`Store::write_then`](cpjobs_core::Store::write_then):
//! a queue of writes and as many threads as the pool has connections, each
//! running one queued write at a time as [`Store::write`] would and handing
//! its outcome to the write's callback. Submitting only queues, so the
//! server's async threads never wait for the database.
//!
//! Invariant: every queued write is answered exactly once, also when it
//! panics and when the store is dropped with writes still queued (the
//! threads drain the queue before they end). The threads are not joined:
//! the store's last owner may be a callback running on one of them.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use cpjobs_core::StoreError;
use cpjobs_core::store::{WriteDone, WriteFn};

use crate::pool::{Pool, lock};

/// One queued write, ready to run on a writer thread.
type Job = Box<dyn FnOnce(&Pool) + Send>;

/// The queue's sending end.
pub(crate) struct Writers {
    queue: Sender<Job>,
    pool: Arc<Pool>,
}

impl Writers {
    /// Starts `threads` writer threads on `pool`.
    pub(crate) fn start(pool: Arc<Pool>, threads: usize) -> Result<Writers, StoreError> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let (pool, rx) = (Arc::clone(&pool), Arc::clone(&rx));
            std::thread::Builder::new()
                .name(format!("cpjobs-pg-writer-{i}"))
                .spawn(move || work(&pool, &rx))
                .map_err(|e| StoreError::Backend(format!("cannot start a PostgreSQL writer thread: {e}")))?;
        }
        Ok(Writers { queue: tx, pool })
    }

    /// Queues `f`; `done` gets its outcome on a writer thread.
    pub(crate) fn submit<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let job: Job = Box::new(move |pool: &Pool| {
            let mut f = f;
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| crate::run(pool, true, &mut *f)));
            done(r.unwrap_or_else(|_| Err(StoreError::Backend("a queued write panicked".into()).into())));
        });
        if let Err(unsent) = self.queue.send(job) {
            // Every writer thread ended (none can while the store lives, but
            // a write must be answered whatever happened).
            tracing::error!("the PostgreSQL writer threads are gone; running a queued write on the caller's thread");
            (unsent.0)(&self.pool);
        }
    }
}

/// A writer thread: runs queued writes until the queue is closed and empty.
fn work(pool: &Pool, queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match lock(queue).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        job(pool);
    }
}
