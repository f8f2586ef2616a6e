//! The service's connections: accepted under a cap, each watched by a
//! watchdog so that no client, signed or not, holds a socket longer than the
//! limits allow (threat model: "idle, slow and half-open connections are
//! bounded in time and number").
//!
//! Per connection, one of these deadlines runs at a time:
//! - **header read**: from the connection's start, or from the first byte of a
//!   later request, the request's headers must be complete within
//!   `header_read_timeout` (slowloris, and sockets that never send anything);
//! - **idle**: between requests of a kept-alive connection, the next request
//!   must start within `idle_timeout`;
//! - **response write**: a response that cannot be written (the client stopped
//!   reading) for `write_timeout` ends the connection.
//!
//! Request bodies (the JSON API's and the S3 passthrough's alike) are read
//! under the body rule of [`crate::body_rule`]; a body that breaks it closes
//! its connection.
//!
//! At `max_connections` open connections, a new one takes the place of the
//! open connection that has waited longest without a request in flight
//! (first those still waiting for their first request's headers, then idle
//! kept-alive ones), so sockets an attacker holds open cannot lock clients out
//! for the length of a timeout; when every open connection has a request in
//! flight, the new one is closed at once. Requests being answered are never
//! cut short to make room.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::body_rule::TimedBody;
use tokio::net::{TcpListener, TcpStream};
use tower::Service as _;

/// How long connections and request bodies may take, and how many connections
/// may be open. Defaults in [`ConnectionLimits::default`]; set in the TOML
/// configuration's `[limits]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this, counted from the
    /// connection's start (first request) or from the request's first byte.
    pub header_read_timeout: Duration,
    /// A kept-alive connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
    /// The window of the request body rule (see the module documentation).
    pub body_read_timeout: Duration,
    /// The bytes of request body that must arrive in each window.
    pub body_min_bytes: u64,
    /// A response the client does not read for this long ends the connection.
    pub write_timeout: Duration,
    /// The most connections open at once; `None`: derived from the file limit
    /// (see [`default_max_connections`]).
    pub max_connections: Option<usize>,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            // Any client sends its headers in one go; 10 s leaves room for a bad network.
            header_read_timeout: Duration::from_secs(10),
            // What AWS's load balancers keep an idle connection for.
            idle_timeout: Duration::from_secs(60),
            // 8 KiB per 30 s is about 270 bytes/s: slower than any real upload,
            // faster than any trickle that tries to hold the socket.
            body_read_timeout: Duration::from_secs(30),
            body_min_bytes: 8 * 1024,
            write_timeout: Duration::from_secs(30),
            max_connections: None,
        }
    }
}

/// File descriptors kept for everything but connections (the store, its WAL,
/// the listeners, logs).
const RESERVED_FILES: u64 = 64;

/// Raises the soft limit on open files to the hard limit (where the system
/// allows) and returns the soft limit then in force; `None` when unlimited or
/// unknown.
pub fn raise_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(error = %e, "cannot raise the open-file limit to its hard limit");
            }
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap when none is configured: each connection may hold a
/// socket and one artifact file, so half of the file limit less a reserve;
/// 10 000 when the limit is unknown or unlimited.
pub fn default_max_connections(file_limit: Option<u64>) -> usize {
    match file_limit {
        Some(n) => usize::try_from(n.saturating_sub(RESERVED_FILES) / 2).unwrap_or(usize::MAX).max(1),
        None => 10_000,
    }
}

/// Logs at most one line per interval for events an attacker can repeat at
/// will (refused connections), with how many were not logged.
struct RateLimitedWarning {
    last: std::sync::Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl RateLimitedWarning {
    const INTERVAL: Duration = Duration::from_secs(10);

    fn new() -> RateLimitedWarning {
        RateLimitedWarning { last: std::sync::Mutex::new(None), suppressed: AtomicU64::new(0) }
    }

    fn warn(&self, message: &str, cap: usize) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < Self::INTERVAL) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        tracing::warn!(max_connections = cap, not_logged = suppressed, "{message}");
    }
}

