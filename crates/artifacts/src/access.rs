//! Who is calling the artifact endpoint, and what they may do.
//!
//! Two kinds of callers:
//!
//! * **accounts**, through their long-term keys from the service configuration: they
//!   may do everything in the buckets their account owns, create buckets, and list
//!   their own buckets;
//! * **jobs**, through temporary credentials (`ASIA…` + session token): they may GET
//!   and HEAD exactly the grant's read objects, and PUT (in one request or by multipart
//!   upload) exactly its write objects. Nothing else, not even a listing.
//!
//! s3s checks the signature with the secret we hand it ([`S3Auth`]), then calls
//! [`S3Access::check`]; s3s ignores `x-amz-security-token`, so the check verifies the
//! token here (header or presigned query), against the clock passed in, and refuses
//! SigV2 with a token (SigV2 never signs it). The caller it establishes is put in the
//! request's extensions as a [`Caller`] for the operations that depend on it.

use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, Uri};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

use crate::credentials::{ArtifactGrant, CredError, CredentialIssuer};
use crate::store::ArtifactStore;

/// A long-term key of an account, as the service configuration declares it.
#[derive(Clone, PartialEq, Eq)]
pub struct LongTermKey {
    /// The secret access key.
    pub secret_access_key: String,
    /// The 12-digit account the key acts for.
    pub account_id: String,
}

impl std::fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongTermKey").field("account_id", &self.account_id).finish_non_exhaustive()
    }
}

/// Finds the account and secret of a long-term access key id.
///
/// Implemented for closures `Fn(&str) -> Option<(secret, account_id)>`.
pub trait PrincipalLookup: Send + Sync + 'static {
    /// The key's secret and account, or `None` for an unknown key.
    fn lookup(&self, access_key_id: &str) -> Option<LongTermKey>;
}

impl<F> PrincipalLookup for F
where
    F: Fn(&str) -> Option<(String, String)> + Send + Sync + 'static,
{
    fn lookup(&self, access_key_id: &str) -> Option<LongTermKey> {
        self(access_key_id).map(|(secret_access_key, account_id)| LongTermKey { secret_access_key, account_id })
    }
}

impl PrincipalLookup for std::collections::HashMap<String, LongTermKey> {
    fn lookup(&self, access_key_id: &str) -> Option<LongTermKey> {
        self.get(access_key_id).cloned()
    }
}

/// Whether a job's credentials may still write its outputs: the domain answers, at
/// the moment each write arrives (and again before a PUT's object becomes visible).
///
/// The binary implements it over the job service: only an `InProgress` job writes, so
/// credentials handed out before or after a result cannot replace an approved output.
pub trait JobGate: Send + Sync + 'static {
    /// `Ok(true)` while `job_id` runs; `Ok(false)` once it has a result, timed out, or
    /// does not exist; `Err` (logged, answered `InternalError`) when it cannot tell.
    fn may_write(&self, job_id: &str, now: SystemTime) -> Result<bool, String>;
}

impl<F> JobGate for F
where
    F: Fn(&str, SystemTime) -> Result<bool, String> + Send + Sync + 'static,
{
    fn may_write(&self, job_id: &str, now: SystemTime) -> Result<bool, String> {
        self(job_id, now)
    }
}

/// S3 operations that write a job's outputs (aborting an upload writes nothing).
const JOB_WRITES: &[&str] = &["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"];

/// The message of a write refused because the job no longer runs.
pub(crate) const JOB_FINISHED: &str =
    "Access Denied: the job of these credentials is no longer in progress, so they may not write its outputs";

/// The time source for credential expiry (tests pass a fixed clock).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The caller of an S3 request, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An account's long-term key.
    Account {
        /// The account.
        account_id: String,
        /// The key used.
        access_key_id: String,
    },
    /// A job's temporary credentials.
    Job {
        /// The temporary key used.
        access_key_id: String,
        /// What it may touch.
        grant: ArtifactGrant,
    },
}

/// Authentication and authorization for the artifact endpoint.
#[derive(Clone)]
pub struct ArtifactAuth {
    issuer: Arc<CredentialIssuer>,
    principals: Arc<dyn PrincipalLookup>,
    clock: Clock,
    jobs: Option<Arc<dyn JobGate>>,
}

impl std::fmt::Debug for ArtifactAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactAuth").finish_non_exhaustive()
    }
}

impl ArtifactAuth {
    /// Job credentials verified by `issuer`, account keys found by `principals`, expiry
    /// checked against the system clock.
    pub fn new(issuer: Arc<CredentialIssuer>, principals: impl PrincipalLookup) -> ArtifactAuth {
        ArtifactAuth { issuer, principals: Arc::new(principals), clock: Arc::new(SystemTime::now), jobs: None }
    }

