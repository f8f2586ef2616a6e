//! Connections: a bounded pool of PostgreSQL connections, each driven by
//! the thread that holds it.
//!
//! The store's trait is synchronous and its closures are neither `Send` nor
//! `'static`, so a transaction runs on the thread that asked for it: that
//! thread takes a connection from the pool and waits for each statement by
//! driving the connection's socket itself (`drive.rs`), with no runtime and
//! no other thread, so a caller inside a tokio runtime never nests one.
//!
//! Invariant: a connection goes back to the pool only between transactions
//! and only while it is open; one that failed mid-transaction or was lost is
//! dropped, and the next taker opens a new one (reconnecting after a restart
//! of the database).

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use cpjobs_core::StoreError;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row, Statement};

use crate::drive::{self, ConnectError, Driven};
use crate::tls::Tls;

/// Parameters of one statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Locks `m`, also when a panicking holder poisoned it (the pool's state
/// is a list and a count, consistent at every step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a statement failed, as far as the transaction's fate goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A serialization failure or a deadlock: the whole transaction may run again.
    Retry,
    /// The connection is gone (the server restarted, the network broke).
    Lost,
    /// Anything else: a bug, a constraint, a full disk.
    Other,
}

impl Failure {
    pub(crate) fn of(e: &tokio_postgres::Error) -> Failure {
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
                Failure::Retry
            }
            _ if e.is_closed() => Failure::Lost,
            // The server shutting down or an administrator ending the session.
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN => Failure::Lost,
            _ => Failure::Other,
        }
    }
}

/// A client error as the core's backend failure, with its cause.
pub(crate) fn backend(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: {}", describe(e)))
}

/// A statement sent whose answer is not read yet.
type Pending = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// What a statement sent ahead was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ahead {
    /// The `BEGIN` of the running transaction.
    Begin,
    /// The `COMMIT` of a read-only transaction before it.
    ReadCommit,
}

/// One open connection and the statements prepared on it.
pub(crate) struct Conn {
    pub(crate) client: Arc<Client>,
    /// Its socket and protocol state, driven while this thread waits.
    driven: Driven,
    statements: HashMap<&'static str, Statement>,
    /// Statements sent ahead whose answers are not read yet, oldest first:
    /// the `COMMIT` of the read transaction before (see
    /// [`Conn::commit_read`]) and this transaction's `BEGIN` (see
    /// [`Conn::begin`]). Their answers are read before anything else is sent.
    pending: VecDeque<(Pending, Ahead)>,
    /// Whether the running transaction sent a statement that may change
    /// rows (anything but a `SELECT`): only then is its `COMMIT` awaited.
    pub(crate) wrote: bool,
    /// Whether this transaction failed before any of its statements ran (its
    /// `BEGIN`, or the `COMMIT` of the read before it, found the connection
    /// unusable): it may run on a new connection.
    pub(crate) begin_lost: bool,
    /// The first failure of the running transaction, if a statement failed:
    /// PostgreSQL refuses every later statement of it, and a `COMMIT` of it
    /// answers "ROLLBACK" without an error, so it must never be reported done.
    pub(crate) failed: Option<(Failure, StoreError)>,
}

impl Conn {
    /// Waits for `f` on this thread, driving the connection.
    pub(crate) fn wait<F: std::future::Future>(&mut self, f: F) -> F::Output {
        self.driven.wait(f)
    }

    /// Runs a prepared statement and gives its rows.
    pub(crate) fn query(&mut self, stmt: &Statement, p: Params<'_>) -> Result<Vec<Row>, tokio_postgres::Error> {
        let client = Arc::clone(&self.client);
        self.behind_pending(client.query(stmt, p))
    }

    /// Runs a prepared statement and gives how many rows it touched.
    pub(crate) fn execute(&mut self, stmt: &Statement, p: Params<'_>) -> Result<u64, tokio_postgres::Error> {
        let client = Arc::clone(&self.client);
        self.behind_pending(client.execute(stmt, p))
    }

    /// Sends `request` behind the statements sent ahead, so all go out in
    /// one write, then reads their answers (see [`settle`](Conn::settle))
    /// and its own. When one sent ahead failed, `request`'s answer is not
    /// waited for: a `BEGIN` (fixed text, on a connection between
    /// transactions) or a read's `COMMIT` fails when the connection is gone,
    /// and `request` with it; the transaction runs again on a new one.
    fn behind_pending<T>(
        &mut self,
        request: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, tokio_postgres::Error> {
        let mut request = std::pin::pin!(request);
        // The first poll queues the request after those sent ahead.
        let first = request.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        self.settle()?;
        match first {
            Poll::Ready(r) => r,
            Poll::Pending => self.driven.wait(request),
        }
    }

    /// Sends `begin` without waiting for its answer: it goes out with the
    /// transaction's first statement, in one write, which saves each
    /// transaction a round trip (PostgreSQL answers in order, and a failed
    /// `BEGIN` is reported by [`settle`](Conn::settle) before anything else).
    pub(crate) fn begin(&mut self, begin: &'static str) {
        self.begin_lost = false;
        self.wrote = false;
        self.send_ahead(begin, Ahead::Begin);
    }

    /// Ends a transaction that changed nothing (a read, or a write that only
    /// read) without waiting for the answer: its rows were all read, and its
    /// `COMMIT` has nothing to make durable and nothing to report but a lost
    /// connection. The answer is read before the connection's next
    /// statement, by then usually long arrived: one round trip less.
    pub(crate) fn commit_read(&mut self) {
        self.send_ahead("COMMIT", Ahead::ReadCommit);
    }

    fn send_ahead(&mut self, sql: &'static str, what: Ahead) {
        let client = Arc::clone(&self.client);
        let mut sent: Pending = Box::pin(async move { client.batch_execute(sql).await });
        // The first poll queues the message for the connection and stops at
        // the answer, which a later wait reads. A `BEGIN` stays queued until
        // the transaction's first statement, and both go out in one write; a
        // read's `COMMIT` is written now, so the server ends the transaction
        // (and lets go of its snapshot) while the connection sits in the pool.
        match sent.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Pending => self.pending.push_back((sent, what)),
            Poll::Ready(r) => self.pending.push_back((Box::pin(std::future::ready(r)), what)),
        }
        if what == Ahead::ReadCommit {
            self.driven.flush();
        }
    }

