//! Reading an object from the shared store: the range asked for, across the data
//! objects the record lists, in order, as one stream.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};

use super::wire::{backend_error, is_missing_object};
use crate::store::{ContentStream, OpenContent, StoreError};

/// Some range of an object's data objects, read in order.
#[derive(Debug)]
pub(super) struct RemoteContent {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) data: Vec<(Path, u64)>,
}

impl OpenContent for RemoteContent {
    fn open(self: Box<Self>, range: std::ops::Range<u64>) -> BoxFuture<'static, Result<ContentStream, StoreError>> {
        let len = range.end.saturating_sub(range.start);
        // Which bytes of which data object the range covers.
        let mut pieces = Vec::new();
        let mut offset = 0u64;
        for (path, size) in self.data {
            let (start, end) = (range.start.max(offset), range.end.min(offset + size));
            if start < end {
                pieces.push((path, start - offset..end - offset, size));
            }
            offset += size;
        }
        let store = self.store;
        Box::pin(async move {
            // The first piece is asked for now, so a vanished object answers an error
            // rather than a body that breaks off.
            let mut pieces = pieces.into_iter();
            let first = match pieces.next() {
                Some((path, r, size)) => Some(get_range(&store, &path, r, size).await?),
                None => None,
            };
            let rest = futures::stream::iter(pieces)
                .then(move |(path, r, size)| {
                    let store = store.clone();
                    async move { get_range(&store, &path, r, size).await.map_err(std::io::Error::other) }
                })
                .try_flatten();
            let stream = futures::stream::iter(first.map(Ok::<_, std::io::Error>)).try_flatten().chain(rest).boxed();
            Ok(ContentStream::new(stream, len))
        })
    }
}

type ByteStream = futures::stream::BoxStream<'static, std::io::Result<Bytes>>;

/// `range` of the data object at `path`, which its record says holds `size` bytes: one
/// that holds another number was damaged, and is not served as if whole.
async fn get_range(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    range: std::ops::Range<u64>,
    size: u64,
) -> Result<ByteStream, StoreError> {
    let opts = GetOptions { range: Some(GetRange::Bounded(range)), ..GetOptions::default() };
    match store.get_opts(path, opts).await {
        Ok(r) if r.meta.size != size => {
            Err(StoreError::Backend(format!("{path} holds {} bytes, its record says {size}", r.meta.size)))
        }
        Ok(r) => Ok(r.into_stream().map_err(std::io::Error::other).boxed()),
        // Data replaced and forgotten since the record was read.
        Err(e) if is_missing_object(&e) => Err(StoreError::Unavailable(format!("{path} changed while being read"))),
        Err(e) => Err(backend_error("reading artifact data", e)),
    }
}
