//! The cpjobs service's HTTP face: AWS JSON 1.1 on `POST /`, SigV4-verified,
//! input checked against the API model, then handed to the domain through
//! [`cpjobs_core::Api::submit`], whose blocking work (the store is
//! synchronous) runs on a blocking thread.
//!
//! Request path (each step answers AWS's own error when it refuses):
//! route `X-Amz-Target` to an [`Operation`](cpjobs_core::Operation) → bounded
//! body → SigV4 → JSON → model constraints → `Api::submit`. Storage never sees
//! HTTP; this crate never sees SQL.
//!
//! Besides the API: `GET /health`, `GET /metrics` (Prometheus text, on the API
//! port or its own address, optionally behind a bearer token), a periodic tick
//! for the domain's timeouts, connections bounded in time and number
//! ([`conn`]), and graceful shutdown. The browser console ([`console`]) is
//! served on a port of its own when the binary asks for it.

mod body_rule;
pub mod config;
pub mod conn;
pub mod console;
pub mod history;
pub mod metrics;
pub mod protocol;
pub mod redact;
pub mod sigv4;
pub mod validate;
mod webhook;

mod amzdate;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use cpjobs_core::{Api, ServiceConfig};

pub use axum::body::Body as HttpBody;
pub use body_rule::BodyTooSlow;
pub use conn::ConnectionLimits;
pub use metrics::{DomainStats, StatsSource};
pub use sigv4::{TemporaryCredential, TemporaryCredentials};

/// The domain's periodic work (lease expiry, job timeouts), called with the time.
pub type Tick = Arc<dyn Fn(SystemTime) + Send + Sync>;

/// The domain's answer to a POST to a webhook's URL (see [`Options::webhooks`]);
/// it may block (it runs on a blocking thread).
pub type WebhookReceiver =
    Arc<dyn Fn(cpjobs_core::WebhookPost, SystemTime) -> cpjobs_core::WebhookAnswer + Send + Sync>;

/// Where the service reads the time; tests pass a fixed clock.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Another protocol served on the API port: it answers every request that is
/// not AWS JSON 1.1 (no `X-Amz-Target`), except `GET /health` and
/// `GET /metrics`. The binary mounts the S3 artifact endpoint here; this
/// crate knows nothing of what it serves. Such requests bypass the API's
/// body limit and request timeout (artifacts are large and slow).
pub type Passthrough = Arc<dyn Fn(http::Request<axum::body::Body>) -> PassthroughFuture + Send + Sync>;

/// What a [`Passthrough`] answers with.
pub type PassthroughFuture = std::pin::Pin<Box<dyn Future<Output = http::Response<axum::body::Body>> + Send + 'static>>;

/// Everything beyond the `Api` that the domain may plug in, and the service's limits.
#[derive(Clone)]
pub struct Options {
    /// Temporary credentials (session tokens) the verifier accepts.
    pub temporary_credentials: Option<Arc<dyn TemporaryCredentials>>,
    /// Job gauges for `/metrics`.
    pub stats: Option<Arc<dyn StatsSource>>,
    /// Periodic work, run every `tick_interval` by [`serve`].
    pub tick: Option<Tick>,
    /// How often `tick` runs.
    pub tick_interval: Duration,
    /// The service's clock (SigV4 skew checks and `Api::submit`'s `now`).
    pub clock: Clock,
    /// The largest request body accepted; larger ones answer 413.
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Requests of another protocol on the same port (see [`Passthrough`]).
    pub passthrough: Option<Passthrough>,
    /// Timeouts and the cap of the connections [`serve`] accepts.
    pub limits: ConnectionLimits,
    /// Who may read `/metrics`, and where.
    pub metrics: MetricsAccess,
    /// The browser console, served on [`Listeners::console`] when both are set.
    pub console: Option<console::Settings>,
    /// The last hour's figures the console charts: the API records into
    /// it, and [`serve_listeners`] samples `stats`' queue depths into it
    /// once a minute.
    pub history: Arc<history::History>,
    /// Who answers unsigned POSTs to `/webhooks/ACCOUNT/ID` on the API port
    /// (without it, they are the passthrough's like any other request).
    pub webhooks: Option<WebhookReceiver>,
}

/// The sockets [`serve_listeners`] serves: the API's, and those of `/metrics`
/// and the console when they have their own.
pub struct Listeners {
    /// The API port (with the passthrough, `/health` and, unless moved, `/metrics`).
    pub api: tokio::net::TcpListener,
    /// Where `/metrics` is served when `options.metrics.listen` is set.
    pub metrics: Option<tokio::net::TcpListener>,
    /// Where the console is served when `options.console` is set.
    pub console: Option<tokio::net::TcpListener>,
}

/// Who may read `/metrics`, and where it is served.
///
/// Without a token anyone who reaches it may read it, and it shows no
/// account ids (12-digit segments of label values are left out and the
/// series that then coincide are added up). With a token, only requests with
/// `Authorization: Bearer <token>` may read it (401 otherwise), and they see
/// every label in full. `/health` stays open either way.
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// The bearer token required to read `/metrics`.
    pub token: Option<String>,
    /// Serve `/metrics` (and `/health`) on this address instead of the API port.
    pub listen: Option<std::net::SocketAddr>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            temporary_credentials: None,
            stats: None,
            tick: None,
            tick_interval: Duration::from_secs(1),
            clock: Arc::new(SystemTime::now),
            // CodePipeline's largest inputs (pipeline declarations) are far below this.
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            passthrough: None,
            limits: ConnectionLimits::default(),
            metrics: MetricsAccess::default(),
            console: None,
            history: Arc::default(),
            webhooks: None,
        }
    }
}

