//! The rule types of stage conditions that cpjobs runs, what their
//! configuration must hold, and how one rule is evaluated.
//!
//! cpjobs runs the two rule types that need no other AWS service:
//! `VariableCheck` (a variable of the execution compared with a value) and
//! `DeploymentWindow` (a cron window in a time zone). The others AWS has
//! (`CloudWatchAlarm`, `LambdaInvoke`, the `Commands` rule run by CodeBuild)
//! would need a service cpjobs does not have: a declaration naming one is
//! refused, never stored and ignored.

use serde_json::{Map, Value, json};

use crate::ErrorCode;
use crate::api::Caller;
use crate::cron::{Window, time_zone};
use crate::fail::{Res, fail};
use crate::input::opt_str;
use crate::store::{Millis, Tx};

/// `VariableCheck`'s provider name.
pub(crate) const VARIABLE_CHECK: &str = "VariableCheck";
/// `DeploymentWindow`'s provider name.
pub(crate) const DEPLOYMENT_WINDOW: &str = "DeploymentWindow";

/// The operators of `VariableCheck`, as AWS's rule reference lists them.
const OPERATORS: &[&str] = &["EQ", "NE", "CONTAINS", "MATCHES"];

/// A configuration property of a rule type: (name, required, description).
type Property = (&'static str, bool, &'static str);

/// The rule types cpjobs runs: provider and properties.
const RULE_TYPES: &[(&str, &[Property])] = &[
    (
        DEPLOYMENT_WINDOW,
        &[
            ("Cron", true, "When the window is open: six or seven cron fields, seconds first (seconds take only *)"),
            ("TimeZone", false, "The IANA time zone the cron fields are read in; UTC when left out"),
        ],
    ),
    (
        VARIABLE_CHECK,
        &[
            ("Variable", true, "The variable to check, as a reference such as #{SourceVariables.ETag}"),
            ("Value", true, "The value the variable is compared with"),
            ("Operator", true, "EQ, NE, CONTAINS (the variable holds the value) or MATCHES (a regular expression)"),
        ],
    ),
];

/// Rule types AWS runs with another service, and that service.
const ELSEWHERE: &[(&str, &str)] =
    &[("CloudWatchAlarm", "Amazon CloudWatch"), ("LambdaInvoke", "AWS Lambda"), ("Commands", "AWS CodeBuild")];

/// `ListRuleTypes`: the rule types above, in the model's `RuleType` shape. A
/// `regionFilter` other than the service's region lists none (cpjobs runs
/// one region); `ruleOwnerFilter` can only be `AWS`, the owner of every one.
pub(crate) fn list_types(_tx: &mut dyn Tx, _caller: &Caller, input: &Value, region: &str) -> Res<Value> {
    if opt_str(input, "regionFilter")?.is_some_and(|r| r != region) {
        return Ok(json!({"ruleTypes": []}));
    }
    let types: Vec<Value> = RULE_TYPES
        .iter()
        .map(|(provider, props)| {
            json!({
                "id": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
                "ruleConfigurationProperties": props.iter().map(|(name, required, description)| json!({
                    "name": name, "required": required, "key": *required, "secret": false,
                    "queryable": false, "description": description, "type": "String",
                })).collect::<Vec<_>>(),
                "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
            })
        })
        .collect();
    Ok(json!({"ruleTypes": types}))
}

fn refuse<T>(stage: &str, rule: &str, why: impl std::fmt::Display) -> Res<T> {
    fail(ErrorCode::InvalidStageDeclarationException, format!("Rule '{rule}' of stage '{stage}': {why}"))
}

