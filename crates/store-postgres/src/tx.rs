//! The transaction's queries: [`PgTx`] implements the core's [`Tx`] on one
//! connection, inside the transaction `lib.rs` opened on it. Every statement
//! is prepared once per connection. In a write transaction, each method that
//! reads a pipeline's rows as a set, or changes the pipeline itself or its
//! set of executions, takes that pipeline's lock first (see `lock` below and
//! the crate's docs). Inserts that may meet an existing key
//! say `ON CONFLICT DO NOTHING`: a unique violation would abort the whole
//! transaction in PostgreSQL, where the domain expects `false` and goes on.

use cpjobs_core::JobStatus;
use cpjobs_core::StoreError;
use cpjobs_core::store::{
    ClientRow, Doc, ExecutionRow, JobRow, JobWithClient, JsonText, Millis, PipelineRow, PollProbe, QueueFigures,
    StoreResult, Tag, TransitionRow, Tx, WebhookRow,
};
use serde_json::Value;
use tokio_postgres::Row;

use crate::pool::{Conn, Params};
use crate::rows::{
    client_columns, client_row, doc_row, execution_columns, execution_row, get, job_columns, job_row, json_text,
    pipeline_columns, pipeline_row, webhook_columns, webhook_row,
};

/// The statuses of an unfinished job, as the partial indexes of
/// `migrations/0001_initial.sql` say them (queries repeat it so the planner
/// can use those indexes).
macro_rules! unfinished {
    () => {
        "status IN ('Created', 'Queued', 'Dispatched', 'InProgress')"
    };
}

/// The queries of one transaction, on the connection that runs it.
pub(crate) struct PgTx<'c> {
    pub(crate) conn: &'c mut Conn,
    /// Whether this is a write transaction (which takes the pipeline locks).
    pub(crate) write: bool,
    /// The pipeline and account locks this transaction holds already.
    pub(crate) locked: Vec<(String, String)>,
}

/// Takes a lock on one pipeline (or, with the name `*`, on one account's
/// list of pipelines) until the transaction ends. Two int4 keys: a hash of
/// the account under a prefix of ours, and a hash of the name (a collision
/// only makes two pipelines wait for each other).
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('cpjobs pipeline ' || $1::text), hashtext($2::text))";

/// Claims up to `$3` of the oldest queued jobs of a queue in one statement:
/// the candidates are locked, and rows another claim holds are skipped, not
/// waited for, so concurrent polls take different jobs; each is dispatched
/// with the nonce of its place in the claim (`$4`, one per place, oldest
/// first), still guarded on `Queued`. The place comes back last, to order
/// what `RETURNING` gives in no particular order.
const CLAIM: &str = concat!(
    "WITH picked AS (SELECT id, created, seq FROM jobs WHERE queue = $1 AND status = 'Queued' \
       AND ($2::text IS NULL OR query_value = $2::text) ORDER BY created, seq LIMIT $3 FOR UPDATE SKIP LOCKED), \
     placed AS (SELECT id, row_number() OVER (ORDER BY created, seq) AS place FROM picked) \
     UPDATE jobs SET status = 'Dispatched', nonce = ($4::text[])[placed.place], lease_until = $5, updated = $6 \
     FROM placed WHERE jobs.id = placed.id AND jobs.status = 'Queued' RETURNING jobs.",
    "id, jobs.queue, jobs.account_id, jobs.pipeline_name, jobs.execution_id, jobs.action_execution_id, \
     jobs.client_id, jobs.status, jobs.nonce, jobs.lease_until, jobs.timeout_at, jobs.created, jobs.updated, \
     jobs.query_value, jobs.data, jobs.result, placed.place"
);

