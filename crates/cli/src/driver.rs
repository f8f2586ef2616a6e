//! The driver: one AWS CLI invocation from argv to exit code, in the order
//! AWS CLI v1's `CLIDriver.main` does things, because that order decides
//! which of several problems a user sees and whether a request is sent:
//!
//! 1. main parser (argparse errors exit 2; `--version` exits 0 wherever it is);
//! 2. top-level arguments: `--query` compiled, `--endpoint-url` scheme,
//!    timeouts through `int()`, `--v2-debug` warnings, `--debug` log start
//!    (errors exit 255: a bad `--query` beats a missing required argument);
//! 3. `help`, or the service parser (unknown operation exits 2);
//! 4. operation parser (`help`, stray words: `Unknown options`, exit 255);
//! 5. paging checks, request parameters (`params::build_params`);
//! 6. `--generate-cli-skeleton input` (no config needed);
//! 7. session, region and client (partial credentials, endpoint, timeouts),
//!    then validation, then `--generate-cli-skeleton output` or the call(s)
//!    (paginated when the operation pages and pagination is not turned off);
//! 8. output format (an invalid configured one fails only now), `--query`, output.

mod paginate;
mod token;

use std::cell::Cell;
use std::io::{IsTerminal, Write};

use cpjobs_model::{Operation, ServiceModel};

use crate::args::argparse::{Namespace, Parser, Stop, Value};
use crate::args::parsers::{self, SERVICE};
use crate::args::usage::{argparse_error, unknown_options};
use crate::args::{GlobalArgs, pyint};
use crate::config::Session;
use crate::error::CliError;
use crate::output::{self, OutputFormat, ParseOptions, TimestampFormat};
use crate::params::{self, ArgKind, RawArg};
use crate::py::PyValue;
use crate::query::{self, Expression};
use crate::transport::Client;
use crate::{debug, help};

pub use paginate::PageConfig;

/// Runs one invocation, writing results to `out`; errors come back with their stderr text and exit code.
pub fn main(prog: &str, args: &[String], out: &mut dyn Write) -> Result<i32, CliError> {
    let result = dispatch(prog, args, out);
    if let Err(e) = &result
        && e.exit_code == 255
        && debug::enabled()
    {
        // CLIDriver.main's handlers: region/credential messages (printed without a
        // leading blank line) are logged themselves; other exceptions are
        // announced (AWS CLI adds a Python traceback here) before the exit code.
        if e.stderr.starts_with('\n') {
            debug::log("awscli.clidriver", "Exception caught in main()");
            debug::log("awscli.clidriver", "Exiting with rc 255");
        } else if !e.stderr.starts_with("usage:") {
            debug::log("awscli.clidriver", e.stderr.trim_end_matches('\n'));
        }
    }
    result
}

fn dispatch(prog: &str, args: &[String], out: &mut dyn Write) -> Result<i32, CliError> {
    let Some((ns, remaining)) = parse(prog, &parsers::main_parser(), args, out)? else { return Ok(0) };
    let globals = parsers::globals_from(&ns);
    let query = top_level(&globals, args)?;
    let parsing = Cell::new(session_initialized(&globals)?);
    match ns.str("command") {
        Some("help") => {
            write_out(out, help::provider(prog).as_bytes())?;
            Ok(0)
        }
        Some(SERVICE) => service(prog, &remaining, &globals, query.as_ref(), &parsing, out),
        // The parser only accepts listed commands.
        other => Err(CliError::general(format!("unknown command {other:?}"))),
    }
}

/// `parse_known_args` with argparse's exits: an error is usage text and
/// exit 2; the `version` action prints its line and ends the run (`None`).
fn parse(
    prog: &str,
    parser: &Parser,
    args: &[String],
    out: &mut dyn Write,
) -> Result<Option<(Namespace, Vec<String>)>, CliError> {
    match parser.parse_known_args(args) {
        Ok(r) => Ok(Some(r)),
        Err(Stop::Error(m)) => Err(CliError::raw(2, argparse_error(prog, &m))),
        Err(Stop::Version(v)) => {
            write_out(out, format!("{v}\n").as_bytes())?;
            Ok(None)
        }
    }
}

