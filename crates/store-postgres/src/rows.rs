//! Row mapping: the columns each query selects, in the order the mapping
//! functions read them, and the conversions between stored text and the
//! core's row types. A stored value that does not read back (unknown job
//! status, unreadable JSON) is a backend failure, never a default.

use cpjobs_core::store::{ClientRow, Doc, ExecutionRow, JobRow, JsonText, PipelineRow, StoreResult, WebhookRow};
use cpjobs_core::{JobStatus, StoreError};
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// A JSON value as stored text.
pub(crate) fn json_text(v: &Value) -> String {
    serde_json::to_string(v).expect("JSON value serializes")
}

/// Column `i` of `r`.
pub(crate) fn get<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i).map_err(|e| StoreError::Backend(format!("PostgreSQL: column {i} does not read back: {e}")))
}

/// Stored JSON text as a value.
fn parse_json(s: &str) -> StoreResult<Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("stored JSON is unreadable: {e}")))
}

/// The columns [`job_row`] reads, in its order.
macro_rules! job_columns {
    () => {
        "id, queue, account_id, pipeline_name, execution_id, action_execution_id, client_id, status, nonce, lease_until, timeout_at, created, updated, query_value, data, result"
    };
}
pub(crate) use job_columns;

pub(crate) fn job_row(r: &Row) -> StoreResult<JobRow> {
    let status: &str = get(r, 7)?;
    let result: Option<String> = get(r, 15)?;
    Ok(JobRow {
        id: get(r, 0)?,
        queue: get(r, 1)?,
        account_id: get(r, 2)?,
        pipeline_name: get(r, 3)?,
        execution_id: get(r, 4)?,
        action_execution_id: get(r, 5)?,
        client_id: get(r, 6)?,
        status: JobStatus::parse(status)
            .ok_or_else(|| StoreError::Backend(format!("unknown job status {status} stored")))?,
        nonce: get(r, 8)?,
        lease_until: get(r, 9)?,
        timeout_at: get(r, 10)?,
        created: get(r, 11)?,
        updated: get(r, 12)?,
        query_value: get(r, 13)?,
        data: JsonText::from_stored(get(r, 14)?),
        result: result.map(JsonText::from_stored),
    })
}

/// The columns [`pipeline_row`] reads, in its order.
macro_rules! pipeline_columns {
    () => {
        "account_id, name, version, declaration, created, updated"
    };
}
pub(crate) use pipeline_columns;

pub(crate) fn pipeline_row(r: &Row) -> StoreResult<PipelineRow> {
    Ok(PipelineRow {
        account_id: get(r, 0)?,
        name: get(r, 1)?,
        version: get(r, 2)?,
        declaration: parse_json(get(r, 3)?)?,
        created: get(r, 4)?,
        updated: get(r, 5)?,
    })
}

/// The columns [`execution_row`] reads, in its order.
macro_rules! execution_columns {
    () => {
        "id, account_id, pipeline_name, status, started, updated, revision, wake_at, stage, waiting_for, doc"
    };
}
pub(crate) use execution_columns;

pub(crate) fn execution_row(r: &Row) -> StoreResult<ExecutionRow> {
    Ok(ExecutionRow {
        id: get(r, 0)?,
        account_id: get(r, 1)?,
        pipeline_name: get(r, 2)?,
        status: get(r, 3)?,
        started: get(r, 4)?,
        updated: get(r, 5)?,
        revision: get(r, 6)?,
        wake_at: get(r, 7)?,
        stage: get(r, 8)?,
        waiting_for: get(r, 9)?,
        doc: JsonText::from_stored(get(r, 10)?),
    })
}

/// The columns [`client_row`] reads, in its order.
macro_rules! client_columns {
    () => {
        "client_id, client_token, owner_account, queue, account_id, pipeline_name, stage_name, action_name, created"
    };
}
pub(crate) use client_columns;

pub(crate) fn client_row(r: &Row) -> StoreResult<ClientRow> {
    Ok(ClientRow {
        client_id: get(r, 0)?,
        client_token: get(r, 1)?,
        owner_account: get(r, 2)?,
        queue: get(r, 3)?,
        account_id: get(r, 4)?,
        pipeline_name: get(r, 5)?,
        stage_name: get(r, 6)?,
        action_name: get(r, 7)?,
        created: get(r, 8)?,
    })
}

/// An action type: its revision and body.
pub(crate) fn doc_row(r: &Row) -> StoreResult<Doc> {
    Ok(Doc { revision: get(r, 0)?, body: parse_json(get(r, 1)?)? })
}

/// The columns [`webhook_row`] reads, in its order.
macro_rules! webhook_columns {
    () => {
        "account_id, name, id, definition, registered, last_triggered, created, updated"
    };
}
pub(crate) use webhook_columns;

pub(crate) fn webhook_row(r: &Row) -> StoreResult<WebhookRow> {
    Ok(WebhookRow {
        account_id: get(r, 0)?,
        name: get(r, 1)?,
        id: get(r, 2)?,
        definition: parse_json(get(r, 3)?)?,
        registered: get(r, 4)?,
        last_triggered: get(r, 5)?,
        created: get(r, 6)?,
        updated: get(r, 7)?,
    })
}
