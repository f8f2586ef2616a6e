//! The CodePipeline API model (API version 2015-07-09) as data.
//!
//! `data/codepipeline-2015-07-09.json` is botocore's service model with the
//! documentation removed (names, shapes, constraints and paginators only).
//! Every operation, its input and output shapes and their constraints are
//! read from it, so the CLI and the service never describe a shape by hand:
//! adding an operation is a matter of data, not of a new parser.
//!
//! Invariant: member order is the model's order (the file is read with an
//! order-preserving map), because AWS CLI prints and validates in that order.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The raw model text, embedded so the binary needs no data files.
pub const MODEL_JSON: &str = include_str!("../data/codepipeline-2015-07-09.json");

/// Service-level facts from the model's `metadata`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `2015-07-09`.
    pub api_version: String,
    /// Signing name and endpoint prefix: `codepipeline`.
    pub endpoint_prefix: String,
    /// `1.1`.
    pub json_version: String,
    /// `CodePipeline_20150709`: the `X-Amz-Target` prefix.
    pub target_prefix: String,
    /// `CodePipeline`.
    pub service_id: String,
}

/// One operation of the API.
#[derive(Debug, Clone)]
pub struct Operation {
    /// PascalCase name, e.g. `PollForThirdPartyJobs`.
    pub name: String,
    /// Input structure shape name, if any.
    pub input: Option<String>,
    /// Output structure shape name, if any.
    pub output: Option<String>,
    /// Modelled error shape names.
    pub errors: Vec<String>,
}

/// The kind of a shape, with what belongs to that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeKind {
    /// A structure: named members in model order.
    Structure,
    /// A list of `member`.
    List,
    /// A map from `key` to `value`.
    Map,
    /// A string (possibly an enum).
    String,
    /// An integer.
    Integer,
    /// A long integer.
    Long,
    /// A boolean.
    Boolean,
    /// A timestamp (epoch seconds on the JSON wire).
    Timestamp,
    /// A blob (base64 on the JSON wire).
    Blob,
    /// A float.
    Float,
    /// A double.
    Double,
}

/// A member of a structure.
#[derive(Debug, Clone)]
pub struct Member {
    /// The member's wire name.
    pub name: String,
    /// The target shape's name.
    pub shape: String,
    /// Filled with a fresh UUID by clients when absent.
    pub idempotency_token: bool,
}

/// A shape with its constraints.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The shape's name in the model.
    pub name: String,
    /// Its kind.
    pub kind: ShapeKind,
    /// Structure members in model order.
    pub members: Vec<Member>,
    /// Required member names in model order.
    pub required: Vec<String>,
    /// Minimum length (strings, lists, maps) or value (numbers).
    pub min: Option<i64>,
    /// Maximum length (strings, lists, maps) or value (numbers).
    pub max: Option<i64>,
    /// Regular expression a string must match.
    pub pattern: Option<String>,
    /// Allowed values of an enum string, empty when not an enum.
    pub enum_values: Vec<String>,
    /// List element shape.
    pub member: Option<String>,
    /// Map key shape.
    pub key: Option<String>,
    /// Map value shape.
    pub value: Option<String>,
    /// Whether this structure is an error shape.
    pub exception: bool,
    /// Whether values of this shape are secrets (never logged).
    pub sensitive: bool,
}

impl Shape {
    /// The member with this wire name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// Paging facts of a pageable operation.
#[derive(Debug, Clone)]
pub struct Paginator {
    /// Input member carrying the token.
    pub input_token: String,
    /// Output member carrying the next token.
    pub output_token: String,
    /// Input member that limits the page size, if any.
    pub limit_key: Option<String>,
    /// Output member holding the results.
    pub result_key: String,
}

/// The whole service model.
#[derive(Debug)]
pub struct ServiceModel {
    /// Service-level facts.
    pub metadata: Metadata,
    /// Operations in model order.
    pub operations: Vec<Operation>,
    shapes: HashMap<String, Shape>,
    paginators: HashMap<String, Paginator>,
}

impl ServiceModel {
    /// The CodePipeline model, parsed once per process.
    pub fn codepipeline() -> &'static ServiceModel {
        static MODEL: OnceLock<ServiceModel> = OnceLock::new();
        MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("embedded model is valid"))
    }

    /// Parses a botocore-format service model.
    ///
    /// Straight into typed records (no intermediate `serde_json::Value`): every
    /// CLI call parses the model once, and that is most of its start-up work.
    pub fn parse(text: &str) -> Result<ServiceModel, String> {
        let raw: RawModel = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let operations = raw
            .operations
            .0
            .into_iter()
            .map(|(name, op)| Operation {
                name,
                input: op.input.map(|r| r.shape),
                output: op.output.map(|r| r.shape),
                errors: op.errors.into_iter().map(|r| r.shape).collect(),
            })
            .collect();
        let mut shapes = HashMap::with_capacity(raw.shapes.0.len());
        for (name, s) in raw.shapes.0 {
            let shape = s.into_shape(&name)?;
            shapes.insert(name, shape);
        }
        let paginators = raw
            .paginators
            .0
            .into_iter()
            .map(|(name, p)| {
                let paginator = Paginator {
                    input_token: p.input_token.unwrap_or_default(),
                    output_token: p.output_token.unwrap_or_default(),
                    limit_key: p.limit_key,
                    result_key: p.result_key.unwrap_or_default(),
                };
                (name, paginator)
            })
            .collect();
        Ok(ServiceModel { metadata: raw.metadata, operations, shapes, paginators })
    }

    /// The operation with this PascalCase name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// The shape with this name. Panics on a dangling reference, which the
    /// embedded model does not have (tested).
    pub fn shape(&self, name: &str) -> &Shape {
        self.shapes.get(name).unwrap_or_else(|| panic!("shape {name} is not in the model"))
    }

    /// The shape with this name, if the model has it.
    pub fn find_shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// Paging facts for a pageable operation.
    pub fn paginator(&self, operation: &str) -> Option<&Paginator> {
        self.paginators.get(operation)
    }

    /// Every shape name (unordered).
    pub fn shape_names(&self) -> impl Iterator<Item = &str> {
        self.shapes.keys().map(String::as_str)
    }
}

