//! The artifact store inside `cpjobs serve`: the S3 endpoint on the API port,
//! job credentials for `artifactCredentials`, and the domain's artifact hooks
//! (bucket ownership, S3 source copies), all over one store (a directory, or an
//! S3-compatible store shared by every node) and one service key. This is the only place that knows both the domain and s3s.
//!
//! Invariants: a pipeline's artifact bucket belongs to the pipeline's account
//! (created for it, or refused if another account holds it); job credentials
//! name exactly the job's input objects (read) and output objects (write);
//! an S3 source reads only buckets of the pipeline's own account.

use cpjobs_core::ErrorCode;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cpjobs_artifacts::{
    ArtifactAuth, ArtifactGrant, ArtifactStore, LongTermKey, ObjectRef, RemoteBackend, RemoteSettings, S3Options,
    StoreError,
};
use cpjobs_core::artifacts::{ArtifactLocations, SnapshotError, SourceRevision};
use cpjobs_core::credentials::{ArtifactObject, CredentialRequest, SessionCredentials};
use cpjobs_core::{ApiError, Service, ServiceConfig, Store};
use cpjobs_server::Passthrough;
use cpjobs_server::config::{ArtifactBackendSettings, S3Settings};

/// Sets the lifetime of job credentials in seconds (default 900, as AWS). For
/// tests that must see credentials expire, and operators who want them shorter.
pub(crate) const TTL_VARIABLE: &str = "CPJOBS_ARTIFACT_CREDENTIALS_TTL_SECS";

/// Everything the service needs from the artifact store.
pub(crate) struct Artifacts {
    /// The store on disk.
    pub(crate) store: ArtifactStore,
    /// Issues and verifies job credentials.
    pub(crate) issuer: Arc<cpjobs_artifacts::CredentialIssuer>,
    /// Lifetime of job credentials.
    pub(crate) ttl: Duration,
}

impl Artifacts {
    /// Opens the artifact store (`<data_dir>/artifacts`, or the shared S3-compatible
    /// store of `[artifacts]`) and the service key (`service_key_file`, or
    /// `<data_dir>/service.key`), first making the whole data directory private
    /// (0700, files 0600: the database and its WAL, which SQLite creates with its own
    /// modes, included).
    pub(crate) fn open(
        data_dir: &Path,
        backend: &ArtifactBackendSettings,
        service_key_file: Option<&Path>,
    ) -> Result<Artifacts, String> {
        cpjobs_artifacts::create_private_dir(data_dir)
            .map_err(|e| format!("cannot make the data directory {} private: {e}", data_dir.display()))?;
        let store = match backend {
            ArtifactBackendSettings::Disk => {
                let dir = data_dir.join("artifacts");
                let store = ArtifactStore::open(&dir)
                    .map_err(|e| format!("cannot open the artifact store {}: {e}", dir.display()))?;
                tracing::info!(dir = %dir.display(), "artifacts: on disk");
                store
            }
            ArtifactBackendSettings::S3(s3) => open_shared(s3)?,
        };
        let issuer = match service_key_file {
            Some(path) => cpjobs_artifacts::CredentialIssuer::load_shared(path)?,
            None => cpjobs_artifacts::CredentialIssuer::load_or_create(data_dir)
                .map_err(|e| format!("cannot read or create the service key in {}: {e}", data_dir.display()))?,
        };
        let ttl = match std::env::var(TTL_VARIABLE) {
            Ok(v) => match v.parse::<u64>() {
                Ok(secs) if (1..=43_200).contains(&secs) => Duration::from_secs(secs),
                _ => return Err(format!("{TTL_VARIABLE}={v:?} must be a number of seconds from 1 to 43200")),
            },
            Err(_) => cpjobs_artifacts::DEFAULT_TTL,
        };
        Ok(Artifacts { store, issuer: Arc::new(issuer), ttl })
    }

    /// The key client tokens are sealed under at rest, derived from the service key
    /// (so every node with the same `service.key` opens them).
    pub(crate) fn token_key(&self) -> [u8; 32] {
        self.issuer.derive_key("client-tokens")
    }

    /// The key the console signs its sessions and CSRF tokens with: derived
    /// from the service key, so sessions outlive a restart and die with the key.
    pub(crate) fn console_key(&self) -> [u8; 32] {
        self.issuer.derive_key("console-sessions")
    }

    /// The domain's credential hook.
    pub(crate) fn credentials(&self) -> JobCredentials {
        JobCredentials { issuer: self.issuer.clone(), ttl: self.ttl }
    }

