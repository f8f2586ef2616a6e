//! Connections driven by the thread that uses them.
//!
//! A transaction runs on the thread that asked for it (the store's trait is
//! synchronous, its closures neither `Send` nor `'static`). Each connection's
//! socket is non-blocking and registered with a poller of its own; waiting
//! for a statement polls the statement and the connection's protocol state
//! (tokio-postgres' `Connection`) on the calling thread, and sleeps in the
//! poller only when neither can go on without the server. Bytes go from the
//! caller to the socket and back with no other thread between. The design
//! before (one runtime thread driving every connection's socket) cost each
//! round trip two more thread wake-ups: that thread took 12 % of the
//! machine's CPU at 620 lifecycles/s, beside the futex traffic it caused.
//! It also needs no runtime, so a caller inside tokio's never nests one.
//!
//! Invariant: a connection is used by one thread at a time (the pool hands
//! it out whole), so its poller and protocol state need no lock. Every read
//! of the socket goes on until it would block before the caller sleeps in
//! the poller, whose readiness is edge-triggered: no byte that arrived is
//! left unseen while the caller sleeps.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Token};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::Client;
use tokio_postgres::config::{Config, Host, LoadBalanceHosts, TargetSessionAttrs};

use crate::tls::Tls;

/// A connection's protocol state, run until the connection ends.
pub(crate) type Protocol = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// The port PostgreSQL listens on unless told otherwise.
const DEFAULT_PORT: u16 = 5432;

/// How long a connection may take to be made when the URL says nothing.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection's socket, non-blocking, as tokio-postgres reads and writes it.
pub(crate) enum Socket {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Socket {
    fn io<T>(&mut self, mut f: impl FnMut(&mut dyn ReadWrite) -> io::Result<T>) -> Poll<io::Result<T>> {
        loop {
            let r = match self {
                Socket::Tcp(s) => f(s),
                Socket::Unix(s) => f(s),
            };
            return match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The caller's wait sleeps in the poller until the socket is ready.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
                r => Poll::Ready(r),
            };
        }
    }
}

/// What both kinds of socket do.
trait ReadWrite: Read + Write {
    fn shutdown_write(&self) -> io::Result<()>;
}

impl ReadWrite for mio::net::TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

impl ReadWrite for mio::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        // At most 64 KiB at a time: the buffer handed in is uninitialized and
        // must be zeroed before a safe read, and a large row's buffer would
        // otherwise be zeroed whole at every read of a part of it.
        let n = buf.remaining().min(64 * 1024);
        let into = buf.initialize_unfilled_to(n);
        match self.get_mut().io(|s| s.read(into)) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().io(|s| s.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io(|s| s.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io(|s| s.shutdown_write())
    }
}

/// Set when a future or the protocol asks to be polled again.
#[derive(Default)]
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// The poller of one connection's socket and, once the connection is
/// made, its protocol state.
pub(crate) struct Driven {
    poll: mio::Poll,
    events: Events,
    protocol: Option<Protocol>,
    /// The protocol ended (the server closed the connection, or it failed):
    /// whatever is still awaited fails as soon as it is polled.
    ended: bool,
}

impl Driven {
    /// Runs `f` to its end on this thread, driving the connection.
    pub(crate) fn wait<F: Future>(&mut self, f: F) -> F::Output {
        match self.run(f, None) {
            Some(v) => v,
            None => unreachable!("a wait without a deadline ends only with its future"),
        }
    }

    /// Sends what is queued for the server without waiting for anything.
    pub(crate) fn flush(&mut self) {
        let woken = Arc::new(Woken::default());
        let waker = Waker::from(woken);
        self.drive(&mut Context::from_waker(&waker));
    }

    /// Runs `f` until it ends (`Some`) or `deadline` passes (`None`).
    fn run<F: Future>(&mut self, f: F, deadline: Option<Instant>) -> Option<F::Output> {
        let woken = Arc::new(Woken::default());
        let waker = Waker::from(Arc::clone(&woken));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            woken.0.store(false, Ordering::Release);
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return Some(v);
            }
            if self.drive(&mut cx)
                && let Poll::Ready(v) = f.as_mut().poll(&mut cx)
            {
                return Some(v);
            }
            // A future or the protocol made room for the other: go round again.
            if woken.0.load(Ordering::Acquire) {
                continue;
            }
            if self.ended {
                // Every answer awaited is failed by the ended protocol; polling shows it.
                std::thread::yield_now();
                continue;
            }
            let timeout = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return None,
                },
                None => None,
            };
            if let Err(e) = self.poll.poll(&mut self.events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                // The poller itself failed: end the connection, which fails what waits on it.
                tracing::warn!(cause = %e, "waiting for a PostgreSQL connection's socket failed");
                self.protocol = None;
                self.ended = true;
            }
        }
    }

    /// Polls the protocol once, if it runs; `true` if it did.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(protocol) = &mut self.protocol else { return false };
        if let Poll::Ready(r) = protocol.as_mut().poll(cx) {
            if let Err(e) = r {
                tracing::warn!(cause = %e, "a PostgreSQL connection ended");
            }
            // Dropped, so that every answer still awaited fails at once.
            self.protocol = None;
            self.ended = true;
        }
        true
    }
}

/// Why a connection could not be made.
pub(crate) enum ConnectError {
    /// The server, the handshake or TLS refused it.
    Pg(tokio_postgres::Error),
    /// Before the protocol: an address, a socket, the deadline.
    Other(String),
}