    /// The same, asking `jobs` whether a job's credentials may still write. Without a
    /// gate (a standalone endpoint with no job service), grants write until they expire;
    /// with one, a grant that names no job never writes.
    pub fn with_job_gate(mut self, jobs: impl JobGate) -> ArtifactAuth {
        self.jobs = Some(Arc::new(jobs));
        self
    }

    /// Whether `grant` may write now, by the job gate (see [`JobGate`]).
    pub fn job_may_write(&self, grant: &ArtifactGrant) -> S3Result<()> {
        let Some(jobs) = &self.jobs else { return Ok(()) };
        let Some(job_id) = &grant.job_id else {
            return Err(S3Error::with_message(S3ErrorCode::AccessDenied, JOB_FINISHED));
        };
        match jobs.may_write(job_id, self.now()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(S3Error::with_message(S3ErrorCode::AccessDenied, JOB_FINISHED)),
            Err(e) => {
                tracing::error!(error = %e, job_id = %job_id, "reading the job's status failed");
                Err(S3Error::new(S3ErrorCode::InternalError))
            }
        }
    }

    /// The same, with expiry checked against `clock`.
    ///
    /// s3s still checks each request's `x-amz-date` against the real clock (15 minutes of
    /// skew allowed); only credential expiry follows this clock.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> ArtifactAuth {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock in use.
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Who is calling with `access_key_id` (already signature-checked by s3s), given the
    /// request's headers and URI.
    pub fn identify(&self, access_key_id: &str, headers: &HeaderMap, uri: &Uri) -> S3Result<Caller> {
        let token = session_token(headers, uri)?;
        if token.is_some() && is_sig_v2(headers, uri) {
            return Err(sig_v4_required());
        }
        if CredentialIssuer::is_temporary_key(access_key_id) {
            if is_sig_v2(headers, uri) {
                return Err(sig_v4_required());
            }
            let token = token.ok_or(CredError::MissingToken)?;
            let (_, grant) = self.issuer.verify(access_key_id, &token, self.now())?;
            return Ok(Caller::Job { access_key_id: access_key_id.to_owned(), grant });
        }
        let Some(key) = self.principals.lookup(access_key_id) else {
            return Err(CredError::UnknownAccessKey.into());
        };
        if token.is_some() {
            // A long-term key needs no token; AWS refuses one that comes with it.
            return Err(CredError::InvalidToken.into());
        }
        Ok(Caller::Account { account_id: key.account_id, access_key_id: access_key_id.to_owned() })
    }
}

/// Whether `caller` may run operation `op` (s3s's operation name) on `path`.
///
/// `owner_of` answers the owner account of a bucket (`None`: no such bucket).
pub fn authorize(
    caller: &Caller,
    op: &str,
    path: &S3Path,
    owner_of: impl FnOnce(&str) -> std::io::Result<Option<String>>,
) -> S3Result<()> {
    match caller {
        Caller::Job { grant, .. } => {
            let S3Path::Object { bucket, key } = path else {
                return Err(access_denied());
            };
            let allowed = match op {
                "GetObject" | "HeadObject" => grant.may_read(bucket, key),
                "PutObject"
                | "CreateMultipartUpload"
                | "UploadPart"
                | "CompleteMultipartUpload"
                | "AbortMultipartUpload"
                | "ListParts" => grant.may_write(bucket, key),
                _ => false,
            };
            if !allowed {
                return Err(access_denied());
            }
            // A bucket deleted and re-created by another account is not the pipeline's:
            // its objects are neither read as inputs nor replaced by outputs.
            match owner_of(bucket).map_err(|e| owner_unreadable(bucket, &e))? {
                Some(owner) if owner == grant.account_id => Ok(()),
                Some(_) => Err(S3Error::with_message(
                    S3ErrorCode::AccessDenied,
                    format!(
                        "Access Denied: the bucket {bucket} no longer belongs to the pipeline's account {}",
                        grant.account_id
                    ),
                )),
                // The operation answers NoSuchBucket.
                None => Ok(()),
            }
        }
        Caller::Account { account_id, .. } => {
            let bucket = match path {
                // ListBuckets: each account sees its own buckets.
                S3Path::Root => return Ok(()),
                S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => bucket,
            };
            if op == "CreateBucket" {
                // The operation itself tells an existing bucket's owner apart.
                return Ok(());
            }
            match owner_of(bucket).map_err(|e| owner_unreadable(bucket, &e))? {
                Some(owner) if owner == *account_id => Ok(()),
                Some(_) => Err(access_denied()),
                // The operation answers NoSuchBucket.
                None => Ok(()),
            }
        }
    }
}

