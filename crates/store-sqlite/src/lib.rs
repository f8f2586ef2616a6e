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
//! use cpjobs_core::{Api, Caller, Operation, Service, ServiceConfig};
//! use cpjobs_store_sqlite::SqliteStore;
//!
//! let dir = std::env::temp_dir().join(format!("cpjobs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = SqliteStore::open(dir.join("cpjobs.sqlite")).unwrap();
//! let service = Service::new(&ServiceConfig::default(), store).unwrap();
//! let caller = Caller { account_id: "111111111111".into(), access_key_id: "AKIDEXAMPLE".into() };
//! let out = service.call(&caller, Operation::ListPipelines, serde_json::json!({}), SystemTime::now()).unwrap();
//! assert_eq!(out, serde_json::json!({"pipelines": []}));
//! service.tick(SystemTime::now()).unwrap(); // what the server runs every few seconds
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Rooms: `schema.rs` applies the numbered migrations of `migrations/`
//! (each file says what its version changes; `insert_pipeline` and
//! `update_pipeline` write `pipeline_versions` with the pipeline,
//! `delete_pipeline` empties it with the pipeline); `conn.rs` configures
//! every connection; `writer.rs` holds the writer, its batches and threads;
//! `tx.rs` the transaction's queries; `rows.rs` the row mapping. This file
//! opens the store and runs reads.

mod conn;
mod rows;
mod schema;
#[cfg(test)]
mod tests;
mod tx;
mod writer;

use std::path::Path;
use std::sync::Mutex;

use cpjobs_core::store::{Tx, WriteDone, WriteFn};
use cpjobs_core::{Store, StoreError};
use rusqlite::Connection;

use crate::conn::{backend, configure, lock, open_reader, run_statement};
use crate::tx::SqliteTx;
use crate::writer::Writes;

/// How many idle reader connections the store keeps.
const MAX_IDLE_READERS: usize = 16;

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    /// The writer and its threads; first, so they end (and the writer's
    /// connection closes) before the readers' connections close.
    writes: Writes,
    /// Idle read-only connections; a reader takes one (or opens one) per
    /// transaction, so reads run in parallel with each other and, WAL being
    /// what it is, with the writer.
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let mut writer = Connection::open(path).map_err(backend)?;
        configure(&writer).map_err(backend)?;
        schema::migrate(&mut writer).map_err(backend)?;
        let reader = open_reader(path)?;
        let checkpointer = Connection::open(path).map_err(backend)?;
        configure(&checkpointer).map_err(backend)?;
        let writes = Writes::start(path, writer, checkpointer)?;
        Ok(SqliteStore { writes, readers: Mutex::new(vec![reader]), path: path.to_owned() })
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
}

impl Store for SqliteStore {
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.run_read(f)
    }

    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.writes.write(f)
    }

    fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writes.write_then(f, done)
    }
}