/// Connects to `config`'s server (each host it names in turn, as libpq),
/// securing the connection as `tls` says; the connection is driven by
/// whichever thread waits on it.
pub(crate) fn connect(config: &Config, tls: &Tls) -> Result<(Client, Driven), ConnectError> {
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    let ports = config.get_ports();
    let n = hosts.len().max(addrs.len());
    if n == 0 {
        return Err(ConnectError::Other("the PostgreSQL URL names no host".into()));
    }
    if ports.len() > 1 && ports.len() != n {
        return Err(ConnectError::Other(format!("the PostgreSQL URL names {n} hosts and {} ports", ports.len())));
    }
    let timeout = config.get_connect_timeout().copied().unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let mut order: Vec<usize> = (0..n).collect();
    if config.get_load_balance_hosts() == LoadBalanceHosts::Random {
        order.rotate_left(random_below(n));
    }
    let mut last = None;
    for i in order {
        let port = ports.get(if ports.len() == 1 { 0 } else { i }).copied().unwrap_or(DEFAULT_PORT);
        let deadline = Instant::now() + timeout;
        let (socket, name) = match open(config, hosts.get(i), addrs.get(i).copied(), port, timeout) {
            Ok(opened) => opened,
            Err(e) => {
                last = Some(ConnectError::Other(e));
                continue;
            }
        };
        match handshake(config, tls, socket, &name, deadline) {
            Ok((client, mut driven)) => {
                if config.get_target_session_attrs() == TargetSessionAttrs::ReadWrite && read_only(&client, &mut driven)
                {
                    last = Some(ConnectError::Other(format!("{name} accepts no writes (a standby)")));
                    continue;
                }
                return Ok((client, driven));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| ConnectError::Other("no host was tried".into())))
}

/// A socket to one host: `addr` when given (`hostaddr`), else the host's
/// name resolved (each address in turn) or its Unix socket directory. With
/// the name the connection's TLS checks the certificate against.
fn open(
    config: &Config,
    host: Option<&Host>,
    addr: Option<std::net::IpAddr>,
    port: u16,
    timeout: Duration,
) -> Result<(Socket, String), String> {
    let tcp = |addrs: Vec<SocketAddr>, name: String| {
        let mut last = format!("{name} has no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => return tcp_socket(s, config).map(|s| (s, name)).map_err(|e| format!("{a}: {e}")),
                Err(e) => last = format!("cannot reach {name} at {a}: {e}"),
            }
        }
        Err(last)
    };
    match (addr, host) {
        (Some(ip), h) => {
            let name = match h {
                Some(Host::Tcp(n)) => n.clone(),
                _ => ip.to_string(),
            };
            tcp(vec![SocketAddr::new(ip, port)], name)
        }
        (None, Some(Host::Tcp(h))) => {
            let addrs = (h.as_str(), port).to_socket_addrs().map_err(|e| format!("cannot resolve {h}: {e}"))?;
            tcp(addrs.collect(), h.clone())
        }
        (None, Some(Host::Unix(dir))) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let s = std::os::unix::net::UnixStream::connect(&path)
                .map_err(|e| format!("cannot connect to {}: {e}", path.display()))?;
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            Ok((Socket::Unix(mio::net::UnixStream::from_std(s)), dir.display().to_string()))
        }
        (None, None) => Err("no host".into()),
    }
}

fn tcp_socket(s: TcpStream, config: &Config) -> io::Result<Socket> {
    s.set_nodelay(true)?;
    // As libpq and tokio-postgres do: a peer that vanished is noticed, after
    // the URL's `keepalives_idle` (two hours unless told).
    if config.get_keepalives() {
        let keepalive = socket2::TcpKeepalive::new().with_time(config.get_keepalives_idle());
        socket2::SockRef::from(&s).set_tcp_keepalive(&keepalive)?;
    }
    s.set_nonblocking(true)?;
    Ok(Socket::Tcp(mio::net::TcpStream::from_std(s)))
}

/// The startup handshake on `socket` (TLS first when `tls` says so), on
/// this thread, by `deadline`.
fn handshake(
    config: &Config,
    tls: &Tls,
    mut socket: Socket,
    name: &str,
    deadline: Instant,
) -> Result<(Client, Driven), ConnectError> {
    let other = |e: io::Error| ConnectError::Other(e.to_string());
    let poll = mio::Poll::new().map_err(other)?;
    let interest = Interest::READABLE | Interest::WRITABLE;
    match &mut socket {
        Socket::Tcp(s) => poll.registry().register(s, Token(0), interest),
        Socket::Unix(s) => poll.registry().register(s, Token(0), interest),
    }
    .map_err(other)?;
    let mut driven = Driven { poll, events: Events::with_capacity(4), protocol: None, ended: false };
    let made = driven.run(tls.handshake(config, socket, name), Some(deadline));
    match made {
        None => Err(ConnectError::Other(format!("{name} did not complete the connection in time"))),
        Some(Err(e)) => Err(e),
        Some(Ok((client, protocol))) => {
            driven.protocol = Some(protocol);
            Ok((client, driven))
        }
    }
}

/// Whether the server accepts no writes (`target_session_attrs=read-write`).
fn read_only(client: &Client, driven: &mut Driven) -> bool {
    match driven.wait(client.simple_query("SHOW transaction_read_only")) {
        Ok(rows) => rows.iter().any(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0) == Some("on"),
            _ => false,
        }),
        Err(_) => true,
    }
}

/// A number below `n`, good enough to spread connections over hosts.
fn random_below(n: usize) -> usize {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(n);
    (h.finish() % n as u64) as usize
}
