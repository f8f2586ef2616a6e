//! The S3 operations, mapped by s3s onto the artifact store (on disk or shared).
//!
//! Authorization has already happened when an operation runs ([`crate::access`]); the
//! caller it established is in the request's extensions, which the operations that
//! depend on who asks (ListBuckets, CreateBucket) read. Store errors become S3 errors
//! in exactly one place, [`s3_error`]; disk and backend errors are logged, never sent.

use std::time::SystemTime;

use futures::StreamExt;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use crate::access::{ArtifactAuth, Caller, JOB_FINISHED};
use crate::credentials::ArtifactGrant;
use crate::integrity::{Sent, Verified};
use crate::store::{ArtifactStore, BodyCheck, ListQuery, Listing, ObjectHeaders, ObjectMeta, StoreError, WriteRefused};

/// S3's page size limit for listings.
const MAX_KEYS: i32 = 1000;

pub(crate) struct ArtifactS3 {
    pub(crate) store: ArtifactStore,
    /// Its clock, and the job gate a PUT asks again when its body is in.
    pub(crate) auth: ArtifactAuth,
    /// Told of each object written.
    pub(crate) written: Option<std::sync::Arc<dyn crate::WriteHook>>,
}

impl ArtifactS3 {
    fn now(&self) -> SystemTime {
        self.auth.now()
    }

    /// Tells the write hook, if any, that `bucket`/`key` is now `meta`.
    fn tell(&self, bucket: &str, key: &str, meta: &ObjectMeta, by_job: bool) {
        if let Some(hook) = &self.written {
            let object = crate::WrittenObject {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                etag: meta.etag.clone(),
                by_job,
            };
            hook.written(&object);
        }
    }
}

/// A PUT body that asks the job gate once more when it ends, before the object is
/// synced and renamed into place: a PUT that began while its job ran, and whose body
/// is still coming in when the job gets its result, must not replace the output after
/// the result (a trickled upload would otherwise swap an approved build).
struct GatedBody<S> {
    inner: S,
    gate: Option<(ArtifactAuth, ArtifactGrant)>,
}

impl<S> futures::Stream for GatedBody<S>
where
    S: futures::Stream<Item = Result<bytes::Bytes, s3s::StdError>> + Unpin,
{
    type Item = Result<bytes::Bytes, s3s::StdError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let item = std::task::ready!(self.inner.poll_next_unpin(cx));
        if item.is_none()
            && let Some((auth, grant)) = self.gate.take()
            && auth.job_may_write(&grant).is_err()
        {
            return std::task::Poll::Ready(Some(Err(Box::new(WriteRefused))));
        }
        std::task::Poll::Ready(item)
    }
}

pub(crate) fn s3_error(e: StoreError) -> S3Error {
    let code = match e {
        StoreError::NoSuchBucket => S3ErrorCode::NoSuchBucket,
        StoreError::NoSuchKey => S3ErrorCode::NoSuchKey,
        StoreError::NoSuchUpload => S3ErrorCode::NoSuchUpload,
        StoreError::BucketExists { .. } => S3ErrorCode::BucketAlreadyExists,
        StoreError::BucketNotEmpty => S3ErrorCode::BucketNotEmpty,
        StoreError::InvalidBucketName => S3ErrorCode::InvalidBucketName,
        StoreError::InvalidPart => S3ErrorCode::InvalidPart,
        StoreError::InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
        StoreError::EntityTooSmall => S3ErrorCode::EntityTooSmall,
        StoreError::EntityTooLarge => S3ErrorCode::EntityTooLarge,
        StoreError::BadDigest => S3ErrorCode::BadDigest,
        StoreError::IncompleteBody => S3ErrorCode::IncompleteBody,
        StoreError::InvalidArgument(msg) => return S3Error::with_message(S3ErrorCode::InvalidArgument, msg),
        StoreError::WriteRefused => return S3Error::with_message(S3ErrorCode::AccessDenied, JOB_FINISHED),
        StoreError::KeyTooLong => S3ErrorCode::KeyTooLongError,
        StoreError::Io(e) => {
            tracing::error!(error = %e, "artifact store i/o failed");
            S3ErrorCode::InternalError
        }
        // The worker retries a SlowDown; the operator reads the cause in the log.
        StoreError::Unavailable(cause) => {
            tracing::error!(cause, "the shared artifact store did not answer");
            return S3Error::with_message(S3ErrorCode::SlowDown, "Please reduce your request rate.");
        }
        StoreError::Backend(cause) => {
            tracing::error!(cause, "the shared artifact store failed");
            S3ErrorCode::InternalError
        }
    };
    S3Error::new(code)
}

