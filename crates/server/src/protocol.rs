//! AWS JSON 1.1 (<https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html>):
//! routing by `X-Amz-Target`, error bodies, request ids, and the handler that
//! walks a request through verification, validation and the domain.
//!
//! Every refusal is a JSON body `{"__type": ..., "message": ...}` with the
//! `x-amzn-RequestId` header, so botocore and the Rust SDK read the error code
//! from `__type` (and from `X-Amzn-ErrorType`) as they do AWS's. Routing follows
//! smithy-rs's aws_json router: only `/`, only `POST`, operation from the target.

use cpjobs_core::ErrorCode;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use cpjobs_core::{Api, ApiError, Family, Operation, Path, Reply, ServiceConfig, Submitted};
use cpjobs_model::ServiceModel;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::history::History;
use crate::metrics::Metrics;
use crate::sigv4::{SignedRequest, Verifier};
use crate::validate::Validator;
use crate::{Clock, Options, StatsSource};

/// The `X-Amz-Target` prefix of the CodePipeline API.
pub const CODEPIPELINE_PREFIX: &str = "CodePipeline_20150709";
/// The `X-Amz-Target` prefix of cpjobs's own operations (e.g. `ListThirdPartyClients`).
pub const CPJOBS_PREFIX: &str = "Cpjobs_20261129";
/// The `operation` label of requests that name no operation this service has.
pub const UNKNOWN_OPERATION: &str = "unknown";
/// The error code of every routing refusal, as AWS JSON 1.1 services answer them.
const UNKNOWN_OPERATION_CODE: ErrorCode = ErrorCode::UnknownOperationException;
/// The content type of AWS JSON 1.1 bodies.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The request id of the request being answered (a UUID, as AWS's).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the API handler leaves on its response for logs and metrics.
#[derive(Debug, Clone)]
struct Outcome {
    /// The operation the target names (`None`: the request named none).
    operation: Option<Operation>,
    /// `OK`, or the error code answered.
    code: &'static str,
    account: Option<String>,
}

impl Outcome {
    /// The operation's metrics label: its name, or `unknown`.
    fn label(&self) -> &'static str {
        self.operation.map_or(UNKNOWN_OPERATION, Operation::as_str)
    }
}

struct AppState {
    api: Arc<dyn Api>,
    /// The bearer token `/metrics` requires, if any.
    metrics_token: Option<String>,
    verifier: Verifier,
    validator: Validator,
    metrics: Arc<Metrics>,
    history: Arc<History>,
    stats: Option<Arc<dyn StatsSource>>,
    clock: Clock,
    max_body_bytes: usize,
}

/// The API port's router, and the metrics address's when `/metrics` is moved there.
pub(crate) fn routers(api: Arc<dyn Api>, config: &ServiceConfig, options: Options) -> (Router, Option<Router>) {
    let state = Arc::new(AppState {
        api,
        metrics_token: options.metrics.token.clone(),
        verifier: Verifier::new(config, options.temporary_credentials.clone()),
        validator: Validator::new(ServiceModel::codepipeline()),
        metrics: Arc::new(Metrics::default()),
        history: Arc::clone(&options.history),
        stats: options.stats.clone(),
        clock: options.clock.clone(),
        max_body_bytes: options.max_body_bytes,
    });
    let moved = options.metrics.listen.is_some();
    let passthrough = options.passthrough.clone();
    let mut router = Router::new().route("/", any(api_handler)).route("/health", get(health));
    if !moved {
        router = router.route("/metrics", get(metrics_handler));
    }
    let router = router.fallback(not_found).with_state(state.clone());
    let webhooks = options.webhooks.is_some();
    let router = match options.webhooks.clone() {
        Some(receiver) => router.merge(crate::webhook::router(receiver, options.clock.clone())),
        None => router,
    };
    let router = router
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, options.request_timeout))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            error_response(&ApiError::internal("Internal service error"))
        }))
        .layer(middleware::from_fn(request_id));
    // Outside the API's timeout and request-id layers: the other protocol
    // answers in its own way; only the trace span is shared.
    let router = match passthrough {
        Some(p) => router
            .layer(middleware::from_fn(move |req: Request, next: Next| {
                let p = p.clone();
                let theirs = is_passthrough(&req, moved) && !(webhooks && crate::webhook::is_webhook_post(&req));
                async move { if theirs { p(req).await } else { next.run(req).await } }
            }))
            .layer(crate::redact::trace_layer()),
        None => router.layer(crate::redact::trace_layer()),
    };
    let metrics_router = moved.then(|| {
        Router::new()
            .route("/metrics", get(metrics_handler))
            .route("/health", get(health))
            .with_state(state)
            .layer(crate::redact::trace_layer())
    });
    (router, metrics_router)
}

/// Whether a request belongs to the [`Passthrough`](crate::Passthrough): not
/// AWS JSON (no `X-Amz-Target`, and not signed for `codepipeline`), and not
/// one of the service's own GET pages (`/metrics` only while served here).
fn is_passthrough(req: &Request, metrics_moved: bool) -> bool {
    let own_page = req.method() == Method::GET
        && match req.uri().path() {
            "/health" => true,
            "/metrics" => !metrics_moved,
            _ => false,
        };
    !own_page && !req.headers().contains_key("x-amz-target") && !signed_for_codepipeline(req.headers(), req.uri())
}

