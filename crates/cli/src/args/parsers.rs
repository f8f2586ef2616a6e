//! The three parsers AWS CLI v1 builds for one command line, with the
//! arguments it gives each: the main parser (global options from
//! `awscli/data/cli.json`, `--version`, the command), the service parser (the
//! operation) and the operation parser (the input members, `--cli-input-json`,
//! the paging arguments, `--generate-cli-skeleton`, the `help` word).
//!
//! Order matters: it is the order of argparse's `_actions`, which decides the
//! `the following arguments are required: ...` list and the candidates of an
//! ambiguous prefix, and AWS CLI builds the operation's argument table in
//! exactly this order.

use cpjobs_model::{Operation, ServiceModel, ShapeKind};

use super::argparse::{Action, ActionKind, Namespace, Nargs, Parser, ValueType};
use super::globals::GlobalArgs;
use super::usage::invalid_choice;
use crate::params::{ArgKind, ArgSpec};

/// The only service command cpjobs has.
pub const SERVICE: &str = "codepipeline";

/// The version line `--version` prints.
pub fn version_line() -> String {
    format!("cpjobs/{}", env!("CARGO_PKG_VERSION"))
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| (*x).to_owned()).collect()
}

/// The main parser: global options, then `--version`, then the command.
pub fn main_parser() -> Parser {
    let mut output = Action::option("--output", "output");
    output.choices = Some(strings(&["json", "text", "table"]));
    let mut color = Action::option("--color", "color");
    color.choices = Some(strings(&["on", "off", "auto"]));
    color.default = Some("auto".to_owned());
    let mut command = Action::positional("command", Nargs::One);
    command.required = true;
    command.choices = Some(strings(&[SERVICE, "help"]));
    Parser::new(
        vec![
            Action::flag("--debug", "debug", true, Some(false)),
            Action::option("--endpoint-url", "endpoint_url"),
            Action::flag("--no-verify-ssl", "verify_ssl", false, Some(true)),
            Action::flag("--no-paginate", "paginate", false, Some(true)),
            output,
            Action::option("--query", "query"),
            Action::option("--profile", "profile"),
            Action::option("--region", "region"),
            color,
            Action::flag("--no-sign-request", "sign_request", false, Some(true)),
            Action::option("--ca-bundle", "ca_bundle"),
            Action::option("--cli-read-timeout", "read_timeout"),
            Action::option("--cli-connect-timeout", "connect_timeout"),
            Action::flag("--v2-debug", "v2_debug", true, Some(false)),
            Action { kind: ActionKind::Version(version_line()), ..Action::flag("--version", "version", true, None) },
            command,
        ],
        invalid_choice,
    )
}

/// The global options of a parsed main namespace.
pub fn globals_from(ns: &Namespace) -> GlobalArgs {
    let s = |d: &str| ns.str(d).map(str::to_owned);
    GlobalArgs {
        debug: ns.bool("debug").unwrap_or(false),
        endpoint_url: s("endpoint_url"),
        no_verify_ssl: !ns.bool("verify_ssl").unwrap_or(true),
        no_paginate: !ns.bool("paginate").unwrap_or(true),
        output: s("output"),
        query: s("query"),
        profile: s("profile"),
        region: s("region"),
        color: s("color").unwrap_or_else(|| "auto".to_owned()),
        no_sign_request: !ns.bool("sign_request").unwrap_or(true),
        ca_bundle: s("ca_bundle"),
        cli_read_timeout: s("read_timeout"),
        cli_connect_timeout: s("connect_timeout"),
        v2_debug: ns.bool("v2_debug").unwrap_or(false),
    }
}

/// The operation names as the CLI spells them, in model order.
pub fn operation_names() -> Vec<String> {
    ServiceModel::codepipeline().operations.iter().map(|o| cpjobs_model::cli_name(&o.name)).collect()
}

/// The service parser: one positional, the operation (or `help`).
pub fn service_parser() -> Parser {
    let mut choices = operation_names();
    choices.push("help".to_owned());
    let mut operation = Action::positional("operation", Nargs::One);
    operation.required = true;
    operation.choices = Some(choices);
    Parser::new(vec![operation], invalid_choice)
}

