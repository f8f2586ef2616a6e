//! Issue 10, item 6: webhooks and the S3 source's change detection, driven by
//! boto3 (and GitHub-style POSTs) in `webhook_flows.py`, and by AWS CLI v1.

use crate::boto3::run_script;
use crate::harness::{CUSTOMER, REGION, Server, TempDir, config};

/// PutWebhook, then a POST with a good HMAC starts an execution; a bad HMAC,
/// none, a filter that does not match and an address outside the range do
/// not; ListWebhooks pages and redacts; Register/Deregister; DeleteWebhook.
#[test]
fn boto3_webhooks_start_pipelines_when_authenticated_and_matching() {
    run_script("webhook_flows.py", "webhooks", &config(None), &[]);
}

/// A PUT and a completed multipart upload through cpjobs' S3 endpoint start
/// the pipeline whose S3 source watches the object, with its ETag.
#[test]
fn boto3_s3_object_uploads_start_the_watching_pipeline() {
    run_script("webhook_flows.py", "s3_source_changes", &config(None), &[]);
}

/// AWS CLI v1: put-webhook with the URL on `--public-url`, list-webhooks in
/// every output format the CLI has, delete-webhook.
#[test]
fn awscli_put_list_and_delete_webhooks() {
    let home = TempDir::new("awscli-webhooks");
    let mut server = Server::start_with(&home.0, &config(None), None, &["--public-url", "https://hooks.example.com/"]);
    let aws = |args: &[&str]| -> Result<String, String> {
        let out = std::process::Command::new("aws")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home.0)
            .env("AWS_ACCESS_KEY_ID", CUSTOMER.key)
            .env("AWS_SECRET_ACCESS_KEY", CUSTOMER.secret)
            .env("AWS_DEFAULT_REGION", REGION)
            .args(["--endpoint-url", &server.endpoint, "codepipeline"])
            .args(args)
            .output()
            .expect("aws runs");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if out.status.success() { Ok(text(&out.stdout)) } else { Err(text(&out.stderr)) }
    };
    let decl = serde_json::json!({
        "name": "cli", "roleArn": format!("arn:aws:iam::{}:role/p", CUSTOMER.account),
        "artifactStore": {"type": "S3", "location": "cli-artifacts"},
        "stages": [
            {"name": "Source", "actions": [{"name": "Get", "actionTypeId": {"category": "Source", "owner": "ThirdParty", "provider": "PartnerSource", "version": "1"}, "outputArtifacts": [{"name": "src"}]}]},
            {"name": "Build", "actions": [{"name": "Compile", "actionTypeId": {"category": "Build", "owner": "ThirdParty", "provider": "PartnerBuild", "version": "1"}, "inputArtifacts": [{"name": "src"}]}]}
        ]
    });
    aws(&["create-pipeline", "--pipeline", &decl.to_string()]).expect("pipeline");
    let hook = r#"{"name":"cli-hook","targetPipeline":"cli","targetAction":"Get","filters":[],"authentication":"UNAUTHENTICATED","authenticationConfiguration":{}}"#;
    let put = aws(&["put-webhook", "--webhook", hook, "--query", "webhook.url", "--output", "text"]).expect("put");
    let prefix = format!("https://hooks.example.com/webhooks/{}/", CUSTOMER.account);
    assert!(put.trim().starts_with(&prefix), "{put}");
    let text = aws(&[
        "list-webhooks",
        "--query",
        "webhooks[].[definition.name,definition.authentication]",
        "--output",
        "text",
    ])
    .expect("list");
    assert_eq!(text, "cli-hook\tUNAUTHENTICATED\n");
    let table = aws(&["list-webhooks", "--output", "table"]).expect("table");
    assert!(table.contains("ListWebhooks") && table.contains("cli-hook"), "{table}");
    let missing = aws(&["register-webhook-with-third-party", "--webhook-name", "nope"]).expect_err("unknown");
    assert!(missing.contains("(WebhookNotFoundException)"), "{missing}");
    aws(&["delete-webhook", "--name", "cli-hook"]).expect("delete");
    assert_eq!(aws(&["list-webhooks", "--output", "json"]).expect("list").trim(), "{\n    \"webhooks\": []\n}");
    server.stop();
}
