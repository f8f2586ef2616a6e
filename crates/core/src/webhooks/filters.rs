//! Webhook filters: a JSONPath over the POST's body and the value it must
//! select (`matchEquals`), whose `{Key}` placeholders name properties of the
//! target action's configuration.
//!
//! What AWS leaves open, and cpjobs chooses: JSONPath is RFC 9535's (the
//! expressions webhooks use, `$.ref` or `$.pull_request.base.ref`, read the
//! same as in the Java implementation AWS links to). A filter passes when
//! any value the path selects equals `matchEquals` once its placeholders are
//! filled: a string by its text, any other value by its JSON text (`true`,
//! `42`). A filter without `matchEquals` passes when the path selects
//! anything. A placeholder must name a property the action's configuration
//! has, else `PutWebhook` refuses the filter; text in braces that could be
//! no property name (`{ }`, `{a.b}`) is kept as it is.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::error_code::ErrorCode;
use crate::fail::{Res, fail};

/// One filter of a webhook's definition.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    /// The expression as given.
    pub(crate) json_path: String,
    /// `matchEquals` as given (placeholders not filled).
    pub(crate) match_equals: Option<String>,
}

impl Filter {
    /// Reads one `WebhookFilterRule`.
    pub(crate) fn from_json(v: &Value) -> Filter {
        Filter {
            json_path: v.get("jsonPath").and_then(Value::as_str).unwrap_or_default().to_owned(),
            match_equals: v.get("matchEquals").and_then(Value::as_str).map(str::to_owned),
        }
    }

    /// Checks the filter against the target action's configuration: its path
    /// parses, and its placeholders name properties the action has.
    pub(crate) fn check(&self, configuration: &Map<String, Value>) -> Res<()> {
        if let Err(e) = JsonPath::parse(&self.json_path) {
            return fail(
                ErrorCode::InvalidWebhookFilterPatternException,
                format!("The JSONPath '{}' is not valid: {e}", self.json_path),
            );
        }
        if let Some(m) = &self.match_equals
            && let Err(missing) = fill(m, configuration)
        {
            return fail(
                ErrorCode::InvalidWebhookFilterPatternException,
                format!(
                    "matchEquals '{m}' names '{{{missing}}}', which is not a property of the target action's configuration"
                ),
            );
        }
        Ok(())
    }

    /// Whether `body` passes the filter, placeholders filled from
    /// `configuration`. A path that no longer parses, or a placeholder the
    /// action no longer has (the pipeline changed since), never passes.
    pub(crate) fn passes(&self, body: &Value, configuration: &Map<String, Value>) -> bool {
        let Ok(path) = JsonPath::parse(&self.json_path) else { return false };
        let selected = path.query(body).all();
        let Some(m) = &self.match_equals else { return !selected.is_empty() };
        let Ok(expected) = fill(m, configuration) else { return false };
        selected.iter().any(|v| match v {
            Value::String(s) => *s == expected,
            other => other.to_string() == expected,
        })
    }
}

/// Whether `name` can be a configuration property's name (the model's
/// `ActionConfigurationKey`: letters, digits, `_`, `-`).
fn is_property_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// `template` with each `{Key}` replaced by the configuration's value of
/// `Key`; `Err(Key)` for the first key the configuration lacks.
fn fill(template: &str, configuration: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_property_name(&after[..close]) => {
                let key = &after[..close];
                match configuration.get(key) {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(other) => out.push_str(&other.to_string()),
                    None => return Err(key.to_owned()),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(path: &str, m: Option<&str>) -> Filter {
        Filter { json_path: path.into(), match_equals: m.map(str::to_owned) }
    }

    fn conf() -> Map<String, Value> {
        json!({"Branch": "main", "Depth": 3}).as_object().cloned().unwrap()
    }

    #[test]
    fn placeholders_are_filled_from_the_configuration() {
        assert_eq!(fill("refs/heads/{Branch}", &conf()), Ok("refs/heads/main".into()));
        assert_eq!(fill("{Depth}-{Branch}", &conf()), Ok("3-main".into()));
        assert_eq!(fill("{Nope}", &conf()), Err("Nope".into()));
        assert_eq!(fill("a { b } {c.d} {", &conf()), Ok("a { b } {c.d} {".into()), "no property name: kept");
    }

    #[test]
    fn a_filter_passes_when_a_selected_value_equals_match_equals() {
        let body = json!({"ref": "refs/heads/main", "n": 42, "ok": true, "commits": [{"id": "a"}, {"id": "b"}]});
        assert!(filter("$.ref", Some("refs/heads/{Branch}")).passes(&body, &conf()));
        assert!(!filter("$.ref", Some("refs/heads/dev")).passes(&body, &conf()));
        assert!(filter("$.n", Some("42")).passes(&body, &conf()), "numbers by their JSON text");
        assert!(filter("$.ok", Some("true")).passes(&body, &conf()));
        assert!(filter("$.commits[*].id", Some("b")).passes(&body, &conf()), "any selected value");
        assert!(filter("$.ref", None).passes(&body, &conf()), "without matchEquals: selects something");
        assert!(!filter("$.absent", None).passes(&body, &conf()));
        assert!(!filter("$.ref", Some("{Gone}")).passes(&body, &conf()), "a property the action lost");
    }

    #[test]
    fn bad_paths_and_unknown_placeholders_are_refused() {
        assert!(filter("$.ref", Some("refs/heads/{Branch}")).check(&conf()).is_ok());
        assert!(filter("$[?@.x == 'y']", None).check(&conf()).is_ok());
        for bad in ["ref", "$.", "$[", "$..", ""] {
            assert!(filter(bad, None).check(&conf()).is_err(), "{bad:?}");
        }
        assert!(filter("$.ref", Some("{Nope}")).check(&conf()).is_err());
    }
}
