//! `cpjobs clients`: the cpjobs extension operation
//! `Cpjobs_20261129.ListThirdPartyClients`, which shows a partner the
//! `clientId`/`clientToken` pairs of the third-party actions linked to its
//! action types (every call on a third-party job needs the token).
//!
//! It is sent the way the `codepipeline` commands are: the same configuration
//! and credential chain ([`Session`]), the same signing (service name
//! `codepipeline`) and retries ([`Client`]); only the `X-Amz-Target` prefix
//! differs, since the operation is not part of the CodePipeline model. Every
//! page is fetched and the clients are printed as one list, so a script never
//! sees a `nextToken`.

use std::io::Write;

use serde_json::{Map, Value, json};

use crate::args::GlobalArgs;
use crate::config::{Env, Session};
use crate::error::CliError;
use crate::output::{OutputFormat, formatter_crash, write_output};
use crate::transport::Client;

/// The `X-Amz-Target` prefix of cpjobs' own operations.
pub const TARGET_PREFIX: &str = "Cpjobs_20261129";

/// The operation this command calls (and the table title).
pub const OPERATION: &str = "ListThirdPartyClients";

/// The most pages one invocation follows: a loop guard against a service
/// that keeps answering the same `nextToken`, far above any real partner's
/// client count (100 clients a page).
const MAX_PAGES: usize = 10_000;

const USAGE: &str = "usage: cpjobs clients [--endpoint-url URL] [--region R] [--profile P]
                      [--action-type-id category=C,owner=ThirdParty,provider=P,version=V]
                      [--output json|text|table]

Lists the third-party clients (clientId, clientToken, and the pipeline action
each belongs to) of the action types the caller's account owns, signed with the
AWS credential chain like `cpjobs codepipeline` commands.

  --endpoint-url URL   the cpjobs service (default: the configured CodePipeline endpoint)
  --region R           signing region (default: AWS_DEFAULT_REGION or the profile's)
  --profile P          the profile of the config and credentials files
  --action-type-id ID  only this action type: shorthand (owner defaults to ThirdParty) or JSON
  --output FMT         json (default), text or table";

/// Validated `cpjobs clients` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientsArgs {
    /// The global options it shares with the `codepipeline` commands.
    pub globals: GlobalArgs,
    /// `--action-type-id`, as the wire's `ActionTypeId`.
    pub action_type_id: Option<Value>,
}

/// Parses the arguments after `clients`. `Ok(None)` means help was asked for.
pub fn parse_args(args: &[String]) -> Result<Option<ClientsArgs>, String> {
    let mut globals = GlobalArgs::default();
    let mut action_type_id = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if name == "-h" || name == "--help" || name == "help" {
            return Ok(None);
        }
        let mut value = || inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{name} needs a value"));
        match name {
            "--endpoint-url" => globals.endpoint_url = Some(value()?),
            "--region" => globals.region = Some(value()?),
            "--profile" => globals.profile = Some(value()?),
            "--output" => {
                let v = value()?;
                if OutputFormat::parse(&v).is_none() {
                    return Err(format!("--output must be json, text or table, not {v:?}"));
                }
                globals.output = Some(v);
            }
            "--action-type-id" => action_type_id = Some(parse_action_type_id(&value()?)?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(ClientsArgs { globals, action_type_id }))
}

/// `category=Build,provider=AcmeCI,version=1[,owner=ThirdParty]` or the same as JSON.
fn parse_action_type_id(text: &str) -> Result<Value, String> {
    const KEYS: [&str; 4] = ["category", "owner", "provider", "version"];
    let mut id = Map::new();
    if text.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("--action-type-id is not valid JSON: {e}"))?;
        let Value::Object(o) = v else { return Err("--action-type-id must be a JSON object".to_owned()) };
        for (k, v) in o {
            let Value::String(s) = v else { return Err(format!("--action-type-id {k} must be a string")) };
            id.insert(k, Value::String(s));
        }
    } else {
        for pair in text.split(',') {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(format!("--action-type-id: expected key=value, found {pair:?}"));
            };
            if id.insert(k.trim().to_owned(), json!(v.trim())).is_some() {
                return Err(format!("--action-type-id: {} is given twice", k.trim()));
            }
        }
    }
    if let Some(k) = id.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("--action-type-id: unknown key {k:?} (valid: {})", KEYS.join(", ")));
    }
    // Only third-party action types have clients.
    id.entry("owner").or_insert_with(|| json!("ThirdParty"));
    if let Some(k) = KEYS.iter().find(|k| !id.contains_key(**k)) {
        return Err(format!("--action-type-id: {k} is missing"));
    }
    Ok(Value::Object(id))
}

/// Runs `cpjobs clients` with `args` (after `clients`) in the process
/// environment; returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    run_with(args, Env::from_process(), &mut out, &mut err)
}

