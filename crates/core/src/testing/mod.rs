//! Test suites every store backend runs (feature `testing`): the store
//! contract through the [`Store`](crate::Store) trait, and domain scenarios
//! through [`Api::call`](crate::Api::call) with JSON.

pub mod contract;
pub mod domain;
pub mod shapes;

pub use contract::run_contract;
pub use domain::run_domain;
