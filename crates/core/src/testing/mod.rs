//! Test suites.