/// The operation with this CLI name.
pub fn find_operation(cli: &str) -> Option<&'static Operation> {
    ServiceModel::codepipeline().operations.iter().find(|o| cpjobs_model::cli_name(&o.name) == cli)
}

/// The paging arguments AWS CLI adds to a pageable operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingArgs {
    /// Whether `--page-size` exists (the paginator has a limit key).
    pub page_size: bool,
    /// CLI names of the operation's own paging members (input token, limit key).
    pub manual: Vec<String>,
}

/// The paging arguments of `op`, `None` when it is not pageable.
pub fn paging_args(op: &Operation) -> Option<PagingArgs> {
    let p = ServiceModel::codepipeline().paginator(&op.name)?;
    let mut manual = vec![cpjobs_model::cli_name(&p.input_token)];
    if let Some(l) = &p.limit_key {
        manual.push(cpjobs_model::cli_name(l));
    }
    Some(PagingArgs { page_size: p.limit_key.is_some(), manual })
}

/// awscli/customizations/argrename.py for codepipeline: these `version`
/// members would clash with the global `--version`.
const RENAMES: &[(&str, &str, &str)] = &[
    ("GetPipeline", "version", "pipeline-version"),
    ("CreateCustomActionType", "version", "action-version"),
    ("DeleteCustomActionType", "version", "action-version"),
    ("GetActionType", "version", "action-version"),
];

/// The operation's argument table: `params::operation_args` with AWS CLI's
/// renames applied. `rename_argument` re-inserts the argument, so a renamed
/// one moves to the end of the members (and of `required` messages).
pub fn operation_specs(op: &Operation) -> Vec<ArgSpec> {
    let mut specs = crate::params::operation_args(op);
    for (operation, from, to) in RENAMES {
        if op.name != *operation {
            continue;
        }
        if let Some(i) = specs.iter().position(|s| s.cli_name == *from) {
            let mut spec = specs.remove(i);
            spec.cli_name = (*to).to_owned();
            specs.push(spec);
        }
    }
    specs
}

/// The namespace attribute of an argument (`py_name`).
pub fn dest(cli_name: &str) -> String {
    cli_name.replace('-', "_")
}

