//! The transaction's queries: [`SqliteTx`] implements the core's [`Tx`] on
//! one connection, inside whatever transaction the caller opened (a reader's
//! `BEGIN DEFERRED`, or a write's savepoint in the writer's batch). Every
//! statement goes through the connection's statement cache; the queries a
//! test checks the plan of are named constants.

use cpjobs_core::JobStatus;
use cpjobs_core::store::{
    ClientRow, Doc, ExecutionRow, JobRow, JsonText, Millis, PipelineRow, QueueFigures, StoreResult, Tag, TransitionRow,
    Tx, WebhookRow,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use crate::conn::backend;
use crate::rows::{
    client_columns, client_row, doc_row, execution_columns, execution_row, job_columns, job_row, json_text,
    pipeline_columns, pipeline_row, webhook_columns, webhook_row,
};

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
// The plan tests check queries against it.
#[cfg(test)]
pub(crate) use unfinished;

/// [`Tx::anything_due`] in one statement: each `EXISTS` repeats the query of
/// its list (and so uses the same partial index), which a test checks.
pub(crate) const ANYTHING_DUE: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE ",
    unfinished!(),
    " AND timeout_at <= ?1) \
     OR EXISTS (SELECT 1 FROM jobs WHERE status = 'Dispatched' AND lease_until <= ?1) \
     OR EXISTS (SELECT 1 FROM executions WHERE status IN ('InProgress', 'Stopping') AND wake_at <= ?1)"
);

/// The queries of one transaction, on the connection that runs it.
pub(crate) struct SqliteTx<'c> {
    pub(crate) conn: &'c Connection,
}

/// The oldest queued jobs of a queue: must be answered from `jobs_queue`
/// alone, without a scan or a sort (tested).
pub(crate) const CLAIM_CANDIDATES: &str = "SELECT id FROM jobs WHERE queue = ?1 AND status = 'Queued' \
     AND (?2 IS NULL OR query_value = ?2) ORDER BY created, seq LIMIT ?3";

/// Whether a queue has a queued job: answered from `jobs_queue` alone (tested).
pub(crate) const ANY_QUEUED: &str =
    "SELECT 1 FROM jobs WHERE queue = ?1 AND status = 'Queued' AND (?2 IS NULL OR query_value = ?2) LIMIT 1";

/// A queue's queued jobs: counted from `jobs_queue` alone (tested).
pub(crate) const QUEUED_FIGURES: &str =
    "SELECT COUNT(*), MIN(created) FROM jobs WHERE queue = ?1 AND status = 'Queued'";

/// A queue's jobs in flight: counted from `jobs_queue` alone (tested).
pub(crate) const IN_FLIGHT_COUNT: &str =
    "SELECT COUNT(*) FROM jobs WHERE queue = ?1 AND status IN ('Dispatched', 'InProgress')";

/// A queue's jobs in flight, oldest first: two ranges of `jobs_queue`
/// merged by a sort of the jobs in flight only (as many as there are workers).
pub(crate) const IN_FLIGHT_JOBS: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE queue = ?1 AND status IN ('Dispatched', 'InProgress') ORDER BY created, seq LIMIT ?2"
);

/// A queue's latest failures: the head of `jobs_failures`, without a sort
/// (tested). Repeats the index's predicate word for word, so SQLite uses it.
pub(crate) const RECENT_FAILURES: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE queue = ?1 AND (status = 'Failed' OR status = 'TimedOut') ORDER BY updated DESC LIMIT ?2"
);

/// Marks one part reached by an execution: kept only if the execution is
/// later (start time, then insertion) than the one marked so far. An update
/// whose `WHERE` fails writes nothing, so marking a part again costs a lookup.
pub(crate) const MARK_REACHED: &str = "INSERT INTO latest_reached (account_id, pipeline_name, part, execution_id, started, seq) \
     SELECT ?1, ?2, ?3, id, started, seq FROM executions WHERE id = ?4 \
     ON CONFLICT (account_id, pipeline_name, part) DO UPDATE SET \
       execution_id = excluded.execution_id, started = excluded.started, seq = excluded.seq \
     WHERE (excluded.started, excluded.seq) > (latest_reached.started, latest_reached.seq)";

/// Unfinished jobs past their timeout, oldest first.
pub(crate) const TIMED_OUT_JOBS: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE ",
    unfinished!(),
    " AND timeout_at <= ?1 ORDER BY timeout_at LIMIT ?2"
);

/// Whether an insert failed on a key that exists already.
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

