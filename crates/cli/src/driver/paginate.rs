//! Automatic pagination, as botocore's `PageIterator` does it for AWS CLI:
//! call, take the output token, call again with it, until no token comes
//! back; `--page-size` sets the limit key, `--max-items` truncates and
//! leaves a resume token, `--starting-token` resumes (with the truncation
//! amount stored in it). Pages are handed to a callback as they arrive,
//! because AWS CLI's text output prints each page before asking for the next.

use cpjobs_model::Paginator;

use super::token;
use crate::error::CliError;
use crate::py::PyValue;

/// `PaginationConfig`: what the paging arguments asked for.
#[derive(Debug, Clone, Default)]
pub struct PageConfig {
    /// `--max-items`, after `int()`.
    pub max_items: Option<i128>,
    /// `--page-size`, after `int()` (canonical decimal text).
    pub page_size: Option<String>,
    /// `--starting-token`.
    pub starting_token: Option<String>,
}

fn dict_set(entries: &mut Vec<(String, PyValue)>, key: &str, value: PyValue) {
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => entries.push((key.to_owned(), value)),
    }
}

fn entries_mut(v: &mut PyValue) -> Option<&mut Vec<(String, PyValue)>> {
    match v {
        PyValue::Dict(e) | PyValue::OrderedDict(e) => Some(e),
        _ => None,
    }
}

/// Python's `seq[:k]` / `seq[k:]` bound for a length: negative counts from the end.
fn py_index(len: usize, k: i128) -> usize {
    if k >= 0 { (k as usize).min(len) } else { (len as i128 + k).max(0) as usize }
}

/// `len()` of a result (lists, and strings as Python counts them).
fn py_len(v: &PyValue) -> usize {
    match v {
        PyValue::List(l) => l.len(),
        PyValue::Str(s) => s.chars().count(),
        _ => 0,
    }
}

/// Parses `--starting-token`: the token dict and the number of items of the first page already seen.
fn parse_starting_token(p: &Paginator, starting: &str) -> Result<(Vec<(String, PyValue)>, i128), CliError> {
    if let Some(mut t) = token::decode(starting) {
        let mut index = 0;
        if let Some(pos) = t.iter().position(|(k, _)| k == "boto_truncate_amount") {
            if let PyValue::Int(n) = &t[pos].1 {
                index = n.parse().unwrap_or(0);
            }
            t.remove(pos);
        }
        return Ok((t, index));
    }
    // `_parse_starting_token_deprecated`: `token___index`, or the bare service token.
    let mut parts: Vec<&str> = starting.split("___").collect();
    let mut index = 0;
    if parts.len() == 2 {
        match parts[1].trim().parse::<i128>() {
            Ok(i) => {
                index = i;
                parts.pop();
            }
            Err(_) => parts = vec![starting],
        }
    }
    if parts.len() > 1 {
        return Err(CliError::general(format!("Bad starting token: {starting}")));
    }
    let v = if parts[0] == "None" { PyValue::None } else { PyValue::str(parts[0]) };
    Ok((vec![(p.input_token.clone(), v)], index))
}

