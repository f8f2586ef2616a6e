//! The artifact store: buckets, objects and multipart uploads behind one trait,
//! [`ArtifactBackend`], with two rooms:
//!
//! * [`disk`]: one directory on the node's disk (the default; one node only);
//! * [`remote`]: an S3-compatible object store shared by every node (AWS S3, MinIO,
//!   Ceph RGW, Garage), so any node answers any request, a multipart upload included.
//!
//! Both keep the same promises, checked by one test list ([`contract`], run against
//! each): an object becomes visible whole or not at all, with S3's MD5 ETag (or
//! MD5-of-MD5s for a multipart object), only if its body matched its `Content-Length`
//! and `Content-MD5`; a part's and an object's content is checked against its recorded
//! size when read. This module holds what both share: the vocabulary of S3 (errors,
//! metadata, listings), the body tally, the content stream and [`ArtifactStore`], the
//! cheap handle the service passes around. Nothing here knows HTTP or who is asking.

mod disk;
mod remote;

#[cfg(test)]
mod contract;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

pub use disk::DiskBackend;
pub use remote::{RemoteBackend, RemoteSettings};

/// S3's minimum size of every part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest single upload (PutObject, or one part).
pub const MAX_UPLOAD_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's largest part number.
pub const MAX_PART_NUMBER: i32 = 10_000;

/// Why a store operation failed, in S3's terms.
#[derive(Debug)]
pub enum StoreError {
    /// The bucket does not exist.
    NoSuchBucket,
    /// The object does not exist.
    NoSuchKey,
    /// The multipart upload does not exist (or belongs to another key).
    NoSuchUpload,
    /// The bucket exists; `owner` is the account that owns it.
    BucketExists {
        /// Owner account id.
        owner: String,
    },
    /// The bucket still holds objects.
    BucketNotEmpty,
    /// The bucket name breaks S3's naming rules.
    InvalidBucketName,
    /// The key is too long for the backend once encoded.
    KeyTooLong,
    /// A completed part is missing or its ETag differs.
    InvalidPart,
    /// Completed parts are not in ascending order.
    InvalidPartOrder,
    /// A part other than the last is smaller than 5 MiB.
    EntityTooSmall,
    /// A single upload is larger than 5 GiB.
    EntityTooLarge,
    /// The content's MD5 differs from `Content-MD5`.
    BadDigest,
    /// The body ended before `Content-Length` bytes.
    IncompleteBody,
    /// The body ended, but the write was refused then (its job had finished meanwhile).
    WriteRefused,
    /// An argument is out of range (part number, upload id).
    InvalidArgument(&'static str),
    /// The disk failed.
    Io(io::Error),
    /// The shared object store did not answer in time, or could not be reached: the
    /// client should try again (S3's `SlowDown`).
    Unavailable(String),
    /// The shared object store answered with an error the request cannot fix (access
    /// denied, its bucket missing, an unreadable record).
    Backend(String),
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> StoreError {
        StoreError::Io(e)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::BucketExists { owner } => write!(f, "bucket exists, owned by {owner}"),
            StoreError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            StoreError::Io(e) => write!(f, "i/o error: {e}"),
            StoreError::Unavailable(cause) => write!(f, "object store unavailable: {cause}"),
            StoreError::Backend(cause) => write!(f, "object store failed: {cause}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Any error a request body may end with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body as the store takes it.
pub type Body = BoxStream<'static, Result<Bytes, BoxError>>;

/// The error a body stream ends with when its content fails a checksum the client sent:
/// the store answers `BadDigest` and the object never becomes visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestMismatch;

impl fmt::Display for DigestMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the content does not match the checksum sent with it")
    }
}

impl std::error::Error for DigestMismatch {}

/// The error a body stream ends with when the write it carries is no longer allowed
/// once the body is in: the store answers `WriteRefused` and the object never becomes
/// visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRefused;

impl fmt::Display for WriteRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the write is no longer allowed")
    }
}

impl std::error::Error for WriteRefused {}

/// What a request promises about its body, checked before the object becomes visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyCheck {
    /// `Content-Length`.
    pub len: Option<u64>,
    /// `Content-MD5`, decoded.
    pub md5: Option<[u8; 16]>,
}

/// Headers stored with an object and sent back on GET and HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHeaders {
    /// `Content-Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    /// `Cache-Control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `x-amz-meta-*` user metadata, names without the prefix.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// What the store knows of one object (or one uploaded part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Object key (empty for a part).
    pub key: String,
    /// Content length in bytes.
    pub size: u64,
    /// ETag without quotes: MD5 hex, or `md5-of-md5s-N` for a multipart object.
    pub etag: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: u64,
    /// Number of parts for a multipart object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
    /// Stored headers.
    #[serde(default)]
    pub headers: ObjectHeaders,
}

