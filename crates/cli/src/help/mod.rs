//! Help texts of our own: `cpjobs help`, `cpjobs codepipeline help` and
//! `cpjobs codepipeline <operation> help`, plain text generated from the
//! service model (AWS CLI renders its documentation through groff and a
//! pager; cpjobs prints text to stdout, see DIFFERENCES.md).
//!
//! Everything an operation accepts is derived from the model, so help can
//! never disagree with the parser: the same `parsers::operation_specs` and
//! paging facts build both.

mod shapes;

use std::fmt::Write;

use cpjobs_model::{Operation, ServiceModel};

use crate::args::parsers::{self, SERVICE};
use crate::params::ArgKind;

/// The global options with what each does, in the main parser's order.
const GLOBAL_OPTIONS: &[(&str, &str)] = &[
    ("--debug", "Log each step of the command on stderr."),
    ("--endpoint-url <url>", "Send requests to this URL instead of the region's endpoint."),
    ("--no-verify-ssl", "Accept any TLS certificate from the endpoint."),
    ("--no-paginate", "Make a single call for pageable operations instead of following every page."),
    ("--output <json|text|table>", "Output format (default: the profile's `output`, else json)."),
    ("--query <jmespath>", "Keep only what this JMESPath expression selects from the response."),
    ("--profile <name>", "Use this profile of the config and credentials files."),
    ("--region <name>", "Region of the endpoint and of the request signature."),
    ("--version", "Print the version and exit."),
    ("--color <on|off|auto>", "Colour table output (auto: only on a terminal)."),
    ("--no-sign-request", "Send requests without a signature; no credentials are read."),
    ("--ca-bundle <file>", "Verify TLS certificates against this CA bundle."),
    ("--cli-read-timeout <seconds>", "Socket read timeout; 0 waits forever (default 60)."),
    ("--cli-connect-timeout <seconds>", "Socket connect timeout; 0 waits forever (default 60)."),
    ("--v2-debug", "Warn about behaviour that AWS CLI version 2 changes."),
];

/// `cpjobs help`.
pub fn provider(prog: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{prog}: AWS CLI compatible commands for the CodePipeline job system\n");
    let _ = writeln!(s, "USAGE\n  {prog} [options] <command> <subcommand> [parameters]\n");
    let _ = writeln!(s, "COMMANDS");
    let _ = writeln!(s, "  {SERVICE:<14}operations of the CodePipeline API (see `{prog} {SERVICE} help`)");
    let _ = writeln!(s, "  {:<14}this text\n", "help");
    // The binary's own commands, which the `cpjobs` entry point routes before this front end.
    let _ = writeln!(s, "CPJOBS' OWN COMMANDS (not AWS CLI's; each has --help)");
    let _ = writeln!(s, "  {:<14}run the job service (see `{prog} serve --help`)", "serve");
    let _ = writeln!(s, "  {:<14}run a command for each job of an action type (see `{prog} worker --help`)", "worker");
    let _ = writeln!(s, "  {:<14}print the shell line that points AWS clients at a local `serve`", "dev-env");
    let _ = writeln!(s, "  {:<14}list a partner's third-party clients and their client tokens\n", "clients");
    let _ = writeln!(s, "GLOBAL OPTIONS (accepted before or after the command)");
    for (name, what) in GLOBAL_OPTIONS {
        let _ = writeln!(s, "  {name}\n      {what}");
    }
    let _ = writeln!(s, "\nOptions may be shortened to any unambiguous prefix and written as --option=value.");
    let _ = writeln!(s, "\nEXIT STATUS");
    let _ = writeln!(s, "  0    success");
    let _ = writeln!(s, "  2    the command line could not be parsed (usage is printed)");
    let _ = writeln!(s, "  255  anything else: unknown options, invalid parameters, configuration,");
    let _ = writeln!(s, "       connection or service errors");
    s
}

/// `cpjobs codepipeline help`: the operations with their required arguments.
pub fn service(prog: &str) -> String {
    let model = ServiceModel::codepipeline();
    let mut s = String::new();
    let _ = writeln!(s, "{SERVICE}: CodePipeline API version {}\n", model.metadata.api_version);
    let _ = writeln!(s, "USAGE\n  {prog} [options] {SERVICE} <operation> [parameters]");
    let _ = writeln!(s, "  {prog} {SERVICE} <operation> help\n");
    let _ = writeln!(s, "OPERATIONS (with their required arguments)");
    for op in &model.operations {
        let name = cpjobs_model::cli_name(&op.name);
        let required: Vec<String> = parsers::operation_specs(op)
            .into_iter()
            .filter(|a| a.required)
            .map(|a| format!("--{}", a.cli_name))
            .collect();
        let mut line = format!("  {name}");
        if !required.is_empty() {
            let _ = write!(line, " {}", required.join(" "));
        }
        if parsers::paging_args(op).is_some() {
            line.push_str("  (pageable)");
        }
        let _ = writeln!(s, "{line}");
    }
    s
}

