//! What the worker sends besides the job protocol's basics: the poll's
//! `queryParam` (`--query-param KEY=VALUE`) and the output variables a
//! command writes to `$CPJOBS_OUTPUT_VARIABLES_FILE`, both checked against
//! the model's constraints before they are sent, so a mistake is reported
//! as what it is rather than as the service's `ValidationException`.

use serde_json::{Map, Value};

/// `PollForJobs`' `queryParam` holds at most this many entries (`QueryParamMap` max 1).
const QUERY_PARAMS_MAX: usize = 1;
/// `ActionConfigurationKey` and `ActionConfigurationQueryableValue`: 1 to 50 characters.
const QUERY_PART_MAX: usize = 50;
/// The most output variables (as JSON text) one action may produce, as CodePipeline's quotas say.
pub const OUTPUT_VARIABLES_MAX: usize = 122_880;

/// Adds one `--query-param KEY=VALUE` to `map`, checked as the model wants it.
pub fn add_query_param(map: &mut Map<String, Value>, arg: &str) -> Result<(), String> {
    let (k, v) = arg.split_once('=').ok_or(format!("--query-param: {arg:?} is not KEY=VALUE"))?;
    if k.is_empty() || k.chars().count() > QUERY_PART_MAX {
        return Err(format!("--query-param: the key {k:?} must be 1 to {QUERY_PART_MAX} characters"));
    }
    let value_ok = |v: &str| {
        (1..=QUERY_PART_MAX).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !value_ok(v) {
        return Err(format!(
            "--query-param: the value {v:?} must be 1 to {QUERY_PART_MAX} letters, digits, '_' or '-' (a queryable value)"
        ));
    }
    map.insert(k.to_owned(), Value::String(v.to_owned()));
    if map.len() > QUERY_PARAMS_MAX {
        return Err(format!("--query-param: PollForJobs takes at most {QUERY_PARAMS_MAX} query parameter"));
    }
    Ok(())
}

/// Reads output variables: a JSON object of strings, or `KEY=VALUE` lines
/// (blank lines skipped; the value is the rest of the line, kept as written).
/// Keys follow the model's `[A-Za-z0-9@\-_]+`; all of it within [`OUTPUT_VARIABLES_MAX`].
pub fn parse_output_variables(text: &str) -> Result<Map<String, Value>, String> {
    let mut vars = Map::new();
    if text.trim_start().starts_with('{') {
        let parsed: Value =
            serde_json::from_str(text).map_err(|e| format!("the output variables file is not valid JSON: {e}"))?;
        for (k, v) in parsed.as_object().into_iter().flatten() {
            let Some(v) = v.as_str() else {
                return Err(format!("the output variable {k:?} is not a string"));
            };
            vars.insert(k.clone(), Value::String(v.to_owned()));
        }
    } else {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (k, v) =
                line.split_once('=').ok_or(format!("line {} of the output variables file is not KEY=VALUE", n + 1))?;
            vars.insert(k.trim().to_owned(), Value::String(v.to_owned()));
        }
    }
    if let Some(k) =
        vars.keys().find(|k| k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || "@-_".contains(c)))
    {
        return Err(format!("the output variable name {k:?} is not letters, digits, '@', '-' or '_'"));
    }
    let size = Value::Object(vars.clone()).to_string().len();
    if size > OUTPUT_VARIABLES_MAX {
        return Err(format!(
            "the output variables take {size} characters, more than the {OUTPUT_VARIABLES_MAX} an action may produce"
        ));
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_params_follow_the_model() {
        let mut m = Map::new();
        add_query_param(&mut m, "Branch=main-2").unwrap();
        assert_eq!(Value::Object(m.clone()), json!({"Branch": "main-2"}));
        assert!(add_query_param(&mut m, "Other=x").unwrap_err().contains("at most 1"));
        let err = |a: &str| add_query_param(&mut Map::new(), a).unwrap_err();
        assert!(err("novalue").contains("KEY=VALUE"));
        assert!(err("=x").contains("key"));
        assert!(err("K=a b").contains("queryable value"));
        assert!(err(&format!("K={}", "v".repeat(51))).contains("1 to 50"));
    }

    #[test]
    fn output_variables_are_read_as_json_or_lines_and_checked() {
        assert_eq!(
            Value::Object(parse_output_variables("{\"Version\": \"1.2\", \"commit@id\": \"abc\"}").unwrap()),
            json!({"Version": "1.2", "commit@id": "abc"})
        );
        assert_eq!(
            Value::Object(parse_output_variables("Version=1.2\n\nURL=https://x/?a=b\n").unwrap()),
            json!({"Version": "1.2", "URL": "https://x/?a=b"})
        );
        assert!(parse_output_variables("{\"N\": 3}").unwrap_err().contains("not a string"));
        assert!(parse_output_variables("{oops").unwrap_err().contains("not valid JSON"));
        assert!(parse_output_variables("just words").unwrap_err().contains("line 1"));
        assert!(parse_output_variables("bad name=1").unwrap_err().contains("\"bad name\""));
        let big = format!("V={}", "x".repeat(OUTPUT_VARIABLES_MAX));
        assert!(parse_output_variables(&big).unwrap_err().contains("122880"));
    }
}