    /// The domain's artifact hook.
    pub(crate) fn locations(&self) -> Buckets {
        Buckets { store: self.store.clone() }
    }

    /// The S3 endpoint for the API port, knowing the configuration's long-term keys,
    /// asking `service` at each write of job credentials whether the job still runs,
    /// and telling it of each object an account writes (see [`SourceChanges`]).
    pub(crate) fn passthrough<S: Store>(&self, config: &ServiceConfig, service: Arc<Service<S>>) -> Passthrough {
        let principals: HashMap<String, LongTermKey> = config
            .accounts
            .iter()
            .flat_map(|a| {
                a.principals.iter().map(|p| {
                    let key = LongTermKey { secret_access_key: p.secret_access_key.clone(), account_id: a.id.clone() };
                    (p.access_key_id.clone(), key)
                })
            })
            .collect();
        let changes = SourceChanges { service: Arc::clone(&service), store: self.store.clone() };
        let auth = ArtifactAuth::new(self.issuer.clone(), principals).with_job_gate(jobs_gate(service));
        let region = if config.region.is_empty() { "us-east-1" } else { config.region.as_str() };
        let options = S3Options { region: region.to_owned(), ..S3Options::default() };
        let s3 = cpjobs_artifacts::s3_service_with_hook(self.store.clone(), auth, options, Some(Arc::new(changes)));
        Arc::new(move |req| {
            let s3 = s3.clone();
            Box::pin(async move { s3.handle(req).await.map(cpjobs_server::HttpBody::new) })
        })
    }
}

/// The shared store of `[artifacts] backend = "s3"`, after making sure it answers:
/// a node with a wrong endpoint, bucket or key says so now rather than at the first
/// upload.
fn open_shared(s3: &S3Settings) -> Result<ArtifactStore, String> {
    let mut settings = RemoteSettings::new(&s3.endpoint, &s3.region, &s3.bucket);
    settings.prefix = s3.prefix.clone();
    settings.credentials = s3.credentials.clone();
    if let Some(t) = s3.request_timeout {
        settings.request_timeout = t;
    }
    let shown = format!("{} (bucket {}, prefix {:?})", s3.endpoint, s3.bucket, s3.prefix);
    let backend = RemoteBackend::new(&settings)?;
    // Checked with a client of its own, on a runtime that ends here: the service's
    // client keeps no connection bound to it.
    let probe = RemoteBackend::new(&settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(probe.check()).map_err(|e| format!("the artifact store at {shown} does not answer: {e}"))?;
    tracing::info!(store = %shown, "artifacts: shared S3-compatible store");
    Ok(ArtifactStore::new(Arc::new(backend)))
}

/// The artifact endpoint's job gate: a job's credentials write only while the
/// domain says the job is `InProgress` (and not timed out).
fn jobs_gate<S: Store>(service: Arc<Service<S>>) -> impl cpjobs_artifacts::JobGate {
    move |job_id: &str, now: SystemTime| {
        let check = || service.job_accepts_outputs(job_id, now).map_err(|e| e.message);
        // The gate is asked on the server's async threads: a store whose reads
        // wait for the network (PostgreSQL) tells the runtime this thread
        // blocks, so its other tasks move to another thread meanwhile.
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if !service.store().inline_reads() && multi_thread { tokio::task::block_in_place(check) } else { check() }
    }
}

/// The S3 source's change detection, fed from the artifact write path: each
/// object an account writes with its own keys is handed to the domain
/// ([`Service::object_written`]) with the bucket's owner, which starts the
/// pipelines whose S3 source watches it. Objects written with job
/// credentials are left out: a job writes only its own output artifacts,
/// under keys the service made up when the job was created
/// (`<pipeline>/<artifact>/<random>`), which no declaration can name.
///
/// The write is answered without waiting for the starts (they read the
/// store and copy the object): a crash in between loses the start, as a
/// missed poll would on AWS, and the next write starts it again.
struct SourceChanges<S: Store> {
    service: Arc<Service<S>>,
    store: ArtifactStore,
}

impl<S: Store> cpjobs_artifacts::WriteHook for SourceChanges<S> {
    fn written(&self, object: &cpjobs_artifacts::WrittenObject) {
        if object.by_job {
            return;
        }
        let (service, store, object) = (Arc::clone(&self.service), self.store.clone(), object.clone());
        // Called from the S3 endpoint's async handler: the owner is read from the
        // artifact store (async, maybe remote), the domain called on a blocking
        // thread (a PostgreSQL store's reads block).
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(bucket = %object.bucket, "an object was written outside the service's runtime; it starts nothing");
            return;
        };
        runtime.spawn(async move {
            let owner = match store.bucket_owner(&object.bucket).await {
                Ok(Some(owner)) => owner,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, bucket = %object.bucket, "cannot read a bucket's owner; its new object starts nothing");
                    return;
                }
            };
            let start = move || match service.object_written(&owner, &object.bucket, &object.key, SystemTime::now()) {
                Ok(started) if !started.is_empty() => {
                    tracing::info!(bucket = %object.bucket, key = %object.key, etag = %object.etag, executions = ?started, "a new S3 source object started pipelines");
                }
                Ok(_) => {}
                // Store failures were logged where they were met.
                Err(e) if e.is_internal() => {}
                Err(e) => {
                    tracing::warn!(code = %e.code, message = %e.message, bucket = %object.bucket, "a new S3 source object started nothing");
                }
            };
            if let Err(e) = tokio::task::spawn_blocking(start).await {
                tracing::error!(error = %e, "the start of the pipelines watching a new S3 object failed");
            }
        });
    }
}

