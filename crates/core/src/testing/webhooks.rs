//! Domain scenarios of issue 10, item 6: webhooks (their operations and the
//! POSTs their URLs receive) and the S3 source's change detection (a new
//! object version starts the pipelines that watch it). Listed in
//! [`named`](super::named) like every scenario of [`domain`](super::domain),
//! which dispatches to them.
#![deny(dead_code)]

use std::sync::Arc;

use ring::hmac;
use serde_json::{Value, json};

use super::domain::{CUSTOMER, MemoryArtifacts, OTHER, World, action, at, custom_id, declaration, tp_id};
use super::semantics::maker;
use crate::input::timestamp;
use crate::store::Store;
use crate::webhooks::trigger::{WebhookAnswer, WebhookPost};

const SECRET: &str = "s3cret-for-gh";

/// A custom source type with a `Branch` property, and the pipeline `app`:
/// `Checkout` (on branch `main`) -> `Make`.
fn git_pipeline<S: Store>(w: &World<S>) {
    w.ok(
        CUSTOMER,
        "CreateCustomActionType",
        json!({"category": "Source", "provider": "Git", "version": "1",
               "configurationProperties": [{"name": "Branch", "required": true, "key": true, "secret": false}],
               "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
               "outputArtifactDetails": {"minimumCount": 1, "maximumCount": 1}}),
        0,
    );
    maker(w);
    let mut checkout = action("Checkout", custom_id("Source", "Git"), &[], &["code"], 1);
    checkout["configuration"] = json!({"Branch": "main"});
    let decl = declaration(
        "app",
        vec![
            ("Source", vec![checkout]),
            ("Build", vec![action("Make", custom_id("Build", "Maker"), &["code"], &[], 1)]),
        ],
    );
    w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": decl}), 0);
}

/// A `PutWebhook` input for pipeline `app`'s `Checkout`.
fn hook(name: &str, authentication: &str, configuration: Value, filters: Value) -> Value {
    json!({"webhook": {"name": name, "targetPipeline": "app", "targetAction": "Checkout", "filters": filters,
                       "authentication": authentication, "authenticationConfiguration": configuration}})
}

/// The push filter GitHub users write: the branch the action builds.
fn push_filter() -> Value {
    json!([{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}])
}

