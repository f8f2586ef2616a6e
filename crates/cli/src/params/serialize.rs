//! botocore's JSON serializer, the last step before the wire: the validated
//! parameters become the request body (`json.dumps` of the values in the
//! user's key order), with the two conversions the model asks for: timestamps
//! become integer epoch seconds, blobs become base64 text.

use cpjobs_model::{ServiceModel, ShapeKind};

use super::timestamp::epoch_seconds;
use crate::py::PyValue;
use crate::py::json_encode::{DumpOptions, dumps};

/// The request body for validated `params` of the input shape `shape`.
pub fn body(model: &ServiceModel, params: &PyValue, shape: Option<&str>) -> String {
    let value = match shape {
        Some(s) => convert(model, params, s),
        None => PyValue::Dict(Vec::new()),
    };
    dumps(&value, DumpOptions::WIRE).unwrap_or_else(|_| "{}".to_owned())
}

fn convert(model: &ServiceModel, v: &PyValue, shape: &str) -> PyValue {
    let s = model.shape(shape);
    match (&s.kind, v) {
        (ShapeKind::Structure, PyValue::Dict(e) | PyValue::OrderedDict(e)) => PyValue::Dict(
            e.iter()
                .filter(|(_, x)| !matches!(x, PyValue::None))
                .map(|(k, x)| {
                    let converted = match s.member(k) {
                        Some(m) => convert(model, x, &m.shape),
                        None => x.clone(),
                    };
                    (k.clone(), converted)
                })
                .collect(),
        ),
        (ShapeKind::Map, PyValue::Dict(e) | PyValue::OrderedDict(e)) => {
            let value_shape = s.value.as_deref().expect("map value");
            PyValue::Dict(e.iter().map(|(k, x)| (k.clone(), convert(model, x, value_shape))).collect())
        }
        (ShapeKind::List, PyValue::List(items)) => {
            let member = s.member.as_deref().expect("list member");
            PyValue::List(items.iter().map(|x| convert(model, x, member)).collect())
        }
        (ShapeKind::Blob, PyValue::Bytes(b)) => PyValue::Str(base64(b)),
        (ShapeKind::Blob, PyValue::Str(t)) => PyValue::Str(base64(t.as_bytes())),
        (ShapeKind::Timestamp, x) => epoch_seconds(x).map_or_else(|| x.clone(), |n| PyValue::Int(n.to_string())),
        _ => v.clone(),
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_botocore() {
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