/// Runs the pages of one paginated call. `fetch` sends one request with the
/// given parameters and returns the parsed page; `on_page` receives each
/// page (already truncated). Returns the resume token, if `--max-items`
/// stopped before the end.
pub(super) fn paginate(
    p: &Paginator,
    params: &PyValue,
    config: &PageConfig,
    fetch: &mut dyn FnMut(&PyValue) -> Result<PyValue, CliError>,
    on_page: &mut dyn FnMut(PyValue) -> Result<(), CliError>,
) -> Result<Option<String>, CliError> {
    let mut kwargs = params.clone();
    if !kwargs.is_dict() {
        kwargs = PyValue::Dict(Vec::new());
    }
    let mut next_token: Vec<(String, PyValue)> = vec![(p.input_token.clone(), PyValue::None)];
    let mut starting_truncation: i128 = 0;
    if let Some(start) = &config.starting_token {
        let (t, index) = parse_starting_token(p, start)?;
        next_token = t;
        starting_truncation = index;
        inject(&mut kwargs, &next_token);
    }
    if let (Some(size), Some(limit)) = (&config.page_size, &p.limit_key)
        && let Some(e) = entries_mut(&mut kwargs)
    {
        dict_set(e, limit, PyValue::Int(size.clone()));
    }
    let mut previous: Option<Vec<(String, PyValue)>> = None;
    let mut total: i128 = 0;
    let mut first = true;
    loop {
        let mut page = fetch(&kwargs)?;
        if first {
            if config.starting_token.is_some() {
                let sliced = match page.get(&p.result_key) {
                    Some(PyValue::List(l)) => PyValue::List(l[py_index(l.len(), starting_truncation)..].to_vec()),
                    Some(PyValue::Str(s)) => {
                        let chars: Vec<char> = s.chars().collect();
                        PyValue::Str(chars[py_index(chars.len(), starting_truncation)..].iter().collect())
                    }
                    _ => PyValue::None,
                };
                if let Some(e) = entries_mut(&mut page) {
                    dict_set(e, &p.result_key, sliced);
                }
            }
            first = false;
        } else {
            starting_truncation = 0;
        }
        let count = page.get(&p.result_key).map(py_len).unwrap_or(0) as i128;
        let truncate = config.max_items.map(|m| total + count - m).unwrap_or(0);
        if truncate > 0 {
            // `_truncate_response`: `original[:len - truncate]` (a missing key reads as []),
            // with Python's slicing, so a negative --max-items counts from the end.
            let keep = count - truncate;
            let truncated = match page.get(&p.result_key) {
                Some(PyValue::Str(s)) => {
                    let chars: Vec<char> = s.chars().collect();
                    PyValue::Str(chars[..py_index(chars.len(), keep)].iter().collect())
                }
                Some(PyValue::List(l)) => PyValue::List(l[..py_index(l.len(), keep)].to_vec()),
                _ => PyValue::List(Vec::new()),
            };
            if let Some(e) = entries_mut(&mut page) {
                dict_set(e, &p.result_key, truncated);
            }
            let mut resume = next_token.clone();
            dict_set(&mut resume, "boto_truncate_amount", PyValue::Int((keep + starting_truncation).to_string()));
            let resume = resume_token(p, &resume)?;
            on_page(page)?;
            return Ok(Some(resume));
        }
        let token_value = page.get(&p.output_token).cloned();
        on_page(page)?;
        total += count;
        let t = match token_value {
            Some(v) if truthy(&v) => v,
            _ => PyValue::None,
        };
        next_token = vec![(p.input_token.clone(), t)];
        if next_token.iter().all(|(_, v)| *v == PyValue::None) {
            return Ok(None);
        }
        if config.max_items == Some(total) {
            return Ok(Some(resume_token(p, &next_token)?));
        }
        if previous.as_ref() == Some(&next_token) {
            return Err(CliError::general(format!(
                "Error during pagination: The same next token was received twice: {}",
                PyValue::Dict(next_token).repr()
            )));
        }
        inject(&mut kwargs, &next_token);
        previous = Some(next_token.clone());
    }
}

/// The `resume_token` setter: the keys must be the input tokens (plus the truncation amount).
fn resume_token(p: &Paginator, value: &[(String, PyValue)]) -> Result<String, CliError> {
    let mut expected = vec![p.input_token.clone()];
    if value.iter().any(|(k, _)| k == "boto_truncate_amount") {
        expected.push("boto_truncate_amount".to_owned());
    }
    expected.sort();
    let mut keys: Vec<String> = value.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    if keys != expected {
        return Err(CliError::general(format!("Bad starting token: {}", PyValue::Dict(value.to_vec()).repr())));
    }
    Ok(token::encode(value))
}

/// Python truthiness of a token value.
fn truthy(v: &PyValue) -> bool {
    match v {
        PyValue::None => false,
        PyValue::Bool(b) => *b,
        PyValue::Int(s) => s != "0",
        PyValue::Float(f) => *f != 0.0,
        PyValue::Str(s) => !s.is_empty(),
        PyValue::Bytes(b) => !b.is_empty(),
        PyValue::List(l) => !l.is_empty(),
        PyValue::Dict(e) | PyValue::OrderedDict(e) => !e.is_empty(),
    }
}

/// `_inject_token_into_kwargs`: set the tokens that have a value, remove the others.
fn inject(kwargs: &mut PyValue, token: &[(String, PyValue)]) {
    let Some(e) = entries_mut(kwargs) else { return };
    for (name, value) in token {
        let absent = *value == PyValue::None || *value == PyValue::str("None");
        if absent {
            e.retain(|(k, _)| k != name);
        } else {
            dict_set(e, name, value.clone());
        }
    }
}

