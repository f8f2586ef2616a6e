//! The embedded store: SQLite in one file, implementing [`cpjobs_core::Store`].
//!
//! Durability: WAL journal; `write` answers only once the WAL holding its
//! transaction is synced to disk. The writer commits without syncing
//! (`synchronous=OFF`) and hands the batch to the store's sync thread, which
//! runs `fdatasync` on the WAL file and only then answers the batch's
//! writes; meanwhile the writer runs the next batch, so the disk's sync
//! time overlaps the next batch's work instead of stalling every write
//! (a commit and its sync took ~3 ms under load, four times the batch's
//! work). The WAL is written in order, so a sync covers every earlier
//! commit: a write answered is durable together with everything it read.
//! Readers use their own connections and see the last committed snapshot,
//! which may include a commit whose sync is still running: a process crash
//! cannot lose it (it is in the OS's page cache), a power cut within that
//! millisecond can, and no write that saw it has been answered yet.
//!
//! Checkpoints (copying the WAL back into the database file) run on a
//! connection of their own, with `synchronous=FULL` (the WAL is synced
//! before it is copied, the database file after), on the checkpoint thread,
//! not inside the writer's commits.
//!
//! Group commit: writes share one connection. Each write runs in a
//! `SAVEPOINT` of the open batch transaction, and answers only once the
//! `COMMIT` that holds it is synced, so one fsync serves the whole batch. A
//! write that fails rolls back to its savepoint, so it leaves nothing in the
//! batch. If the `COMMIT` fails, every write of the batch gets the error.
//!
//! Writes reach the connection two ways. [`Store::write`] runs the caller's
//! closure on the caller's thread under the batch lock; the caller that finds
//! nobody queued behind it (or a full batch) commits. [`Store::write_then`]
//! (the server's job operations) queues the closure for the store's writer
//! thread, which drains its queue into one batch and commits it: under load a
//! stream of writes runs back to back on one thread, with no lock handed from
//! thread to thread and no thread parked per write.
//!
//! ```
//! use std::time::SystemTime;
//! use cpjobs_core::{Api, Caller, Service, ServiceConfig};
//! use cpjobs_store_sqlite::SqliteStore;
//!
//! let dir = std::env::temp_dir().join(format!("cpjobs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = SqliteStore::open(dir.join("cpjobs.sqlite")).unwrap();
//! let service = Service::new(&ServiceConfig::default(), store).unwrap();
//! let caller = Caller { account_id: "111111111111".into(), access_key_id: "AKIDEXAMPLE".into() };
//! let out = service.call(&caller, "ListPipelines", serde_json::json!({}), SystemTime::now()).unwrap();
//! assert_eq!(out, serde_json::json!({"pipelines": []}));
//! service.tick(SystemTime::now()).unwrap(); // what the server runs every few seconds
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Schema changes are numbered in `schema_version`; [`MIGRATIONS`] applies the
//! missing ones in order. The queue index leads with what a claim filters on
//! (queue, status, created); `ANALYZE` is never run, because the bundled
//! SQLite's STAT4 would re-plan every claim. Version 2 writes the partial
//! indexes' predicate with `OR` (see `unfinished!`). Version 3 keeps every
//! declaration version of a pipeline in `pipeline_versions` (a file of
//! version 2 gets its pipelines' current versions; the older ones were never
//! kept): `insert_pipeline` and `update_pipeline` write it with the pipeline,
//! `delete_pipeline` empties it with the pipeline. Version 4 adds `tags`
//! (one row per resource and tag key; the resource key is the domain's),
//! and moves there the tags a file of version 3 kept in its live custom
//! action types' bodies (what `CreateCustomActionType` was given; reserved
//! `aws:` keys are left out, a repeated key keeps its last value).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use cpjobs_core::store::{
    ClientRow, Doc, ExecutionRow, JobRow, JsonText, Millis, PipelineRow, StoreResult, Tag, Tx, WriteDone, WriteFn,
};
use cpjobs_core::{JobStatus, Store, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

/// Schema migrations; index `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE action_types (
    key        TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    owner      TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE pipelines (
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    declaration TEXT NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE executions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    account_id    TEXT NOT NULL,
    pipeline_name TEXT NOT NULL,
    status        TEXT NOT NULL,
    started       INTEGER NOT NULL,
    updated       INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    wake_at       INTEGER,
    stage         TEXT,
    waiting_for   TEXT,
    doc           TEXT NOT NULL
);
CREATE INDEX executions_in_stage ON executions (account_id, pipeline_name, stage) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_waiting ON executions (account_id, pipeline_name, waiting_for) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_due ON executions (wake_at) WHERE status IN ('InProgress', 'Stopping');
CREATE INDEX executions_by_pipeline ON executions (account_id, pipeline_name, started DESC, seq DESC);
CREATE TABLE jobs (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    queue               TEXT NOT NULL,
    account_id          TEXT NOT NULL,
    pipeline_name       TEXT NOT NULL,
    execution_id        TEXT NOT NULL,
    action_execution_id TEXT NOT NULL,
    client_id           TEXT,
    status              TEXT NOT NULL,
    nonce               TEXT,
    lease_until         INTEGER,
    timeout_at          INTEGER NOT NULL,
    created             INTEGER NOT NULL,
    updated             INTEGER NOT NULL,
    query_value         TEXT,
    data                TEXT NOT NULL,
    result              TEXT
);
CREATE INDEX jobs_queue ON jobs (queue, status, created, seq);
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE status = 'Dispatched';
CREATE INDEX jobs_timeouts ON jobs (timeout_at) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE INDEX jobs_by_execution ON jobs (execution_id) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE INDEX jobs_by_pipeline ON jobs (account_id, pipeline_name) WHERE status IN ('Created', 'Queued', 'Dispatched', 'InProgress');
CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    client_token  TEXT NOT NULL,
    owner_account TEXT NOT NULL,
    queue         TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    pipeline_name TEXT NOT NULL,
    stage_name    TEXT NOT NULL,
    action_name   TEXT NOT NULL,
    created       INTEGER NOT NULL
);
CREATE INDEX clients_by_pipeline ON clients (account_id, pipeline_name);
CREATE INDEX clients_by_owner ON clients (owner_account, client_id);
"#,
    r#"
