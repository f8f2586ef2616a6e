//! The browser console, served under `/console/` on a port of its own.
//!
//! It signs a user in with an account's access key id and secret (the
//! principals the SigV4 verifier knows), then calls the same [`Api`] the JSON
//! API calls, as that account: every page shows exactly what the API would
//! answer that account, and every button is the API operation of the same
//! name (its input checked against the model first, as the API does).
//!
//! Pages are written with `maud`: its `html!` templates are Rust, checked by
//! the compiler and escaped by default, need no template files or build step,
//! and the crate is small and well kept. The stylesheet and the few lines of
//! script (live updates by short polling) are embedded in the binary.
//! Pages work without the script; they just do not refresh themselves.

mod calls;
mod charts;
mod execution;
mod executions;
mod format;
mod jobs;
mod layout;
mod pipeline;
mod pipeline_actions;
mod pipelines;
mod session;
mod signin;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use cpjobs_core::{Api, ServiceConfig};
use cpjobs_model::ServiceModel;

use crate::Clock;
use crate::history::History;
use crate::validate::Validator;
use session::Sessions;

/// How the console is set up.
#[derive(Clone)]
pub struct Settings {
    /// The key sessions and CSRF tokens are signed with (derive it from the service key).
    pub key: [u8; 32],
    /// How long a session lasts after signing in.
    pub session_ttl: Duration,
}

impl Settings {
    /// Sessions signed with `key`, lasting 8 hours (a working day).
    pub fn new(key: [u8; 32]) -> Settings {
        Settings { key, session_ttl: Duration::from_secs(8 * 3600) }
    }
}

/// What every handler shares.
pub(crate) struct Console {
    api: Arc<dyn Api>,
    validator: Validator,
    /// Access key id -> (account id, secret), as the SigV4 verifier has them.
    principals: HashMap<String, (String, String)>,
    sessions: Sessions,
    clock: Clock,
    /// The last hour's figures the jobs page charts.
    history: Arc<History>,
}

/// The console's router: everything under `/console`, and a redirect from `/`.
/// `history` is the one the API records into (see [`crate::Options::history`]).
pub fn router(
    api: Arc<dyn Api>,
    config: &ServiceConfig,
    settings: Settings,
    clock: Clock,
    history: Arc<History>,
) -> Router {
    let mut principals = HashMap::new();
    for account in &config.accounts {
        for p in &account.principals {
            principals.insert(p.access_key_id.clone(), (account.id.clone(), p.secret_access_key.clone()));
        }
    }
    let state = Arc::new(Console {
        api,
        validator: Validator::new(ServiceModel::codepipeline()),
        principals,
        sessions: Sessions::new(settings.key, settings.session_ttl),
        clock,
        history,
    });
    Router::new()
        .route("/", get(layout::to_home))
        .route("/console", get(layout::to_home))
        .route("/console/", get(layout::to_home))
        .route("/console/assets/console.css", get(layout::stylesheet))
        .route("/console/assets/live.js", get(layout::script))
        .route("/console/signin", get(signin::form).post(signin::submit))
        .route("/console/signout", post(signin::sign_out))
        .route("/console/pipelines", get(pipelines::page))
        .route("/console/pipelines/{name}", get(pipeline::page))
        .route("/console/pipelines/{name}/start", post(pipeline_actions::start))
        .route("/console/pipelines/{name}/stop", post(pipeline_actions::stop))
        .route("/console/pipelines/{name}/retry", post(pipeline_actions::retry))
        .route("/console/pipelines/{name}/approval", post(pipeline_actions::approval))
        .route("/console/pipelines/{name}/transition", post(pipeline_actions::transition))
        .route("/console/pipelines/{name}/executions", get(executions::page))
        .route("/console/pipelines/{name}/executions/{id}", get(execution::page))
        .route("/console/jobs", get(jobs::page))
        .fallback(layout::not_found)
        .layer(middleware::from_fn(headers))
        .with_state(state)
}

/// Headers of every console answer: only our own scripts and styles, no
/// framing, no referrer leaking pipeline names, nothing cached; and the time
/// the server spent (`Server-Timing`, which browsers' developer tools and the
/// benchmark read).
async fn headers(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        h.insert("server-timing", v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