/// `cpjobs codepipeline <operation> help`: synopsis, parameters with their
/// types and constraints, shorthand examples, and the output's shape.
pub fn operation(prog: &str, op: &Operation) -> String {
    let model = ServiceModel::codepipeline();
    let name = cpjobs_model::cli_name(&op.name);
    let specs = parsers::operation_specs(op);
    let paging = parsers::paging_args(op);
    let mut s = String::new();
    let _ = writeln!(s, "NAME\n  {name} ({} in API version {})\n", op.name, model.metadata.api_version);
    let _ = writeln!(s, "SYNOPSIS\n  {prog} {SERVICE} {name}");
    for spec in &specs {
        let usage = match spec.kind {
            ArgKind::Boolean => format!("--{0} | --no-{0}", spec.cli_name),
            ArgKind::List => format!("--{} <value> [<value> ...]", spec.cli_name),
            _ => format!("--{} <value>", spec.cli_name),
        };
        let _ = if spec.required { writeln!(s, "    {usage}") } else { writeln!(s, "    [{usage}]") };
    }
    let _ = writeln!(s, "    [--cli-input-json <value>]");
    if let Some(p) = &paging {
        let _ = writeln!(s, "    [--starting-token <value>]");
        if p.page_size {
            let _ = writeln!(s, "    [--page-size <value>]");
        }
        let _ = writeln!(s, "    [--max-items <value>]");
    }
    let _ = writeln!(s, "    [--generate-cli-skeleton [input|output]]\n");

    let _ = writeln!(s, "PARAMETERS");
    if specs.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for spec in &specs {
        let shape = model.shape(&spec.shape);
        let mut facts = vec![shapes::type_name(shape)];
        if spec.required {
            facts.push("required".to_owned());
        }
        facts.extend(shapes::constraints(shape));
        let _ = writeln!(s, "  --{} ({})", spec.cli_name, facts.join(", "));
        let _ = writeln!(s, "      Request member: {}", spec.member);
        if spec.kind == ArgKind::Boolean {
            let _ = writeln!(s, "      --{0} sends true, --no-{0} sends false.", spec.cli_name);
        }
        shapes::describe_members(shape, 6, &mut s);
        if let Some(example) = shapes::shorthand(shape) {
            let _ = writeln!(s, "      Shorthand syntax:\n        {example}");
        }
        if matches!(spec.kind, ArgKind::Structure | ArgKind::Map | ArgKind::List)
            && let Some(json) = shapes::json_example(shape)
        {
            let _ = writeln!(s, "      JSON syntax:\n        {json}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "  --cli-input-json (string)");
    let _ = writeln!(s, "      The whole request as JSON (inline, file:// or fileb://); arguments given");
    let _ = writeln!(s, "      on the command line take precedence over its members.\n");
    if let Some(p) = &paging {
        let pager = model.paginator(&op.name);
        let _ = writeln!(s, "  --starting-token (string)");
        let _ = writeln!(s, "      Resume from the NextToken a previous --max-items run printed.\n");
        if p.page_size {
            let _ = writeln!(s, "  --page-size (integer)");
            let _ = writeln!(s, "      Items per request; every page is still fetched.\n");
        }
        let _ = writeln!(s, "  --max-items (integer)");
        let _ = writeln!(s, "      Stop after this many items and print a NextToken to resume from.\n");
        if let Some(pager) = pager {
            let _ = writeln!(
                s,
                "  Pagination: every page is requested, following `{}`, and the `{}` lists are joined;\n  --no-paginate, --{} or {} make a single request.\n",
                pager.output_token,
                pager.result_key,
                p.manual[0],
                p.manual.get(1).map(|m| format!("--{m}")).unwrap_or_else(|| "nothing else".to_owned())
            );
        }
    }
    let _ = writeln!(s, "  --generate-cli-skeleton (string: input or output)");
    let _ = writeln!(s, "      input (the default) prints a request template for --cli-input-json;");
    let _ = writeln!(s, "      output validates the arguments and prints a sample response, sending nothing.\n");

    let _ = writeln!(s, "OUTPUT");
    match op.output.as_deref().map(|o| model.shape(o)) {
        Some(shape) if !shape.members.is_empty() => shapes::describe_members(shape, 2, &mut s),
        _ => {
            let _ = writeln!(s, "  (no output: nothing is printed on success)");
        }
    }
    if !op.errors.is_empty() {
        let _ = writeln!(s, "\nERRORS\n  {}", op.errors.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_help_lists_parameters_and_shorthand() {
        let op = parsers::find_operation("poll-for-third-party-jobs").unwrap();
        let h = operation("aws", op);
        assert!(h.contains("    --action-type-id <value>\n    [--max-batch-size <value>]\n"), "{h}");
        assert!(h.contains("  --action-type-id (structure, required)"), "{h}");
        assert!(h.contains("category=string,owner=string,provider=string,version=string"), "{h}");
        assert!(h.contains("  --max-batch-size (integer, min value 1)"), "{h}");
        assert!(h.contains("OUTPUT\n  jobs -> (list of ThirdPartyJob)"), "{h}");
    }

    #[test]
    fn service_help_lists_every_operation() {
        let h = service("cpjobs");
        for op in parsers::operation_names() {
            assert!(h.contains(&format!("  {op}")), "{op}");
        }
        assert!(h.contains("  list-pipelines  (pageable)"));
        assert!(h.contains("  acknowledge-job --job-id --nonce\n"));
    }

    #[test]
    fn provider_help_names_global_options() {
        let h = provider("cpjobs");
        assert!(h.starts_with("cpjobs: "));
        assert!(h.contains("--cli-connect-timeout"));
    }
}
