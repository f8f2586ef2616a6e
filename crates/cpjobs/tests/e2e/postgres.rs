//! `cpjobs serve --store postgres://...` driven by boto3 through a third-party
//! job lifecycle with a continuation, on a schema of its own on the test
//! server (`CPJOBS_TEST_POSTGRES`, set by scripts/test.sh; without it the test
//! fails under CI or `CPJOBS_REQUIRE_POSTGRES`, and is skipped elsewhere).

use std::process::Command;

use crate::boto3::run_scenario_with_args;
use crate::harness::config;

/// The test server's URL, if one is configured; panics when one is required.
pub(crate) fn server_url() -> Option<String> {
    match std::env::var("CPJOBS_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required = ["CI", "CPJOBS_REQUIRE_POSTGRES"]
                .iter()
                .any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0" && x != "false"));
            assert!(
                !required,
                "CPJOBS_TEST_POSTGRES is not set: scripts/test.sh starts a PostgreSQL server for this test"
            );
            eprintln!("skipped: CPJOBS_TEST_POSTGRES is not set (`source scripts/test-postgres.sh` first)");
            None
        }
    }
}

/// Runs `sql` with psql on the test server; its output, unaligned.
pub(crate) fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new, empty schema on the test server and the URL that uses it.
pub(crate) fn fresh_schema(url: &str, name: &str) -> (String, String) {
    let schema = format!("{name}{}", std::process::id());
    psql(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"));
    let sep = if url.contains('?') { '&' } else { '?' };
    (schema.clone(), format!("{url}{sep}options=-csearch_path%3D{schema}"))
}

/// The artifact endpoint asks the store whether a job may still write its
/// outputs, from the server's async threads: on PostgreSQL too.
#[test]
fn serve_on_postgres_gates_artifact_writes() {
    let Some(url) = server_url() else { return };
    let (schema, store) = fresh_schema(&url, "e2egate");
    crate::artifact_guards::finished_job_writes_nothing(&["--store", &store]);
    psql(&url, &format!("DROP SCHEMA {schema} CASCADE"));
}

#[test]
fn serve_on_postgres_runs_a_boto3_lifecycle() {
    let Some(url) = server_url() else { return };
    let (schema, store) = fresh_schema(&url, "e2e");
    // Selected on the command line; the config file is the usual one.
    let home = run_scenario_with_args("third_party", &config(None), &["--store", &store]);
    let data = home.join("data");
    assert!(data.join("service.key").exists(), "the service ran on {}", data.display());
    assert!(!data.join("cpjobs.sqlite3").exists(), "nothing went to SQLite");
    let jobs = psql(&url, &format!("SELECT status, COUNT(*) FROM {schema}.jobs GROUP BY status ORDER BY status"));
    assert!(jobs.contains("Succeeded|"), "the jobs are in PostgreSQL: {jobs}");
    assert_eq!(psql(&url, &format!("SELECT MAX(version) FROM {schema}.schema_version")), "5");
    psql(&url, &format!("DROP SCHEMA {schema} CASCADE"));
}
