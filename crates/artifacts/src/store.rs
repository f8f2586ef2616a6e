//! The artifact store on disk: buckets, objects and multipart uploads in one directory.
//!
//! Layout under the store's root (the service's `<data dir>/artifacts`):
//!
//! ```text
//! tmp/                          bucket directories being created or deleted
//! buckets/<name>/bucket.json    owner account and creation time
//! buckets/<name>/objects/<h>    one file per object, h = SHA-256 of the key (hex)
//! buckets/<name>/uploads/<id>/  upload.json and part-NNNNN files of a multipart upload
//! buckets/<name>/tmp/           objects and parts being written
//! ```
//!
//! An object file holds the content, then the object's metadata as JSON, then the
//! JSON's length (u64 LE) and a magic number: metadata that depends on the content
//! (size, MD5 ETag) is appended after streaming it, so one file carries both. Every
//! file is written under `tmp/`, synced, renamed into place and its directory synced:
//! a crash leaves either the old object or the new one, never half of one. Leftovers
//! in `tmp/` are removed when the store opens.
//!
//! Keys become file names through a hash, so no key (`..`, `/`, 1024 bytes) can escape
//! the bucket or exceed a file-name limit; upload ids are checked to be hex for the
//! same reason. This module knows nothing of HTTP or of who is asking.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

use crate::credentials::random_hex;
use crate::private;

const MAGIC: &[u8; 8] = b"CPJART\x00\x01";
const TRAILER_LEN: u64 = 16;
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
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> StoreError {
        StoreError::Io(e)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::BucketExists { owner } => write!(f, "bucket exists, owned by {owner}"),
            StoreError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            StoreError::Io(e) => write!(f, "i/o error: {e}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for StoreError {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error a body stream ends with when its content fails a checksum the client sent:
/// the store answers `BadDigest` and the object never becomes visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestMismatch;

impl std::fmt::Display for DigestMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the content does not match the checksum sent with it")
    }
}

impl std::error::Error for DigestMismatch {}

/// The error a body stream ends with when the write it carries is no longer allowed
/// once the body is in: the store answers `WriteRefused` and the object never becomes
/// visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRefused;

impl std::fmt::Display for WriteRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

#[derive(Debug, Serialize, Deserialize)]
struct UploadRecord {
    key: String,
    headers: ObjectHeaders,
    initiated_ms: u64,
}

/// The directory-backed store. Cloning shares it.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: Arc<PathBuf>,
}

