//! The webhooks' URLs on the API port: `POST /webhooks/<ACCOUNT>/<ID>`,
//! unsigned (GitHub and its like sign with their own HMAC, if at all), handed
//! to the domain's [`WebhookReceiver`](crate::WebhookReceiver) with the
//! signature headers, the connection's peer address and the body (at most
//! [`WEBHOOK_MAX_BODY_BYTES`], else 413). Every answer is a JSON body.
//!
//! Such a POST would otherwise go to the S3 endpoint (it has no
//! `X-Amz-Target`) as a request on bucket `webhooks`; S3 requests are always
//! signed, so an unsigned POST under `/webhooks/` is a webhook's
//! ([`is_webhook_post`]), and a signed one stays S3's.

use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cpjobs_core::{WEBHOOK_MAX_BODY_BYTES, WEBHOOK_URL_PATH, WebhookAnswer, WebhookPost};

use crate::conn::PeerAddr;
use crate::{Clock, WebhookReceiver};

/// Whether `req` is a webhook's POST (see the module's documentation).
pub(crate) fn is_webhook_post(req: &Request) -> bool {
    let signed_query = req.uri().query().is_some_and(|q| {
        q.split('&').any(|p| {
            let name = p.split_once('=').map_or(p, |(k, _)| k);
            name.eq_ignore_ascii_case("X-Amz-Signature") || name.eq_ignore_ascii_case("Signature")
        })
    });
    req.method() == http::Method::POST
        && req.uri().path().starts_with(WEBHOOK_URL_PATH)
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !signed_query
}

#[derive(Clone)]
struct Hooks {
    receiver: WebhookReceiver,
    clock: Clock,
}

/// The webhooks' route, answered by `receiver` at the service's time.
pub(crate) fn router(receiver: WebhookReceiver, clock: Clock) -> Router {
    let path = format!("{WEBHOOK_URL_PATH}{{account}}/{{id}}");
    Router::new().route(&path, post(receive)).with_state(Hooks { receiver, clock })
}

fn answer(a: WebhookAnswer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], a.body.to_string()).into_response()
}

fn header_text(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn receive(State(hooks): State<Hooks>, Path((account, id)): Path<(String, String)>, req: Request) -> Response {
    // Without a peer (a router called in a test, not over a socket) no
    // address is in any range but 0.0.0.0/0.
    let peer = req.extensions().get::<PeerAddr>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0.ip());
    let signature_sha256 = header_text(&req, "x-hub-signature-256");
    let signature_sha1 = header_text(&req, "x-hub-signature");
    let too_large =
        || answer(WebhookAnswer::message(413, format!("The body is larger than {WEBHOOK_MAX_BODY_BYTES} bytes")));
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > WEBHOOK_MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let body = match axum::body::to_bytes(req.into_body(), WEBHOOK_MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    let post = WebhookPost { account_id: account, id, signature_sha256, signature_sha1, peer, body: body.to_vec() };
    let now: SystemTime = (hooks.clock)();
    let receiver = hooks.receiver.clone();
    // The domain reads and writes the store, which blocks.
    match tokio::task::spawn_blocking(move || receiver(post, now)).await {
        Ok(a) => answer(a),
        Err(_) => answer(WebhookAnswer::message(500, "The webhook could not be handled; try again")),
    }
}
