//! Command-line arguments, parsed by argparse's rules as AWS CLI v1 sets them up.

pub mod globals;

pub use globals::GlobalArgs;
