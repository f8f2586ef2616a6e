//! From raw argument strings to the request parameters AWS CLI would send.
//!
//! This is everything AWS CLI v1 does between argparse and botocore's
//! serializer, in its order: for each argument of the operation's table (model
//! member order) load `file://`/`fileb://`/`http(s)://` values, then unpack the
//! value by its shape (shorthand, JSON, `int()`, booleans, lists); then merge
//! `--cli-input-json` (keys already given on the command line win); then
//! botocore's `ParamValidator`. Every failure carries AWS CLI's exact message
//! and exit code. `--generate-cli-skeleton` lives here too, as it is built
//! from the same shapes.
//!
//! Invariant: parameters keep Python's view of values (`PyValue`: str vs
//! bytes, OrderedDict vs dict, int as text) and key order, because both the
//! wire body and the error messages depend on them.

pub mod paramfile;
pub mod pyops;
pub mod serialize;
pub mod shorthand;
pub mod skeleton;
pub mod timestamp;
mod unpack;
pub mod validator;

use cpjobs_model::{Operation, ServiceModel, ShapeKind};

use crate::error::CliError;
use crate::py::PyValue;
use crate::py::json_encode::{DumpOptions, dumps};

/// How argparse declares an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// One value (strings, integers, timestamps, ...).
    Scalar,
    /// A `--x` / `--no-x` pair without value.
    Boolean,
    /// Any number of values (`nargs='*'`): pass them as `RawArg::Values`.
    List,
    /// One value: shorthand or JSON.
    Structure,
    /// One value: shorthand or JSON.
    Map,
    /// One value, sent base64-encoded.
    Blob,
}

/// One argument of an operation, as AWS CLI builds its argument table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSpec {
    /// The option name without dashes: `action-type-id`.
    pub cli_name: String,
    /// The input member it fills: `actionTypeId`.
    pub member: String,
    /// The member's shape name.
    pub shape: String,
    /// Whether argparse requires it (required in the model and not an idempotency token).
    pub required: bool,
    /// How argparse declares it.
    pub kind: ArgKind,
}

/// A value as argparse hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawArg {
    /// One string.
    Value(String),
    /// The strings of a list argument.
    Values(Vec<String>),
    /// `--x` (true) or `--no-x` (false).
    Flag(bool),
}

/// Choices AWS CLI takes from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamOptions {
    /// `cli_follow_urlparam` (default true): fetch `http://`/`https://` values.
    pub follow_urls: bool,
}

impl Default for ParamOptions {
    fn default() -> Self {
        ParamOptions { follow_urls: true }
    }
}

/// The message for a `--cli-input-json` document that is not an object; `python_type`
/// is the Python type name AWS CLI would print in its AttributeError.
pub(crate) fn cli_input_json_not_object(python_type: &str) -> String {
    let kind = match python_type {
        "NoneType" => "null",
        "bool" => "a boolean",
        "int" => "an integer",
        "float" => "a number",
        "str" => "a string",
        "list" => "a list",
        _ => "not an object",
    };
    format!("The value of --cli-input-json must be a JSON object of the operation's parameters, not {kind}")
}

fn model() -> &'static ServiceModel {
    ServiceModel::codepipeline()
}

/// The operation's arguments in model member order, as `ServiceOperation._create_argument_table` builds them.
pub fn operation_args(op: &Operation) -> Vec<ArgSpec> {
    let Some(input) = op.input.as_deref() else { return Vec::new() };
    let shape = model().shape(input);
    shape
        .members
        .iter()
        .map(|m| {
            let kind = match model().shape(&m.shape).kind {
                ShapeKind::Boolean => ArgKind::Boolean,
                ShapeKind::List => ArgKind::List,
                ShapeKind::Structure => ArgKind::Structure,
                ShapeKind::Map => ArgKind::Map,
                ShapeKind::Blob => ArgKind::Blob,
                _ => ArgKind::Scalar,
            };
            ArgSpec {
                cli_name: xform_name(&m.name),
                member: m.name.clone(),
                shape: m.shape.clone(),
                required: shape.required.contains(&m.name) && !m.idempotency_token,
                kind,
            }
        })
        .collect()
}

/// botocore's `xform_name(name, '-')` for member names (`actionTypeId` -> `action-type-id`, `NextToken` -> `next-token`).
pub fn xform_name(name: &str) -> String {
    cpjobs_model::cli_name(name)
}

/// `Error parsing parameter '<name>': <message>`, exit 255.
pub(crate) fn param_error(cli_name: &str, message: &str) -> CliError {
    CliError::general(format!("Error parsing parameter '{cli_name}': {message}"))
}

/// Loads a `file://`, `fileb://` or `http(s)://` value of the argument
/// `cli_name` (with dashes) as AWS CLI's URI handler does for every argument;
/// `Ok(None)` when the value names no resource. For arguments outside the
/// model (`--starting-token`, `--max-items`, ...).
pub fn load_paramfile(cli_name: &str, value: &str, options: &ParamOptions) -> Result<Option<PyValue>, CliError> {
    paramfile::get_paramfile(value, options.follow_urls).map_err(|e| param_error(cli_name, &e))
}

/// Everything AWS CLI does after argparse and before the request, with the default options.
pub fn build_params(
    op: &Operation,
    given: &[(&ArgSpec, RawArg)],
    cli_input_json: Option<&str>,
) -> Result<PyValue, CliError> {
    build_params_with(op, given, cli_input_json, &ParamOptions::default())
}

