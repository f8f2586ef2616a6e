//! What only the SQLite store's own internals can show: query plans use
//! the indexes they were written for, statements are not prepared again,
//! and files of older schema versions upgrade as they should.

use cpjobs_core::Store;
use cpjobs_core::store::{JobRow, Millis, PipelineRow, StoreResult, Tag};
use rusqlite::{Connection, params};
use serde_json::Value;

use crate::SqliteStore;
use crate::conn::lock;
use crate::rows::json_text;
use crate::schema::MIGRATIONS;
use crate::tx::{
    ANY_QUEUED, ANYTHING_DUE, CLAIM_CANDIDATES, IN_FLIGHT_COUNT, IN_FLIGHT_JOBS, QUEUED_FIGURES, RECENT_FAILURES,
    TIMED_OUT_JOBS, unfinished,
};

fn plan(store: &SqliteStore, sql: &str) -> String {
    let batch = lock(&store.writes.writer.state);
    let mut stmt = batch.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
    let values: [&dyn rusqlite::ToSql; 3] = [&"q", &Option::<String>::None, &1];
    let rows = stmt.query_map(&values[..stmt.parameter_count()], |r| r.get::<_, String>(3)).expect("plan");
    rows.collect::<rusqlite::Result<Vec<_>>>().expect("plan rows").join("; ")
}

