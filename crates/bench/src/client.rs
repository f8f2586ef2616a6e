//! The load generator's side of the wire: SigV4-signed AWS JSON 1.1 requests
//! (aws-sigv4, the same signer the Rust SDK uses) over one keep-alive HTTP/1.1
//! connection per [`Conn`].
//!
//! Requests are signed with the current time (to the second, as `X-Amz-Date`
//! has it). The service verifies every request in full whatever the client
//! does; the client may reuse a signature only for a byte-identical request
//! in the same second (see [`Conn::open`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The region the benchmark's service answers for.
pub(crate) const REGION: &str = "us-east-1";

/// A principal's keys, ready to sign with.
#[derive(Clone)]
pub(crate) struct Signer {
    identity: Identity,
    /// Whether a connection may reuse the signature of a byte-identical
    /// request signed in the same second.
    reuse: bool,
}

impl Signer {
    pub(crate) fn new(key: &str, secret: &str, reuse: bool) -> Signer {
        Signer { identity: Credentials::new(key, secret, None, None, "cpjobs-bench").into(), reuse }
    }
}

/// The headers signing adds, as (name, value).
type SigningHeaders = Vec<(String, String)>;

/// One keep-alive HTTP/1.1 connection to a server on 127.0.0.1: a minimal
/// client (request written in one `write_all`, `Content-Length` bodies only),
/// so the load generator spends as little as possible of the shared cores.
pub(crate) struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
    out: Vec<u8>,
    /// Signatures by (target, body), with the second they were made for.
    signatures: HashMap<(String, Vec<u8>), (u64, SigningHeaders)>,
}

/// What came back: status and body bytes.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Conn {
    /// Connects to `addr` (which must be a loopback address).
    pub(crate) async fn open(addr: SocketAddr) -> Result<Conn, String> {
        if !addr.ip().is_loopback() {
            return Err(format!("{addr} is not a loopback address: the benchmark only talks to 127.0.0.1"));
        }
        let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Conn {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(16 * 1024),
            out: Vec::with_capacity(4096),
            signatures: HashMap::new(),
        })
    }

    /// `POST /` with `X-Amz-Target: target` and `body`, signed by `signer` now.
    /// When the signer allows it, an identical request (same target and body)
    /// within the same second reuses the signature aws-sigv4 computed for the
    /// first: the bytes on the wire are exactly what signing again would give.
    pub(crate) async fn call(&mut self, signer: &Signer, target: &str, body: &[u8]) -> Result<Answer, String> {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
        let key = (target.to_owned(), body.to_vec());
        let cached = self.signatures.get(&key).filter(|(s, _)| signer.reuse && *s == second);
        let auth = match cached {
            Some((_, h)) => h.clone(),
            None => {
                let h = sign_headers(&self.host, signer, target, body, UNIX_EPOCH + Duration::from_secs(second))?;
                if signer.reuse {
                    if self.signatures.len() > 64 {
                        self.signatures.clear();
                    }
                    self.signatures.insert(key, (second, h.clone()));
                }
                h
            }
        };
        self.out.clear();
        let out = &mut self.out;
        out.extend_from_slice(b"POST / HTTP/1.1\r\nhost: ");
        out.extend_from_slice(self.host.as_bytes());
        out.extend_from_slice(b"\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: ");
        out.extend_from_slice(target.as_bytes());
        for (k, v) in &auth {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
        }
        out.extend_from_slice(format!("\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        self.stream.write_all(&self.out).await.map_err(|e| e.to_string())?;
        self.read_answer().await
    }

    async fn read_answer(&mut self) -> Result<Answer, String> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).map_err(|_| "response head is not UTF-8")?;
                let mut lines = head.split("\r\n");
                let status: u16 = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("bad status line in {head:?}"))?;
                let len: usize = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .ok_or_else(|| format!("no content-length in {head:?}"))?;
                let total = end + 4 + len;
                while self.buf.len() < total {
                    self.fill().await?;
                }
                let body = self.buf[end + 4..total].to_vec();
                self.buf.drain(..total);
                return Ok(Answer { status, body });
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Like [`call`](Self::call) but the answer must be 200 and JSON.
    pub(crate) async fn ok(&mut self, signer: &Signer, target: &str, body: &Value) -> Result<Value, String> {
        let a = self.call(signer, target, body.to_string().as_bytes()).await?;
        if a.status != 200 {
            return Err(format!("{target} answered {}: {}", a.status, String::from_utf8_lossy(&a.body)));
        }
        Ok(a.json())
    }
}

/// The headers aws-sigv4 adds to sign the request (`x-amz-date`, `authorization`).
fn sign_headers(
    host: &str,
    signer: &Signer,
    target: &str,
    body: &[u8],
    time: SystemTime,
) -> Result<SigningHeaders, String> {
    let headers = [("host", host), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)];
    let params = v4::SigningParams::builder()
        .identity(&signer.identity)
        .region(REGION)
        .name("codepipeline")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let uri = format!("http://{host}/");
    let signable = SignableRequest::new("POST", &uri, headers.iter().copied(), SignableBody::Bytes(body))
        .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let (added, _) = instructions.into_parts();
    Ok(added.into_iter().map(|h| (h.name().to_owned(), h.value().to_owned())).collect())
}

/// `CodePipeline_20150709.<op>`.
pub(crate) fn cp(op: &str) -> String {
    format!("CodePipeline_20150709.{op}")
}