/// The operation parser for `op` with `specs` (from [`operation_specs`]).
///
/// `words` are the words the operation parser will see: AWS CLI drops the
/// `required` flags when `--cli-input-json`, or `--generate-cli-skeleton` not
/// followed by `output`, appears among them as an exact word.
pub fn operation_parser(op: &Operation, specs: &[ArgSpec], words: &[String]) -> Parser {
    let model = ServiceModel::codepipeline();
    let has = |w: &str| words.iter().any(|x| x == w);
    let skeleton_at = words.iter().position(|x| x == "--generate-cli-skeleton");
    let skeleton_overrides = skeleton_at.is_some_and(|i| words.get(i + 1).map(String::as_str) != Some("output"));
    let not_required = has("--cli-input-json") || skeleton_overrides;
    let mut actions = Vec::new();
    for spec in specs {
        let name = format!("--{}", spec.cli_name);
        let d = dest(&spec.cli_name);
        match spec.kind {
            ArgKind::Boolean => {
                // BooleanArgument: a `--x` / `--no-x` pair sharing one dest, default None, never required by argparse.
                actions.push(Action::flag(&name, &d, true, None));
                actions.push(Action::flag(&format!("--no-{}", spec.cli_name), &d, false, None));
            }
            _ => {
                let mut a = Action::option(&name, &d);
                a.required = spec.required && !not_required;
                if spec.kind == ArgKind::List {
                    a.nargs = Nargs::ZeroOrMore;
                }
                // CLIArgument.TYPE_MAP: only `long` converts with int() in argparse; integers stay text.
                if model.find_shape(&spec.shape).is_some_and(|s| s.kind == ShapeKind::Long) {
                    a.value_type = ValueType::Int;
                }
                actions.push(a);
            }
        }
    }
    actions.push(Action::option("--cli-input-json", "cli_input_json"));
    if let Some(paging) = paging_args(op) {
        actions.push(Action::option("--starting-token", "starting_token"));
        if paging.page_size {
            actions.push(Action { value_type: ValueType::Int, ..Action::option("--page-size", "page_size") });
        }
        actions.push(Action { value_type: ValueType::Int, ..Action::option("--max-items", "max_items") });
    }
    let mut skeleton = Action::option("--generate-cli-skeleton", "generate_cli_skeleton");
    skeleton.nargs = Nargs::Optional;
    skeleton.constant = Some("input".to_owned());
    skeleton.choices = Some(strings(&["input", "output"]));
    actions.push(skeleton);
    actions.push(Action::positional("help", Nargs::Optional));
    Parser::new(actions, invalid_choice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::argparse::Stop;

    fn words(s: &[&str]) -> Vec<String> {
        strings(s)
    }

    #[test]
    fn global_options_after_the_command() {
        let (ns, extras) = main_parser()
            .parse_known_args(&words(&[
                "codepipeline",
                "poll-for-third-party-jobs",
                "--endpoint-url",
                "http://x",
                "--action-type-id",
                "a",
                "--out=text",
                "--no-paginate",
            ]))
            .unwrap();
        let g = globals_from(&ns);
        assert_eq!(g.endpoint_url.as_deref(), Some("http://x"));
        assert_eq!(g.output.as_deref(), Some("text"));
        assert!(g.no_paginate);
        assert_eq!(g.color, "auto");
        assert_eq!(extras, words(&["poll-for-third-party-jobs", "--action-type-id", "a"]));
    }

    #[test]
    fn version_anywhere_and_prefix_ambiguity() {
        let r = main_parser().parse_known_args(&words(&["codepipeline", "x", "--version", "junk"]));
        assert_eq!(r, Err(Stop::Version(version_line())));
        let r = main_parser().parse_known_args(&words(&["codepipeline", "--v"]));
        assert_eq!(r, Err(Stop::Error("ambiguous option: --v could match --v2-debug, --version".into())));
    }

    #[test]
    fn operation_table_order_and_required() {
        let op = find_operation("list-pipelines").unwrap();
        let specs = operation_specs(op);
        let p = operation_parser(op, &specs, &[]);
        let names: Vec<String> = p.actions.iter().map(|a| a.display_name()).collect();
        assert_eq!(
            names,
            words(&[
                "--next-token",
                "--max-results",
                "--cli-input-json",
                "--starting-token",
                "--page-size",
                "--max-items",
                "--generate-cli-skeleton",
                "help"
            ])
        );
        let op = find_operation("poll-for-third-party-jobs").unwrap();
        let specs = operation_specs(op);
        let p = operation_parser(op, &specs, &[]);
        assert_eq!(
            p.parse_known_args(&[]),
            Err(Stop::Error("the following arguments are required: --action-type-id".into()))
        );
        let w = words(&["--generate-cli-skeleton"]);
        assert!(operation_parser(op, &specs, &w).parse_known_args(&w).is_ok());
        let w = words(&["--generate-cli-skeleton", "output"]);
        assert!(operation_parser(op, &specs, &w).parse_known_args(&w).is_err());
    }

    #[test]
    fn booleans_are_pairs() {
        let op = find_operation("stop-pipeline-execution").unwrap();
        let specs = operation_specs(op);
        let w = words(&["--abandon", "--no-abandon", "--pipeline-name", "p", "--pipeline-execution-id", "e"]);
        let (ns, _) = operation_parser(op, &specs, &w).parse_known_args(&w).unwrap();
        assert_eq!(ns.bool("abandon"), Some(false));
        let w = words(&["--pipeline-name", "p", "--pipeline-execution-id", "e"]);
        let (ns, _) = operation_parser(op, &specs, &w).parse_known_args(&w).unwrap();
        assert_eq!(ns.bool("abandon"), None);
    }
}