    /// Reads the answers of the statements sent ahead, if any. A failure of
    /// either means nothing of the running transaction ran: a lost
    /// connection's `BEGIN`, or a `COMMIT` of a read before it that failed,
    /// after which this connection's state is not known, so the transaction
    /// is run again on a new one ([`begin_lost`](Conn::begin_lost)).
    fn settle(&mut self) -> Result<(), tokio_postgres::Error> {
        while let Some((sent, what)) = self.pending.pop_front() {
            if let Err(e) = self.driven.wait(sent) {
                self.pending.clear();
                match what {
                    Ahead::Begin => self.begin_lost = Failure::of(&e) == Failure::Lost,
                    Ahead::ReadCommit => {
                        self.begin_lost = true;
                        self.failed = Some((
                            Failure::Lost,
                            StoreError::Backend(format!(
                                "the connection to PostgreSQL failed after a read: {}",
                                describe(&e)
                            )),
                        ));
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// `sql` prepared on this connection, once per connection.
    pub(crate) fn statement(&mut self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let client = Arc::clone(&self.client);
        let s = self.behind_pending(client.prepare(sql))?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// Records a failed statement and answers it as the core's error.
    pub(crate) fn fail(&mut self, e: &tokio_postgres::Error) -> StoreError {
        let failure = Failure::of(e);
        let error = match failure {
            Failure::Retry => StoreError::Conflict(backend(e).to_string()),
            Failure::Lost => StoreError::Backend(format!("the connection to PostgreSQL was lost: {}", describe(e))),
            Failure::Other => backend(e),
        };
        self.failed.get_or_insert((failure, error.clone()));
        error
    }

    /// Runs a statement without parameters or rows (`BEGIN`, `COMMIT`).
    pub(crate) fn simple(&mut self, sql: &str) -> Result<(), tokio_postgres::Error> {
        let client = Arc::clone(&self.client);
        self.behind_pending(client.batch_execute(sql))
    }
}

/// The pool: idle connections and how many are open.
pub(crate) struct Pool {
    config: Config,
    tls: Arc<Tls>,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    open: usize,
}

impl Pool {
    /// A pool of at most `max` connections to `config`'s server. Connects once, so a wrong address or
    /// password (or certificate) is reported here, not at the first request.
    pub(crate) fn start(config: Config, tls: Tls, max: usize) -> Result<Pool, StoreError> {
        let pool = Pool {
            config,
            tls: Arc::new(tls),
            max: max.max(1),
            state: Mutex::new(PoolState { idle: Vec::new(), open: 0 }),
            freed: Condvar::new(),
        };
        let first = pool.connect()?;
        lock(&pool.state).open = 1;
        pool.put(first);
        Ok(pool)
    }

    /// Opens a connection, on this thread.
    fn connect(&self) -> Result<Conn, StoreError> {
        match drive::connect(&self.config, &self.tls) {
            Ok((client, driven)) => Ok(Conn {
                client: Arc::new(client),
                driven,
                statements: HashMap::new(),
                pending: VecDeque::new(),
                wrote: false,
                begin_lost: false,
                failed: None,
            }),
            Err(ConnectError::Pg(e)) => {
                Err(StoreError::Backend(format!("cannot connect to PostgreSQL: {}", self.tls.explain(&e))))
            }
            Err(ConnectError::Other(e)) => Err(StoreError::Backend(format!("cannot connect to PostgreSQL: {e}"))),
        }
    }

    /// An open connection: an idle one, a new one while fewer than `max`
    /// are open, else the next one given back.
    pub(crate) fn take(&self) -> Result<Pooled<'_>, StoreError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled { pool: self, conn: Some(conn) });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(conn) => Ok(Pooled { pool: self, conn: Some(conn) }),
                    Err(e) => {
                        self.discard();
                        Err(e)
                    }
                };
            }
            state = self.freed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn put(&self, conn: Conn) {
        lock(&self.state).idle.push(conn);
        self.freed.notify_one();
    }

    fn discard(&self) {
        lock(&self.state).open -= 1;
        self.freed.notify_one();
    }
}

/// The message of a client error, with the server's own when it sent one
/// (`Display` of a server error says only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

/// A connection taken from the pool; given back when dropped if it is
/// still usable (open, and no transaction left failed on it), else closed.
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
}

impl Pooled<'_> {
    pub(crate) fn conn(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a pooled connection is held until dropped")
    }

    /// Drops this connection instead of giving it back (it was lost, or a
    /// panic left its transaction in an unknown state).
    pub(crate) fn close(mut self) {
        self.conn = None;
        self.pool.discard();
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if conn.failed.is_none() && !conn.client.is_closed() {
                self.pool.put(conn);
            } else {
                self.pool.discard();
            }
        }
    }
}