/// `artifactCredentials` for jobs: stateless credentials of the artifact store.
pub(crate) struct JobCredentials {
    issuer: Arc<cpjobs_artifacts::CredentialIssuer>,
    ttl: Duration,
}

fn refs(objects: &[ArtifactObject]) -> Vec<ObjectRef> {
    objects.iter().map(|o| ObjectRef::new(&o.bucket, &o.key)).collect()
}

impl cpjobs_core::CredentialIssuer for JobCredentials {
    fn issue(&self, request: &CredentialRequest) -> Result<Option<SessionCredentials>, ApiError> {
        let mut grant =
            ArtifactGrant::new(&request.account_id, refs(&request.read), refs(&request.write)).for_job(&request.job_id);
        grant.ttl = self.ttl;
        let now = UNIX_EPOCH + Duration::from_millis(u64::try_from(request.now).unwrap_or(0));
        let c = self.issuer.issue(grant, now);
        Ok(Some(SessionCredentials {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token,
        }))
    }
}

/// Bucket ownership and S3 source copies in the built-in store.
pub(crate) struct Buckets {
    store: ArtifactStore,
}

fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "{what}");
    ApiError::internal("The artifact store failed; try again")
}

impl ArtifactLocations for Buckets {
    fn ensure_bucket(&self, account_id: &str, bucket: &str) -> Result<(), ApiError> {
        match self.store.ensure_bucket_blocking(bucket, account_id) {
            Ok(()) => Ok(()),
            Err(StoreError::BucketExists { .. }) => Err(ApiError::client(
                ErrorCode::InvalidStructureException,
                format!("The artifact store bucket '{bucket}' belongs to another account: choose another location"),
            )),
            Err(StoreError::InvalidBucketName) => Err(ApiError::client(
                ErrorCode::InvalidStructureException,
                format!("The artifact store location '{bucket}' is not a valid S3 bucket name"),
            )),
            Err(e) => Err(internal("creating an artifact bucket failed", e)),
        }
    }