fn caller_account<T>(req: &S3Request<T>) -> S3Result<String> {
    match req.extensions.get::<Caller>() {
        Some(Caller::Account { account_id, .. }) => Ok(account_id.clone()),
        _ => Err(S3Error::with_message(S3ErrorCode::AccessDenied, "Access Denied")),
    }
}

fn content_md5(md5: Option<&str>) -> S3Result<Option<[u8; 16]>> {
    let Some(b64) = md5 else { return Ok(None) };
    base64_simd::STANDARD
        .decode_to_vec(b64.trim())
        .ok()
        .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
        .map(Some)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidDigest))
}

type Body = futures::stream::BoxStream<'static, Result<bytes::Bytes, s3s::StdError>>;

fn verified_body(
    body: Option<StreamingBlob>,
    headers: &http::HeaderMap,
    sent: Sent,
    trailers: Option<s3s::TrailingHeaders>,
) -> Verified<Body> {
    let body = body.map_or_else(|| futures::stream::empty().boxed(), |b| b.boxed());
    Verified::new(body, headers, sent, trailers)
}

fn expected_len(len: Option<i64>) -> Option<u64> {
    len.and_then(|n| u64::try_from(n).ok())
}

fn etag(meta: &ObjectMeta) -> ETag {
    ETag::Strong(meta.etag.clone())
}

