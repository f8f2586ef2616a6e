//! The artifact store in a shared S3-compatible object store (AWS S3, MinIO, Ceph
//! RGW, Garage), so that several service nodes serve the same buckets: a part
//! uploaded through one node is completed through another.
//!
//! Client: the `object_store` crate (Apache Arrow's), with its S3 support only. It
//! is well kept, signs with `ring` (no C build), retries with backoff, bounds every
//! request in time, and speaks GCS and Azure too should they be wanted; the AWS SDK
//! would add minutes of cold build for the handful of calls needed here.
//!
//! Layout under `<prefix>/` in the backend's bucket (every record is JSON):
//!
//! ```text
//! buckets/<name>                       owner account and creation time
//! objects/<name>/<encoded key>         the object's metadata and the data it is made of
//! uploads/<name>/<upload id>/record    a multipart upload's key and headers
//! uploads/<name>/<upload id>/<NNNNN>   one uploaded part: its metadata and its data
//! data/<random id>                     content, written once, never changed
//! ```
//!
//! Content goes to a fresh `data/` object first; the record that makes it visible is
//! written after, in one PUT, which the backend applies whole: readers see the old
//! object or the new one, never half of one. A multipart object's record lists its
//! parts' data in order, so completing an upload copies nothing, on whichever node.
//! Data no record names any more (replaced, deleted, aborted) is deleted after the
//! record changes; a reader still streaming it gets an error and tries again.
//! Buckets are created with a conditional PUT (`If-None-Match: *`): of two nodes
//! creating one, exactly one wins.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    ArtifactBackend, Body, BodyCheck, BucketInfo, ListQuery, Listing, ObjectHeaders, ObjectMeta, ObjectReader,
    StoreError, Tally, UploadRecord, check_part_number, check_parts, check_upload_id, etag_of, multipart_etag,
    paginate, unix_ms,
};
use crate::credentials::random_hex;

mod read;
mod wire;

use read::RemoteContent;
use wire::{backend_error, decode_key, encode_key, install_tls_provider, is_missing_object};

/// Bodies up to this size go to the backend in one PUT; larger ones in parts of this
/// size (S3 wants at least 5 MiB for every part but the last).
const CHUNK: usize = 8 * 1024 * 1024;
/// The longest object name S3 takes; an encoded key that would not fit is refused.
const MAX_BACKEND_KEY: usize = 1024;
/// How many records a listing reads at once.
const LIST_READS: usize = 16;

/// Where the shared store is and how to reach it (the `[artifacts]` settings).
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    /// The S3 endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio:9000`.
    pub endpoint: String,
    /// The region requests are signed for.
    pub region: String,
    /// The backend bucket every node shares (it must exist).
    pub bucket: String,
    /// Where under the bucket the store lives (may be empty).
    pub prefix: String,
    /// Explicit credentials; `None`: the AWS default chain from the environment
    /// (`AWS_ACCESS_KEY_ID`..., web identity, container or instance credentials).
    pub credentials: Option<(String, String)>,
    /// How long one request to the backend may take, body included.
    pub request_timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long a call may spend retrying before it answers `Unavailable`.
    pub retry_timeout: Duration,
}

impl std::fmt::Debug for RemoteSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSettings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("credentials", &self.credentials.as_ref().map(|(id, _)| (id, "***")))
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl RemoteSettings {
    /// Settings with the default timeouts (30 s a request, 5 s to connect, 15 s of retries).
    pub fn new(endpoint: &str, region: &str, bucket: &str) -> RemoteSettings {
        RemoteSettings {
            endpoint: endpoint.to_owned(),
            region: region.to_owned(),
            bucket: bucket.to_owned(),
            prefix: String::new(),
            credentials: None,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retry_timeout: Duration::from_secs(15),
        }
    }
}

/// A record of one object: what it is, and the data it is made of, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ObjectRecord {
    meta: ObjectMeta,
    data: Vec<DataRef>,
}