DROP INDEX jobs_timeouts;
DROP INDEX jobs_by_execution;
DROP INDEX jobs_by_pipeline;
CREATE INDEX jobs_timeouts ON jobs (timeout_at) WHERE (status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress');
CREATE INDEX jobs_by_execution ON jobs (execution_id) WHERE (status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress');
CREATE INDEX jobs_by_pipeline ON jobs (account_id, pipeline_name) WHERE (status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress');
"#,
    r#"
CREATE TABLE pipeline_versions (
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    declaration TEXT NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (account_id, name, version)
);
INSERT INTO pipeline_versions (account_id, name, version, declaration, created)
    SELECT account_id, name, version, declaration, updated FROM pipelines;
"#,
    r#"
CREATE TABLE tags (
    resource TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (resource, key)
) WITHOUT ROWID;
INSERT OR REPLACE INTO tags (resource, key, value)
    SELECT 'actiontype/' || a.key, json_extract(t.value, '$.key'), json_extract(t.value, '$.value')
    FROM action_types a, json_each(a.body, '$.tags') t
    WHERE a.owner = 'Custom' AND json_extract(a.body, '$.deleted') = 0
      AND json_type(t.value, '$.key') = 'text' AND json_type(t.value, '$.value') = 'text'
      AND lower(substr(json_extract(t.value, '$.key'), 1, 4)) <> 'aws:';
"#,
];

/// The predicate of the partial indexes of unfinished jobs (schema version 2),
/// which queries must repeat word for word for SQLite to use them. Written
/// with `OR`, not `IN (...)`: SQLite evaluates an `IN` list of more than two
/// constants through a temporary b-tree, and every update of a job evaluates
/// each partial index's predicate twice (old and new row), so version 1's
/// `IN` cost every job transition six temporary b-trees (a page allocation
/// each, and a page cache to clear when each was closed).
///
/// A macro, so the queries that repeat it are `&'static str` put together by
/// `concat!`, not `format!`ted at every call.
macro_rules! unfinished {
    () => {
        "(status = 'Created' OR status = 'Queued' OR status = 'Dispatched' OR status = 'InProgress')"
    };
}

/// [`Tx::anything_due`] in one statement: each `EXISTS` repeats the query of
/// its list (and so uses the same partial index), which a test checks.
const ANYTHING_DUE: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE ",
    unfinished!(),
    " AND timeout_at <= ?1) \
     OR EXISTS (SELECT 1 FROM jobs WHERE status = 'Dispatched' AND lease_until <= ?1) \
     OR EXISTS (SELECT 1 FROM executions WHERE status IN ('InProgress', 'Stopping') AND wake_at <= ?1)"
);

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

/// How many idle reader connections the store keeps.
const MAX_IDLE_READERS: usize = 16;

/// How many prepared statements each connection keeps (the store has about 40).
const STATEMENT_CACHE: usize = 128;

/// How much of the database file a connection maps (see [`configure`]).
const MMAP_SIZE: i64 = 1 << 32;

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Arc<Writer>,
    /// The writer thread's queue (see [`Store::write_then`]); closed when
    /// the store is dropped, and the thread ends once the queue is empty.
    queue: Option<Sender<Box<dyn Queued>>>,
    /// The writer, sync and checkpoint threads, in the order they end.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Idle read-only connections; a reader takes one (or opens one) per
    /// transaction, so reads run in parallel with each other and, WAL being
    /// what it is, with the writer.
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
}

/// The single writing connection and its open batch.
#[derive(Debug)]
struct Writer {
    state: Mutex<Batch>,
    /// Callers of [`Store::write`] that want the connection and do not have it yet.
    waiting: AtomicUsize,
}

