//! Tests of the public parameter API against texts recorded from AWS CLI
//! 1.45.11: the conformance corpus's parameter cases (request body or exact
//! stderr), and further cases checked by running the real `aws` against the
//! mock server for other operations.

use super::*;
use crate::differences::normalize;
use crate::py::json_encode::{DumpOptions, dumps};

fn op(name: &str) -> &'static Operation {
    ServiceModel::codepipeline().operation(name).expect("operation")
}

fn spec(op: &Operation, cli_name: &str) -> ArgSpec {
    operation_args(op).into_iter().find(|s| s.cli_name == cli_name).expect("argument")
}

/// build_params + validate, as the driver chains them: the JSON body or the exact stderr.
fn run(op_name: &str, args: &[(&str, RawArg)], cli_input_json: Option<&str>) -> Result<String, String> {
    let op = op(op_name);
    let specs: Vec<(ArgSpec, RawArg)> = args.iter().map(|(n, v)| (spec(op, n), v.clone())).collect();
    let given: Vec<(&ArgSpec, RawArg)> = specs.iter().map(|(s, v)| (s, v.clone())).collect();
    let params = build_params(op, &given, cli_input_json).map_err(|e| e.stderr)?;
    validate(op, &params).map_err(|e| e.stderr)?;
    Ok(wire_body(op, &params))
}

fn value(s: &str) -> RawArg {
    RawArg::Value(s.to_owned())
}

type Expect = Result<&'static str, &'static str>;
type CorpusCase = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>, Expect);
type OpCase = (&'static str, Vec<(&'static str, RawArg)>, Option<&'static str>, Expect);