impl ArtifactStore {
    /// Opens (creating if needed) the store at `root`, removing what a crash left in `tmp/`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<ArtifactStore> {
        let root = root.into();
        private::new_dir_all(&root.join("buckets"))?;
        reset_dir(&root.join("tmp"))?;
        for entry in fs::read_dir(root.join("buckets"))? {
            let dir = entry?.path();
            if dir.join("bucket.json").is_file() {
                reset_dir(&dir.join("tmp"))?;
            }
        }
        Ok(ArtifactStore { root: Arc::new(root) })
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket)
    }

    fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        let hash = Sha256::digest(key.as_bytes());
        self.bucket_dir(bucket).join("objects").join(hex_simd::encode_to_string(hash, hex_simd::AsciiCase::Lower))
    }

    fn upload_dir(&self, bucket: &str, upload_id: &str) -> Result<PathBuf, StoreError> {
        if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NoSuchUpload);
        }
        Ok(self.bucket_dir(bucket).join("uploads").join(upload_id))
    }

    /// The owner of `bucket`, or `None` if it does not exist.
    pub fn bucket_owner(&self, bucket: &str) -> io::Result<Option<String>> {
        Ok(self.bucket_info(bucket)?.map(|b| b.owner))
    }

    /// The bucket's record, or `None` if it does not exist.
    pub fn bucket_info(&self, bucket: &str) -> io::Result<Option<BucketInfo>> {
        if !s3s::path::check_bucket_name(bucket) {
            return Ok(None);
        }
        match fs::read(self.bucket_dir(bucket).join("bucket.json")) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn require_bucket(&self, bucket: &str) -> Result<BucketInfo, StoreError> {
        self.bucket_info(bucket)?.ok_or(StoreError::NoSuchBucket)
    }

    /// Creates `bucket` for `owner`; fails with `BucketExists` if it exists, whoever owns it.
    pub fn create_bucket(&self, bucket: &str, owner: &str, now: SystemTime) -> Result<BucketInfo, StoreError> {
        if !s3s::path::check_bucket_name(bucket) {
            return Err(StoreError::InvalidBucketName);
        }
        if let Some(info) = self.bucket_info(bucket)? {
            return Err(StoreError::BucketExists { owner: info.owner });
        }
        let info = BucketInfo { name: bucket.to_owned(), owner: owner.to_owned(), created_ms: unix_ms(now) };
        // Built whole in tmp/ and renamed: a bucket exists with its owner or not at all,
        // and of two racing creators exactly one rename succeeds.
        let staging = self.root.join("tmp").join(random_hex(16)?);
        private::new_dir_all(&staging)?;
        for sub in ["objects", "uploads", "tmp"] {
            private::new_dir(&staging.join(sub))?;
        }
        write_file_synced(&staging.join("bucket.json"), &serde_json::to_vec(&info).map_err(io::Error::other)?)?;
        sync_dir(&staging)?;
        match fs::rename(&staging, self.bucket_dir(bucket)) {
            Ok(()) => {
                sync_dir(&self.root.join("buckets"))?;
                Ok(info)
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                match self.bucket_info(bucket)? {
                    Some(existing) => Err(StoreError::BucketExists { owner: existing.owner }),
                    None => Err(e.into()),
                }
            }
        }
    }

    /// Makes sure `bucket` exists and belongs to `owner` (the service calls this for
    /// pipelines' artifact stores). Fails with `BucketExists` if another account owns it.
    pub fn ensure_bucket(&self, bucket: &str, owner: &str) -> Result<(), StoreError> {
        match self.create_bucket(bucket, owner, SystemTime::now()) {
            Ok(_) => Ok(()),
            Err(StoreError::BucketExists { owner: existing }) if existing == owner => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// All buckets, by name.
    pub fn list_buckets(&self) -> io::Result<Vec<BucketInfo>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("buckets"))? {
            let name = entry?.file_name();
            if let Some(info) = name.to_str().map(|n| self.bucket_info(n)).transpose()?.flatten() {
                out.push(info);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes an empty bucket (pending multipart uploads go with it).
    pub fn delete_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        self.require_bucket(bucket)?;
        let dir = self.bucket_dir(bucket);
        if fs::read_dir(dir.join("objects"))?.next().is_some() {
            return Err(StoreError::BucketNotEmpty);
        }
        // Renamed away first so the bucket disappears in one step.
        let trash = self.root.join("tmp").join(random_hex(16)?);
        fs::rename(&dir, &trash)?;
        sync_dir(&self.root.join("buckets"))?;
        fs::remove_dir_all(&trash)?;
        Ok(())
    }

    /// Writes an object from `body`, atomically replacing any previous one.
    ///
    /// The body must match `check` for the object to become visible.
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
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Into<BoxError>,
    {
        self.require_bucket(bucket)?;
        let tmp = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        let meta_for = |size, md5: [u8; 16]| ObjectMeta {
            key: key.to_owned(),
            size,
            etag: hex_simd::encode_to_string(md5, hex_simd::AsciiCase::Lower),
            last_modified_ms: unix_ms(now),
            parts: None,
            headers,
        };
        let meta = match write_streamed(&tmp, body, check, meta_for).await {
            Ok(meta) => meta,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let dest = self.object_path(bucket, key);
        blocking(move || publish(&tmp, &dest)).await?;
        Ok(meta)
    }

    /// An object's metadata.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let (_, meta) = self.open_object(bucket, key).await?;
        Ok(meta)
    }

    /// An object's metadata and a reader of its content. Metadata and content come from
    /// one open file, so they agree even if the object is replaced meanwhile.
    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, ObjectReader), StoreError> {
        let (file, meta) = self.open_object(bucket, key).await?;
        Ok((meta, ObjectReader { file }))
    }

    async fn open_object(&self, bucket: &str, key: &str) -> Result<(File, ObjectMeta), StoreError> {
        self.require_bucket(bucket)?;
        let path = self.object_path(bucket, key);
        blocking(move || match File::open(&path) {
            Ok(mut f) => {
                let meta = read_trailer(&mut f)?;
                Ok((f, meta))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoSuchKey),
            Err(e) => Err(e.into()),
        })
        .await
    }

    /// Copies an object to another key (of the same or another bucket), keeping its
    /// content, ETag and headers, atomically replacing any object there. Synchronous:
    /// the service calls it from its blocking domain threads (S3 source actions).
    pub fn copy_object_blocking(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        self.require_bucket(src_bucket)?;
        self.require_bucket(dst_bucket)?;
        let mut src = match File::open(self.object_path(src_bucket, src_key)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchKey),
            Err(e) => return Err(e.into()),
        };
        let meta = ObjectMeta { key: dst_key.to_owned(), last_modified_ms: unix_ms(now), ..read_trailer(&mut src)? };
        src.seek(SeekFrom::Start(0))?;
        let tmp = self.bucket_dir(dst_bucket).join("tmp").join(random_hex(16)?);
        let written = (|| -> io::Result<()> {
            let mut out = io::BufWriter::with_capacity(1 << 20, private::new_file(&tmp)?);
            let copied = io::copy(&mut (&mut src).take(meta.size), &mut out)?;
            if copied != meta.size {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object file shorter than its metadata says"));
            }
            write_trailer(&mut out, &meta)?;
            out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        publish(&tmp, &self.object_path(dst_bucket, dst_key))?;
        Ok(meta)
    }

    /// Deletes an object; deleting a missing one succeeds, as in S3.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.require_bucket(bucket)?;
        let path = self.object_path(bucket, key);
        let dir = self.bucket_dir(bucket).join("objects");
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(sync_dir(&dir)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        })
        .await
    }

    /// Lists a bucket's objects in key order.
    pub async fn list_objects(&self, bucket: &str, query: ListQuery) -> Result<Listing, StoreError> {
        self.require_bucket(bucket)?;
        let dir = self.bucket_dir(bucket).join("objects");
        blocking(move || {
            let mut metas = Vec::new();
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                // An object deleted while we list is simply not listed.
                let mut f = match File::open(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e.into()),
                };
                let meta = read_trailer(&mut f)?;
                if meta.key.starts_with(&query.prefix) {
                    metas.push(meta);
                }
            }
            metas.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(paginate(metas, &query))
        })
        .await
    }

    /// Starts a multipart upload; returns its id.
    pub fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        now: SystemTime,
    ) -> Result<String, StoreError> {
        self.require_bucket(bucket)?;
        let upload_id = random_hex(16)?;
        let record = UploadRecord { key: key.to_owned(), headers, initiated_ms: unix_ms(now) };
        let staging = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        private::new_dir(&staging)?;
        write_file_synced(&staging.join("upload.json"), &serde_json::to_vec(&record).map_err(io::Error::other)?)?;
        sync_dir(&staging)?;
        publish(&staging, &self.upload_dir(bucket, &upload_id)?)?;
        Ok(upload_id)
    }

    fn upload_record(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(PathBuf, UploadRecord), StoreError> {
        self.require_bucket(bucket)?;
        let dir = self.upload_dir(bucket, upload_id)?;
        let bytes = match fs::read(dir.join("upload.json")) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchUpload),
            Err(e) => return Err(e.into()),
        };
        let record: UploadRecord =
            serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        // An upload id used with another key is, for S3, an upload that does not exist.
        if record.key != key {
            return Err(StoreError::NoSuchUpload);
        }
        Ok((dir, record))
    }

    /// Stores one part of a multipart upload; returns its metadata (ETag = MD5 hex).
    // The parameters are S3's UploadPart request, one to one.
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
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Into<BoxError>,
    {
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StoreError::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive"));
        }
        let (dir, _) = self.upload_record(bucket, key, upload_id)?;
        let tmp = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        let meta_for = |size, md5: [u8; 16]| ObjectMeta {
            key: String::new(),
            size,
            etag: hex_simd::encode_to_string(md5, hex_simd::AsciiCase::Lower),
            last_modified_ms: unix_ms(now),
            parts: None,
            headers: ObjectHeaders::default(),
        };
        let meta = match write_streamed(&tmp, body, check, meta_for).await {
            Ok(meta) => meta,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let dest = dir.join(part_file(part_number));
        blocking(move || {
            if !dest.parent().is_some_and(Path::is_dir) {
                // Aborted or completed while the part was uploading.
                let _ = fs::remove_file(&tmp);
                return Err(StoreError::NoSuchUpload);
            }
            publish(&tmp, &dest)
        })
        .await?;
        Ok(meta)
    }

    /// Joins the listed parts (`(part number, ETag)`, ascending) into the object.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, String)>,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        self.complete_multipart_upload_if(bucket, key, upload_id, parts, now, Box::new(|| true)).await
    }

    /// [`ArtifactStore::complete_multipart_upload`], asking `allowed` once the object
    /// is joined and synced, just before it becomes visible: `false` discards it
    /// (`WriteRefused`; the upload stays, to be completed or aborted). Joining gigabytes
    /// takes a while, and a write allowed when it arrived may no longer be.
    pub async fn complete_multipart_upload_if(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, String)>,
        now: SystemTime,
        allowed: Box<dyn FnOnce() -> bool + Send>,
    ) -> Result<ObjectMeta, StoreError> {
        let (dir, record) = self.upload_record(bucket, key, upload_id)?;
        let tmp = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        let dest = self.object_path(bucket, key);
        let key = key.to_owned();
        blocking(move || {
            if parts.is_empty() {
                return Err(StoreError::InvalidArgument("You must specify at least one part"));
            }
            if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(StoreError::InvalidPartOrder);
            }
            let mut files = Vec::with_capacity(parts.len());
            for (i, (number, etag)) in parts.iter().enumerate() {
                let mut f = match File::open(dir.join(part_file(*number))) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::InvalidPart),
                    Err(e) => return Err(e.into()),
                };
                let meta = read_trailer(&mut f)?;
                if meta.etag != etag.trim_matches('"') {
                    return Err(StoreError::InvalidPart);
                }
                if i + 1 < parts.len() && meta.size < MIN_PART_SIZE {
                    return Err(StoreError::EntityTooSmall);
                }
                files.push((f, meta));
            }
            // S3's multipart ETag: MD5 of the parts' binary MD5s, then "-<count>".
            let mut md5s = Md5::new();
            let mut size = 0u64;
            let result = (|| -> Result<ObjectMeta, StoreError> {
                let mut out = io::BufWriter::with_capacity(1 << 20, private::new_file(&tmp)?);
                for (f, meta) in &mut files {
                    let mut digest = [0u8; 16];
                    hex_simd::decode(meta.etag.as_bytes(), hex_simd::Out::from_slice(&mut digest))
                        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad part etag"))?;
                    md5s.update(digest);
                    f.seek(SeekFrom::Start(0))?;
                    let copied = io::copy(&mut f.take(meta.size), &mut out)?;
                    if copied != meta.size {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "part shorter than recorded").into());
                    }
                    size += meta.size;
                }
                let meta = ObjectMeta {
                    key,
                    size,
                    etag: format!(
                        "{}-{}",
                        hex_simd::encode_to_string(md5s.finalize(), hex_simd::AsciiCase::Lower),
                        files.len()
                    ),
                    last_modified_ms: unix_ms(now),
                    parts: Some(u32::try_from(files.len()).unwrap_or(u32::MAX)),
                    headers: record.headers,
                };
                write_trailer(&mut out, &meta)?;
                let f = out.into_inner().map_err(|e| e.into_error())?;
                f.sync_all()?;
                Ok(meta)
            })();
            let meta = match result {
                Ok(meta) if allowed() => meta,
                Ok(_) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(StoreError::WriteRefused);
                }
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            publish(&tmp, &dest)?;
            let _ = fs::remove_dir_all(&dir);
            Ok(meta)
        })
        .await
    }

    /// Abandons a multipart upload and its parts.
    pub fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let (dir, _) = self.upload_record(bucket, key, upload_id)?;
        // Renamed away first so a concurrent UploadPart cannot land in a half-removed upload.
        let trash = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        fs::rename(&dir, &trash)?;
        fs::remove_dir_all(&trash)?;
        Ok(())
    }
}

