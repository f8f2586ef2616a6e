//! The schema: numbered migrations (`migrations/NNNN_what.sql`), applied in
//! order in one transaction when a file is opened. The version a file is at
//! is the largest number in `schema_version`; a migration, once released, is
//! never edited, since files already at its version never run it again.

use rusqlite::Connection;

/// Schema migrations; index `i` brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_unfinished_partial_indexes_with_or.sql"),
    include_str!("../migrations/0003_pipeline_versions.sql"),
    include_str!("../migrations/0004_tags.sql"),
    include_str!("../migrations/0005_stage_transitions.sql"),
    include_str!("../migrations/0006_webhooks.sql"),
    include_str!("../migrations/0007_console_reads.sql"),
];

/// Brings the schema of `conn`'s file up to date: every migration the file
/// lacks, and its version, in one transaction (a failed upgrade leaves the
/// file as it was).
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", [])?;
    let current: Option<i64> = tx.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?;
    let current = current.unwrap_or(0) as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql)?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1])?;
    }
    tx.commit()
}