#[test]
fn unfinished_jobs_use_their_partial_indexes_and_updates_no_temporary_tables() {
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-unfinished-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = SqliteStore::open(dir.join("plan.sqlite")).expect("open");
    for (sql, index) in [
        (
            concat!("SELECT id FROM jobs WHERE ", unfinished!(), " AND timeout_at <= ?1 ORDER BY timeout_at LIMIT ?2"),
            "jobs_timeouts",
        ),
        (
            concat!("SELECT id FROM jobs WHERE execution_id = ?1 AND ", unfinished!(), " ORDER BY created, seq"),
            "jobs_by_execution",
        ),
        (
            concat!(
                "SELECT id FROM jobs WHERE account_id = ?1 AND pipeline_name = ?2 AND ",
                unfinished!(),
                " ORDER BY created, seq"
            ),
            "jobs_by_pipeline",
        ),
    ] {
        let p = plan(&store, sql);
        assert!(p.contains(&format!("USING INDEX {index}")), "{p}");
    }
    assert!(ANYTHING_DUE.contains(unfinished!()));
    let p = plan(&store, ANYTHING_DUE);
    for index in ["jobs_timeouts", "jobs_leases", "executions_due"] {
        assert!(p.contains(&format!("INDEX {index} ")), "{p}");
    }
    {
        let batch = lock(&store.writes.writer.state);
        let mut stmt = batch
            .conn
            .prepare(
                "EXPLAIN UPDATE jobs SET status = ?2, nonce = ?3, lease_until = ?4, updated = ?5, result = ?6 \
                 WHERE id = ?1 AND status = ?7 AND nonce IS ?8",
            )
            .expect("explain");
        let ops = stmt.query_map([rusqlite::types::Null; 8], |r| r.get::<_, String>(1)).expect("ops");
        let ops = ops.collect::<rusqlite::Result<Vec<_>>>().expect("ops");
        assert!(!ops.iter().any(|o| o == "OpenEphemeral"), "{ops:?}");
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn claims_use_the_queue_index_without_sorting() {
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = SqliteStore::open(dir.join("plan.sqlite")).expect("open");
    let p = plan(&store, CLAIM_CANDIDATES);
    assert!(p.contains("USING INDEX jobs_queue"), "{p}");
    assert!(!p.contains("TEMP B-TREE"), "claims must not sort: {p}");
    let p = plan(&store, ANY_QUEUED);
    assert!(p.contains("USING INDEX jobs_queue"), "{p}");
    let stat: i64 = lock(&store.writes.writer.state)
        .conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'", [], |r| r.get(0))
        .expect("stat tables");
    assert_eq!(stat, 0, "no ANALYZE: STAT4 would re-plan every claim");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn queue_reads_stay_in_the_queue_s_own_index_ranges() {
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-queue-reads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = SqliteStore::open(dir.join("plan.sqlite")).expect("open");
    for sql in [QUEUED_FIGURES, IN_FLIGHT_COUNT] {
        let p = plan(&store, sql);
        assert!(p.contains("USING COVERING INDEX jobs_queue (queue=? AND status=?)"), "{sql}: {p}");
    }
    let p = plan(&store, IN_FLIGHT_JOBS);
    assert!(p.contains("USING INDEX jobs_queue (queue=? AND status=?)"), "{p}");
    let p = plan(&store, RECENT_FAILURES);
    assert!(p.contains("USING INDEX jobs_failures (queue=?)"), "{p}");
    assert!(!p.contains("TEMP B-TREE"), "the latest failures are the head of their index: {p}");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bound_limits_do_not_prepare_statements_again() {
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-reprepare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = SqliteStore::open(dir.join("reprepare.sqlite")).expect("open");
    for round in 0..3i64 {
        let _: Vec<JobRow> = store
            .read(&mut |tx| -> StoreResult<_> {
                tx.timed_out_jobs(round, 1 + round as usize)?;
                tx.claim_jobs("q", None, 0, 0, 0, &mut String::new)
            })
            .expect("read");
    }
    let conn = lock(&store.readers).pop().expect("an idle reader");
    for sql in [TIMED_OUT_JOBS, CLAIM_CANDIDATES] {
        let stmt = conn.prepare_cached(sql).expect("cached");
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
    }
    drop((conn, store));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_version_3_file_moves_live_custom_action_type_tags_to_the_tags_table() {
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-v3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("v3.sqlite");
    let _ = std::fs::remove_file(&path);
    // A file as a version-3 build left it: tags kept in the custom action types' bodies.
    let conn = Connection::open(&path).expect("create");
    conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)").expect("versions");
    for (i, sql) in MIGRATIONS[..3].iter().enumerate() {
        conn.execute_batch(sql).expect("migration");
        conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1]).expect("version");
    }
    let tags = serde_json::json!([
        {"key": "team", "value": "a"}, {"key": "aws:x", "value": "b"},
        {"key": "team", "value": "ci"}, {"key": "env", "value": ""}
    ]);
    for (key, owner, deleted, tags) in [
        ("Custom/1/Build/Kept/1", "Custom", false, tags.clone()),
        ("Custom/1/Build/Gone/1", "Custom", true, tags.clone()),
        ("Custom/1/Build/None/1", "Custom", false, Value::Null),
        ("ThirdParty/Build/P/1", "ThirdParty", false, tags),
    ] {
        let body = serde_json::json!({"tags": tags, "deleted": deleted});
        conn.execute(
            "INSERT INTO action_types (key, account_id, owner, revision, body) VALUES (?1, '1', ?2, 1, ?3)",
            params![key, owner, json_text(&body)],
        )
        .expect("action type");
    }
    drop(conn);

    let store = SqliteStore::open(&path).expect("open a version-3 file");
    assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len() as i64);
    let tags =
        |resource: &str| store.read(&mut |tx| -> StoreResult<_> { tx.list_tags(resource, None, 100) }).expect("read");
    let tag = |key: &str, value: &str| Tag { key: key.into(), value: value.into() };
    assert_eq!(
        tags("actiontype/Custom/1/Build/Kept/1"),
        vec![tag("env", ""), tag("team", "ci")],
        "by key, the last of a repeated key, no reserved key"
    );
    for gone in
        ["actiontype/Custom/1/Build/Gone/1", "actiontype/Custom/1/Build/None/1", "actiontype/ThirdParty/Build/P/1"]
    {
        assert_eq!(tags(gone), vec![], "{gone}");
    }
    drop(store);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_version_2_file_keeps_its_current_pipeline_versions() {
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-v2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("v2.sqlite");
    let _ = std::fs::remove_file(&path);
    // A file as a version-2 build left it: migrations 1 and 2 only, two pipelines.
    let conn = Connection::open(&path).expect("create");
    conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)").expect("versions");
    for (i, sql) in MIGRATIONS[..2].iter().enumerate() {
        conn.execute_batch(sql).expect("migration");
        conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1]).expect("version");
    }
    let row = |name: &str, version: i64, created: Millis, updated: Millis| PipelineRow {
        account_id: "1".into(),
        name: name.into(),
        version,
        declaration: serde_json::json!({"name": name, "version": version}),
        created,
        updated,
    };
    let (a, b) = (row("a", 3, 10, 30), row("b", 1, 20, 20));
    for p in [&a, &b] {
        conn.execute(
            "INSERT INTO pipelines (account_id, name, version, declaration, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![p.account_id, p.name, p.version, json_text(&p.declaration), p.created, p.updated],
        )
        .expect("pipeline");
    }
    drop(conn);

    let store = SqliteStore::open(&path).expect("open a version-2 file");
    assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len() as i64);
    let version = |name: &str, v: i64| {
        store.read(&mut |tx| -> StoreResult<_> { tx.get_pipeline_version("1", name, v) }).expect("read")
    };
    assert_eq!(version("a", 3), Some(a.clone()), "the current version, made when the pipeline was last updated");
    assert_eq!(version("a", 2), None, "a version-2 file never kept the older ones");
    assert_eq!(version("b", 1), Some(b.clone()));
    let a4 = row("a", 4, 10, 40);
    assert!(store.write(&mut |tx| tx.update_pipeline(&a4, 3)).expect("update"));
    assert_eq!(version("a", 3), Some(a), "kept once updated");
    assert_eq!(version("a", 4), Some(a4));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pipelines_stored_before_the_marks_read_their_history_and_answer_the_same() {
    use cpjobs_core::testing::domain::{CUSTOMER, PARTNER, World, partner_pipeline};
    use serde_json::json;
    let dir = std::env::temp_dir().join(format!("cpjobs-sqlite-marks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let w = World::new(SqliteStore::open(dir.join("marks.sqlite")).expect("open"));
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
    let (job, token, _) = w.take_third_party(PARTNER, "PartnerSource", "Source", 1);
    w.ok(PARTNER, "PutThirdPartyJobSuccessResult", json!({"jobId": job, "clientToken": token}), 2);
    w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 3);
    let state = || w.ok(CUSTOMER, "GetPipelineState", json!({"name": "app"}), 4);
    let marked = state();
    assert!(marked["stageStates"][1]["latestExecution"].is_object(), "the build was reached: {marked}");
    let sql = |q: &str| {
        lock(&w.svc.store().inner.writes.writer.state).conn.execute_batch(q).expect("sql");
    };
    // Without its marks but said complete, the page shows nothing reached: the marks are what it reads.
    sql("UPDATE pipelines SET marks_complete = 1; DELETE FROM latest_reached");
    assert!(state()["stageStates"][1].get("latestExecution").is_none());
    // A pipeline stored before the marks were kept reads its history, and answers as the marks did.
    sql("UPDATE pipelines SET marks_complete = 0");
    assert_eq!(state(), marked);
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}
