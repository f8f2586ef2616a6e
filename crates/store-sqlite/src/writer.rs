//! The writer: the one connection that writes, its batches (group commit)
//! and the three threads behind it. The writer thread runs queued writes in
//! batches, the sync thread syncs the WAL once per batch before any of its
//! writes is answered, and the checkpoint thread copies the WAL back into
//! the database file (see the crate docs for why each is where it is).
//!
//! Invariant: a write is answered `Ok` only once the `COMMIT` holding it has
//! been synced; a write that failed leaves nothing in its batch (it ran in a
//! savepoint of its own); after a failed sync nothing is answered `Ok` again.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use cpjobs_core::StoreError;
use cpjobs_core::store::{Tx, WriteDone, WriteFn};
use rusqlite::Connection;

use crate::conn::{backend, lock, run_statement};
use crate::tx::SqliteTx;

/// How often the checkpoint thread runs at most, while writes come in.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// WAL size (in frames, i.e. pages) above which a checkpoint also waits for
/// readers so the writer can start the WAL over: passive checkpoints alone
/// never finish while writes keep coming, and the WAL would grow for good.
const WAL_RESTART_FRAMES: i64 = 8_192;

/// What a WAL file is cut back to when it starts over (it keeps its largest
/// size otherwise).
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// The most writes one commit holds, so a steady stream of writers cannot
/// postpone the first one's answer for long.
const MAX_BATCH: usize = 128;

/// The single writing connection and its open batch.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) state: Mutex<Batch>,
    /// Callers of [`Writes::write`] that want the connection and do not have it yet.
    waiting: AtomicUsize,
}

/// The writer's connection and the transaction in progress.
pub(crate) struct Batch {
    pub(crate) conn: Connection,
    /// A batch transaction is open.
    open: bool,
    /// The writes in the open batch, told the commit's outcome when it ends.
    members: Vec<Member>,
    /// Where committed batches go to wait for the WAL's sync.
    syncer: Sender<Vec<Member>>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        // The last connection to close checkpoints the WAL into the database
        // file and deletes it: that checkpoint must sync like the others.
        let _ = self.conn.pragma_update(None, "synchronous", "FULL");
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("open", &self.open).field("members", &self.members.len()).finish()
    }
}

/// One write of a batch, waiting for the commit.
enum Member {
    /// A caller of [`Writes::write`], parked on its slot.
    Waiting(Arc<Slot>),
    /// A write queued with [`Writes::write_then`], whose callback answers it.
    Queued(Box<dyn Queued>),
}

/// A write queued for the writer thread, with its callback; type-erased so
/// writes of any result type share one queue.
trait Queued: Send {
    /// Runs the write in the open transaction (inside its savepoint) and
    /// keeps its result; `true` if it succeeded, so its changes stay.
    fn run(&mut self, tx: &mut dyn Tx) -> bool;
    /// Hands the kept result to the callback: as it is when `commit` is
    /// `Ok` (or the write had failed), as a backend error otherwise.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

/// A [`Queued`] write and what it produced.
struct Pending<T, E> {
    f: WriteFn<T, E>,
    done: Option<WriteDone<T, E>>,
    result: Option<Result<T, E>>,
}

impl<T: Send + 'static, E: From<StoreError> + Send + 'static> Queued for Pending<T, E> {
    fn run(&mut self, tx: &mut dyn Tx) -> bool {
        // The writer thread serves every caller: a panicking write fails alone.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.f)(tx)))
            .unwrap_or_else(|_| Err(StoreError::Backend("the write panicked".into()).into()));
        let ok = r.is_ok();
        self.result = Some(r);
        ok
    }

    fn finish(mut self: Box<Self>, commit: Result<(), String>) {
        let r = match (self.result.take(), commit) {
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(m)) => Err(StoreError::Backend(format!("commit failed: {m}")).into()),
            (Some(Err(e)), _) => Err(e),
            (None, Err(m)) => Err(StoreError::Backend(m).into()),
            (None, Ok(())) => Err(StoreError::Backend("the write never ran".into()).into()),
        };
        if let Some(done) = self.done.take() {
            done(r);
        }
    }
}