/// The writer's connection and the transaction in progress.
struct Batch {
    conn: Connection,
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
    /// A caller of [`Store::write`], parked on its slot.
    Waiting(Arc<Slot>),
    /// A write queued with [`Store::write_then`], whose callback answers it.
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
    /// [`Store::write`] is queued to join it (it will commit, or the one
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
/// a caller of [`Store::write`] is queued to join the batch (it commits).
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Closures run under catch_unwind and the batch is settled before any
    // unwinding continues, so a poisoned lock guards consistent state.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query planner stability: without it, SQLite (3.54) plans a statement
    // with `LIMIT ?` (or, with STAT4 data, any bound indexed column) for the
    // bound value and prepares it again at every new binding, ~10 us each:
    // every sweep check and claim would be parsed and planned anew.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: the WAL is synced at every commit, so an answered write survives a power cut.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Pages of the database file are read through a mapping (`mmap_size`),
    // so the page cache holds what is not in the file yet (pages written by
    // transactions, pages still in the WAL). 8 MiB of it (SQLite's default is
    // 2 MiB) covers the WAL between checkpoints. Not more: every commit
    // truncates the cache, and SQLite scans the whole hash table of a large
    // cache to do it (at 64 MiB that scan was a tenth of the writer's CPU).
    conn.pragma_update(None, "cache_size", -8192)?;
    // In WAL mode a reader also drops its whole cache whenever another
    // connection committed since its last transaction (under write load, at
    // every transaction): pages read through the mapping are not copied in
    // again afterwards.
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    // Statement journals and RETURNING's buffer stay in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// A read-only connection.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let reader = Connection::open(path).map_err(backend)?;
    configure(&reader).map_err(backend)?;
    reader.pragma_update(None, "query_only", "ON").map_err(backend)?;
    Ok(reader)
}

/// Runs one statement without results through the statement cache
/// (`execute_batch` would parse it again every time).
fn run_statement(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.raw_execute()).map(|_| ()).map_err(backend)
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", [])?;
    let current: Option<i64> = tx.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?;
    let current = current.unwrap_or(0) as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql)?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1])?;
    }
    tx.commit()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let mut writer = Connection::open(path).map_err(backend)?;
        configure(&writer).map_err(backend)?;
        migrate(&mut writer).map_err(backend)?;
        // Synced by the sync thread (see the module docs); checkpointed by the checkpoint thread.
        writer.pragma_update(None, "synchronous", "OFF").map_err(backend)?;
        writer.pragma_update(None, "wal_autocheckpoint", 0).map_err(backend)?;
        writer.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT).map_err(backend)?;
        let reader = open_reader(path)?;
        let checkpointer = Connection::open(path).map_err(backend)?;
        configure(&checkpointer).map_err(backend)?;

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
            state: Mutex::new(Batch { conn: writer, open: false, members: Vec::new(), syncer }),
            waiting: AtomicUsize::new(0),
        });
        let (queue, queued) = std::sync::mpsc::channel();
        let thread_writer = Arc::clone(&writer);
        let writes = spawn("cpjobs-sqlite-writer", Box::new(move || writer_thread(thread_writer, queued)))?;
        Ok(SqliteStore {
            writer,
            queue: Some(queue),
            threads: vec![writes, syncs, checkpoints],
            readers: Mutex::new(vec![reader]),
            path: path.to_owned(),
        })
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(c) => c,
            None => open_reader(&self.path)?,
        };
        let v = conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0)).map_err(backend);
        lock(&self.readers).push(conn);
        v
    }

    /// Runs `f` in a read transaction on an idle reader connection.
    fn run_read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(c) => c,
            None => open_reader(&self.path)?,
        };
        run_statement(&conn, "BEGIN DEFERRED")?;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut SqliteTx { conn: &conn })));
        // A read transaction has nothing to keep: end it the same way whatever happened.
        let end = run_statement(&conn, "COMMIT");
        if end.is_ok() {
            let mut idle = lock(&self.readers);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        match r {
            Ok(Ok(v)) => end.map(|()| v).map_err(Into::into),
            Ok(Err(e)) => Err(e),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Runs `f` as one write of a group-committed batch (see the module docs).
    fn run_write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
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
}

impl Drop for SqliteStore {
    /// Ends the store's threads in order, each after the work handed to it:
    /// the writer once its queue is empty, the sync thread once every batch
    /// is synced and answered, the checkpoint thread last. Their connections
    /// are closed before the store's own, so the last connection to close
    /// checkpoints what is left and removes the WAL: a stopped service
    /// leaves one database file.
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

impl Store for SqliteStore {
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.run_read(f)
    }

    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.run_write(f)
    }

    fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
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

struct SqliteTx<'c> {
    conn: &'c Connection,
}

fn json_text(v: &Value) -> String {
    serde_json::to_string(v).expect("JSON value serializes")
}

fn parse_json(s: &str) -> rusqlite::Result<Value> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn status_of(s: &str) -> rusqlite::Result<JobStatus> {
    JobStatus::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown job status {s}").into(),
        )
    })
}

/// The oldest queued jobs of a queue: must be answered from `jobs_queue`
/// alone, without a scan or a sort (tested).
const CLAIM_CANDIDATES: &str = "SELECT id FROM jobs WHERE queue = ?1 AND status = 'Queued' \
     AND (?2 IS NULL OR query_value = ?2) ORDER BY created, seq LIMIT ?3";

/// Whether a queue has a queued job: answered from `jobs_queue` alone (tested).
const ANY_QUEUED: &str =
    "SELECT 1 FROM jobs WHERE queue = ?1 AND status = 'Queued' AND (?2 IS NULL OR query_value = ?2) LIMIT 1";

