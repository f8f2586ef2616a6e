//! Row mapping: the columns each query selects, in the order the mapping
//! functions read them, and the conversions between stored text and the
//! core's row types. A stored value that does not read back (unknown job
//! status, unreadable JSON) is a conversion error, never a default.

use cpjobs_core::JobStatus;
use cpjobs_core::store::{ClientRow, Doc, ExecutionRow, JobRow, JsonText, PipelineRow, WebhookRow};
use rusqlite::Row;
use serde_json::Value;

/// A JSON value as stored text.
pub(crate) fn json_text(v: &Value) -> String {
    serde_json::to_string(v).expect("JSON value serializes")
}

/// Stored JSON text as a value.
fn parse_json(s: &str) -> rusqlite::Result<Value> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// A stored job status.
fn status_of(s: &str) -> rusqlite::Result<JobStatus> {
    JobStatus::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown job status {s}").into(),
        )
    })
}

/// The columns [`job_row`] reads, in its order.
macro_rules! job_columns {
    () => {
        "id, queue, account_id, pipeline_name, execution_id, action_execution_id, client_id, status, nonce, lease_until, timeout_at, created, updated, query_value, data, result"
    };
}
pub(crate) use job_columns;

pub(crate) fn job_row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
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

/// The columns [`pipeline_row`] reads, in its order.
macro_rules! pipeline_columns {
    () => {
        "account_id, name, version, declaration, created, updated"
    };
}
pub(crate) use pipeline_columns;

pub(crate) fn pipeline_row(r: &Row<'_>) -> rusqlite::Result<PipelineRow> {
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
pub(crate) use execution_columns;

pub(crate) fn execution_row(r: &Row<'_>) -> rusqlite::Result<ExecutionRow> {
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

/// The columns [`client_row`] reads, in its order.
macro_rules! client_columns {
    () => {
        "client_id, client_token, owner_account, queue, account_id, pipeline_name, stage_name, action_name, created"
    };
}
pub(crate) use client_columns;

pub(crate) fn client_row(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
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

/// An action type: its revision and body.
pub(crate) fn doc_row(r: &Row<'_>) -> rusqlite::Result<Doc> {
    Ok(Doc { revision: r.get(0)?, body: parse_json(&r.get::<_, String>(1)?)? })
}

/// The columns [`webhook_row`] reads, in its order.
macro_rules! webhook_columns {
    () => {
        "account_id, name, id, definition, registered, last_triggered, created, updated"
    };
}
pub(crate) use webhook_columns;

pub(crate) fn webhook_row(r: &Row<'_>) -> rusqlite::Result<WebhookRow> {
    Ok(WebhookRow {
        account_id: r.get(0)?,
        name: r.get(1)?,
        id: r.get(2)?,
        definition: parse_json(&r.get::<_, String>(3)?)?,
        registered: r.get(4)?,
        last_triggered: r.get(5)?,
        created: r.get(6)?,
        updated: r.get(7)?,
    })
}