/// Where one write of a batch learns the outcome of the batch's commit. Each
/// writer waits on its own slot, so the writers of a committed batch wake
/// without queueing for the batch lock behind the next batch's writers.
#[derive(Debug, Default)]
struct Slot {
    outcome: Mutex<Option<Result<(), String>>>,
    filled: Condvar,
}

impl Slot {
    fn fill(&self, outcome: Result<(), String>) {
        *lock(&self.outcome) = Some(outcome);
        self.filled.notify_one();
    }

    fn wait(&self) -> Result<(), String> {
        let mut g = lock(&self.outcome);
        loop {
            if let Some(outcome) = g.take() {
                return outcome;
            }
            g = self.filled.wait(g).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Batch {
    /// Opens the batch transaction if none is open.
    fn begin(&mut self) -> Result<(), StoreError> {
        if !self.open {
            run_statement(&self.conn, "BEGIN IMMEDIATE")?;
            self.open = true;
        }
        Ok(())
    }

    /// Ends the open batch: commits it (rolls back when it holds no write)
    /// and tells every member the outcome.
    fn finish(&mut self) {
        if !self.open {
            return;
        }
        let sql = if self.members.is_empty() { "ROLLBACK" } else { "COMMIT" };
        let outcome = run_statement(&self.conn, sql).map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        self.open = false;
        let members = std::mem::take(&mut self.members);
        match outcome {
            // Answered once the sync thread has synced the WAL.
            Ok(()) if !members.is_empty() => {
                if let Err(std::sync::mpsc::SendError(members)) = self.syncer.send(members) {
                    settle(members, Err("the sync thread has stopped".into()));
                }
            }
            outcome => settle(members, outcome),
        }
    }

    /// Opens one write's savepoint in the batch (opening the batch if none is).
    fn open_savepoint(&mut self) -> Result<(), StoreError> {
        self.begin()?;
        run_statement(&self.conn, "SAVEPOINT write")
    }

    /// Ends one write's savepoint: keeps its changes in the batch when `ok`
    /// and they can be released (`Ok(true)`); otherwise undoes this write
    /// only, since the batch may hold other writes (`Ok(false)` when the write
    /// itself failed, `Err` when its release did).
    fn close_savepoint(&self, ok: bool) -> Result<bool, StoreError> {
        let released = if ok { run_statement(&self.conn, "RELEASE write").map(|()| true) } else { Ok(false) };
        if !matches!(released, Ok(true)) {
            let _ = self.conn.execute_batch("ROLLBACK TO write; RELEASE write");
        }
        released
    }

    /// Whether the batch should commit now: unless a caller of
    /// [`Writes::write`] is queued to join it (it will commit, or the one
    /// after it) and it still has room.
    fn commit_due(&self, writer: &Writer) -> bool {
        writer.waiting.load(Ordering::SeqCst) == 0 || self.members.len() >= MAX_BATCH
    }

    /// Runs a queued write in its own savepoint of the open batch: it joins
    /// the batch if it succeeded, and is answered at once if it failed.
    fn run_queued(&mut self, mut q: Box<dyn Queued>) {
        if let Err(e) = self.open_savepoint() {
            return q.finish(Err(e.to_string()));
        }
        let ok = q.run(&mut SqliteTx { conn: &self.conn });
        match self.close_savepoint(ok) {
            Ok(true) => self.members.push(Member::Queued(q)),
            Ok(false) => q.finish(Ok(())),
            Err(e) => q.finish(Err(e.to_string())),
        }
    }
}

/// Tells every write of a batch the outcome of its commit (and sync).
fn settle(members: Vec<Member>, outcome: Result<(), String>) {
    for m in members {
        match m {
            Member::Waiting(slot) => slot.fill(outcome.clone()),
            Member::Queued(q) => q.finish(outcome.clone()),
        }
    }
}

/// The sync thread: syncs the WAL file once for every committed batch that
/// is waiting (all of them are in the file already), then answers them, and
/// lets the checkpoint thread know the WAL grew. After a failed sync nothing
/// is answered as durable again: what the OS dropped cannot be known (a
/// later sync may well succeed without it), so writes fail until a restart
/// recovers from the file.
fn sync_thread(wal: std::path::PathBuf, committed: Receiver<Vec<Member>>, grew: std::sync::mpsc::SyncSender<()>) {
    let mut file = None;
    let mut failed: Option<String> = None;
    while let Ok(mut members) = committed.recv() {
        while let Ok(more) = committed.try_recv() {
            members.extend(more);
        }
        let outcome = match &failed {
            Some(m) => Err(m.clone()),
            None => sync_wal(&wal, &mut file).map_err(|e| {
                let m = format!("syncing {} failed: {e}; restart the service", wal.display());
                failed = Some(m.clone());
                m
            }),
        };
        settle(members, outcome);
        let _ = grew.try_send(());
    }
}

/// `fdatasync` on the WAL file (any descriptor of a file syncs all of it).
fn sync_wal(path: &Path, file: &mut Option<std::fs::File>) -> std::io::Result<()> {
    if file.is_none() {
        *file = Some(std::fs::OpenOptions::new().write(true).open(path)?);
    }
    file.as_ref().map_or(Ok(()), std::fs::File::sync_data)
}

/// The checkpoint thread: after commits (at most every [`CHECKPOINT_EVERY`]),
/// copies the WAL back into the database file without stopping the writer or
/// readers (`PASSIVE`); once the WAL passed [`WAL_RESTART_FRAMES`], waits for
/// readers too (`RESTART`), so the writer starts the WAL over. Ends with the
/// store (the sync thread's end closes its channel).
fn checkpoint_thread(conn: Connection, grew: Receiver<()>) {
    let mut mode = "PASSIVE";
    while grew.recv().is_ok() {
        let frames: rusqlite::Result<i64> = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get(1));
        // A failed checkpoint leaves the WAL as it was; the next one tries again.
        mode = if frames.is_ok_and(|f| f > WAL_RESTART_FRAMES) { "RESTART" } else { "PASSIVE" };
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// The writer thread: takes the queued writes in arrival order, runs as many
/// as are waiting (up to [`MAX_BATCH`]) in one batch, and commits it, unless
/// a caller of [`Writes::write`] is queued to join the batch (it commits).
fn writer_thread(writer: Arc<Writer>, queue: Receiver<Box<dyn Queued>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = lock(&writer.state);
        batch.run_queued(first);
        while batch.members.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(q) => batch.run_queued(q),
                Err(_) => break,
            }
        }
        if batch.commit_due(&writer) {
            batch.finish();
        }
    }
}

/// The writer, running: its connection (behind the batch lock), the writer
/// thread's queue, and the threads, which end when this is dropped.
#[derive(Debug)]
pub(crate) struct Writes {
    pub(crate) writer: Arc<Writer>,
    /// The writer thread's queue (see [`Writes::write_then`]); closed on
    /// drop, and the thread ends once the queue is empty.
    queue: Option<Sender<Box<dyn Queued>>>,
    /// The writer, sync and checkpoint threads, in the order they end.
    threads: Vec<JoinHandle<()>>,
}

impl Writes {
    /// Starts the writer on `conn` (migrated already) for the file at
    /// `path`, with `checkpointer` as the checkpoint thread's connection.
    pub(crate) fn start(path: &Path, conn: Connection, checkpointer: Connection) -> Result<Writes, StoreError> {
        // Synced by the sync thread (see the crate docs); checkpointed by the checkpoint thread.
        conn.pragma_update(None, "synchronous", "OFF").map_err(backend)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(backend)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT).map_err(backend)?;

        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| StoreError::Backend(format!("cannot start the {name} thread: {e}")))
        };
        let (grew, grown) = std::sync::mpsc::sync_channel(1);
        let checkpoints = spawn("cpjobs-sqlite-checkpoint", Box::new(move || checkpoint_thread(checkpointer, grown)))?;
        let (syncer, committed) = std::sync::mpsc::channel();
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::path::PathBuf::from(wal);
        let syncs = spawn("cpjobs-sqlite-sync", Box::new(move || sync_thread(wal, committed, grew)))?;
        let writer = Arc::new(Writer {
            state: Mutex::new(Batch { conn, open: false, members: Vec::new(), syncer }),
            waiting: AtomicUsize::new(0),
        });
        let (queue, queued) = std::sync::mpsc::channel();
        let thread_writer = Arc::clone(&writer);
        let writes = spawn("cpjobs-sqlite-writer", Box::new(move || writer_thread(thread_writer, queued)))?;
        Ok(Writes { writer, queue: Some(queue), threads: vec![writes, syncs, checkpoints] })
    }

    /// Runs `f` as one write of a group-committed batch (see the crate docs).
    pub(crate) fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        let w = &self.writer;
        w.waiting.fetch_add(1, Ordering::SeqCst);
        let mut batch = lock(&w.state);
        w.waiting.fetch_sub(1, Ordering::SeqCst);
        let r = match batch.open_savepoint() {
            Ok(()) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut SqliteTx { conn: &batch.conn }))),
            Err(e) => Ok(Err(e.into())),
        };
        let r = match r {
            Ok(Ok(v)) => match batch.close_savepoint(true) {
                Ok(_) => {
                    let slot = Arc::new(Slot::default());
                    batch.members.push(Member::Waiting(Arc::clone(&slot)));
                    Ok(Ok((v, slot)))
                }
                Err(e) => Ok(Err(e.into())),
            },
            other => {
                let _ = batch.close_savepoint(false);
                other.map(|r| r.map(|v| (v, Arc::new(Slot::default()))))
            }
        };
        if batch.commit_due(w) {
            batch.finish();
        }
        let (v, slot) = match r {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(e),
            Err(panic) => {
                drop(batch);
                std::panic::resume_unwind(panic)
            }
        };
        drop(batch);
        match slot.wait() {
            Ok(()) => Ok(v),
            Err(m) => Err(StoreError::Backend(format!("commit failed: {m}")).into()),
        }
    }

    /// Queues `f` for the writer thread; `done` gets its result once the
    /// batch holding it is committed and synced (see the crate docs).
    pub(crate) fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pending: Box<dyn Queued> = Box::new(Pending { f, done: Some(done), result: None });
        let refused = match &self.queue {
            Some(queue) => queue.send(pending).err().map(|std::sync::mpsc::SendError(p)| p),
            None => Some(pending),
        };
        if let Some(p) = refused {
            // Only when the writer thread is gone (it does not end while the store lives).
            p.finish(Err("the writer thread has stopped".into()));
        }
    }
}

impl Drop for Writes {
    /// Ends the threads in order, each after the work handed to it: the
    /// writer once its queue is empty, the sync thread once every batch is
    /// synced and answered, the checkpoint thread last. Their connections are
    /// closed before the store's own, so the last connection to close
    /// checkpoints what is left and removes the WAL: a stopped service leaves
    /// one database file.
    ///
    /// The store's last owner may be a write's callback, on the writer or
    /// the sync thread (which may hold the batch lock): then nothing is
    /// waited for, and the threads end on their own once the queue is closed.
    fn drop(&mut self) {
        drop(self.queue.take());
        let threads = std::mem::take(&mut self.threads);
        let here = std::thread::current().id();
        if threads.iter().any(|t| t.thread().id() == here) {
            return;
        }
        let mut threads = threads.into_iter();
        if let Some(writes) = threads.next() {
            let _ = writes.join();
        }
        // No batch can come any more: closing the channel lets the sync thread end.
        lock(&self.writer.state).syncer = std::sync::mpsc::channel().0;
        for t in threads {
            let _ = t.join();
        }
    }
}