/// A JSON object read as its entries in document order (the model's member order matters).
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ordered<T>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, T>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct RawModel {
    metadata: Metadata,
    operations: Ordered<RawOperation>,
    shapes: Ordered<RawShape>,
    #[serde(default)]
    paginators: Ordered<RawPaginator>,
}

#[derive(Deserialize)]
struct ShapeRef {
    shape: String,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<ShapeRef>,
    output: Option<ShapeRef>,
    #[serde(default)]
    errors: Vec<ShapeRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMember {
    shape: String,
    #[serde(default)]
    idempotency_token: bool,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Ordered<RawMember>,
    #[serde(default)]
    required: Vec<String>,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<String>,
    #[serde(rename = "enum", default)]
    enum_values: Vec<String>,
    member: Option<ShapeRef>,
    key: Option<ShapeRef>,
    value: Option<ShapeRef>,
    #[serde(default)]
    exception: bool,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
struct RawPaginator {
    input_token: Option<String>,
    output_token: Option<String>,
    limit_key: Option<String>,
    result_key: Option<String>,
}

impl RawShape {
    fn into_shape(self, name: &str) -> Result<Shape, String> {
        let kind = match self.kind.as_str() {
            "structure" => ShapeKind::Structure,
            "list" => ShapeKind::List,
            "map" => ShapeKind::Map,
            "string" => ShapeKind::String,
            "integer" => ShapeKind::Integer,
            "long" => ShapeKind::Long,
            "boolean" => ShapeKind::Boolean,
            "timestamp" => ShapeKind::Timestamp,
            "blob" => ShapeKind::Blob,
            "float" => ShapeKind::Float,
            "double" => ShapeKind::Double,
            other => return Err(format!("shape {name}: unknown type {other:?}")),
        };
        Ok(Shape {
            name: name.to_owned(),
            kind,
            members: self
                .members
                .0
                .into_iter()
                .map(|(name, m)| Member { name, shape: m.shape, idempotency_token: m.idempotency_token })
                .collect(),
            required: self.required,
            min: self.min,
            max: self.max,
            pattern: self.pattern,
            enum_values: self.enum_values,
            member: self.member.map(|r| r.shape),
            key: self.key.map(|r| r.shape),
            value: self.value.map(|r| r.shape),
            exception: self.exception,
            sensitive: self.sensitive,
        })
    }
}

/// Converts `PollForThirdPartyJobs` to the CLI's `poll-for-third-party-jobs`
/// (botocore's `xform_name` with `-`).
pub fn cli_name(pascal: &str) -> String {
    let mut out = String::with_capacity(pascal.len() + 8);
    let chars: Vec<char> = pascal.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('-');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let m = ServiceModel::codepipeline();
        for op in &m.operations {
            for s in op.input.iter().chain(op.output.iter()).chain(op.errors.iter()) {
                assert!(m.find_shape(s).is_some(), "{} -> {s}", op.name);
            }
        }
        for name in m.shape_names() {
            let s = m.shape(name);
            for mem in &s.members {
                assert!(m.find_shape(&mem.shape).is_some(), "{name}.{}", mem.name);
            }
            for t in [&s.member, &s.key, &s.value].into_iter().flatten() {
                assert!(m.find_shape(t).is_some(), "{name} -> {t}");
            }
        }
    }

    #[test]
    fn member_order_is_model_order() {
        let m = ServiceModel::codepipeline();
        let ati = m.shape("ActionTypeId");
        let names: Vec<_> = ati.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["category", "owner", "provider", "version"]);
        assert_eq!(ati.required, ["category", "owner", "provider", "version"]);
        assert_eq!(m.shape("MaxBatchSize").min, Some(1));
        assert_eq!(m.metadata.target_prefix, "CodePipeline_20150709");
    }

    #[test]
    fn cli_names_match_aws_cli() {
        assert_eq!(cli_name("PollForThirdPartyJobs"), "poll-for-third-party-jobs");
        assert_eq!(cli_name("GetJobDetails"), "get-job-details");
        assert_eq!(cli_name("ListDeployActionExecutionTargets"), "list-deploy-action-execution-targets");
        let m = ServiceModel::codepipeline();
        assert_eq!(m.operations.len(), 44);
    }
}