/// Serves `router` on `listener` under `limits` until `stop` turns true, then
/// lets the open connections finish their requests (each still bounded by
/// the limits) and returns.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    max_connections: usize,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let refused = RateLimitedWarning::new();
    let limits = Arc::new(limits);
    let open = Arc::new(Open::default());
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Reap finished connection tasks so the set does not grow.
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok((stream, peer)) => (stream, peer),
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather
                // than spin, and keep serving the connections already open.
                refused.warn(&format!("accepting a connection failed: {e}"), max_connections);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            // At the cap: make room by ending the connection that has waited
            // longest with nothing in flight; it frees its place at once.
            Err(_) if open.evict_one() => {
                tokio::time::timeout(EVICTION_WAIT, permits.clone().acquire_owned()).await.ok().and_then(Result::ok)
            }
            Err(_) => None,
        };
        let Some(permit) = permit else {
            // Closing at once frees the descriptor; the client sees the
            // connection end before any request is read.
            drop(stream);
            refused
                .warn("connection refused: max_connections are open, each with a request in flight", max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, limits, stop, open) = (router.clone(), limits.clone(), stop.clone(), open.clone());
        // Registered here, not in the task: a connection's age is counted from
        // its accept, and connections are listed in the order they came, however
        // late a busy runtime first runs their tasks.
        let (id, watch) = open.add();
        connections.spawn(async move {
            serve_one(stream, peer, watch, router, limits, stop).await;
            open.remove(id);
            drop(permit);
        });
    }
    while connections.join_next().await.is_some() {}
}

/// The address of the connection a request came on, in its extensions (for
/// what authenticates by address: webhooks' `IP` authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// How long a new connection waits for the place of the one it evicted
/// (that one only has to notice and close its socket).
const EVICTION_WAIT: Duration = Duration::from_millis(250);

/// The open connections' watches, for eviction at the cap.
#[derive(Default)]
struct Open {
    next: AtomicU64,
    watches: std::sync::Mutex<std::collections::HashMap<u64, Arc<Watch>>>,
}

impl Open {
    fn add(&self) -> (u64, Arc<Watch>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let watch = Arc::new(Watch::new());
        self.watches.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, watch.clone());
        (id, watch)
    }

    fn remove(&self, id: u64) {
        self.watches.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }

    /// Ends the connection that has waited longest without a request in
    /// flight: one still waiting for headers before any idle kept-alive one,
    /// the oldest wait first. `false` when every connection is busy.
    fn evict_one(&self) -> bool {
        let watches = self.watches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let victim = watches
            .values()
            .filter_map(|w| w.waiting_since().map(|(idle, since)| ((idle, since), w)))
            .min_by_key(|(key, _)| *key)
            .map(|(_, w)| w.clone());
        drop(watches);
        match victim {
            Some(w) => {
                w.evict();
                true
            }
            None => false,
        }
    }
}

/// Milliseconds since the connection started, with 0 meaning "not set".
type Stamp = AtomicU64;

/// What the watchdog of one connection knows. Written by the connection's own
/// task (its I/O, its requests, its bodies), read by its watchdog.
pub(crate) struct Watch {
    start: Instant,
    /// When the request being read began (0: none is being read).
    head_started: Stamp,
    /// When the last response ended.
    last_done: Stamp,
    /// Requests handed to the router and not yet answered in full.
    in_flight: AtomicUsize,
    /// Since when a write has been waiting for the client (0: none is).
    write_blocked_since: Stamp,
    /// Set when a request body broke the body rule, or the connection was
    /// evicted: the connection is closed.
    doomed: AtomicBool,
    /// Set when the connection was evicted at the cap (it had nothing in flight).
    evicted: AtomicBool,
    doom: tokio::sync::Notify,
}

impl Watch {
    fn new() -> Watch {
        Watch {
            start: Instant::now(),
            // The first request's headers are due from the connection's start.
            head_started: AtomicU64::new(1),
            last_done: AtomicU64::new(1),
            in_flight: AtomicUsize::new(0),
            write_blocked_since: AtomicU64::new(0),
            doomed: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            doom: tokio::sync::Notify::new(),
        }
    }

