//! Artifact credentials handed out with job details: a hook, because the
//! artifact store (and what it accepts) is another component's business.

use crate::api::ApiError;
use crate::store::Millis;

/// One object a job may read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactObject {
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
}

/// What credentials for one job must allow: reading exactly its inputs and
/// writing exactly its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// The job.
    pub job_id: String,
    /// The account whose pipeline the job belongs to.
    pub account_id: String,
    /// Objects the job may read.
    pub read: Vec<ArtifactObject>,
    /// Objects the job may write.
    pub write: Vec<ArtifactObject>,
    /// Now.
    pub now: Millis,
}

/// Temporary credentials (`AWSSessionCredentials`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCredentials {
    /// `accessKeyId`.
    pub access_key_id: String,
    /// `secretAccessKey`.
    pub secret_access_key: String,
    /// `sessionToken`.
    pub session_token: String,
}

/// Issues artifact credentials for jobs. `None` leaves `artifactCredentials`
/// out of the job data.
pub trait CredentialIssuer: Send + Sync + 'static {
    /// Credentials for one job, or `None` when the service has no artifact store.
    fn issue(&self, request: &CredentialRequest) -> Result<Option<SessionCredentials>, ApiError>;
}

/// The default until the artifact store exists: no credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCredentials;

impl CredentialIssuer for NoCredentials {
    fn issue(&self, _request: &CredentialRequest) -> Result<Option<SessionCredentials>, ApiError> {
        Ok(None)
    }
}