/// `_handle_top_level_args` and the `top-level-args-parsed` handlers.
fn top_level(g: &GlobalArgs, args: &[String]) -> Result<Option<Expression>, CliError> {
    let query = match &g.query {
        Some(q) => Some(query::compile(q).map_err(|e| CliError::general(format!("Bad value for --query {q}: {e}")))?),
        None => None,
    };
    if let Some(url) = &g.endpoint_url
        && !has_scheme(url)
    {
        return Err(CliError::general(format!(
            "Bad value for --endpoint-url \"{url}\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/"
        )));
    }
    for raw in [&g.cli_read_timeout, &g.cli_connect_timeout].into_iter().flatten() {
        if pyint::parse(raw).is_none() {
            return Err(CliError::general(pyint::error_message(raw)));
        }
    }
    if v2_debug(g) {
        v2_warnings();
    }
    if g.debug {
        debug::enable();
        debug::log("awscli.clidriver", format!("CLI version: {}", parsers::version_line()));
        let list = PyValue::List(args.iter().map(|a| PyValue::str(a.clone())).collect());
        debug::log("awscli.clidriver", format!("Arguments entered to CLI: {}", list.repr()));
    }
    Ok(query)
}

/// `resolve_v2_debug_mode`: `--v2-debug`, or `AWS_CLI_UPGRADE_DEBUG_MODE=true`.
fn v2_debug(g: &GlobalArgs) -> bool {
    g.v2_debug || std::env::var("AWS_CLI_UPGRADE_DEBUG_MODE").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The `session-initialized` handlers (`scalarparse.add_scalar_parsers`):
/// the profile's `cli_timestamp_format` chooses how response timestamps are
/// parsed, for every command, before the command's own arguments are even
/// read; an unknown value ends the run there. A profile that does not exist
/// reads as unset (its error comes later, where the command loads it).
fn session_initialized(g: &GlobalArgs) -> Result<ParseOptions, CliError> {
    let unset = ParseOptions { timestamp_format: TimestampFormat::Wire, v2_timestamp_warning: v2_debug(g) };
    let Ok(session) = Session::load(g) else { return Ok(unset) };
    match session.scoped_str("cli_timestamp_format") {
        // A configured format, even `wire`, silences the v2 warning.
        Some(v) => Ok(ParseOptions {
            timestamp_format: TimestampFormat::from_config(v).map_err(CliError::general)?,
            v2_timestamp_warning: false,
        }),
        None => Ok(unset),
    }
}

/// `urllib.parse.urlsplit`'s scheme rule: letters first, then letters, digits, `+-.`, then `:`.
fn has_scheme(url: &str) -> bool {
    match url.find(':') {
        Some(i) if i > 0 => {
            let s = &url[..i];
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

/// The AWS CLI v2 migration warnings `--v2-debug` prints for any command.
/// The `cli_pager` setting of the config file is not consulted (see DIFFERENCES.md).
fn v2_warnings() {
    let mut err = std::io::stderr().lock();
    if std::env::var_os("AWS_PAGER").is_none() {
        let _ = err.write_all(
            "\nAWS CLI v2 UPGRADE WARNING: By default, the AWS CLI v2 returns all output through your operating system\u{2019}s default pager program. This is different from v1 behavior, where the system pager is not used by default. To retain AWS CLI v1 behavior in AWS CLI v2, set the `cli_pager` configuration setting, or the `AWS_PAGER` environment variable, to the empty string. See https://docs.aws.amazon.com/cli/latest/userguide/cliv2-migration-changes.html#cliv2-migration-output-pager.\n"
                .as_bytes(),
        );
    }
    let python_encoding = std::env::var_os("PYTHONUTF8").is_some() || std::env::var_os("PYTHONIOENCODING").is_some();
    if python_encoding && std::env::var_os("AWS_CLI_FILE_ENCODING").is_none() {
        let _ = err.write_all(
            b"\nThe AWS CLI v2 does not support The `PYTHONUTF8` and `PYTHONIOENCODING` environment variables, and instead uses the `AWS_CLI_FILE_ENCODING` variable. This is different from v1 behavior, where the former two variables are used instead. To retain AWS CLI v1 behavior in AWS CLI v2, set the `AWS_CLI_FILE_ENCODING` environment variable instead. See https://docs.aws.amazon.com/cli/latest/userguide/cliv2-migration-changes.html#cliv2-migration-encodingenvvar.\n",
        );
    }
}

/// `ServiceCommand.__call__`: the operation word, then the operation.
fn service(
    prog: &str,
    args: &[String],
    g: &GlobalArgs,
    query: Option<&Expression>,
    parsing: &Cell<ParseOptions>,
    out: &mut dyn Write,
) -> Result<i32, CliError> {
    let Some((ns, remaining)) = parse(prog, &parsers::service_parser(), args, out)? else { return Ok(0) };
    let name = ns.str("operation").unwrap_or_default();
    if name == "help" {
        write_out(out, help::service(prog).as_bytes())?;
        return Ok(0);
    }
    let op = parsers::find_operation(name).ok_or_else(|| CliError::general(format!("unknown operation {name}")))?;
    operation(prog, op, &remaining, g, query, parsing, out)
}

/// `ServiceOperation.__call__` and `CLIOperationCaller.invoke`.
fn operation(
    prog: &str,
    op: &'static Operation,
    args: &[String],
    g: &GlobalArgs,
    query: Option<&Expression>,
    parsing: &Cell<ParseOptions>,
    out: &mut dyn Write,
) -> Result<i32, CliError> {
    let specs = parsers::operation_specs(op);
    // ArgTableArgParser: a lone `help` is help, whatever is required.
    if args.len() == 1 && args[0] == "help" {
        write_out(out, help::operation(prog, op).as_bytes())?;
        return Ok(0);
    }
    if parsers::paging_args(op).is_some() {
        debug::log("awscli.customizations.paginate", format!("Modifying paging parameters for operation: {}", op.name));
    }
    let parser = parsers::operation_parser(op, &specs, args);
    let Some((ns, mut remaining)) = parse(prog, &parser, args, out)? else { return Ok(0) };
    match ns.str("help") {
        Some("help") => {
            write_out(out, help::operation(prog, op).as_bytes())?;
            return Ok(0);
        }
        // `elif parsed_args.help:` - an empty word is falsy and vanishes.
        Some(word) if !word.is_empty() => remaining.push(word.to_owned()),
        _ => {}
    }
    if !remaining.is_empty() {
        return Err(CliError::raw(255, unknown_options(prog, &remaining)));
    }
    let paging = paging_config(op, &ns, g)?;
    let skeleton = ns.str("generate_cli_skeleton");

    let given: Vec<(&params::ArgSpec, RawArg)> = specs
        .iter()
        .filter_map(|spec| {
            let d = parsers::dest(&spec.cli_name);
            let raw = match (spec.kind, ns.get(&d)?) {
                (ArgKind::Boolean, Value::Bool(b)) => RawArg::Flag(*b),
                (_, Value::List(v)) => RawArg::Values(v.clone()),
                (_, Value::Str(s)) => RawArg::Value(s.clone()),
                (_, Value::Bool(b)) => RawArg::Flag(*b),
            };
            Some((spec, raw))
        })
        .collect();
    if let Some(Some(n)) = paging.as_ref().map(|(_, p)| p.max_items)
        && n <= 0
    {
        let _ = std::io::stderr()
            .write_all(b"warning: Non-positive values for --max-items may result in undefined behavior.\n");
    }
    let mut params = params::build_params(op, &given, ns.str("cli_input_json"))?;
    // PageArgument.add_to_params puts the paging values in the call
    // parameters; the paginator takes them out, but when no paginator runs
    // (pagination off, or a stubbed skeleton call) botocore's validator sees them.
    if let Some((enabled, config)) = &paging
        && (!enabled || skeleton == Some("output"))
    {
        insert_pagination_config(&mut params, &given, config);
    }

    if skeleton == Some("input") {
        write_out(out, params::skeleton_input(op).as_bytes())?;
        return Ok(0);
    }

    // create_nested_client: region, endpoint, timeouts and partial credentials
    // fail here, before validation; missing credentials only fail when signing.
    let session = Session::load(g)?;
    session.region()?;
    let client = Client::new(&session, g)?;
    if skeleton == Some("output") {
        // A stubbed call: the Stubber checks the sample response when it is
        // added, then the call is prepared and validated like a real one.
        let response = params::skeleton_output_checked(op)?;
        prepare(op, &params)?;
        let format = output_format(g, &session)?;
        let response = match format {
            OutputFormat::Json => response,
            OutputFormat::Text | OutputFormat::Table => params::skeleton::for_str_formatters(response),
        };
        display(op, &response, format, g, query, out)?;
        return Ok(0);
    }

    match (paging, ServiceModel::codepipeline().paginator(&op.name)) {
        (Some((true, config)), Some(pager)) => {
            // PageIterator is lazy: the formatter (and its error) comes before the first request.
            let format = output_format(g, &session)?;
            let mut fetch = |kwargs: &PyValue| -> Result<PyValue, CliError> { call(op, &client, kwargs, parsing) };
            if let OutputFormat::Text = format {
                // TextFormatter prints each page as it arrives, with only the result key.
                let mut on_page = |page: PyValue| -> Result<(), CliError> {
                    let current = PyValue::Dict(vec![(
                        pager.result_key.clone(),
                        page.get(&pager.result_key).cloned().unwrap_or(PyValue::None),
                    )]);
                    display(op, &current, format, g, query, out)
                };
                let resume = paginate::paginate(pager, &params, &config, &mut fetch, &mut on_page)?;
                if let Some(r) = resume {
                    let v = PyValue::Dict(vec![(
                        "NextToken".to_owned(),
                        PyValue::Dict(vec![("NextToken".to_owned(), PyValue::str(r))]),
                    )]);
                    display(op, &v, format, g, query, out)?;
                }
            } else {
                let mut pages = Vec::new();
                let mut on_page = |page: PyValue| -> Result<(), CliError> {
                    pages.push(page);
                    Ok(())
                };
                let resume = paginate::paginate(pager, &params, &config, &mut fetch, &mut on_page)?;
                let full = paginate::build_full_result(pager, &pages, resume.as_deref());
                display(op, &full, format, g, query, out)?;
            }
        }
        _ => {
            let response = call(op, &client, &params, parsing)?;
            let format = output_format(g, &session)?;
            display(op, &response, format, g, query, out)?;
        }
    }
    Ok(0)
}

/// What botocore's `_make_api_call` does before serializing: absent
/// idempotency tokens get a fresh UUID4 (`before-parameter-build`), then the
/// parameters are validated.
fn prepare(op: &Operation, params: &PyValue) -> Result<PyValue, CliError> {
    let mut params = params.clone();
    params::fill_idempotency_tokens(op, &mut params, uuid4);
    params::validate(op, &params)?;
    Ok(params)
}

/// One request: parameters prepared and serialized, the body read against
/// the model with the run's timestamp parser. The v2 timestamp warning is
/// printed once per run, so the first response that prints it turns it off.
fn call(op: &Operation, client: &Client, params: &PyValue, parsing: &Cell<ParseOptions>) -> Result<PyValue, CliError> {
    let params = prepare(op, params)?;
    let body = params::wire_body(op, &params);
    let response = client.call(op, &body)?;
    let opts = parsing.get();
    let parsed = output::parse_response_with(op, &response.body, &opts)?;
    if !parsed.stderr.is_empty() {
        let _ = std::io::stderr().lock().write_all(parsed.stderr.as_bytes());
        parsing.set(ParseOptions { v2_timestamp_warning: false, ..opts });
    }
    Ok(parsed.value)
}

/// A random (version 4) UUID, as Python's `uuid.uuid4()` prints it.
fn uuid4() -> String {
    use std::io::Read;
    let mut b = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if read.is_err() {
        // No /dev/urandom: mix the clock and the process id, which is unique enough for a request token.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let mixed = t ^ (u128::from(std::process::id()) << 64);
        b = mixed.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The paging arguments of a pageable operation and whether pagination is on
/// (the checks of `check_should_enable_pagination`); `None` when the operation does not page.
fn paging_config(op: &Operation, ns: &Namespace, g: &GlobalArgs) -> Result<Option<(bool, PageConfig)>, CliError> {
    let Some(paging) = parsers::paging_args(op) else { return Ok(None) };
    // A manual paging member (`--next-token`, `--max-results`) turns pagination off.
    let manual = paging.manual.iter().any(|m| ns.get(&parsers::dest(m)).is_some());
    if manual {
        debug::log(
            "awscli.customizations.paginate",
            "User has specified a manual pagination arg. Automatically setting --no-paginate.",
        );
    }
    let enabled = !g.no_paginate && !manual;
    let int = |d: &str| ns.str(d).and_then(pyint::parse);
    if !enabled {
        // Python truthiness: `--max-items 0` does not count as used.
        let used: Vec<String> = ["starting_token", "page_size", "max_items"]
            .iter()
            .filter(|d| match ns.str(d) {
                Some(s) if **d == "starting_token" => !s.is_empty(),
                Some(_) => int(d).is_some_and(|v| v != "0"),
                None => false,
            })
            .map(|d| format!("--{}", d.replace('_', "-")))
            .collect();
        if !used.is_empty() {
            return Err(CliError::general(format!(
                "Error during pagination: Cannot specify --no-paginate along with pagination arguments: {}",
                used.join(", ")
            )));
        }
    }
    let config = PageConfig {
        max_items: int("max_items").map(|v| v.parse().unwrap_or(i128::MAX)),
        page_size: int("page_size"),
        starting_token: ns.str("starting_token").map(str::to_owned),
    };
    Ok(Some((enabled, config)))
}

/// Adds `PaginationConfig` (StartingToken, PageSize, MaxItems as given) after
/// the parameters that came from command-line arguments, where
/// `_build_call_parameters` puts it (before `--cli-input-json` members).
fn insert_pagination_config(params: &mut PyValue, given: &[(&params::ArgSpec, RawArg)], config: &PageConfig) {
    let mut entries = Vec::new();
    if let Some(t) = &config.starting_token {
        entries.push(("StartingToken".to_owned(), PyValue::str(t.clone())));
    }
    if let Some(p) = &config.page_size {
        entries.push(("PageSize".to_owned(), PyValue::Int(p.clone())));
    }
    if let Some(m) = config.max_items {
        entries.push(("MaxItems".to_owned(), PyValue::Int(m.to_string())));
    }
    if entries.is_empty() {
        return;
    }
    let (PyValue::Dict(e) | PyValue::OrderedDict(e)) = params else { return };
    let at = e.iter().rposition(|(k, _)| given.iter().any(|(spec, _)| spec.member == *k)).map_or(0, |i| i + 1);
    e.insert(at, ("PaginationConfig".to_owned(), PyValue::Dict(entries)));
}

/// `--output`, else the configured output, else json; an unknown name fails here.
fn output_format(g: &GlobalArgs, session: &Session) -> Result<OutputFormat, CliError> {
    let name = g.output.clone().or_else(|| session.output_format()).unwrap_or_else(|| "json".to_owned());
    OutputFormat::parse(&name).ok_or_else(|| CliError::general(format!("Unknown output type: {name}")))
}

/// `--query`, then the formatter.
fn display(
    op: &Operation,
    value: &PyValue,
    format: OutputFormat,
    g: &GlobalArgs,
    query: Option<&Expression>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let searched;
    let value = match query {
        Some(q) => {
            searched = q.search(value).map_err(CliError::general)?;
            &searched
        }
        None => value,
    };
    let color = match g.color.as_str() {
        "on" => true,
        "off" => false,
        _ => std::io::stdout().is_terminal(),
    };
    match output::write_output(value, format, color, &op.name, out) {
        Ok(()) => Ok(()),
        Err(e) => match output::formatter_crash(&e) {
            // What AWS CLI reports when its formatter raised.
            Some(crash) => Err(crash),
            // A closed stdout (`| head`) is not an error for AWS CLI.
            None if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            None => Err(CliError::general(e.to_string())),
        },
    }
}

fn write_out(out: &mut dyn Write, bytes: &[u8]) -> Result<(), CliError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::general(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> (Result<i32, CliError>, String) {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let mut out = Vec::new();
        let r = main("aws", &args, &mut out);
        (r, String::from_utf8(out).unwrap())
    }

    #[test]
    fn argparse_errors_exit_2_with_usage() {
        let (r, _) = run(&["codepipeline", "poll-for-third-party-jobs", "--action-type-id"]);
        let e = r.unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(e.stderr.ends_with("\naws: error: argument --action-type-id: expected one argument\n"));
        let (r, _) = run(&[]);
        assert!(r.unwrap_err().stderr.ends_with("aws: error: the following arguments are required: command\n"));
    }

    #[test]
    fn stray_words_exit_255() {
        let (r, _) =
            run(&["codepipeline", "poll-for-third-party-jobs", "--action-type-id", "x", "extra", "positional"]);
        let e = r.unwrap_err();
        assert_eq!(e.exit_code, 255);
        assert!(e.stderr.ends_with("\n\nUnknown options: positional, extra\n"));
    }

    #[test]
    fn top_level_checks_come_before_the_operation() {
        let (r, _) = run(&["codepipeline", "poll-for-third-party-jobs", "--cli-read-timeout", "1.5"]);
        assert_eq!(r.unwrap_err().stderr, "\ninvalid literal for int() with base 10: '1.5'\n");
        let (r, _) = run(&["codepipeline", "nope", "--endpoint-url", "127.0.0.1:1"]);
        assert_eq!(
            r.unwrap_err().stderr,
            "\nBad value for --endpoint-url \"127.0.0.1:1\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/\n"
        );
    }

    #[test]
    fn version_and_help() {
        let (r, out) = run(&["codepipeline", "poll-for-third-party-jobs", "--version", "junk"]);
        assert_eq!(r.unwrap(), 0);
        assert_eq!(out, format!("{}\n", parsers::version_line()));
        let (r, out) = run(&["codepipeline", "poll-for-third-party-jobs", "help"]);
        assert_eq!(r.unwrap(), 0);
        assert!(out.contains("--action-type-id"));
    }

    #[test]
    fn no_paginate_with_paging_args() {
        let (r, _) = run(&["codepipeline", "list-pipelines", "--max-results", "3", "--max-items", "2"]);
        assert_eq!(
            r.unwrap_err().stderr,
            "\nError during pagination: Cannot specify --no-paginate along with pagination arguments: --max-items\n"
        );
    }

    #[test]
    fn uuid4_shape() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, uuid4());
    }

    #[test]
    fn scheme_rule() {
        assert!(has_scheme("http://x"));
        assert!(has_scheme("localhost:8080"));
        assert!(!has_scheme("127.0.0.1:18765"));
        assert!(!has_scheme(":x"));
    }
}