/// An open object, ready to stream some or all of its content.
#[derive(Debug)]
pub struct ObjectReader {
    file: File,
}

impl ObjectReader {
    /// Streams the bytes in `range` (which the caller has checked against the size).
    pub async fn stream(self, range: std::ops::Range<u64>) -> Result<ContentStream, StoreError> {
        let mut file = self.file;
        let start = range.start;
        let file = blocking(move || {
            file.seek(SeekFrom::Start(start))?;
            Ok(file)
        })
        .await?;
        Ok(ContentStream { file: tokio::fs::File::from_std(file), remaining: range.end.saturating_sub(range.start) })
    }
}

/// An object's content, streamed from its file.
#[derive(Debug)]
pub struct ContentStream {
    file: tokio::fs::File,
    remaining: u64,
}

impl ContentStream {
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
        let want = usize::try_from(self.remaining.min(256 * 1024)).unwrap_or(256 * 1024);
        let mut buf = vec![0u8; want];
        let mut read_buf = ReadBuf::new(&mut buf);
        let this = &mut *self;
        ready!(Pin::new(&mut this.file).poll_read(cx, &mut read_buf))?;
        let got = read_buf.filled().len();
        if got == 0 {
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "object file shorter than its metadata says",
            ))));
        }
        buf.truncate(got);
        this.remaining -= got as u64;
        Poll::Ready(Some(Ok(Bytes::from(buf))))
    }
}