/// GitHub's `X-Hub-Signature-256` of `body` under `secret`.
fn sign(secret: &str, body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), body);
    format!("sha256={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// POSTs `body` to `url` from `peer`, signed when `signature` is given.
fn post<S: Store>(
    w: &World<S>,
    url: &str,
    body: &[u8],
    signature: Option<String>,
    peer: &str,
    secs: u64,
) -> WebhookAnswer {
    let rest = url.split_once(crate::webhooks::URL_PATH).map(|(_, r)| r).expect("a webhook URL");
    let (account, id) = rest.split_once('/').expect("ACCOUNT/ID");
    let post = WebhookPost {
        account_id: account.into(),
        id: id.into(),
        signature_sha256: signature,
        signature_sha1: None,
        peer: peer.parse().expect("an address"),
        body: body.to_vec(),
    };
    w.svc.receive_webhook(&post, at(secs))
}

/// How many executions pipeline `name` of the customer kept.
fn executions<S: Store>(w: &World<S>, name: &str) -> Vec<Value> {
    let out = w.ok(CUSTOMER, "ListPipelineExecutions", json!({"pipelineName": name}), 0);
    out["pipelineExecutionSummaries"].as_array().expect("summaries").clone()
}

/// The customer's webhooks, all of them.
fn listed<S: Store>(w: &World<S>) -> Vec<Value> {
    w.ok(CUSTOMER, "ListWebhooks", json!({}), 0)["webhooks"].as_array().expect("webhooks").clone()
}

/// Webhooks made, listed, replaced, registered and deleted; their POSTs
/// start the pipeline only when authenticated and passing every filter.
pub(crate) fn webhooks_start_pipelines<S: Store>(w: World<S>) {
    git_pipeline(&w);
    let mut input = hook("gh", "GITHUB_HMAC", json!({"SecretToken": SECRET}), push_filter());
    input["tags"] = json!([{"key": "team", "value": "ci"}]);
    let made = w.ok(CUSTOMER, "PutWebhook", input, 1)["webhook"].clone();
    assert_eq!(made["definition"]["authenticationConfiguration"], json!({"SecretToken": "****"}), "redacted");
    assert_eq!(made["definition"]["filters"], push_filter(), "placeholders kept as given");
    assert_eq!(made["arn"], format!("arn:aws:codepipeline:us-east-1:{CUSTOMER}:webhook:gh"));
    assert_eq!(made["tags"], json!([{"key": "team", "value": "ci"}]));
    let url = made["url"].as_str().expect("a URL").to_owned();
    let prefix = format!("http://localhost/webhooks/{CUSTOMER}/");
    let id = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
    assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert!(made.get("lastTriggered").is_none());

    // A push to the action's branch, signed with the secret: an execution.
    let push = br#"{"ref": "refs/heads/main", "after": "abc123"}"#;
    let started = post(&w, &url, push, Some(sign(SECRET, push)), "192.0.2.10", 2);
    assert_eq!(started.status, 200, "{started:?}");
    let exec = started.body["pipelineExecutionId"].as_str().expect("an execution").to_owned();
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "app", "pipelineExecutionId": exec}), 2);
    assert_eq!(
        got["pipelineExecution"]["trigger"],
        json!({"triggerType": "Webhook", "triggerDetail": made["arn"]}),
        "{got}"
    );
    let polled = w.ok(CUSTOMER, "PollForJobs", json!({"actionTypeId": custom_id("Source", "Git")}), 2);
    assert_eq!(polled["jobs"][0]["data"]["pipelineContext"]["pipelineExecutionId"], exec.as_str(), "its source runs");
    assert_eq!(executions(&w, "app").len(), 1);

    // Refused POSTs start nothing.
    let wrong = post(&w, &url, push, Some(sign("not the secret", push)), "192.0.2.10", 3);
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert!(wrong.body["message"].as_str().expect("a message").contains("signature does not match"), "{wrong:?}");
    assert_eq!(post(&w, &url, push, None, "192.0.2.10", 3).status, 401, "unsigned");
    let tampered = br#"{"ref": "refs/heads/main", "after": "evil"}"#;
    assert_eq!(post(&w, &url, tampered, Some(sign(SECRET, push)), "192.0.2.10", 3).status, 401, "another body");
    let other_branch = br#"{"ref": "refs/heads/dev"}"#;
    let ignored = post(&w, &url, other_branch, Some(sign(SECRET, other_branch)), "192.0.2.10", 3);
    assert_eq!(ignored.status, 200, "{ignored:?}");
    assert!(ignored.body.get("pipelineExecutionId").is_none(), "{ignored:?}");
    assert!(ignored.body["message"].as_str().expect("why").contains("filter 1 ($.ref"), "{ignored:?}");
    let not_json = b"ref=refs/heads/main";
    assert_eq!(post(&w, &url, not_json, Some(sign(SECRET, not_json)), "192.0.2.10", 3).status, 400);
    let unknown = format!("{prefix}{}", "0".repeat(64));
    assert_eq!(post(&w, &unknown, push, Some(sign(SECRET, push)), "192.0.2.10", 3).status, 404);
    let elsewhere = url.replace(CUSTOMER, OTHER);
    assert_eq!(post(&w, &elsewhere, push, Some(sign(SECRET, push)), "192.0.2.10", 3).status, 404, "another account");
    assert_eq!(post(&w, &format!("{prefix}short"), push, None, "192.0.2.10", 3).status, 404);
    assert_eq!(executions(&w, "app").len(), 1, "no refused POST started anything");

    // The list shows the last trigger, never the secret.
    let all = listed(&w);
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0]["lastTriggered"],
        timestamp(at(2).duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64)
    );
    assert_eq!(all[0]["definition"]["authenticationConfiguration"]["SecretToken"], "****");
    assert_eq!(all[0]["url"], url.as_str());

    // IP and unauthenticated webhooks.
    let ip = hook("ip", "IP", json!({"AllowedIPRange": "192.0.2.0/24"}), json!([]));
    let ip_url = w.ok(CUSTOMER, "PutWebhook", ip, 4)["webhook"]["url"].as_str().expect("url").to_owned();
    assert_eq!(post(&w, &ip_url, b"{}", None, "192.0.2.200", 4).status, 200);
    let outside = post(&w, &ip_url, b"{}", None, "198.51.100.1", 4);
    assert_eq!(outside.status, 403, "{outside:?}");
    let open = hook("open", "UNAUTHENTICATED", json!({}), json!([{"jsonPath": "$.action"}]));
    let open_url = w.ok(CUSTOMER, "PutWebhook", open, 4)["webhook"]["url"].as_str().expect("url").to_owned();
    assert_eq!(post(&w, &open_url, br#"{"action": "opened"}"#, None, "203.0.113.5", 4).status, 200);
    let no_action = post(&w, &open_url, br#"{"zen": "ping"}"#, None, "203.0.113.5", 4);
    assert!(no_action.body.get("pipelineExecutionId").is_none(), "a filter without matchEquals selects nothing");
    assert_eq!(executions(&w, "app").len(), 3);

    // Replacing a webhook keeps its URL; the new secret and filters apply.
    let replaced = hook(
        "gh",
        "GITHUB_HMAC",
        json!({"SecretToken": "new-secret"}),
        json!([{"jsonPath": "$.ref", "matchEquals": "refs/heads/dev"}]),
    );
    assert_eq!(w.ok(CUSTOMER, "PutWebhook", replaced, 5)["webhook"]["url"], url.as_str());
    assert_eq!(post(&w, &url, other_branch, Some(sign(SECRET, other_branch)), "192.0.2.10", 5).status, 401);
    assert_eq!(post(&w, &url, other_branch, Some(sign("new-secret", other_branch)), "192.0.2.10", 5).status, 200);
    assert_eq!(executions(&w, "app").len(), 4);

    // Refusals, each storing nothing.
    let mut wrong_pipeline = hook("bad", "UNAUTHENTICATED", json!({}), json!([]));
    wrong_pipeline["webhook"]["targetPipeline"] = json!("nope");
    let mut build_action = hook("bad", "UNAUTHENTICATED", json!({}), json!([]));
    build_action["webhook"]["targetAction"] = json!("Make");
    let mut no_action = hook("bad", "UNAUTHENTICATED", json!({}), json!([]));
    no_action["webhook"]["targetAction"] = json!("Nope");
    let mut reserved = hook("bad", "UNAUTHENTICATED", json!({}), json!([]));
    reserved["tags"] = json!([{"key": "aws:x", "value": "y"}]);
    let refusals = [
        (CUSTOMER, wrong_pipeline, "PipelineNotFoundException"),
        (OTHER, hook("bad", "UNAUTHENTICATED", json!({}), json!([])), "PipelineNotFoundException"),
        (CUSTOMER, build_action, "ValidationException"),
        (CUSTOMER, no_action, "ValidationException"),
        (
            CUSTOMER,
            hook("bad", "UNAUTHENTICATED", json!({}), json!([{"jsonPath": "ref"}])),
            "InvalidWebhookFilterPatternException",
        ),
        (
            CUSTOMER,
            hook("bad", "UNAUTHENTICATED", json!({}), json!([{"jsonPath": "$.ref", "matchEquals": "{Nope}"}])),
            "InvalidWebhookFilterPatternException",
        ),
        (CUSTOMER, hook("bad", "GITHUB_HMAC", json!({}), json!([])), "InvalidWebhookAuthenticationParametersException"),
        (
            CUSTOMER,
            hook("bad", "IP", json!({"AllowedIPRange": "not-a-range"}), json!([])),
            "InvalidWebhookAuthenticationParametersException",
        ),
        (
            CUSTOMER,
            hook("bad", "UNAUTHENTICATED", json!({"SecretToken": "x"}), json!([])),
            "InvalidWebhookAuthenticationParametersException",
        ),
        (CUSTOMER, reserved, "InvalidTagsException"),
    ];
    for (who, input, code) in refusals {
        assert_eq!(w.err(who, "PutWebhook", input.clone(), 6), code, "{input}");
    }
    assert_eq!(listed(&w).len(), 3, "nothing stored");
    assert_eq!(w.ok(OTHER, "ListWebhooks", json!({}), 6), json!({"webhooks": []}), "per account");

    // Paging, by name.
    let first = w.ok(CUSTOMER, "ListWebhooks", json!({"MaxResults": 2}), 6);
    let names: Vec<&str> =
        first["webhooks"].as_array().expect("page").iter().filter_map(|h| h["definition"]["name"].as_str()).collect();
    assert_eq!(names, ["gh", "ip"]);
    let token = first["NextToken"].as_str().expect("a next page");
    let second = w.ok(CUSTOMER, "ListWebhooks", json!({"MaxResults": 2, "NextToken": token}), 6);
    assert_eq!(second["webhooks"][0]["definition"]["name"], "open");
    assert!(second.get("NextToken").is_none());
    assert_eq!(w.err(CUSTOMER, "ListWebhooks", json!({"NextToken": "zz"}), 6), "InvalidNextTokenException");

    // Tags of a webhook, through its ARN.
    let arn = made["arn"].clone();
    w.ok(CUSTOMER, "TagResource", json!({"resourceArn": arn, "tags": [{"key": "env", "value": "prod"}]}), 7);
    let tags = w.ok(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn}), 7);
    assert_eq!(tags["tags"], json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "ci"}]));
    assert_eq!(w.err(OTHER, "ListTagsForResource", json!({"resourceArn": arn}), 7), "ResourceNotFoundException");

    // Registration is recorded.
    let registered = |w: &World<S>| {
        w.svc.store().inner.read(&mut |tx| tx.get_webhook(CUSTOMER, "gh")).expect("read").expect("stored").registered
    };
    assert_eq!(w.ok(CUSTOMER, "RegisterWebhookWithThirdParty", json!({"webhookName": "gh"}), 8), json!({}));
    assert!(registered(&w));
    assert_eq!(
        w.err(CUSTOMER, "RegisterWebhookWithThirdParty", json!({"webhookName": "nope"}), 8),
        "WebhookNotFoundException"
    );
    assert_eq!(
        w.err(OTHER, "RegisterWebhookWithThirdParty", json!({"webhookName": "gh"}), 8),
        "WebhookNotFoundException"
    );
    assert_eq!(w.err(CUSTOMER, "DeregisterWebhookWithThirdParty", json!({}), 8), "ValidationException");
    assert_eq!(w.ok(CUSTOMER, "DeregisterWebhookWithThirdParty", json!({"webhookName": "gh"}), 8), json!({}));
    assert!(!registered(&w));

    // Deleting: the URL and the tags go; deleting again succeeds; made again, another URL.
    assert_eq!(w.ok(CUSTOMER, "DeleteWebhook", json!({"name": "gh"}), 9), json!({}));
    assert_eq!(w.ok(CUSTOMER, "DeleteWebhook", json!({"name": "gh"}), 9), json!({}));
    assert_eq!(post(&w, &url, other_branch, Some(sign("new-secret", other_branch)), "192.0.2.10", 9).status, 404);
    assert_eq!(w.err(CUSTOMER, "ListTagsForResource", json!({"resourceArn": arn}), 9), "ResourceNotFoundException");
    let again = hook("gh", "GITHUB_HMAC", json!({"SecretToken": SECRET}), push_filter());
    let new_url = w.ok(CUSTOMER, "PutWebhook", again, 9)["webhook"]["url"].clone();
    assert_ne!(new_url, url.as_str());
    assert_eq!(listed(&w).len(), 3);

    // A webhook outlives its pipeline, and then starts nothing.
    w.ok(CUSTOMER, "DeletePipeline", json!({"name": "app"}), 10);
    let gone = post(&w, &open_url, br#"{"action": "opened"}"#, None, "203.0.113.5", 10);
    assert_eq!(gone.status, 404, "{gone:?}");
    assert!(gone.body["message"].as_str().expect("why").contains("pipeline 'app' does not exist"), "{gone:?}");
    assert_eq!(listed(&w).len(), 3);
}