impl ObjectMeta {
    /// Last modification time.
    pub fn last_modified(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.last_modified_ms)
    }
}

/// A bucket and its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    /// Bucket name.
    pub name: String,
    /// Owner account id.
    pub owner: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Objects, by key.
    pub objects: Vec<ObjectMeta>,
    /// Common prefixes (with a delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// Where the next page starts, if any.
    pub next_marker: Option<String>,
}

/// A request to list a bucket.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only keys that start with this.
    pub prefix: String,
    /// Group keys by their part up to this, after the prefix.
    pub delimiter: Option<String>,
    /// Only keys after this (a previous page's `next_marker`, or `start-after`).
    pub after: Option<String>,
    /// At most this many objects and prefixes (S3 caps it at 1000).
    pub max_keys: usize,
}

/// What a multipart upload records when it starts: its key and the headers the object
/// will carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UploadRecord {
    key: String,
    headers: ObjectHeaders,
    initiated_ms: u64,
}

/// The operations the S3 endpoint and the service need of a store. Every
/// implementation keeps the promises of the module's doc, whatever node calls it.
///
/// The futures must not depend on the caller's runtime: the service also drives
/// some of them from its blocking domain threads ([`ArtifactStore::ensure_bucket_blocking`]).
#[async_trait::async_trait]
pub trait ArtifactBackend: Send + Sync + fmt::Debug {
    /// The bucket's record, or `None` if it does not exist.
    async fn bucket_info(&self, bucket: &str) -> Result<Option<BucketInfo>, StoreError>;
    /// Creates `bucket` for `owner`; `BucketExists` if it exists, whoever owns it. Of two
    /// racing creators exactly one wins.
    async fn create_bucket(&self, bucket: &str, owner: &str, now: SystemTime) -> Result<BucketInfo, StoreError>;
    /// All buckets, by name.
    async fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError>;
    /// Deletes an empty bucket (pending multipart uploads go with it).
    async fn delete_bucket(&self, bucket: &str) -> Result<(), StoreError>;
    /// Writes an object from `body`, atomically replacing any previous one, if the body
    /// matches `check`.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        body: Body,
        check: BodyCheck,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError>;
    /// An object's metadata and a reader of that very content.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, ObjectReader), StoreError>;
    /// An object's metadata.
    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError>;
    /// Copies an object (content, ETag, headers) to another key, atomically replacing
    /// any object there.
    async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError>;
    /// Deletes an object; deleting a missing one succeeds, as in S3.
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError>;
    /// One page of a bucket's objects in key order.
    async fn list_objects(&self, bucket: &str, query: ListQuery) -> Result<Listing, StoreError>;
    /// Starts a multipart upload; returns its id.
    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        now: SystemTime,
    ) -> Result<String, StoreError>;
    /// Stores one part (ETag = MD5 hex), replacing a previous part of that number.
    #[allow(clippy::too_many_arguments)]
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: Body,
        check: BodyCheck,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError>;
    /// Joins the listed parts (`(part number, ETag)`, ascending) into the object, asking
    /// `allowed` just before it becomes visible (`false`: `WriteRefused`, the upload stays).
    #[allow(clippy::too_many_arguments)]
    async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, String)>,
        now: SystemTime,
        allowed: Box<dyn FnOnce() -> bool + Send>,
    ) -> Result<ObjectMeta, StoreError>;
    /// Abandons a multipart upload and its parts.
    async fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), StoreError>;
}

/// The store the service uses: one backend, shared. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    backend: Arc<dyn ArtifactBackend>,
}

impl ArtifactStore {
    /// The disk store at `root` (created if needed; what a crash left behind is removed).
    pub fn open(root: impl Into<PathBuf>) -> io::Result<ArtifactStore> {
        Ok(ArtifactStore::new(Arc::new(DiskBackend::open(root)?)))
    }

    /// A store over any backend.
    pub fn new(backend: Arc<dyn ArtifactBackend>) -> ArtifactStore {
        ArtifactStore { backend }
    }

    /// The backend.
    pub fn backend(&self) -> &dyn ArtifactBackend {
        &*self.backend
    }

    /// The owner of `bucket`, or `None` if it does not exist.
    pub async fn bucket_owner(&self, bucket: &str) -> Result<Option<String>, StoreError> {
        Ok(self.backend.bucket_info(bucket).await?.map(|b| b.owner))
    }

    /// [`ArtifactStore::bucket_owner`] for the service's blocking threads.
    pub fn bucket_owner_blocking(&self, bucket: &str) -> Result<Option<String>, StoreError> {
        wait(self.bucket_owner(bucket))
    }