/// The columns [`job_row`] reads, in its order.
macro_rules! job_columns {
    () => {
        "id, queue, account_id, pipeline_name, execution_id, action_execution_id, client_id, status, nonce, lease_until, timeout_at, created, updated, query_value, data, result"
    };
}

/// Unfinished jobs past their timeout, oldest first.
const TIMED_OUT_JOBS: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE ",
    unfinished!(),
    " AND timeout_at <= ?1 ORDER BY timeout_at LIMIT ?2"
);

fn job_row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    let result: Option<String> = r.get(15)?;
    Ok(JobRow {
        id: r.get(0)?,
        queue: r.get(1)?,
        account_id: r.get(2)?,
        pipeline_name: r.get(3)?,
        execution_id: r.get(4)?,
        action_execution_id: r.get(5)?,
        client_id: r.get(6)?,
        status: status_of(&r.get::<_, String>(7)?)?,
        nonce: r.get(8)?,
        lease_until: r.get(9)?,
        timeout_at: r.get(10)?,
        created: r.get(11)?,
        updated: r.get(12)?,
        query_value: r.get(13)?,
        data: JsonText::from_stored(r.get(14)?),
        result: result.map(JsonText::from_stored),
    })
}

macro_rules! pipeline_columns {
    () => {
        "account_id, name, version, declaration, created, updated"
    };
}

fn pipeline_row(r: &Row<'_>) -> rusqlite::Result<PipelineRow> {
    Ok(PipelineRow {
        account_id: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        declaration: parse_json(&r.get::<_, String>(3)?)?,
        created: r.get(4)?,
        updated: r.get(5)?,
    })
}

/// The columns [`execution_row`] reads, in its order.
macro_rules! execution_columns {
    () => {
        "id, account_id, pipeline_name, status, started, updated, revision, wake_at, stage, waiting_for, doc"
    };
}

fn execution_row(r: &Row<'_>) -> rusqlite::Result<ExecutionRow> {
    Ok(ExecutionRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        pipeline_name: r.get(2)?,
        status: r.get(3)?,
        started: r.get(4)?,
        updated: r.get(5)?,
        revision: r.get(6)?,
        wake_at: r.get(7)?,
        stage: r.get(8)?,
        waiting_for: r.get(9)?,
        doc: JsonText::from_stored(r.get(10)?),
    })
}

macro_rules! client_columns {
    () => {
        "client_id, client_token, owner_account, queue, account_id, pipeline_name, stage_name, action_name, created"
    };
}

fn client_row(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
    Ok(ClientRow {
        client_id: r.get(0)?,
        client_token: r.get(1)?,
        owner_account: r.get(2)?,
        queue: r.get(3)?,
        account_id: r.get(4)?,
        pipeline_name: r.get(5)?,
        stage_name: r.get(6)?,
        action_name: r.get(7)?,
        created: r.get(8)?,
    })
}

