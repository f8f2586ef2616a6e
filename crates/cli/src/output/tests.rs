//! Byte-exact checks against recordings of the real AWS CLI v1.45.11.
//!
//! Three sets of fixtures under `testdata/`:
//! - `conformance/`: the shared corpus's output cases (response body in,
//!   stdout/stderr out), `--query` results given as JSON;
//! - `e2e.tsv` + `bodies/` + `expected/`: richer job-worker responses
//!   (get-job-details, poll-for-jobs, get-pipeline-state, ...) and malformed
//!   ones, recorded by `record.sh` through the mock server;
//! - `formatter.tsv` + `expected_fmt/`: values only a `--query` can produce
//!   and other terminal widths, recorded by `record_formatter.py` from
//!   awscli's own formatter classes.

use std::path::{Path, PathBuf};

use cpjobs_model::ServiceModel;

use super::*;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/output/testdata")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_str(path: &Path) -> String {
    String::from_utf8(read(path)).expect("UTF-8 fixture")
}

/// The rows of a fixture table, comment lines skipped.
fn rows(path: &Path) -> Vec<Vec<String>> {
    read_str(path)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// A JSON fixture value as Python's `json.loads` builds it.
fn value(json: &str) -> PyValue {
    body::decode_json(json.as_bytes()).unwrap().expect("valid JSON fixture")
}

/// What the CLI run prints: (stdout, stderr, exit code).
struct Run {
    stdout: Vec<u8>,
    stderr: String,
    rc: i32,
}

fn format(value: &PyValue, format: &str, color: bool, op: &str, width: i64) -> Run {
    let format = OutputFormat::parse(format).expect("known format");
    let mut stdout = Vec::new();
    match write_output_with_width(value, format, color, op, width, &mut stdout) {
        Ok(()) => Run { stdout, stderr: String::new(), rc: 0 },
        Err(e) => {
            let err = formatter_crash(&e).unwrap_or_else(|| panic!("write to a Vec failed: {e}"));
            Run { stdout, stderr: err.stderr, rc: err.exit_code }
        }
    }
}

/// parse_response then write_output, as the CLI does for a 2xx response.
fn parse_and_format(op: &str, body: &[u8], fmt: &str, color: bool) -> Run {
    parse_and_format_with(op, body, fmt, color, &ParseOptions::default())
}

fn parse_and_format_with(op: &str, body: &[u8], fmt: &str, color: bool, opts: &ParseOptions) -> Run {
    let op = ServiceModel::codepipeline().operation(op).expect("operation in the model");
    match parse_response_with(op, body, opts).map(|p| p.value) {
        Ok(v) => format(&v, fmt, color, &op.name, 80),
        Err(e) => Run { stdout: Vec::new(), stderr: e.stderr, rc: e.exit_code },
    }
}

/// Compares and returns a description of the mismatch, so a test reports every failing case at once.
fn check(id: &str, run: &Run, stdout: &[u8], stderr: &str, rc: i32) -> Option<String> {
    use crate::differences::normalize;
    if run.stdout == stdout && normalize(&run.stderr) == normalize(stderr) && run.rc == rc {
        return None;
    }
    Some(format!(
        "{id}: rc {} (want {rc})\n--- stdout\n{}\n--- want\n{}\n--- stderr {:?} (want {:?})",
        run.rc,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(stdout),
        run.stderr,
        stderr
    ))
}

fn assert_all(failures: Vec<String>, total: usize) {
    assert!(total > 0, "no fixtures found");
    assert!(failures.is_empty(), "{} of {total} fixtures differ:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn conformance_output_cases() {
    let dir = testdata().join("conformance");
    let cases = rows(&dir.join("conformance.tsv"));
    let mut failures = Vec::new();
    for c in &cases {
        let [id, op, body, fmt, color, rc, query] = &c[..] else { panic!("bad row {c:?}") };
        let body = read(&dir.join("bodies").join(format!("{body}.body")));
        let color = color == "on";
        let run = if query == "-" {
            parse_and_format(op, &body, fmt, color)
        } else {
            // The response still has to parse; the query result is what gets printed.
            let op_model = ServiceModel::codepipeline().operation(op).unwrap();
            parse_response(op_model, &body).expect("query cases parse");
            format(&value(query), fmt, color, op, 80)
        };
        let want_out = read(&dir.join(format!("{id}.stdout")));
        let want_err = read_str(&dir.join(format!("{id}.stderr")));
        failures.extend(check(id, &run, &want_out, &want_err, rc.parse().unwrap()));
    }
    assert_all(failures, cases.len());
}

/// Runs an `e2e.tsv`-style table against its `expected/` recordings.
fn response_cases(dir: &Path, tsv: &Path) {
    let mut opts = ParseOptions::default();
    // fuzz_parser.py leaves this file when it recorded with `cli_timestamp_format = iso8601`.
    if let Ok(format) = std::fs::read_to_string(dir.join("cli_timestamp_format")) {
        opts.timestamp_format = TimestampFormat::from_config(format.trim()).unwrap();
    }
    let cases = rows(tsv);
    let mut failures = Vec::new();
    for c in &cases {
        let [id, op, body, fmt, color] = &c[..] else { panic!("bad row {c:?}") };
        let body = read(&dir.join("bodies").join(format!("{body}.json")));
        let run = parse_and_format_with(op, &body, fmt, color == "on", &opts);
        let expected = dir.join("expected");
        let want_out = read(&expected.join(format!("{id}.stdout")));
        let want_err = read_str(&expected.join(format!("{id}.stderr")));
        let rc = read_str(&expected.join(format!("{id}.rc"))).trim().parse().unwrap();
        failures.extend(check(id, &run, &want_out, &want_err, rc));
    }
    assert_all(failures, cases.len());
}

#[test]
fn recorded_responses_of_the_job_worker_operations() {
    response_cases(&testdata(), &testdata().join("e2e.tsv"));
}

/// Differential runs on generated response bodies: point `CPJOBS_RESPONSE_CASES`
/// at the directory `testdata/fuzz_parser.py SEED COUNT DIR` filled.
#[test]
#[ignore = "needs CPJOBS_RESPONSE_CASES"]
fn generated_responses() {
    let dir = PathBuf::from(std::env::var("CPJOBS_RESPONSE_CASES").expect("CPJOBS_RESPONSE_CASES"));
    response_cases(&dir, &dir.join("e2e.tsv"));
}

/// Runs a `formatter.tsv`-style table against its `expected_fmt/` recordings.
fn formatter_cases(dir: &Path, tsv: &Path) {
    let cases = rows(tsv);
    let mut failures = Vec::new();
    for c in &cases {
        let [id, fmt, color, width, op, json] = &c[..] else { panic!("bad row {c:?}") };
        let run = format(&value(json), fmt, color == "on", op, width.parse().unwrap());
        let expected = dir.join("expected_fmt");
        let want_out = read(&expected.join(format!("{id}.stdout")));
        let want_err = read_str(&expected.join(format!("{id}.stderr")));
        let rc = read_str(&expected.join(format!("{id}.rc"))).trim().parse().unwrap();
        failures.extend(check(id, &run, &want_out, &want_err, rc));
    }
    assert_all(failures, cases.len());
}

#[test]
fn recorded_formatter_runs() {
    formatter_cases(&testdata(), &testdata().join("formatter.tsv"));
}

/// Differential runs on generated values: point `CPJOBS_FORMATTER_CASES` at
/// the directory `testdata/fuzz_formatter.py SEED COUNT DIR` filled.
#[test]
#[ignore = "needs CPJOBS_FORMATTER_CASES"]
fn generated_formatter_runs() {
    let dir = PathBuf::from(std::env::var("CPJOBS_FORMATTER_CASES").expect("CPJOBS_FORMATTER_CASES"));
    formatter_cases(&dir, &dir.join("fuzz.tsv"));
}

#[test]
fn output_format_names() {
    assert_eq!(OutputFormat::parse("json"), Some(OutputFormat::Json));
    assert_eq!(OutputFormat::parse("text"), Some(OutputFormat::Text));
    assert_eq!(OutputFormat::parse("table"), Some(OutputFormat::Table));
    assert_eq!(OutputFormat::parse("yaml"), None);
    assert_eq!(OutputFormat::parse("JSON"), None);
    assert_eq!(OutputFormat::from_setting("table"), Ok(OutputFormat::Table));
    // As in the corpus's configured-output case.
    assert_eq!(OutputFormat::from_setting("yaml"), Err(CliError::raw(255, "\nUnknown output type: yaml\n")));
}

#[test]
fn parse_keeps_model_order_and_drops_unknowns() {
    let op = ServiceModel::codepipeline().operation("PollForThirdPartyJobs").unwrap();
    let v = parse_response(op, br#"{"x":1,"jobs":[{"jobId":"j","extra":2,"clientId":"c"},null]}"#).unwrap();
    assert_eq!(
        v,
        PyValue::Dict(vec![(
            "jobs".into(),
            PyValue::List(vec![
                PyValue::Dict(vec![("clientId".into(), PyValue::str("c")), ("jobId".into(), PyValue::str("j"))]),
                PyValue::None,
            ])
        )])
    );
    // Timestamps stay in their wire form (AWS CLI's default cli_timestamp_format).
    let op = ServiceModel::codepipeline().operation("GetPipelineState").unwrap();
    let v = parse_response(op, br#"{"created":1764438867.123,"updated":"2026-11-29T17:54:27Z"}"#).unwrap();
    assert_eq!(v.get("created"), Some(&PyValue::Float(1764438867.123)));
    assert_eq!(v.get("updated"), Some(&PyValue::str("2026-11-29T17:54:27Z")));
}

#[test]
fn operations_without_output_ignore_the_body() {
    let op = ServiceModel::codepipeline().operation("PutJobSuccessResult").unwrap();
    assert_eq!(parse_response(op, b"\xff not even UTF-8"), Ok(PyValue::Dict(vec![])));
}

#[test]
fn bytes_print_as_base64_in_json() {
    let v = PyValue::Dict(vec![("b".into(), PyValue::Bytes(b"hi\xff\x00!".to_vec()))]);
    let run = format(&v, "json", false, "Op", 80);
    assert_eq!(String::from_utf8(run.stdout).unwrap(), "{\n    \"b\": \"aGn/ACE=\"\n}\n");
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
}

#[test]
fn text_crash_keeps_what_was_written_before() {
    let v = value(r#"{"a":"1","b":[{"x":"y"},null]}"#);
    let run = format(&v, "text", false, "Op", 80);
    assert_eq!(String::from_utf8(run.stdout).unwrap(), "1\n");
    assert_eq!(run.stderr, "\n'NoneType' object has no attribute 'items'\n");
    assert_eq!(run.rc, 255);
}

/// Measured with `aws ... | head -c 10` on a large response: json and table
/// exit 0 silently, text reports the broken pipe.
#[test]
fn closed_stdout_is_ignored_except_by_text() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(32))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let v = value(r#"{"a":1}"#);
    for format in [OutputFormat::Json, OutputFormat::Table] {
        assert!(write_output(&v, format, false, "Op", &mut Broken).is_ok());
        assert!(write_output(&v, format, true, "Op", &mut Broken).is_ok());
    }
    let err = write_output(&v, OutputFormat::Text, false, "Op", &mut Broken).unwrap_err();
    assert_eq!(formatter_crash(&err), Some(CliError::general("[Errno 32] Broken pipe")));
    assert_eq!(python_os_error(&io::Error::from(io::ErrorKind::BrokenPipe)), "[Errno 32] Broken pipe");
    assert_eq!(python_os_error(&io::Error::from_raw_os_error(28)), "[Errno 28] No space left on device");
}

#[test]
fn terminal_width_is_80_and_auto_is_uncoloured_without_a_terminal() {
    assert!(table_color("on"));
    assert!(!table_color("off"));
    // Run from a terminal, stdout is one; under CI it is a pipe or file, as in the corpus runs.
    if rustix::termios::isatty(io::stdout()) {
        return;
    }
    assert_eq!(terminal_width(), 80);
    assert!(!table_color("auto"));
}

#[test]
fn on_a_terminal_colour_ends_with_coloramas_exit_reset() {
    let dir = testdata().join("tty");
    let op = ServiceModel::codepipeline().operation("PollForJobs").unwrap();
    let tty_run = |body: &str| {
        let v = parse_response(op, &read(&testdata().join("bodies").join(format!("{body}.json")))).unwrap();
        let mut stdout = Vec::new();
        let err = render(&v, OutputFormat::Table, true, "PollForJobs", 100, true, &mut stdout).err();
        (stdout, err.and_then(|e| formatter_crash(&e)))
    };
    let (stdout, err) = tty_run("poll_for_jobs_wide");
    assert_eq!(stdout, read(&dir.join("poll_for_jobs_wide.auto.stdout")));
    assert_eq!(err, None);
    let (stdout, err) = tty_run("jobs_empty");
    assert_eq!(stdout, read(&dir.join("jobs_empty.on.stdout")));
    assert_eq!(err, None);
    let (stdout, err) = tty_run("nulls");
    assert_eq!(stdout, read(&dir.join("nulls.on.stdout")));
    assert_eq!(err.unwrap().stderr, read_str(&dir.join("nulls.on.stderr")));
}

#[test]
fn int_keys_mixed_with_str_keys_fail_the_sort() {
    // Python's message names the operands in set-iteration order, which
    // depends on the per-process str hash: 'str' and 'int' most of the time,
    // so it is not a recorded fixture.
    let run = format(&value(r#"[{"a":"1"},[0]]"#), "table", false, "Op", 80);
    assert_eq!(run.stderr, "\n'<' not supported between instances of 'str' and 'int'\n");
    assert_eq!((run.rc, run.stdout.len()), (255, 0));
}

/// list-pipelines over three pages (`testdata/paged/`, recorded by its record.sh).
#[test]
fn paginated_output_matches_the_real_cli() {
    let dir = testdata().join("paged");
    let op = ServiceModel::codepipeline().operation("ListPipelines").unwrap();
    let pages: Vec<PyValue> =
        (1..=3).map(|i| parse_response(op, &read(&dir.join(format!("p{i}.json")))).unwrap()).collect();
    let keys = ["pipelines"];
    let expect = |id: &str, got: Vec<u8>| {
        assert_eq!(String::from_utf8(got).unwrap(), read_str(&dir.join(format!("{id}.stdout"))), "{id}");
        assert_eq!(read_str(&dir.join(format!("{id}.rc"))).trim(), "0", "{id}");
    };
    let whole = |pages: &[PyValue], token: Option<&str>, fmt| {
        let mut out = Vec::new();
        write_output_with_width(&paged::full_result(pages, &keys, token), fmt, false, "ListPipelines", 80, &mut out)
            .unwrap();
        out
    };
    // Per page, with what a --query made of each page's value.
    let text = |values: Vec<PyValue>| {
        let mut out = Vec::new();
        for v in values {
            write_output_with_width(&v, OutputFormat::Text, false, "ListPipelines", 80, &mut out).unwrap();
        }
        out
    };
    expect("json", whole(&pages, None, OutputFormat::Json));
    expect("table", whole(&pages, None, OutputFormat::Table));
    expect("text", text(pages.iter().map(|p| paged::text_page(p, &keys)).collect()));
    let token = "eyJuZXh0VG9rZW4iOiAidDEifQ==";
    expect("json_max1", whole(&pages[..1], Some(token), OutputFormat::Json));
    expect("text_max1", text(vec![paged::text_page(&pages[0], &keys), paged::text_resume_token(token)]));
    // --query 'pipelines[].name' on each page.
    let names = |p: &PyValue| match paged::text_page(p, &keys).get("pipelines") {
        Some(PyValue::List(l)) => PyValue::List(l.iter().map(|j| j.get("name").unwrap().clone()).collect()),
        _ => PyValue::None,
    };
    expect("text_query", text(pages.iter().map(names).collect()));
    // --query 'NextToken' with --max-items 1.
    let next = |v: PyValue| v.get("NextToken").cloned().unwrap_or(PyValue::None);
    expect(
        "text_max1_query",
        text(vec![next(paged::text_page(&pages[0], &keys)), next(paged::text_resume_token(token))]),
    );
}

/// cli_timestamp_format = iso8601 and the --v2-debug warning (`testdata/timestamps/`).
#[test]
fn timestamps_follow_cli_timestamp_format() {
    let dir = testdata().join("timestamps");
    let model = ServiceModel::codepipeline();
    let op = model.operation("GetPipelineState").unwrap();
    let body = read(&dir.join("body.json"));
    let text = |v: &PyValue| {
        let mut out = Vec::new();
        write_output_with_width(v, OutputFormat::Text, false, &op.name, 80, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let iso = ParseOptions { timestamp_format: TimestampFormat::Iso8601, v2_timestamp_warning: false };
    // 2026-11-29, when the recordings were made (tzlocal's offsets come from the current year).
    let now = 1_795_960_000;
    for (id, tz) in [("iso_utc", "UTC"), ("iso_berlin", "Europe/Berlin")] {
        if tz != "UTC" && !Path::new("/usr/share/zoneinfo").join(tz).exists() {
            continue;
        }
        let zone = std::cell::OnceCell::from(localtime::LocalZone::from_tz(tz, now));
        let parsed = parse::parse_in_zone(model, op, &body, &iso, zone).unwrap();
        assert_eq!(text(&parsed.value), read_str(&dir.join(format!("{id}.stdout"))), "{id}");
        assert_eq!(parsed.stderr, "");
    }
    let v2 = ParseOptions { timestamp_format: TimestampFormat::Wire, v2_timestamp_warning: true };
    let parsed = parse_response_with(op, &body, &v2).unwrap();
    assert_eq!(text(&parsed.value), read_str(&dir.join("wire_v2debug.stdout")));
    // The recording also holds the pager warning --v2-debug prints before the request.
    assert!(read_str(&dir.join("wire_v2debug.stderr")).ends_with(&parsed.stderr));
    assert_eq!(parsed.stderr, V2_TIMESTAMP_WARNING);
    // No timestamp read, no warning; a crash after one keeps it first.
    assert_eq!(parse_response_with(op, b"{\"pipelineName\":\"p\"}", &v2).unwrap().stderr, "");
    // (Members are read in model order: stageStates before created.)
    let err = parse_response_with(op, br#"{"created":1,"stageStates":5}"#, &v2).unwrap_err();
    assert_eq!(
        err.stderr,
        "\nThe service's response does not fit the API model: a list was expected where it sent an integer\n"
    );
    let body = br#"{"stageStates":[{"actionStates":5,"inboundTransitionState":{"lastChangedAt":1}}]}"#;
    let err = parse_response_with(op, body, &v2).unwrap_err();
    assert_eq!(
        err.stderr,
        format!(
            "{V2_TIMESTAMP_WARNING}\nThe service's response does not fit the API model: a list was expected where it sent an integer\n"
        )
    );
    let err = parse_response_with(op, br#"{"created":"junk"}"#, &iso).unwrap_err();
    assert_eq!(err.stderr, "\nInvalid timestamp \"junk\": Unknown string format: junk\n");
}