/// The service as a router, with default options: the one-line seam for the domain.
pub fn app(api: Arc<dyn Api>, config: &ServiceConfig) -> Router {
    app_with(api, config, Options::default())
}

/// The service as a router, with the domain's hooks and limits.
/// `/metrics` is on it unless `options.metrics.listen` moves it away.
pub fn app_with(api: Arc<dyn Api>, config: &ServiceConfig, options: Options) -> Router {
    protocol::routers(api, config, options).0
}

/// The service as two routers: the API port's, and, when
/// `options.metrics.listen` is set, the one of the metrics address.
pub fn apps_with(api: Arc<dyn Api>, config: &ServiceConfig, options: Options) -> (Router, Option<Router>) {
    protocol::routers(api, config, options)
}

/// Serves `api` on `listener` until `shutdown` completes, then lets requests in
/// flight finish. Runs `options.tick` every `options.tick_interval` meanwhile.
/// When `options.metrics.listen` is set, `/metrics` is served there.
///
/// Raises the soft open-file limit to the hard limit first, and caps the open
/// connections below it unless `options.limits.max_connections` is set.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Arc<dyn Api>,
    config: &ServiceConfig,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let metrics = match options.metrics.listen {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    serve_on(listener, metrics, api, config, options, shutdown).await
}

/// [`serve`] on listeners the caller bound: `metrics` is where `/metrics` is
/// served when `options.metrics.listen` is set (ignored otherwise).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    metrics_listener: Option<tokio::net::TcpListener>,
    api: Arc<dyn Api>,
    config: &ServiceConfig,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listeners = Listeners { api: listener, metrics: metrics_listener, console: None };
    serve_listeners(listeners, api, config, options, shutdown).await
}

/// [`serve_on`], with the console's listener too.
pub async fn serve_listeners(
    listeners: Listeners,
    api: Arc<dyn Api>,
    config: &ServiceConfig,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Listeners { api: listener, metrics: metrics_listener, console: console_listener } = listeners;
    let file_limit = conn::raise_file_limit();
    let max_connections = options.limits.max_connections.unwrap_or_else(|| conn::default_max_connections(file_limit));
    tracing::debug!(max_connections, file_limit, "connection limits");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ticker = options.tick.clone().map(|tick| {
        let clock = options.clock.clone();
        let interval = options.tick_interval;
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(interval);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = timer.tick() => {}
                    _ = stop.changed() => break,
                }
                let (tick, now) = (tick.clone(), clock());
                // The tick touches the synchronous store; a panic in it is logged, not fatal.
                if let Err(e) = tokio::task::spawn_blocking(move || tick(now)).await {
                    tracing::error!(error = %e, "tick failed");
                }
            }
        })
    });
    let sampler = options.stats.clone().map(|stats| {
        let (clock, history, mut stop) = (options.clock.clone(), Arc::clone(&options.history), stop_rx.clone());
        tokio::spawn(async move {
            // Once a minute, from the start: the charts' queue depth needs one sample per minute.
            let mut timer = tokio::time::interval(Duration::from_secs(60));
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = timer.tick() => {}
                    _ = stop.changed() => break,
                }
                let (stats, history, now) = (Arc::clone(&stats), Arc::clone(&history), clock());
                // A store read: on a blocking thread, like a scrape of /metrics.
                let sampled = tokio::task::spawn_blocking(move || {
                    history.sample_depths(&stats.stats(now).queue_depth, now);
                });
                if let Err(e) = sampled.await {
                    tracing::error!(error = %e, "sampling the queue depths failed");
                }
            }
        })
    });
    let limits = options.limits.clone();
    let moved = options.metrics.listen.is_some();
    let console_server = match (console_listener, options.console.clone()) {
        (Some(l), Some(settings)) => {
            let history = Arc::clone(&options.history);
            let router = console::router(Arc::clone(&api), config, settings, options.clock.clone(), history);
            let (stop, limits) = (stop_rx.clone(), limits.clone());
            // People at browsers: a cap of its own, so they never take the API's connections.
            Some(tokio::spawn(async move { conn::serve_connections(l, router, limits, 256, stop).await }))
        }
        _ => None,
    };
    let (router, metrics_router) = apps_with(api, config, options);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let metrics_server = match (moved, metrics_listener, metrics_router) {
        (true, Some(l), Some(r)) => {
            // A handful of scrapers: a small cap of its own, apart from the API's.
            let stop = stop_rx.clone();
            let limits = limits.clone();
            Some(tokio::spawn(async move { conn::serve_connections(l, r, limits, 64, stop).await }))
        }
        _ => None,
    };
    conn::serve_connections(listener, router, limits, max_connections, stop_rx).await;
    if let Some(m) = metrics_server {
        let _ = m.await;
    }
    if let Some(c) = console_server {
        let _ = c.await;
    }
    if let Some(t) = ticker {
        let _ = t.await;
    }
    if let Some(s) = sampler {
        let _ = s.await;
    }
    Ok(())
}

/// Completes on ctrl-c (SIGINT) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled, so a signal that comes
/// right after the service announced itself still stops it gracefully.
/// Must be called inside a Tokio runtime.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(term) => {}
            _ = wait(int) => {}
        }
    }
}

/// Completes on ctrl-c.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