/// The service named by a SigV4 credential scope
/// (`KEY/DATE/REGION/SERVICE/aws4_request`).
fn scope_service(credential: &str) -> Option<&str> {
    let mut parts = credential.rsplit('/');
    (parts.next()? == "aws4_request").then_some(())?;
    parts.next()
}

/// Whether a request is signed (in its `Authorization` header or presigned
/// in its query) for the `codepipeline` service: such a request belongs to
/// the JSON protocol whatever else it lacks, so it is answered in JSON.
pub fn signed_for_codepipeline(headers: &http::HeaderMap, uri: &http::Uri) -> bool {
    let in_header = headers.get_all(header::AUTHORIZATION).iter().any(|v| {
        let v = v.to_str().unwrap_or_default();
        v.split([' ', ','])
            .filter_map(|p| p.strip_prefix("Credential="))
            .any(|c| scope_service(c) == Some("codepipeline"))
    });
    let in_query = uri.query().is_some_and(|q| {
        q.split('&').filter_map(|p| p.split_once('=')).any(|(k, v)| {
            k.eq_ignore_ascii_case("X-Amz-Credential")
                && scope_service(&v.replace("%2F", "/").replace("%2f", "/")) == Some("codepipeline")
        })
    });
    in_header || in_query
}

/// A JSON error body as AWS JSON 1.1 has it.
pub fn error_response(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({ "__type": e.code.as_str(), "message": e.message }).to_string();
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert("x-amzn-errortype", HeaderValue::from_static(e.code.as_str()));
    resp
}

/// Gives every response a fresh request id, logs API outcomes, and turns
/// framework answers without a body (the timeout's 408) into AWS-style errors.
///
/// The per-request span and outcome line are at DEBUG: at thousands of
/// requests a second, an INFO line each would cost more than the request.
/// Errors are logged at their own level with the request id.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::debug_span!("request", request_id = %id);
    let mut resp = next.run(req).instrument(span.clone()).await;
    if resp.status() == StatusCode::REQUEST_TIMEOUT && !resp.headers().contains_key(header::CONTENT_TYPE) {
        resp = error_response(&Refusal::Timeout.into());
    }
    if let Some(o) = resp.extensions().get::<Outcome>() {
        span.in_scope(|| {
            tracing::debug!(
                operation = o.label(),
                code = %o.code,
                status = resp.status().as_u16(),
                account = o.account.as_deref().unwrap_or("-"),
                "api request"
            )
        });
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

async fn health() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], "{\"status\":\"ok\"}").into_response()
}

/// Whether the request carries the metrics token (`None`: no token is configured).
fn metrics_authorized(token: Option<&str>, headers: &http::HeaderMap) -> Option<bool> {
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    let token = token?;
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    // Digests compare in constant time whatever the lengths.
    Some(sent.is_some_and(|s| bool::from(sha2::Sha256::digest(s).ct_eq(&sha2::Sha256::digest(token)))))
}

async fn metrics_handler(State(state): State<Arc<AppState>>, headers: http::HeaderMap) -> Response {
    let full = match metrics_authorized(state.metrics_token.as_deref(), &headers) {
        Some(true) => true,
        Some(false) => {
            let mut resp = (StatusCode::UNAUTHORIZED, "A bearer token is required to read /metrics.\n").into_response();
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cpjobs metrics\""));
            return resp;
        }
        // No token configured: anyone reads it, without account ids.
        None => false,
    };
    let domain = match &state.stats {
        Some(s) => {
            let (s, now) = (s.clone(), (state.clock)());
            tokio::task::spawn_blocking(move || s.stats(now)).await.ok()
        }
        None => None,
    };
    let domain = if full { domain } else { domain.map(|d| d.without_account_ids()) };
    let text = state.metrics.render(domain.as_ref());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn not_found() -> Response {
    error_response(&Refusal::NotRoot.into())
}

