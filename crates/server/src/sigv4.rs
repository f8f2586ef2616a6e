//! AWS Signature Version 4 verification of incoming requests
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>).
//!
//! The service never trusts a signature it did not compute: it re-signs the
//! request with the caller's secret, using exactly the headers the request says
//! it signed (`SignedHeaders`), its own `X-Amz-Date` and the buffered body, and
//! compares the two signatures in constant time. The refusals carry AWS's own
//! error names and wording, so real clients report them as they would AWS's.
//!
//! ## Two roads to the same signature
//!
//! Verification runs for every request the service answers, so it is on the
//! hot path: re-signing with aws-sigv4's general client signer (`sign`) took
//! an eighth to a fifth of the async threads' CPU in the empty-queue polls
//! benchmark, between parsing a URI made for it, building credentials and
//! parameters, canonicalizing through header maps, and deriving the signing
//! key (four HMACs) afresh. The fast road below brought verification to under
//! a tenth, most of it the SHA-256 of the body, of the canonical request and
//! of the HMAC, which no correct verifier can skip.
//!
//! What AWS JSON 1.1 clients send is always the same shape: `POST /`, no query,
//! a sorted `SignedHeaders` list that includes `x-amz-date`. For exactly that
//! shape the verifier writes the canonical request itself, straight into
//! SHA-256 from the `HeaderMap` (see [`write_canonical_request`]), and signs
//! the string to sign with a signing key cached per secret and day
//! ([`SigningKeys`]); aws-sigv4 still derives the key (`generate_signing_key`)
//! and computes the final HMAC (`calculate_signature`). Anything else (another
//! path or method, a query, an unsorted `SignedHeaders`, an unusual `Host`)
//! takes the full aws-sigv4 road, unchanged. The two agree byte for byte on
//! every request the fast road takes (the `fast_and_full_paths_agree` test
//! generates thousands), so the fast road accepts and refuses exactly what the
//! full one does, with the same errors: it is a cheaper way to compute the same
//! function, not a looser check.

use cpjobs_core::ErrorCode;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SessionTokenMode, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use cpjobs_core::{ApiError, Caller, ServiceConfig};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::amzdate;

/// The signing name of the service in credential scopes.
pub const SERVICE_NAME: &str = "codepipeline";

/// How far a request's `X-Amz-Date` may be from the service's clock (AWS: 15 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// A temporary credential the service issued (for example a job's artifact
/// credentials): usable only together with its session token, until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryCredential {
    /// The account the credential acts for.
    pub account_id: String,
    /// Its secret access key.
    pub secret_access_key: String,
    /// The session token a request must carry in `X-Amz-Security-Token`.
    pub session_token: String,
    /// When it stops working.
    pub expires: SystemTime,
}

/// Where the verifier looks up temporary credentials by access key id.
/// The domain implements it for the credentials it hands to jobs.
pub trait TemporaryCredentials: Send + Sync + 'static {
    /// The temporary credential with this access key id, if one was issued.
    fn lookup(&self, access_key_id: &str) -> Option<TemporaryCredential>;
}

/// Verifies requests against the configured principals and, for requests with
/// a session token, against the temporary credentials hook.
#[derive(Clone)]
pub struct Verifier {
    region: String,
    /// Always `codepipeline` in the service; AWS's published test vectors use `service`.
    service: &'static str,
    principals: Arc<HashMap<String, (String, String)>>,
    temporary: Option<Arc<dyn TemporaryCredentials>>,
    /// Signing keys derived so far, shared by the clones of this verifier.
    /// They are for this verifier's `region` and `service`, which never change
    /// once it is in use.
    keys: Arc<SigningKeys>,
    /// Whether requests of the usual shape take the fast road (always, except
    /// in tests that compare it with the full one).
    fast_path: bool,
}

/// How many secrets [`SigningKeys`] holds keys for before it starts afresh.
const MAX_CACHED_SECRETS: usize = 1024;

/// A day (`YYYYMMDD` from the credential scope) and its signing key.
type DayKey = ([u8; 8], [u8; 32]);

/// SigV4 signing keys, cached per secret and day: a key depends only on the
/// secret, the date, the region and the service, and the last two are fixed
/// per [`Verifier`], so deriving it (four HMACs) once a day per secret is
/// enough. Each secret keeps the keys of the last two days it signed with:
/// around midnight requests of both days are current (clocks may differ by up
/// to 15 minutes either way). Bounded: when more than [`MAX_CACHED_SECRETS`]
/// secrets are held (temporary credentials come and go), it is cleared.
///
/// Deliberately not `Debug`: it holds secrets, which must never reach a log.
#[derive(Default)]
struct SigningKeys {
    by_secret: Mutex<HashMap<String, [Option<DayKey>; 2]>>,
}

