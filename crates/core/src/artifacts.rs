//! The artifact store as the domain sees it: a hook, because where artifacts
//! live (and who owns a bucket) is another component's business. The domain
//! asks for two things: that a pipeline's artifact bucket exists for the
//! pipeline's account, and (for the AWS-owned `Source`/`S3` action it runs
//! itself) that a customer's object be copied into an artifact location.

use crate::api::ApiError;
use crate::credentials::ArtifactObject;

/// The revision of a source object that became an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRevision {
    /// The object's version id, or its ETag when the store keeps no versions.
    pub revision_id: String,
    /// The object's ETag (the change identifier).
    pub etag: String,
}

/// Why a source object could not be copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// The object cannot be used (missing, or in a bucket the account does not
    /// own): the action fails with this message.
    Refused(String),
    /// The store failed; the copy is tried again at the next sweep.
    Unavailable(String),
}

/// What the domain needs from the artifact store.
pub trait ArtifactLocations: Send + Sync + 'static {
    /// Makes sure `bucket` exists and belongs to `account_id` (called when a
    /// pipeline is created or updated). An error refuses the pipeline.
    fn ensure_bucket(&self, account_id: &str, bucket: &str) -> Result<(), ApiError>;

    /// Copies `source` (in a bucket of `account_id`) to `artifact`; returns the
    /// source's revision.
    fn snapshot(
        &self,
        account_id: &str,
        source: &ArtifactObject,
        artifact: &ArtifactObject,
    ) -> Result<SourceRevision, SnapshotError>;
}

/// The default when the service has no artifact store: buckets are not
/// checked, and S3 source actions fail.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoArtifactStore;

impl ArtifactLocations for NoArtifactStore {
    fn ensure_bucket(&self, _account_id: &str, _bucket: &str) -> Result<(), ApiError> {
        Ok(())
    }

    fn snapshot(
        &self,
        _account_id: &str,
        source: &ArtifactObject,
        _artifact: &ArtifactObject,
    ) -> Result<SourceRevision, SnapshotError> {
        Err(SnapshotError::Refused(format!(
            "s3://{}/{} cannot be read: this service has no artifact store",
            source.bucket, source.key
        )))
    }
}