/// One written `data/` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DataRef {
    id: String,
    size: u64,
}

/// A record of one uploaded part.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartRecord {
    meta: ObjectMeta,
    data: DataRef,
}

/// The store in a shared S3-compatible bucket. Cloning shares the client.
#[derive(Debug, Clone)]
pub struct RemoteBackend {
    store: Arc<dyn ObjectStore>,
    root: Path,
}

impl RemoteBackend {
    /// A client for `settings`. Nothing is sent until the first call; see
    /// [`RemoteBackend::check`] to find out at start-up whether the store answers.
    pub fn new(settings: &RemoteSettings) -> Result<RemoteBackend, String> {
        install_tls_provider();
        let mut builder = match &settings.credentials {
            Some((id, secret)) => {
                AmazonS3Builder::new().with_access_key_id(id.as_str()).with_secret_access_key(secret.as_str())
            }
            None => AmazonS3Builder::from_env(),
        };
        let http = settings.endpoint.starts_with("http://");
        builder = builder
            .with_endpoint(settings.endpoint.as_str())
            .with_region(settings.region.as_str())
            .with_bucket_name(settings.bucket.as_str())
            // Path-style requests: what MinIO, Ceph and Garage expect by default, and AWS accepts.
            .with_virtual_hosted_style_request(false)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(http)
                    .with_timeout(settings.request_timeout)
                    .with_connect_timeout(settings.connect_timeout),
            )
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: settings.retry_timeout,
                ..RetryConfig::default()
            });
        let store = builder.build().map_err(|e| format!("the [artifacts] S3 settings are refused: {e}"))?;
        Ok(RemoteBackend { store: Arc::new(store), root: Path::from(settings.prefix.as_str()) })
    }

    /// Whether the backend answers and its bucket can be listed (a start-up check, so a
    /// node with a wrong endpoint, bucket or key says so before serving).
    pub async fn check(&self) -> Result<(), StoreError> {
        let mut names = self.store.list(Some(&self.path(&["buckets"])));
        match names.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(backend_error("listing the artifact buckets", e)),
        }
    }

    fn path(&self, parts: &[&str]) -> Path {
        let mut path = self.root.clone();
        for part in parts {
            path = path.clone().join(*part);
        }
        path
    }

    fn bucket_path(&self, bucket: &str) -> Path {
        self.path(&["buckets", bucket])
    }

    fn objects_dir(&self, bucket: &str) -> Path {
        self.path(&["objects", bucket])
    }

    fn object_path(&self, bucket: &str, key: &str) -> Result<Path, StoreError> {
        let encoded = encode_key(key);
        if encoded.len() + self.objects_dir(bucket).as_ref().len() + 1 > MAX_BACKEND_KEY {
            return Err(StoreError::KeyTooLong);
        }
        Ok(self.objects_dir(bucket).join(encoded.as_str()))
    }

    fn upload_dir(&self, bucket: &str, upload_id: &str) -> Result<Path, StoreError> {
        check_upload_id(upload_id)?;
        Ok(self.path(&["uploads", bucket, upload_id]))
    }

    fn data_path(&self, id: &str) -> Path {
        self.path(&["data", id])
    }

    async fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, StoreError> {
        let bytes = match self.store.get(path).await {
            Ok(r) => r.bytes().await.map_err(|e| backend_error("reading a record", e))?,
            Err(e) if is_missing_object(&e) => return Ok(None),
            Err(e) => return Err(backend_error("reading a record", e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Backend(format!("the record {path} is unreadable: {e}")))
    }

    async fn write_json<T: Serialize>(&self, path: &Path, value: &T, mode: PutMode) -> Result<(), StoreError> {
        let json = serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()))?;
        let opts = PutOptions { mode, ..PutOptions::default() };
        self.store.put_opts(path, PutPayload::from(json), opts).await.map(|_| ()).map_err(|e| match e {
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
                StoreError::BucketExists { owner: String::new() }
            }
            e => backend_error("writing a record", e),
        })
    }

    async fn require_bucket(&self, bucket: &str) -> Result<BucketInfo, StoreError> {
        self.bucket_info(bucket).await?.ok_or(StoreError::NoSuchBucket)
    }

    /// Deletes what no record names any more. A failure leaves garbage, not damage: it
    /// is logged, not answered.
    async fn forget(&self, data: impl IntoIterator<Item = DataRef>) {
        for d in data {
            if let Err(e) = self.store.delete(&self.data_path(&d.id)).await
                && !is_missing_object(&e)
            {
                tracing::warn!(error = %e, data = %d.id, "an unused artifact data object was not deleted");
            }
        }
    }

    /// Streams `body` into a new `data/` object, checking it against `check`; nothing is
    /// written if the body breaks its promises (a large body's upload is aborted).
    async fn write_data(&self, mut body: Body, check: BodyCheck) -> Result<(DataRef, [u8; 16]), StoreError> {
        let mut tally = Tally::start(&check)?;
        let id = random_hex(16)?;
        let path = self.data_path(&id);
        let mut first = Vec::new();
        let mut buffered = 0usize;
        let mut ended = false;
        while buffered < CHUNK {
            match body.next().await {
                Some(chunk) => {
                    let chunk = tally.take(chunk)?;
                    buffered += chunk.len();
                    first.push(chunk);
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            let (size, md5) = tally.finish(&check)?;
            let payload: PutPayload = first.into_iter().collect();
            self.store.put(&path, payload).await.map_err(|e| backend_error("writing artifact data", e))?;
            return Ok((DataRef { id, size }, md5));
        }
        let upload =
            self.store.put_multipart(&path).await.map_err(|e| backend_error("starting an artifact data upload", e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        for chunk in first {
            writer.put(chunk);
        }
        let streamed: Result<(u64, [u8; 16]), StoreError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = tally.take(chunk)?;
                // At most two parts in flight: memory stays bounded whatever the body's size.
                writer.wait_for_capacity(2).await.map_err(|e| backend_error("writing artifact data", e))?;
                writer.put(chunk);
            }
            tally.finish(&check)
        }
        .await;
        match streamed {
            Ok((size, md5)) => {
                writer.finish().await.map_err(|e| backend_error("finishing an artifact data upload", e))?;
                Ok((DataRef { id, size }, md5))
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "an abandoned artifact data upload was not aborted");
                }
                Err(e)
            }
        }
    }

    async fn object_record(&self, bucket: &str, key: &str) -> Result<ObjectRecord, StoreError> {
        self.require_bucket(bucket).await?;
        self.read_json(&self.object_path(bucket, key)?).await?.ok_or(StoreError::NoSuchKey)
    }

    /// Writes an object's record (making it visible), then forgets the data of the
    /// object it replaced.
    async fn publish(&self, bucket: &str, key: &str, record: &ObjectRecord) -> Result<(), StoreError> {
        let path = self.object_path(bucket, key)?;
        let old: Option<ObjectRecord> = self.read_json(&path).await?;
        self.write_json(&path, record, PutMode::Overwrite).await?;
        if let Some(old) = old {
            self.forget(old.data.into_iter().filter(|d| !record.data.contains(d))).await;
        }
        Ok(())
    }

    async fn upload_record(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(Path, UploadRecord), StoreError> {
        self.require_bucket(bucket).await?;
        let dir = self.upload_dir(bucket, upload_id)?;
        let record: UploadRecord =
            self.read_json(&dir.clone().join("record")).await?.ok_or(StoreError::NoSuchUpload)?;
        // An upload id used with another key is, for S3, an upload that does not exist.
        if record.key != key {
            return Err(StoreError::NoSuchUpload);
        }
        Ok((dir, record))
    }

    /// The parts uploaded so far, by number.
    async fn parts_of(&self, dir: &Path) -> Result<Vec<(i32, Path)>, StoreError> {
        let names: Vec<_> =
            self.store.list(Some(dir)).try_collect().await.map_err(|e| backend_error("listing upload parts", e))?;
        Ok(names
            .into_iter()
            .filter_map(|m| {
                let number = m.location.filename()?.parse::<i32>().ok()?;
                Some((number, m.location))
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl ArtifactBackend for RemoteBackend {
    async fn bucket_info(&self, bucket: &str) -> Result<Option<BucketInfo>, StoreError> {
        if !s3s::path::check_bucket_name(bucket) {
            return Ok(None);
        }
        self.read_json(&self.bucket_path(bucket)).await
    }

    async fn create_bucket(&self, bucket: &str, owner: &str, now: SystemTime) -> Result<BucketInfo, StoreError> {
        if !s3s::path::check_bucket_name(bucket) {
            return Err(StoreError::InvalidBucketName);
        }
        if let Some(info) = self.bucket_info(bucket).await? {
            return Err(StoreError::BucketExists { owner: info.owner });
        }
        let info = BucketInfo { name: bucket.to_owned(), owner: owner.to_owned(), created_ms: unix_ms(now) };
        match self.write_json(&self.bucket_path(bucket), &info, PutMode::Create).await {
            Ok(()) => Ok(info),
            // Another node created it meanwhile: its owner is the owner.
            Err(StoreError::BucketExists { .. }) => match self.bucket_info(bucket).await? {
                Some(existing) => Err(StoreError::BucketExists { owner: existing.owner }),
                None => Err(StoreError::Unavailable(format!("the bucket {bucket} was created and deleted meanwhile"))),
            },
            Err(e) => Err(e),
        }
    }

    async fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError> {
        let names: Vec<_> = self
            .store
            .list(Some(&self.path(&["buckets"])))
            .try_collect()
            .await
            .map_err(|e| backend_error("listing the artifact buckets", e))?;
        let mut out = Vec::new();
        for m in names {
            if let Some(info) = self.read_json::<BucketInfo>(&m.location).await? {
                out.push(info);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn delete_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        self.require_bucket(bucket).await?;
        let mut objects = self.store.list(Some(&self.objects_dir(bucket)));
        if let Some(first) = objects.next().await {
            first.map_err(|e| backend_error("listing a bucket", e))?;
            return Err(StoreError::BucketNotEmpty);
        }
        // The bucket disappears in one step; its pending uploads go after it.
        match self.store.delete(&self.bucket_path(bucket)).await {
            Ok(()) => {}
            Err(e) if is_missing_object(&e) => return Err(StoreError::NoSuchBucket),
            Err(e) => return Err(backend_error("deleting a bucket", e)),
        }
        let uploads: Vec<_> = self
            .store
            .list(Some(&self.path(&["uploads", bucket])))
            .try_collect()
            .await
            .map_err(|e| backend_error("listing a bucket's uploads", e))?;
        for m in uploads {
            if let Ok(Some(part)) = self.read_json::<PartRecord>(&m.location).await {
                self.forget([part.data]).await;
            }
            let _ = self.store.delete(&m.location).await;
        }
        Ok(())
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
        self.require_bucket(bucket).await?;
        self.object_path(bucket, key)?;
        let (data, md5) = self.write_data(body, check).await?;
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: data.size,
            etag: etag_of(md5),
            last_modified_ms: unix_ms(now),
            parts: None,
            headers,
        };
        let record = ObjectRecord { meta: meta.clone(), data: vec![data.clone()] };
        if let Err(e) = self.publish(bucket, key, &record).await {
            self.forget([data]).await;
            return Err(e);
        }
        Ok(meta)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, ObjectReader), StoreError> {
        let record = self.object_record(bucket, key).await?;
        let data = record.data.iter().map(|d| (self.data_path(&d.id), d.size)).collect();
        Ok((record.meta, ObjectReader(Box::new(RemoteContent { store: self.store.clone(), data }))))
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        Ok(self.object_record(bucket, key).await?.meta)
    }

    async fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        now: SystemTime,
    ) -> Result<ObjectMeta, StoreError> {
        self.require_bucket(dst_bucket).await?;
        let source = self.object_record(src_bucket, src_key).await?;
        self.object_path(dst_bucket, dst_key)?;
        // Copied inside the backend: the content does not pass through this node.
        let mut data = Vec::with_capacity(source.data.len());
        for d in &source.data {
            let copy = DataRef { id: random_hex(16)?, size: d.size };
            if let Err(e) = self.store.copy(&self.data_path(&d.id), &self.data_path(&copy.id)).await {
                self.forget(data).await;
                return Err(if is_missing_object(&e) {
                    StoreError::NoSuchKey
                } else {
                    backend_error("copying artifact data", e)
                });
            }
            data.push(copy);
        }
        let meta = ObjectMeta { key: dst_key.to_owned(), last_modified_ms: unix_ms(now), ..source.meta };
        let record = ObjectRecord { meta: meta.clone(), data: data.clone() };
        if let Err(e) = self.publish(dst_bucket, dst_key, &record).await {
            self.forget(data).await;
            return Err(e);
        }
        Ok(meta)
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.require_bucket(bucket).await?;
        let path = self.object_path(bucket, key)?;
        let Some(record) = self.read_json::<ObjectRecord>(&path).await? else { return Ok(()) };
        match self.store.delete(&path).await {
            Ok(()) => {}
            Err(e) if is_missing_object(&e) => {}
            Err(e) => return Err(backend_error("deleting an object", e)),
        }
        self.forget(record.data).await;
        Ok(())
    }

    async fn list_objects(&self, bucket: &str, query: ListQuery) -> Result<Listing, StoreError> {
        self.require_bucket(bucket).await?;
        let names: Vec<_> = self
            .store
            .list(Some(&self.objects_dir(bucket)))
            .try_collect()
            .await
            .map_err(|e| backend_error("listing a bucket", e))?;
        let mut keys: Vec<(String, Path)> = names
            .into_iter()
            .filter_map(|m| {
                let key = decode_key(m.location.filename()?)?;
                key.starts_with(&query.prefix).then_some((key, m.location))
            })
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let page = paginate(keys, &query);
        // Only the page's own records are read, a few at a time.
        let records: Vec<Option<ObjectRecord>> = futures::stream::iter(page.objects)
            .map(|(_, path)| async move { self.read_json::<ObjectRecord>(&path).await })
            .buffered(LIST_READS)
            .try_collect()
            .await?;
        Ok(Listing {
            // An object deleted while we list is simply not listed.
            objects: records.into_iter().flatten().map(|r| r.meta).collect(),
            common_prefixes: page.common_prefixes,
            next_marker: page.next_marker,
        })
    }

    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        headers: ObjectHeaders,
        now: SystemTime,
    ) -> Result<String, StoreError> {
        self.require_bucket(bucket).await?;
        self.object_path(bucket, key)?;
        let upload_id = random_hex(16)?;
        let record = UploadRecord { key: key.to_owned(), headers, initiated_ms: unix_ms(now) };
        self.write_json(&self.upload_dir(bucket, &upload_id)?.join("record"), &record, PutMode::Overwrite).await?;
        Ok(upload_id)
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
        let (dir, _) = self.upload_record(bucket, key, upload_id).await?;
        let (data, md5) = self.write_data(body, check).await?;
        let meta = ObjectMeta {
            key: String::new(),
            size: data.size,
            etag: etag_of(md5),
            last_modified_ms: unix_ms(now),
            parts: None,
            headers: ObjectHeaders::default(),
        };
        let path = dir.clone().join(format!("{part_number:05}").as_str());
        let old: Option<PartRecord> = self.read_json(&path).await?;
        let record = PartRecord { meta: meta.clone(), data: data.clone() };
        if let Err(e) = self.write_json(&path, &record, PutMode::Overwrite).await {
            self.forget([data]).await;
            return Err(e);
        }
        if let Some(old) = old {
            self.forget([old.data]).await;
        }
        // Aborted or completed while the part was uploading: it belongs to nothing.
        if self.read_json::<UploadRecord>(&dir.clone().join("record")).await?.is_none() {
            let _ = self.store.delete(&path).await;
            self.forget([record.data]).await;
            return Err(StoreError::NoSuchUpload);
        }
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
        let (dir, record) = self.upload_record(bucket, key, upload_id).await?;
        let uploaded = self.parts_of(&dir).await?;
        let mut found = std::collections::HashMap::new();
        for (number, path) in &uploaded {
            if parts.iter().any(|(n, _)| n == number)
                && let Some(part) = self.read_json::<PartRecord>(path).await?
            {
                found.insert(*number, (part.meta, part.data));
            }
        }
        let chosen = check_parts(&parts, |n| found.remove(&n))?;
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: chosen.iter().map(|(m, _)| m.size).sum(),
            etag: multipart_etag(chosen.iter().map(|(m, _)| m.etag.as_str()))?,
            last_modified_ms: unix_ms(now),
            parts: Some(u32::try_from(chosen.len()).unwrap_or(u32::MAX)),
            headers: record.headers,
        };
        if !allowed() {
            return Err(StoreError::WriteRefused);
        }
        let object = ObjectRecord { meta: meta.clone(), data: chosen.into_iter().map(|(_, d)| d).collect() };
        self.publish(bucket, key, &object).await?;
        // The upload is over: its record first (no part lands in it any more), then
        // the records of its parts, and the data of parts the object left out.
        let _ = self.store.delete(&dir.clone().join("record")).await;
        for (_, path) in uploaded {
            if let Ok(Some(part)) = self.read_json::<PartRecord>(&path).await
                && !object.data.contains(&part.data)
            {
                self.forget([part.data]).await;
            }
            let _ = self.store.delete(&path).await;
        }
        Ok(meta)
    }

    async fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let (dir, _) = self.upload_record(bucket, key, upload_id).await?;
        match self.store.delete(&dir.clone().join("record")).await {
            Ok(()) => {}
            Err(e) if is_missing_object(&e) => return Err(StoreError::NoSuchUpload),
            Err(e) => return Err(backend_error("aborting an upload", e)),
        }
        for (_, path) in self.parts_of(&dir).await? {
            if let Some(part) = self.read_json::<PartRecord>(&path).await? {
                self.forget([part.data]).await;
            }
            let _ = self.store.delete(&path).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ArtifactStore;
    use crate::store::contract::moto_settings;

    /// What the disk store checks when it reads (the content is as long as recorded),
    /// the shared store checks too.
    #[tokio::test]
    async fn damaged_data_is_an_error_not_a_different_object() {
        let Some(settings) = moto_settings() else { return };
        let backend = RemoteBackend::new(&settings).unwrap();
        let store = ArtifactStore::new(Arc::new(backend.clone()));
        store.ensure_bucket("bkt", "1").await.unwrap();
        let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"hello world"))]);
        store
            .put_object("bkt", "k", ObjectHeaders::default(), body, BodyCheck::default(), SystemTime::now())
            .await
            .unwrap();
        let data: Vec<_> = backend.store.list(Some(&backend.path(&["data"]))).try_collect().await.unwrap();
        assert_eq!(data.len(), 1, "one data object for one object");
        backend.store.put(&data[0].location, PutPayload::from_static(b"hello")).await.unwrap();
        let (meta, reader) = store.get_object("bkt", "k").await.unwrap();
        assert_eq!(meta.size, 11);
        match reader.stream(0..11).await {
            Err(StoreError::Backend(cause)) => assert!(cause.contains("holds 5 bytes, its record says 11"), "{cause}"),
            other => panic!("damaged data is refused: {other:?}"),
        }
    }
}
