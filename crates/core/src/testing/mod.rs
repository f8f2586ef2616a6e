//! Test suites every store backend runs (feature `testing`): the store
//! contract through the [`Store`](crate::Store) trait, and domain scenarios
//! through [`Api::submit`](crate::Api::submit) with JSON, each check a test of its
//! own through [`store_tests!`](crate::store_tests).

mod conditions;
pub mod contract;
pub mod domain;
pub mod named;
mod probes;
mod queues;
mod revisions;
mod semantics;
pub mod shapes;
mod webhooks;

pub use named::CHECKS;
