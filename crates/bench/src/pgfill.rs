//! The latency phase's deep queues on PostgreSQL: queued jobs copied in bulk
//! in SQL from a job the service itself created, into the schema the node
//! made, and the check that the measured polls really claimed those copies.
//!
//! The copies are inserted while the node runs. That is correct for this
//! store: it keeps no copy of the queue in memory (every claim reads the
//! `jobs_queued` index in the database, `FOR UPDATE SKIP LOCKED`), so the
//! next poll sees them. The only per-node cache on the job path, parsed
//! action types by revision, is untouched by job rows.

use tokio_postgres::{Client, NoTls};

/// The versions of `cpjobs-store-postgres`' schema whose `jobs` table the
/// fill's statement is written against (unchanged since version 1).
const KNOWN_VERSIONS: std::ops::RangeInclusive<i64> = 1..=5;

/// Rows per transaction: large enough that the fill is quick, small enough
/// that one transaction's WAL stays well below `max_wal_size`.
const BATCH: u64 = 50_000;

/// Copies of the template: the same queue, client, execution, data and times
/// (so every copy is as old as the template, and claims take copies before
/// jobs queued later); a fresh random UUID as the service makes them; status
/// `Queued` without nonce or lease. `seq` (an identity) numbers them after
/// every row already there.
const COPY: &str = "INSERT INTO jobs (id, queue, account_id, pipeline_name, execution_id, action_execution_id, \
     client_id, status, nonce, lease_until, timeout_at, created, updated, query_value, data, result) \
     SELECT gen_random_uuid()::text, queue, account_id, pipeline_name, execution_id, action_execution_id, \
     client_id, 'Queued', NULL, NULL, timeout_at, created, updated, query_value, data, NULL \
     FROM jobs, generate_series(1, $2::bigint) WHERE jobs.id = $1";

/// A connection to the node's database.
pub(crate) struct PgFill {
    client: Client,
    task: tokio::task::JoinHandle<()>,
}

/// The rows one fill added: `seq` in `(after, last]`, each with the
/// template's `updated`, which is older than `started`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filled {
    after: i64,
    last: i64,
    /// When the fill started, in milliseconds since the epoch (the clock the
    /// node on this machine stamps `updated` with).
    started: i64,
}

impl PgFill {
    /// Connects to `url` (the URL the node was given) and checks the schema's version.
    pub(crate) async fn connect(url: &str) -> Result<PgFill, String> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| format!("bulk fill: {e}"))?;
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("bulk fill: connection ended: {e}");
            }
        });
        let fill = PgFill { client, task };
        let version: Option<i64> = fill.one("SELECT MAX(version) FROM schema_version", &[]).await?;
        match version {
            Some(v) if KNOWN_VERSIONS.contains(&v) => Ok(fill),
            v => Err(format!(
                "the bulk fill knows schema versions {} to {} of the PostgreSQL store, the database is at {v:?}",
                KNOWN_VERSIONS.start(),
                KNOWN_VERSIONS.end()
            )),
        }
    }

    async fn one<T: for<'a> tokio_postgres::types::FromSql<'a>>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<T, String> {
        let row = self.client.query_one(sql, params).await.map_err(|e| format!("bulk fill: {sql}: {e}"))?;
        row.try_get(0).map_err(|e| format!("bulk fill: {sql}: {e}"))
    }

    /// Adds `count` queued copies of job `template`, in transactions of
    /// [`BATCH`] rows, then vacuums and analyzes the table and checkpoints.
    ///
    /// Why the last two: a queue that grew to a million jobs over hours would
    /// have been vacuumed and analyzed by autovacuum on the way, and its WAL
    /// checkpointed; after a fill of a minute, autovacuum and a checkpoint
    /// would instead start during the measured polls and measure themselves.
    pub(crate) async fn queue(&self, template: &str, count: u64) -> Result<Filled, String> {
        let started =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis()
                as i64;
        let after: i64 = self.one("SELECT COALESCE(MAX(seq), 0) FROM jobs", &[]).await?;
        let mut left = count;
        while left > 0 {
            let n = left.min(BATCH);
            // Autocommit: each statement is its own transaction.
            let added =
                self.client.execute(COPY, &[&template, &(n as i64)]).await.map_err(|e| format!("bulk fill: {e}"))?;
            if added != n {
                return Err(format!("bulk fill: {added} rows added, {n} wanted (is {template} in the database?)"));
            }
            left -= n;
        }
        let last: i64 = self.one("SELECT COALESCE(MAX(seq), 0) FROM jobs", &[]).await?;
        if (last - after) as u64 != count {
            return Err(format!("bulk fill: {} rows between seq {after} and {last}, {count} added", last - after));
        }
        self.client.batch_execute("VACUUM (ANALYZE) jobs").await.map_err(|e| format!("bulk fill: VACUUM: {e}"))?;
        // CHECKPOINT needs a superuser (or pg_checkpoint): the throwaway
        // cluster's user is one; elsewhere the measured polls may meet one.
        if let Err(e) = self.client.batch_execute("CHECKPOINT").await {
            println!("note: no CHECKPOINT after the bulk fill ({e}); one may run during the measured polls");
        }
        Ok(Filled { after, last, started })
    }

    /// How many of `ids` are copies of `filled` that the node has changed
    /// since the fill: polls that really claimed a bulk-filled job. (Not
    /// "are `Dispatched`": a claim whose 30 s lease ran out during the phase
    /// is `Queued` again, with a later `updated`.)
    pub(crate) async fn claimed(&self, filled: Filled, ids: &[String]) -> Result<u64, String> {
        let n: i64 = self
            .one(
                "SELECT COUNT(*) FROM jobs WHERE id = ANY($1) AND seq > $2 AND seq <= $3 AND updated >= $4",
                &[&ids, &filled.after, &filled.last, &filled.started],
            )
            .await?;
        Ok(n as u64)
    }

    /// Closes the connection.
    pub(crate) async fn close(self) {
        drop(self.client);
        let _ = self.task.await;
    }
}
