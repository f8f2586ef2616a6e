//! Requests signed by hand (the CLI's SigV4 signer, sent with a plain HTTP
//! client): what the service answers for a wrong secret, a clock outside the
//! 15 minute window either way, an unsigned request, and a signature over a
//! different body. None of them may change anything.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::harness::{CUSTOMER, PARTNER, Server, TempDir, config, signed_call, signed_call_with};

#[test]
fn hand_signed_refusals() {
    let home = TempDir::new("identity");
    let mut server = Server::start(&home.0, &config(None));
    let e = server.endpoint.clone();
    let list = "CodePipeline_20150709.ListPipelines";
    let create = "CodePipeline_20150709.CreatePipeline";
    let decl = json!({"pipeline": crate::harness::third_party_pipeline("app")});
    let now = SystemTime::now();

    let a = signed_call_with(&e, CUSTOMER, "wrong", create, &decl, now);
    assert_eq!((a.status, a.code()), (400, "InvalidSignatureException"), "{}", a.body);
    let minute = Duration::from_secs(60);
    // AWS's words for each side of the window.
    for (skewed, words) in [(now - 16 * minute, "Signature expired"), (now + 16 * minute, "Signature not yet current")]
    {
        let a = signed_call_with(&e, CUSTOMER, CUSTOMER.secret, create, &decl, skewed);
        assert_eq!((a.status, a.code()), (400, "InvalidSignatureException"), "{}", a.body);
        assert!(a.body["message"].as_str().unwrap_or_default().starts_with(words), "{}", a.body);
    }
    // Within the window the same request is accepted.
    let a = signed_call_with(&e, CUSTOMER, CUSTOMER.secret, list, &json!({}), now - 14 * minute);
    assert_eq!(a.status, 200, "{}", a.body);

    // Unsigned.
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut resp = agent
        .post(format!("{e}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", list)
        .send("{}")
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");

    // The refused creates left nothing behind; a good one works.
    let a = signed_call(&e, CUSTOMER, list, &json!({}));
    assert_eq!(a.body["pipelines"], json!([]), "{}", a.body);
    let a = signed_call(&e, CUSTOMER, create, &decl);
    assert_eq!(a.status, 200, "{}", a.body);
    // The customer sees no client tokens: they are the partner's to list.
    let a = signed_call(&e, CUSTOMER, "Cpjobs_20261129.ListThirdPartyClients", &json!({}));
    assert_eq!(a.body["clients"], json!([]), "{}", a.body);
    let a = signed_call(&e, PARTNER, "Cpjobs_20261129.ListThirdPartyClients", &json!({}));
    assert_eq!(a.body["clients"].as_array().map(Vec::len), Some(2), "{}", a.body);
    server.stop();
}