/// An S3 source watching `sources`/`key`; `poll` is its
/// `PollForSourceChanges`, left out when `None`.
fn s3_pipeline(name: &str, key: &str, poll: Option<&str>) -> Value {
    let s3 = json!({"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"});
    let mut source = action("Get", s3, &[], &["src"], 1);
    source["configuration"] = json!({"S3Bucket": "sources", "S3ObjectKey": key});
    if let Some(p) = poll {
        source["configuration"]["PollForSourceChanges"] = json!(p);
    }
    declaration(
        name,
        vec![
            ("Source", vec![source]),
            ("Build", vec![action("Compile", tp_id("Build", "PartnerBuild"), &["src"], &["out"], 1)]),
        ],
    )
}

/// A new object version starts every pipeline of the bucket's account whose
/// S3 source watches that object and polls (the default), with the object's
/// ETag as its revision; other objects, accounts and sources start nothing.
pub(crate) fn s3_object_versions_start_watching_pipelines<S: Store>(w: World<S>) {
    let store = Arc::new(MemoryArtifacts::default());
    store.owners.lock().expect("owners").insert("sources".into(), CUSTOMER.into());
    let put = |key: &str, etag: &str| {
        store.objects.lock().expect("objects").insert(("sources".into(), key.into()), etag.into());
    };
    put("app.zip", "etag-1");
    let w = World { svc: w.svc.with_artifact_locations(store.clone()) };
    for (name, key, poll) in [
        ("watch", "app.zip", None),
        ("explicit", "app.zip", Some("true")),
        ("quiet", "app.zip", Some("false")),
        ("lib", "lib.zip", None),
    ] {
        w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": s3_pipeline(name, key, poll)}), 0);
    }
    let count = |name: &str| executions(&w, name).len();

    let started = w.svc.object_written(CUSTOMER, "sources", "app.zip", at(1)).expect("started");
    assert_eq!(started.len(), 2, "{started:?}");
    assert_eq!((count("watch"), count("explicit"), count("quiet"), count("lib")), (1, 1, 0, 0));
    let summary = &executions(&w, "watch")[0];
    assert!(started.iter().any(|id| summary["pipelineExecutionId"] == id.as_str()));
    assert_eq!(summary["trigger"], json!({"triggerType": "PollForSourceChanges", "triggerDetail": "Get"}));
    let id = summary["pipelineExecutionId"].clone();
    let got = w.ok(CUSTOMER, "GetPipelineExecution", json!({"pipelineName": "watch", "pipelineExecutionId": id}), 1);
    assert_eq!(
        got["pipelineExecution"]["artifactRevisions"],
        json!([{"name": "src", "revisionId": "etag-1", "revisionChangeIdentifier": "etag-1"}]),
        "the source copied the object before the write was answered"
    );

    // The next version: another execution, with its ETag.
    put("app.zip", "etag-2");
    w.svc.object_written(CUSTOMER, "sources", "app.zip", at(2)).expect("started");
    assert_eq!(count("watch"), 2);
    let newest = &executions(&w, "watch")[0];
    assert_eq!(newest["sourceRevisions"][0]["revisionId"], "etag-2", "{newest}");

    // Another object, another account's bucket of that name, an object nobody watches.
    put("lib.zip", "etag-l");
    assert_eq!(w.svc.object_written(CUSTOMER, "sources", "lib.zip", at(3)).expect("started").len(), 1);
    assert_eq!(count("lib"), 1);
    assert_eq!(w.svc.object_written(OTHER, "sources", "app.zip", at(3)).expect("nothing"), Vec::<String>::new());
    assert_eq!(w.svc.object_written(CUSTOMER, "sources", "readme.txt", at(3)).expect("nothing"), Vec::<String>::new());
    assert_eq!((count("watch"), count("explicit"), count("quiet"), count("lib")), (2, 2, 0, 1));

    // A pipeline that stops watching is no longer started.
    let mut quiet = s3_pipeline("watch", "app.zip", Some("false"));
    quiet["version"] = json!(1);
    w.ok(CUSTOMER, "UpdatePipeline", json!({"pipeline": quiet}), 4);
    assert_eq!(w.svc.object_written(CUSTOMER, "sources", "app.zip", at(5)).expect("started").len(), 1);
    assert_eq!((count("watch"), count("explicit")), (2, 3));
}