/// Streams `body` into a new file at `tmp`, then appends the metadata trailer and syncs.
async fn write_streamed<S, E>(
    tmp: &Path,
    mut body: S,
    check: BodyCheck,
    meta_for: impl FnOnce(u64, [u8; 16]) -> ObjectMeta,
) -> Result<ObjectMeta, StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    let file = private::new_file_async(tmp).await?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut md5 = Md5::new();
    let mut size = 0u64;
    // Refused before reading a byte when announced, and as soon as it is exceeded otherwise.
    if check.len.is_some_and(|n| n > MAX_UPLOAD_SIZE) {
        return Err(StoreError::EntityTooLarge);
    }
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            let e: BoxError = e.into();
            if e.is::<DigestMismatch>() {
                return StoreError::BadDigest;
            }
            if e.is::<WriteRefused>() {
                return StoreError::WriteRefused;
            }
            tracing::debug!(error = %e, "request body failed");
            StoreError::IncompleteBody
        })?;
        md5.update(&chunk);
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_SIZE {
            return Err(StoreError::EntityTooLarge);
        }
        out.write_all(&chunk).await?;
    }
    if check.len.is_some_and(|n| n != size) {
        return Err(StoreError::IncompleteBody);
    }
    let digest: [u8; 16] = md5.finalize().into();
    if check.md5.is_some_and(|m| m != digest) {
        return Err(StoreError::BadDigest);
    }
    let meta = meta_for(size, digest);
    let mut trailer = Vec::new();
    write_trailer(&mut trailer, &meta)?;
    out.write_all(&trailer).await?;
    out.flush().await?;
    out.into_inner().sync_all().await?;
    Ok(meta)
}