impl SigningKeys {
    /// The signing key of `secret` for `day` (the `YYYYMMDD` of `time`), in
    /// `region` for `service`: cached, or derived by aws-sigv4 and remembered.
    fn get(&self, secret: &str, day: &str, time: SystemTime, region: &str, service: &str) -> [u8; 32] {
        let mut day_bytes = [0u8; 8];
        day_bytes.copy_from_slice(&day.as_bytes()[..8]);
        {
            let map = self.by_secret.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(slots) = map.get(secret) {
                for (d, key) in slots.iter().flatten() {
                    if *d == day_bytes {
                        return *key;
                    }
                }
            }
        }
        // Derived outside the lock; two threads may both derive a missing key, harmlessly.
        let mut key = [0u8; 32];
        // HMAC-SHA256: always 32 bytes.
        key.copy_from_slice(v4::generate_signing_key(secret, time, region, service).as_ref());
        let mut map = self.by_secret.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_CACHED_SECRETS && !map.contains_key(secret) {
            map.clear();
        }
        let slots = map.entry(secret.to_owned()).or_default();
        // Replace an empty slot, else the older day's.
        let slot = match slots {
            [None, _] => 0,
            [_, None] => 1,
            [Some((a, _)), Some((b, _))] => usize::from(a > b),
        };
        slots[slot] = Some((day_bytes, key));
        key
    }