    /// Makes sure `bucket` exists and belongs to `owner` (the service calls this for
    /// pipelines' artifact stores). Fails with `BucketExists` if another account owns it.
    pub async fn ensure_bucket(&self, bucket: &str, owner: &str) -> Result<(), StoreError> {
        match self.backend.create_bucket(bucket, owner, SystemTime::now()).await {
            Ok(_) => Ok(()),
            Err(StoreError::BucketExists { owner: existing }) if existing == owner => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// [`ArtifactStore::ensure_bucket`] for the service's blocking threads.
    pub fn ensure_bucket_blocking(&self, bucket: &str, owner: &str) -> Result<(), StoreError> {
        wait(self.ensure_bucket(bucket, owner))
    }

    /// [`ArtifactBackend::copy_object`] for the service's blocking threads (S3 sources).
    pub fn copy_object_blocking(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        wait(self.backend.copy_object(src_bucket, src_key, dst_bucket, dst_key, now))
    }

    /// [`ArtifactBackend::put_object`] for any body stream.
    pub async fn put_object<S, E>(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        body: S,
        check: BodyCheck,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.backend.put_object(bucket, key, headers, boxed(body), check, now).await
    }

    /// [`ArtifactBackend::upload_part`] for any body stream.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_part<S, E>(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: S,
        check: BodyCheck,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.backend.upload_part(bucket, key, upload_id, part_number, boxed(body), check, now).await
    }

    /// [`ArtifactBackend::complete_multipart_upload`], always allowed.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, String)>,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        self.backend.complete_multipart_upload(bucket, key, upload_id, parts, now, Box::new(|| true)).await
    }
}

impl std::ops::Deref for ArtifactStore {
    type Target = dyn ArtifactBackend;

    fn deref(&self) -> &(dyn ArtifactBackend + 'static) {
        &*self.backend
    }
}

fn boxed<S, E>(body: S) -> Body
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError>,
{
    body.map(|chunk| chunk.map_err(Into::into)).boxed()
}

/// Runs a store future to its end on the calling thread. On a runtime's worker thread
/// the runtime is told first, so its other tasks move elsewhere meanwhile.
fn wait<T>(fut: impl std::future::Future<Output = T>) -> T {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| futures::executor::block_on(fut))
    } else {
        futures::executor::block_on(fut)
    }
}

/// Counts and hashes a body as it streams, refusing it as soon as it breaks a rule.
struct Tally {
    md5: Md5,
    size: u64,
}

impl Tally {
    /// Refuses a body announced larger than S3 takes before reading a byte of it.
    fn start(check: &BodyCheck) -> Result<Tally, StoreError> {
        if check.len.is_some_and(|n| n > MAX_UPLOAD_SIZE) {
            return Err(StoreError::EntityTooLarge);
        }
        Ok(Tally { md5: Md5::new(), size: 0 })
    }

    /// One chunk of the body, or why the body failed.
    fn take(&mut self, chunk: Result<Bytes, BoxError>) -> Result<Bytes, StoreError> {
        let chunk = chunk.map_err(|e| {
            if e.is::<DigestMismatch>() {
                return StoreError::BadDigest;
            }
            if e.is::<WriteRefused>() {
                return StoreError::WriteRefused;
            }
            tracing::debug!(error = %e, "request body failed");
            StoreError::IncompleteBody
        })?;
        self.md5.update(&chunk);
        self.size += chunk.len() as u64;
        if self.size > MAX_UPLOAD_SIZE {
            return Err(StoreError::EntityTooLarge);
        }
        Ok(chunk)
    }

    /// The body's size and MD5, if it kept its promises.
    fn finish(self, check: &BodyCheck) -> Result<(u64, [u8; 16]), StoreError> {
        if check.len.is_some_and(|n| n != self.size) {
            return Err(StoreError::IncompleteBody);
        }
        let digest: [u8; 16] = self.md5.finalize().into();
        if check.md5.is_some_and(|m| m != digest) {
            return Err(StoreError::BadDigest);
        }
        Ok((self.size, digest))
    }
}

/// Opens some range of one object's content (each backend has its own).
pub(crate) trait OpenContent: Send + fmt::Debug {
    fn open(self: Box<Self>, range: std::ops::Range<u64>) -> BoxFuture<'static, Result<ContentStream, StoreError>>;
}

/// An object found, ready to stream some or all of its content.
#[derive(Debug)]
pub struct ObjectReader(Box<dyn OpenContent>);

impl ObjectReader {
    /// Streams the bytes in `range` (which the caller has checked against the size).
    pub async fn stream(self, range: std::ops::Range<u64>) -> Result<ContentStream, StoreError> {
        self.0.open(range).await
    }
}

/// An object's content, exactly as long as its metadata says: a source that ends
/// early ends the stream with an error, never with a short object that looks whole.
pub struct ContentStream {
    // A Mutex only to be `Sync` (as s3s wants its bodies); it is never contended,
    // polling takes `&mut self`.
    inner: Mutex<BoxStream<'static, io::Result<Bytes>>>,
    remaining: u64,
}