/// (case id, --action-type-id, --max-batch-size, --cli-input-json, body or stderr), from the corpus.
#[rustfmt::skip]
const CORPUS: &[CorpusCase] = &[
    ("S01_spaces_around_sep", Some("category = Build , owner = ThirdParty , provider = p , version = 1 "), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("S02_leading_space", Some(" category=Build,owner=ThirdParty,provider=p,version=1"), None, None, Err("\nError parsing parameter '--action-type-id': Expected: '=', received: 'c' for input:\n{self._error_location()}\n")),
    ("S04_single_quoted", Some("category='Build',owner=ThirdParty,provider=p,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("S05_escaped_comma", Some("category=a\\,b,owner=ThirdParty,provider=p,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"a,b\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("S06_value_with_equals", Some("category=a=b,owner=ThirdParty,provider=p,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"a=b\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("S07_duplicate_key", Some("category=Build,category=Deploy"), None, None, Err("\nError parsing parameter '--action-type-id': Second instance of key \"category\" encountered for input:\ncategory=Build,category=Deploy\n               ^\nThis is often because there is a preceding \",\" instead of a space.\n")),
    ("S08_duplicate_key_late", Some("category=Build,owner=ThirdParty,provider=p,version=1,version=2"), None, None, Err("\nError parsing parameter '--action-type-id': Second instance of key \"version\" encountered for input:\ncategory=Build,owner=ThirdParty,provider=p,version=1,version=2\n                                                     ^\nThis is often because there is a preceding \",\" instead of a space.\n")),
    ("S10_missing_keys", Some("category=Build"), None, None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"owner\"\nMissing required parameter in actionTypeId: \"provider\"\nMissing required parameter in actionTypeId: \"version\"\n")),
    ("S13_empty_key", Some("=x"), None, None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"category\"\nMissing required parameter in actionTypeId: \"owner\"\nMissing required parameter in actionTypeId: \"provider\"\nMissing required parameter in actionTypeId: \"version\"\nUnknown parameter in actionTypeId: \"\", must be one of: category, owner, provider, version\n")),
    ("S16_csv_list_value", Some("category=a,b,owner=ThirdParty,provider=p,version=1"), None, None, Err("\nParameter validation failed:\nInvalid type for parameter actionTypeId.category, value: ['a', 'b'], type: <class 'list'>, valid types: <class 'str'>\n")),
    ("S22_version_empty_quoted", Some("category=Build,owner=ThirdParty,provider=p,version=\"\""), None, None, Err("\nParameter validation failed:\nInvalid length for parameter actionTypeId.version, value: 0, valid min length: 1\n")),
    ("S25_bad_pattern", Some("category=Build,owner=ThirdParty,provider=p q!,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p q!\", \"version\": \"1\"}}")),
    ("S27_double_equals", Some("category=Build,owner=ThirdParty,provider=p,\nversion==1"), None, None, Err("\nError parsing parameter '--action-type-id': Expected: ',', received: '=' for input:\n{self._error_location()}\n")),
    ("S29_semicolon", Some("category=Build;owner=ThirdParty"), None, None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"owner\"\nMissing required parameter in actionTypeId: \"provider\"\nMissing required parameter in actionTypeId: \"version\"\n")),
    ("S30_colon_instead_of_eq", Some("category:Build"), None, None, Err("\nError parsing parameter '--action-type-id': Expected: '=', received: 'EOF' for input:\n{self._error_location()}\n")),
    ("S31_escaped_dquote", Some("category=\"a\\\"b\",owner=ThirdParty,provider=p,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"a\\\"b\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("S32_escaped_squote", Some("category='a\\'b',owner=ThirdParty,provider=p,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"a'b\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("S35_trailing_brace", Some("category=Build,owner=ThirdParty,provider=p,version=1}"), None, None, Err("\nError parsing parameter '--action-type-id': Expected: ',', received: '}' for input:\n{self._error_location()}\n")),
    ("S36_double_comma", Some("category=Build,,owner=x"), None, None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"provider\"\nMissing required parameter in actionTypeId: \"version\"\n")),
    ("S37_at_equals_file", Some("category=Build,owner=ThirdParty,provider@=file://testdata/params/provider.txt,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"MyProvFromFile\\n\", \"version\": \"1\"}}")),
    ("S38_at_equals_missing_file", Some("category=Build,owner=ThirdParty,provider@=file://testdata/params/nope.txt,version=1"), None, None, Err("\nUnable to load paramfile file://testdata/params/nope.txt: [Errno 2] No such file or directory: 'testdata/params/nope.txt'\n")),
    ("S40_at_equals_plain", Some("category=Build,owner=ThirdParty,provider@=plain,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"plain\", \"version\": \"1\"}}")),
    ("S41_plain_file_prefix_not_loaded", Some("category=Build,owner=ThirdParty,provider=file://testdata/params/provider.txt,version=1"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"file://testdata/params/provider.txt\", \"version\": \"1\"}}")),
    ("S42_multi_errors_order", Some("provider=,extra=1,category=Build"), Some("0"), None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"owner\"\nMissing required parameter in actionTypeId: \"version\"\nUnknown parameter in actionTypeId: \"extra\", must be one of: category, owner, provider, version\nInvalid length for parameter actionTypeId.provider, value: 0, valid min length: 1\nInvalid value for parameter maxBatchSize, value: 0, valid min value: 1\n")),
    ("S43_missing_plus_mbs0", Some("category=Build"), Some("0"), None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"owner\"\nMissing required parameter in actionTypeId: \"provider\"\nMissing required parameter in actionTypeId: \"version\"\nInvalid value for parameter maxBatchSize, value: 0, valid min value: 1\n")),
    ("S44_null_word", Some("null"), None, None, Err("\nError parsing parameter '--action-type-id': Expected: '=', received: 'EOF' for input:\n{self._error_location()}\n")),
    ("J01_json", Some("{\"category\":\"Build\",\"owner\":\"ThirdParty\",\"provider\":\"p\",\"version\":\"1\"}"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("J02_json_leading_ws", Some("  {\"version\":\"1\",\"category\":\"Build\",\"owner\":\"ThirdParty\",\"provider\":\"p\"}"), None, None, Ok("{\"actionTypeId\": {\"version\": \"1\", \"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\"}}")),
    ("J03_json_syntax_error", Some("{\"category\":\"Build\","), None, None, Err("\nError parsing parameter '--action-type-id': Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 21 (char 20)\nJSON received: {\"category\":\"Build\",\n")),
    ("J04_json_int_version", Some("{\"category\":\"Build\",\"owner\":\"ThirdParty\",\"provider\":\"p\",\"version\":1}"), None, None, Err("\nParameter validation failed:\nInvalid type for parameter actionTypeId.version, value: 1, type: <class 'int'>, valid types: <class 'str'>\n")),
    ("J05_json_duplicate_key", Some("{\"category\":\"Build\",\"owner\":\"ThirdParty\",\"provider\":\"p\",\"version\":\"1\",\"category\":\"Deploy\"}"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}")),
    ("J07_json_array_ws", Some(" [1]"), None, None, Err("\nError parsing parameter '--action-type-id': Invalid JSON:\n [1]\n")),
    ("J08_json_unknown_key", Some("{\"category\":\"Build\",\"owner\":\"ThirdParty\",\"provider\":\"p\",\"version\":\"1\",\"extra\":1}"), None, None, Err("\nParameter validation failed:\nUnknown parameter in actionTypeId: \"extra\", must be one of: category, owner, provider, version\n")),
    ("J09_json_empty_obj", Some("{}"), None, None, Err("\nParameter validation failed:\nMissing required parameter in actionTypeId: \"category\"\nMissing required parameter in actionTypeId: \"owner\"\nMissing required parameter in actionTypeId: \"provider\"\nMissing required parameter in actionTypeId: \"version\"\n")),
    ("J10_json_null_member", Some("{\"category\":null,\"owner\":\"ThirdParty\",\"provider\":\"p\",\"version\":\"1\"}"), None, None, Err("\nParameter validation failed:\nInvalid type for parameter actionTypeId.category, value: None, type: <class 'NoneType'>, valid types: <class 'str'>\n")),
    ("J11_json_extra_data", Some("{\"a\":1}x"), None, None, Err("\nError parsing parameter '--action-type-id': Invalid JSON: Extra data: line 1 column 8 (char 7)\nJSON received: {\"a\":1}x\n")),
    ("J12_json_single_quotes", Some("{'category':'Build'}"), None, None, Err("\nError parsing parameter '--action-type-id': Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\nJSON received: {'category':'Build'}\n")),
    ("J17_json_unterminated_string", Some("{\"category\":\"Build"), None, None, Err("\nError parsing parameter '--action-type-id': Invalid JSON: Unterminated string starting at: line 1 column 13 (char 12)\nJSON received: {\"category\":\"Build\n")),
    ("F02_file_json", Some("file://testdata/params/ati.json"), None, None, Ok("{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"JsonFile\", \"version\": \"2\"}}")),
    ("F03_file_missing", Some("file://testdata/params/missing.json"), None, None, Err("\nError parsing parameter '--action-type-id': Unable to load paramfile file://testdata/params/missing.json: [Errno 2] No such file or directory: 'testdata/params/missing.json'\n")),
    ("F04_fileb_json", Some("fileb://testdata/params/ati.json"), None, None, Err("\n'in <string>' requires string as left operand, not int\n")),
    ("F05_file_not_utf8", Some("file://testdata/params/notutf8.bin"), None, None, Err("\nError parsing parameter '--action-type-id': Unable to load paramfile (testdata/params/notutf8.bin), text contents could not be decoded.  If this is a binary file, please use the fileb:// prefix instead of the file:// prefix.\n")),
    ("F08_mbs_from_file", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("file://testdata/params/mbs.txt"), None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 6}")),
    ("M01_zero", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("0"), None, Err("\nParameter validation failed:\nInvalid value for parameter maxBatchSize, value: 0, valid min value: 1\n")),
    ("M03_float", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("1.5"), None, Err("\ninvalid literal for int() with base 10: '1.5'\n")),
    ("M04_alpha", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("abc"), None, Err("\ninvalid literal for int() with base 10: 'abc'\n")),
    ("M06_plus_sign", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("+3"), None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 3}")),
    ("M07_underscore", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("1_000"), None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 1000}")),
    ("M08_huge", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("99999999999999999999"), None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 99999999999999999999}")),
    ("M09_empty", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some(""), None, Err("\ninvalid literal for int() with base 10: ''\n")),
    ("M11_hex", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("0x10"), None, Err("\ninvalid literal for int() with base 10: '0x10'\n")),
    ("M14_duplicate_last_wins", Some("category=Build,owner=ThirdParty,provider=p,version=1"), Some("2"), None, Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 2}")),
    ("C01_file_full", None, None, Some("file://testdata/params/cli_input_full.json"), Ok("{\"actionTypeId\": {\"category\": \"Test\", \"owner\": \"AWS\", \"provider\": \"CliInput\", \"version\": \"3\"}, \"maxBatchSize\": 7}")),
    ("C04_mbs_file_plus_ati", Some("category=Build,owner=ThirdParty,provider=p,version=1"), None, Some("file://testdata/params/cli_input_mbs.json"), Ok("{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 4}")),
    ("C05_mbs_file_only", None, None, Some("file://testdata/params/cli_input_mbs.json"), Err("\nParameter validation failed:\nMissing required parameter in input: \"actionTypeId\"\n")),
    ("C06_unknown_key", None, None, Some("file://testdata/params/cli_input_unknown.json"), Err("\nParameter validation failed:\nUnknown parameter in input: \"bogusKey\", must be one of: actionTypeId, maxBatchSize\n")),
    ("C07_bad_json_file", None, None, Some("file://testdata/params/cli_input_bad.json"), Err("\nError parsing parameter 'cli-input-json': Invalid JSON: Expecting value: line 1 column 18 (char 17)\nJSON received: {\"actionTypeId\": \n")),
    ("C08_missing_file", None, None, Some("file://testdata/params/nonexistent.json"), Err("\nError parsing parameter '--cli-input-json': Unable to load paramfile file://testdata/params/nonexistent.json: [Errno 2] No such file or directory: 'testdata/params/nonexistent.json'\n")),
    ("C09_inline_json", None, None, Some("{\"maxBatchSize\": 3, \"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"x\",\"version\":\"1\"}}"), Ok("{\"maxBatchSize\": 3, \"actionTypeId\": {\"category\": \"Source\", \"owner\": \"AWS\", \"provider\": \"x\", \"version\": \"1\"}}")),
    ("C10_mbs_string", None, None, Some("{\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"x\",\"version\":\"1\"},\"maxBatchSize\":\"5\"}"), Err("\nParameter validation failed:\nInvalid type for parameter maxBatchSize, value: 5, type: <class 'str'>, valid types: <class 'int'>\n")),
    ("C13_string", None, None, Some("\"str\""), Err("\n'str' object has no attribute 'keys'\n")),
    ("C14_empty", None, None, Some(""), Err("\nError parsing parameter 'cli-input-json': Invalid JSON: Expecting value: line 1 column 1 (char 0)\nJSON received: \n")),
    ("C15_not_json", None, None, Some("not json"), Err("\nError parsing parameter 'cli-input-json': Invalid JSON: Expecting value: line 1 column 1 (char 0)\nJSON received: not json\n")),
    ("C17_mbs_float", None, None, Some("{\"maxBatchSize\": 3.5, \"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"x\",\"version\":\"1\"}}"), Err("\nParameter validation failed:\nInvalid type for parameter maxBatchSize, value: 3.5, type: <class 'float'>, valid types: <class 'int'>\n")),
    ("C18_fileb", None, None, Some("fileb://testdata/params/cli_input_full.json"), Ok("{\"actionTypeId\": {\"category\": \"Test\", \"owner\": \"AWS\", \"provider\": \"CliInput\", \"version\": \"3\"}, \"maxBatchSize\": 7}")),
    ("C19_ati_string", None, None, Some("{\"actionTypeId\":\"category=Build,owner=x,provider=y,version=1\"}"), Err("\nParameter validation failed:\nInvalid type for parameter actionTypeId, value: category=Build,owner=x,provider=y,version=1, type: <class 'str'>, valid types: <class 'dict'>\n")),
    ("C20_nested_unknown", None, None, Some("{\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"x\",\"version\":\"1\",\"zz\":[1,{\"a\":null}]}}"), Err("\nParameter validation failed:\nUnknown parameter in actionTypeId: \"zz\", must be one of: category, owner, provider, version\n")),
    ("C21_mbs_null", None, None, Some("{\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":\"x\",\"version\":\"1\"},\"maxBatchSize\":null}"), Err("\nParameter validation failed:\nInvalid type for parameter maxBatchSize, value: None, type: <class 'NoneType'>, valid types: <class 'int'>\n")),
    ("C22_empty_obj", None, None, Some("{}"), Err("\nParameter validation failed:\nMissing required parameter in input: \"actionTypeId\"\n")),
];

#[test]
fn corpus_cases_reproduce() {
    for (id, ati, mbs, cij, want) in CORPUS {
        let mut args = Vec::new();
        if let Some(v) = ati {
            args.push(("action-type-id", value(v)));
        }
        if let Some(v) = mbs {
            args.push(("max-batch-size", value(v)));
        }
        let got = run("PollForThirdPartyJobs", &args, *cij).map_err(|e| normalize(&e));
        let want = want.map(str::to_owned).map_err(normalize);
        assert_eq!(got, want, "{id}");
    }
}

fn values(v: &[&str]) -> RawArg {
    RawArg::Values(v.iter().map(|s| s.to_string()).collect())
}

/// Other operations, each expectation taken from the real `aws` against the mock server.
#[test]
fn other_operations_match_aws_cli() {
    let cases: Vec<OpCase> = vec![
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("j1")),
                ("execution-details", value("summary=ok,externalExecutionId=e1,percentComplete=50")),
            ],
            None,
            Ok(
                r#"{"jobId": "j1", "executionDetails": {"summary": "ok", "externalExecutionId": "e1", "percentComplete": 50}}"#,
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![("job-id", value("j1")), ("execution-details", value("summary=ok,percentComplete=abc"))],
            None,
            Err("\ninvalid literal for int() with base 10: 'abc'\n"),
        ),
        (
            "PutJobSuccessResult",
            vec![("job-id", value("j1")), ("execution-details", value("summary=ok,percentComplete=5,6"))],
            None,
            Err("\nint() argument must be a string, a bytes-like object or a real number, not 'list'\n"),
        ),
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("j")),
                ("output-variables", value("k1=v1")),
                ("execution-details", value("percentComplete=true")),
            ],
            None,
            Err("\ninvalid literal for int() with base 10: 'true'\n"),
        ),
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("j1")),
                ("current-revision", value("revision=r,changeIdentifier=c,created=2020-01-01T00:00:00Z")),
                ("output-variables", value("a=b,c=d")),
            ],
            None,
            Ok(
                r#"{"jobId": "j1", "currentRevision": {"revision": "r", "changeIdentifier": "c", "created": 1577836800}, "outputVariables": {"a": "b", "c": "d"}}"#,
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![("job-id", value("j1")), ("current-revision", value("revision=r,changeIdentifier=c,created=xyz"))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter currentRevision.created, value: xyz, type: <class 'str'>, valid types: <class 'datetime.datetime'>, timestamp-string\n",
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![("job-id", value("j1")), ("output-variables", value(r#"{"a":1}"#))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter outputVariables.a, value: 1, type: <class 'int'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("j")),
                ("client-token", value("t")),
                ("failure-details", value("type=JobFailed,message=boom,externalExecutionId=x")),
            ],
            None,
            Ok(
                r#"{"jobId": "j", "clientToken": "t", "failureDetails": {"type": "JobFailed", "message": "boom", "externalExecutionId": "x"}}"#,
            ),
        ),
        (
            "PutThirdPartyJobFailureResult",
            vec![("job-id", value("j")), ("client-token", value("t")), ("failure-details", value("type=JobFailed"))],
            None,
            Err("\nParameter validation failed:\nMissing required parameter in failureDetails: \"message\"\n"),
        ),
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("j")),
                ("client-token", value("t")),
                ("failure-details", value(r#"{"type":"JobFailed","message":""}"#)),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid length for parameter failureDetails.message, value: 0, valid min length: 1\n",
            ),
        ),
        (
            "AcknowledgeJob",
            vec![("job-id", value("j1")), ("nonce", value("n1"))],
            None,
            Ok(r#"{"jobId": "j1", "nonce": "n1"}"#),
        ),
        (
            "AcknowledgeJob",
            vec![("nonce", value("")), ("job-id", value("j1"))],
            None,
            Err("\nParameter validation failed:\nInvalid length for parameter nonce, value: 0, valid min length: 1\n"),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&["a", "b", "c"]))],
            None,
            Ok(r#"{"resourceArn": "arn:x", "tagKeys": ["a", "b", "c"]}"#),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&[r#"["a","b"]"#]))],
            None,
            Ok(r#"{"resourceArn": "arn:x", "tagKeys": ["a", "b"]}"#),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&[""]))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid length for parameter tagKeys[0], value: 0, valid min length: 1\n",
            ),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&["key=a,value=b", "key=c,value=d"]))],
            None,
            Ok(r#"{"resourceArn": "arn:x", "tags": [{"key": "a", "value": "b"}, {"key": "c", "value": "d"}]}"#),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&[r#"{"key":"a","value":"b"}"#, r#"{"key":"c"}"#]))],
            None,
            Err("\nParameter validation failed:\nMissing required parameter in tags[1]: \"value\"\n"),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&[r#"[{"key":"a","value":"b"}]"#]))],
            None,
            Ok(r#"{"resourceArn": "arn:x", "tags": [{"key": "a", "value": "b"}]}"#),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&[r#"{"key":"a"}"#, "key=b"]))],
            None,
            Err("\nError parsing parameter '--tags': Invalid JSON:\nkey=b\n"),
        ),
        (
            "StopPipelineExecution",
            vec![
                ("pipeline-name", value("p")),
                ("pipeline-execution-id", value("e")),
                ("abandon", RawArg::Flag(true)),
                ("reason", value("r")),
            ],
            None,
            Ok(r#"{"pipelineName": "p", "pipelineExecutionId": "e", "abandon": true, "reason": "r"}"#),
        ),
        (
            "StopPipelineExecution",
            vec![
                ("pipeline-name", value("p")),
                ("pipeline-execution-id", value("e")),
                ("abandon", RawArg::Flag(false)),
            ],
            None,
            Ok(r#"{"pipelineName": "p", "pipelineExecutionId": "e", "abandon": false}"#),
        ),
        (
            "StartPipelineExecution",
            vec![
                ("name", value("p")),
                ("variables", values(&["name=a,value=b"])),
                ("client-request-token", value("tok")),
            ],
            None,
            Ok(r#"{"name": "p", "variables": [{"name": "a", "value": "b"}], "clientRequestToken": "tok"}"#),
        ),
        (
            "ListActionExecutions",
            vec![
                ("max-results", value("5")),
                ("pipeline-name", value("p")),
                ("filter", value("pipelineExecutionId=x")),
            ],
            None,
            Ok(r#"{"pipelineName": "p", "filter": {"pipelineExecutionId": "x"}, "maxResults": 5}"#),
        ),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("a=b,c=d")),
            ],
            None,
            Ok(
                r#"{"actionTypeId": {"category": "Build", "owner": "Custom", "provider": "p", "version": "1"}, "queryParam": {"a": "b", "c": "d"}}"#,
            ),
        ),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("a=")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid length for parameter queryParam.a, value: 0, valid min length: 1\n",
            ),
        ),
        (
            "PutApprovalResult",
            vec![
                ("pipeline-name", value("p")),
                ("stage-name", value("s")),
                ("action-name", value("a")),
                ("token", value("t")),
                ("result", value("summary=ok,status=Approved")),
            ],
            None,
            Ok(
                r#"{"pipelineName": "p", "stageName": "s", "actionName": "a", "result": {"summary": "ok", "status": "Approved"}, "token": "t"}"#,
            ),
        ),
        (
            "PutJobFailureResult",
            vec![("job-id", value("j")), ("failure-details", value("type=JobFailed,message=m"))],
            Some(r#"{"jobId":"other","failureDetails":[1]}"#),
            Ok(r#"{"jobId": "j", "failureDetails": {"type": "JobFailed", "message": "m"}}"#),
        ),
        (
            "GetJobDetails",
            vec![],
            Some(r#"{"jobId":["a"]}"#),
            Err(
                "\nParameter validation failed:\nInvalid type for parameter jobId, value: ['a'], type: <class 'list'>, valid types: <class 'str'>\n",
            ),
        ),
        ("GetJobDetails", vec![], Some("[]"), Err("\n'list' object has no attribute 'keys'\n")),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("=x")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid length for parameter queryParam (key: ), value: 0, valid min length: 1\n",
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![("job-id", value("j")), ("output-variables", value(r#"{"": 1}"#))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter outputVariables., value: 1, type: <class 'int'>, valid types: <class 'str'>\n",
            ),
        ),
        // A list argument handed over as a single value is a one-element list.
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", value("k"))],
            None,
            Ok(r#"{"resourceArn": "arn:x", "tagKeys": ["k"]}"#),
        ),
        ("GetJobDetails", vec![], Some("5"), Err("\n'int' object has no attribute 'keys'\n")),
        ("GetJobDetails", vec![], Some("null"), Err("\n'NoneType' object has no attribute 'keys'\n")),
    ];
    for (op_name, args, cij, want) in cases {
        let got = run(op_name, &args, cij).map_err(|e| normalize(&e));
        let want = want.map(str::to_owned).map_err(normalize);
        assert_eq!(got, want, "{op_name} {args:?} {cij:?}");
    }
}

#[test]
fn argument_table_follows_the_model() {
    let names = |op_name: &str| -> Vec<(String, ArgKind, bool)> {
        operation_args(op(op_name)).into_iter().map(|s| (s.cli_name, s.kind, s.required)).collect()
    };
    assert_eq!(
        names("PollForThirdPartyJobs"),
        [
            ("action-type-id".to_owned(), ArgKind::Structure, true),
            ("max-batch-size".to_owned(), ArgKind::Scalar, false)
        ]
    );
    let start = names("StartPipelineExecution");
    assert_eq!(start[1], ("variables".to_owned(), ArgKind::List, false));
    // An idempotency token is never required on the command line.
    assert_eq!(start[2], ("client-request-token".to_owned(), ArgKind::Scalar, false));
    assert_eq!(names("StopPipelineExecution")[2], ("abandon".to_owned(), ArgKind::Boolean, false));
    assert_eq!(names("ListWebhooks")[0].0, "next-token");
    assert_eq!(names("PollForJobs")[2], ("query-param".to_owned(), ArgKind::Map, false));
}

#[test]
fn idempotency_tokens_are_appended() {
    let op = op("StartPipelineExecution");
    let name = spec(op, "name");
    let mut params = build_params(op, &[(&name, value("p"))], None).unwrap();
    fill_idempotency_tokens(op, &mut params, || "uuid-1".to_owned());
    assert_eq!(dumps(&params, DumpOptions::WIRE).unwrap(), r#"{"name": "p", "clientRequestToken": "uuid-1"}"#);
}

#[test]
fn skeletons_match_botocore() {
    let text = skeleton_input(op("PutJobSuccessResult"));
    assert_eq!(
        text,
        "{\n    \"jobId\": \"\",\n    \"currentRevision\": {\n        \"revision\": \"\",\n        \"changeIdentifier\": \"\",\n        \"created\": \"1970-01-01T00:00:00\",\n        \"revisionSummary\": \"\"\n    },\n    \"continuationToken\": \"\",\n    \"executionDetails\": {\n        \"summary\": \"\",\n        \"externalExecutionId\": \"\",\n        \"percentComplete\": 0\n    },\n    \"outputVariables\": {\n        \"KeyName\": \"\"\n    }\n}\n"
    );
    // Enum members are random: mask them as the corpus runner does.
    let poll = skeleton_input(op("PollForThirdPartyJobs"));
    let category = crate::py::json_decode::loads(&poll).unwrap();
    let ati = category.get("actionTypeId").unwrap();
    let cat = ati.get("category").unwrap().py_str();
    assert!(["Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute"].contains(&cat.as_str()), "{cat}");
    let masked = poll
        .replace(&format!("\"{cat}\""), "\"<C>\"")
        .replace(&format!("\"{}\"", ati.get("owner").unwrap().py_str()), "\"<O>\"");
    assert_eq!(
        masked,
        "{\n    \"actionTypeId\": {\n        \"category\": \"<C>\",\n        \"owner\": \"<O>\",\n        \"provider\": \"\",\n        \"version\": \"\"\n    },\n    \"maxBatchSize\": 0\n}\n"
    );
    assert_eq!(
        dumps(&skeleton_output(op("PollForThirdPartyJobs")), DumpOptions::WIRE).unwrap(),
        r#"{"jobs": [{"clientId": "clientId", "jobId": "jobId"}]}"#
    );
    assert_eq!(
        skeleton_output_checked(op("ListPipelines")).unwrap_err().stderr,
        "\nParameter validation failed:\nInvalid value for parameter pipelines[0].version, value: 0, valid min value: 1\n"
    );
    // T19_tp_details_skeleton_output of the job-worker corpus.
    assert_eq!(
        skeleton_output_checked(op("GetThirdPartyJobDetails")).unwrap_err().stderr,
        "\nParameter validation failed:\nInvalid length for parameter jobDetails.data.actionConfiguration.configuration.KeyName, value: 0, valid min length: 1\n"
    );
    assert!(skeleton_output_checked(op("AcknowledgeJob")).is_ok());
    assert_eq!(
        skeleton_output_checked(op("GetJobDetails")).unwrap_err().stderr,
        "\nParameter validation failed:\nInvalid length for parameter jobDetails.data.actionConfiguration.configuration.KeyName, value: 0, valid min length: 1\n"
    );
}

/// Thousands of generated inputs whose expected results were recorded from
/// CPython 3.11 with awscli 1.45.11 (`ShorthandParser().parse`,
/// `json.loads(..., object_pairs_hook=OrderedDict)`, `int()`); see
/// `testdata/params/README.md` for how they were made.
#[test]
fn differential_against_python() {
    let data = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/params/differential.jsonl"))
        .expect("differential data");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in data.lines() {
        let case: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let input = case["input"].as_str().expect("input");
        let field = |k: &str| case.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let (got, want) = match case["kind"].as_str() {
            Some("shorthand") => {
                let got = match shorthand::parse(input) {
                    Ok(v) => ("ok", v.repr()),
                    Err(shorthand::ShorthandError::Parse(m)) => ("parse_error", m),
                    Err(shorthand::ShorthandError::Plain(m)) => ("other_error", m),
                };
                let want = ["ok", "parse_error", "other_error"].into_iter().find_map(|k| field(k).map(|v| (k, v)));
                (got, want)
            }
            Some("json") => {
                let got = match crate::py::json_decode::loads(input) {
                    Ok(v) => ("ok", v.repr()),
                    Err(m) => ("error", m),
                };
                (got, ["ok", "error"].into_iter().find_map(|k| field(k).map(|v| (k, v))))
            }
            _ => {
                let got = match crate::py::int::parse_int(input) {
                    Ok(v) => ("ok", v),
                    Err(m) => ("error", m),
                };
                (got, ["ok", "error"].into_iter().find_map(|k| field(k).map(|v| (k, v))))
            }
        };
        count += 1;
        let got = (got.0, normalize(&got.1));
        let want = want.map(|(k, v)| (k, normalize(&v)));
        if Some((got.0, got.1.clone())) != want {
            failures.push(format!("{} {input:?}\n  got  {got:?}\n  want {want:?}", case["kind"]));
        }
    }
    assert!(count > 1000, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}

/// More operations and value forms (files, bytes, lists, nested shorthand, timestamps,
/// cli-input-json), each expectation recorded from the real `aws` against the mock server.
#[test]
fn recorded_aws_cli_behaviour() {
    let cases: Vec<OpCase> = vec![
        (
            "PollForThirdPartyJobs",
            vec![(
                "action-type-id",
                value("category=Build,owner=ThirdParty,provider@=fileb://testdata/params/prov.txt,version=1"),
            )],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter actionTypeId.provider, value: b'MyProv\\n', type: <class 'bytes'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![("action-type-id", value("file://testdata/params/ati_sh.txt"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"ThirdParty\", \"provider\": \"p\", \"version\": \"1\"}}",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![("action-type-id", value("category=Build,owner=ThirdParty,provider={\"a\": 1},version=1"))],
            None,
            Err(
                "\nError parsing parameter '--action-type-id': Expected: '=', received: '\"' for input:\n{self._error_location()}\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![(
                "action-type-id",
                value(
                    "{\"category\": {\"a\": 1}, \"owner\": [1, 2.5, null, true], \"provider\": \"p\", \"version\": \"1\"}",
                ),
            )],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter actionTypeId.category, value: OrderedDict([('a', 1)]), type: <class 'collections.OrderedDict'>, valid types: <class 'str'>\nInvalid type for parameter actionTypeId.owner, value: [1, 2.5, None, True], type: <class 'list'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![],
            Some("{\"actionTypeId\": [{\"a\": 1}]}"),
            Err(
                "\nParameter validation failed:\nInvalid type for parameter actionTypeId, value: [{'a': 1}], type: <class 'list'>, valid types: <class 'dict'>\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![("max-batch-size", value("2"))],
            Some(
                "{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"AWS\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": 1}",
            ),
            Ok(
                "{\"maxBatchSize\": 2, \"actionTypeId\": {\"category\": \"Build\", \"owner\": \"AWS\", \"provider\": \"p\", \"version\": \"1\"}}",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![],
            Some("fileb://testdata/params/bad.bin"),
            Err(
                "\nError parsing parameter 'cli-input-json': Invalid JSON: 'utf-16-le' codec can't decode byte 0x7b in position 2: truncated data\nJSON received: b'\\xff\\xfe{'\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![],
            Some(
                "{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"AWS\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": true}",
            ),
            Ok(
                "{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"AWS\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": true}",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![],
            Some(
                "{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"AWS\", \"provider\": \"p\", \"version\": \"1\"}, \"maxBatchSize\": false}",
            ),
            Err(
                "\nParameter validation failed:\nInvalid value for parameter maxBatchSize, value: False, valid min value: 1\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![
                ("action-type-id", value("category=Build,owner=ThirdParty,provider=p,version=1")),
                ("max-batch-size", value("fileb://testdata/params/prov.txt")),
            ],
            None,
            Err("\ninvalid literal for int() with base 10: b'MyProv\\n'\n"),
        ),
        (
            "PollForThirdPartyJobs",
            vec![("action-type-id", value(""))],
            None,
            Err(
                "\nError parsing parameter '--action-type-id': Expected: '=', received: 'EOF' for input:\n{self._error_location()}\n",
            ),
        ),
        (
            "PollForThirdPartyJobs",
            vec![("action-type-id", value("[1,2]"))],
            None,
            Err("\nError parsing parameter '--action-type-id': Invalid JSON:\n[1,2]\n"),
        ),
        (
            "PollForThirdPartyJobs",
            vec![("action-type-id", value("category=[a,b],owner={x=y},provider=p,version=1"))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter actionTypeId.category, value: ['a', 'b'], type: <class 'list'>, valid types: <class 'str'>\nInvalid type for parameter actionTypeId.owner, value: {'x': 'y'}, type: <class 'dict'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&["fileb://testdata/params/keys2.txt"]))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter tagKeys[0], value: 97, type: <class 'int'>, valid types: <class 'str'>\nInvalid type for parameter tagKeys[1], value: 98, type: <class 'int'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&["file://testdata/params/keys2.txt"]))],
            None,
            Ok("{\"resourceArn\": \"arn:x\", \"tagKeys\": [\"a\", \"b\"]}"),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&["file://testdata/params/empty.txt"]))],
            None,
            Err("\nstring index out of range\n"),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&["a", "[b]"]))],
            None,
            Ok("{\"resourceArn\": \"arn:x\", \"tagKeys\": [\"a\", \"[b]\"]}"),
        ),
        (
            "UntagResource",
            vec![("resource-arn", value("arn:x")), ("tag-keys", values(&["  [1]"]))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter tagKeys[0], value: 1, type: <class 'int'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&[""]))],
            None,
            Err(
                "\nError parsing parameter '--tags': Expected: '=', received: 'EOF' for input:\n{self._error_location()}\n",
            ),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&["key=a,value=b,extra=c"]))],
            None,
            Err(
                "\nParameter validation failed:\nUnknown parameter in tags[0]: \"extra\", must be one of: key, value\n",
            ),
        ),
        (
            "TagResource",
            vec![
                ("resource-arn", value("arn:x")),
                ("tags", values(&["key=a,value=b", "{\"key\": \"c\", \"value\": \"d\"}"])),
            ],
            None,
            Err(
                "\nError parsing parameter '--tags': Expected: '=', received: '{' for input:\n{self._error_location()}\n",
            ),
        ),
        (
            "TagResource",
            vec![("resource-arn", value("arn:x")), ("tags", values(&["{\"key\": \"c\", \"value\": \"d\"}", ""]))],
            None,
            Err("\nstring index out of range\n"),
        ),
        (
            "CreateCustomActionType",
            vec![
                ("category", value("Build")),
                ("provider", value("p")),
                ("input-artifact-details", value("minimumCount=0,maximumCount=1")),
                ("output-artifact-details", value("minimumCount=0,maximumCount=1")),
                ("configuration-properties", values(&["name=a,required=true,key=TRUE,secret=no"])),
            ],
            Some("{\"version\": \"1\"}"),
            Err(
                "\nParameter validation failed:\nInvalid type for parameter configurationProperties[0].secret, value: no, type: <class 'str'>, valid types: <class 'bool'>\n",
            ),
        ),
        (
            "CreateCustomActionType",
            vec![
                ("category", value("Build")),
                ("provider", value("p")),
                ("input-artifact-details", value("minimumCount=0,maximumCount=1")),
                ("output-artifact-details", value("minimumCount=0,maximumCount=1")),
                (
                    "configuration-properties",
                    values(&["name=a,required=true,key=false,secret=False,queryable=True,type=String"]),
                ),
            ],
            Some("{\"version\": \"1\"}"),
            Ok(
                "{\"category\": \"Build\", \"provider\": \"p\", \"configurationProperties\": [{\"name\": \"a\", \"required\": true, \"key\": false, \"secret\": false, \"queryable\": true, \"type\": \"String\"}], \"inputArtifactDetails\": {\"minimumCount\": 0, \"maximumCount\": 1}, \"outputArtifactDetails\": {\"minimumCount\": 0, \"maximumCount\": 1}, \"version\": \"1\"}",
            ),
        ),
        (
            "CreateCustomActionType",
            vec![
                ("category", value("Build")),
                ("provider", value("p")),
                ("input-artifact-details", value("minimumCount=x,maximumCount=1")),
                ("output-artifact-details", value("minimumCount=0,maximumCount=1")),
            ],
            Some("{\"version\": \"1\"}"),
            Err("\ninvalid literal for int() with base 10: 'x'\n"),
        ),
        (
            "CreateCustomActionType",
            vec![
                ("category", value("Build")),
                ("provider", value("p")),
                ("input-artifact-details", value("minimumCount=0,maximumCount=1")),
                ("output-artifact-details", value("minimumCount=0,maximumCount=1")),
                ("configuration-properties", values(&["name=a,required=[true],key=false,secret=false"])),
            ],
            Some("{\"version\": \"1\"}"),
            Err("\n'list' object has no attribute 'lower'\n"),
        ),
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("j")),
                ("current-revision", value("revision=r,changeIdentifier=c,created=1577836800.5")),
            ],
            None,
            Ok(
                "{\"jobId\": \"j\", \"currentRevision\": {\"revision\": \"r\", \"changeIdentifier\": \"c\", \"created\": 1577836800}}",
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("j")),
                ("current-revision", value("revision=r,changeIdentifier=c,created=2020-06-01T12:30:00+02:00")),
            ],
            None,
            Ok(
                "{\"jobId\": \"j\", \"currentRevision\": {\"revision\": \"r\", \"changeIdentifier\": \"c\", \"created\": 1591007400}}",
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("j")),
                ("execution-details", value("percentComplete=-1")),
                ("output-variables", value("{}")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid value for parameter executionDetails.percentComplete, value: -1, valid min value: 0\n",
            ),
        ),
        (
            "PutJobSuccessResult",
            vec![("job-id", value("j")), ("execution-details", value("percentComplete= 5 "))],
            None,
            Ok("{\"jobId\": \"j\", \"executionDetails\": {\"percentComplete\": 5}}"),
        ),
        (
            "StartPipelineExecution",
            vec![
                ("name", value("p")),
                ("variables", values(&["[{\"name\":\"a\",\"value\":\"b\"}]"])),
                ("source-revisions", values(&["actionName=a,revisionType=COMMIT_ID,revisionValue=v"])),
            ],
            None,
            Ok(
                "{\"name\": \"p\", \"variables\": [{\"name\": \"a\", \"value\": \"b\"}], \"sourceRevisions\": [{\"actionName\": \"a\", \"revisionType\": \"COMMIT_ID\", \"revisionValue\": \"v\"}], \"clientRequestToken\": \"4f6b1a4f-07c9-4cdf-b0b4-e4e0cc1f4aed\"}",
            ),
        ),
        (
            "StartPipelineExecution",
            vec![("name", value("p")), ("variables", values(&["name=a,value=b", "name=c"]))],
            None,
            Err("\nParameter validation failed:\nMissing required parameter in variables[1]: \"value\"\n"),
        ),
        (
            "GetJobDetails",
            vec![("job-id", value("file://testdata/params/nope.txt"))],
            None,
            Err(
                "\nError parsing parameter '--job-id': Unable to load paramfile file://testdata/params/nope.txt: [Errno 2] No such file or directory: 'testdata/params/nope.txt'\n",
            ),
        ),
        (
            "GetPipelineState",
            vec![("name", value(""))],
            None,
            Err("\nParameter validation failed:\nInvalid length for parameter name, value: 0, valid min length: 1\n"),
        ),
        (
            "UpdatePipeline",
            vec![(
                "pipeline",
                value(
                    "name=p,roleArn=r,stages=[{name=s,actions=[{name=a,actionTypeId={category=Build,owner=AWS,provider=CodeBuild,version=1},runOrder=1}]}]",
                ),
            )],
            None,
            Ok(
                "{\"pipeline\": {\"name\": \"p\", \"roleArn\": \"r\", \"stages\": [{\"name\": \"s\", \"actions\": [{\"name\": \"a\", \"actionTypeId\": {\"category\": \"Build\", \"owner\": \"AWS\", \"provider\": \"CodeBuild\", \"version\": \"1\"}, \"runOrder\": 1}]}]}}",
            ),
        ),
        (
            "UpdatePipeline",
            vec![("pipeline", value("name=p,roleArn=r,version=x,stages=[]"))],
            None,
            Err("\ninvalid literal for int() with base 10: 'x'\n"),
        ),
        (
            "UpdatePipeline",
            vec![(
                "pipeline",
                value("name=p,roleArn=r,stages=[{name=s,actions=[{name=a,runOrder=0,configuration={k=v}}]}]"),
            )],
            None,
            Err(
                "\nParameter validation failed:\nMissing required parameter in pipeline.stages[0].actions[0]: \"actionTypeId\"\nInvalid value for parameter pipeline.stages[0].actions[0].runOrder, value: 0, valid min value: 1\n",
            ),
        ),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("{\"a\":\"b\"}")),
            ],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Build\", \"owner\": \"Custom\", \"provider\": \"p\", \"version\": \"1\"}, \"queryParam\": {\"a\": \"b\"}}",
            ),
        ),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("a=b,a=c")),
            ],
            None,
            Err(
                "\nError parsing parameter '--query-param': Second instance of key \"a\" encountered for input:\na=b,a=c\n    ^\nThis is often because there is a preceding \",\" instead of a space.\n",
            ),
        ),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("a=[x,y]")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter queryParam.a, value: ['x', 'y'], type: <class 'list'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Build,owner=Custom,provider=p,version=1")),
                ("query-param", value("a=x,y")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter queryParam.a, value: ['x', 'y'], type: <class 'list'>, valid types: <class 'str'>\n",
            ),
        ),
        (
            "StopPipelineExecution",
            vec![("pipeline-name", value("p")), ("pipeline-execution-id", value("e"))],
            Some("{\"abandon\": \"yes\"}"),
            Err(
                "\nParameter validation failed:\nInvalid type for parameter abandon, value: yes, type: <class 'str'>, valid types: <class 'bool'>\n",
            ),
        ),
        (
            "ListActionExecutions",
            vec![
                ("pipeline-name", value("p")),
                (
                    "filter",
                    value(
                        "{\"pipelineExecutionId\": 5, \"latestInPipelineExecution\": {\"pipelineExecutionId\": \"x\"}}",
                    ),
                ),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter filter.pipelineExecutionId, value: 5, type: <class 'int'>, valid types: <class 'str'>\nMissing required parameter in filter.latestInPipelineExecution: \"startTimeRange\"\n",
            ),
        ),
        (
            "PutWebhook",
            vec![
                (
                    "webhook",
                    value(
                        "name=w,targetPipeline=p,targetAction=a,filters=[{jsonPath=$.ref,matchEquals=x}],authentication=GITHUB_HMAC,authenticationConfiguration={SecretToken=s}",
                    ),
                ),
                ("tags", values(&["key=k,value=v"])),
            ],
            None,
            Ok(
                "{\"webhook\": {\"name\": \"w\", \"targetPipeline\": \"p\", \"targetAction\": \"a\", \"filters\": [{\"jsonPath\": \"$.ref\", \"matchEquals\": \"x\"}], \"authentication\": \"GITHUB_HMAC\", \"authenticationConfiguration\": {\"SecretToken\": \"s\"}}, \"tags\": [{\"key\": \"k\", \"value\": \"v\"}]}",
            ),
        ),
        (
            "UpdateActionType",
            vec![(
                "action-type",
                value(
                    "executor={configuration={lambdaFunctionArn=a},type=Lambda,jobTimeout=30},id={category=Build,owner=o,provider=p,version=1},inputArtifactDetails={minimumCount=0,maximumCount=1},outputArtifactDetails={minimumCount=0,maximumCount=1}",
                ),
            )],
            None,
            Err(
                "\nParameter validation failed:\nUnknown parameter in actionType.executor.configuration: \"lambdaFunctionArn\", must be one of: lambdaExecutorConfiguration, jobWorkerExecutorConfiguration\nInvalid value for parameter actionType.executor.jobTimeout, value: 30, valid min value: 60\n",
            ),
        ),
        (
            "RetryStageExecution",
            vec![
                ("pipeline-name", value("p")),
                ("stage-name", value("s")),
                ("pipeline-execution-id", value("e")),
                ("retry-mode", value("FAILED_ACTIONS")),
            ],
            Some("{\"extra\": 1, \"pipelineName\": 5}"),
            Err(
                "\nParameter validation failed:\nUnknown parameter in input: \"extra\", must be one of: pipelineName, stageName, pipelineExecutionId, retryMode\n",
            ),
        ),
    ];
    for (op_name, args, cij, want) in cases {
        let op = op(op_name);
        let specs: Vec<(ArgSpec, RawArg)> = args.iter().map(|(n, v)| (spec(op, n), v.clone())).collect();
        let given: Vec<(&ArgSpec, RawArg)> = specs.iter().map(|(s, v)| (s, v.clone())).collect();
        let got = build_params(op, &given, cij).and_then(|mut params| {
            // The recorded run drew this token.
            fill_idempotency_tokens(op, &mut params, || "4f6b1a4f-07c9-4cdf-b0b4-e4e0cc1f4aed".to_owned());
            validate(op, &params)?;
            Ok(wire_body(op, &params))
        });
        let want = want.map(str::to_owned).map_err(normalize);
        assert_eq!(got.map_err(|e| normalize(&e.stderr)), want, "{op_name} {args:?} {cij:?}");
    }
}