/// [`run`] with an explicit environment and output streams.
pub fn run_with(args: &[String], env: Env, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let args = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            let _ = writeln!(out, "{USAGE}");
            return 0;
        }
        Err(e) => {
            let _ = writeln!(err, "cpjobs clients: error: {e}\n{USAGE}");
            return 2;
        }
    };
    match list(&args, env).and_then(|(clients, output)| print(clients, &output, out)) {
        Ok(()) => 0,
        Err(e) => {
            let _ = err.write_all(e.stderr.as_bytes());
            e.exit_code
        }
    }
}

/// Fetches every page; returns the clients and the output format setting.
fn list(args: &ClientsArgs, env: Env) -> Result<(Vec<Value>, String), CliError> {
    let session = Session::load_with_env(&args.globals, env)?;
    let model = cpjobs_model::ServiceModel::codepipeline();
    // Signed for CodePipeline (same signing name and endpoint), sent to cpjobs' own target.
    let client = Client::for_service(
        &session,
        &args.globals,
        &model.metadata.endpoint_prefix,
        TARGET_PREFIX,
        &model.metadata.service_id,
    )?;
    let output = session.output_format().unwrap_or_else(|| "json".to_owned());
    let mut clients = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut input = Map::new();
        if let Some(id) = &args.action_type_id {
            input.insert("actionTypeId".to_owned(), id.clone());
        }
        if let Some(t) = &next {
            input.insert("nextToken".to_owned(), json!(t));
        }
        let resp = client.invoke(OPERATION, &Value::Object(input).to_string())?;
        let page: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| CliError::general(format!("The service's {OPERATION} answer is not JSON: {e}")))?;
        clients.extend(page.get("clients").and_then(Value::as_array).into_iter().flatten().cloned());
        next = page.get("nextToken").and_then(Value::as_str).map(str::to_owned);
        if next.is_none() {
            return Ok((clients, output));
        }
    }
    Err(CliError::general(format!("{OPERATION} kept answering a nextToken after {MAX_PAGES} pages")))
}

/// Prints `{"clients": [...]}` with AWS CLI's formatters.
fn print(clients: Vec<Value>, output: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let format = OutputFormat::from_setting(output)?;
    let text = json!({"clients": clients}).to_string();
    let value = crate::py::json_decode::loads(&text).map_err(CliError::general)?;
    write_output(&value, format, false, OPERATION, out)
        .map_err(|e| formatter_crash(&e).unwrap_or_else(|| CliError::general(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags() {
        let a = parse_args(&args(&[
            "--endpoint-url",
            "http://127.0.0.1:7700",
            "--region=eu-west-1",
            "--profile",
            "partner",
            "--output",
            "text",
            "--action-type-id",
            "category=Build,provider=AcmeCI,version=1",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.globals.endpoint_url.as_deref(), Some("http://127.0.0.1:7700"));
        assert_eq!(a.globals.region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.globals.profile.as_deref(), Some("partner"));
        assert_eq!(a.globals.output.as_deref(), Some("text"));
        assert_eq!(
            a.action_type_id,
            Some(json!({"category": "Build", "provider": "AcmeCI", "version": "1", "owner": "ThirdParty"}))
        );
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
        assert_eq!(parse_args(&[]).unwrap().unwrap().globals, GlobalArgs::default());
    }

    #[test]
    fn refuses_bad_arguments() {
        let e = |a: &[&str]| parse_args(&args(a)).unwrap_err();
        assert!(e(&["--bogus"]).contains("unknown argument \"--bogus\""));
        assert!(e(&["--region"]).contains("--region needs a value"));
        assert!(e(&["--output", "yaml"]).contains("json, text or table"));
        assert!(e(&["--action-type-id", "category=Build"]).contains("provider is missing"));
        assert!(e(&["--action-type-id", "category=Build,colour=red"]).contains("unknown key \"colour\""));
        assert!(e(&["--action-type-id", "Build"]).contains("expected key=value"));
        assert!(e(&["--action-type-id", "category=A,category=B"]).contains("category is given twice"));
        assert!(e(&["--action-type-id", "{\"category\": 1}"]).contains("must be a string"));
    }

    #[test]
    fn action_type_id_json_is_accepted() {
        let id = parse_action_type_id(
            r#"{"category": "Build", "owner": "ThirdParty", "provider": "AcmeCI", "version": "1"}"#,
        )
        .unwrap();
        assert_eq!(id["provider"], "AcmeCI");
    }

    #[test]
    fn argument_errors_exit_2_and_service_errors_255() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_with(&args(&["--bogus"]), Env::from_pairs([("HOME", "/nonexistent")]), &mut out, &mut err), 2);
        assert!(String::from_utf8_lossy(&err).starts_with("cpjobs clients: error: unknown argument"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        // No region anywhere: botocore's NoRegionError, before anything is sent.
        let env = Env::from_pairs([
            ("HOME", "/nonexistent"),
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let code = run_with(&args(&["--endpoint-url", "http://127.0.0.1:9"]), env, &mut out, &mut err);
        assert_eq!(code, 255);
        assert!(
            String::from_utf8_lossy(&err).contains("You must specify a region"),
            "{}",
            String::from_utf8_lossy(&err)
        );
        assert!(out.is_empty());
    }
}