/// [`Tx::anything_due`] as an SQL expression of the parameter `$now`.
///
/// Each part compares the earliest due time, read as `min()` from the head of
/// its partial index, with `now`, rather than asking `EXISTS (... <= $1)`: a
/// prepared statement runs on PostgreSQL's generic plan after five runs, and
/// with `$1` unknown the planner expected a third of the rows to match and
/// chose a scan of the whole table (514 ms at 1M queued jobs; 0.09 ms on the
/// index). `min()` over an indexed column is an index probe whatever `$1` is.
macro_rules! anything_due {
    ($now:literal) => {
        concat!(
            "(COALESCE((SELECT min(timeout_at) FROM jobs WHERE ",
            unfinished!(),
            ") <= ",
            $now,
            ", false) OR COALESCE((SELECT min(lease_until) FROM jobs WHERE status = 'Dispatched') <= ",
            $now,
            ", false) OR COALESCE((SELECT min(wake_at) FROM executions WHERE status IN ('InProgress', 'Stopping')) <= ",
            $now,
            ", false))"
        )
    };
}

/// Whether a queue holds a `Queued` job (matching `$2` when given), as an
/// SQL expression: the head of the queue in `jobs_queued`. Asked as the
/// first row in the index's order, not `EXISTS`: under the generic plan,
/// with `$1` unknown, PostgreSQL expected any queue to hold a share of the
/// table and chose a scan for the first match, which reads the whole table
/// when the polled queue is empty (see `tx/plans.rs`).
macro_rules! queued_in {
    () => {
        "COALESCE((SELECT true FROM jobs WHERE queue = $1 AND status = 'Queued' \
         AND ($2::text IS NULL OR query_value = $2::text) ORDER BY created, seq LIMIT 1), false)"
    };
}

/// [`Tx::anything_due`].
const ANYTHING_DUE: &str = concat!("SELECT ", anything_due!("$1"));

/// [`Tx::poll_probe`]: the action type's revision, whether the queue holds a
/// job for the poll, whether anything is due, in one row.
const POLL_PROBE: &str =
    concat!("SELECT (SELECT revision FROM action_types WHERE key = $1), ", queued_in!(), ", ", anything_due!("$3"));

/// [`Tx::job_with_client`]: the job, its client's token, its queue's action
/// type revision, in one row.
const JOB_WITH_CLIENT: &str = concat!(
    "SELECT ",
    job_columns!(),
    ", (SELECT client_token FROM clients c WHERE c.client_id = jobs.client_id), \
     (SELECT revision FROM action_types t WHERE t.key = jobs.queue) FROM jobs WHERE id = $1"
);

/// [`Tx::update_job`]: the guarded transition.
const UPDATE_JOB: &str = "UPDATE jobs SET status = $2, nonce = $3, lease_until = $4, updated = $5, result = $6 \
     WHERE id = $1 AND status = $7 AND nonce IS NOT DISTINCT FROM $8";

#[cfg(test)]
mod plans;

/// A row count as PostgreSQL binds it.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgTx<'_> {
    /// In a write transaction, waits for and takes the lock of pipeline
    /// `name` of `account` (see the crate's docs: every write that reads a
    /// pipeline's executions, jobs or clients as a set holds it, so such
    /// writes on one pipeline run one after the other, each seeing what the
    /// ones before it committed).
    fn lock(&mut self, account: &str, name: &str) -> StoreResult<()> {
        if !self.write || self.locked.iter().any(|(a, n)| a == account && n == name) {
            return Ok(());
        }
        self.rows(LOCK, &[&account, &name])?;
        self.locked.push((account.to_owned(), name.to_owned()));
        Ok(())
    }

    fn rows(&mut self, sql: &'static str, p: Params<'_>) -> StoreResult<Vec<Row>> {
        self.note_write(sql);
        let stmt = self.conn.statement(sql).map_err(|e| self.conn.fail(&e))?;
        self.conn.query(&stmt, p).map_err(|e| self.conn.fail(&e))
    }

    fn query<T>(
        &mut self,
        sql: &'static str,
        p: Params<'_>,
        f: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.rows(sql, p)?.iter().map(f).collect()
    }

    fn one<T>(
        &mut self,
        sql: &'static str,
        p: Params<'_>,
        f: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.rows(sql, p)?.first().map(f).transpose()
    }

    /// Notes that `sql` may change rows: anything but a `SELECT` (whose
    /// locks, `FOR UPDATE` or advisory, end with the transaction whether or
    /// not its `COMMIT` is awaited).
    fn note_write(&mut self, sql: &str) {
        if !sql.trim_start().starts_with("SELECT") {
            self.conn.wrote = true;
        }
    }

    fn exec(&mut self, sql: &'static str, p: Params<'_>) -> StoreResult<u64> {
        self.note_write(sql);
        let stmt = self.conn.statement(sql).map_err(|e| self.conn.fail(&e))?;
        self.conn.execute(&stmt, p).map_err(|e| self.conn.fail(&e))
    }

    /// Keeps `p`'s declaration as version `p.version`, made at `p.updated`.
    fn insert_pipeline_version(&mut self, p: &PipelineRow, declaration: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO pipeline_versions (account_id, name, version, declaration, created) VALUES ($1, $2, $3, $4, $5)",
            &[&p.account_id, &p.name, &p.version, &declaration, &p.updated],
        )
        .map(|_| ())
    }
}

