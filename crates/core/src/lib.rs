//! The domain of the CodePipeline job system, free of HTTP and SQL.
//!
//! The service's HTTP layer verifies who is calling and that the input fits the
//! API model, then hands the operation here through [`Api`]; storage lives behind
//! store traits that each backend crate implements. Time is always passed in.

pub mod api;
pub mod config;

pub use api::{Api, ApiError, Caller};
pub use config::ServiceConfig;