/// Checks one rule declaration of stage `stage` (its references are checked
/// by the caller, which knows what runs before the condition).
pub(crate) fn check(rule: &Value, stage: &str, region: &str) -> Res<()> {
    let name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
    let id = rule.get("ruleTypeId").cloned().unwrap_or(Value::Null);
    let provider = id.get("provider").and_then(Value::as_str).unwrap_or_default();
    if let Some((_, service)) = ELSEWHERE.iter().find(|(p, _)| *p == provider) {
        return refuse(
            stage,
            name,
            format!(
                "the {provider} rule type needs {service}, which cpjobs does not have; use VariableCheck or DeploymentWindow"
            ),
        );
    }
    let Some((_, props)) = RULE_TYPES.iter().find(|(p, _)| *p == provider) else {
        return refuse(
            stage,
            name,
            format!("there is no rule type '{provider}': cpjobs runs VariableCheck and DeploymentWindow"),
        );
    };
    if id.get("version").and_then(Value::as_str).is_some_and(|v| v != "1") {
        return refuse(stage, name, format!("the {provider} rule type has version 1 only"));
    }
    for member in ["inputArtifacts", "commands"] {
        if rule.get(member).and_then(Value::as_array).is_some_and(|l| !l.is_empty()) {
            return refuse(stage, name, format!("the {provider} rule type takes no {member}"));
        }
    }
    if let Some(r) = rule.get("region").and_then(Value::as_str).filter(|r| *r != region) {
        return refuse(stage, name, format!("the rule's region {r} is not the pipeline's region {region}"));
    }
    let config = rule.get("configuration").and_then(Value::as_object).cloned().unwrap_or_default();
    for key in config.keys() {
        if !props.iter().any(|(p, _, _)| p == key) {
            return refuse(stage, name, format!("the {provider} rule type has no configuration property '{key}'"));
        }
    }
    for (p, required, _) in props.iter() {
        if *required && !config.contains_key(*p) {
            return refuse(stage, name, format!("the {provider} rule type requires the configuration property '{p}'"));
        }
    }
    let get = |k: &str| config.get(k).and_then(Value::as_str);
    match provider {
        VARIABLE_CHECK => {
            let op = get("Operator").unwrap_or_default();
            if !OPERATORS.contains(&op) {
                return refuse(stage, name, format!("Operator '{op}' is none of {}", OPERATORS.join(", ")));
            }
            // A pattern with no reference in it can be checked now; one with references when it runs.
            let value = get("Value").unwrap_or_default();
            if op == "MATCHES"
                && crate::variables::references(value).is_empty()
                && let Err(e) = regex::Regex::new(value)
            {
                return refuse(stage, name, format!("Value is not a regular expression: {e}"));
            }
        }
        _ => {
            if let Err(e) = Window::parse(get("Cron").unwrap_or_default()) {
                return refuse(stage, name, format!("Cron is not a valid expression: {e}"));
            }
            if let Err(e) = time_zone(get("TimeZone")) {
                return refuse(stage, name, e);
            }
        }
    }
    Ok(())
}

/// What one evaluation of a rule found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// The rule passes, with a summary of why.
    Pass(String),
    /// The rule fails: (error code, message).
    Fail(String, String),
    /// The rule cannot tell yet (a window not open): ask again at this time
    /// (`None`: the expression opens no window within the next years).
    Later(Option<Millis>, String),
}