    #[cfg(test)]
    fn secrets(&self) -> usize {
        self.by_secret.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// The parts of a request the signature covers.
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path and query exactly as received.
    pub path_and_query: &'a str,
    /// All request headers.
    pub headers: &'a HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

fn incomplete(message: String) -> ApiError {
    ApiError::client(ErrorCode::IncompleteSignatureException, message)
}

fn invalid_signature(message: impl Into<String>) -> ApiError {
    ApiError::client(ErrorCode::InvalidSignatureException, message)
}

fn signature_mismatch() -> ApiError {
    invalid_signature(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

fn unrecognized() -> ApiError {
    ApiError::client(ErrorCode::UnrecognizedClientException, "The security token included in the request is invalid.")
}

/// The three parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct AuthHeader<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<AuthHeader<'_>, ApiError> {
    let Some(rest) = value.strip_prefix("AWS4-HMAC-SHA256") else {
        let algorithm = value.split_whitespace().next().unwrap_or_default();
        return Err(incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    // AWS lists every missing parameter, then echoes the header.
    let mut missing = String::new();
    for (name, v) in [("Credential", credential), ("Signature", signature), ("SignedHeaders", signed_headers)] {
        if v.is_none_or(str::is_empty) {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={value}")));
    }
    Ok(AuthHeader {
        credential: credential.unwrap_or_default(),
        signed_headers: signed_headers.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Verifier {
    /// A verifier for the principals of `config`, answering for `config.region`.
    pub fn new(config: &ServiceConfig, temporary: Option<Arc<dyn TemporaryCredentials>>) -> Verifier {
        let mut principals = HashMap::new();
        for account in &config.accounts {
            for p in &account.principals {
                principals.insert(p.access_key_id.clone(), (account.id.clone(), p.secret_access_key.clone()));
            }
        }
        Verifier {
            region: config.region.clone(),
            service: SERVICE_NAME,
            principals: Arc::new(principals),
            temporary,
            keys: Arc::default(),
            fast_path: true,
        }
    }

    /// Checks the request's signature at time `now`; the caller it identifies, or AWS's refusal.
    pub fn verify(&self, req: &SignedRequest<'_>, now: SystemTime) -> Result<Caller, ApiError> {
        let Some(auth) = req.headers.get(http::header::AUTHORIZATION) else {
            return Err(ApiError::client(
                ErrorCode::MissingAuthenticationTokenException,
                "Missing Authentication Token",
            ));
        };
        let auth_value = auth.to_str().map_err(|_| incomplete("Authorization header is not ASCII".into()))?;
        let auth = parse_authorization(auth_value)?;

        let Some(date_value) = header_str(req.headers, "x-amz-date") else {
            return Err(incomplete(format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth_value}"
            )));
        };
        let Some(date) = amzdate::parse(date_value) else {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date_value}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        };
        check_skew(date, now)?;

        // Credential=AKID/20261129/us-east-1/codepipeline/aws4_request
        let scope: Vec<&str> = auth.credential.split('/').collect();
        let [access_key_id, scope_date, region, service, terminator] = scope[..] else {
            return Err(incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                auth.credential
            )));
        };
        if terminator != "aws4_request" {
            return Err(invalid_signature(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            )));
        }
        if service != self.service {
            return Err(invalid_signature(format!(
                "Credential should be scoped to correct service: '{}'. ",
                self.service
            )));
        }
        if region != self.region {
            return Err(invalid_signature(format!(
                "Credential should be scoped to a valid region, not '{region}'. This service answers for '{}'. ",
                self.region
            )));
        }
        if scope_date != &date_value[..8] {
            return Err(invalid_signature(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{date_value}'.",
                &date_value[..8]
            )));
        }

        let token = header_str(req.headers, "x-amz-security-token");
        let (account_id, secret): (String, Cow<'_, str>) = match token {
            None => match self.principals.get(access_key_id) {
                Some((account, secret)) => (account.clone(), Cow::Borrowed(secret)),
                None => return Err(unrecognized()),
            },
            Some(token) => {
                let Some(cred) = self.temporary.as_ref().and_then(|t| t.lookup(access_key_id)) else {
                    return Err(unrecognized());
                };
                if !bool::from(cred.session_token.as_bytes().ct_eq(token.as_bytes())) {
                    return Err(unrecognized());
                }
                if now >= cred.expires {
                    return Err(ApiError::client(
                        ErrorCode::ExpiredTokenException,
                        "The security token included in the request is expired",
                    ));
                }
                (cred.account_id, Cow::Owned(cred.secret_access_key))
            }
        };

        let expected = self.compute_signature(req, &auth, access_key_id, &secret, token, date_value, date)?;
        if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            return Err(signature_mismatch());
        }
        Ok(Caller { account_id, access_key_id: access_key_id.to_owned() })
    }

    /// The signature the request should carry: by the fast road when the
    /// request has the shape it covers, else by aws-sigv4's full signer.
    #[allow(clippy::too_many_arguments)]
    fn compute_signature(
        &self,
        req: &SignedRequest<'_>,
        auth: &AuthHeader<'_>,
        access_key_id: &str,
        secret: &str,
        token: Option<&str>,
        date_value: &str,
        date: SystemTime,
    ) -> Result<String, ApiError> {
        let list = check_signed_headers(auth.signed_headers, req.headers)?;
        if self.fast_path && fast_path_applies(req, &list, token) {
            self.fast_signature(req, auth.signed_headers, secret, token, date_value, date)
        } else {
            self.full_signature(req, auth.signed_headers, access_key_id, secret, token, date)
        }
    }

    /// The signature as aws-sigv4's full client signer computes it: the
    /// reference, for every request the fast road does not cover.
    fn full_signature(
        &self,
        req: &SignedRequest<'_>,
        signed_headers: &str,
        access_key_id: &str,
        secret: &str,
        token: Option<&str>,
        date: SystemTime,
    ) -> Result<String, ApiError> {
        let signed: Vec<&str> = signed_headers.split(';').collect();
        // The signer adds x-amz-date (from `time`) and the session token itself;
        // every other signed header is handed over with all its values.
        let mut headers = Vec::new();
        for name in &signed {
            if *name == "x-amz-date" || *name == "x-amz-security-token" {
                continue;
            }
            for value in req.headers.get_all(*name) {
                let value = value.to_str().map_err(|_| not_ascii())?;
                headers.push((*name, value));
            }
        }
        let host = header_str(req.headers, "host").unwrap_or("localhost");
        let uri = format!("http://{host}{}", req.path_and_query);
        let mut settings = SigningSettings::default();
        settings.excluded_headers = None;
        settings.session_token_mode = if signed.contains(&"x-amz-security-token") {
            SessionTokenMode::Include
        } else {
            SessionTokenMode::Exclude
        };
        let identity =
            Credentials::new(access_key_id, secret, token.map(str::to_owned), None, "cpjobs-verifier").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(date)
            .settings(settings)
            .build()
            .map_err(|_| ApiError::internal("signing parameters"))?
            .into();
        let signable = SignableRequest::new(req.method, uri, headers.into_iter(), SignableBody::Bytes(req.body))
            .map_err(|_| invalid_signature("The request cannot be canonicalized for signing."))?;
        let out = sign(signable, &params)
            .map_err(|_| invalid_signature("The request cannot be canonicalized for signing."))?;
        Ok(out.signature().to_owned())
    }

    /// The signature of a request of the usual shape ([`fast_path_applies`]):
    /// the canonical request hashed as it is written, the string to sign in
    /// one buffer, the signing key from the cache. Two SHA-256 passes and one
    /// HMAC, where the full signer also derives the key (four HMACs) and
    /// allocates its way through a `Uri`, header maps and strings.
    fn fast_signature(
        &self,
        req: &SignedRequest<'_>,
        signed_headers: &str,
        secret: &str,
        token: Option<&str>,
        date_value: &str,
        date: SystemTime,
    ) -> Result<String, ApiError> {
        let mut hasher = Sha256::new();
        write_canonical_request(req, signed_headers, token, date_value, &mut |bytes| hasher.update(bytes))?;
        let canonical_hash = hex_32(&hasher.finalize().into());
        let day = &date_value[..8];
        let mut to_sign = String::with_capacity(96 + self.region.len() + self.service.len());
        for part in [
            "AWS4-HMAC-SHA256\n",
            date_value,
            "\n",
            day,
            "/",
            &self.region,
            "/",
            self.service,
            "/aws4_request\n",
            std::str::from_utf8(&canonical_hash).unwrap_or_default(),
        ] {
            to_sign.push_str(part);
        }
        let key = self.keys.get(secret, day, date, &self.region, self.service);
        Ok(v4::calculate_signature(key, to_sign.as_bytes()))
    }
}

fn not_ascii() -> ApiError {
    invalid_signature("A signed header is not ASCII.")
}

/// What [`check_signed_headers`] learned about a well-formed `SignedHeaders`.
struct SignedList {
    /// Strictly ascending, as aws-sigv4 (and every SDK) lists them.
    sorted: bool,
    /// Lists `x-amz-date`.
    date: bool,
    /// Lists `x-amz-security-token`.
    token: bool,
}

/// Refuses a `SignedHeaders` that is not exactly what a signer could have
/// produced: lowercase names, each once, each present, `host` among them.
/// Both roads canonicalize what they are given; this makes sure that is what
/// the client declared.
fn check_signed_headers(signed: &str, headers: &HeaderMap) -> Result<SignedList, ApiError> {
    let mut list = SignedList { sorted: true, date: false, token: false };
    let (mut host, mut previous) = (false, None);
    for name in signed.split(';') {
        let well_formed = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.!#$%&'*+^`|~".contains(&b));
        if !well_formed || !headers.contains_key(name) {
            return Err(signature_mismatch());
        }
        list.sorted &= previous.is_none_or(|p: &str| p < name);
        previous = Some(name);
        host |= name == "host";
        list.date |= name == "x-amz-date";
        list.token |= name == "x-amz-security-token";
    }
    // Strictly ascending means each once; otherwise count.
    if !list.sorted {
        let mut seen = HashSet::new();
        if !signed.split(';').all(|name| seen.insert(name)) {
            return Err(signature_mismatch());
        }
    }
    if !host {
        return Err(invalid_signature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."));
    }
    Ok(list)
}

/// Whether the fast road computes exactly what aws-sigv4's full signer would
/// for this request. It does when:
///
/// - the request is `POST /` with no query: the canonical URI is `/` and the
///   canonical query empty, with nothing to normalize or encode;
/// - `SignedHeaders` is sorted (so each name once) and lists `x-amz-date`:
///   the full signer sorts the names and always signs `x-amz-date`, so its
///   list is then the client's own, in the client's order;
/// - a listed `x-amz-security-token` came as a readable token (the signer
///   signs the credentials' token, which is that header's value);
/// - `Host` is a plain `name[:port]`: the full road builds
///   `http://{host}/` and refuses a request whose URI does not parse (or
///   would parse to another path); a plain host always parses to `/`.
fn fast_path_applies(req: &SignedRequest<'_>, list: &SignedList, token: Option<&str>) -> bool {
    list.sorted
        && list.date
        && (!list.token || token.is_some())
        && req.method == "POST"
        && req.path_and_query == "/"
        && header_str(req.headers, "host").is_some_and(plain_host)
}

/// `name[:port]` with a name of letters, digits, dots and dashes and a port
/// of one to five digits: what `http://{host}/` parses with, to path `/`.
fn plain_host(host: &str) -> bool {
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    (1..=253).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes the SigV4 canonical request of a request the fast road covers
/// ([`fast_path_applies`]) to `out`, piece by piece, as aws-sigv4 writes it:
///
/// ```text
/// POST
/// /
/// (empty query)
/// name:value            one line per SignedHeaders name, in its (sorted) order
/// (empty line)
/// SignedHeaders
/// hex(SHA-256(body))
/// ```
///
/// A header's values are trimmed of spaces, runs of spaces inside collapse to
/// one (spaces only, as aws-sigv4 and S3 do: tabs stay), and several values of
/// one header are joined with `,`. `x-amz-date` is the request's own (the
/// full signer writes the parsed time back, the same 16 characters, since
/// `amzdate::parse` takes only that form); `x-amz-security-token` is the
/// token the credentials carry (its first value, untrimmed, as the full
/// signer has it). The payload hash is always the body's own SHA-256, as the
/// full signer computes it from `SignableBody::Bytes`: a signed
/// `x-amz-content-sha256` is a header like any other, so a client that
/// declares `UNSIGNED-PAYLOAD` or another body's hash is refused on both roads.
fn write_canonical_request(
    req: &SignedRequest<'_>,
    signed_headers: &str,
    token: Option<&str>,
    date_value: &str,
    out: &mut dyn FnMut(&[u8]),
) -> Result<(), ApiError> {
    out(b"POST\n/\n\n");
    for name in signed_headers.split(';') {
        out(name.as_bytes());
        out(b":");
        match name {
            "x-amz-date" => out(date_value.as_bytes()),
            "x-amz-security-token" => out(token.unwrap_or_default().as_bytes()),
            _ => {
                for (i, value) in req.headers.get_all(name).iter().enumerate() {
                    if i > 0 {
                        out(b",");
                    }
                    let value = value.to_str().map_err(|_| not_ascii())?;
                    for (j, word) in value.split(' ').filter(|w| !w.is_empty()).enumerate() {
                        if j > 0 {
                            out(b" ");
                        }
                        out(word.as_bytes());
                    }
                }
            }
        }
        out(b"\n");
    }
    out(b"\n");
    out(signed_headers.as_bytes());
    out(b"\n");
    out(&hex_32(&Sha256::digest(req.body).into()));
    Ok(())
}

/// Lowercase hex of a SHA-256 digest.
fn hex_32(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

/// AWS refuses a request dated more than 15 minutes before or after its clock,
/// with these exact messages.
fn check_skew(date: SystemTime, now: SystemTime) -> Result<(), ApiError> {
    if date + MAX_CLOCK_SKEW < now {
        return Err(invalid_signature(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            amzdate::format(date),
            amzdate::format(now - MAX_CLOCK_SKEW),
            amzdate::format(now)
        )));
    }
    if date > now + MAX_CLOCK_SKEW {
        return Err(invalid_signature(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            amzdate::format(date),
            amzdate::format(now + MAX_CLOCK_SKEW),
            amzdate::format(now)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! AWS's published SigV4 test vectors (the aws-signing-test-suite `v4`
    //! cases for POST, as shipped with aws-sigv4): the verifier must accept
    //! exactly the signatures AWS computed, and refuse them once altered.

    use super::*;
    use cpjobs_core::config::{Account, Principal};

    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    struct StsToken;
    impl TemporaryCredentials for StsToken {
        fn lookup(&self, access_key_id: &str) -> Option<TemporaryCredential> {
            (access_key_id == KEY).then(|| TemporaryCredential {
                account_id: "123456789012".into(),
                secret_access_key: SECRET.into(),
                session_token: TOKEN.into(),
                expires: amzdate::parse("20150830T133600Z").unwrap(),
            })
        }
    }

    fn verifier() -> Verifier {
        let config = ServiceConfig {
            region: "us-east-1".into(),
            accounts: vec![Account {
                id: "123456789012".into(),
                principals: vec![Principal { access_key_id: KEY.into(), secret_access_key: SECRET.into() }],
            }],
            third_party_action_types: vec![],
            dispatch_lease_seconds: None,
            ..Default::default()
        };
        Verifier { service: "service", ..Verifier::new(&config, Some(Arc::new(StsToken))) }
    }

    /// Verifies a `header-signed-request.txt` as the suite writes it.
    fn verify_vector(text: &str) -> Result<Caller, ApiError> {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut headers = HeaderMap::new();
        for line in head.lines().skip(1) {
            let (k, v) = line.split_once(':').unwrap();
            headers.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let now = amzdate::parse("20150830T123600Z").unwrap();
        let req = SignedRequest { method: "POST", path_and_query: "/", headers: &headers, body: body.as_bytes() };
        verifier().verify(&req, now)
    }

    const AUTH: &str = "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    #[test]
    fn post_vanilla() {
        let v = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH}, SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        assert_eq!(verify_vector(&v).unwrap().account_id, "123456789012");
        let altered = v.replace("5da7c1a2", "5da7c1a3");
        assert_eq!(verify_vector(&altered).unwrap_err().code, "InvalidSignatureException");
        let other_host = v.replace("Host:example.amazonaws.com", "Host:example.com");
        assert_eq!(verify_vector(&other_host).unwrap_err().code, "InvalidSignatureException");
    }

    #[test]
    fn post_x_www_form_urlencoded_with_a_body() {
        let v = format!(
            "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\n\
             X-Amz-Date:20150830T123600Z\n\
             x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n\
             {AUTH}, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, \
             Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n\nParam1=value1"
        );
        assert!(verify_vector(&v).is_ok(), "{:?}", verify_vector(&v));
        let tampered = v.replace("Param1=value1", "Param1=value2");
        assert_eq!(verify_vector(&tampered).unwrap_err().code, "InvalidSignatureException");
    }

    #[test]
    fn post_sts_token_signed_and_unsigned() {
        let before = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Security-Token:{TOKEN}\nX-Amz-Date:20150830T123600Z\n\
             {AUTH}, SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
        assert!(verify_vector(&before).is_ok(), "{:?}", verify_vector(&before));
        // The token sent but left out of SignedHeaders (post-sts-header-after).
        let after = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Security-Token:{TOKEN}\nX-Amz-Date:20150830T123600Z\n\
             {AUTH}, SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        assert!(verify_vector(&after).is_ok(), "{:?}", verify_vector(&after));
        let wrong_token = before.replace("EXAMPLEtc764", "EXAMPLEtc765");
        assert_eq!(verify_vector(&wrong_token).unwrap_err().code, "UnrecognizedClientException");
    }

    #[test]
    fn scope_and_header_refusals() {
        let v = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH}, SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        let e = verify_vector(&v.replace("/20150830/", "/20150831/")).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        assert!(e.message.starts_with("Date in Credential scope does not match YYYYMMDD"), "{}", e.message);
        let e = verify_vector(&v.replace("/service/", "/s3/")).unwrap_err();
        assert_eq!(e.message, "Credential should be scoped to correct service: 'service'. ");
        let e = verify_vector(&v.replace("X-Amz-Date:20150830T123600Z\n", "")).unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
        assert!(
            e.message
                .starts_with("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        );
        let e = verify_vector(&v.replace("AWS4-HMAC-SHA256 Credential", "AWS4-HMAC-SHA512 Credential")).unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
        // Hostile SignedHeaders are refused, never a panic.
        for signed in
            ["host;;x-amz-date", "HOST;X-AMZ-DATE", "host;bad header;x-amz-date", "host;x-amz-date;absent", ";"]
        {
            let e = verify_vector(&v.replace("SignedHeaders=host;x-amz-date", &format!("SignedHeaders={signed}")));
            assert_eq!(e.unwrap_err().code, "InvalidSignatureException", "{signed}");
        }
        let e = verify_vector(
            &v.replace("AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "AKIDEXAMPLE/20150830/us-east-1"),
        )
        .unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
    }

    /// A deterministic stream (splitmix64) for generated requests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
            choices[self.below(choices.len())]
        }
        fn percent(&mut self, p: usize) -> bool {
            self.below(100) < p
        }
    }

    const TEMP_KEY: &str = "ASIATEMPEXAMPLE";
    const TEMP_SECRET: &str = "tEMPorarySecretKeyEXAMPLE/K7MDENG+bPxRfiCY";
    const SECOND_KEY: &str = "AKIDSECONDEXAMPLE";
    const SECOND_SECRET: &str = "sEcondSecretKeyEXAMPLE/K7MDENG+bPxRfiCYzzz";

    /// Temporary credentials good for a long while (the generated requests are dated 2026).
    struct LongToken;
    impl TemporaryCredentials for LongToken {
        fn lookup(&self, access_key_id: &str) -> Option<TemporaryCredential> {
            (access_key_id == TEMP_KEY).then(|| TemporaryCredential {
                account_id: "210987654321".into(),
                secret_access_key: TEMP_SECRET.into(),
                session_token: TOKEN.into(),
                expires: amzdate::parse("20300101T000000Z").unwrap(),
            })
        }
    }

    fn service_verifier() -> Verifier {
        let config = ServiceConfig {
            region: "us-east-1".into(),
            accounts: vec![Account {
                id: "123456789012".into(),
                principals: vec![
                    Principal { access_key_id: KEY.into(), secret_access_key: SECRET.into() },
                    Principal { access_key_id: SECOND_KEY.into(), secret_access_key: SECOND_SECRET.into() },
                ],
            }],
            third_party_action_types: vec![],
            dispatch_lease_seconds: None,
            ..Default::default()
        };
        Verifier::new(&config, Some(Arc::new(LongToken)))
    }

    /// One generated request, its credentials and the `SignedHeaders` it declares.
    struct Generated {
        method: &'static str,
        path_and_query: &'static str,
        headers: HeaderMap,
        body: Vec<u8>,
        signed_headers: String,
        access_key_id: &'static str,
        secret: &'static str,
        token: Option<&'static str>,
        date_value: String,
    }

    impl Generated {
        fn request(&self) -> SignedRequest<'_> {
            SignedRequest {
                method: self.method,
                path_and_query: self.path_and_query,
                headers: &self.headers,
                body: &self.body,
            }
        }
    }

    /// A request as varied as clients (and hostile ones) make them: hosts
    /// plain and not, values with spaces and tabs to trim and collapse,
    /// repeated headers, an `x-amz-content-sha256` right or `UNSIGNED-PAYLOAD`,
    /// session tokens signed or not, bodies of any bytes, dates either side
    /// of midnight, `SignedHeaders` mostly sorted, sometimes not or without
    /// `x-amz-date`, and now and then another method or path.
    fn generate(rng: &mut Rng) -> Generated {
        let midnight = amzdate::parse("20261130T000000Z").unwrap();
        let date = midnight - Duration::from_secs(1200) + Duration::from_secs(rng.below(2400) as u64);
        let date_value = amzdate::format(date);
        let body: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            headers.append(name, http::HeaderValue::from_str(value).unwrap());
        };
        put(
            "host",
            rng.pick(&[
                "127.0.0.1:41234",
                "127.0.0.1:41234",
                "localhost:8080",
                "example.amazonaws.com",
                "LocalHost:80",
                "[::1]:8080",
                "a_b.example:1",
                "example.com:",
                "example.com:99999",
                "ex ample.com",
                "example.com/path",
            ]),
        );
        put("x-amz-date", &date_value);
        let body_hash = hex(&Sha256::digest(&body));
        let length = body.len().to_string();
        let pool: [(&'static str, &[&str]); 6] = [
            (
                "content-type",
                &["application/x-amz-json-1.1", "  application/x-amz-json-1.1 ", "application/json;  charset=utf-8"],
            ),
            ("x-amz-target", &["CodePipeline_20150709.PollForJobs", "CodePipeline_20150709.AcknowledgeJob"]),
            (
                "user-agent",
                &[
                    "aws-cli/1.40.0 Python/3.12.3 Linux/6.8 botocore/1.38.0",
                    "aws-sdk-rust/1.3   os/linux  lang/rust",
                    " a \t b  ",
                ],
            ),
            ("x-amz-content-sha256", &[&body_hash, "UNSIGNED-PAYLOAD"]),
            ("content-length", &[&length]),
            ("x-custom-list", &["a", " b  c ", "d\te", "", "   ", "f,g"]),
        ];
        for (name, values) in pool {
            if rng.percent(70) {
                for _ in 0..=usize::from(name == "x-custom-list") * rng.below(3) {
                    put(name, rng.pick(values));
                }
            }
        }
        let session = rng.percent(30);
        if session {
            put("x-amz-security-token", TOKEN);
        }
        let (access_key_id, secret) = if session {
            (TEMP_KEY, TEMP_SECRET)
        } else if rng.percent(50) {
            (KEY, SECRET)
        } else {
            (SECOND_KEY, SECOND_SECRET)
        };
        let mut signed: Vec<&str> = headers
            .keys()
            .map(http::HeaderName::as_str)
            .filter(|name| match *name {
                "host" => true,
                "x-amz-date" => rng.percent(95),
                "x-amz-security-token" => rng.percent(80),
                _ => rng.percent(80),
            })
            .collect();
        signed.sort_unstable();
        if rng.percent(5) && signed.len() > 1 {
            let i = rng.below(signed.len() - 1);
            signed.swap(i, i + 1);
        }
        let signed_headers = signed.join(";");
        let (method, path_and_query) = match rng.below(40) {
            0 => ("GET", "/"),
            1 => ("POST", "/?Action=Poll&b=%20"),
            2 => ("POST", "/a/../b"),
            _ => ("POST", "/"),
        };
        Generated {
            method,
            path_and_query,
            headers,
            body,
            signed_headers,
            access_key_id,
            secret,
            token: session.then_some(TOKEN),
            date_value,
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// For thousands of generated requests the fast road computes what
    /// aws-sigv4's full signer computes (or refuses with the same error),
    /// and `verify` answers the same on both roads, accepting the full
    /// signer's signature and refusing an altered one alike. One verifier
    /// serves them all, so its key cache sees several secrets and two days.
    #[test]
    fn fast_and_full_paths_agree() {
        let fast = service_verifier();
        let full = Verifier { fast_path: false, ..service_verifier() };
        let mut rng = Rng(0x5eed_c0de);
        let (mut took_fast, mut accepted) = (0, 0);
        for i in 0..4000 {
            let g = generate(&mut rng);
            let req = g.request();
            let auth = AuthHeader { credential: "", signed_headers: &g.signed_headers, signature: "" };
            let date = amzdate::parse(&g.date_value).unwrap();
            let sign = |v: &Verifier| {
                v.compute_signature(&req, &auth, g.access_key_id, g.secret, g.token, &g.date_value, date)
            };
            let (a, b) = (sign(&fast), sign(&full));
            let case = format!(
                "#{i}: {} {} {:?} SignedHeaders={} body {} bytes",
                g.method,
                g.path_and_query,
                g.headers,
                g.signed_headers,
                g.body.len()
            );
            assert_eq!(a, b, "{case}");
            if check_signed_headers(&g.signed_headers, &g.headers).is_ok_and(|l| fast_path_applies(&req, &l, g.token)) {
                took_fast += 1;
            }
            let Ok(signature) = b else { continue };
            for signature in [signature.clone(), format!("{}0", &signature[..63])] {
                let mut headers = g.headers.clone();
                let authorization = format!(
                    "AWS4-HMAC-SHA256 Credential={}/{}/us-east-1/codepipeline/aws4_request, SignedHeaders={}, Signature={signature}",
                    g.access_key_id,
                    &g.date_value[..8],
                    g.signed_headers
                );
                headers.insert(http::header::AUTHORIZATION, authorization.parse().unwrap());
                let req = SignedRequest { headers: &headers, ..g.request() };
                let (a, b) = (fast.verify(&req, date), full.verify(&req, date));
                assert_eq!(a, b, "{case}");
                accepted += usize::from(a.is_ok());
            }
        }
        // Most requests took the fast road, and most were accepted.
        assert!(took_fast > 1500, "{took_fast}");
        assert!(accepted > 2500, "{accepted}");
        eprintln!("{took_fast} of 4000 took the fast road; {accepted} accepted");
        assert_eq!(fast.keys.secrets(), 3);
        assert_eq!(full.keys.secrets(), 0);
    }

    /// The published vectors above take the fast road, and so does what the
    /// SDKs send.
    #[test]
    fn the_usual_requests_take_the_fast_road() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("host", "127.0.0.1:41234"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-date", "20261129T180000Z"),
            ("x-amz-target", "CodePipeline_20150709.PollForJobs"),
        ] {
            headers.insert(k, v.parse().unwrap());
        }
        let req = SignedRequest { method: "POST", path_and_query: "/", headers: &headers, body: b"{}" };
        let list = check_signed_headers("content-type;host;x-amz-date;x-amz-target", &headers).unwrap();
        assert!(fast_path_applies(&req, &list, None));
        let list = check_signed_headers("host;content-type;x-amz-date;x-amz-target", &headers).unwrap();
        assert!(!fast_path_applies(&req, &list, None), "unsorted: the full road");
        let list = check_signed_headers("content-type;host;x-amz-target", &headers).unwrap();
        assert!(!fast_path_applies(&req, &list, None), "no x-amz-date: the full road");
    }

    /// Every host the fast road takes parses, as the full road's URI, to `/`
    /// with no query; the others are left to the full road.
    #[test]
    fn plain_hosts_parse_to_the_root() {
        for host in ["127.0.0.1:41234", "localhost", "example.amazonaws.com:443", "A-1.b:0", "x:65535", "x:99999"] {
            assert!(plain_host(host), "{host}");
            let uri: http::Uri = format!("http://{host}/").parse().unwrap();
            assert_eq!((uri.path(), uri.query()), ("/", None), "{host}");
        }
        for host in
            ["", ":80", "a:", "a:b", "a:1:2", "[::1]:80", "a@b", "a/b", "a?b", "a#b", "a b", "a_b", "a%41", "a:123456"]
        {
            assert!(!plain_host(host), "{host}");
        }
    }

    /// The cache gives aws-sigv4's key for each secret and day, keeps two
    /// days per secret, and stays bounded.
    #[test]
    fn signing_keys_are_cached_per_secret_and_day() {
        let keys = SigningKeys::default();
        let days = ["20261129", "20261130", "20261129", "20261201", "20261130"];
        for secret in [SECRET, SECOND_SECRET] {
            for day in days {
                let time = amzdate::parse(&format!("{day}T120000Z")).unwrap();
                let expected = v4::generate_signing_key(secret, time, "us-east-1", SERVICE_NAME);
                assert_eq!(keys.get(secret, day, time, "us-east-1", SERVICE_NAME), expected.as_ref(), "{day}");
            }
        }
        let time = amzdate::parse("20261129T120000Z").unwrap();
        for i in 0..MAX_CACHED_SECRETS + 10 {
            keys.get(&format!("secret-{i}"), "20261129", time, "us-east-1", SERVICE_NAME);
            assert!(keys.secrets() <= MAX_CACHED_SECRETS);
        }
    }
}
