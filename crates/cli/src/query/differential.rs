//! Differential test: every case of `testdata/cases.txt` runs through Python's
//! `jmespath` (the library AWS CLI uses, via `testdata/oracle.py`, one process
//! for the whole table) and through ours; results, runtime errors and compile
//! errors must be identical, int/float and key order included.
//!
//! Case file: `@doc NAME [ordered] JSON` defines a document (`ordered` reads it
//! with `object_pairs_hook=OrderedDict`); `NAME EXPRESSION` is a case (the
//! expression is the rest of the line, possibly empty); `@json NAME "..."` is a
//! case whose expression is a JSON string (for newlines, tabs, trailing spaces);
//! `#` starts a comment.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value as Json, json};

use super::json::{Objects, loads};
use super::value::Value;
use super::{interp, parser};
use crate::py::value::float_repr;

const CASES: &str = include_str!("testdata/cases.txt");

struct Table {
    docs: Vec<(String, bool, String)>,
    cases: Vec<(String, String)>,
}

fn read_table() -> Table {
    let mut table = Table { docs: Vec::new(), cases: Vec::new() };
    for (n, line) in CASES.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("@doc ") {
            let (name, rest) = rest.split_once(' ').unwrap_or_else(|| panic!("line {}: @doc NAME JSON", n + 1));
            let (ordered, text) = match rest.strip_prefix("ordered ") {
                Some(text) => (true, text),
                None => (false, rest),
            };
            table.docs.push((name.to_string(), ordered, text.to_string()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("@json ") {
            let (doc, text) = rest.split_once(' ').unwrap_or_else(|| panic!("line {}: @json NAME \"...\"", n + 1));
            let expr: String = serde_json::from_str(text).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            table.cases.push((doc.to_string(), expr));
            continue;
        }
        let (doc, expr) = line.split_once(' ').unwrap_or((line, ""));
        assert!(table.docs.iter().any(|(d, _, _)| d == doc), "line {}: unknown document {doc:?}", n + 1);
        table.cases.push((doc.to_string(), expr.to_string()));
    }
    table
}

/// The oracle's tagging of a value. Built by hand: `json!` would re-serialize
/// each nested array, quadratic on the deep cases.
fn tag(v: &Value) -> Json {
    let pair = |name: &str, inner: Json| Json::Array(vec![Json::from(name), inner]);
    let entries = |e: &[(String, Value)]| {
        Json::Array(e.iter().map(|(k, v)| Json::Array(vec![Json::from(k.as_str()), tag(v)])).collect())
    };
    match v {
        Value::None => json!(["null"]),
        Value::Bool(b) => json!(["bool", b]),
        Value::Int(i) => json!(["int", i]),
        Value::Float(f) => json!(["float", float_repr(*f)]),
        Value::Str(s) => json!(["str", s]),
        Value::Bytes(b) => json!(["bytes", b.iter().map(|x| format!("{x:02x}")).collect::<String>()]),
        Value::List(items) => pair("list", Json::Array(items.iter().map(tag).collect())),
        Value::Dict(e) => pair("dict", entries(e)),
        Value::OrderedDict(e) => pair("odict", entries(e)),
        Value::Expref(_) => json!(["expref"]),
    }
}

/// RecursionError's wording depends on the C call that hit the limit, which the
/// oracle cannot reproduce from outside AWS CLI; both sides compare its start.
fn recursion_prefix(message: String) -> String {
    const PREFIX: &str = "maximum recursion depth exceeded";
    if message.starts_with(PREFIX) { PREFIX.to_string() } else { message }
}

fn ours(doc: &Value, expr: &str) -> Json {
    // The public API and the internals must agree on compile errors.
    let public = super::compile(expr);
    match parser::parse(expr) {
        Err(e) => {
            let text = e.render(expr);
            assert_eq!(public.err().as_deref(), Some(text.as_str()), "compile() for {expr:?}");
            json!({ "compile": recursion_prefix(text) })
        }
        Ok(node) => match interp::visit(&node, doc) {
            Ok(v) => json!({ "ok": tag(&v).to_string() }),
            Err(e) => json!({ "err": recursion_prefix(e) }),
        },
    }
}

fn python(table: &Table) -> Vec<Json> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/src/query/testdata/oracle.py");
    let docs: serde_json::Map<String, Json> =
        table.docs.iter().map(|(name, ordered, text)| (name.clone(), json!([ordered, text]))).collect();
    let request = json!({ "docs": docs, "cases": table.cases });
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("the differential test needs python3 with jmespath: cannot run python3: {e}"));
    // A write error means Python died early; its status and stderr below say why.
    let _ = child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes());
    let out = child.wait_with_output().expect("python3 oracle");
    // A missing jmespath module fails here, loudly, with Python's ImportError.
    assert!(
        out.status.success(),
        "the oracle failed (the differential test needs python3 with jmespath, e.g. pip install jmespath): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle output is JSON")
}

#[test]
fn query_matches_python_jmespath() {
    // The deep cases recurse further than a test thread's stack allows in a debug
    // build; `compile`/`search` move such work to a big stack themselves, and
    // this test, which calls the internals directly, does the same.
    let worker = std::thread::Builder::new().stack_size(super::DEEP_STACK).spawn(compare_with_python);
    worker.expect("spawn").join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

fn compare_with_python() {
    let table = read_table();
    assert!(table.cases.len() >= 300, "the table should stay broad: {} cases", table.cases.len());
    let expected = python(&table);
    assert_eq!(expected.len(), table.cases.len());
    let docs: Vec<(String, Value)> = table
        .docs
        .iter()
        .map(|(name, ordered, text)| {
            let objects = if *ordered { Objects::OrderedDict } else { Objects::Dict };
            (name.clone(), loads(text, objects).unwrap_or_else(|e| panic!("document {name}: {e:?}")))
        })
        .collect();
    let mut failures = Vec::new();
    for ((doc, expr), want) in table.cases.iter().zip(&expected) {
        let data = &docs.iter().find(|(n, _)| n == doc).expect("known doc").1;
        let got = ours(data, expr);
        if &got != want {
            failures.push(format!("[{doc}] {expr}\n   python: {want}\n   ours:   {got}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), table.cases.len(), failures.join("\n"));
}
