//! Connections: how every connection to the store's file is configured,
//! and the small helpers all of them share (errors as the core's, the
//! statement cache, locks that survive a panicking holder).

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use cpjobs_core::StoreError;
use rusqlite::Connection;

/// How many prepared statements each connection keeps (the store has about 40).
const STATEMENT_CACHE: usize = 128;

/// How much of the database file a connection maps (see [`configure`]).
const MMAP_SIZE: i64 = 1 << 32;

/// Locks `m`, also when a panicking holder poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Closures run under catch_unwind and the batch is settled before any
    // unwinding continues, so a poisoned lock guards consistent state.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A SQLite error as the core's backend failure.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// What every connection of the store is set to: WAL, the caches, and
/// `synchronous=FULL`, which the checkpoint connection keeps (see
/// `checkpoint_thread` in `writer.rs`) and under which migrations commit. The
/// writer's connection turns it `OFF` once migrated: its commits are synced
/// by the sync thread instead (see the crate docs); readers never commit
/// anything to sync.
pub(crate) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query planner stability: without it, SQLite (3.54) plans a statement
    // with `LIMIT ?` (or, with STAT4 data, any bound indexed column) for the
    // bound value and prepares it again at every new binding, ~10 us each:
    // every sweep check and claim would be parsed and planned anew.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit (a migration's) syncs the WAL, a checkpoint syncs the WAL before copying it and the
    // database file after, so neither can be lost or torn by a power cut. The writer turns it OFF (see above).
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
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let reader = Connection::open(path).map_err(backend)?;
    configure(&reader).map_err(backend)?;
    reader.pragma_update(None, "query_only", "ON").map_err(backend)?;
    Ok(reader)
}

/// Runs one statement without results through the statement cache
/// (`execute_batch` would parse it again every time).
pub(crate) fn run_statement(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.raw_execute()).map(|_| ()).map_err(backend)
}
