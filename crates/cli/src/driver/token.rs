//! botocore's pagination tokens (`TokenEncoder`/`TokenDecoder`): the
//! `NextToken` AWS CLI prints when `--max-items` stops early is
//! `base64(json.dumps({"nextToken": ..., "boto_truncate_amount": N}))`, and
//! `--starting-token` accepts that form or, as a fallback, the service's own
//! token (the deprecated `token___index` form).

use crate::py::PyValue;
use crate::py::json_encode::{DumpOptions, dumps};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `base64.b64encode`.
pub(super) fn b64encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `base64.b64decode` without `validate`: characters outside the alphabet
/// are skipped, and the data must end on a whole quantum (else Python raises
/// `binascii.Error`, `None` here).
pub(super) fn b64decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut nbits = 0u32;
    let mut out = Vec::new();
    let mut count = 0usize;
    let mut pad = 0usize;
    for c in text.bytes() {
        if c == b'=' {
            if count % 4 >= 2 {
                pad += 1;
                if (count + pad).is_multiple_of(4) {
                    return Some(out);
                }
            }
            continue;
        }
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else { continue };
        if pad > 0 {
            return None;
        }
        bits = (bits << 6) | v as u32;
        nbits += 6;
        count += 1;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    count.is_multiple_of(4).then_some(out)
}

/// `TokenEncoder.encode` of a token dict.
pub(super) fn encode(token: &[(String, PyValue)]) -> String {
    let json = dumps(&PyValue::Dict(token.to_vec()), DumpOptions::WIRE).unwrap_or_default();
    b64encode(json.as_bytes())
}

/// `TokenDecoder.decode`: the token dict, or `None` where Python raises `ValueError`/`TypeError`.
pub(super) fn decode(token: &str) -> Option<Vec<(String, PyValue)>> {
    let bytes = b64decode(token)?;
    let text = String::from_utf8(bytes).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    match from_json(&value) {
        PyValue::Dict(mut entries) => {
            entries.retain(|(k, _)| k != "boto_encoded_keys");
            Some(entries)
        }
        _ => None,
    }
}

/// A `json.loads` result as a Python value.
pub(super) fn from_json(v: &serde_json::Value) -> PyValue {
    match v {
        serde_json::Value::Null => PyValue::None,
        serde_json::Value::Bool(b) => PyValue::Bool(*b),
        serde_json::Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                PyValue::Int(n.to_string())
            } else {
                PyValue::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => PyValue::Str(s.clone()),
        serde_json::Value::Array(a) => PyValue::List(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => PyValue::Dict(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            assert_eq!(b64decode(&b64encode(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(b64encode(b"foob"), "Zm9vYg==");
        assert_eq!(b64decode("abc"), None);
        assert_eq!(b64decode("Zm9v\nYg=="), Some(b"foob".to_vec()));
    }

    #[test]
    fn botocore_token_shape() {
        let t = encode(&[("nextToken".into(), PyValue::str("abc")), ("boto_truncate_amount".into(), PyValue::int(2))]);
        // base64 of '{"nextToken": "abc", "boto_truncate_amount": 2}', as botocore writes it.
        assert_eq!(t, "eyJuZXh0VG9rZW4iOiAiYWJjIiwgImJvdG9fdHJ1bmNhdGVfYW1vdW50IjogMn0=");
        let d = decode(&t).unwrap();
        assert_eq!(d[1], ("boto_truncate_amount".to_owned(), PyValue::int(2)));
        assert_eq!(decode("plain-service-token"), None);
    }
}
