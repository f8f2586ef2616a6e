//! Checks the flexible checksums (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`,
//! `-sha1`, `-sha256`) a client sends with PutObject and UploadPart, as a header or as
//! an aws-chunked trailer.
//!
//! The body is wrapped in a stream that hashes what passes through and, at its end,
//! compares with what the client sent; on a mismatch it ends with [`DigestMismatch`]
//! instead, so the store discards the object (`BadDigest`) before it becomes visible.
//! s3s decodes aws-chunked bodies and collects their trailers, but checks neither.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use http::HeaderMap;
use s3s::TrailingHeaders;
use s3s::checksum::ChecksumHasher;
use s3s::dto::Checksum;

use crate::store::DigestMismatch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const ALGORITHMS: [&str; 5] = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

/// The checksums a client sent in headers (the operation's input fields).
#[derive(Debug, Default, Clone)]
pub(crate) struct Sent {
    pub(crate) crc32: Option<String>,
    pub(crate) crc32c: Option<String>,
    pub(crate) crc64nvme: Option<String>,
    pub(crate) sha1: Option<String>,
    pub(crate) sha256: Option<String>,
}

impl Sent {
    fn get(&self, algorithm: &str) -> Option<&String> {
        match algorithm {
            "crc32" => self.crc32.as_ref(),
            "crc32c" => self.crc32c.as_ref(),
            "crc64nvme" => self.crc64nvme.as_ref(),
            "sha1" => self.sha1.as_ref(),
            "sha256" => self.sha256.as_ref(),
            _ => None,
        }
    }
}

fn computed<'a>(c: &'a Checksum, algorithm: &str) -> Option<&'a String> {
    match algorithm {
        "crc32" => c.checksum_crc32.as_ref(),
        "crc32c" => c.checksum_crc32c.as_ref(),
        "crc64nvme" => c.checksum_crc64nvme.as_ref(),
        "sha1" => c.checksum_sha1.as_ref(),
        "sha256" => c.checksum_sha256.as_ref(),
        _ => None,
    }
}

/// The checksums computed over a body, available once it has been read to the end.
pub(crate) type Computed = Arc<Mutex<Option<Checksum>>>;

/// A body stream that verifies the checksums sent with it.
pub(crate) struct Verified<S> {
    inner: S,
    hasher: Option<ChecksumHasher>,
    sent: Sent,
    trailers: Option<TrailingHeaders>,
    trailer_names: Vec<String>,
    computed: Computed,
}

impl<S> Verified<S> {
    /// Wraps `inner`; `headers` are the request's (for `x-amz-trailer`), `trailers` s3s's
    /// handle on the aws-chunked trailers.
    pub(crate) fn new(inner: S, headers: &HeaderMap, sent: Sent, trailers: Option<TrailingHeaders>) -> Verified<S> {
        let trailer_names: Vec<String> = headers
            .get_all("x-amz-trailer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| n.starts_with("x-amz-checksum-"))
            .collect();
        let mut hasher = ChecksumHasher::default();
        for algorithm in ALGORITHMS {
            let wanted = sent.get(algorithm).is_some()
                || trailer_names.iter().any(|n| n.strip_prefix("x-amz-checksum-") == Some(algorithm));
            if wanted {
                match algorithm {
                    "crc32" => hasher.crc32 = Some(Default::default()),
                    "crc32c" => hasher.crc32c = Some(Default::default()),
                    "crc64nvme" => hasher.crc64nvme = Some(Default::default()),
                    "sha1" => hasher.sha1 = Some(Default::default()),
                    _ => hasher.sha256 = Some(Default::default()),
                }
            }
        }
        Verified { inner, hasher: Some(hasher), sent, trailers, trailer_names, computed: Computed::default() }
    }

    /// Where the computed checksums appear once the body is read.
    pub(crate) fn computed(&self) -> Computed {
        self.computed.clone()
    }

    fn finish(&mut self) -> Result<(), DigestMismatch> {
        let Some(hasher) = self.hasher.take() else { return Ok(()) };
        let sums = hasher.finalize();
        let trailers = match &self.trailers {
            Some(t) if !self.trailer_names.is_empty() => t.take(),
            _ => None,
        };
        for algorithm in ALGORITHMS {
            let header = format!("x-amz-checksum-{algorithm}");
            let from_trailer =
                trailers.as_ref().and_then(|t| t.get(header.as_str())).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let expected = from_trailer.as_ref().or(self.sent.get(algorithm));
            if let (Some(expected), Some(actual)) = (expected, computed(&sums, algorithm))
                && expected.trim() != actual
            {
                return Err(DigestMismatch);
            }
        }
        if let Ok(mut slot) = self.computed.lock() {
            *slot = Some(sums);
        }
        Ok(())
    }
}

impl<S, E> Stream for Verified<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(h) = &mut this.hasher {
                    h.update(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => match this.finish() {
                Ok(()) => Poll::Ready(None),
                Err(e) => Poll::Ready(Some(Err(Box::new(e)))),
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn body() -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures::stream::iter(vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))])
    }

    async fn drain<S: Stream<Item = Result<Bytes, BoxError>> + Unpin>(mut s: S) -> Result<(), BoxError> {
        while let Some(c) = s.next().await {
            c?;
        }
        Ok(())
    }

    #[tokio::test]
    async fn header_checksums_are_verified() {
        // CRC32 of "hello world" is 0x0d4a1185; SHA-256 is b94d27b9...
        let good = Sent {
            crc32: Some("DUoRhQ==".into()),
            sha256: Some("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=".into()),
            ..Default::default()
        };
        let v = Verified::new(body(), &HeaderMap::new(), good, None);
        let computed = v.computed();
        drain(v).await.unwrap();
        assert_eq!(computed.lock().unwrap().as_ref().unwrap().checksum_crc32.as_deref(), Some("DUoRhQ=="));
        let bad = Sent { crc32: Some("AAAAAA==".into()), ..Default::default() };
        let err = drain(Verified::new(body(), &HeaderMap::new(), bad, None)).await.unwrap_err();
        assert!(err.is::<DigestMismatch>());
    }

    #[tokio::test]
    async fn no_checksum_sent_means_nothing_to_check() {
        let v = Verified::new(body(), &HeaderMap::new(), Sent::default(), None);
        let computed = v.computed();
        drain(v).await.unwrap();
        assert_eq!(computed.lock().unwrap().as_ref().unwrap().checksum_crc32, None);
    }
}
