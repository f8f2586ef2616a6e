//! The few S3 calls a job needs (GetObject of an input, PutObject of an
//! output), signed with the job's temporary credentials: SigV4 for service
//! `s3` with `x-amz-content-sha256` and `x-amz-security-token`, path-style
//! URLs (`<endpoint>/<bucket>/<key>`), keys percent-encoded once as S3 wants.
//! Bodies stream from and to files, so artifacts of any size fit in memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use sha2::{Digest, Sha256};

/// Temporary credentials from `artifactCredentials`.
#[derive(Clone, PartialEq, Eq)]
pub struct JobCredentials {
    /// `accessKeyId`.
    pub access_key_id: String,
    /// `secretAccessKey`.
    pub secret_access_key: String,
    /// `sessionToken`.
    pub session_token: String,
}

impl std::fmt::Debug for JobCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobCredentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

impl JobCredentials {
    /// Reads `artifactCredentials` from job data.
    pub fn from_job_data(data: &serde_json::Value) -> Option<JobCredentials> {
        let c = data.get("artifactCredentials")?;
        let s = |k: &str| c.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
        Some(JobCredentials {
            access_key_id: s("accessKeyId")?,
            secret_access_key: s("secretAccessKey")?,
            session_token: s("sessionToken")?,
        })
    }
}

/// Why an S3 call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Error {
    /// S3 answered with an error (`code` from its XML body, e.g. `ExpiredToken`).
    Refused {
        /// HTTP status.
        status: u16,
        /// S3 error code.
        code: String,
        /// S3's message.
        message: String,
    },
    /// The request did not get an answer, or a local file failed.
    Transport(String),
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            S3Error::Refused { status, code, message } => write!(f, "{code} ({status}): {message}"),
            S3Error::Transport(m) => f.write_str(m),
        }
    }
}

impl S3Error {
    /// Whether new credentials would help (they expired).
    pub fn is_expired(&self) -> bool {
        matches!(self, S3Error::Refused { code, .. } if code == "ExpiredToken")
    }
}

/// An S3 endpoint.
#[derive(Debug, Clone)]
pub struct S3 {
    base: String,
    region: String,
    agent: ureq::Agent,
}

/// S3's unreserved characters stay; everything else is `%XX` (`/` kept between segments).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_sha256(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

/// `<Code>` and `<Message>` of an S3 XML error body.
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_owned())
}

impl S3 {
    /// An endpoint at `base` (e.g. `http://127.0.0.1:7700`), signing for `region`.
    pub fn new(base: &str, region: &str) -> S3 {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(std::time::Duration::from_secs(30)))
            .build();
        S3 { base: base.trim_end_matches('/').to_owned(), region: region.to_owned(), agent: config.into() }
    }

    /// The endpoint's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn signed_headers(
        &self,
        method: &str,
        url: &str,
        payload_hash: &str,
        creds: &JobCredentials,
    ) -> Result<Vec<(String, String)>, S3Error> {
        let host = url.split_once("://").map(|(_, r)| r.split('/').next().unwrap_or_default()).unwrap_or_default();
        let identity = aws_credential_types::Credentials::new(
            &creds.access_key_id,
            &creds.secret_access_key,
            Some(creds.session_token.clone()),
            None,
            "cpjobs-worker",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.signature_location = SignatureLocation::Headers;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.session_token_mode = SessionTokenMode::Include;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| S3Error::Transport(format!("cannot sign: {e}")))?
            .into();
        let request = SignableRequest::new(
            method,
            url,
            std::iter::once(("host", host)),
            SignableBody::Precomputed(payload_hash.to_owned()),
        )
        .map_err(|e| S3Error::Transport(format!("cannot sign: {e}")))?;
        let (instructions, _) =
            sign(request, &params).map_err(|e| S3Error::Transport(format!("cannot sign: {e}")))?.into_parts();
        let (headers, _) = instructions.into_parts();
        Ok(headers.iter().map(|h| (h.name().to_owned(), h.value().to_owned())).collect())
    }

    fn url(&self, bucket: &str, key: &str) -> String {
        format!("{}/{}/{}", self.base, encode_key(bucket), encode_key(key))
    }

    fn refused(resp: ureq::http::Response<ureq::Body>) -> S3Error {
        let status = resp.status().as_u16();
        let body = resp.into_body().read_to_string().unwrap_or_default();
        S3Error::Refused {
            status,
            code: xml_field(&body, "Code").unwrap_or_else(|| format!("HTTP{status}")),
            message: xml_field(&body, "Message").unwrap_or_default(),
        }
    }

    /// Downloads `bucket/key` into the file `dest`.
    /// More than `max` bytes is refused: an input must not fill the disk before it is unpacked.
    pub fn get(&self, creds: &JobCredentials, bucket: &str, key: &str, dest: &Path, max: u64) -> Result<u64, S3Error> {
        let url = self.url(bucket, key);
        let mut req = self.agent.get(&url);
        for (k, v) in self.signed_headers("GET", &url, &sha256_hex(b""), creds)? {
            req = req.header(k, v);
        }
        let resp = req.call().map_err(|e| S3Error::Transport(format!("GET {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(Self::refused(resp));
        }
        let mut out = File::create(dest).map_err(|e| S3Error::Transport(format!("{}: {e}", dest.display())))?;
        let n = io::copy(&mut resp.into_body().into_reader().take(max.saturating_add(1)), &mut out)
            .map_err(|e| S3Error::Transport(format!("GET {url}: {e}")))?;
        if n > max {
            return Err(S3Error::Transport(format!("the object is larger than --max-input-bytes ({max} bytes)")));
        }
        out.sync_all().map_err(|e| S3Error::Transport(format!("{}: {e}", dest.display())))?;
        Ok(n)
    }

    /// Uploads the file `src` as `bucket/key`.
    pub fn put(&self, creds: &JobCredentials, bucket: &str, key: &str, src: &Path) -> Result<(), S3Error> {
        let url = self.url(bucket, key);
        let hash = file_sha256(src).map_err(|e| S3Error::Transport(format!("{}: {e}", src.display())))?;
        let file = File::open(src).map_err(|e| S3Error::Transport(format!("{}: {e}", src.display())))?;
        let mut req = self.agent.put(&url).header("content-type", "application/zip");
        for (k, v) in self.signed_headers("PUT", &url, &hash, creds)? {
            req = req.header(k, v);
        }
        let resp = req.send(&file).map_err(|e| S3Error::Transport(format!("PUT {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(Self::refused(resp));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_once_and_errors_read_from_xml() {
        assert_eq!(encode_key("p/Build Out/a+b~c"), "p/Build%20Out/a%2Bb~c");
        let body = "<?xml version=\"1.0\"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>";
        assert_eq!(xml_field(body, "Code").as_deref(), Some("ExpiredToken"));
        assert_eq!(xml_field(body, "Message").as_deref(), Some("The provided token has expired."));
        let e = S3Error::Refused { status: 400, code: "ExpiredToken".into(), message: String::new() };
        assert!(e.is_expired());
        assert!(!S3Error::Transport("x".into()).is_expired());
    }
}