/// A row count as SQLite binds it.
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
            "INSERT INTO pipelines (account_id, name, version, declaration, created, updated, marks_complete) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
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
        self.exec("DELETE FROM latest_reached WHERE account_id = ?1 AND pipeline_name = ?2", [account_id, name])?;
        self.exec("DELETE FROM pipeline_versions WHERE account_id = ?1 AND name = ?2", [account_id, name])?;
        self.exec("DELETE FROM stage_transitions WHERE account_id = ?1 AND pipeline_name = ?2", [account_id, name])?;
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

    fn transitions(&mut self, account_id: &str, pipeline: &str) -> StoreResult<Vec<TransitionRow>> {
        self.query(
            "SELECT account_id, pipeline_name, stage_name, enabled, changed_by, changed_at, disabled_reason \
             FROM stage_transitions WHERE account_id = ?1 AND pipeline_name = ?2 ORDER BY stage_name",
            [account_id, pipeline],
            |r| {
                Ok(TransitionRow {
                    account_id: r.get(0)?,
                    pipeline_name: r.get(1)?,
                    stage_name: r.get(2)?,
                    enabled: r.get(3)?,
                    changed_by: r.get(4)?,
                    changed_at: r.get(5)?,
                    disabled_reason: r.get(6)?,
                })
            },
        )
    }

    fn put_transition(&mut self, t: &TransitionRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO stage_transitions \
             (account_id, pipeline_name, stage_name, enabled, changed_by, changed_at, disabled_reason) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account_id, pipeline_name, stage_name) DO UPDATE SET \
             enabled = excluded.enabled, changed_by = excluded.changed_by, changed_at = excluded.changed_at, \
             disabled_reason = excluded.disabled_reason",
            params![
                t.account_id,
                t.pipeline_name,
                t.stage_name,
                t.enabled,
                t.changed_by,
                t.changed_at,
                t.disabled_reason
            ],
        )
        .map(|_| ())
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

    fn mark_reached(&mut self, account_id: &str, pipeline: &str, id: &str, parts: &[String]) -> StoreResult<()> {
        for part in parts {
            self.exec(MARK_REACHED, params![account_id, pipeline, part, id])?;
        }
        Ok(())
    }

    fn latest_reached(
        &mut self,
        account_id: &str,
        pipeline: &str,
        parts: &[String],
    ) -> StoreResult<Option<Vec<(String, String)>>> {
        let complete = self.one(
            "SELECT marks_complete FROM pipelines WHERE account_id = ?1 AND name = ?2",
            [account_id, pipeline],
            |r| r.get::<_, bool>(0),
        )?;
        if complete != Some(true) {
            return Ok(None);
        }
        let mut found = Vec::new();
        for part in parts {
            let id = self.one(
                "SELECT execution_id FROM latest_reached WHERE account_id = ?1 AND pipeline_name = ?2 AND part = ?3",
                [account_id, pipeline, part],
                |r| r.get::<_, String>(0),
            )?;
            if let Some(id) = id {
                found.push((part.clone(), id));
            }
        }
        Ok(Some(found))
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

    fn queue_figures(&mut self, queue: &str) -> StoreResult<QueueFigures> {
        let (queued, oldest_queued) = self
            .one(QUEUED_FIGURES, [queue], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Millis>>(1)?)))?
            .unwrap_or((0, None));
        let in_flight = self.one(IN_FLIGHT_COUNT, [queue], |r| r.get::<_, i64>(0))?.unwrap_or(0);
        Ok(QueueFigures { queued: queued as u64, oldest_queued, in_flight: in_flight as u64 })
    }

    fn jobs_in_flight(&mut self, queue: &str, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(IN_FLIGHT_JOBS, params![queue, limit(n)], job_row)
    }

    fn recent_failures(&mut self, queue: &str, n: usize) -> StoreResult<Vec<JobRow>> {
        self.query(RECENT_FAILURES, params![queue, limit(n)], job_row)
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

    // The upgrade that seals client tokens stored in clear walks these (the
    // domain seals them: the store never holds the key).
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

    fn put_webhook(&mut self, w: &WebhookRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhooks (account_id, name, id, definition, registered, last_triggered, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (account_id, name) DO UPDATE SET \
             id = excluded.id, definition = excluded.definition, registered = excluded.registered, \
             last_triggered = excluded.last_triggered, created = excluded.created, updated = excluded.updated",
            params![
                w.account_id,
                w.name,
                w.id,
                json_text(&w.definition),
                w.registered,
                w.last_triggered,
                w.created,
                w.updated
            ],
        )
        .map(|_| ())
    }

    fn get_webhook(&mut self, account_id: &str, name: &str) -> StoreResult<Option<WebhookRow>> {
        self.one(
            concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE account_id = ?1 AND name = ?2"),
            [account_id, name],
            webhook_row,
        )
    }

    fn webhook_by_id(&mut self, account_id: &str, id: &str) -> StoreResult<Option<WebhookRow>> {
        self.one(
            concat!("SELECT ", webhook_columns!(), " FROM webhooks WHERE id = ?1 AND account_id = ?2"),
            [id, account_id],
            webhook_row,
        )
    }

    fn list_webhooks(&mut self, account_id: &str, after: Option<&str>, n: usize) -> StoreResult<Vec<WebhookRow>> {
        self.query(
            concat!(
                "SELECT ",
                webhook_columns!(),
                " FROM webhooks WHERE account_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
            ),
            params![account_id, after.unwrap_or(""), limit(n)],
            webhook_row,
        )
    }

    fn webhook_triggered(&mut self, account_id: &str, name: &str, id: &str, at: Millis) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE webhooks SET last_triggered = ?4 WHERE account_id = ?1 AND name = ?2 AND id = ?3",
            params![account_id, name, id, at],
        )?;
        Ok(n == 1)
    }

    fn delete_webhook(&mut self, account_id: &str, name: &str) -> StoreResult<bool> {
        Ok(self.exec("DELETE FROM webhooks WHERE account_id = ?1 AND name = ?2", [account_id, name])? == 1)
    }
}
