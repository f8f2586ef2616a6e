//! botocore's `ArgumentGenerator`, behind `--generate-cli-skeleton`.
//!
//! `input`: placeholders (`""`, `0`, `0.0`, `true`, a random enum member like
//! `random.choice`, `1970-01-01T00:00:00` for timestamps, one `KeyName` per
//! map, one element per list). `output`: member names as string values, which
//! AWS CLI then pushes through the normal output path. A structure already on
//! the path becomes `{}`, which ends recursive shapes.

use std::hash::{BuildHasher, Hasher};

use cpjobs_model::{ServiceModel, ShapeKind};

use crate::py::PyValue;

/// What `datetime.datetime(1970, 1, 1)` looks like once AWS CLI's JSON encoder has written it.
pub const EPOCH_ISO: &str = "1970-01-01T00:00:00";

/// The same datetime as the text and table formatters write it: `str(datetime)`.
pub const EPOCH_STR: &str = "1970-01-01 00:00:00";

/// A sample response for the text and table formatters: the Stubber hands
/// them `datetime` objects, which they print with `str()`, not `isoformat()`.
/// Every `EPOCH_ISO` of a skeleton is a timestamp (its strings are member names).
pub fn for_str_formatters(value: PyValue) -> PyValue {
    match value {
        PyValue::Str(s) if s == EPOCH_ISO => PyValue::str(EPOCH_STR),
        PyValue::List(v) => PyValue::List(v.into_iter().map(for_str_formatters).collect()),
        PyValue::Dict(v) => PyValue::Dict(v.into_iter().map(|(k, x)| (k, for_str_formatters(x))).collect()),
        PyValue::OrderedDict(v) => {
            PyValue::OrderedDict(v.into_iter().map(|(k, x)| (k, for_str_formatters(x))).collect())
        }
        other => other,
    }
}

/// Builds the skeleton of `shape`; `use_member_names` selects the output flavour.
pub fn generate(model: &ServiceModel, shape: &str, use_member_names: bool) -> PyValue {
    let mut stack = Vec::new();
    Generator { model, use_member_names }.shape(shape, &mut stack, "")
}

struct Generator<'a> {
    model: &'a ServiceModel,
    use_member_names: bool,
}

impl Generator<'_> {
    fn shape(&self, name: &str, stack: &mut Vec<String>, member_name: &str) -> PyValue {
        stack.push(name.to_owned());
        let s = self.model.shape(name);
        let v = match s.kind {
            ShapeKind::Structure => {
                if stack.iter().filter(|n| *n == name).count() > 1 {
                    PyValue::OrderedDict(Vec::new())
                } else {
                    PyValue::OrderedDict(
                        s.members.iter().map(|m| (m.name.clone(), self.shape(&m.shape, stack, &m.name))).collect(),
                    )
                }
            }
            ShapeKind::List => {
                let member = s.member.as_deref().expect("list member");
                let element_name = if self.use_member_names { member.to_owned() } else { String::new() };
                PyValue::List(vec![self.shape(member, stack, &element_name)])
            }
            ShapeKind::Map => {
                let value = s.value.as_deref().expect("map value");
                PyValue::OrderedDict(vec![("KeyName".to_owned(), self.shape(value, stack, ""))])
            }
            ShapeKind::String => {
                if self.use_member_names {
                    PyValue::str(member_name)
                } else if !s.enum_values.is_empty() {
                    PyValue::str(s.enum_values[random_index(s.enum_values.len())].clone())
                } else {
                    PyValue::str("")
                }
            }
            ShapeKind::Integer | ShapeKind::Long => PyValue::int(0),
            ShapeKind::Float | ShapeKind::Double => PyValue::Float(0.0),
            ShapeKind::Boolean => PyValue::Bool(true),
            ShapeKind::Timestamp => PyValue::str(EPOCH_ISO),
            // botocore's generator has no case for blobs: it yields None.
            ShapeKind::Blob => PyValue::None,
        };
        stack.pop();
        v
    }
}

/// A uniformly random index below `n`, seeded by the process's random hasher keys.
fn random_index(n: usize) -> usize {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64));
    (h.finish() % n as u64) as usize
}
