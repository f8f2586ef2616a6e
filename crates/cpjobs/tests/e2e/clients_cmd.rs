//! `cpjobs clients` (the partner's view of `ListThirdPartyClients`) against
//! `cpjobs serve`: credentials from the environment or a profile, every page
//! gathered, the action type filter, json and text output, AWS CLI's errors.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::harness::{
    CUSTOMER, Keys, OTHER, PARTNER, REGION, Server, TempDir, config, signed_call, third_party_pipeline,
};

/// Runs `cpjobs clients ARGS` with only HOME (and the keys, when given) set.
fn clients(home: &TempDir, keys: Option<Keys>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cpjobs"));
    cmd.env_clear().env("HOME", &home.0).arg("clients").args(args);
    if let Some(k) = keys {
        cmd.env("AWS_ACCESS_KEY_ID", k.key).env("AWS_SECRET_ACCESS_KEY", k.secret).env("AWS_DEFAULT_REGION", REGION);
    }
    cmd.output().expect("cpjobs runs")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "cpjobs clients failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn create(server: &Server, decl: Value) {
    let a = signed_call(&server.endpoint, CUSTOMER, "CodePipeline_20150709.CreatePipeline", &json!({"pipeline": decl}));
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn cpjobs_clients_lists_every_page_filters_and_formats() {
    let home = TempDir::new("clients-cmd");
    let mut server = Server::start(&home.0, &config(None));
    // 51 pipelines with two third-party actions each: 102 clients, two pages.
    for i in 0..51 {
        create(&server, third_party_pipeline(&format!("app-{i:02}")));
    }
    let endpoint = server.endpoint.clone();

    let all = json_of(&clients(&home, Some(PARTNER), &["--endpoint-url", &endpoint]));
    let list = all["clients"].as_array().expect("clients");
    assert_eq!(list.len(), 102, "both pages are gathered");
    assert!(all.get("nextToken").is_none());
    let mut ids: Vec<_> = list.iter().map(|c| c["clientId"].as_str().expect("id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 102);
    let first = &list[0];
    for key in ["clientId", "clientToken", "accountId", "pipelineName", "stageName", "actionName"] {
        assert!(first[key].is_string(), "{key} in {first}");
    }
    assert_eq!(first["accountId"], CUSTOMER.account);

    // The same answer as the operation itself.
    let direct = signed_call(&endpoint, PARTNER, "Cpjobs_20261129.ListThirdPartyClients", &json!({}));
    assert_eq!(direct.body["clients"][0], list[0]);

    // Only one action type; credentials and region from a profile instead of the environment.
    std::fs::create_dir_all(home.join(".aws")).expect(".aws");
    std::fs::write(
        home.join(".aws/credentials"),
        format!("[partner]\naws_access_key_id = {}\naws_secret_access_key = {}\n", PARTNER.key, PARTNER.secret),
    )
    .expect("credentials");
    std::fs::write(home.join(".aws/config"), format!("[profile partner]\nregion = {REGION}\n")).expect("config");
    let builds = json_of(&clients(
        &home,
        None,
        &[
            "--profile",
            "partner",
            "--endpoint-url",
            &endpoint,
            "--action-type-id",
            "category=Build,provider=PartnerBuild,version=1",
        ],
    ));
    let builds = builds["clients"].as_array().expect("clients");
    assert_eq!(builds.len(), 51);
    assert!(builds.iter().all(|c| c["stageName"] == "Build" && c["actionName"] == "Compile"));

    // Text output: AWS CLI's, one CLIENTS line per client, values in key order.
    let out = clients(
        &home,
        Some(PARTNER),
        &[
            "--endpoint-url",
            &endpoint,
            "--output",
            "text",
            "--action-type-id",
            "category=Source,provider=PartnerSource,version=1",
        ],
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 51, "{text}");
    let c = builds.iter().find(|c| c["pipelineName"] == "app-00").expect("app-00");
    let source_line = lines.iter().find(|l| l.contains("\tapp-00\t")).expect("app-00 listed");
    let fields: Vec<_> = source_line.split('\t').collect();
    assert_eq!(fields[0], "CLIENTS");
    assert_eq!(fields[1], CUSTOMER.account);
    assert_eq!((fields[2], fields[5], fields[6]), ("Fetch", "app-00", "Source"));
    assert_ne!(fields[3], c["clientId"].as_str().unwrap(), "each action has its own client");

    // A customer owns no third-party type: nothing to list. (The endpoint from the environment, as botocore reads it.)
    let out = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .env_clear()
        .env("HOME", &home.0)
        .env("AWS_ACCESS_KEY_ID", CUSTOMER.key)
        .env("AWS_SECRET_ACCESS_KEY", CUSTOMER.secret)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ENDPOINT_URL_CODEPIPELINE", &endpoint)
        .arg("clients")
        .output()
        .expect("cpjobs runs");
    assert_eq!(json_of(&out)["clients"], json!([]));
    // Another partner's type, a bad key: AWS CLI's error and exit code.
    let out = clients(
        &home,
        Some(OTHER),
        &["--endpoint-url", &endpoint, "--action-type-id", "category=Build,provider=PartnerBuild,version=1"],
    );
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "An error occurred (ActionTypeNotFoundException) when calling the ListThirdPartyClients operation"
        ),
        "{err}"
    );
    let bad = Keys { secret: "not-the-secret", ..PARTNER };
    let out = clients(&home, Some(bad), &["--endpoint-url", &endpoint]);
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("(InvalidSignatureException)"));
    assert!(out.stdout.is_empty());
    server.stop();
}