fn owner_unreadable(bucket: &str, e: &std::io::Error) -> S3Error {
    tracing::error!(error = %e, bucket = %bucket, "reading bucket owner failed");
    S3Error::new(S3ErrorCode::InternalError)
}

fn access_denied() -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, "Access Denied")
}

/// AWS's message when it wants SigV4.
pub(crate) const SIG_V4_REQUIRED: &str =
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";

fn sig_v4_required() -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, SIG_V4_REQUIRED)
}

/// Whether a request is signed with SigV2 and carries a session token: SigV2 leaves the
/// token unsigned, so such requests are refused before any signature check.
pub(crate) fn is_sig_v2_with_token(headers: &HeaderMap, uri: &Uri) -> bool {
    is_sig_v2(headers, uri)
        && (headers.contains_key("x-amz-security-token") || query_param(uri, "X-Amz-Security-Token").is_some())
}

/// The session token, from the `x-amz-security-token` header or the presigned URL's
/// `X-Amz-Security-Token` query parameter.
fn session_token(headers: &HeaderMap, uri: &Uri) -> S3Result<Option<String>> {
    if let Some(v) = headers.get("x-amz-security-token") {
        return v.to_str().map(|s| Some(s.to_owned())).map_err(|_| CredError::InvalidToken.into());
    }
    match query_param(uri, "X-Amz-Security-Token") {
        Some(v) => percent_decode(v).map(Some).ok_or_else(|| CredError::InvalidToken.into()),
        None => Ok(None),
    }
}

/// Decodes `%XX` escapes (presigned URLs carry the token percent-encoded).
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        // SigV2 presigned URLs spell it `x-amz-security-token`, SigV4 ones `X-Amz-Security-Token`.
        k.eq_ignore_ascii_case(name).then_some(v)
    })
}

/// SigV2: `Authorization: AWS key:sig`, or a presigned URL with `Signature` (not `X-Amz-Signature`).
fn is_sig_v2(headers: &HeaderMap, uri: &Uri) -> bool {
    let header_v2 =
        headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("AWS "));
    header_v2 || query_param(uri, "Signature").is_some()
}

/// The s3s hooks, sharing one [`ArtifactAuth`] and the store (for bucket owners).
pub(crate) struct Hooks {
    pub(crate) auth: ArtifactAuth,
    pub(crate) store: ArtifactStore,
}

#[async_trait::async_trait]
impl S3Auth for Hooks {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let secret = if CredentialIssuer::is_temporary_key(access_key) {
            self.auth.issuer.secret_for_key_id(access_key)
        } else {
            self.auth.principals.lookup(access_key).map(|k| k.secret_access_key)
        };
        secret.map(SecretKey::from).ok_or_else(|| CredError::UnknownAccessKey.into())
    }
}

