//! Exact-text tests of the public API: what AWS CLI prints for `--query`.

use super::compile;
use crate::py::PyValue;
use crate::py::json_encode::{DumpOptions, dumps};

fn jobs() -> PyValue {
    let job =
        |c: &str, j: &str| PyValue::Dict(vec![("clientId".into(), PyValue::str(c)), ("jobId".into(), PyValue::str(j))]);
    PyValue::Dict(vec![("jobs".into(), PyValue::List(vec![job("c1", "j1"), job("c2", "j2"), job("c3", "j3")]))])
}

fn search(expr: &str, data: &PyValue) -> Result<PyValue, String> {
    compile(expr).expect("compiles").search(data)
}

fn out(v: &PyValue) -> String {
    dumps(v, DumpOptions::OUTPUT).expect("serializable")
}

#[test]
fn compile_errors_are_the_rest_of_awscli_line() {
    assert_eq!(
        compile("jobs[").unwrap_err(),
        "Invalid jmespath expression: Incomplete expression:\n\"jobs[\"\n      ^"
    );
    assert_eq!(
        compile("@@").unwrap_err(),
        "Unexpected token: @: Parse error at column 1, token \"@\" (CURRENT), for expression:\n\"@@\"\n  ^"
    );
    assert_eq!(compile("").unwrap_err(), "Invalid JMESPath expression: cannot be empty.");
    assert_eq!(compile("foo#").unwrap_err(), "Bad jmespath expression: Unknown token #:\nfoo#\n   ^");
    assert_eq!(compile("a = b").unwrap_err(), "Bad jmespath expression: Unknown token '=':\na = b\n  ^");
    assert_eq!(compile("`\"a\"b\"`").unwrap_err(), "Bad jmespath expression: Bad token \"a\"b\":\n`\"a\"b\"`\n^");
    // Invalid JSON in backticks is JEP-12's deprecated string literal.
    assert_eq!(compile("`[1,`").unwrap().search(&PyValue::None).unwrap(), PyValue::str("[1,"));
    assert_eq!(compile("'abc").unwrap_err(), "Bad jmespath expression: Unclosed ' delimiter:\n'abc\n^");
    assert_eq!(
        compile("foo[a]").unwrap_err(),
        "Expecting: star, got: unquoted_identifier: Parse error at column 4, token \"a\" (UNQUOTED_IDENTIFIER), for expression:\n\"foo[a]\"\n     ^"
    );
    assert_eq!(
        compile("{a: b,}").unwrap_err(),
        "Expecting: ['quoted_identifier', 'unquoted_identifier'], got: rbrace: Parse error at column 6, token \"}\" (RBRACE), for expression:\n\"{a: b,}\"\n       ^"
    );
    assert_eq!(
        compile("foo `{\"a\": 1}`").unwrap_err(),
        "Unexpected token: {'a': 1}: Parse error at column 4, token \"{'a': 1}\" (LITERAL), for expression:\n\"foo `{\"a\": 1}`\"\n     ^"
    );
    // Columns count characters, not bytes.
    assert_eq!(compile("日本").unwrap_err(), "Bad jmespath expression: Unknown token 日:\n日本\n^");
    assert_eq!(
        compile("'é' 'x'").unwrap_err(),
        "Unexpected token: x: Parse error at column 4, token \"x\" (LITERAL), for expression:\n\"'é' 'x'\"\n     ^"
    );
}

#[test]
fn objects_keep_the_order_written() {
    let v = search("{n: length(jobs), first: jobs[0].jobId}", &jobs()).unwrap();
    assert_eq!(out(&v), "{\n    \"n\": 3,\n    \"first\": \"j1\"\n}");
    let v = search("jobs[0]", &jobs()).unwrap();
    assert_eq!(out(&v), "{\n    \"clientId\": \"c1\",\n    \"jobId\": \"j1\"\n}");
}

#[test]
fn numbers_stay_python_numbers() {
    let data = PyValue::List(vec![PyValue::int(1), PyValue::int(2), PyValue::Float(2.5)]);
    assert_eq!(search("length(@)", &data).unwrap(), PyValue::int(3));
    assert_eq!(search("sum([0:2])", &data).unwrap(), PyValue::int(3));
    assert_eq!(search("sum(@)", &data).unwrap(), PyValue::Float(5.5));
    assert_eq!(search("avg([0:2])", &data).unwrap(), PyValue::Float(1.5));
    assert_eq!(search("ceil([2])", &data).unwrap(), PyValue::int(3));
    assert_eq!(search("to_string(@)", &data).unwrap(), PyValue::str("[1,2,2.5]"));
    assert_eq!(search("`99999999999999999999`", &data).unwrap(), PyValue::Int("99999999999999999999".into()));
}