fn size(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn metadata(headers: &ObjectHeaders) -> Option<Metadata> {
    (!headers.metadata.is_empty()).then(|| headers.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn headers_of(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    cache_control: Option<String>,
    metadata: Option<Metadata>,
) -> ObjectHeaders {
    ObjectHeaders {
        content_type,
        content_encoding,
        content_disposition,
        cache_control,
        metadata: metadata.unwrap_or_default().into_iter().collect(),
    }
}

/// Percent-encodes a key for `encoding-type=url` listings (as S3 does: all but
/// unreserved characters and `/`).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Page {
    listing: Listing,
    encode: bool,
}

impl Page {
    fn key(&self, k: &str) -> String {
        if self.encode { url_encode(k) } else { k.to_owned() }
    }

    fn contents(&self) -> Vec<Object> {
        self.listing
            .objects
            .iter()
            .map(|m| Object {
                key: Some(self.key(&m.key)),
                size: Some(size(m.size)),
                e_tag: Some(etag(m)),
                last_modified: Some(Timestamp::from(m.last_modified())),
                storage_class: Some(ObjectStorageClass::from(ObjectStorageClass::STANDARD.to_owned())),
                ..Default::default()
            })
            .collect()
    }

    fn common_prefixes(&self) -> Option<Vec<CommonPrefix>> {
        let prefixes: Vec<_> =
            self.listing.common_prefixes.iter().map(|p| CommonPrefix { prefix: Some(self.key(p)) }).collect();
        (!prefixes.is_empty()).then_some(prefixes)
    }
}

impl ArtifactS3 {
    async fn page(
        &self,
        bucket: &str,
        prefix: Option<&str>,
        delimiter: Option<&str>,
        after: Option<String>,
        max_keys: Option<i32>,
        encoding: Option<&EncodingType>,
    ) -> S3Result<Page> {
        let max_keys = max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
        let query = ListQuery {
            prefix: prefix.unwrap_or_default().to_owned(),
            delimiter: delimiter.filter(|d| !d.is_empty()).map(str::to_owned),
            after,
            max_keys: usize::try_from(max_keys).unwrap_or(0),
        };
        let listing = self.store.list_objects(bucket, query).await.map_err(s3_error)?;
        Ok(Page { listing, encode: encoding.is_some_and(|e| e.as_str() == EncodingType::URL) })
    }
}

/// The checksums a PUT or part upload says its body has (s3s has one input
/// type for each, with the same fields).
macro_rules! sent_checksums {
    ($input:expr) => {
        Sent {
            crc32: $input.checksum_crc32,
            crc32c: $input.checksum_crc32c,
            crc64nvme: $input.checksum_crc64nvme,
            sha1: $input.checksum_sha1,
            sha256: $input.checksum_sha256,
        }
    };
}

/// A PUT or part upload's answer: the fields given, plus the checksums
/// computed of the body.
macro_rules! with_checksums {
    ($out:ident, $sums:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let sums = $sums;
        $out {
            $($field: $value,)*
            checksum_crc32: sums.checksum_crc32,
            checksum_crc32c: sums.checksum_crc32c,
            checksum_crc64nvme: sums.checksum_crc64nvme,
            checksum_sha1: sums.checksum_sha1,
            checksum_sha256: sums.checksum_sha256,
            ..Default::default()
        }
    }};
}

/// An object's GET or HEAD answer: the fields given, plus the headers its
/// metadata gives both (s3s has one output type for each, with the same
/// fields, so a macro fills either).
macro_rules! object_output {
    ($out:ident, $meta:expr, { $($field:ident $(: $value:expr)?),* $(,)? }) => {{
        let meta = $meta;
        let h = &meta.headers;
        $out {
            $($field $(: $value)?,)*
            accept_ranges: Some("bytes".to_owned()),
            e_tag: Some(etag(meta)),
            last_modified: Some(Timestamp::from(meta.last_modified())),
            content_type: h.content_type.clone(),
            content_encoding: h.content_encoding.clone(),
            content_disposition: h.content_disposition.clone(),
            cache_control: h.cache_control.clone(),
            metadata: metadata(h),
            parts_count: meta.parts.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            ..Default::default()
        }
    }};
}

#[async_trait::async_trait]
impl S3 for ArtifactS3 {
    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        let account = caller_account(&req)?;
        let buckets = self
            .store
            .list_buckets()
            .await
            .map_err(s3_error)?
            .into_iter()
            .filter(|b| b.owner == account)
            .map(|b| Bucket {
                name: Some(b.name),
                creation_date: Some(Timestamp::from(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(b.created_ms),
                )),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(Owner { display_name: Some(account.clone()), id: Some(account) }),
            ..Default::default()
        }))
    }

    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        let account = caller_account(&req)?;
        let bucket = &req.input.bucket;
        match self.store.create_bucket(bucket, &account, self.now()).await {
            Ok(_) => Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{bucket}")) })),
            // The modern S3 answer (every region but us-east-1's legacy behaviour).
            Err(StoreError::BucketExists { owner }) if owner == account => {
                Err(S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou))
            }
            Err(e) => Err(s3_error(e)),
        }
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        match self.store.bucket_info(&req.input.bucket).await {
            Ok(Some(_)) => Ok(S3Response::new(HeadBucketOutput::default())),
            Ok(None) => Err(S3Error::new(S3ErrorCode::NoSuchBucket)),
            Err(e) => Err(s3_error(e)),
        }
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        match self.store.bucket_info(&req.input.bucket).await {
            // An empty constraint means us-east-1, as S3 answers.
            Ok(Some(_)) => Ok(S3Response::new(GetBucketLocationOutput::default())),
            Ok(None) => Err(S3Error::new(S3ErrorCode::NoSuchBucket)),
            Err(e) => Err(s3_error(e)),
        }
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.store.delete_bucket(&req.input.bucket).await.map_err(s3_error)?;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let md5 = content_md5(input.content_md5.as_deref())?;
        let headers = headers_of(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.cache_control,
            input.metadata,
        );
        let len = expected_len(input.content_length);
        let sent = sent_checksums!(input);
        let body = verified_body(input.body, &req.headers, sent, req.trailing_headers);
        let computed = body.computed();
        let gate = match req.extensions.get::<Caller>() {
            Some(Caller::Job { grant, .. }) => Some((self.auth.clone(), grant.clone())),
            _ => None,
        };
        let by_job = gate.is_some();
        let body = GatedBody { inner: body, gate };
        let meta = self
            .store
            .put_object(&input.bucket, &input.key, headers, body, BodyCheck { len, md5 }, self.now())
            .await
            .map_err(s3_error)?;
        self.tell(&input.bucket, &input.key, &meta, by_job);
        let sums = computed.lock().ok().and_then(|mut c| c.take()).unwrap_or_default();
        Ok(S3Response::new(with_checksums!(PutObjectOutput, sums, { e_tag: Some(etag(&meta)) })))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let (meta, reader) = self.store.get_object(&input.bucket, &input.key).await.map_err(s3_error)?;
        let (range, content_range) = match &input.range {
            None => (0..meta.size, None),
            Some(r) => {
                let range = r.check(meta.size)?;
                let content_range = format!("bytes {}-{}/{}", range.start, range.end - 1, meta.size);
                (range, Some(content_range))
            }
        };
        let content_length = size(range.end - range.start);
        let stream = reader.stream(range).await.map_err(s3_error)?;
        Ok(S3Response::new(object_output!(GetObjectOutput, &meta, {
            body: Some(StreamingBlob::wrap(stream)),
            content_length: Some(content_length),
            content_range,
        })))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let meta = self.store.head_object(&req.input.bucket, &req.input.key).await.map_err(s3_error)?;
        Ok(S3Response::new(object_output!(HeadObjectOutput, &meta, {
            content_length: Some(size(meta.size)),
        })))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.store.delete_object(&req.input.bucket, &req.input.key).await.map_err(s3_error)?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        for object in input.delete.objects {
            self.store.delete_object(&input.bucket, &object.key).await.map_err(s3_error)?;
            if !quiet {
                deleted.push(DeletedObject { key: Some(object.key), ..Default::default() });
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput { deleted: Some(deleted), ..Default::default() }))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        // The continuation token is the last key (or common prefix) of the previous page,
        // base64-encoded so clients treat it as opaque.
        let after = match &input.continuation_token {
            Some(token) => Some(
                base64_simd::STANDARD.decode_to_vec(token).ok().and_then(|v| String::from_utf8(v).ok()).ok_or_else(
                    || {
                        S3Error::with_message(
                            S3ErrorCode::InvalidArgument,
                            "The continuation token provided is incorrect",
                        )
                    },
                )?,
            ),
            None => input.start_after.clone(),
        };
        let page = self
            .page(
                &input.bucket,
                input.prefix.as_deref(),
                input.delimiter.as_deref(),
                after,
                input.max_keys,
                input.encoding_type.as_ref(),
            )
            .await?;
        let contents = page.contents();
        let common_prefixes = page.common_prefixes();
        let key_count = contents.len() + common_prefixes.as_ref().map_or(0, Vec::len);
        let next = page.listing.next_marker.as_ref().map(|m| base64_simd::STANDARD.encode_to_string(m));
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(input.prefix.as_deref().map(|p| page.key(p)).unwrap_or_default()),
            max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS)),
            key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
            is_truncated: Some(next.is_some()),
            next_continuation_token: next,
            continuation_token: input.continuation_token,
            contents: Some(contents),
            common_prefixes,
            delimiter: input.delimiter,
            encoding_type: input.encoding_type,
            start_after: input.start_after,
            ..Default::default()
        }))
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let page = self
            .page(
                &input.bucket,
                input.prefix.as_deref(),
                input.delimiter.as_deref(),
                input.marker.clone(),
                input.max_keys,
                input.encoding_type.as_ref(),
            )
            .await?;
        // S3 sends NextMarker only with a delimiter; without one the client uses the last key.
        let next_marker = page.listing.next_marker.as_ref().filter(|_| input.delimiter.is_some()).map(|m| page.key(m));
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(input.prefix.as_deref().map(|p| page.key(p)).unwrap_or_default()),
            marker: Some(input.marker.unwrap_or_default()),
            max_keys: Some(input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS)),
            is_truncated: Some(page.listing.next_marker.is_some()),
            contents: Some(page.contents()),
            common_prefixes: page.common_prefixes(),
            delimiter: input.delimiter,
            next_marker,
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        let headers = headers_of(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.cache_control,
            input.metadata,
        );
        let upload_id = self
            .store
            .create_multipart_upload(&input.bucket, &input.key, headers, self.now())
            .await
            .map_err(s3_error)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let md5 = content_md5(input.content_md5.as_deref())?;
        let len = expected_len(input.content_length);
        let sent = sent_checksums!(input);
        let body = verified_body(input.body, &req.headers, sent, req.trailing_headers);
        let computed = body.computed();
        let gate = match req.extensions.get::<Caller>() {
            Some(Caller::Job { grant, .. }) => Some((self.auth.clone(), grant.clone())),
            _ => None,
        };
        let body = GatedBody { inner: body, gate };
        let meta = self
            .store
            .upload_part(
                &input.bucket,
                &input.key,
                &input.upload_id,
                input.part_number,
                body,
                BodyCheck { len, md5 },
                self.now(),
            )
            .await
            .map_err(s3_error)?;
        let sums = computed.lock().ok().and_then(|mut c| c.take()).unwrap_or_default();
        Ok(S3Response::new(with_checksums!(UploadPartOutput, sums, { e_tag: Some(etag(&meta)) })))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let mut parts = Vec::new();
        for part in input.multipart_upload.and_then(|m| m.parts).unwrap_or_default() {
            let (Some(number), Some(tag)) = (part.part_number, part.e_tag) else {
                return Err(S3Error::new(S3ErrorCode::InvalidPart));
            };
            parts.push((number, tag.into_value()));
        }
        // Asked again once the parts are joined, as a PUT is when its body is in.
        let gate = match req.extensions.get::<Caller>() {
            Some(Caller::Job { grant, .. }) => Some((self.auth.clone(), grant.clone())),
            _ => None,
        };
        let by_job = gate.is_some();
        let allowed = Box::new(move || gate.is_none_or(|(auth, grant)| auth.job_may_write(&grant).is_ok()));
        let meta = self
            .store
            .backend()
            .complete_multipart_upload(&input.bucket, &input.key, &input.upload_id, parts, self.now(), allowed)
            .await
            .map_err(s3_error)?;
        self.tell(&input.bucket, &input.key, &meta, by_job);
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(etag(&meta)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.store.abort_multipart_upload(&input.bucket, &input.key, &input.upload_id).await.map_err(s3_error)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::{StoreError, s3_error, url_encode};

    #[test]
    fn a_shared_store_that_does_not_answer_is_a_slow_down_and_a_failing_one_an_internal_error() {
        let slow = s3_error(StoreError::Unavailable("connect refused".into()));
        assert_eq!((slow.code().as_str(), slow.status_code().map(|s| s.as_u16())), ("SlowDown", Some(503)));
        assert!(!slow.message().unwrap_or_default().contains("refused"), "the cause is logged, not sent");
        let failed = s3_error(StoreError::Backend("403 AccessDenied".into()));
        assert_eq!((failed.code().as_str(), failed.status_code().map(|s| s.as_u16())), ("InternalError", Some(500)));
        assert_eq!(s3_error(StoreError::KeyTooLong).code().as_str(), "KeyTooLongError");
    }

    #[test]
    fn url_encoding_keeps_slashes_and_unreserved() {
        assert_eq!(url_encode("a/b c+d%é~"), "a/b%20c%2Bd%25%C3%A9~");
    }
}