    fn stamp(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn at(&self, stamp: u64) -> Instant {
        self.start + Duration::from_millis(stamp.saturating_sub(1))
    }

    fn on_read(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0 && self.head_started.load(Ordering::Relaxed) == 0 {
            self.head_started.store(self.stamp(), Ordering::Relaxed);
        }
    }

    fn on_write(&self, blocked: bool) {
        if !blocked {
            self.write_blocked_since.store(0, Ordering::Relaxed);
        } else if self.write_blocked_since.load(Ordering::Relaxed) == 0 {
            self.write_blocked_since.store(self.stamp(), Ordering::Relaxed);
        }
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.head_started.store(0, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    pub(crate) fn doom(&self) {
        self.doomed.store(true, Ordering::Relaxed);
        self.doom.notify_one();
    }

    /// Ends an idle connection at once, to free its place (see [`Open`]).
    fn evict(&self) {
        self.evicted.store(true, Ordering::Relaxed);
        self.doom();
    }

    /// For a connection with nothing in flight and not already ending:
    /// whether it is idle between requests (`true`) or still waiting for a
    /// request's headers (`false`), and since when (this connection's clock,
    /// made comparable across connections as an `Instant`).
    fn waiting_since(&self) -> Option<(bool, Instant)> {
        if self.in_flight.load(Ordering::Relaxed) > 0 || self.doomed.load(Ordering::Relaxed) {
            return None;
        }
        match self.head_started.load(Ordering::Relaxed) {
            0 => Some((true, self.at(self.last_done.load(Ordering::Relaxed)))),
            since => Some((false, self.at(since))),
        }
    }

    /// When the connection is to be closed if nothing changes meanwhile.
    fn deadline(&self, limits: &ConnectionLimits) -> Instant {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            match self.write_blocked_since.load(Ordering::Relaxed) {
                0 => Instant::now() + limits.write_timeout,
                since => self.at(since) + limits.write_timeout,
            }
        } else {
            match self.head_started.load(Ordering::Relaxed) {
                0 => self.at(self.last_done.load(Ordering::Relaxed)) + limits.idle_timeout,
                since => self.at(since) + limits.header_read_timeout,
            }
        }
    }
}

/// A request being answered; dropped when its response has been written (or abandoned).
struct InFlight(Arc<Watch>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last_done.store(self.0.stamp(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn serve_one(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    watch: Arc<Watch>,
    router: Router,
    limits: Arc<ConnectionLimits>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let io = hyper_util::rt::TokioIo::new(WatchedIo { inner: stream, watch: watch.clone() });
    let service = {
        let (watch, limits) = (watch.clone(), limits.clone());
        hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
            let in_flight = watch.request_started();
            let mut req = req.map(|b| Body::new(TimedBody::new(b, &limits, Some(watch.clone()))));
            req.extensions_mut().insert(PeerAddr(peer));
            respond(router.clone(), req, in_flight)
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watchdog times headers and idleness; hyper's own header timer would
    // also end idle kept-alive connections at the header deadline.
    builder.header_read_timeout(None).keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let deadline = watch.deadline(&limits);
        if Instant::now() >= deadline {
            tracing::debug!("connection timed out; closing it");
            return;
        }
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {}
            _ = watch.doom.notified() => {
                if watch.evicted.load(Ordering::Relaxed) {
                    if watch.in_flight.load(Ordering::Relaxed) == 0 {
                        tracing::debug!("idle connection evicted at max_connections");
                        return;
                    }
                    // A request began as it was chosen: it is answered, and
                    // the newcomer finds no place.
                    watch.evicted.store(false, Ordering::Relaxed);
                    watch.doomed.store(false, Ordering::Relaxed);
                    continue;
                }
                // A body broke the body rule: give the answer a moment to
                // leave, then close whatever the client still sends.
                let _ = tokio::time::timeout(Duration::from_secs(1), conn.as_mut()).await;
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
        if watch.doomed.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// Answers one request through the router; the response body keeps the
/// request counted as in flight until hyper has written (or dropped) it.
async fn respond(
    mut router: Router,
    req: http::Request<Body>,
    in_flight: InFlight,
) -> Result<http::Response<Body>, Infallible> {
    // Router is always ready (axum documents `poll_ready` as always `Ready`).
    let resp = router.call(req).await?;
    Ok(resp.map(|b| Body::new(Counted { inner: b, _in_flight: in_flight })))
}

/// A response body that holds its request's [`InFlight`] until it is dropped.
struct Counted {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling the watchdog when bytes arrive and when writes block.
struct WatchedIo {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.on_read();
        }
        r
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch.on_write(r.is_pending());
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch.on_write(r.is_pending());
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch.on_write(r.is_pending());
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_stays_below_the_file_limit() {
        assert_eq!(default_max_connections(Some(1024)), 480);
        assert_eq!(default_max_connections(Some(10)), 1);
        assert_eq!(default_max_connections(None), 10_000);
        let limit = raise_file_limit();
        #[cfg(unix)]
        {
            let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
            assert_eq!(now.current, now.maximum, "the soft limit is raised to the hard one");
            assert_eq!(limit, now.current);
        }
        if let Some(n) = limit {
            assert!(default_max_connections(Some(n)) as u64 * 2 < n);
        }
    }
}
