//! AWS JSON 1.1 (<https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html>):
//! routing by `X-Amz-Target`, error bodies, request ids, and the handler that
//! walks a request through verification, validation and the domain.
//!
//! Every refusal is a JSON body `{"__type": ..., "message": ...}` with the
//! `x-amzn-RequestId` header, so botocore and the Rust SDK read the error code
//! from `__type` (and from `X-Amzn-ErrorType`) as they do AWS's. Routing follows
//! smithy-rs's aws_json router: only `/`, only `POST`, operation from the target.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use cpjobs_core::{Api, ApiError, Caller, Reply, ServiceConfig, Submitted};
use cpjobs_model::ServiceModel;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

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
/// The content type of AWS JSON 1.1 bodies.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The request id of the request being answered (a UUID, as AWS's).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the API handler leaves on its response for logs and metrics.
#[derive(Debug, Clone)]
struct Outcome {
    /// A model operation, an extension operation the domain knows, or `unknown`.
    operation: String,
    /// Whether `operation` names a cpjobs extension (known only from the domain's answer).
    extension: bool,
    code: String,
    account: Option<String>,
}

struct AppState {
    api: Arc<dyn Api>,
    /// The bearer token `/metrics` requires, if any.
    metrics_token: Option<String>,
    verifier: Verifier,
    validator: Validator,
    metrics: Arc<Metrics>,
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
    let router = router
        .fallback(not_found)
        .with_state(state.clone())
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
                async move { if is_passthrough(&req, moved) { p(req).await } else { next.run(req).await } }
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
    let body = json!({ "__type": e.code, "message": e.message }).to_string();
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(&e.code) {
        h.insert("x-amzn-errortype", v);
    }
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
        resp = error_response(&ApiError {
            status: 408,
            code: "RequestTimeoutException".into(),
            message: "The request took too long to be answered.".into(),
        });
    }
    if let Some(o) = resp.extensions().get::<Outcome>() {
        span.in_scope(|| {
            tracing::debug!(
                operation = %o.operation,
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
    error_response(&ApiError {
        status: 404,
        code: "UnknownOperationException".into(),
        message: "The AWS JSON 1.1 protocol serves POST / only.".into(),
    })
}

/// Which operation a target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An operation of the CodePipeline model.
    Model(String),
    /// A cpjobs extension operation (not in the model; the domain checks its input).
    Extension(String),
}

/// Resolves `X-Amz-Target`; `None` when it names no operation this service has.
pub fn resolve_target(model: &ServiceModel, target: &str) -> Option<Target> {
    let (prefix, op) = target.split_once('.')?;
    match prefix {
        CODEPIPELINE_PREFIX if model.operation(op).is_some() => Some(Target::Model(op.to_owned())),
        CPJOBS_PREFIX if (1..=64).contains(&op.len()) && op.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(Target::Extension(op.to_owned()))
        }
        _ => None,
    }
}

async fn api_handler(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let mut outcome =
        Outcome { operation: UNKNOWN_OPERATION.into(), extension: false, code: "OK".into(), account: None };
    let mut result = answer(&state, req, &mut outcome).await;
    // An operation of the model the domain does not run gets the answer of a
    // target that names no operation, word for word, as AWS knows no more of it.
    if let Err(e) = &mut result
        && e.code == "UnknownOperationException"
        && !outcome.extension
        && outcome.operation != UNKNOWN_OPERATION
    {
        e.message = format!("Unknown operation: {CODEPIPELINE_PREFIX}.{}", outcome.operation);
    }
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
            outcome.code = e.code.clone();
            error_response(&e)
        }
    };
    // Extension names are whatever a signed client sends: one the domain
    // does not know must not become a label of its own.
    if outcome.extension && outcome.code == "UnknownOperationException" {
        outcome.operation = UNKNOWN_OPERATION.into();
    }
    state.metrics.record(&outcome.operation, &outcome.code, started.elapsed());
    resp.extensions_mut().insert(outcome);
    resp
}

fn unknown_operation(message: String) -> ApiError {
    ApiError::client("UnknownOperationException", message)
}

async fn answer(state: &AppState, req: Request, outcome: &mut Outcome) -> Result<Value, ApiError> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return Err(ApiError {
            status: 405,
            code: "UnknownOperationException".into(),
            message: format!("{} is not allowed: the AWS JSON 1.1 protocol serves POST / only.", parts.method),
        });
    }
    let Some(target) = parts.headers.get("x-amz-target") else {
        return Err(unknown_operation("The request has no X-Amz-Target header naming an operation.".into()));
    };
    let target = target.to_str().unwrap_or_default();
    let Some(resolved) = resolve_target(ServiceModel::codepipeline(), target) else {
        return Err(unknown_operation(format!("Unknown operation: {target}")));
    };
    let operation = match &resolved {
        Target::Model(op) | Target::Extension(op) => op.clone(),
    };
    // Model names are a closed set; extension names are whatever a client
    // sends, so they become a metrics label only once the caller is known.
    if matches!(resolved, Target::Model(_)) {
        outcome.operation = operation.clone();
    }

    let body = read_body(&parts.headers, body, state.max_body_bytes).await?;
    let now = (state.clock)();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let caller = state.verifier.verify(
        &SignedRequest { method: parts.method.as_str(), path_and_query, headers: &parts.headers, body: &body },
        now,
    )?;
    outcome.account = Some(caller.account_id.clone());
    outcome.operation = operation.clone();
    outcome.extension = matches!(resolved, Target::Extension(_));

    let input = parse_input(&body)?;
    if let Target::Model(op) = &resolved {
        state.validator.check(op, &input)?;
    }
    // What the domain can answer from a short read is answered here,
    // without a hop to a blocking thread.
    if let Some(r) = state.api.call_now(&caller, &operation, &input, now) {
        return r;
    }
    // The job writes are handed to the store's writer; this task waits for
    // the answer without holding a thread.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let reply: Reply = Box::new(move |r| {
        // The receiver is gone only when the request was dropped (a timeout).
        let _ = tx.send(r);
    });
    match state.api.submit(&caller, &operation, input, now, reply) {
        Submitted::Taken => rx.await.unwrap_or_else(|_| {
            tracing::error!("a submitted operation was dropped without an answer");
            Err(ApiError::internal("Internal service error"))
        }),
        Submitted::Declined(input, _) => call_api(state.api.clone(), caller, operation, input, now).await,
    }
}

async fn read_body(headers: &axum::http::HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError {
        status: 413,
        code: "SerializationException".into(),
        message: format!("The request body is larger than the service accepts ({limit} bytes)."),
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<crate::BodyTooSlow>() {
                return ApiError {
                    status: 408,
                    code: "RequestTimeoutException".into(),
                    message: format!("The request body was sent too slowly: {s}."),
                };
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
            Err(ApiError::client("SerializationException", "Start of list found where not expected"))
        }
        Ok(_) => Err(ApiError::client("SerializationException", "Expected a JSON object as the request body.")),
        Err(e) => Err(ApiError::client("SerializationException", format!("The request body is not valid JSON: {e}"))),
    }
}

/// Runs the domain on a blocking thread: the store is synchronous SQLite.
async fn call_api(
    api: Arc<dyn Api>,
    caller: Caller,
    operation: String,
    input: Value,
    now: std::time::SystemTime,
) -> Result<Value, ApiError> {
    match tokio::task::spawn_blocking(move || api.call(&caller, &operation, input, now)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the domain panicked");
            Err(ApiError::internal("Internal service error"))
        }
    }
}
