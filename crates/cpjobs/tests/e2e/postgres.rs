//! `cpjobs serve --store postgres://...` driven by boto3 through a third-party
//! job lifecycle with a continuation, on a schema of its own on the test
//! server (`CPJOBS_TEST_POSTGRES`, set by scripts/test.sh; without it the test
//! fails under CI or `CPJOBS_REQUIRE_POSTGRES`, and is skipped elsewhere).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::boto3::run_scenario_with_args;
use crate::harness::{CUSTOMER, Server, TempDir, config, signed_call};

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

/// TLS to the database (issue 11): `store_ca_file` in the TOML reaches the
/// store. A node whose CA did not sign the server's certificate refuses to
/// start and says why; with the right CA it serves over encrypted connections.
#[test]
fn serve_on_postgres_over_tls_verifies_with_store_ca_file() {
    let Some(url) = server_url() else { return };
    let (Some(ca), Some(other)) =
        (std::env::var("CPJOBS_TEST_POSTGRES_CA").ok(), std::env::var("CPJOBS_TEST_POSTGRES_OTHER_CA").ok())
    else {
        assert!(
            std::env::var("CPJOBS_REQUIRE_POSTGRES").is_err(),
            "scripts/test-postgres.sh sets CPJOBS_TEST_POSTGRES_CA"
        );
        return;
    };
    let (schema, store) = fresh_schema(&url, "e2etls");
    // A name of its own, to find this node's connections in pg_stat_activity.
    let app = format!("cpjobs-e2e-tls-{}", std::process::id());
    let store = format!("{store}&application_name={app}");
    let toml = |ca: &str| format!("store = {store:?}\nstore_ca_file = {ca:?}\n{}", config(None));
    let dir = TempDir::new("pg-tls");

    let wrong = dir.join("wrong.toml");
    std::fs::write(&wrong, toml(&other)).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--config"])
        .arg(&wrong)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cpjobs serve starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("cpjobs serve kept running with a CA that did not sign the server's certificate");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("is not signed by a CA cpjobs trusts (the CA file")
            && stderr.contains("other-ca.crt named by store_ca_file)"),
        "{stderr}"
    );

    let mut server = Server::start(&dir.0, &toml(&ca));
    let listed = signed_call(&server.endpoint, CUSTOMER, "CodePipeline_20150709.ListPipelines", &json!({}));
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let ssl = psql(
        &url,
        &format!(
            "SELECT count(*) > 0 AND bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = '{app}'"
        ),
    );
    assert_eq!(ssl, "t", "the node's connections are encrypted");
    server.stop();
    psql(&url, &format!("DROP SCHEMA {schema} CASCADE"));
}
