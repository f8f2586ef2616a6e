//! The load generator's side of the wire: SigV4-signed AWS JSON 1.1 requests
//! over one keep-alive HTTP/1.1 connection per [`Conn`].
//!
//! Every request is signed for itself, with the current time (to the second,
//! as `X-Amz-Date` has it). By default the signature is computed as the AWS
//! SDKs do it, with the signing key derived once per day, region and service
//! (aws-sigv4's `generate_signing_key`, cached in the [`Signer`]): the
//! canonical request and the string to sign are built here (one SHA-256 of
//! the body, one of the canonical request), and aws-sigv4's
//! `calculate_signature` makes the signature. `signs_as_aws_sigv4_does`
//! checks the headers against aws-sigv4's full signer, which
//! `--aws-sigv4` uses for every request instead (it derives the key each
//! time). The service verifies every request in full either way.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The region the benchmark's service answers for.
pub(crate) const REGION: &str = "us-east-1";
/// The service name requests are signed for.
const SERVICE: &str = "codepipeline";
/// The one content type of AWS JSON 1.1.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The headers every request signs, sorted, as the canonical request lists them.
const SIGNED_HEADERS: &str = "content-type;host;x-amz-date;x-amz-target";

/// A principal's keys, ready to sign with.
pub(crate) struct Signer {
    access_key_id: String,
    secret: String,
    identity: Identity,
    /// Sign with aws-sigv4's full signer (`sign`), which derives the signing
    /// key for every request, instead of with the cached key.
    full: bool,
    /// The signing key of one day (days since the epoch): HMAC chain of the
    /// secret, the date, the region, the service, as aws-sigv4 derives it.
    /// A `Mutex` for `Sync`; each task has its own clone, so it is never
    /// contended.
    key: Mutex<Option<(u64, Vec<u8>)>>,
}

impl Clone for Signer {
    fn clone(&self) -> Signer {
        Signer::new(&self.access_key_id, &self.secret, self.full)
    }
}

impl Signer {
    pub(crate) fn new(key: &str, secret: &str, full: bool) -> Signer {
        Signer {
            access_key_id: key.to_owned(),
            secret: secret.to_owned(),
            identity: Credentials::new(key, secret, None, None, "cpjobs-bench").into(),
            full,
            key: Mutex::new(None),
        }
    }

    /// Appends the headers that sign `POST /` to `host` with `target` and
    /// `body` at `second` (since the epoch) to `out`, each as
    /// `\r\nname: value`.
    fn sign_into(&self, out: &mut Vec<u8>, host: &str, target: &str, body: &[u8], second: u64) -> Result<(), String> {
        let time = UNIX_EPOCH + Duration::from_secs(second);
        if self.full {
            for (k, v) in sign_headers(host, &self.identity, target, body, time)? {
                write!(out, "\r\n{k}: {v}").map_err(|e| e.to_string())?;
            }
            return Ok(());
        }
        let amz_date = amz_date(second);
        let date = std::str::from_utf8(&amz_date[..8]).map_err(|e| e.to_string())?;
        let amz_date = std::str::from_utf8(&amz_date).map_err(|e| e.to_string())?;
        let canonical = format!(
            "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n\n{SIGNED_HEADERS}\n{}",
            hex(&Sha256::digest(body))
        );
        let scope = format!("{date}/{REGION}/{SERVICE}/aws4_request");
        let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let signature = {
            let day = second / 86_400;
            let mut key = self.key.lock().map_err(|e| e.to_string())?;
            let key = match &*key {
                Some((d, k)) if *d == day => k,
                _ => {
                    let k = v4::generate_signing_key(&self.secret, time, REGION, SERVICE).as_ref().to_vec();
                    &key.insert((day, k)).1
                }
            };
            v4::calculate_signature(key, to_sign.as_bytes())
        };
        write!(
            out,
            "\r\nx-amz-date: {amz_date}\r\nauthorization: AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
            self.access_key_id
        )
        .map_err(|e| e.to_string())
    }
}