impl Tx for PgTx<'_> {
    fn get_action_type(&mut self, key: &str) -> StoreResult<Option<Doc>> {
        self.one("SELECT revision, body FROM action_types WHERE key = $1", &[&key], doc_row)
    }

    fn action_type_revision(&mut self, key: &str) -> StoreResult<Option<i64>> {
        self.one("SELECT revision FROM action_types WHERE key = $1", &[&key], |r| get(r, 0))
    }

    fn insert_action_type(&mut self, key: &str, account_id: &str, owner: &str, body: &Value) -> StoreResult<bool> {
        let n = self.exec(
            "INSERT INTO action_types (key, account_id, owner, revision, body) VALUES ($1, $2, $3, 1, $4) \
             ON CONFLICT DO NOTHING",
            &[&key, &account_id, &owner, &json_text(body)],
        )?;
        Ok(n == 1)
    }

    fn update_action_type(&mut self, key: &str, expected_revision: i64, body: &Value) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE action_types SET body = $3, revision = revision + 1 WHERE key = $1 AND revision = $2",
            &[&key, &expected_revision, &json_text(body)],
        )?;
        Ok(n == 1)
    }

    fn list_action_types(&mut self, account_id: &str) -> StoreResult<Vec<Doc>> {
        self.query(
            "SELECT revision, body FROM action_types WHERE owner <> 'Custom' OR account_id = $1 ORDER BY key",
            &[&account_id],
            doc_row,
        )
    }

    fn insert_pipeline(&mut self, p: &PipelineRow) -> StoreResult<bool> {
        self.lock(&p.account_id, &p.name)?;
        let declaration = json_text(&p.declaration);
        let n = self.exec(
            "INSERT INTO pipelines (account_id, name, version, declaration, created, updated, marks_complete) \
             VALUES ($1, $2, $3, $4, $5, $6, true) ON CONFLICT DO NOTHING",
            &[&p.account_id, &p.name, &p.version, &declaration, &p.created, &p.updated],
        )?;
        if n == 1 {
            self.insert_pipeline_version(p, &declaration)?;
        }
        Ok(n == 1)
    }

    fn get_pipeline(&mut self, account_id: &str, name: &str) -> StoreResult<Option<PipelineRow>> {
        self.lock(account_id, name)?;
        self.one(
            concat!("SELECT ", pipeline_columns!(), " FROM pipelines WHERE account_id = $1 AND name = $2"),
            &[&account_id, &name],
            pipeline_row,
        )
    }

    fn update_pipeline(&mut self, p: &PipelineRow, expected_version: i64) -> StoreResult<bool> {
        self.lock(&p.account_id, &p.name)?;
        let declaration = json_text(&p.declaration);
        let n = self.exec(
            "UPDATE pipelines SET version = $3, declaration = $4, updated = $5 \
             WHERE account_id = $1 AND name = $2 AND version = $6",
            &[&p.account_id, &p.name, &p.version, &declaration, &p.updated, &expected_version],
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
             WHERE v.account_id = $1 AND v.name = $2 AND v.version = $3",
            &[&account_id, &name, &version],
            pipeline_row,
        )
    }

    fn delete_pipeline(&mut self, account_id: &str, name: &str) -> StoreResult<bool> {
        self.lock(account_id, name)?;
        self.exec("DELETE FROM executions WHERE account_id = $1 AND pipeline_name = $2", &[&account_id, &name])?;
        self.exec("DELETE FROM latest_reached WHERE account_id = $1 AND pipeline_name = $2", &[&account_id, &name])?;
        self.exec("DELETE FROM reached WHERE account_id = $1 AND pipeline_name = $2", &[&account_id, &name])?;
        self.exec("DELETE FROM pipeline_versions WHERE account_id = $1 AND name = $2", &[&account_id, &name])?;
        self.exec("DELETE FROM stage_transitions WHERE account_id = $1 AND pipeline_name = $2", &[&account_id, &name])?;
        Ok(self.exec("DELETE FROM pipelines WHERE account_id = $1 AND name = $2", &[&account_id, &name])? == 1)
    }

    fn transitions(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<TransitionRow>> {
        self.query(
            "SELECT account_id, pipeline_name, stage_name, enabled, changed_by, changed_at, disabled_reason \
             FROM stage_transitions WHERE account_id = $1 AND pipeline_name = $2 ORDER BY stage_name",
            &[&account_id, &pipeline],
            |r| {
                Ok(TransitionRow {
                    account_id: get(r, 0)?,
                    pipeline_name: get(r, 1)?,
                    stage_name: get(r, 2)?,
                    enabled: get(r, 3)?,
                    changed_by: get(r, 4)?,
                    changed_at: get(r, 5)?,
                    disabled_reason: get(r, 6)?,
                })
            },
        )
    }

    fn put_transition(&mut self, t: &TransitionRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO stage_transitions \
             (account_id, pipeline_name, stage_name, enabled, changed_by, changed_at, disabled_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, pipeline_name, stage_name) DO UPDATE SET \
             enabled = EXCLUDED.enabled, changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at, \
             disabled_reason = EXCLUDED.disabled_reason",
            &[
                &t.account_id,
                &t.pipeline_name,
                &t.stage_name,
                &t.enabled,
                &t.changed_by,
                &t.changed_at,
                &t.disabled_reason,
            ],
        )
        .map(|_| ())
    }

    fn list_pipelines(&mut self, account_id: &str, after: Option<&str>, n: usize) -> StoreResult<Vec<PipelineRow>> {
        self.query(
            concat!(
                "SELECT ",
                pipeline_columns!(),
                " FROM pipelines WHERE account_id = $1 AND name > $2 ORDER BY name LIMIT $3"
            ),
            &[&account_id, &after.unwrap_or(""), &limit(n)],
            pipeline_row,
        )
    }

    fn count_pipelines(&mut self, account_id: &str, at_most: usize) -> StoreResult<usize> {
        // Quotas: two creations in one account count one after the other.
        self.lock(account_id, "*")?;
        let n: Option<i64> = self.one(
            "SELECT COUNT(*) FROM (SELECT 1 FROM pipelines WHERE account_id = $1 LIMIT $2) AS p",
            &[&account_id, &limit(at_most)],
            |r| get(r, 0),
        )?;
        Ok(n.unwrap_or(0) as usize)
    }

    fn insert_execution(&mut self, e: &ExecutionRow) -> StoreResult<()> {
        self.lock(&e.account_id, &e.pipeline_name)?;
        self.exec(
            concat!(
                "INSERT INTO executions (",
                execution_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                &e.id,
                &e.account_id,
                &e.pipeline_name,
                &e.status,
                &e.started,
                &e.updated,
                &e.revision,
                &e.wake_at,
                &e.stage,
                &e.waiting_for,
                &e.doc.as_str(),
            ],
        )?;
        Ok(())
    }

    fn get_execution(&mut self, id: &str) -> StoreResult<Option<ExecutionRow>> {
        self.one(concat!("SELECT ", execution_columns!(), " FROM executions WHERE id = $1"), &[&id], execution_row)
    }

    fn update_execution(&mut self, e: &ExecutionRow, expected_revision: i64) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE executions SET status = $2, updated = $3, wake_at = $4, stage = $5, waiting_for = $6, doc = $7, \
             revision = revision + 1 WHERE id = $1 AND revision = $8",
            &[&e.id, &e.status, &e.updated, &e.wake_at, &e.stage, &e.waiting_for, &e.doc.as_str(), &expected_revision],
        )?;
        Ok(n == 1)
    }

    fn list_executions(
        &mut self,
        account_id: &str,
        pipeline: &str,
        offset: usize,
        n: usize,
    ) -> StoreResult<Vec<ExecutionRow>> {
        self.lock(account_id, pipeline)?;
        self.query(
            concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE account_id = $1 AND pipeline_name = $2 \
                 ORDER BY started DESC, seq DESC LIMIT $3 OFFSET $4"
            ),
            &[&account_id, &pipeline, &limit(n), &limit(offset)],
            execution_row,
        )
    }

    fn due_executions(&mut self, now: Millis, n: usize) -> StoreResult<Vec<ExecutionRow>> {
        self.query(
            concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE status IN ('InProgress', 'Stopping') \
                 AND wake_at <= $1 ORDER BY wake_at, seq LIMIT $2"
            ),
            &[&now, &limit(n)],
            execution_row,
        )
    }

    fn executions_at_stage(&mut self, account_id: &str, pipeline: &str, stage: &str) -> StoreResult<Vec<ExecutionRow>> {
        self.lock(account_id, pipeline)?;
        self.query(
            concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE account_id = $1 AND pipeline_name = $2 \
                 AND status IN ('InProgress', 'Stopping') AND (stage = $3 OR waiting_for = $3) ORDER BY started, seq"
            ),
            &[&account_id, &pipeline, &stage],
            execution_row,
        )
    }

    fn insert_job(&mut self, j: &JobRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO jobs (",
                job_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ),
            &[
                &j.id,
                &j.queue,
                &j.account_id,
                &j.pipeline_name,
                &j.execution_id,
                &j.action_execution_id,
                &j.client_id,
                &j.status.as_str(),
                &j.nonce,
                &j.lease_until,
                &j.timeout_at,
                &j.created,
                &j.updated,
                &j.query_value,
                &j.data.as_str(),
                &j.result.as_ref().map(JsonText::as_str),
            ],
        )?;
        Ok(())
    }

    fn get_job(&mut self, id: &str) -> StoreResult<Option<JobRow>> {
        self.one(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1"), &[&id], job_row)
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
        // One nonce per place the claim may fill: those of places left empty
        // are never used (a nonce costs a random draw; a round trip more to
        // learn first how many jobs were found costs more).
        let nonces: Vec<String> = (0..max).map(|_| nonce()).collect();
        let mut claimed =
            self.query(CLAIM, &[&queue, &query_value, &limit(max), &nonces, &lease_until, &now], |r| {
                Ok((get::<i64>(r, 16)?, job_row(r)?))
            })?;
        claimed.sort_by_key(|(place, _)| *place);
        Ok(claimed.into_iter().map(|(_, job)| job).collect())
    }

    fn may_have_queued(&mut self, queue: &str, query_value: Option<&str>) -> StoreResult<bool> {
        let found = self.one(concat!("SELECT ", queued_in!()), &[&queue, &query_value], |r| get::<bool>(r, 0))?;
        Ok(found == Some(true))
    }

    fn job_with_client(&mut self, id: &str) -> StoreResult<Option<JobWithClient>> {
        self.one(JOB_WITH_CLIENT, &[&id], |r| {
            Ok(JobWithClient { job: job_row(r)?, client_token: get(r, 16)?, type_revision: get(r, 17)? })
        })
    }

    fn poll_probe(&mut self, queue: &str, query_value: Option<&str>, now: Millis) -> StoreResult<PollProbe> {
        let probe = self.one(POLL_PROBE, &[&queue, &query_value, &now], |r| {
            Ok(PollProbe { type_revision: get(r, 0)?, may_have_queued: get(r, 1)?, anything_due: get(r, 2)? })
        })?;
        probe.ok_or_else(|| StoreError::Backend("the poll's checks answered no row".into()))
    }

    fn update_job(
        &mut self,
        j: &JobRow,
        expected_status: JobStatus,
        expected_nonce: Option<&str>,
    ) -> StoreResult<bool> {
        let n = self.exec(
            UPDATE_JOB,
            &[
                &j.id,
                &j.status.as_str(),
                &j.nonce,
                &j.lease_until,
                &j.updated,
                &j.result.as_ref().map(JsonText::as_str),
                &expected_status.as_str(),
                &expected_nonce,
            ],
        )?;
        Ok(n == 1)
    }

    fn expired_leases(&mut self, now: Millis, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE status = 'Dispatched' AND lease_until <= $1 ORDER BY lease_until, seq LIMIT $2"
            ),
            &[&now, &limit(n)],
            job_row,
        )
    }

    fn timed_out_jobs(&mut self, now: Millis, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE ",
                unfinished!(),
                " AND timeout_at <= $1 ORDER BY timeout_at, seq LIMIT $2"
            ),
            &[&now, &limit(n)],
            job_row,
        )
    }

    fn unfinished_jobs_of_execution(&mut self, execution_id: &str) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE execution_id = $1 AND ",
                unfinished!(),
                " ORDER BY created, seq"
            ),
            &[&execution_id],
            job_row,
        )
    }

    fn unfinished_jobs_of_pipeline(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<JobRow>> {
        self.lock(account_id, pipeline)?;
        if self.write {
            // A job is added by a write that also updates its execution (guarded,
            // without the pipeline's lock): locking the pipeline's executions
            // waits for such writes in flight, so the list below holds their
            // jobs, and a later one finds its execution locked, then gone.
            self.rows(
                "SELECT 1 FROM executions WHERE account_id = $1 AND pipeline_name = $2 FOR UPDATE",
                &[&account_id, &pipeline],
            )?;
        }
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE account_id = $1 AND pipeline_name = $2 AND ",
                unfinished!(),
                " ORDER BY created, seq"
            ),
            &[&account_id, &pipeline],
            job_row,
        )
    }

    fn queue_depths(&mut self) -> StoreResult<Vec<(String, u64)>> {
        self.query("SELECT queue, COUNT(*) FROM jobs WHERE status = 'Queued' GROUP BY queue ORDER BY queue", &[], |r| {
            Ok((get(r, 0)?, get::<i64>(r, 1)? as u64))
        })
    }

    fn queue_figures(&mut self, queue: &str) -> StoreResult<QueueFigures> {
        // Each count reads one partial index (`jobs_queued`, `jobs_in_flight`) of this queue only.
        let rows = self.query(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE queue = $1 AND status = 'Queued'), \
                    (SELECT MIN(created) FROM jobs WHERE queue = $1 AND status = 'Queued'), \
                    (SELECT COUNT(*) FROM jobs WHERE queue = $1 AND status IN ('Dispatched', 'InProgress'))",
            &[&queue],
            |r| Ok((get::<i64>(r, 0)?, get::<Option<i64>>(r, 1)?, get::<i64>(r, 2)?)),
        )?;
        let (queued, oldest_queued, in_flight) = rows.into_iter().next().unwrap_or((0, None, 0));
        Ok(QueueFigures { queued: queued as u64, oldest_queued, in_flight: in_flight as u64 })
    }

    fn jobs_in_flight(&mut self, queue: &str, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE queue = $1 AND status IN ('Dispatched', 'InProgress') ORDER BY created, seq LIMIT $2"
            ),
            &[&queue, &limit(n)],
            job_row,
        )
    }

    fn recent_failures(&mut self, queue: &str, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE queue = $1 AND status IN ('Failed', 'TimedOut') ORDER BY updated DESC LIMIT $2"
            ),
            &[&queue, &limit(n)],
            job_row,
        )
    }

    fn mark_reached(&mut self, account_id: &str, pipeline: &str, id: &str, parts: &[String]) -> StoreResult<()> {
        if parts.is_empty() {
            return Ok(());
        }
        // One statement for every part. Rows of this execution only (see
        // migration 5): a part reached again (a retry) is marked once.
        self.exec(
            "INSERT INTO reached (account_id, pipeline_name, part, started, seq, execution_id) \
             SELECT $1, $2, p.part, e.started, e.seq, e.id FROM executions e, unnest($3::text[]) AS p(part) \
             WHERE e.id = $4 ON CONFLICT DO NOTHING",
            &[&account_id, &pipeline, &parts, &id],
        )?;
        Ok(())
    }

    fn latest_reached(
        &mut self,
        account_id: &str,
        pipeline: &str,
        parts: &[String],
    ) -> StoreResult<Option<Vec<(String, String)>>> {
        let complete = self.one(
            "SELECT marks_complete FROM pipelines WHERE account_id = $1 AND name = $2",
            &[&account_id, &pipeline],
            |r| get::<bool>(r, 0),
        )?;
        if complete != Some(true) {
            return Ok(None);
        }
        let found: Vec<(String, String)> = self.query(
            // Per part, the later of this version's rows and the row the
            // version before kept (see migration 5), each an index probe.
            "SELECT p.part, m.execution_id FROM unnest($3::text[]) AS p(part) CROSS JOIN LATERAL ( \
               SELECT execution_id, started, seq FROM ( \
                 (SELECT execution_id, started, seq FROM reached r WHERE r.account_id = $1 \
                    AND r.pipeline_name = $2 AND r.part = p.part ORDER BY started DESC, seq DESC LIMIT 1) \
                 UNION ALL \
                 (SELECT execution_id, started, seq FROM latest_reached l WHERE l.account_id = $1 \
                    AND l.pipeline_name = $2 AND l.part = p.part) \
               ) both_tables ORDER BY started DESC, seq DESC LIMIT 1) m",
            &[&account_id, &pipeline, &parts],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )?;
        // In the order asked for.
        Ok(Some(parts.iter().filter_map(|p| found.iter().find(|(q, _)| q == p).cloned()).collect()))
    }

    fn job_counts(&mut self) -> StoreResult<Vec<(JobStatus, u64)>> {
        let counts: Vec<(String, i64)> =
            self.query("SELECT status, COUNT(*) FROM jobs GROUP BY status", &[], |r| Ok((get(r, 0)?, get(r, 1)?)))?;
        Ok(JobStatus::ALL
            .into_iter()
            .filter_map(|st| counts.iter().find(|(s, _)| s == st.as_str()).map(|(_, n)| (st, *n as u64)))
            .collect())
    }

    fn insert_client(&mut self, c: &ClientRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO clients (", client_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                &c.client_id,
                &c.client_token,
                &c.owner_account,
                &c.queue,
                &c.account_id,
                &c.pipeline_name,
                &c.stage_name,
                &c.action_name,
                &c.created,
            ],
        )?;
        Ok(())
    }

    fn get_client(&mut self, client_id: &str) -> StoreResult<Option<ClientRow>> {
        self.one(concat!("SELECT ", client_columns!(), " FROM clients WHERE client_id = $1"), &[&client_id], client_row)
    }

    fn client_token(&mut self, client_id: &str) -> StoreResult<Option<String>> {
        self.one("SELECT client_token FROM clients WHERE client_id = $1", &[&client_id], |r| get(r, 0))
    }

    fn clients_of_pipeline(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<ClientRow>> {
        self.lock(account_id, pipeline)?;
        self.query(
            concat!(
                "SELECT ",
                client_columns!(),
                " FROM clients WHERE account_id = $1 AND pipeline_name = $2 ORDER BY client_id"
            ),
            &[&account_id, &pipeline],
            client_row,
        )
    }

    fn delete_client(&mut self, client_id: &str) -> StoreResult<bool> {
        Ok(self.exec("DELETE FROM clients WHERE client_id = $1", &[&client_id])? == 1)
    }

    // The upgrade that seals client tokens stored in clear walks these (the
    // domain seals them: the store never holds the key).
    fn all_clients(&mut self, after: Option<&str>, n: usize) -> StoreResult<Vec<ClientRow>> {
        self.query(
            concat!("SELECT ", client_columns!(), " FROM clients WHERE client_id > $1 ORDER BY client_id LIMIT $2"),
            &[&after.unwrap_or(""), &limit(n)],
            client_row,
        )
    }

    fn set_client_token(&mut self, client_id: &str, client_token: &str) -> StoreResult<bool> {
        Ok(self.exec("UPDATE clients SET client_token = $2 WHERE client_id = $1", &[&client_id, &client_token])? == 1)
    }

    fn anything_due(&mut self, now: Millis) -> StoreResult<bool> {
        let due = self.one(ANYTHING_DUE, &[&now], |r| get::<bool>(r, 0))?;
        Ok(due == Some(true))
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
                " FROM clients WHERE owner_account = $1 AND ($2::text IS NULL OR queue = $2::text) \
                 AND client_id > $3 ORDER BY client_id LIMIT $4"
            ),
            &[&owner_account, &queue, &after.unwrap_or(""), &limit(n)],
            client_row,
        )
    }

    fn list_tags(&mut self, resource: &str, after: Option<&str>, n: usize) -> StoreResult<Vec<Tag>> {
        self.query(
            "SELECT key, value FROM tags WHERE resource = $1 AND key > $2 ORDER BY key LIMIT $3",
            &[&resource, &after.unwrap_or(""), &limit(n)],
            |r| Ok(Tag { key: get(r, 0)?, value: get(r, 1)? }),
        )
    }

    fn put_tags(&mut self, resource: &str, tags: &[Tag]) -> StoreResult<()> {
        for t in tags {
            self.exec(
                "INSERT INTO tags (resource, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (resource, key) DO UPDATE SET value = EXCLUDED.value",
                &[&resource, &t.key, &t.value],
            )?;
        }
        Ok(())
    }

    fn delete_tags(&mut self, resource: &str, keys: &[String]) -> StoreResult<()> {
        self.exec("DELETE FROM tags WHERE resource = $1 AND key = ANY($2)", &[&resource, &keys]).map(|_| ())
    }

    fn drop_tags(&mut self, resource: &str) -> StoreResult<()> {
        self.exec("DELETE FROM tags WHERE resource = $1", &[&resource]).map(|_| ())
    }

    fn put_webhook(&mut self, w: &WebhookRow) -> StoreResult<()> {
        let definition = json_text(&w.definition);
        self.exec(
            "INSERT INTO webhooks (account_id, name, id, definition, registered, last_triggered, created, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, name) DO UPDATE SET \
             id = excluded.id, definition = excluded.definition, registered = excluded.registered, \
             last_triggered = excluded.last_triggered, created = excluded.created, updated = excluded.updated",
            &[&w.account_id, &w.name, &w.id, &definition, &w.registered, &w.last_triggered, &w.created, &w.updated],
        )
        .map(|_| ())
    }

    fn get_webhook(&mut self, account_id: &str, name: &str) -> StoreResult<Option<WebhookRow>> {
        self.one(
            concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE account_id = $1 AND name = $2"),
            &[&account_id, &name],
            webhook_row,
        )
    }

    fn webhook_by_id(&mut self, account_id: &str, id: &str) -> StoreResult<Option<WebhookRow>> {
        self.one(
            concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE id = $1 AND account_id = $2"),
            &[&id, &account_id],
            webhook_row,
        )
    }

    fn list_webhooks(&mut self, account_id: &str, after: Option<&str>, n: usize) -> StoreResult<Vec<WebhookRow>> {
        self.query(
            concat!(
                "SELECT ",
                webhook_columns!(),
                " FROM webhooks WHERE account_id = $1 AND name > $2 ORDER BY name LIMIT $3"
            ),
            &[&account_id, &after.unwrap_or(""), &limit(n)],
            webhook_row,
        )
    }

    fn webhook_triggered(&mut self, account_id: &str, name: &str, id: &str, at: Millis) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE webhooks SET last_triggered = $4 WHERE account_id = $1 AND name = $2 AND id = $3",
            &[&account_id, &name, &id, &at],
        )?;
        Ok(n == 1)
    }

    fn delete_webhook(&mut self, account_id: &str, name: &str) -> StoreResult<bool> {
        Ok(self.exec("DELETE FROM webhooks WHERE account_id = $1 AND name = $2", &[&account_id, &name])? == 1)
    }
}