fn write_trailer(out: &mut impl Write, meta: &ObjectMeta) -> io::Result<()> {
    let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
    out.write_all(&json)?;
    out.write_all(&(json.len() as u64).to_le_bytes())?;
    out.write_all(MAGIC)
}

fn read_trailer(f: &mut File) -> io::Result<ObjectMeta> {
    let corrupt = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("corrupt object file: {what}"));
    let len = f.metadata()?.len();
    if len < TRAILER_LEN {
        return Err(corrupt("too short"));
    }
    f.seek(SeekFrom::Start(len - TRAILER_LEN))?;
    let mut tail = [0u8; TRAILER_LEN as usize];
    f.read_exact(&mut tail)?;
    if &tail[8..] != MAGIC {
        return Err(corrupt("bad magic"));
    }
    let json_len = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
    if json_len > len - TRAILER_LEN || json_len > 1 << 24 {
        return Err(corrupt("bad metadata length"));
    }
    f.seek(SeekFrom::Start(len - TRAILER_LEN - json_len))?;
    let mut json = vec![0u8; usize::try_from(json_len).map_err(|_| corrupt("bad metadata length"))?];
    f.read_exact(&mut json)?;
    let meta: ObjectMeta = serde_json::from_slice(&json).map_err(|_| corrupt("bad metadata"))?;
    if meta.size != len - TRAILER_LEN - json_len {
        return Err(corrupt("size mismatch"));
    }
    Ok(meta)
}

