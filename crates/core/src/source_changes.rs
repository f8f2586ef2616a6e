//! The S3 source's change detection (`PollForSourceChanges`): cpjobs owns
//! the artifact store, so instead of polling it hears of every new object
//! version when it is written (a PUT, or a completed multipart upload,
//! through its S3 endpoint) and starts each pipeline of the bucket's account
//! whose S3 source action watches that bucket and key.
//!
//! As AWS documents, `PollForSourceChanges` is true when it is not given; a
//! source that says `false` is started by other means only (on AWS, an
//! EventBridge rule, which cpjobs does not have). The execution's trigger is
//! `PollForSourceChanges`, its detail the watching action's name, and its
//! source revision the object's ETag, read when the source copies the
//! object (at once: a write that lands in between starts its own execution
//! too). A pipeline with several actions watching the object starts once.

use serde_json::{Value, json};

use crate::api::Caller;
use crate::executions::{self, Begin};
use crate::fail::Res;
use crate::pipelines;
use crate::store::{Millis, Tx};

/// How many pipelines are read from the store at once.
const PAGE: usize = 100;

/// Whether an S3 source action's configuration watches `bucket`/`key`.
fn watches(configuration: &serde_json::Map<String, Value>, bucket: &str, key: &str) -> bool {
    let conf = |k: &str| configuration.get(k).and_then(Value::as_str);
    let polls = conf("PollForSourceChanges").is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
    polls && conf("S3Bucket") == Some(bucket) && conf("S3ObjectKey") == Some(key)
}

/// The first S3 source action of a declaration that watches `bucket`/`key`.
fn watcher(declaration: &Value, bucket: &str, key: &str, region: &str) -> Res<Option<String>> {
    let plan = pipelines::plan(declaration, region)?;
    Ok(plan
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .find(|a| a.type_id.is_s3_source() && watches(&a.configuration, bucket, key))
        .map(|a| a.name.clone()))
}

/// The account's pipelines that watch `bucket`/`key`, by name.
pub(crate) fn watching(tx: &mut dyn Tx, account: &str, bucket: &str, key: &str, region: &str) -> Res<Vec<String>> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let rows = tx.list_pipelines(account, after.as_deref(), PAGE)?;
        for row in &rows {
            if watcher(&row.declaration, bucket, key, region)?.is_some() {
                names.push(row.name.clone());
            }
        }
        if rows.len() < PAGE {
            return Ok(names);
        }
        after = rows.last().map(|r| r.name.clone());
    }
}

/// Starts the account's pipeline `name` for a new version of `bucket`/`key`,
/// if it still watches it (it may have changed since [`watching`]); the
/// execution's id.
pub(crate) fn start(
    tx: &mut dyn Tx,
    account: &str,
    name: &str,
    bucket: &str,
    key: &str,
    region: &str,
    now: Millis,
) -> Res<Option<String>> {
    let Some(p) = tx.get_pipeline(account, name)? else { return Ok(None) };
    let Some(action) = watcher(&p.declaration, bucket, key, region)? else { return Ok(None) };
    let how = Begin {
        variables: crate::pipeline_rules::start_variables(&p.declaration, &json!({}))?,
        token: None,
        trigger_type: Some("PollForSourceChanges".into()),
        trigger_detail: Some(action),
        given_revisions: vec![],
    };
    let caller = Caller { account_id: account.to_owned(), access_key_id: String::new() };
    Ok(Some(executions::begin(tx, &caller, &p, how, region, now)?.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_watches_its_object_unless_it_says_it_does_not_poll() {
        let conf = |v: Value| v.as_object().cloned().expect("object");
        assert!(watches(&conf(json!({"S3Bucket": "b", "S3ObjectKey": "k"})), "b", "k"), "polls by default");
        assert!(watches(&conf(json!({"S3Bucket": "b", "S3ObjectKey": "k", "PollForSourceChanges": "true"})), "b", "k"));
        assert!(!watches(
            &conf(json!({"S3Bucket": "b", "S3ObjectKey": "k", "PollForSourceChanges": "False"})),
            "b",
            "k"
        ));
        assert!(!watches(&conf(json!({"S3Bucket": "b", "S3ObjectKey": "k"})), "b", "k2"));
        assert!(!watches(&conf(json!({"S3Bucket": "b", "S3ObjectKey": "k"})), "b2", "k"));
    }
}
