//! The PostgreSQL store: [`cpjobs_core::Store`] on a database server that
//! several service nodes share.
//!
//! Isolation: writes run `READ COMMITTED`, reads `REPEATABLE READ READ
//! ONLY` (one snapshot per read transaction, as SQLite's readers have).
//! Every job and execution change is a guarded update (`WHERE id = $1 AND
//! status = $2 AND nonce IS NOT DISTINCT FROM $3`, or a revision): under
//! `READ COMMITTED` an update that meets a row a concurrent transaction
//! changed waits for it and checks its guard again on the committed row, so
//! a lost race touches zero rows and the domain answers it as such. Claims
//! lock their candidates with `FOR UPDATE SKIP LOCKED`, so concurrent polls of
//! one queue take different jobs without waiting for each other.
//!
//! The domain was written against one writer (SQLite's), and a few of its
//! decisions rest on rows it reads but does not write: whether a stage is
//! free before an execution enters it (and whom it releases when it leaves),
//! which execution is the latest, which jobs and clients a pipeline has when
//! it is deleted, how many pipelines an account has. Each write transaction
//! therefore takes a transaction-scoped advisory lock on a pipeline before it
//! reads that pipeline's executions, jobs or clients as a set (and on an
//! account before counting its pipelines), and before it creates, changes
//! or deletes the pipeline or adds an execution to it: those writes of one
//! pipeline run one after the other, each statement seeing what the ones
//! before committed. An execution's changes themselves are guarded by its
//! revision and take no lock, so job results of one pipeline commit in
//! parallel (PostgreSQL groups their commits); a change that moves an
//! execution into or out of a stage another execution may wait for is made
//! by a transaction that read that stage's executions, so it holds the lock.
//! Deleting a pipeline locks its executions' rows before it lists their
//! jobs, so a job added by a result in flight is either listed or refused.
//!
//! `SERIALIZABLE` was tried first and measured: it makes every claim a pivot
//! between polls that skipped each other's rows, and eight concurrent pollers
//! of one queue failed twelve attempts in a row. The pipeline lock is not
//! taken by every execution change: it would serialize the commits (and so
//! the disk syncs) of all job results of one pipeline, and the revision
//! guard already fences them.
//! Deadlocks (a lock taken in another order) and serialization failures are
//! retried: the transaction runs again (the trait allows it: closures have
//! no effect outside it) after a growing random pause, a few times, then
//! answers [`StoreError::Conflict`].
//!
//! Durability is PostgreSQL's: `write` returns once `COMMIT` returned, which
//! with the server's defaults (`synchronous_commit = on`, `fsync = on`) means
//! the commit is on its disk.
//!
//! Threads: see `pool.rs`. [`Store::read`] and [`Store::write`] block the
//! calling thread; [`Store::write_then`] hands the write to the store's
//! writer threads and returns at once. Reads wait for the network, so the
//! store answers `false` to [`Store::inline_reads`]: the service runs them
//! on blocking threads, never on the server's async ones.
//!
//! Rooms: `schema.rs` applies the numbered migrations of `migrations/`;
//! `pool.rs` the connections; `drive.rs` their sockets, driven by the
//! thread that waits on them; `tls.rs` what secures them (`sslmode`, the
//! trusted CAs); `tx.rs` the transaction's queries; `rows.rs` the row
//! mapping; `writers.rs` the threads behind `write_then`. This file opens
//! the store and runs transactions.

mod drive;
mod pool;
mod rows;
mod schema;
mod tls;
mod tx;
mod writers;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cpjobs_core::store::{Tx, WriteDone, WriteFn};
use cpjobs_core::{Store, StoreError};

use crate::pool::{Conn, Failure, Pool, backend};
use crate::tx::PgTx;
use crate::writers::Writers;

