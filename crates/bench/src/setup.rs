//! What the measured phases need in place, and nothing they measure: the
//! configuration file, the pipeline, executions started through the API, and
//! (for the deep queues of the latency phase only) queued jobs copied in bulk
//! in SQL from a job the service itself created, in the SQLite file (here) or
//! the PostgreSQL database (`pgfill.rs`); the service key nodes share.

use std::path::Path;

use serde_json::{Value, json};

/// The customer account: owns the pipeline, starts executions.
pub(crate) const CUSTOMER: (&str, &str, &str) = ("111111111111", "AKIABENCHCUSTOMER001", "bench-customer-secret");
/// The partner account: owns the third-party action type and polls it.
pub(crate) const PARTNER: (&str, &str, &str) = ("222222222222", "AKIABENCHPARTNER0001", "bench-partner-secret");
/// The pipeline every phase uses.
pub(crate) const PIPELINE: &str = "bench";

/// The third-party action type the partner owns and polls.
pub(crate) fn action_type() -> Value {
    json!({"category": "Source", "owner": "ThirdParty", "provider": "BenchSource", "version": "1"})
}

/// The service's configuration: both accounts and the partner's action type.
pub(crate) fn write_config(path: &Path, top: &str) -> Result<(), String> {
    let text = format!(
        r#"{top}region = "us-east-1"
[[account]]
id = "{c}"
[[account.principal]]
access_key_id = "{ck}"
secret_access_key = "{cs}"
[[account]]
id = "{p}"
[[account.principal]]
access_key_id = "{pk}"
secret_access_key = "{ps}"
[[third_party_action_type]]
owner_account = "{p}"
category = "Source"
provider = "BenchSource"
version = "1"
polling_accounts = ["{p}"]
job_timeout_seconds = 3600
"#,
        c = CUSTOMER.0,
        ck = CUSTOMER.1,
        cs = CUSTOMER.2,
        p = PARTNER.0,
        pk = PARTNER.1,
        ps = PARTNER.2,
    );
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes a fresh random 32-byte service key to `path`, private to its
/// owner (as `cpjobs serve --service-key-file` requires), for nodes that
/// share one database. The path, for the nodes' command lines.
pub(crate) fn write_service_key(path: &Path) -> Result<std::path::PathBuf, String> {
    use std::io::{Read as _, Write as _};
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(&key))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.to_owned())
}

/// `CreatePipeline` input: the partner's source action, then a manual
/// approval (so a successful job finishes its action and moves the execution
/// on, as in a real pipeline). `PARALLEL` so every execution reaches its
/// source job at once.
pub(crate) fn pipeline() -> Value {
    json!({"pipeline": {
        "name": PIPELINE,
        "roleArn": format!("arn:aws:iam::{}:role/bench", CUSTOMER.0),
        "artifactStore": {"type": "S3", "location": "bench-artifacts"},
        "pipelineType": "V2",
        "executionMode": "PARALLEL",
        "stages": [
            {"name": "Source", "actions": [{
                "name": "Fetch", "actionTypeId": action_type(), "runOrder": 1,
                "outputArtifacts": [{"name": "src"}]
            }]},
            {"name": "Gate", "actions": [{
                "name": "Approve", "runOrder": 1,
                "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}
            }]}
        ]
    }})
}

/// Adds `count` queued jobs to the service's SQLite file, each a copy of the
/// queued job `template` (same queue, client, execution and data; a fresh id;
/// status `Queued`), in transactions of 50k rows. For the latency phase's deep
/// queues only: the copies are polled, never completed. Written against
/// schema versions 1 to 7 of `cpjobs-store-sqlite` (the same `jobs` table); the service may keep running
/// (SQLite locks the file between processes). Ends with a WAL checkpoint.
pub(crate) fn bulk_queue(db: &Path, template: &str, count: u64) -> Result<(), String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let version: i64 =
        conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if !(1..=7).contains(&version) {
        return Err(format!("the bulk setup knows schema versions 1 to 7, the file is at {version}"));
    }
    let sql = "INSERT INTO jobs (id, queue, account_id, pipeline_name, execution_id, action_execution_id, \
               client_id, status, nonce, lease_until, timeout_at, created, updated, query_value, data, result) \
               WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2) \
               SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) \
                 || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), \
               queue, account_id, pipeline_name, execution_id, action_execution_id, client_id, 'Queued', NULL, NULL, \
               timeout_at, created, updated, query_value, data, NULL FROM jobs, n WHERE jobs.id = ?1";
    let mut left = count;
    while left > 0 {
        let n = left.min(50_000);
        let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
        let added = tx.execute(sql, rusqlite::params![template, n as i64]).map_err(|e| e.to_string())?;
        if added as u64 != n {
            return Err(format!("bulk queue: {added} rows added, {n} wanted (is {template} in the file?)"));
        }
        tx.commit().map_err(|e| e.to_string())?;
        left -= n;
    }
    // Move the bulk rows from the WAL into the database file, as SQLite's
    // automatic checkpoints would have done had they been queued over time:
    // otherwise every read of the measured polls searches a WAL of a gigabyte.
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| e.to_string())?;
    Ok(())
}