/// `build_full_result`: the result lists of all pages joined, plus `NextToken` when truncated.
pub(super) fn build_full_result(p: &Paginator, pages: &[PyValue], resume: Option<&str>) -> PyValue {
    let mut complete: Vec<(String, PyValue)> = Vec::new();
    for page in pages {
        let Some(value) = page.get(&p.result_key) else { continue };
        if *value == PyValue::None {
            continue;
        }
        match complete.iter_mut().find(|(k, _)| *k == p.result_key) {
            None => complete.push((p.result_key.clone(), value.clone())),
            Some((_, existing)) => match (existing, value) {
                (PyValue::List(a), PyValue::List(b)) => a.extend(b.iter().cloned()),
                (PyValue::Str(a), PyValue::Str(b)) => a.push_str(b),
                _ => {}
            },
        }
    }
    if let Some(r) = resume {
        complete.push(("NextToken".to_owned(), PyValue::str(r)));
    }
    PyValue::Dict(complete)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager() -> Paginator {
        Paginator {
            input_token: "nextToken".into(),
            output_token: "nextToken".into(),
            limit_key: Some("maxResults".into()),
            result_key: "pipelines".into(),
        }
    }

    fn page(items: &[&str], next: Option<&str>) -> PyValue {
        let mut e = vec![("pipelines".to_owned(), PyValue::List(items.iter().map(|s| PyValue::str(*s)).collect()))];
        if let Some(n) = next {
            e.push(("nextToken".to_owned(), PyValue::str(n)));
        }
        PyValue::Dict(e)
    }

    /// Serves pages keyed by the token in the request, recording the requests.
    fn run(config: &PageConfig) -> (Vec<PyValue>, Vec<PyValue>, Option<String>) {
        let mut requests = Vec::new();
        let mut pages = Vec::new();
        let resume = paginate(
            &pager(),
            &PyValue::Dict(vec![]),
            config,
            &mut |kw| {
                requests.push(kw.clone());
                Ok(match kw.get("nextToken") {
                    None => page(&["a", "b"], Some("t1")),
                    Some(t) if *t == PyValue::str("t1") => page(&["c", "d"], Some("t2")),
                    _ => page(&["e"], None),
                })
            },
            &mut |p| {
                pages.push(p);
                Ok(())
            },
        )
        .unwrap();
        (requests, pages, resume)
    }

    #[test]
    fn follows_tokens_and_merges() {
        let (requests, pages, resume) = run(&PageConfig::default());
        assert_eq!(requests.len(), 3);
        assert_eq!(resume, None);
        let full = build_full_result(&pager(), &pages, None);
        assert_eq!(full, page(&["a", "b", "c", "d", "e"], None));
    }

    #[test]
    fn max_items_truncates_and_resumes() {
        let (requests, pages, resume) =
            run(&PageConfig { max_items: Some(3), page_size: Some("2".into()), starting_token: None });
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0], PyValue::Dict(vec![("maxResults".into(), PyValue::int(2))]));
        let resume = resume.unwrap();
        let full = build_full_result(&pager(), &pages, Some(&resume));
        assert_eq!(full.get("pipelines"), page(&["a", "b", "c"], None).get("pipelines"));
        assert_eq!(token::decode(&resume).unwrap()[1], ("boto_truncate_amount".to_owned(), PyValue::int(1)));
        let (requests, pages, resume) = run(&PageConfig { starting_token: Some(resume), ..PageConfig::default() });
        assert_eq!(requests[0].get("nextToken"), Some(&PyValue::str("t1")));
        assert_eq!(build_full_result(&pager(), &pages, resume.as_deref()), page(&["d", "e"], None));
    }

    #[test]
    fn negative_max_items_slices_like_python() {
        // botocore: truncate = 0 + 2 - (-3) = 5, keep = -3: `['a', 'b'][:-3]` is [] and the token says -3.
        let (requests, pages, resume) = run(&PageConfig { max_items: Some(-3), ..PageConfig::default() });
        assert_eq!(requests.len(), 1);
        assert_eq!(pages[0].get("pipelines"), Some(&PyValue::List(vec![])));
        assert_eq!(token::decode(&resume.unwrap()).unwrap()[1].1, PyValue::int(-3));
        let (_, pages, _) = run(&PageConfig { max_items: Some(-1), ..PageConfig::default() });
        assert_eq!(pages[0].get("pipelines"), page(&["a"], None).get("pipelines"));
    }

    #[test]
    fn exact_max_items_and_repeated_token() {
        let (_, _, resume) = run(&PageConfig { max_items: Some(2), ..PageConfig::default() });
        // What AWS CLI prints after exactly two items of a page ending in token t1.
        assert_eq!(resume.as_deref(), Some("eyJuZXh0VG9rZW4iOiAidDEifQ=="));
        let err = paginate(
            &pager(),
            &PyValue::Dict(vec![]),
            &PageConfig::default(),
            &mut |_| Ok(page(&["x"], Some("same"))),
            &mut |_| Ok(()),
        )
        .unwrap_err();
        assert_eq!(
            err.stderr,
            "\nError during pagination: The same next token was received twice: {'nextToken': 'same'}\n"
        );
        let (requests, _, _) = run(&PageConfig { starting_token: Some("t2".into()), ..PageConfig::default() });
        assert_eq!(requests[0].get("nextToken"), Some(&PyValue::str("t2")));
    }
}
