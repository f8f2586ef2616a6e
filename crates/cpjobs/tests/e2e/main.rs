//! `cpjobs serve` driven end to end by unmodified real clients: AWS CLI v1,
//! boto3 and the official Rust SDK, each changing only the endpoint URL. One
//! test binary (the SDK is linked once); each test starts its own service on
//! `127.0.0.1:0` with a fresh data directory and stops it.
//!
//! Job timeouts are covered by the domain scenarios (`cpjobs-core`'s
//! `testing::domain`, time passed in): the shortest job timeout a config
//! allows is 60 s, too long for this suite.

mod artifact_guards;
mod awscli;
mod boto3;
mod browser;
mod clients_cmd;
mod concurrency;
mod conditions;
mod console;
mod harness;
mod identity;
mod nodes;
mod postgres;
mod restart;
mod revisions;
mod sdk;
mod semantics;
mod webhooks;