#[async_trait::async_trait]
impl S3Access for Hooks {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Anonymous access is not allowed"));
        };
        let caller = self.auth.identify(&credentials.access_key, cx.headers(), cx.uri())?;
        let op = cx.s3_op().name();
        // The owner is read before deciding (a request to the shared store may wait);
        // a store that does not answer is the store's error (SlowDown), not a refusal.
        let owner = match cx.s3_path() {
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => {
                self.store.bucket_owner(bucket).await.map_err(crate::s3::s3_error)?
            }
            S3Path::Root => None,
        };
        authorize(&caller, op, cx.s3_path(), |_| Ok(owner))?;
        if let Caller::Job { grant, .. } = &caller
            && JOB_WRITES.contains(&op)
        {
            self.auth.job_may_write(grant)?;
        }
        tracing::debug!(?caller, op, "authorized");
        cx.extensions_mut().insert(caller);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::ObjectRef;
    use std::time::{Duration, UNIX_EPOCH};

    fn job() -> Caller {
        Caller::Job {
            access_key_id: "ASIA".into(),
            grant: ArtifactGrant::new(
                "111122223333",
                vec![ObjectRef::new("b", "in")],
                vec![ObjectRef::new("b", "out")],
            ),
        }
    }

    fn account(id: &str) -> Caller {
        Caller::Account { account_id: id.into(), access_key_id: "AKIA".into() }
    }

    fn owner(_: &str) -> std::io::Result<Option<String>> {
        Ok(Some("111122223333".into()))
    }

    fn code(r: S3Result<()>) -> Option<S3ErrorCode> {
        r.err().map(|e| e.code().clone())
    }

    #[test]
    fn jobs_touch_exactly_their_objects() {
        let obj = |k: &str| S3Path::object("b", k);
        assert_eq!(code(authorize(&job(), "GetObject", &obj("in"), owner)), None);
        assert_eq!(code(authorize(&job(), "HeadObject", &obj("in"), owner)), None);
        assert_eq!(code(authorize(&job(), "PutObject", &obj("out"), owner)), None);
        assert_eq!(code(authorize(&job(), "UploadPart", &obj("out"), owner)), None);
        assert_eq!(code(authorize(&job(), "CompleteMultipartUpload", &obj("out"), owner)), None);
        for (op, path) in [
            ("PutObject", obj("in")),
            ("GetObject", obj("out")),
            ("GetObject", obj("in2")),
            ("GetObject", S3Path::object("c", "in")),
            ("DeleteObject", obj("out")),
            ("ListObjectsV2", S3Path::bucket("b")),
            ("ListBuckets", S3Path::root()),
            ("CreateBucket", S3Path::bucket("b")),
            ("PostObject", S3Path::bucket("b")),
        ] {
            assert_eq!(code(authorize(&job(), op, &path, owner)), Some(S3ErrorCode::AccessDenied), "{op} {path:?}");
        }
    }

    #[test]
    fn accounts_act_in_their_own_buckets() {
        let me = account("111122223333");
        let other = account("444455556666");
        let path = S3Path::object("b", "k");
        assert_eq!(code(authorize(&me, "DeleteObject", &path, owner)), None);
        assert_eq!(code(authorize(&me, "ListObjectsV2", &S3Path::bucket("b"), owner)), None);
        assert_eq!(code(authorize(&other, "GetObject", &path, owner)), Some(S3ErrorCode::AccessDenied));
        assert_eq!(code(authorize(&other, "CreateBucket", &S3Path::bucket("b"), owner)), None);
        assert_eq!(code(authorize(&other, "GetObject", &path, |_| Ok(None))), None);
    }

    #[test]
    fn identify_checks_tokens_and_signature_versions() {
        let issuer = Arc::new(CredentialIssuer::from_key([3; 32]));
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let principals = |id: &str| (id == "AKIDEXAMPLE").then(|| ("secret".to_owned(), "111122223333".to_owned()));
        let auth = ArtifactAuth::new(issuer.clone(), principals).with_clock(move || t0);
        let grant = ArtifactGrant::new("111122223333", vec![], vec![ObjectRef::new("b", "k")]);
        let creds = issuer.issue(grant.clone(), t0);
        let uri: Uri = "/b/k".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-security-token", creds.session_token.parse().unwrap());
        assert_eq!(
            auth.identify(&creds.access_key_id, &headers, &uri).unwrap(),
            Caller::Job { access_key_id: creds.access_key_id.clone(), grant }
        );
        let presigned: Uri = format!(
            "/b/k?X-Amz-Security-Token={}&X-Amz-Signature=x",
            creds.session_token.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        )
        .parse()
        .unwrap();
        // The query form is percent-encoded.
        assert!(matches!(auth.identify(&creds.access_key_id, &HeaderMap::new(), &presigned), Ok(Caller::Job { .. })));
        let missing = auth.identify(&creds.access_key_id, &HeaderMap::new(), &uri).unwrap_err();
        assert_eq!(missing.code(), &S3ErrorCode::InvalidAccessKeyId);
        let mut v2 = headers.clone();
        v2.insert(http::header::AUTHORIZATION, "AWS key:sig".parse().unwrap());
        let err = auth.identify(&creds.access_key_id, &v2, &uri).unwrap_err();
        assert_eq!(err.code(), &S3ErrorCode::InvalidRequest);
        let err = auth.identify("AKIDEXAMPLE", &headers, &uri).unwrap_err();
        assert_eq!(err.code(), &S3ErrorCode::InvalidToken);
        let err = auth.identify("AKIDEXAMPLE", &v2, &uri).unwrap_err();
        assert_eq!(err.code(), &S3ErrorCode::InvalidRequest);
        assert_eq!(
            auth.identify("AKIDEXAMPLE", &HeaderMap::new(), &uri).unwrap(),
            account("111122223333").clone_with_key("AKIDEXAMPLE")
        );
        let late = ArtifactAuth::new(issuer.clone(), principals).with_clock(move || t0 + Duration::from_secs(900));
        let err = late.identify(&creds.access_key_id, &headers, &uri).unwrap_err();
        assert_eq!(err.code(), &S3ErrorCode::ExpiredToken);
    }

    impl Caller {
        fn clone_with_key(&self, key: &str) -> Caller {
            match self.clone() {
                Caller::Account { account_id, .. } => Caller::Account { account_id, access_key_id: key.into() },
                job => job,
            }
        }
    }
}
