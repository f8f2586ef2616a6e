//! The schema: numbered migrations (`migrations/NNNN_what.sql`), applied in
//! order in one transaction when the store opens. The version a database is
//! at is the largest number in `schema_version`; a migration, once released,
//! is never edited, since databases already at its version never run it again.
//!
//! Several nodes may start at once on one database: each takes a
//! transaction-scoped advisory lock (keyed by the schema the connection
//! writes to) before it looks at the version, so one applies the migrations
//! and the others find them applied.

use crate::pool::Conn;

/// Schema migrations; index `i` brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_stage_transitions.sql"),
    include_str!("../migrations/0003_webhooks.sql"),
    include_str!("../migrations/0004_console_reads.sql"),
    include_str!("../migrations/0005_reached_rows.sql"),
];

/// The advisory lock's key: the schema's name hashed, under a prefix of ours.
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('cpjobs schema ' || current_schema()))";

/// Brings the schema up to date: every migration the database lacks, and
/// its version, in one transaction (a failed upgrade leaves it as it was).
pub(crate) fn migrate(conn: &mut Conn) -> Result<i64, tokio_postgres::Error> {
    let client = std::sync::Arc::clone(&conn.client);
    conn.wait(async {
        client.batch_execute("BEGIN").await?;
        let r = async {
            client.batch_execute(LOCK).await?;
            client.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)").await?;
            let current: Option<i64> = client.query_one("SELECT MAX(version) FROM schema_version", &[]).await?.get(0);
            let current = current.unwrap_or(0);
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
                client.batch_execute(sql).await?;
                client.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&(i as i64 + 1)]).await?;
            }
            Ok(current.max(MIGRATIONS.len() as i64))
        }
        .await;
        match r {
            Ok(v) => client.batch_execute("COMMIT").await.map(|()| v),
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Err(e)
            }
        }
    })
}
