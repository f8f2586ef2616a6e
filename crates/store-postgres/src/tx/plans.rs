//! The statements every poll and job call sends, checked under PostgreSQL's
//! generic plan. After five runs a prepared statement may be planned once
//! for any parameters, with estimates that cannot see them: a plan that
//! scans a whole table passes every functional test on small tables and
//! takes half a second at a million jobs (the poll's "anything due" check
//! once did). Here each statement is planned generically on tables of
//! 20,000 rows and must reach `jobs` and `executions` through indexes.

use tokio_postgres::NoTls;

use super::{ANYTHING_DUE, CLAIM, JOB_WITH_CLIENT, POLL_PROBE, UPDATE_JOB};

/// The check as the poll once sent it, which scanned `jobs`: the control
/// that shows this test sees a scan when there is one.
const ANYTHING_DUE_BEFORE: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE ",
    unfinished!(),
    " AND timeout_at <= $1) OR EXISTS (SELECT 1 FROM jobs WHERE status = 'Dispatched' AND lease_until <= $1) \
     OR EXISTS (SELECT 1 FROM executions WHERE status IN ('InProgress', 'Stopping') AND wake_at <= $1)"
);

/// 20,000 queued jobs over 10 queues and 20,000 running executions.
const FILL: &str = "\
    INSERT INTO jobs (id, queue, account_id, pipeline_name, execution_id, action_execution_id, client_id, \
      status, nonce, lease_until, timeout_at, created, updated, query_value, data, result) \
    SELECT 'j' || g, 'q' || (g % 10), '1', 'p', 'e' || g, 'a' || g, 'c' || g, 'Queued', NULL, NULL, \
      1000000 + g, g, g, NULL, '{}', NULL FROM generate_series(1, 20000) g; \
    INSERT INTO executions (id, account_id, pipeline_name, status, started, updated, revision, wake_at, \
      stage, waiting_for, doc) \
    SELECT 'e' || g, '1', 'p', 'InProgress', g, g, 1, 2000000 + g, 'S', NULL, '{}' \
    FROM generate_series(1, 20000) g; \
    ANALYZE";

/// The plan PostgreSQL makes for `sql` with `args` under the generic plan.
async fn generic_plan(client: &tokio_postgres::Client, sql: &str, args: &str) -> String {
    client.batch_execute(&format!("PREPARE checked AS {sql}")).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let plan = client.simple_query(&format!("EXPLAIN EXECUTE checked({args})")).await.expect("explain");
    client.batch_execute("DEALLOCATE checked").await.expect("deallocate");
    plan.iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn scans(plan: &str) -> bool {
    plan.contains("Seq Scan on jobs") || plan.contains("Seq Scan on executions")
}

#[test]
fn hot_statements_reach_rows_through_indexes_under_the_generic_plan() {
    let Some(url) = std::env::var("CPJOBS_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) else {
        let required = ["CI", "CPJOBS_REQUIRE_POSTGRES"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0" && x != "false"));
        assert!(!required, "CPJOBS_TEST_POSTGRES is not set: this test needs a PostgreSQL server");
        eprintln!("skipped: CPJOBS_TEST_POSTGRES is not set");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, NoTls).await.expect("connect to the test server");
        let driver = tokio::spawn(conn);
        let schema = format!("plans_{}", std::process::id());
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema}"
            ))
            .await
            .expect("schema");
        for sql in crate::schema::MIGRATIONS {
            client.batch_execute(sql).await.expect("migration");
        }
        client.batch_execute(FILL).await.expect("fill");
        client.batch_execute("SET plan_cache_mode = force_generic_plan").await.expect("generic plans");
        let control = generic_plan(&client, ANYTHING_DUE_BEFORE, "5").await;
        assert!(scans(&control), "the check of before scanned jobs under the generic plan; now:\n{control}");
        for (name, sql, args) in [
            ("anything due", ANYTHING_DUE, "5"),
            ("poll probe", POLL_PROBE, "'q1', NULL, 5"),
            ("claim", CLAIM, "'q1', NULL, 1, ARRAY['n'], 5, 6"),
            ("job with client", JOB_WITH_CLIENT, "'j1'"),
            ("job update", UPDATE_JOB, "'j1', 'Dispatched', 'n', 1, 2, NULL, 'Queued', NULL"),
        ] {
            let plan = generic_plan(&client, sql, args).await;
            assert!(!scans(&plan), "{name} scans a table under the generic plan:\n{plan}");
        }
        client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("drop");
        drop(client);
        let _ = driver.await;
    });
}