/// `X-Amz-Date` for `second` since the epoch: `YYYYMMDDTHHMMSSZ` (UTC).
fn amz_date(second: u64) -> [u8; 16] {
    let (days, rem) = (second / 86_400, second % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's `civil_from_days`).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = [0u8; 16];
    let mut put = |at: usize, width: usize, mut n: i64| {
        for i in (0..width).rev() {
            out[at + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(4, 2, month);
    put(6, 2, day);
    put(9, 2, (rem / 3600) as i64);
    put(11, 2, (rem / 60 % 60) as i64);
    put(13, 2, (rem % 60) as i64);
    out[8] = b'T';
    out[15] = b'Z';
    out
}

/// Lowercase hex, as SigV4 writes hashes.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// One keep-alive HTTP/1.1 connection to a server on 127.0.0.1: a minimal
/// client (request written in one `write_all`, `Content-Length` bodies only),
/// so the load generator spends as little as possible of the shared cores.
pub(crate) struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
    out: Vec<u8>,
    /// The body of the request being sent (reused).
    body: Vec<u8>,
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
            body: Vec::with_capacity(1024),
        })
    }

    /// `POST /` with `X-Amz-Target: target` and `body`, signed by `signer` now.
    pub(crate) async fn call(&mut self, signer: &Signer, target: &str, body: &[u8]) -> Result<Answer, String> {
        let second = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
        self.out.clear();
        let out = &mut self.out;
        out.extend_from_slice(b"POST / HTTP/1.1\r\nhost: ");
        out.extend_from_slice(self.host.as_bytes());
        out.extend_from_slice(b"\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: ");
        out.extend_from_slice(target.as_bytes());
        signer.sign_into(out, &self.host, target, body, second)?;
        write!(out, "\r\ncontent-length: {}\r\n\r\n", body.len()).map_err(|e| e.to_string())?;
        out.extend_from_slice(body);
        self.stream.write_all(&self.out).await.map_err(|e| e.to_string())?;
        self.read_answer().await
    }

    /// [`call`](Self::call) with `body` serialized as JSON; the answer must
    /// be 200, and is returned as bytes for the caller to parse.
    pub(crate) async fn call_ok<T: Serialize>(
        &mut self,
        signer: &Signer,
        target: &str,
        body: &T,
    ) -> Result<Answer, String> {
        let mut buf = std::mem::take(&mut self.body);
        buf.clear();
        serde_json::to_writer(&mut buf, body).map_err(|e| e.to_string())?;
        let answer = self.call(signer, target, &buf).await;
        self.body = buf;
        let a = answer?;
        if a.status != 200 {
            return Err(format!("{target} answered {}: {}", a.status, String::from_utf8_lossy(&a.body)));
        }
        Ok(a)
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
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = self.stream.read_buf(&mut self.buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }

    /// Like [`call`](Self::call) but the answer must be 200 and JSON.
    pub(crate) async fn ok(&mut self, signer: &Signer, target: &str, body: &Value) -> Result<Value, String> {
        let a = self.call_ok(signer, target, body).await?;
        Ok(a.json())
    }
}

/// The headers aws-sigv4's full signer adds to sign the request (`x-amz-date`,
/// `authorization`), as (name, value).
fn sign_headers(
    host: &str,
    identity: &Identity,
    target: &str,
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let headers = [("host", host), ("content-type", CONTENT_TYPE), ("x-amz-target", target)];
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name(SERVICE)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached-key signer writes exactly the headers aws-sigv4's full
    /// signer gives, for several bodies and targets, across a change of day
    /// (the cached key must be derived again) and back.
    #[test]
    fn signs_as_aws_sigv4_does() {
        let cached = Signer::new("AKIDBENCHEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", false);
        let full = Signer::new("AKIDBENCHEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", true);
        let seconds = [0, 951_782_400, 1_798_761_599, 1_798_761_600, 1_798_761_601, 4_102_444_799, 1_798_761_599];
        let requests: [(&str, &[u8]); 4] = [
            ("CodePipeline_20150709.PollForThirdPartyJobs", b"{\"maxBatchSize\":1}"),
            ("CodePipeline_20150709.AcknowledgeThirdPartyJob", b"{\"jobId\":\"j\",\"nonce\":\"n \\\"x\"}"),
            ("Cpjobs_20261129.ListThirdPartyClients", b"{}"),
            ("CodePipeline_20150709.PutThirdPartyJobSuccessResult", b""),
        ];
        for second in seconds {
            for (target, body) in requests {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                cached.sign_into(&mut a, "127.0.0.1:41234", target, body, second).unwrap();
                full.sign_into(&mut b, "127.0.0.1:41234", target, body, second).unwrap();
                assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap(), "at {second}, {target}");
            }
        }
    }

    #[test]
    fn amz_dates() {
        assert_eq!(&amz_date(0), b"19700101T000000Z");
        assert_eq!(&amz_date(951_825_599), b"20000229T115959Z");
        assert_eq!(&amz_date(1_798_761_600), b"20270101T000000Z");
    }
}