/// Evaluates a rule whose configuration has been resolved (`config`), at `now`.
pub(crate) fn evaluate(provider: &str, config: &Map<String, Value>, now: Millis) -> Verdict {
    let get = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or_default();
    match provider {
        VARIABLE_CHECK => {
            let (variable, value, op) = (get("Variable"), get("Value"), get("Operator"));
            let pass = match op {
                "EQ" => variable == value,
                "NE" => variable != value,
                "CONTAINS" => variable.contains(value),
                "MATCHES" => match regex::Regex::new(value) {
                    Ok(re) => re.is_match(variable),
                    Err(e) => {
                        return Verdict::Fail(
                            "InvalidConfiguration".into(),
                            format!("Value is not a regular expression: {e}"),
                        );
                    }
                },
                other => return Verdict::Fail("InvalidConfiguration".into(), format!("Unknown operator {other}")),
            };
            let summary = format!("'{variable}' {op} '{value}' is {pass}");
            if pass { Verdict::Pass(summary) } else { Verdict::Fail("RuleCheckFailed".into(), summary) }
        }
        DEPLOYMENT_WINDOW => {
            let zone = config.get("TimeZone").and_then(Value::as_str);
            let (window, tz) = match (Window::parse(get("Cron")), time_zone(zone)) {
                (Ok(w), Ok(tz)) => (w, tz),
                (Err(e), _) | (_, Err(e)) => return Verdict::Fail("InvalidConfiguration".into(), e),
            };
            let zone = zone.unwrap_or("UTC");
            if window.contains(now, &tz) {
                Verdict::Pass(format!("Inside the deployment window '{}' ({zone})", get("Cron")))
            } else {
                let next = window.next_open(now, &tz);
                Verdict::Later(next, format!("Outside the deployment window '{}' ({zone})", get("Cron")))
            }
        }
        other => Verdict::Fail("InvalidConfiguration".into(), format!("cpjobs does not run the {other} rule type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect()
    }

    #[test]
    fn variable_checks() {
        let check = |v: &str, op: &str, value: &str| {
            evaluate(VARIABLE_CHECK, &config(&[("Variable", v), ("Operator", op), ("Value", value)]), 0)
        };
        assert!(matches!(check("prod", "EQ", "prod"), Verdict::Pass(_)));
        assert!(matches!(check("prod", "NE", "prod"), Verdict::Fail(..)));
        assert!(matches!(check("release-1.2", "CONTAINS", "1.2"), Verdict::Pass(_)));
        assert!(matches!(check("release-1.2", "MATCHES", r"^release-\d+\.\d+$"), Verdict::Pass(_)));
        assert!(matches!(check("main", "MATCHES", r"^release-"), Verdict::Fail(..)));
        assert!(matches!(check("x", "MATCHES", "("), Verdict::Fail(code, _) if code == "InvalidConfiguration"));
    }

    #[test]
    fn deployment_windows_pass_inside_and_wait_outside() {
        // 1_800_000_000_000 ms is 2027-01-15 08:00 UTC, a Friday.
        let c = config(&[("Cron", "* * 9-17 ? * MON-FRI *")]);
        match evaluate(DEPLOYMENT_WINDOW, &c, 1_800_000_000_000) {
            Verdict::Later(Some(at), _) => assert_eq!(at, 1_800_000_000_000 + 3_600_000),
            other => panic!("{other:?}"),
        }
        assert!(matches!(evaluate(DEPLOYMENT_WINDOW, &c, 1_800_000_000_000 + 3_600_000), Verdict::Pass(_)));
    }

    #[test]
    fn declarations_are_checked() {
        let rule = |provider: &str, configuration: Value| {
            json!({"name": "r", "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
                   "configuration": configuration})
        };
        let ok = |r: Value| check(&r, "S", "us-east-1").is_ok();
        assert!(ok(rule("VariableCheck", json!({"Variable": "#{variables.Env}", "Value": "prod", "Operator": "EQ"}))));
        assert!(!ok(rule("VariableCheck", json!({"Variable": "x", "Value": "y", "Operator": "GT"}))));
        assert!(!ok(rule("VariableCheck", json!({"Variable": "x", "Value": "(", "Operator": "MATCHES"}))));
        assert!(!ok(rule("VariableCheck", json!({"Variable": "x", "Operator": "EQ"}))), "Value is required");
        assert!(ok(rule("DeploymentWindow", json!({"Cron": "* * 9-17 ? * MON-FRI *", "TimeZone": "Europe/Paris"}))));
        assert!(!ok(rule("DeploymentWindow", json!({"Cron": "0 9 * * *"}))));
        assert!(!ok(rule("DeploymentWindow", json!({"Cron": "* * * ? * *", "TimeZone": "Nowhere/City"}))));
        assert!(!ok(rule("DeploymentWindow", json!({"Cron": "* * * ? * *", "Extra": "1"}))));
        for elsewhere in ["CloudWatchAlarm", "LambdaInvoke", "Commands", "Nope"] {
            assert!(!ok(rule(elsewhere, json!({}))), "{elsewhere}");
        }
    }
}