/// Moves a finished, synced file or directory into place and syncs the directory that
/// now holds it, so the rename itself survives a crash.
fn publish(tmp: &Path, dest: &Path) -> Result<(), StoreError> {
    fs::rename(tmp, dest)?;
    if let Some(parent) = dest.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn write_file_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = private::new_file(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn reset_dir(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    private::new_dir_all(dir)
}

fn part_file(number: i32) -> String {
    format!("part-{number:05}")
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::Io(io::Error::other(e)))?
}

/// Applies prefix (already filtered), delimiter, marker and page size to sorted objects.
fn paginate(metas: Vec<ObjectMeta>, q: &ListQuery) -> Listing {
    let mut listing = Listing::default();
    let max = q.max_keys;
    let mut count = 0usize;
    let mut last_emitted: Option<String> = None;
    for meta in metas {
        if let Some(after) = &q.after {
            // A marker that is a common prefix skips everything under it.
            let under_marker_prefix =
                q.delimiter.as_deref().is_some_and(|d| after.ends_with(d)) && meta.key.starts_with(after.as_str());
            if meta.key.as_str() <= after.as_str() || under_marker_prefix {
                continue;
            }
        }
        let common = q.delimiter.as_deref().filter(|d| !d.is_empty()).and_then(|d| {
            meta.key[q.prefix.len()..].find(d).map(|i| meta.key[..q.prefix.len() + i + d.len()].to_owned())
        });
        if let Some(prefix) = &common
            && listing.common_prefixes.last() == Some(prefix)
        {
            continue;
        }
        if count == max {
            listing.next_marker = last_emitted;
            return listing;
        }
        count += 1;
        match common {
            Some(prefix) => {
                last_emitted = Some(prefix.clone());
                listing.common_prefixes.push(prefix);
            }
            None => {
                last_emitted = Some(meta.key.clone());
                listing.objects.push(meta);
            }
        }
    }
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> + Unpin {
        futures::stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect::<Vec<_>>())
    }

    async fn read_all(mut s: ContentStream) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    #[tokio::test]
    async fn copies_keep_content_etag_and_headers_under_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.create_bucket("src", "1", now()).unwrap();
        store.create_bucket("dst", "1", now()).unwrap();
        let headers = ObjectHeaders { content_type: Some("application/zip".into()), ..Default::default() };
        let put = store
            .put_object("src", "a/b.zip", headers.clone(), body(&[b"hello ", b"world"]), BodyCheck::default(), now())
            .await
            .unwrap();
        let copy = store.copy_object_blocking("src", "a/b.zip", "dst", "p/Out/x1", now()).unwrap();
        assert_eq!((copy.key.as_str(), copy.size, &copy.etag, &copy.headers), ("p/Out/x1", 11, &put.etag, &headers));
        let (meta, reader) = store.get_object("dst", "p/Out/x1").await.unwrap();
        assert_eq!(meta, copy);
        let bytes: Vec<u8> = reader.stream(0..meta.size).await.unwrap().map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(bytes, b"hello world");
        assert!(matches!(store.copy_object_blocking("src", "missing", "dst", "k", now()), Err(StoreError::NoSuchKey)));
        assert!(matches!(
            store.copy_object_blocking("src", "a/b.zip", "nope", "k", now()),
            Err(StoreError::NoSuchBucket)
        ));
    }

    #[tokio::test]
    async fn objects_round_trip_with_md5_etag_and_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("artifacts", "111122223333").unwrap();
        let headers = ObjectHeaders { content_type: Some("application/zip".into()), ..Default::default() };
        let meta = store
            .put_object(
                "artifacts",
                "a/../../b",
                headers.clone(),
                body(&[b"hello ", b"world"]),
                BodyCheck { len: Some(11), md5: None },
                now(),
            )
            .await
            .unwrap();
        assert_eq!(meta.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(meta.size, 11);
        let (got, content) = store.get_object("artifacts", "a/../../b").await.unwrap();
        assert_eq!(got, meta);
        assert_eq!(got.headers, headers);
        assert_eq!(read_all(content.stream(0..11).await.unwrap()).await, b"hello world");
        let (_, part) = store.get_object("artifacts", "a/../../b").await.unwrap();
        assert_eq!(read_all(part.stream(6..9).await.unwrap()).await, b"wor");
        // The key stays inside the bucket, whatever it spells.
        assert!(fs::read_dir(dir.path().join("buckets/artifacts/objects")).unwrap().count() == 1);
        store.delete_object("artifacts", "a/../../b").await.unwrap();
        assert!(matches!(store.head_object("artifacts", "a/../../b").await, Err(StoreError::NoSuchKey)));
        store.delete_object("artifacts", "a/../../b").await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_write_leaves_the_old_object_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("bkt", "111122223333").unwrap();
        store
            .put_object("bkt", "k", ObjectHeaders::default(), body(&[b"v1"]), BodyCheck::default(), now())
            .await
            .unwrap();
        let huge = BodyCheck { len: Some(MAX_UPLOAD_SIZE + 1), md5: None };
        let err = store.put_object("bkt", "k", ObjectHeaders::default(), body(&[b"v2"]), huge, now()).await;
        assert!(matches!(err, Err(StoreError::EntityTooLarge)));
        let short = store
            .put_object(
                "bkt",
                "k",
                ObjectHeaders::default(),
                body(&[b"v2"]),
                BodyCheck { len: Some(5), md5: None },
                now(),
            )
            .await;
        assert!(matches!(short, Err(StoreError::IncompleteBody)));
        let bad_md5 = store
            .put_object(
                "bkt",
                "k",
                ObjectHeaders::default(),
                body(&[b"v2"]),
                BodyCheck { len: None, md5: Some([0; 16]) },
                now(),
            )
            .await;
        assert!(matches!(bad_md5, Err(StoreError::BadDigest)));
        let broken = futures::stream::iter(vec![Ok(Bytes::from_static(b"v2")), Err(io::Error::other("reset"))]);
        let err = store.put_object("bkt", "k", ObjectHeaders::default(), broken, BodyCheck::default(), now()).await;
        assert!(matches!(err, Err(StoreError::IncompleteBody)));
        let mismatch = futures::stream::iter(vec![Ok(Bytes::from_static(b"v2")), Err(BoxError::from(DigestMismatch))]);
        let err = store.put_object("bkt", "k", ObjectHeaders::default(), mismatch, BodyCheck::default(), now()).await;
        assert!(matches!(err, Err(StoreError::BadDigest)));
        let (meta, content) = store.get_object("bkt", "k").await.unwrap();
        assert_eq!(read_all(content.stream(0..meta.size).await.unwrap()).await, b"v1");
        assert_eq!(fs::read_dir(dir.path().join("buckets/bkt/tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn leftovers_of_a_crash_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("bkt", "111122223333").unwrap();
        fs::write(dir.path().join("buckets/bkt/tmp/half"), b"half an object").unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path().join("buckets/bkt/tmp")).unwrap().count(), 0);
        assert_eq!(store.bucket_owner("bkt").unwrap().as_deref(), Some("111122223333"));
    }

    #[test]
    fn buckets_have_one_owner() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("shared", "111122223333").unwrap();
        store.ensure_bucket("shared", "111122223333").unwrap();
        assert!(matches!(
            store.ensure_bucket("shared", "444455556666"),
            Err(StoreError::BucketExists { owner }) if owner == "111122223333"
        ));
        assert!(matches!(store.ensure_bucket("Bad_Name", "1"), Err(StoreError::InvalidBucketName)));
        assert_eq!(store.bucket_owner("missing").unwrap(), None);
        assert_eq!(store.list_buckets().unwrap().len(), 1);
        store.delete_bucket("shared").unwrap();
        assert_eq!(store.bucket_owner("shared").unwrap(), None);
    }

    #[tokio::test]
    async fn listing_pages_and_groups_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("bkt", "1").unwrap();
        for key in ["a/1", "a/2", "b", "c/x/1", "c/y", "d"] {
            store
                .put_object("bkt", key, ObjectHeaders::default(), body(&[b"x"]), BodyCheck::default(), now())
                .await
                .unwrap();
        }
        let all = store.list_objects("bkt", ListQuery { max_keys: 1000, ..Default::default() }).await.unwrap();
        let keys: Vec<_> = all.objects.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        assert_eq!(all.next_marker, None);
        let q = ListQuery { delimiter: Some("/".into()), max_keys: 2, ..Default::default() };
        let p1 = store.list_objects("bkt", q.clone()).await.unwrap();
        assert_eq!(p1.common_prefixes, ["a/"]);
        assert_eq!(p1.objects.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(p1.next_marker.as_deref(), Some("b"));
        let p2 = store.list_objects("bkt", ListQuery { after: p1.next_marker, ..q.clone() }).await.unwrap();
        assert_eq!(p2.common_prefixes, ["c/"]);
        assert_eq!(p2.objects.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["d"]);
        assert_eq!(p2.next_marker, None);
        let p = store
            .list_objects(
                "bkt",
                ListQuery { prefix: "c/".into(), delimiter: Some("/".into()), max_keys: 10, after: None },
            )
            .await
            .unwrap();
        assert_eq!(p.common_prefixes, ["c/x/"]);
        assert_eq!(p.objects.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["c/y"]);
    }

    #[tokio::test]
    async fn multipart_uploads_join_parts_with_aws_etag() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("bkt", "1").unwrap();
        let id = store.create_multipart_upload("bkt", "big", ObjectHeaders::default(), now()).unwrap();
        let big: &'static [u8] = Box::leak(vec![b'a'; MIN_PART_SIZE as usize].into_boxed_slice());
        let p1 = store.upload_part("bkt", "big", &id, 1, body(&[big]), BodyCheck::default(), now()).await.unwrap();
        let p2 = store.upload_part("bkt", "big", &id, 2, body(&[b"tail"]), BodyCheck::default(), now()).await.unwrap();
        assert!(matches!(
            store.upload_part("bkt", "other", &id, 3, body(&[b"x"]), BodyCheck::default(), now()).await,
            Err(StoreError::NoSuchUpload)
        ));
        assert!(matches!(
            store.upload_part("bkt", "big", &id, 0, body(&[b"x"]), BodyCheck::default(), now()).await,
            Err(StoreError::InvalidArgument(_))
        ));
        assert!(matches!(
            store
                .complete_multipart_upload("bkt", "big", &id, vec![(2, p2.etag.clone()), (1, p1.etag.clone())], now())
                .await,
            Err(StoreError::InvalidPartOrder)
        ));
        assert!(matches!(
            store.complete_multipart_upload("bkt", "big", &id, vec![(1, p2.etag.clone())], now()).await,
            Err(StoreError::InvalidPart)
        ));
        assert!(matches!(
            store
                .complete_multipart_upload("bkt", "big", &id, vec![(2, p2.etag.clone()), (3, p2.etag.clone())], now())
                .await,
            Err(StoreError::InvalidPartOrder | StoreError::InvalidPart | StoreError::EntityTooSmall)
        ));
        // Refused just before it becomes visible: nothing published, nothing left in tmp/,
        // the upload still there.
        let parts = vec![(1, format!("\"{}\"", p1.etag)), (2, p2.etag.clone())];
        let refused =
            store.complete_multipart_upload_if("bkt", "big", &id, parts.clone(), now(), Box::new(|| false)).await;
        assert!(matches!(refused, Err(StoreError::WriteRefused)));
        assert!(matches!(store.head_object("bkt", "big").await, Err(StoreError::NoSuchKey)));
        assert_eq!(fs::read_dir(dir.path().join("buckets/bkt/tmp")).unwrap().count(), 0);
        let meta = store.complete_multipart_upload("bkt", "big", &id, parts, now()).await.unwrap();
        let mut md5s = Md5::new();
        md5s.update(Md5::digest(big));
        md5s.update(Md5::digest(b"tail"));
        let expected = format!("{}-2", hex_simd::encode_to_string(md5s.finalize(), hex_simd::AsciiCase::Lower));
        assert_eq!(meta.etag, expected);
        assert_eq!(meta.size, MIN_PART_SIZE + 4);
        let (_, tail) = store.get_object("bkt", "big").await.unwrap();
        let tail = tail.stream(MIN_PART_SIZE - 1..MIN_PART_SIZE + 4).await.unwrap();
        assert_eq!(read_all(tail).await, b"atail");
        assert!(matches!(store.abort_multipart_upload("bkt", "big", &id), Err(StoreError::NoSuchUpload)));
        assert!(matches!(store.abort_multipart_upload("bkt", "big", "../../x"), Err(StoreError::NoSuchUpload)));
    }

    #[tokio::test]
    async fn small_parts_before_the_last_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("bkt", "1").unwrap();
        let id = store.create_multipart_upload("bkt", "k", ObjectHeaders::default(), now()).unwrap();
        let p1 = store.upload_part("bkt", "k", &id, 1, body(&[b"small"]), BodyCheck::default(), now()).await.unwrap();
        let p2 = store.upload_part("bkt", "k", &id, 2, body(&[b"tail"]), BodyCheck::default(), now()).await.unwrap();
        assert!(matches!(
            store.complete_multipart_upload("bkt", "k", &id, vec![(1, p1.etag), (2, p2.etag)], now()).await,
            Err(StoreError::EntityTooSmall)
        ));
        store.abort_multipart_upload("bkt", "k", &id).unwrap();
        assert!(matches!(store.head_object("bkt", "k").await, Err(StoreError::NoSuchKey)));
    }
}