/// The job-worker corpus (`tests/conformance` on main, recorded from the real
/// `aws`): the request body each case sent, or its parameter error.
#[test]
fn job_worker_corpus_parameters() {
    let cases: Vec<OpCase> = vec![
        (
            "AcknowledgeThirdPartyJob",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("nonce", value("3")),
                ("client-token", value("ct-1")),
            ],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"nonce\": \"3\", \"clientToken\": \"ct-1\"}"),
        ), // T01_ack_tp
        (
            "AcknowledgeThirdPartyJob",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("nonce", value("3")),
                ("client-token", value("ct-1")),
            ],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"nonce\": \"3\", \"clientToken\": \"ct-1\"}"),
        ), // T02_ack_tp_text
        (
            "AcknowledgeThirdPartyJob",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("nonce", value("3")),
                ("client-token", value("ct-1")),
            ],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"nonce\": \"3\", \"clientToken\": \"ct-1\"}"),
        ), // T03_ack_tp_table
        (
            "AcknowledgeThirdPartyJob",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("nonce", value("9")),
                ("client-token", value("ct-1")),
            ],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"nonce\": \"9\", \"clientToken\": \"ct-1\"}"),
        ), // T05_ack_tp_bad_nonce
        (
            "AcknowledgeThirdPartyJob",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("nonce", value("")),
                ("client-token", value("ct-1")),
            ],
            None,
            Err("\nParameter validation failed:\nInvalid length for parameter nonce, value: 0, valid min length: 1\n"),
        ), // T06_ack_tp_empty_nonce
        (
            "AcknowledgeThirdPartyJob",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("nonce", value("3")),
                ("client-token", value("ct-1")),
            ],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"nonce\": \"3\", \"clientToken\": \"ct-1\"}"),
        ), // T07_ack_tp_unknown_field
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T10_tp_details_json
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T11_tp_details_text
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T12_tp_details_table
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T13_tp_details_query
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T14_tp_details_query_text
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T15_tp_details_min_table
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T16_tp_details_min_text
        (
            "GetThirdPartyJobDetails",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("wrong"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"wrong\"}"),
        ), // T17_tp_details_bad_token
        (
            "PutThirdPartyJobSuccessResult",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T20_tp_success
        (
            "PutThirdPartyJobSuccessResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("current-revision", value("revision=r1,changeIdentifier=c1,revisionSummary=first build")),
                ("continuation-token", value("step-2")),
                ("execution-details", value("summary=half,externalExecutionId=ext-9,percentComplete=50")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"currentRevision\": {\"revision\": \"r1\", \"changeIdentifier\": \"c1\", \"revisionSummary\": \"first build\"}, \"continuationToken\": \"step-2\", \"executionDetails\": {\"summary\": \"half\", \"externalExecutionId\": \"ext-9\", \"percentComplete\": 50}}",
            ),
        ), // T21_tp_success_all
        (
            "PutThirdPartyJobSuccessResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("execution-details", value("{\"percentComplete\":\"50\"}")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter executionDetails.percentComplete, value: 50, type: <class 'str'>, valid types: <class 'int'>\n",
            ),
        ), // T22_tp_success_percent_string
        (
            "PutThirdPartyJobSuccessResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("execution-details", value("percentComplete=101")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"executionDetails\": {\"percentComplete\": 101}}",
            ),
        ), // T23_tp_success_percent_over
        (
            "PutThirdPartyJobSuccessResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("execution-details", value("percentComplete=-1")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid value for parameter executionDetails.percentComplete, value: -1, valid min value: 0\n",
            ),
        ), // T24_tp_success_percent_negative
        (
            "PutThirdPartyJobSuccessResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("current-revision", value("revision=r1")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nMissing required parameter in currentRevision: \"changeIdentifier\"\n",
            ),
        ), // T25_tp_success_revision_missing
        (
            "PutThirdPartyJobSuccessResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("current-revision", value("revision=r1,changeIdentifier=c1,created=2026-11-29T10:00:00Z")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"currentRevision\": {\"revision\": \"r1\", \"changeIdentifier\": \"c1\", \"created\": 1795946400}}",
            ),
        ), // T26_tp_success_created_ts
        (
            "PutThirdPartyJobSuccessResult",
            vec![("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")), ("client-token", value("ct-1"))],
            None,
            Ok("{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\"}"),
        ), // T27_tp_success_jobstate
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("failure-details", value("type=JobFailed,message=tests failed,externalExecutionId=run-7")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"failureDetails\": {\"type\": \"JobFailed\", \"message\": \"tests failed\", \"externalExecutionId\": \"run-7\"}}",
            ),
        ), // T30_tp_failure
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("failure-details", value("{\"type\":\"ConfigurationError\",\"message\":\"bad \\u00e9\"}")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"failureDetails\": {\"type\": \"ConfigurationError\", \"message\": \"bad \\u00e9\"}}",
            ),
        ), // T31_tp_failure_json
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("failure-details", value("type=JobFailed")),
            ],
            None,
            Err("\nParameter validation failed:\nMissing required parameter in failureDetails: \"message\"\n"),
        ), // T32_tp_failure_missing_message
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("failure-details", value("type=Oops,message=m")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"failureDetails\": {\"type\": \"Oops\", \"message\": \"m\"}}",
            ),
        ), // T33_tp_failure_bad_enum
        (
            "PutThirdPartyJobFailureResult",
            vec![],
            Some("file://testdata/params/tp_failure.json"),
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"failureDetails\": {\"type\": \"JobFailed\", \"message\": \"exit 2: tests failed\"}}",
            ),
        ), // T34_tp_failure_input_json
        (
            "PutThirdPartyJobFailureResult",
            vec![
                ("job-id", value("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")),
                ("client-token", value("ct-1")),
                ("failure-details", value("type=JobFailed,message@=file://testdata/params/message.txt")),
            ],
            None,
            Ok(
                "{\"jobId\": \"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\", \"clientToken\": \"ct-1\", \"failureDetails\": {\"type\": \"JobFailed\", \"message\": \"Deployment failed:\\n  step 3 timed out\\n\"}}",
            ),
        ), // T35_tp_failure_message_file
        (
            "PollForJobs",
            vec![("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"MyDeployer\", \"version\": \"2\"}}",
            ),
        ), // T40_poll_jobs_json
        (
            "PollForJobs",
            vec![("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"MyDeployer\", \"version\": \"2\"}}",
            ),
        ), // T41_poll_jobs_text
        (
            "PollForJobs",
            vec![("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"MyDeployer\", \"version\": \"2\"}}",
            ),
        ), // T42_poll_jobs_table
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2")),
                ("max-batch-size", value("10")),
                ("query-param", value("ProjectName=web,Mode=full")),
            ],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"MyDeployer\", \"version\": \"2\"}, \"maxBatchSize\": 10, \"queryParam\": {\"ProjectName\": \"web\", \"Mode\": \"full\"}}",
            ),
        ), // T43_poll_jobs_query_param
        (
            "PollForJobs",
            vec![("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"MyDeployer\", \"version\": \"2\"}}",
            ),
        ), // T44_poll_jobs_query_ids
        (
            "PollForJobs",
            vec![("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"MyDeployer\", \"version\": \"2\"}}",
            ),
        ), // T45_poll_jobs_empty_table
        (
            "PollForJobs",
            vec![("action-type-id", value("category=Deploy,owner=Custom,provider=Nope,version=2"))],
            None,
            Ok(
                "{\"actionTypeId\": {\"category\": \"Deploy\", \"owner\": \"Custom\", \"provider\": \"Nope\", \"version\": \"2\"}}",
            ),
        ), // T46_poll_jobs_notfound
        (
            "PollForJobs",
            vec![
                ("action-type-id", value("category=Deploy,owner=Custom,provider=MyDeployer,version=2")),
                ("query-param", value("{\"ProjectName\": 5}")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter queryParam.ProjectName, value: 5, type: <class 'int'>, valid types: <class 'str'>\n",
            ),
        ), // T47_poll_jobs_query_param_json
        (
            "AcknowledgeJob",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")), ("nonce", value("7"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"nonce\": \"7\"}"),
        ), // T50_ack_job
        (
            "AcknowledgeJob",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")), ("nonce", value("7"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"nonce\": \"7\"}"),
        ), // T51_ack_job_table
        (
            "AcknowledgeJob",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")), ("nonce", value("7"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"nonce\": \"7\"}"),
        ), // T53_ack_job_not_found
        (
            "GetJobDetails",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\"}"),
        ), // T60_job_details_json
        (
            "GetJobDetails",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\"}"),
        ), // T61_job_details_text
        (
            "GetJobDetails",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\"}"),
        ), // T62_job_details_table
        (
            "GetJobDetails",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\"}"),
        ), // T63_job_details_query_config
        (
            "GetJobDetails",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\"}"),
        ), // T64_job_details_empty
        (
            "PutJobSuccessResult",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\"}"),
        ), // T70_job_success
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")),
                ("execution-details", value("summary=deployed to prod,percentComplete=100")),
                ("output-variables", value("url=https://example.invalid/app,version=42")),
            ],
            None,
            Ok(
                "{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"executionDetails\": {\"summary\": \"deployed to prod\", \"percentComplete\": 100}, \"outputVariables\": {\"url\": \"https://example.invalid/app\", \"version\": \"42\"}}",
            ),
        ), // T71_job_success_all
        (
            "PutJobSuccessResult",
            vec![],
            Some("file://testdata/params/job_success.json"),
            Ok(
                "{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"executionDetails\": {\"summary\": \"deployed\", \"percentComplete\": 100}, \"outputVariables\": {\"url\": \"https://x\"}}",
            ),
        ), // T72_job_success_input_json
        (
            "PutJobSuccessResult",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")), ("output-variables", value("a=b"))],
            None,
            Ok("{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"outputVariables\": {\"a\": \"b\"}}"),
        ), // T73_job_success_vars_error
        (
            "PutJobSuccessResult",
            vec![("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")), ("continuation-token", value(""))],
            None,
            Err(
                "\nParameter validation failed:\nInvalid length for parameter continuationToken, value: 0, valid min length: 1\n",
            ),
        ), // T74_job_success_continuation_empty
        (
            "PutJobSuccessResult",
            vec![
                ("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")),
                ("execution-details", value("summary=s,bogus=1")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nUnknown parameter in executionDetails: \"bogus\", must be one of: summary, externalExecutionId, percentComplete\n",
            ),
        ), // T76_job_success_unknown_exec_key
        (
            "PutJobFailureResult",
            vec![
                ("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")),
                ("failure-details", value("type=JobFailed,message=exit 2")),
            ],
            None,
            Ok(
                "{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"failureDetails\": {\"type\": \"JobFailed\", \"message\": \"exit 2\"}}",
            ),
        ), // T80_job_failure
        (
            "PutJobFailureResult",
            vec![
                ("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")),
                ("failure-details", value("type=JobFailed,message=a,b")),
            ],
            None,
            Err(
                "\nParameter validation failed:\nInvalid type for parameter failureDetails.message, value: ['a', 'b'], type: <class 'list'>, valid types: <class 'str'>\n",
            ),
        ), // T81_job_failure_list_value
        (
            "PutJobFailureResult",
            vec![
                ("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")),
                ("failure-details", value("type=JobFailed,message=m")),
            ],
            None,
            Ok(
                "{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"failureDetails\": {\"type\": \"JobFailed\", \"message\": \"m\"}}",
            ),
        ), // T83_job_failure_session_token
        (
            "PutJobFailureResult",
            vec![
                ("job-id", value("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")),
                ("failure-details", value("type=JobFailed,message=m")),
            ],
            None,
            Ok(
                "{\"jobId\": \"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e\", \"failureDetails\": {\"type\": \"JobFailed\", \"message\": \"m\"}}",
            ),
        ), // T84_job_failure_profile
    ];
    for (op_name, args, cij, want) in cases {
        let got = run(op_name, &args, cij).map_err(|e| normalize(&e));
        let want = want.map(str::to_owned).map_err(normalize);
        assert_eq!(got, want, "{op_name} {args:?} {cij:?}");
    }
}
