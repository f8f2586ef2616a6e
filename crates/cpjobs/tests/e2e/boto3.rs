//! boto3 against `cpjobs serve`: each test runs one scenario of
//! `boto3_flows.py` (next to this file) in a Python process whose environment
//! holds only PATH, an empty HOME, the region, the endpoint and the keys.

use std::process::Command;

use crate::harness::{CUSTOMER, OTHER, PARTNER, REGION, Server, TempDir, config};

fn run_scenario(scenario: &str, lease: Option<u64>) {
    run_scenario_with(scenario, &config(lease));
}

fn run_scenario_with(scenario: &str, config_text: &str) {
    run_scenario_with_args(scenario, config_text, &[]);
}

/// Runs `scenario` on a service started with `serve_args` too; answers the
/// directory of its config and data (`data/`), removed when dropped.
pub(crate) fn run_scenario_with_args(scenario: &str, config_text: &str, serve_args: &[&str]) -> TempDir {
    run_script("boto3_flows.py", scenario, config_text, serve_args)
}

/// Runs `scenario` of `script` (a file next to this one) against a service
/// started with `serve_args` too; answers the directory of its config and
/// data (`data/`), removed when dropped.
pub(crate) fn run_script(script: &str, scenario: &str, config_text: &str, serve_args: &[&str]) -> TempDir {
    let home = TempDir::new(&format!("boto3-{scenario}"));
    let mut server = Server::start_with(&home.0, config_text, None, serve_args);
    let script = format!("{}/tests/e2e/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("python3");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home.0)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("CPJOBS_ENDPOINT", &server.endpoint)
        .env("CUSTOMER_ACCOUNT", CUSTOMER.account)
        .arg(&script)
        .arg(scenario);
    for (who, k) in [("CUSTOMER", CUSTOMER), ("PARTNER", PARTNER), ("OTHER", OTHER)] {
        cmd.env(format!("{who}_KEY"), k.key).env(format!("{who}_SECRET"), k.secret);
    }
    let out = cmd.output().expect("python3 with boto3 is installed");
    assert!(
        out.status.success() && out.stdout.ends_with(b"ok\n"),
        "boto3 scenario {scenario} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop();
    home
}

#[test]
fn boto3_third_party_flow_with_continuation() {
    run_scenario("third_party", None);
}

#[test]
fn boto3_custom_action_failure_then_success() {
    run_scenario("custom", None);
}

/// Wrong and stale nonces, client tokens, finished jobs, other partners,
/// bad signatures and skewed clocks, on a service with a 1 s dispatch lease.
#[test]
fn boto3_lifecycle_and_identity_refusals() {
    run_scenario("refusals", Some(1));
}

/// Issue 8 items 7 and 13: secret configuration values show as `****` outside
/// job data and survive an UpdatePipeline that sends the mask back; the
/// GetActionType, edit, UpdateActionType round trip works when the operator
/// lists the owner among the polling accounts (as the test config does); the
/// pipeline quota answers LimitExceededException.
#[test]
fn boto3_secrets_action_type_round_trip_and_quota() {
    let text = format!("{}\n[quotas]\npipelines_per_account = 1\n", config(None));
    run_scenario_with("secrets_and_round_trip", &text);
}

/// Issue 10: pipeline-level variables, the S3 source's ETag and a build's
/// output variable reach later jobs resolved; a dangling reference is refused.
#[test]
fn boto3_variables_reach_later_jobs_resolved() {
    run_scenario("variables", None);
}

/// Issue 10, item 6: PutActionRevision starts an execution whose partner
/// source job carries the revision; ListDeployActionExecutionTargets.
#[test]
fn boto3_put_action_revision_and_deploy_targets() {
    run_scenario("revisions", None);
}