/// `build_params` with explicit configuration choices.
pub fn build_params_with(
    op: &Operation,
    given: &[(&ArgSpec, RawArg)],
    cli_input_json: Option<&str>,
    options: &ParamOptions,
) -> Result<PyValue, CliError> {
    let mut params: Vec<(String, PyValue)> = Vec::new();
    // `_build_call_parameters` walks the argument table, where renamed
    // arguments (`--action-version`) were re-inserted last: their members
    // come last in the parameters, and so in the request body.
    for spec in crate::args::parsers::operation_specs(op) {
        // argparse keeps the last occurrence of an option.
        let Some((given_spec, raw)) = given.iter().rev().find(|(s, _)| s.member == spec.member) else { continue };
        let value = unpack::unpack_argument(model(), given_spec, raw, options)?;
        params.push((spec.member.clone(), value));
    }
    if let Some(raw) = cli_input_json {
        merge_cli_input_json(&mut params, raw, options)?;
    }
    Ok(PyValue::Dict(params))
}

/// `CliInputJSONArgument`: the URI handler runs on the raw value first (so a
/// URL is fetched and a missing file fails with `'--cli-input-json'`), then
/// the value is read again with the local prefixes only and parsed with a
/// plain `json.loads` (errors name `'cli-input-json'`, without dashes).
fn merge_cli_input_json(
    params: &mut Vec<(String, PyValue)>,
    raw: &str,
    options: &ParamOptions,
) -> Result<(), CliError> {
    paramfile::get_paramfile(raw, options.follow_urls).map_err(|e| param_error("--cli-input-json", &e))?;
    let retrieved =
        paramfile::get_paramfile(raw, false).map_err(CliError::general)?.unwrap_or_else(|| PyValue::str(raw));
    let parsed = match &retrieved {
        PyValue::Bytes(b) => crate::py::json_decode::loads_bytes(b, false),
        other => crate::py::json_decode::loads_plain(&other.py_str()),
    };
    let data = parsed.map_err(|e| {
        param_error("cli-input-json", &format!("Invalid JSON: {e}\nJSON received: {}", retrieved.py_str()))
    })?;
    let Some(entries) = data.entries() else {
        // AWS CLI fails here with Python's AttributeError (`'list' object has no
        // attribute 'keys'`); cpjobs says what is wrong (a deliberate difference).
        return Err(CliError::general(crate::params::cli_input_json_not_object(pyops::type_name(&data))));
    };
    for (k, v) in entries {
        if !params.iter().any(|(pk, _)| pk == k) {
            params.push((k.clone(), v.clone()));
        }
    }
    Ok(())
}

/// botocore's `ParamValidator` on the operation's input: the
/// "Parameter validation failed:" report, exit 255.
pub fn validate(op: &Operation, params: &PyValue) -> Result<(), CliError> {
    let Some(input) = op.input.as_deref() else { return Ok(()) };
    validation_result(validator::report(model(), params, input))
}

fn validation_result(lines: Vec<String>) -> Result<(), CliError> {
    if lines.is_empty() {
        Ok(())
    } else {
        Err(CliError::general(format!("Parameter validation failed:\n{}", lines.join("\n"))))
    }
}

/// The JSON request body botocore would send for validated `params`
/// (timestamps as epoch seconds, blobs as base64, key order kept).
pub fn wire_body(op: &Operation, params: &PyValue) -> String {
    serialize::body(model(), params, op.input.as_deref())
}

/// botocore's `generate_idempotent_uuid`: fills each absent idempotency-token
/// member (e.g. `clientRequestToken`) with a fresh UUID4 from `uuid4`, appended
/// at the end like Python's dict. Runs before validation in botocore.
pub fn fill_idempotency_tokens(op: &Operation, params: &mut PyValue, mut uuid4: impl FnMut() -> String) {
    let Some(input) = op.input.as_deref() else { return };
    let (PyValue::Dict(entries) | PyValue::OrderedDict(entries)) = params else { return };
    for m in &model().shape(input).members {
        if m.idempotency_token && !entries.iter().any(|(k, _)| *k == m.name) {
            entries.push((m.name.clone(), PyValue::Str(uuid4())));
        }
    }
}

/// `--generate-cli-skeleton input`: the exact stdout text.
pub fn skeleton_input(op: &Operation) -> String {
    let skeleton = match op.input.as_deref() {
        Some(input) => skeleton::generate(model(), input, false),
        None => PyValue::Dict(Vec::new()),
    };
    let mut text = dumps(&skeleton, DumpOptions::SKELETON).expect("skeletons hold no bytes");
    text.push('\n');
    text
}

/// `--generate-cli-skeleton output`: the sample response handed to the output formatter.
pub fn skeleton_output(op: &Operation) -> PyValue {
    match op.output.as_deref() {
        Some(output) => skeleton::generate(model(), output, true),
        None => PyValue::Dict(Vec::new()),
    }
}

/// `--generate-cli-skeleton output` as AWS CLI runs it: botocore's Stubber
/// validates the sample response against the output shape first, and some
/// samples fail (`get-pipeline`: `pipeline.version` 0 is below its minimum 1),
/// which AWS CLI reports as a "Parameter validation failed:" error (255).
pub fn skeleton_output_checked(op: &Operation) -> Result<PyValue, CliError> {
    let value = skeleton_output(op);
    if let Some(output) = op.output.as_deref() {
        validation_result(validator::report(model(), &value, output))?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
