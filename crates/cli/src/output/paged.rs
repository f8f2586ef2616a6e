//! What AWS CLI formats for a paginated operation (`list-pipelines`, ...).
//!
//! AWS CLI pages through such operations itself and hands its formatter a
//! botocore `PageIterator` instead of one response, which changes the output:
//! - json and table print `PageIterator.build_full_result()`: the result keys
//!   of every page concatenated (the output token and other members gone),
//!   then `NextToken` when `--max-items` stopped early;
//! - text prints each page as it arrives, reduced to its result keys (a page
//!   without one prints `None`), then `NextToken\t<token>` when stopped early;
//!   `--query` applies to each of those values separately.
//!
//! These functions build those values; the caller applies `--query` and
//! hands each one to [`super::write_output`]. CodePipeline's paginators have
//! one plain result key each and no `non_aggregate_keys`.

use crate::py::PyValue;

/// `PageIterator.build_full_result()` over the parsed `pages` (as yielded, so
/// already cut by `--max-items`), for json and table output.
pub fn full_result(pages: &[PyValue], result_keys: &[&str], resume_token: Option<&str>) -> PyValue {
    let mut complete: Vec<(String, PyValue)> = Vec::new();
    for page in pages {
        for &key in result_keys {
            // A missing key and an explicit null both read as None and are skipped.
            let Some(value) = page.get(key).filter(|v| **v != PyValue::None) else { continue };
            match complete.iter_mut().find(|(k, _)| k == key) {
                None => complete.push((key.to_owned(), value.clone())),
                Some((_, PyValue::List(existing))) => {
                    if let PyValue::List(more) = value {
                        existing.extend(more.iter().cloned());
                    }
                }
                // The parser makes every result key (a list shape) a list.
                Some(_) => {}
            }
        }
    }
    if let Some(token) = resume_token {
        complete.push(("NextToken".into(), PyValue::str(token)));
    }
    PyValue::Dict(complete)
}

/// The value `TextFormatter` formats for one page: the page's result keys,
/// `None` where the page has none. `--query` applies to this value.
pub fn text_page(page: &PyValue, result_keys: &[&str]) -> PyValue {
    PyValue::Dict(result_keys.iter().map(|&k| (k.to_owned(), page.get(k).cloned().unwrap_or(PyValue::None))).collect())
}

/// The value `TextFormatter` formats after the last page when `--max-items`
/// stopped early: `{'NextToken': {'NextToken': token}}` (`--query` applies to it too).
pub fn text_resume_token(token: &str) -> PyValue {
    PyValue::Dict(vec![("NextToken".into(), PyValue::Dict(vec![("NextToken".into(), PyValue::str(token))]))])
}