impl fmt::Debug for ContentStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentStream").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

impl ContentStream {
    fn new(inner: BoxStream<'static, io::Result<Bytes>>, len: u64) -> ContentStream {
        ContentStream { inner: Mutex::new(inner), remaining: len }
    }

    /// Bytes still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl Stream for ContentStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let inner = this.inner.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        match std::task::ready!(inner.poll_next_unpin(cx)) {
            Some(Ok(mut chunk)) => {
                if chunk.len() as u64 > this.remaining {
                    chunk.truncate(usize::try_from(this.remaining).unwrap_or(usize::MAX));
                }
                this.remaining -= chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(e)) => {
                this.remaining = 0;
                Poll::Ready(Some(Err(e)))
            }
            None => {
                this.remaining = 0;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stored content shorter than its metadata says",
                ))))
            }
        }
    }
}

fn etag_of(md5: [u8; 16]) -> String {
    hex_simd::encode_to_string(md5, hex_simd::AsciiCase::Lower)
}

/// S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-<count>`.
fn multipart_etag<'a>(part_etags: impl ExactSizeIterator<Item = &'a str>) -> io::Result<String> {
    let count = part_etags.len();
    let mut md5s = Md5::new();
    for etag in part_etags {
        let mut digest = [0u8; 16];
        hex_simd::decode(etag.as_bytes(), hex_simd::Out::from_slice(&mut digest))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad part etag"))?;
        md5s.update(digest);
    }
    Ok(format!("{}-{count}", etag_of(md5s.finalize().into())))
}

/// Checks a completion's part list against what was uploaded (`found(number)`: the
/// part's metadata, if uploaded) and returns the parts in order, as S3 does: ascending
/// numbers, matching ETags, every part but the last at least 5 MiB.
fn check_parts<T>(
    parts: &[(i32, String)],
    mut found: impl FnMut(i32) -> Option<(ObjectMeta, T)>,
) -> Result<Vec<(ObjectMeta, T)>, StoreError> {
    if parts.is_empty() {
        return Err(StoreError::InvalidArgument("You must specify at least one part"));
    }
    if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(StoreError::InvalidPartOrder);
    }
    let mut out = Vec::with_capacity(parts.len());
    for (i, (number, etag)) in parts.iter().enumerate() {
        let Some((meta, extra)) = found(*number) else { return Err(StoreError::InvalidPart) };
        if meta.etag != etag.trim_matches('"') {
            return Err(StoreError::InvalidPart);
        }
        if i + 1 < parts.len() && meta.size < MIN_PART_SIZE {
            return Err(StoreError::EntityTooSmall);
        }
        out.push((meta, extra));
    }
    Ok(out)
}

/// A part number S3 accepts.
fn check_part_number(part_number: i32) -> Result<(), StoreError> {
    if !(1..=MAX_PART_NUMBER).contains(&part_number) {
        return Err(StoreError::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive"));
    }
    Ok(())
}

/// Upload ids are 32 hex digits; anything else names no upload (and never a path).
fn check_upload_id(upload_id: &str) -> Result<(), StoreError> {
    if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::NoSuchUpload);
    }
    Ok(())
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Applies prefix (already filtered), delimiter, marker and page size to items sorted
/// by key; `T` is what a backend knows of each key when it lists.
fn paginate<T>(items: Vec<(String, T)>, q: &ListQuery) -> Page<T> {
    let mut page = Page { objects: Vec::new(), common_prefixes: Vec::new(), next_marker: None };
    let max = q.max_keys;
    let mut count = 0usize;
    let mut last_emitted: Option<String> = None;
    for (key, item) in items {
        if let Some(after) = &q.after {
            // A marker that is a common prefix skips everything under it.
            let under_marker_prefix =
                q.delimiter.as_deref().is_some_and(|d| after.ends_with(d)) && key.starts_with(after.as_str());
            if key.as_str() <= after.as_str() || under_marker_prefix {
                continue;
            }
        }
        let common = q
            .delimiter
            .as_deref()
            .filter(|d| !d.is_empty())
            .and_then(|d| key[q.prefix.len()..].find(d).map(|i| key[..q.prefix.len() + i + d.len()].to_owned()));
        if let Some(prefix) = &common
            && page.common_prefixes.last() == Some(prefix)
        {
            continue;
        }
        if count == max {
            page.next_marker = last_emitted;
            return page;
        }
        count += 1;
        match common {
            Some(prefix) => {
                last_emitted = Some(prefix.clone());
                page.common_prefixes.push(prefix);
            }
            None => {
                last_emitted = Some(key.clone());
                page.objects.push((key, item));
            }
        }
    }
    page
}

/// A listing page before the backend fills in its objects' metadata.
struct Page<T> {
    objects: Vec<(String, T)>,
    common_prefixes: Vec<String>,
    next_marker: Option<String>,
}