    fn snapshot(
        &self,
        account_id: &str,
        source: &ArtifactObject,
        artifact: &ArtifactObject,
    ) -> Result<SourceRevision, SnapshotError> {
        let name = format!("s3://{}/{}", source.bucket, source.key);
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, source = %name, "S3 source copy failed; it is tried again");
            SnapshotError::Unavailable(e.to_string())
        };
        match self.store.bucket_owner_blocking(&source.bucket) {
            Ok(Some(owner)) if owner == account_id => {}
            Ok(_) => {
                return Err(SnapshotError::Refused(format!(
                    "The S3 source bucket '{}' does not exist or belongs to another account",
                    source.bucket
                )));
            }
            Err(e) => return Err(unavailable(&e)),
        }
        // The artifact bucket was made for this account with the pipeline; make sure it still is.
        match self.store.ensure_bucket_blocking(&artifact.bucket, account_id) {
            Ok(()) => {}
            Err(StoreError::BucketExists { .. }) => {
                return Err(SnapshotError::Refused(format!(
                    "The artifact store bucket '{}' belongs to another account",
                    artifact.bucket
                )));
            }
            Err(e) => return Err(unavailable(&e)),
        }
        match self.store.copy_object_blocking(
            &source.bucket,
            &source.key,
            &artifact.bucket,
            &artifact.key,
            SystemTime::now(),
        ) {
            Ok(meta) => Ok(SourceRevision { revision_id: meta.etag.clone(), etag: meta.etag }),
            Err(StoreError::NoSuchKey) => Err(SnapshotError::Refused(format!(
                "The S3 source object {name} does not exist: upload it, then start the pipeline again"
            ))),
            Err(StoreError::NoSuchBucket) => {
                Err(SnapshotError::Refused(format!("The S3 source bucket '{}' does not exist", source.bucket)))
            }
            Err(e) => Err(unavailable(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpjobs_core::CredentialIssuer as _;

    fn request(now_ms: i64) -> CredentialRequest {
        let obj = |k: &str| ArtifactObject { bucket: "bkt".into(), key: k.into() };
        CredentialRequest {
            job_id: "job".into(),
            account_id: "111111111111".into(),
            read: vec![obj("p/In/1")],
            write: vec![obj("p/Out/2")],
            now: now_ms,
        }
    }

    #[test]
    fn job_credentials_carry_exactly_the_job_objects_and_expire_after_their_ttl() {
        let issuer = Arc::new(cpjobs_artifacts::CredentialIssuer::from_key([7; 32]));
        let hook = JobCredentials { issuer: issuer.clone(), ttl: cpjobs_artifacts::DEFAULT_TTL };
        let t0 = 1_795_975_200_000i64;
        let c = hook.issue(&request(t0)).unwrap().expect("credentials");
        let at = |ms: i64| UNIX_EPOCH + Duration::from_millis(ms as u64);
        let (_, grant) = issuer.verify(&c.access_key_id, &c.session_token, at(t0 + 899_000)).unwrap();
        assert_eq!(grant.account_id, "111111111111");
        assert_eq!(grant.job_id.as_deref(), Some("job"), "writes are checked against the job's status");
        assert!(grant.may_read("bkt", "p/In/1") && !grant.may_write("bkt", "p/In/1"));
        assert!(grant.may_write("bkt", "p/Out/2") && !grant.may_read("bkt", "p/Out/2"));
        assert_eq!(
            issuer.verify(&c.access_key_id, &c.session_token, at(t0 + 900_000)).unwrap_err(),
            cpjobs_artifacts::CredError::ExpiredToken
        );
        let again = hook.issue(&request(t0)).unwrap().expect("credentials");
        assert_ne!(again.access_key_id, c.access_key_id, "each details call gives fresh credentials");
    }

    #[test]
    fn buckets_belong_to_the_pipeline_account_and_sources_are_copied_with_their_etag() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        let b = Buckets { store: store.clone() };
        b.ensure_bucket("111111111111", "art-1").unwrap();
        b.ensure_bucket("111111111111", "art-1").unwrap();
        let e = b.ensure_bucket("222222222222", "art-1").unwrap_err();
        assert_eq!(e.code, "InvalidStructureException");
        assert_eq!(b.ensure_bucket("1", "No_Such!").unwrap_err().code, "InvalidStructureException");

        store.ensure_bucket_blocking("src-1", "111111111111").unwrap();
        store.ensure_bucket_blocking("src-2", "222222222222").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let body = futures_body(b"zip bytes");
        let put = rt
            .block_on(store.put_object(
                "src-1",
                "in.zip",
                Default::default(),
                body,
                Default::default(),
                SystemTime::now(),
            ))
            .unwrap();
        let obj = |b: &str, k: &str| ArtifactObject { bucket: b.into(), key: k.into() };
        let rev = b.snapshot("111111111111", &obj("src-1", "in.zip"), &obj("art-1", "p/Src/abc")).unwrap();
        assert_eq!(rev, SourceRevision { revision_id: put.etag.clone(), etag: put.etag.clone() });
        let copied = rt.block_on(store.head_object("art-1", "p/Src/abc")).unwrap();
        assert_eq!(copied.etag, put.etag);
        let missing = b.snapshot("111111111111", &obj("src-1", "nope.zip"), &obj("art-1", "k")).unwrap_err();
        assert!(matches!(&missing, SnapshotError::Refused(m) if m.contains("s3://src-1/nope.zip does not exist")));
        let foreign = b.snapshot("111111111111", &obj("src-2", "in.zip"), &obj("art-1", "k")).unwrap_err();
        assert!(matches!(foreign, SnapshotError::Refused(m) if m.contains("another account")));
    }

    fn futures_body(bytes: &'static [u8]) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin {
        futures::stream::iter([Ok(bytes::Bytes::from_static(bytes))])
    }
}
