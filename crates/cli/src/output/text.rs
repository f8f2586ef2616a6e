//! `--output text`: a port of `awscli/text.py`.
//!
//! Dicts become one tab-separated line of their scalar values (keys sorted)
//! prefixed with the upper-cased key they hang under, followed by their
//! non-scalar members in key order; lists of dicts share one sorted key set;
//! lists of scalars print one `IDENT\tvalue` line each. Output is written as
//! it is produced, so a value text.py chokes on leaves the lines before the
//! crash on stdout, exactly as the real CLI does.

use super::PyException;
use super::parse::type_name;
use crate::py::PyValue;

/// Appends the text form of `value` to `out`; on a Python-level crash, `out`
/// holds what AWS CLI had written before it.
pub(super) fn format_text(value: &PyValue, out: &mut String) -> Result<(), PyException> {
    format_item(value, None, None, out)
}

fn is_scalar(v: &PyValue) -> bool {
    !matches!(v, PyValue::List(_) | PyValue::Dict(_) | PyValue::OrderedDict(_))
}

fn format_item(
    item: &PyValue,
    identifier: Option<&str>,
    scalar_keys: Option<&[String]>,
    out: &mut String,
) -> Result<(), PyException> {
    match item {
        PyValue::Dict(e) | PyValue::OrderedDict(e) => format_dict(scalar_keys, e, identifier, out),
        PyValue::List(items) => format_list(items, identifier, out),
        scalar => {
            out.push_str(&scalar.py_str());
            out.push('\n');
            Ok(())
        }
    }
}

fn format_list(items: &[PyValue], identifier: Option<&str>, out: &mut String) -> Result<(), PyException> {
    if items.is_empty() {
        return Ok(());
    }
    if items.iter().any(PyValue::is_dict) {
        let all_keys = all_scalar_keys(items)?;
        for element in items {
            format_item(element, identifier, Some(&all_keys), out)?;
        }
    } else if items.iter().any(|v| matches!(v, PyValue::List(_))) {
        let (scalars, non_scalars): (Vec<&PyValue>, Vec<&PyValue>) = items.iter().partition(|v| is_scalar(v));
        if !scalars.is_empty() {
            format_scalar_list(&scalars, identifier, out);
        }
        for non_scalar in non_scalars {
            format_item(non_scalar, identifier, None, out)?;
        }
    } else {
        format_scalar_list(&items.iter().collect::<Vec<_>>(), identifier, out);
    }
    Ok(())
}

fn format_scalar_list(elements: &[&PyValue], identifier: Option<&str>, out: &mut String) {
    match identifier {
        Some(ident) => {
            let upper = ident.to_uppercase();
            for item in elements {
                out.push_str(&upper);
                out.push('\t');
                out.push_str(&item.py_str());
                out.push('\n');
            }
        }
        None => {
            let joined: Vec<String> = elements.iter().map(|v| v.py_str()).collect();
            out.push_str(&joined.join("\t"));
            out.push('\n');
        }
    }
}

fn format_dict(
    scalar_keys: Option<&[String]>,
    entries: &[(String, PyValue)],
    identifier: Option<&str>,
    out: &mut String,
) -> Result<(), PyException> {
    let (mut scalars, non_scalars) = partition_dict(entries, scalar_keys);
    if !scalars.is_empty() {
        if let Some(ident) = identifier {
            scalars.insert(0, ident.to_uppercase());
        }
        out.push_str(&scalars.join("\t"));
        out.push('\n');
    }
    for (key, value) in non_scalars {
        format_item(value, Some(key), None, out)?;
    }
    Ok(())
}

/// The sorted union of the keys holding scalars in a list of dicts; `.items()`
/// on an element that is not a dict is the crash text.py has there.
fn all_scalar_keys(items: &[PyValue]) -> Result<Vec<String>, PyException> {
    let mut keys: Vec<String> = Vec::new();
    for item in items {
        let entries = item
            .entries()
            .ok_or_else(|| PyException(format!("'{}' object has no attribute 'items'", type_name(item))))?;
        for (k, v) in entries {
            if is_scalar(v) {
                keys.push(k.clone());
            }
        }
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// `_partition_dict`: the scalar values as `str()`s and the remaining `(key, value)` pairs.
/// With `scalar_keys` given, every listed key yields a cell (`''` when missing,
/// `str(value)` even for a nested value) and every other key is "non-scalar".
fn partition_dict<'a>(
    entries: &'a [(String, PyValue)],
    scalar_keys: Option<&[String]>,
) -> (Vec<String>, Vec<(&'a str, &'a PyValue)>) {
    let mut scalar = Vec::new();
    let mut non_scalar = Vec::new();
    match scalar_keys {
        None => {
            let mut sorted: Vec<&(String, PyValue)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in sorted {
                if is_scalar(v) {
                    scalar.push(v.py_str());
                } else {
                    non_scalar.push((k.as_str(), v));
                }
            }
        }
        Some(keys) => {
            for key in keys {
                let cell = entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.py_str()).unwrap_or_default();
                scalar.push(cell);
            }
            let mut remaining: Vec<&(String, PyValue)> = entries.iter().filter(|(k, _)| !keys.contains(k)).collect();
            remaining.sort_by(|a, b| a.0.cmp(&b.0));
            non_scalar.extend(remaining.into_iter().map(|(k, v)| (k.as_str(), v)));
        }
    }
    (scalar, non_scalar)
}
