//! Command-line arguments, parsed by argparse's rules as AWS CLI v1 sets them up.
//!
//! `argparse` is the parsing algorithm, `parsers` the three parsers AWS CLI
//! builds with it, `usage` the texts they print, `difflib` the "maybe you
//! meant" suggestions, `pyint` Python's `int()` for typed options.

pub mod argparse;
pub mod difflib;
pub mod globals;
pub mod parsers;
pub mod pyint;
pub mod usage;

pub use globals::GlobalArgs;