#[test]
fn runtime_errors_are_python_exception_texts() {
    let e = search("length(missing)", &jobs()).unwrap_err();
    assert_eq!(
        e,
        "In function length(), invalid type for value: None, expected one of: ['string', 'array', 'object'], received: \"null\""
    );
    assert_eq!(search("foo()", &jobs()).unwrap_err(), "Unknown function: foo()");
    assert_eq!(search("length()", &jobs()).unwrap_err(), "Expected 1 argument for function length(), received 0");
    assert_eq!(
        search("merge()", &jobs()).unwrap_err(),
        "Expected at least 1 argument for function merge(), received 0"
    );
    assert_eq!(
        search("sum(jobs[*].jobId)", &jobs()).unwrap_err(),
        "In function sum(), invalid type for value: j1, expected one of: ['array-number'], received: \"str\""
    );
    assert_eq!(search("jobs[::0]", &jobs()).unwrap_err(), "slice step cannot be zero");
    assert_eq!(
        search("jobs[0].jobId < `1`", &jobs()).unwrap_err(),
        "'<' not supported between instances of 'str' and 'int'"
    );
    // Arity is checked at call time, so an unused bad call is no error.
    assert_eq!(search("missing[*].length()", &jobs()).unwrap(), PyValue::None);
}

#[test]
fn ordered_dicts_print_as_python_does_in_errors() {
    let data = PyValue::OrderedDict(vec![("a".into(), PyValue::int(1))]);
    assert_eq!(
        search("abs(@)", &data).unwrap_err(),
        "In function abs(), invalid type for value: OrderedDict([('a', 1)]), expected one of: ['number'], received: \"object\""
    );
    // Results built by the query are plain dicts, whatever the input was.
    assert_eq!(search("{a: a}", &data).unwrap(), PyValue::Dict(vec![("a".into(), PyValue::int(1))]));
}

#[test]
fn expression_references_cannot_be_printed() {
    assert_eq!(search("&jobs", &jobs()).unwrap_err(), "Encountered unrecognized type in JSON encoder.");
}

#[test]
fn deep_nesting_fails_like_python_instead_of_overflowing() {
    let nest = |open: &str, close: &str, n: usize| format!("{}a{}", open.repeat(n), close.repeat(n));
    // The thresholds of aws-cli 1.45.11.
    assert!(compile(&nest("(", ")", 490)).is_ok());
    assert_eq!(compile(&nest("(", ")", 491)).unwrap_err(), "maximum recursion depth exceeded");
    assert!(compile(&nest("[", "]", 326)).is_ok());
    assert_eq!(compile(&nest("[", "]", 327)).unwrap_err(), "maximum recursion depth exceeded");
    assert_eq!(compile(&nest("(", ")", 100_000)).unwrap_err(), "maximum recursion depth exceeded");
    // Backtick JSON goes through CPython's scanner, which counts nesting too.
    let literal = |n: usize| format!("`{}{}`", "[".repeat(n), "]".repeat(n));
    assert!(compile(&literal(977)).is_ok());
    assert_eq!(
        compile(&literal(978)).unwrap_err(),
        "maximum recursion depth exceeded while decoding a JSON array from a unicode string"
    );
    // Evaluation has its own limit, deeper in AWS CLI's stack: 486 `!` evaluate, 487 do not.
    let data = PyValue::Dict(vec![("jobs".into(), PyValue::List(vec![]))]);
    let nots = |n: usize| compile(&format!("{}jobs", "!".repeat(n))).unwrap();
    assert_eq!(nots(486).search(&data).unwrap(), PyValue::Bool(false));
    assert_eq!(nots(487).search(&data).unwrap_err(), "maximum recursion depth exceeded while calling a Python object");
    // Deep but accepted expressions evaluate without exhausting the stack.
    let v = compile(&nest("[", "]", 300)).unwrap().search(&PyValue::Dict(vec![("a".into(), PyValue::int(1))]));
    assert!(v.is_ok());
}

#[test]
fn expressions_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<super::Expression>();
}

#[test]
fn expression_text_is_kept() {
    assert_eq!(compile("jobs[0]").unwrap().as_str(), "jobs[0]");
}
