//! Issue 8 item 5: connections are bounded in time and number. A real server
//! on 127.0.0.1:0 with short limits; raw sockets play the hostile clients
//! (silent, slow headers, trickled bodies, too many sockets) next to a normal
//! client that must keep being served.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use cpjobs_core::config::{Account, Principal};
use cpjobs_core::{Api, Caller, Operation, Reply, ServiceConfig, Submitted};
use cpjobs_server::{ConnectionLimits, Options, Passthrough};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Nothing;

impl Api for Nothing {
    fn submit(&self, _: &Caller, _: Operation, _: Value, _: SystemTime, reply: Reply) -> Submitted {
        reply(Ok(json!({})));
        Submitted::Taken
    }
}

fn config() -> ServiceConfig {
    ServiceConfig {
        region: "us-east-1".into(),
        accounts: vec![Account {
            id: "111111111111".into(),
            principals: vec![Principal { access_key_id: "AKIAX".into(), secret_access_key: "s".into() }],
        }],
        third_party_action_types: vec![],
        dispatch_lease_seconds: None,
        ..Default::default()
    }
}

/// A passthrough that reads the whole body and answers its length, as the S3
/// side reads an upload.
fn reading_passthrough() -> Passthrough {
    Arc::new(|req: http::Request<Body>| {
        Box::pin(async move {
            match axum::body::to_bytes(req.into_body(), usize::MAX).await {
                Ok(b) => http::Response::builder().status(200).body(Body::from(format!("got {}", b.len()))).unwrap(),
                Err(_) => http::Response::builder().status(400).body(Body::from("RequestTimeout")).unwrap(),
            }
        })
    })
}

struct Server {
    port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: ConnectionLimits) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = Options { limits, passthrough: Some(reading_passthrough()), ..Options::default() };
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        cpjobs_server::serve(listener, Arc::new(Nothing), &config(), options, async {
            let _ = rx.await;
        })
        .await
    });
    Server { port, stop, task }
}

impl Server {
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).await.unwrap()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("server stops").unwrap().unwrap();
    }
}

