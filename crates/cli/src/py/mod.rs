//! Python semantics AWS CLI's behaviour rests on: values and their reprs,
//! `json.dumps`, `json.loads` (with its error messages) and `int()`.

pub mod int;
pub mod json_decode;
pub mod json_encode;
pub mod printable;
pub mod value;

pub use value::PyValue;
