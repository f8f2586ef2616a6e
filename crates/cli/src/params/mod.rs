//! PLACEHOLDER: replaced at merge.
//!
//! Request parameters of an operation: its CLI arguments, their unpacking
//! (shorthand, JSON, param files), validation and skeletons. Only
//! `operation_args` is real here (the driver and help need it to build the
//! operation parser); the rest reports that it is not built yet.

use cpjobs_model::{Operation, ServiceModel, ShapeKind, cli_name};

use crate::error::CliError;
use crate::py::PyValue;

/// How an argument takes its value on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A string or number: one word.
    Scalar,
    /// `--x` / `--no-x`.
    Boolean,
    /// Several words.
    List,
    /// Shorthand or JSON.
    Structure,
    /// Shorthand or JSON.
    Map,
    /// Bytes.
    Blob,
}

/// One CLI argument of an operation.
#[derive(Debug, Clone)]
pub struct ArgSpec {
    /// Name without dashes, e.g. `action-type-id`.
    pub cli_name: String,
    /// The input member's wire name.
    pub member: String,
    /// The member's shape name.
    pub shape: String,
    /// Whether argparse requires it.
    pub required: bool,
    /// How the value is given.
    pub kind: ArgKind,
}

/// The CLI arguments of `op`, in input member order.
pub fn operation_args(op: &Operation) -> Vec<ArgSpec> {
    let model = ServiceModel::codepipeline();
    let Some(input) = op.input.as_deref().map(|s| model.shape(s)) else { return Vec::new() };
    let args: Vec<ArgSpec> = input
        .members
        .iter()
        .map(|m| {
            let shape = model.shape(&m.shape);
            let kind = match shape.kind {
                ShapeKind::Boolean => ArgKind::Boolean,
                ShapeKind::List => ArgKind::List,
                ShapeKind::Structure => ArgKind::Structure,
                ShapeKind::Map => ArgKind::Map,
                ShapeKind::Blob => ArgKind::Blob,
                _ => ArgKind::Scalar,
            };
            ArgSpec {
                cli_name: cli_name(&m.name),
                member: m.name.clone(),
                shape: m.shape.clone(),
                required: input.required.contains(&m.name) && !m.idempotency_token,
                kind,
            }
        })
        .collect();
    args
}

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawArg {
    /// One word.
    Value(String),
    /// A list argument's words.
    Values(Vec<String>),
    /// A boolean flag.
    Flag(bool),
}

fn not_built() -> CliError {
    CliError::general("request parameters are not built yet")
}

/// The request parameters from the given arguments and `--cli-input-json`.
pub fn build_params(
    op: &Operation,
    given: &[(&ArgSpec, RawArg)],
    cli_input_json: Option<&str>,
) -> Result<PyValue, CliError> {
    let _ = (op, given, cli_input_json);
    Err(not_built())
}

/// botocore's parameter validation.
pub fn validate(op: &Operation, params: &PyValue) -> Result<(), CliError> {
    let _ = (op, params);
    Err(not_built())
}

/// Stdout for `--generate-cli-skeleton input`.
pub fn skeleton_input(op: &Operation) -> String {
    let _ = op;
    "{}\n".to_owned()
}

/// The sample response for `--generate-cli-skeleton output`.
pub fn skeleton_output(op: &Operation) -> PyValue {
    let _ = op;
    PyValue::Dict(Vec::new())
}

/// The JSON request body for validated `params`.
pub fn wire_body(op: &Operation, params: &PyValue) -> String {
    let _ = op;
    crate::py::json_encode::dumps(params, crate::py::json_encode::DumpOptions::WIRE).unwrap_or_default()
}

/// botocore's `generate_idempotent_uuid`: fills absent idempotency-token members.
pub fn fill_idempotency_tokens(op: &Operation, params: &mut PyValue, mut uuid4: impl FnMut() -> String) {
    let model = ServiceModel::codepipeline();
    let Some(input) = op.input.as_deref() else { return };
    let (PyValue::Dict(entries) | PyValue::OrderedDict(entries)) = params else { return };
    for m in &model.shape(input).members {
        if m.idempotency_token && !entries.iter().any(|(k, _)| *k == m.name) {
            entries.push((m.name.clone(), PyValue::Str(uuid4())));
        }
    }
}

/// The sample response of `--generate-cli-skeleton output`, after the Stubber's check of it.
pub fn skeleton_output_checked(op: &Operation) -> Result<PyValue, CliError> {
    Ok(skeleton_output(op))
}