/// Why a request was refused before any operation ran (as smithy-rs's
/// `RuntimeError`): routing, then reading the body. Each is answered as AWS
/// JSON 1.1 services answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A path other than `/` (HTTP 404).
    NotRoot,
    /// A method other than `POST` (HTTP 405).
    NotPost(Method),
    /// No `X-Amz-Target` header.
    NoTarget,
    /// An `X-Amz-Target` that names no operation of this service.
    UnknownTarget(String),
    /// A body over the limit, declared or sent (HTTP 413).
    BodyTooLarge(usize),
    /// A body that did not arrive fast enough (HTTP 408).
    BodyTooSlow(String),
    /// A request the service took too long to answer (HTTP 408).
    Timeout,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        let (status, code, message) = match r {
            Refusal::NotRoot => (404, UNKNOWN_OPERATION_CODE, "The AWS JSON 1.1 protocol serves POST / only.".into()),
            Refusal::NotPost(method) => (
                405,
                UNKNOWN_OPERATION_CODE,
                format!("{method} is not allowed: the AWS JSON 1.1 protocol serves POST / only."),
            ),
            Refusal::NoTarget => {
                (400, UNKNOWN_OPERATION_CODE, "The request has no X-Amz-Target header naming an operation.".into())
            }
            Refusal::UnknownTarget(target) => (400, UNKNOWN_OPERATION_CODE, format!("Unknown operation: {target}")),
            Refusal::BodyTooLarge(limit) => (
                413,
                ErrorCode::SerializationException,
                format!("The request body is larger than the service accepts ({limit} bytes)."),
            ),
            Refusal::BodyTooSlow(why) => {
                (408, ErrorCode::RequestTimeoutException, format!("The request body was sent too slowly: {why}."))
            }
            Refusal::Timeout => {
                (408, ErrorCode::RequestTimeoutException, "The request took too long to be answered.".into())
            }
        };
        ApiError { status, code, message }
    }
}

/// The operation `X-Amz-Target` names (`PREFIX.Operation`), if any: a
/// CodePipeline operation under its prefix, a cpjobs one under cpjobs's.
pub fn resolve_target(target: &str) -> Option<Operation> {
    let (prefix, name) = target.split_once('.')?;
    let family = match prefix {
        CODEPIPELINE_PREFIX => Family::CodePipeline,
        CPJOBS_PREFIX => Family::Cpjobs,
        _ => return None,
    };
    Operation::of(family, name)
}

async fn api_handler(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let mut outcome = Outcome { operation: None, code: "OK", account: None };
    let result = answer(&state, req, &mut outcome).await;
    let mut resp = match result {
        Ok(value) => {
            let mut r = (StatusCode::OK, value.to_string()).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(request_id = %request_id, code = %e.code, message = %e.message, "request failed");
            }
            outcome.code = e.code.as_str();
            error_response(&e)
        }
    };
    let elapsed = started.elapsed();
    state.metrics.record(outcome.label(), outcome.code, elapsed);
    if let (Some(op), Some(account)) = (outcome.operation, &outcome.account) {
        state.history.record(op, outcome.code == "OK", account, elapsed, (state.clock)());
    }
    resp.extensions_mut().insert(outcome);
    resp
}

async fn answer(state: &AppState, req: Request, outcome: &mut Outcome) -> Result<Value, ApiError> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return Err(Refusal::NotPost(parts.method).into());
    }
    let Some(target) = parts.headers.get("x-amz-target") else {
        return Err(Refusal::NoTarget.into());
    };
    let target = target.to_str().unwrap_or_default();
    let Some(operation) = resolve_target(target) else {
        return Err(Refusal::UnknownTarget(target.to_owned()).into());
    };
    // Operations are a closed set: each may be a metrics label.
    outcome.operation = Some(operation);

    let body = read_body(&parts.headers, body, state.max_body_bytes).await?;
    let now = (state.clock)();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let caller = state.verifier.verify(
        &SignedRequest { method: parts.method.as_str(), path_and_query, headers: &parts.headers, body: &body },
        now,
    )?;
    outcome.account = Some(caller.account_id.clone());
    // An operation of the model that cpjobs does not run gets the answer of a
    // target that names no operation, word for word: AWS knows no more of it,
    // and a client must not read it as bad input.
    if operation.path() == Path::Unsupported {
        return Err(Refusal::UnknownTarget(target.to_owned()).into());
    }

    let input = parse_input(&body)?;
    state.validator.check_operation(operation, &input)?;
    // The domain answers at once what takes a short read, hands job writes
    // to the store's writer, and gives back the rest as work for a blocking
    // thread; this task waits for the answer without holding a thread.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let reply: Reply = Box::new(move |r| {
        // The receiver is gone only when the request was dropped (a timeout).
        let _ = tx.send(r);
    });
    match state.api.submit(&caller, operation, input, now, reply) {
        Submitted::Taken => {}
        // A panic there drops the reply, answered below.
        Submitted::Blocking(work) => drop(tokio::task::spawn_blocking(work)),
    }
    rx.await.unwrap_or_else(|_| {
        tracing::error!(operation = %operation, "an operation was dropped without an answer");
        Err(ApiError::internal("Internal service error"))
    })
}

async fn read_body(headers: &axum::http::HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::from(Refusal::BodyTooLarge(limit));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<crate::BodyTooSlow>() {
                return Refusal::BodyTooSlow(s.to_string()).into();
            }
            source = s.source();
        }
        too_large()
    })
}

/// The input object; an empty body is `{}` as in AWS JSON.
fn parse_input(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(Value::Array(_)) => {
            Err(ApiError::client(ErrorCode::SerializationException, "Start of list found where not expected"))
        }
        Ok(_) => {
            Err(ApiError::client(ErrorCode::SerializationException, "Expected a JSON object as the request body."))
        }
        Err(e) => {
            Err(ApiError::client(ErrorCode::SerializationException, format!("The request body is not valid JSON: {e}")))
        }
    }
}
