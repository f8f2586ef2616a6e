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

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{
    ArtifactBackend, Body, BodyCheck, BucketInfo, ContentStream, ListQuery, Listing, ObjectHeaders, ObjectMeta,
    ObjectReader, OpenContent, StoreError, Tally, UploadRecord, check_part_number, check_parts, check_upload_id,
    etag_of, multipart_etag, paginate, unix_ms,
};
use crate::credentials::random_hex;
use crate::private;

const MAGIC: &[u8; 8] = b"CPJART\x00\x01";
const TRAILER_LEN: u64 = 16;

/// The directory-backed store. Cloning shares it.
#[derive(Debug, Clone)]
pub struct DiskBackend {
    root: Arc<PathBuf>,
}

impl DiskBackend {
    /// Opens (creating if needed) the store at `root`, removing what a crash left in `tmp/`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<DiskBackend> {
        let root = root.into();
        private::new_dir_all(&root.join("buckets"))?;
        reset_dir(&root.join("tmp"))?;
        for entry in fs::read_dir(root.join("buckets"))? {
            let dir = entry?.path();
            if dir.join("bucket.json").is_file() {
                reset_dir(&dir.join("tmp"))?;
            }
        }
        Ok(DiskBackend { root: Arc::new(root) })
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
        check_upload_id(upload_id)?;
        Ok(self.bucket_dir(bucket).join("uploads").join(upload_id))
    }

    fn bucket_info_now(&self, bucket: &str) -> io::Result<Option<BucketInfo>> {
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
        self.bucket_info_now(bucket)?.ok_or(StoreError::NoSuchBucket)
    }

    fn create_bucket_now(&self, bucket: &str, owner: &str, now: SystemTime) -> Result<BucketInfo, StoreError> {
        if !s3s::path::check_bucket_name(bucket) {
            return Err(StoreError::InvalidBucketName);
        }
        if let Some(info) = self.bucket_info_now(bucket)? {
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
                match self.bucket_info_now(bucket)? {
                    Some(existing) => Err(StoreError::BucketExists { owner: existing.owner }),
                    None => Err(e.into()),
                }
            }
        }
    }

    fn list_buckets_now(&self) -> io::Result<Vec<BucketInfo>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("buckets"))? {
            let name = entry?.file_name();
            if let Some(info) = name.to_str().map(|n| self.bucket_info_now(n)).transpose()?.flatten() {
                out.push(info);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn delete_bucket_now(&self, bucket: &str) -> Result<(), StoreError> {
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

    async fn open_object(&self, bucket: &str, key: &str) -> Result<(File, ObjectMeta), StoreError> {
        self.require_bucket(bucket)?;
        let path = self.object_path(bucket, key);
        offload(move || match File::open(&path) {
            Ok(mut f) => {
                let meta = read_trailer(&mut f)?;
                Ok((f, meta))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoSuchKey),
            Err(e) => Err(e.into()),
        })
        .await
    }

    fn copy_object_now(
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

    fn list_objects_now(&self, bucket: &str, query: &ListQuery) -> Result<Listing, StoreError> {
        self.require_bucket(bucket)?;
        let mut metas = Vec::new();
        for entry in fs::read_dir(self.bucket_dir(bucket).join("objects"))? {
            let path = entry?.path();
            // An object deleted while we list is simply not listed.
            let mut f = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let meta = read_trailer(&mut f)?;
            if meta.key.starts_with(&query.prefix) {
                metas.push((meta.key.clone(), meta));
            }
        }
        metas.sort_by(|a, b| a.0.cmp(&b.0));
        let page = paginate(metas, query);
        Ok(Listing {
            objects: page.objects.into_iter().map(|(_, m)| m).collect(),
            common_prefixes: page.common_prefixes,
            next_marker: page.next_marker,
        })
    }

    fn create_multipart_upload_now(
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

    fn abort_multipart_upload_now(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let (dir, _) = self.upload_record(bucket, key, upload_id)?;
        // Renamed away first so a concurrent UploadPart cannot land in a half-removed upload.
        let trash = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        fs::rename(&dir, &trash)?;
        fs::remove_dir_all(&trash)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ArtifactBackend for DiskBackend {
    async fn bucket_info(&self, bucket: &str) -> Result<Option<BucketInfo>, StoreError> {
        // One small read: cheaper inline than a trip to the blocking pool.
        Ok(self.bucket_info_now(bucket)?)
    }

    async fn create_bucket(&self, bucket: &str, owner: &str, now: SystemTime) -> Result<BucketInfo, StoreError> {
        let (this, bucket, owner) = (self.clone(), bucket.to_owned(), owner.to_owned());
        offload(move || this.create_bucket_now(&bucket, &owner, now)).await
    }

    async fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError> {
        let this = self.clone();
        offload(move || Ok(this.list_buckets_now()?)).await
    }

    async fn delete_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        let (this, bucket) = (self.clone(), bucket.to_owned());
        offload(move || this.delete_bucket_now(&bucket)).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        body: Body,
        check: BodyCheck,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        self.require_bucket(bucket)?;
        let tmp = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        let meta_for = |size, md5: [u8; 16]| ObjectMeta {
            key: key.to_owned(),
            size,
            etag: etag_of(md5),
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
        offload(move || publish(&tmp, &dest)).await?;
        Ok(meta)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, ObjectReader), StoreError> {
        // Metadata and content come from one open file, so they agree even if the
        // object is replaced meanwhile.
        let (file, meta) = self.open_object(bucket, key).await?;
        Ok((meta, ObjectReader(Box::new(OpenFile { file }))))
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let (_, meta) = self.open_object(bucket, key).await?;
        Ok(meta)
    }

    async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        let this = self.clone();
        let names = [src_bucket, src_key, dst_bucket, dst_key].map(str::to_owned);
        offload(move || this.copy_object_now(&names[0], &names[1], &names[2], &names[3], now)).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.require_bucket(bucket)?;
        let path = self.object_path(bucket, key);
        let dir = self.bucket_dir(bucket).join("objects");
        offload(move || match fs::remove_file(&path) {
            Ok(()) => Ok(sync_dir(&dir)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        })
        .await
    }

    async fn list_objects(&self, bucket: &str, query: ListQuery) -> Result<Listing, StoreError> {
        let (this, bucket) = (self.clone(), bucket.to_owned());
        offload(move || this.list_objects_now(&bucket, &query)).await
    }

    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        now: SystemTime,
    ) -> Result<String, StoreError> {
        let (this, bucket, key) = (self.clone(), bucket.to_owned(), key.to_owned());
        offload(move || this.create_multipart_upload_now(&bucket, &key, headers, now)).await
    }

    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: Body,
        check: BodyCheck,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        check_part_number(part_number)?;
        let (dir, _) = self.upload_record(bucket, key, upload_id)?;
        let tmp = self.bucket_dir(bucket).join("tmp").join(random_hex(16)?);
        let meta_for = |size, md5: [u8; 16]| ObjectMeta {
            key: String::new(),
            size,
            etag: etag_of(md5),
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
        offload(move || {
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

    async fn complete_multipart_upload(
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
        offload(move || {
            let mut opened = std::collections::HashMap::new();
            for (number, _) in &parts {
                match File::open(dir.join(part_file(*number))) {
                    Ok(mut f) => {
                        let meta = read_trailer(&mut f)?;
                        opened.insert(*number, (meta, f));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let mut files = check_parts(&parts, |n| opened.remove(&n))?;
            let result = (|| -> Result<ObjectMeta, StoreError> {
                let mut out = io::BufWriter::with_capacity(1 << 20, private::new_file(&tmp)?);
                let mut size = 0u64;
                for (meta, f) in &mut files {
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
                    etag: multipart_etag(files.iter().map(|(m, _)| m.etag.as_str()))?,
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

    async fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let (this, bucket, key, upload_id) = (self.clone(), bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        offload(move || this.abort_multipart_upload_now(&bucket, &key, &upload_id)).await
    }
}

/// An object file, open: its content stays readable even if the object is replaced.
#[derive(Debug)]
struct OpenFile {
    file: File,
}

impl OpenContent for OpenFile {
    fn open(self: Box<Self>, range: std::ops::Range<u64>) -> BoxFuture<'static, Result<ContentStream, StoreError>> {
        let mut file = self.file;
        Box::pin(async move {
            let start = range.start;
            let file = offload(move || {
                file.seek(SeekFrom::Start(start))?;
                Ok(file)
            })
            .await?;
            let len = range.end.saturating_sub(range.start);
            let chunks = file_chunks(tokio::fs::File::from_std(file), len);
            Ok(ContentStream::new(chunks, len))
        })
    }
}

/// The file's next `len` bytes, in chunks of up to 256 KiB.
fn file_chunks(file: tokio::fs::File, len: u64) -> futures::stream::BoxStream<'static, io::Result<Bytes>> {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left.min(256 * 1024)).unwrap_or(256 * 1024);
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            // The content stream reports a file shorter than its metadata.
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    })
    .boxed()
}

/// Streams `body` into a new file at `tmp`, then appends the metadata trailer and syncs.
async fn write_streamed(
    tmp: &Path,
    mut body: Body,
    check: BodyCheck,
    meta_for: impl FnOnce(u64, [u8; 16]) -> ObjectMeta,
) -> Result<ObjectMeta, StoreError> {
    // Refused before reading a byte when announced, and as soon as it is exceeded otherwise.
    let mut tally = Tally::start(&check)?;
    let file = private::new_file_async(tmp).await?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    while let Some(chunk) = body.next().await {
        let chunk = tally.take(chunk)?;
        out.write_all(&chunk).await?;
    }
    let (size, digest) = tally.finish(&check)?;
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

/// Runs disk work that fsyncs or walks directories on the runtime's blocking pool, off
/// the threads that serve requests; without a runtime (a plain executor on a domain
/// thread), right here.
async fn offload<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => rt.spawn_blocking(f).await.map_err(|e| StoreError::Io(io::Error::other(e)))?,
        Err(_) => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ArtifactStore;

    fn body(chunks: &[&'static [u8]]) -> Body {
        futures::stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect::<Vec<_>>()).boxed()
    }

    fn now() -> SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000)
    }

    #[tokio::test]
    async fn keys_stay_inside_their_bucket_and_refused_writes_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBackend::open(dir.path()).unwrap();
        store.create_bucket("bkt", "1", now()).await.unwrap();
        let none = ObjectHeaders::default;
        store.put_object("bkt", "a/../../b", none(), body(&[b"v1"]), BodyCheck::default(), now()).await.unwrap();
        assert_eq!(fs::read_dir(dir.path().join("buckets/bkt/objects")).unwrap().count(), 1);
        let short = BodyCheck { len: Some(5), md5: None };
        assert!(store.put_object("bkt", "k", none(), body(&[b"v2"]), short, now()).await.is_err());
        let id = store.create_multipart_upload("bkt", "big", none(), now()).await.unwrap();
        let part = store.upload_part("bkt", "big", &id, 1, body(&[b"x"]), BodyCheck::default(), now()).await.unwrap();
        let refused =
            store.complete_multipart_upload("bkt", "big", &id, vec![(1, part.etag)], now(), Box::new(|| false));
        assert!(matches!(refused.await, Err(StoreError::WriteRefused)));
        assert_eq!(fs::read_dir(dir.path().join("buckets/bkt/tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn leftovers_of_a_crash_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        store.ensure_bucket("bkt", "111122223333").await.unwrap();
        fs::write(dir.path().join("buckets/bkt/tmp/half"), b"half an object").unwrap();
        let store = ArtifactStore::open(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path().join("buckets/bkt/tmp")).unwrap().count(), 0);
        assert_eq!(store.bucket_owner("bkt").await.unwrap().as_deref(), Some("111122223333"));
    }

    #[tokio::test]
    async fn a_truncated_object_file_is_an_error_not_a_short_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBackend::open(dir.path()).unwrap();
        store.create_bucket("bkt", "1", now()).await.unwrap();
        store
            .put_object("bkt", "k", ObjectHeaders::default(), body(&[b"hello"]), BodyCheck::default(), now())
            .await
            .unwrap();
        let path = store.object_path("bkt", "k");
        let (_, reader) = store.get_object("bkt", "k").await.unwrap();
        // Cut while open: the reader reads what the file holds, and says it ended early.
        fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(2).unwrap();
        let mut s = reader.stream(0..5).await.unwrap();
        let mut got = Vec::new();
        let mut failed = false;
        while let Some(c) = s.next().await {
            match c {
                Ok(c) => got.extend_from_slice(&c),
                Err(_) => failed = true,
            }
        }
        assert!(failed && got.len() < 5, "{got:?}");
        assert!(matches!(store.head_object("bkt", "k").await, Err(StoreError::Io(_))));
    }
}