/// How many connections a store opens at most, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// How many times a transaction runs before a serialization failure is
/// answered as a conflict.
const ATTEMPTS: u32 = 12;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?options]`, or libpq's
    /// `key=value` form.
    pub url: String,
    /// The password, when the URL has none (from `PGPASSWORD` or a file).
    pub password: Option<String>,
    /// The most connections the store opens (each transaction holds one).
    pub max_connections: usize,
    /// The CA certificates (PEM) the server's certificate must chain to
    /// (`store_ca_file`; the URL's `sslrootcert` is the other way to say
    /// it); without either, the system's. Setting one demands TLS unless
    /// the URL's `sslmode` says otherwise (see `tls.rs`).
    pub ca_file: Option<PathBuf>,
}

impl PgOptions {
    /// Options for `url`, with the password from `PGPASSWORD` when the URL has none.
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            password: std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            ca_file: None,
        }
    }
}

/// The URL without its password, for messages and logs (the one rule for
/// every store URL, kept beside the store trait).
pub use cpjobs_core::store::redact_url;

/// The PostgreSQL store.
pub struct PgStore {
    /// First, so dropping the store closes the writers' queue first: they
    /// answer what is queued, then let go of the pool.
    writers: Writers,
    pool: Arc<Pool>,
    schema_version: i64,
    transport: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("schema_version", &self.schema_version).finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database and brings its schema up to date.
    pub fn open(options: &PgOptions) -> Result<PgStore, StoreError> {
        let (mut config, tls) = tls::Tls::configure(&options.url, options.ca_file.as_deref())?;
        let transport = tls.summary().to_owned();
        if config.get_password().is_none()
            && let Some(p) = &options.password
        {
            config.password(p.as_str());
        }
        if config.get_application_name().is_none() {
            config.application_name("cpjobs");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let pool = Arc::new(Pool::start(config, tls, options.max_connections)?);
        let schema_version = {
            let mut c = pool.take()?;
            let v = schema::migrate(c.conn()).map_err(|e| {
                StoreError::Backend(format!("the schema could not be brought up to date: {}", backend(&e)))
            })?;
            drop(c);
            v
        };
        let known = schema::MIGRATIONS.len() as i64;
        if schema_version > known {
            return Err(StoreError::Backend(format!(
                "the database's schema is at version {schema_version}, newer than this cpjobs knows ({known}): \
                 run the newer cpjobs"
            )));
        }
        let writers = Writers::start(Arc::clone(&pool), options.max_connections.max(1))?;
        Ok(PgStore { writers, pool, schema_version, transport })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> i64 {
        self.schema_version
    }

    /// How the connections to the server are secured, for the operator's
    /// log: clear text, or TLS and what its certificate is verified against.
    pub fn transport(&self) -> &str {
        &self.transport
    }
}

/// Runs `f` in one transaction on a pooled connection: again after a
/// serialization failure or a deadlock, again once on a fresh connection when a pooled
/// one turns out closed before anything ran on it.
pub(crate) fn run<T, E: From<StoreError>>(
    pool: &Pool,
    write: bool,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>,
) -> Result<T, E> {
    let begin =
        if write { "BEGIN ISOLATION LEVEL READ COMMITTED" } else { "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" };
    let mut attempt = 0;
    let mut reconnected = false;
    loop {
        attempt += 1;
        let mut pooled = pool.take()?;
        let conn = pooled.conn();
        conn.begin(begin);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            f(&mut PgTx { conn: &mut *conn, write, locked: Vec::new() })
        }));
        let r = match r {
            Ok(r) => r,
            Err(panic) => {
                // The transaction's state is unknown: the connection goes, and
                // its transaction with it.
                pooled.close();
                std::panic::resume_unwind(panic)
            }
        };
        match (conn.failed.take(), r) {
            (Some((Failure::Retry, error)), _) => {
                rollback(conn);
                if attempt >= ATTEMPTS {
                    return Err(error.into());
                }
                pause(attempt);
            }
            (Some(_), _) if conn.begin_lost && !reconnected => {
                // A connection that died while idle (the database restarted):
                // its BEGIN (or the COMMIT of the read before) failed, so
                // nothing of `f` ran, and a new connection may run it.
                pooled.close();
                reconnected = true;
            }
            (Some((Failure::Lost, error)), r) => {
                pooled.close();
                return Err(r.err().unwrap_or_else(|| error.into()));
            }
            (Some((Failure::Other, error)), r) => {
                rollback(conn);
                // The closure may have made its own error of the failure, or
                // (wrongly) gone on: either way the transaction is gone.
                return Err(r.err().unwrap_or_else(|| error.into()));
            }
            (None, Err(e)) => {
                rollback(conn);
                return Err(e);
            }
            // Nothing to make durable (a read, or a write that only read):
            // the answer does not wait for COMMIT.
            (None, Ok(v)) if !conn.wrote => {
                conn.commit_read();
                return Ok(v);
            }
            (None, Ok(v)) => match conn.simple("COMMIT") {
                Ok(()) => return Ok(v),
                Err(e) => {
                    let failure = Failure::of(&e);
                    let error = conn.fail(&e);
                    conn.failed = None;
                    match failure {
                        // Nothing of `f` ran: the connection was unusable before its first statement.
                        _ if conn.begin_lost && !reconnected => {
                            pooled.close();
                            reconnected = true;
                        }
                        Failure::Retry if attempt < ATTEMPTS => pause(attempt),
                        Failure::Retry => return Err(error.into()),
                        Failure::Lost => {
                            pooled.close();
                            return Err(StoreError::Backend(format!(
                                "the connection to PostgreSQL was lost at COMMIT, so whether the write was \
                                 committed is unknown: {}",
                                pool::describe(&e)
                            ))
                            .into());
                        }
                        Failure::Other => return Err(error.into()),
                    }
                }
            },
        }
    }
}

/// Ends a failed transaction; a connection that cannot is not given back.
fn rollback(conn: &mut Conn) {
    conn.failed = None;
    if let Err(e) = conn.simple("ROLLBACK") {
        conn.fail(&e);
    }
}

/// Waits before attempt `attempt + 1`: a random pause that grows with the
/// attempts (up to ~64 ms), so transactions that collided do not collide again.
fn pause(attempt: u32) {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let ceiling = 1u64 << attempt.min(6);
    let micros = h.finish() % (ceiling * 1000);
    std::thread::sleep(Duration::from_micros(micros + 100));
}

impl Store for PgStore {
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        run(&self.pool, false, f)
    }

    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        run(&self.pool, true, f)
    }

    fn inline_reads(&self) -> bool {
        false
    }

    fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writers.submit(f, done)
    }
}
