//! The domain of the CodePipeline job system, free of HTTP and SQL.
//!
//! The service's HTTP layer verifies who is calling and that the input fits the
//! API model, then hands the operation here through [`Api`]; storage lives behind
//! the [`Store`] trait that each backend crate implements. Time is always passed in.

pub mod action_types;
pub mod api;
pub mod artifacts;
mod clients;
pub mod config;
pub mod credentials;
mod cron;
pub mod error_code;
mod executions;
mod fail;
mod ids;
mod input;
pub mod jobs;
pub mod operation;
mod paging;
mod pipeline_rules;
mod pipelines;
mod pollers;
mod queues;
pub mod sealing;
mod secrets;
mod service;
mod source_changes;
pub mod store;
mod tags;
#[cfg(feature = "testing")]
pub mod testing;
mod variables;
mod webhooks;

pub use api::{Api, ApiError, BlockingWork, Caller, Reply, Submitted};
pub use artifacts::{ArtifactLocations, NoArtifactStore};
pub use config::ServiceConfig;
pub use credentials::{CredentialIssuer, NoCredentials};
pub use error_code::ErrorCode;
pub use jobs::{JobStatus, TickReport};
pub use operation::{Family, JobWrite, Operation, Path, UnknownOperation};
pub use sealing::TokenSeal;
pub use service::{DEFAULT_LEASE, Service};
pub use store::{Store, StoreError, Tx};
pub use webhooks::URL_PATH as WEBHOOK_URL_PATH;
pub use webhooks::trigger::{MAX_BODY_BYTES as WEBHOOK_MAX_BODY_BYTES, WebhookAnswer, WebhookPost};
