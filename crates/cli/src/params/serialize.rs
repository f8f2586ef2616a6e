//! botocore's JSON serializer, the last step before the wire: the validated
//! parameters become the request body (`json.dumps` of the values in the
//! user's key order), with the two conversions the model asks for: timestamps
//! become integer epoch seconds, blobs become base64 text.

use cpjobs_model::{ServiceModel, ShapeKind};

use super::pyops::parse_float;
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

/// `int(calendar.timegm(parse_to_aware_datetime(v).timetuple()))`.
pub fn epoch_seconds(v: &PyValue) -> Option<i64> {
    match v {
        PyValue::Int(i) => i.parse().ok(),
        PyValue::Bool(b) => Some(i64::from(*b)),
        PyValue::Float(f) => Some(f.floor() as i64),
        PyValue::Str(s) => parse_float(s).map(|f| f.floor() as i64).or_else(|| iso_epoch(s.trim())),
        _ => None,
    }
}

fn iso_epoch(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(secs);
    }
    let time = &rest[1..];
    secs += num(11..13)? * 3600 + num(14..16)? * 60;
    let mut i = 5;
    if time.as_bytes().get(5) == Some(&b':') {
        secs += num(17..19)?;
        i = 8;
        if time.as_bytes().get(8) == Some(&b'.') {
            i += 1 + time[9..].bytes().take_while(u8::is_ascii_digit).count();
        }
    }
    let zone = &time[i..];
    if zone.len() == 6 {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let off = zone[1..3].parse::<i64>().ok()? * 3600 + zone[4..6].parse::<i64>().ok()? * 60;
        secs -= sign * off;
    }
    Some(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        assert_eq!(epoch_seconds(&PyValue::str("2020-01-01T00:00:00Z")), Some(1_577_836_800));
        assert_eq!(epoch_seconds(&PyValue::str("2020-01-01T01:00:00+01:00")), Some(1_577_836_800));
        assert_eq!(epoch_seconds(&PyValue::str("2020-01-01")), Some(1_577_836_800));
        assert_eq!(epoch_seconds(&PyValue::str("1.5")), Some(1));
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
