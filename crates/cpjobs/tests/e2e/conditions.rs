//! Stage conditions, rules, automatic retry and rollback through boto3
//! (issue 10, items 3 and 4): `boto3_conditions.py` next to this file.

use crate::boto3::run_script;
use crate::harness::config;

/// An entry condition that blocks and one that lets the stage run; a failed
/// stage rolled back automatically and by `RollbackStage`; rule executions
/// paged; a deployment window that holds an execution until it is
/// overridden; a stage retried by itself.
#[test]
fn boto3_conditions_block_roll_back_and_retry() {
    run_script("boto3_conditions.py", "conditions", &config(None), &[]);
}