fn doc_row(r: &Row<'_>) -> rusqlite::Result<Doc> {
    Ok(Doc { revision: r.get(0)?, body: parse_json(&r.get::<_, String>(1)?)? })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteTx<'_> {
    fn query<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(backend)?;
        let rows = stmt.query_map(p, f).map_err(backend)?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(backend)
    }

    fn one<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(backend)?;
        stmt.query_row(p, f).optional().map_err(backend)
    }

    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> StoreResult<usize> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(backend)?;
        stmt.execute(p).map_err(backend)
    }

    /// Keeps `p`'s declaration (already as `declaration` text) as version
    /// `p.version`, made at `p.updated`. A version that is already kept is a
    /// backend failure: versions only grow, and a deleted pipeline's go with it.
    fn insert_pipeline_version(&self, p: &PipelineRow, declaration: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO pipeline_versions (account_id, name, version, declaration, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![p.account_id, p.name, p.version, declaration, p.updated],
        )
        .map(|_| ())
    }

    /// An insert that reports a duplicate key as `false`.
    fn insert(&self, sql: &str, p: impl rusqlite::Params) -> StoreResult<bool> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(backend)?;
        match stmt.execute(p) {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Tx for SqliteTx<'_> {
    fn get_action_type(&mut self, key: &str) -> StoreResult<Option<Doc>> {
        self.one("SELECT revision, body FROM action_types WHERE key = ?1", [key], doc_row)
    }

    fn action_type_revision(&mut self, key: &str) -> StoreResult<Option<i64>> {
        self.one("SELECT revision FROM action_types WHERE key = ?1", [key], |r| r.get(0))
    }

    fn insert_action_type(&mut self, key: &str, account_id: &str, owner: &str, body: &Value) -> StoreResult<bool> {
        self.insert(
            "INSERT INTO action_types (key, account_id, owner, revision, body) VALUES (?1, ?2, ?3, 1, ?4)",
            params![key, account_id, owner, json_text(body)],
        )
    }

    fn update_action_type(&mut self, key: &str, expected_revision: i64, body: &Value) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE action_types SET body = ?3, revision = revision + 1 WHERE key = ?1 AND revision = ?2",
            params![key, expected_revision, json_text(body)],
        )?;
        Ok(n == 1)
    }

    fn list_action_types(&mut self, account_id: &str) -> StoreResult<Vec<Doc>> {
        self.query(
            "SELECT revision, body FROM action_types WHERE owner <> 'Custom' OR account_id = ?1 ORDER BY key",
            [account_id],
            doc_row,
        )
    }

    fn insert_pipeline(&mut self, p: &PipelineRow) -> StoreResult<bool> {
        let declaration = json_text(&p.declaration);
        let inserted = self.insert(
            "INSERT INTO pipelines (account_id, name, version, declaration, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![p.account_id, p.name, p.version, declaration, p.created, p.updated],
        )?;
        if inserted {
            self.insert_pipeline_version(p, &declaration)?;
        }
        Ok(inserted)
    }

    fn get_pipeline(&mut self, account_id: &str, name: &str) -> StoreResult<Option<PipelineRow>> {
        self.one(
            concat!("SELECT ", pipeline_columns!(), " FROM pipelines WHERE account_id = ?1 AND name = ?2"),
            [account_id, name],
            pipeline_row,
        )
    }

    fn update_pipeline(&mut self, p: &PipelineRow, expected_version: i64) -> StoreResult<bool> {
        let declaration = json_text(&p.declaration);
        let n = self.exec(
            "UPDATE pipelines SET version = ?3, declaration = ?4, updated = ?5 WHERE account_id = ?1 AND name = ?2 AND version = ?6",
            params![p.account_id, p.name, p.version, declaration, p.updated, expected_version],
        )?;
        if n == 1 {
            self.insert_pipeline_version(p, &declaration)?;
        }
        Ok(n == 1)
    }

    fn get_pipeline_version(&mut self, account_id: &str, name: &str, version: i64) -> StoreResult<Option<PipelineRow>> {
        self.one(
            "SELECT v.account_id, v.name, v.version, v.declaration, p.created, v.created \
             FROM pipeline_versions v JOIN pipelines p ON p.account_id = v.account_id AND p.name = v.name \
             WHERE v.account_id = ?1 AND v.name = ?2 AND v.version = ?3",
            params![account_id, name, version],
            pipeline_row,
        )
    }

    fn delete_pipeline(&mut self, account_id: &str, name: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM executions WHERE account_id = ?1 AND pipeline_name = ?2", [account_id, name])?;
        self.exec("DELETE FROM pipeline_versions WHERE account_id = ?1 AND name = ?2", [account_id, name])?;
        Ok(self.exec("DELETE FROM pipelines WHERE account_id = ?1 AND name = ?2", [account_id, name])? == 1)
    }

    fn list_pipelines(&mut self, account_id: &str, after: Option<&str>, n: usize) -> StoreResult<Vec<PipelineRow>> {
        self.query(
            concat!(
                "SELECT ",
                pipeline_columns!(),
                " FROM pipelines WHERE account_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
            ),
            params![account_id, after.unwrap_or(""), limit(n)],
            pipeline_row,
        )
    }

    fn insert_execution(&mut self, e: &ExecutionRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO executions (",
                execution_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                e.id,
                e.account_id,
                e.pipeline_name,
                e.status,
                e.started,
                e.updated,
                e.revision,
                e.wake_at,
                e.stage,
                e.waiting_for,
                e.doc.as_str()
            ],
        )?;
        Ok(())
    }

    fn get_execution(&mut self, id: &str) -> StoreResult<Option<ExecutionRow>> {
        self.one(concat!("SELECT ", execution_columns!(), " FROM executions WHERE id = ?1"), [id], execution_row)
    }

    fn update_execution(&mut self, e: &ExecutionRow, expected_revision: i64) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE executions SET status = ?2, updated = ?3, wake_at = ?4, stage = ?5, waiting_for = ?6, doc = ?7, \
             revision = revision + 1 WHERE id = ?1 AND revision = ?8",
            params![e.id, e.status, e.updated, e.wake_at, e.stage, e.waiting_for, e.doc.as_str(), expected_revision],
        )?;
        Ok(n == 1)
    }

    fn due_executions(&mut self, now: Millis, n: usize) -> StoreResult<Vec<ExecutionRow>> {
        self.query(
            concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE status IN ('InProgress', 'Stopping') \
                 AND wake_at <= ?1 ORDER BY wake_at LIMIT ?2"
            ),
            params![now, limit(n)],
            execution_row,
        )
    }

    fn list_executions(
        &mut self,
        account_id: &str,
        pipeline: &str,
        offset: usize,
        n: usize,
    ) -> StoreResult<Vec<ExecutionRow>> {
        self.query(
            concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE account_id = ?1 AND pipeline_name = ?2 \
                 ORDER BY started DESC, seq DESC LIMIT ?3 OFFSET ?4"
            ),
            params![account_id, pipeline, limit(n), limit(offset)],
            execution_row,
        )
    }

    fn executions_at_stage(&mut self, account_id: &str, pipeline: &str, stage: &str) -> StoreResult<Vec<ExecutionRow>> {
        self.query(
            concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE account_id = ?1 AND pipeline_name = ?2 \
                 AND status IN ('InProgress', 'Stopping') AND (stage = ?3 OR waiting_for = ?3) ORDER BY started, seq"
            ),
            [account_id, pipeline, stage],
            execution_row,
        )
    }

    fn insert_job(&mut self, j: &JobRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO jobs (",
                job_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ),
            params![
                j.id,
                j.queue,
                j.account_id,
                j.pipeline_name,
                j.execution_id,
                j.action_execution_id,
                j.client_id,
                j.status.as_str(),
                j.nonce,
                j.lease_until,
                j.timeout_at,
                j.created,
                j.updated,
                j.query_value,
                j.data.as_str(),
                j.result.as_ref().map(JsonText::as_str),
            ],
        )?;
        Ok(())
    }

    fn get_job(&mut self, id: &str) -> StoreResult<Option<JobRow>> {
        self.one(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = ?1"), [id], job_row)
    }

    fn claim_jobs(
        &mut self,
        queue: &str,
        query_value: Option<&str>,
        max: usize,
        now: Millis,
        lease_until: Millis,
        nonce: &mut dyn FnMut() -> String,
    ) -> StoreResult<Vec<JobRow>> {
        // The writer holds the database (BEGIN IMMEDIATE), so the candidates
        // cannot change under us; each claim is still a guarded update.
        let ids: Vec<String> = self.query(CLAIM_CANDIDATES, params![queue, query_value, limit(max)], |r| r.get(0))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let claimed = self.one(
                concat!(
                    "UPDATE jobs SET status = 'Dispatched', nonce = ?2, lease_until = ?3, updated = ?4 \
                     WHERE id = ?1 AND status = 'Queued' RETURNING ",
                    job_columns!()
                ),
                params![id, nonce(), lease_until, now],
                job_row,
            )?;
            out.extend(claimed);
        }
        Ok(out)
    }

    fn may_have_queued(&mut self, queue: &str, query_value: Option<&str>) -> StoreResult<bool> {
        Ok(self.one(ANY_QUEUED, params![queue, query_value], |_| Ok(()))?.is_some())
    }

    fn update_job(
        &mut self,
        j: &JobRow,
        expected_status: JobStatus,
        expected_nonce: Option<&str>,
    ) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE jobs SET status = ?2, nonce = ?3, lease_until = ?4, updated = ?5, result = ?6 \
             WHERE id = ?1 AND status = ?7 AND nonce IS ?8",
            params![
                j.id,
                j.status.as_str(),
                j.nonce,
                j.lease_until,
                j.updated,
                j.result.as_ref().map(JsonText::as_str),
                expected_status.as_str(),
                expected_nonce,
            ],
        )?;
        Ok(n == 1)
    }

    fn expired_leases(&mut self, now: Millis, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE status = 'Dispatched' AND lease_until <= ?1 ORDER BY lease_until LIMIT ?2"
            ),
            params![now, limit(n)],
            job_row,
        )
    }

    fn timed_out_jobs(&mut self, now: Millis, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(TIMED_OUT_JOBS, params![now, limit(n)], job_row)
    }

    fn unfinished_jobs_of_execution(&mut self, execution_id: &str) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE execution_id = ?1 \
                 AND ",
                unfinished!(),
                " ORDER BY created, seq"
            ),
            [execution_id],
            job_row,
        )
    }

    fn unfinished_jobs_of_pipeline(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE account_id = ?1 AND pipeline_name = ?2 \
                 AND ",
                unfinished!(),
                " ORDER BY created, seq"
            ),
            [account_id, pipeline],
            job_row,
        )
    }

    fn queue_depths(&mut self) -> StoreResult<Vec<(String, u64)>> {
        self.query("SELECT queue, COUNT(*) FROM jobs WHERE status = 'Queued' GROUP BY queue ORDER BY queue", [], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })
    }

    fn job_counts(&mut self) -> StoreResult<Vec<(JobStatus, u64)>> {
        let counts: Vec<(String, i64)> =
            self.query("SELECT status, COUNT(*) FROM jobs GROUP BY status", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(JobStatus::ALL
            .into_iter()
            .filter_map(|st| counts.iter().find(|(s, _)| s == st.as_str()).map(|(_, n)| (st, *n as u64)))
            .collect())
    }

    fn insert_client(&mut self, c: &ClientRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO clients (", client_columns!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![
                c.client_id,
                c.client_token,
                c.owner_account,
                c.queue,
                c.account_id,
                c.pipeline_name,
                c.stage_name,
                c.action_name,
                c.created
            ],
        )?;
        Ok(())
    }

    fn get_client(&mut self, client_id: &str) -> StoreResult<Option<ClientRow>> {
        self.one(concat!("SELECT ", client_columns!(), " FROM clients WHERE client_id = ?1"), [client_id], client_row)
    }

    fn client_token(&mut self, client_id: &str) -> StoreResult<Option<String>> {
        self.one("SELECT client_token FROM clients WHERE client_id = ?1", [client_id], |r| r.get(0))
    }

    fn clients_of_pipeline(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<ClientRow>> {
        self.query(
            concat!(
                "SELECT ",
                client_columns!(),
                " FROM clients WHERE account_id = ?1 AND pipeline_name = ?2 ORDER BY client_id"
            ),
            [account_id, pipeline],
            client_row,
        )
    }

    fn delete_client(&mut self, client_id: &str) -> StoreResult<bool> {
        Ok(self.exec("DELETE FROM clients WHERE client_id = ?1", [client_id])? == 1)
    }

    // Issue 8: the upgrade that seals client tokens stored in clear (the domain
    // seals them: the store never holds the key).
    fn all_clients(&mut self, after: Option<&str>, n: usize) -> StoreResult<Vec<ClientRow>> {
        self.query(
            concat!("SELECT ", client_columns!(), " FROM clients WHERE client_id > ?1 ORDER BY client_id LIMIT ?2"),
            params![after.unwrap_or(""), limit(n)],
            client_row,
        )
    }

    fn set_client_token(&mut self, client_id: &str, client_token: &str) -> StoreResult<bool> {
        Ok(self.exec("UPDATE clients SET client_token = ?2 WHERE client_id = ?1", params![client_id, client_token])?
            == 1)
    }

    fn anything_due(&mut self, now: Millis) -> StoreResult<bool> {
        Ok(self.one(ANYTHING_DUE, params![now], |r| r.get(0))?.unwrap_or(false))
    }

    fn list_clients(
        &mut self,
        owner_account: &str,
        queue: Option<&str>,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<ClientRow>> {
        self.query(
            concat!(
                "SELECT ",
                client_columns!(),
                " FROM clients WHERE owner_account = ?1 AND (?2 IS NULL OR queue = ?2) \
                 AND client_id > ?3 ORDER BY client_id LIMIT ?4"
            ),
            params![owner_account, queue, after.unwrap_or(""), limit(n)],
            client_row,
        )
    }

    fn list_tags(&mut self, resource: &str, after: Option<&str>, n: usize) -> StoreResult<Vec<Tag>> {
        self.query(
            "SELECT key, value FROM tags WHERE resource = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
            params![resource, after.unwrap_or(""), limit(n)],
            |r| Ok(Tag { key: r.get(0)?, value: r.get(1)? }),
        )
    }

    fn put_tags(&mut self, resource: &str, tags: &[Tag]) -> StoreResult<()> {
        for t in tags {
            self.exec(
                "INSERT INTO tags (resource, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (resource, key) DO UPDATE SET value = excluded.value",
                params![resource, t.key, t.value],
            )?;
        }
        Ok(())
    }

    fn delete_tags(&mut self, resource: &str, keys: &[String]) -> StoreResult<()> {
        for k in keys {
            self.exec("DELETE FROM tags WHERE resource = ?1 AND key = ?2", params![resource, k])?;
        }
        Ok(())
    }

    fn drop_tags(&mut self, resource: &str) -> StoreResult<()> {
        self.exec("DELETE FROM tags WHERE resource = ?1", [resource]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(store: &SqliteStore, sql: &str) -> String {
        let batch = lock(&store.writer.state);
        let mut stmt = batch.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
        let values: [&dyn rusqlite::ToSql; 3] = [&"q", &Option::<String>::None, &1];
        let rows = stmt.query_map(&values[..stmt.parameter_count()], |r| r.get::<_, String>(3)).expect("plan");
        rows.collect::<rusqlite::Result<Vec<_>>>().expect("plan rows").join("; ")
    }

    #[test]
    fn unfinished_jobs_use_their_partial_indexes_and_updates_no_temporary_tables() {
        let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-unfinished-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let store = SqliteStore::open(dir.join("plan.sqlite")).expect("open");
        for (sql, index) in [
            (
                concat!(
                    "SELECT id FROM jobs WHERE ",
                    unfinished!(),
                    " AND timeout_at <= ?1 ORDER BY timeout_at LIMIT ?2"
                ),
                "jobs_timeouts",
            ),
            (
                concat!("SELECT id FROM jobs WHERE execution_id = ?1 AND ", unfinished!(), " ORDER BY created, seq"),
                "jobs_by_execution",
            ),
            (
                concat!(
                    "SELECT id FROM jobs WHERE account_id = ?1 AND pipeline_name = ?2 AND ",
                    unfinished!(),
                    " ORDER BY created, seq"
                ),
                "jobs_by_pipeline",
            ),
        ] {
            let p = plan(&store, sql);
            assert!(p.contains(&format!("USING INDEX {index}")), "{p}");
        }
        assert!(ANYTHING_DUE.contains(unfinished!()));
        let p = plan(&store, ANYTHING_DUE);
        for index in ["jobs_timeouts", "jobs_leases", "executions_due"] {
            assert!(p.contains(&format!("INDEX {index} ")), "{p}");
        }
        {
            let batch = lock(&store.writer.state);
            let mut stmt = batch
                .conn
                .prepare(
                    "EXPLAIN UPDATE jobs SET status = ?2, nonce = ?3, lease_until = ?4, updated = ?5, result = ?6 \
                     WHERE id = ?1 AND status = ?7 AND nonce IS ?8",
                )
                .expect("explain");
            let ops = stmt.query_map([rusqlite::types::Null; 8], |r| r.get::<_, String>(1)).expect("ops");
            let ops = ops.collect::<rusqlite::Result<Vec<_>>>().expect("ops");
            assert!(!ops.iter().any(|o| o == "OpenEphemeral"), "{ops:?}");
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn claims_use_the_queue_index_without_sorting() {
        let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let store = SqliteStore::open(dir.join("plan.sqlite")).expect("open");
        let p = plan(&store, CLAIM_CANDIDATES);
        assert!(p.contains("USING INDEX jobs_queue"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "claims must not sort: {p}");
        let p = plan(&store, ANY_QUEUED);
        assert!(p.contains("USING INDEX jobs_queue"), "{p}");
        let stat: i64 = lock(&store.writer.state)
            .conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'", [], |r| r.get(0))
            .expect("stat tables");
        assert_eq!(stat, 0, "no ANALYZE: STAT4 would re-plan every claim");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bound_limits_do_not_prepare_statements_again() {
        let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-reprepare-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let store = SqliteStore::open(dir.join("reprepare.sqlite")).expect("open");
        for round in 0..3i64 {
            let _: Vec<JobRow> = store
                .read(&mut |tx| -> StoreResult<_> {
                    tx.timed_out_jobs(round, 1 + round as usize)?;
                    tx.claim_jobs("q", None, 0, 0, 0, &mut String::new)
                })
                .expect("read");
        }
        let conn = lock(&store.readers).pop().expect("an idle reader");
        for sql in [TIMED_OUT_JOBS, CLAIM_CANDIDATES] {
            let stmt = conn.prepare_cached(sql).expect("cached");
            assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
        }
        drop((conn, store));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_version_3_file_moves_live_custom_action_type_tags_to_the_tags_table() {
        let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-v3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("v3.sqlite");
        let _ = std::fs::remove_file(&path);
        // A file as a version-3 build left it: tags kept in the custom action types' bodies.
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)").expect("versions");
        for (i, sql) in MIGRATIONS[..3].iter().enumerate() {
            conn.execute_batch(sql).expect("migration");
            conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1]).expect("version");
        }
        let tags = serde_json::json!([
            {"key": "team", "value": "a"}, {"key": "aws:x", "value": "b"},
            {"key": "team", "value": "ci"}, {"key": "env", "value": ""}
        ]);
        for (key, owner, deleted, tags) in [
            ("Custom/1/Build/Kept/1", "Custom", false, tags.clone()),
            ("Custom/1/Build/Gone/1", "Custom", true, tags.clone()),
            ("Custom/1/Build/None/1", "Custom", false, Value::Null),
            ("ThirdParty/Build/P/1", "ThirdParty", false, tags),
        ] {
            let body = serde_json::json!({"tags": tags, "deleted": deleted});
            conn.execute(
                "INSERT INTO action_types (key, account_id, owner, revision, body) VALUES (?1, '1', ?2, 1, ?3)",
                params![key, owner, json_text(&body)],
            )
            .expect("action type");
        }
        drop(conn);

        let store = SqliteStore::open(&path).expect("open a version-3 file");
        assert_eq!(store.schema_version().expect("version"), 4);
        let tags = |resource: &str| {
            store.read(&mut |tx| -> StoreResult<_> { tx.list_tags(resource, None, 100) }).expect("read")
        };
        let tag = |key: &str, value: &str| Tag { key: key.into(), value: value.into() };
        assert_eq!(
            tags("actiontype/Custom/1/Build/Kept/1"),
            vec![tag("env", ""), tag("team", "ci")],
            "by key, the last of a repeated key, no reserved key"
        );
        for gone in
            ["actiontype/Custom/1/Build/Gone/1", "actiontype/Custom/1/Build/None/1", "actiontype/ThirdParty/Build/P/1"]
        {
            assert_eq!(tags(gone), vec![], "{gone}");
        }
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_version_2_file_keeps_its_current_pipeline_versions() {
        let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-v2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("v2.sqlite");
        let _ = std::fs::remove_file(&path);
        // A file as a version-2 build left it: migrations 1 and 2 only, two pipelines.
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)").expect("versions");
        for (i, sql) in MIGRATIONS[..2].iter().enumerate() {
            conn.execute_batch(sql).expect("migration");
            conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1]).expect("version");
        }
        let row = |name: &str, version: i64, created: Millis, updated: Millis| PipelineRow {
            account_id: "1".into(),
            name: name.into(),
            version,
            declaration: serde_json::json!({"name": name, "version": version}),
            created,
            updated,
        };
        let (a, b) = (row("a", 3, 10, 30), row("b", 1, 20, 20));
        for p in [&a, &b] {
            conn.execute(
                "INSERT INTO pipelines (account_id, name, version, declaration, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![p.account_id, p.name, p.version, json_text(&p.declaration), p.created, p.updated],
            )
            .expect("pipeline");
        }
        drop(conn);

        let store = SqliteStore::open(&path).expect("open a version-2 file");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len() as i64);
        let version = |name: &str, v: i64| {
            store.read(&mut |tx| -> StoreResult<_> { tx.get_pipeline_version("1", name, v) }).expect("read")
        };
        assert_eq!(version("a", 3), Some(a.clone()), "the current version, made when the pipeline was last updated");
        assert_eq!(version("a", 2), None, "a version-2 file never kept the older ones");
        assert_eq!(version("b", 1), Some(b.clone()));
        let a4 = row("a", 4, 10, 40);
        assert!(store.write(&mut |tx| tx.update_pipeline(&a4, 3)).expect("update"));
        assert_eq!(version("a", 3), Some(a), "kept once updated");
        assert_eq!(version("a", 4), Some(a4));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