/// Whether the server closes `s` within `bound` (reads EOF or a reset); what
/// it sent before closing is returned.
async fn closed_within(s: &mut TcpStream, bound: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let r = tokio::time::timeout(bound, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    r.ok().map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// One keep-alive `GET /health` on `s`; the answer's status line.
async fn health(s: &mut TcpStream) -> String {
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(5), async {
        // The health answer is small and fixed: read until its JSON ends.
        while !got.ends_with(b"}") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed while waiting for an answer: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("an answer");
    String::from_utf8_lossy(&got).lines().next().unwrap_or_default().to_owned()
}

fn limits() -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_millis(800),
        idle_timeout: Duration::from_secs(3),
        body_read_timeout: Duration::from_secs(1),
        body_min_bytes: 100,
        write_timeout: Duration::from_secs(2),
        max_connections: Some(64),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_slow_header_connections_are_closed_and_idle_keepalive_lasts_its_own_timeout() {
    // Idle timeout well beyond the header timeout and the trickle below.
    let server = start(ConnectionLimits { idle_timeout: Duration::from_secs(5), ..limits() }).await;
    let mut normal = server.connect().await;
    assert_eq!(health(&mut normal).await, "HTTP/1.1 200 OK");

    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(server.connect().await);
    }
    let mut slow = Vec::new();
    for _ in 0..5 {
        let mut s = server.connect().await;
        s.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
        slow.push(s);
    }
    // The slow senders keep sending a header line now and then, never the end.
    let trickle = {
        let mut slow = std::mem::take(&mut slow);
        tokio::spawn(async move {
            for i in 0..10 {
                for s in &mut slow {
                    if s.write_all(format!("X-Slow-{i}: a\r\n").as_bytes()).await.is_err() {
                        continue;
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            slow
        })
    };
    for s in &mut silent {
        assert!(closed_within(s, Duration::from_secs(10)).await.is_some(), "a silent connection is closed");
    }
    let mut slow = trickle.await.unwrap();
    for s in &mut slow {
        assert!(closed_within(s, Duration::from_secs(10)).await.is_some(), "a slow-header connection is closed");
    }
    // The kept-alive connection outlived the header timeout: it answers again.
    assert_eq!(health(&mut normal).await, "HTTP/1.1 200 OK");
    // Left idle, it is closed too (idle timeout, 5 s here).
    assert!(closed_within(&mut normal, Duration::from_secs(10)).await.is_some(), "idle keep-alive is closed");
    // Stopping with a connection open still stops.
    let _open = server.connect().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_a_newcomer_takes_the_place_of_the_longest_silent_connection() {
    // Timeouts far beyond the test: only eviction can make room.
    let long = ConnectionLimits {
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        max_connections: Some(4),
        ..limits()
    };
    let server = start(long).await;
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(server.connect().await);
        // Distinct ages, so which one goes is decided.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut normal = server.connect().await;
    assert_eq!(health(&mut normal).await, "HTTP/1.1 200 OK");
    // A fifth client is served at once, in the place of the oldest silent socket.
    let mut newcomer = server.connect().await;
    assert_eq!(health(&mut newcomer).await, "HTTP/1.1 200 OK");
    assert_eq!(closed_within(&mut silent[0], Duration::from_secs(2)).await.as_deref(), Some(""));
    // Sockets that never send a request go before idle kept-alive clients.
    let mut sixth = server.connect().await;
    assert_eq!(health(&mut sixth).await, "HTTP/1.1 200 OK");
    assert!(closed_within(&mut silent[1], Duration::from_secs(2)).await.is_some());
    assert_eq!(health(&mut normal).await, "HTTP/1.1 200 OK", "the kept-alive client keeps its place");
    drop((newcomer, sixth, normal, silent));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_with_every_connection_busy_a_newcomer_is_closed_and_requests_finish() {
    let server = start(ConnectionLimits { max_connections: Some(2), ..limits() }).await;
    // Two uploads in flight: their bodies come steadily, in 20 chunks.
    let head = "PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000\r\n\r\n";
    let probe = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut beyond = server.connect().await;
        closed_within(&mut beyond, Duration::from_secs(1)).await
    };
    let upload = || send_trickled(&server, head, &[b'x'; 100], Duration::from_millis(100), 20);
    let (first, second, seen) = tokio::join!(upload(), upload(), probe);
    assert_eq!(seen.as_deref(), Some(""), "no place for a third connection while both answer requests");
    for answer in [first, second] {
        let answer = answer.expect("the upload is answered");
        assert!(answer.contains("got 2000"), "{answer}");
    }
    // Once they are idle, a newcomer takes a place.
    let mut later = server.connect().await;
    assert_eq!(health(&mut later).await, "HTTP/1.1 200 OK");
    drop(later);
    server.stop().await;
}

async fn send_trickled(server: &Server, head: &str, chunk: &[u8], pause: Duration, chunks: usize) -> Option<String> {
    let mut s = server.connect().await;
    s.write_all(head.as_bytes()).await.unwrap();
    {
        let (mut r, mut w) = s.into_split();
        let chunk = chunk.to_vec();
        let t = tokio::spawn(async move {
            for _ in 0..chunks {
                if w.write_all(&chunk).await.is_err() {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            w
        });
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match r.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
                if got.windows(4).any(|w| w == b"\r\n\r\n") && String::from_utf8_lossy(&got).contains("got ") {
                    return;
                }
            }
        })
        .await;
        t.abort();
        read.ok().map(|()| String::from_utf8_lossy(&got).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_are_cut_off_and_slow_but_steady_uploads_pass() {
    let server = start(limits()).await;
    // S3 side: 1 byte every 300 ms of a declared 1000 is far below 100 bytes a second.
    let head = "PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n";
    let seen = send_trickled(&server, head, b"x", Duration::from_millis(300), 40).await;
    let seen = seen.expect("the trickled upload's connection is closed");
    assert!(!seen.contains("got 1000"), "{seen}");
    // 200 bytes every 300 ms is slow, but steady enough: it is taken whole.
    let seen = send_trickled(&server, head, &[b'y'; 200], Duration::from_millis(300), 5).await;
    assert!(seen.expect("answered").contains("got 1000"));
    // JSON side: the same trickle answers the JSON timeout, then closes.
    let head = "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: CodePipeline_20150709.ListPipelines\r\nContent-Length: 1000\r\n\r\n";
    let seen = send_trickled(&server, head, b" ", Duration::from_millis(300), 40).await;
    let seen = seen.expect("the trickled JSON request's connection is closed");
    assert!(seen.starts_with("HTTP/1.1 408") && seen.contains("RequestTimeoutException"), "{seen}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_answer_is_dropped() {
    let server = start(limits()).await;
    let mut s = server.connect().await;
    // Many pipelined requests whose answers are never read fill the socket
    // buffers; the server's writes then block past the write timeout.
    let mut requests = Vec::new();
    for _ in 0..2000 {
        requests.extend_from_slice(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: ");
        requests.extend_from_slice(&[b'p'; 1000]);
        requests.extend_from_slice(b"\r\n\r\n");
    }
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(&requests).await;
        w
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Now read everything: the stream must end (the server gave up on us).
    let mut buf = vec![0u8; 65536];
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    writer.abort();
    assert!(ended.is_ok(), "the connection of a client that does not read is closed");
    s = server.connect().await;
    assert_eq!(health(&mut s).await, "HTTP/1.1 200 OK");
    drop(s);
    server.stop().await;
}
