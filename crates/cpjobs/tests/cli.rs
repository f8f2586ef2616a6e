//! The `cpjobs` binary run as AWS CLI would be: through a link named `aws`,
//! with an empty environment, stdin from /dev/null and output captured (not
//! a terminal). Only cases that end before any request: argparse errors,
//! usage texts, `--version`, top-level checks, paging-argument checks, help.
//! Expected texts are AWS CLI v1.45.11's bytes (recorded in the project's
//! conformance corpus) except where crates/cli/DIFFERENCES.md says otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

// AWS CLI's usage text, less its banner recommending AWS CLI version 2 (a deliberate difference).
const USAGE: &str = "usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\nTo see help text, you can run:\n\n  aws help\n  aws <command> help\n  aws <command> <subcommand> help\n";

/// The `cpjobs` binary cargo built for these tests.
fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cpjobs"))
}

/// A scratch directory with an `aws` link to the binary and an empty `$HOME`.
fn sandbox() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cpjobs-cli-tests-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("home")).expect("create sandbox");
        let link = dir.join("aws");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(binary(), &link).expect("link aws");
        dir
    })
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_as(name: &str, args: &[&str]) -> Outcome {
    let dir = sandbox();
    let program = if name == "aws" { dir.join("aws") } else { binary().to_path_buf() };
    let out = Command::new(program)
        .args(args)
        .env_clear()
        .env("HOME", dir.join("home"))
        .env("LC_ALL", "C.UTF-8")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .stdin(Stdio::null())
        .output()
        .expect("run the binary");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

fn aws(args: &[&str]) -> Outcome {
    run_as("aws", args)
}

const POLL: &str = "poll-for-third-party-jobs";

fn assert_argparse_error(args: &[&str], message: &str) {
    let o = aws(args);
    assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
    assert_eq!(o.stdout, "");
    assert_eq!(o.stderr, format!("{USAGE}aws: error: {message}\n"), "{args:?}");
}

#[test]
fn no_command_x25() {
    assert_argparse_error(&[], "the following arguments are required: command");
}

#[test]
fn no_operation() {
    assert_argparse_error(&["codepipeline"], "the following arguments are required: operation");
}

#[test]
fn option_without_value_x17_m13_m15() {
    let ati = "category=Build,owner=ThirdParty,provider=p,version=1";
    assert_argparse_error(
        &["codepipeline", POLL, "--endpoint-url", "http://127.0.0.1:1", "--action-type-id"],
        "argument --action-type-id: expected one argument",
    );
    assert_argparse_error(
        &["codepipeline", POLL, "--action-type-id", ati, "--max-batch-size"],
        "argument --max-batch-size: expected one argument",
    );
    assert_argparse_error(
        &["codepipeline", POLL, "--action-type-id", ati, "--max-batch-size", "--5"],
        "argument --max-batch-size: expected one argument",
    );
}

#[test]
fn missing_required_k03() {
    assert_argparse_error(
        &["codepipeline", POLL, "--generate-cli-skeleton", "output"],
        "the following arguments are required: --action-type-id",
    );
    // The words after `--` are still arguments of the operation.
    assert_argparse_error(&["codepipeline", "--", POLL], "the following arguments are required: --action-type-id");
}

#[test]
fn invalid_global_choices_x14_x15() {
    let table = |a: &str, b: &str, c: &str| format!("Invalid choice, valid choices are:\n\n{a:<40} | {b:<40}\n{c:<40}");
    assert_argparse_error(
        &["codepipeline", POLL, "--output", "yaml"],
        &format!("argument --output: {}", table("json", "text", "table")),
    );
    assert_argparse_error(
        &["codepipeline", POLL, "--color", "purple"],
        &format!("argument --color: {}", table("on", "off", "auto")),
    );
}

#[test]
fn invalid_operation_x21() {
    let ops = [
        "acknowledge-job",
        "acknowledge-third-party-job",
        "create-custom-action-type",
        "create-pipeline",
        "delete-custom-action-type",
        "delete-pipeline",
        "delete-webhook",
        "deregister-webhook-with-third-party",
        "disable-stage-transition",
        "enable-stage-transition",
        "get-action-type",
        "get-job-details",
        "get-pipeline",
        "get-pipeline-execution",
        "get-pipeline-state",
        "get-third-party-job-details",
        "list-action-executions",
        "list-action-types",
        "list-deploy-action-execution-targets",
        "list-pipeline-executions",
        "list-pipelines",
        "list-rule-executions",
        "list-rule-types",
        "list-tags-for-resource",
        "list-webhooks",
        "override-stage-condition",
        "poll-for-jobs",
        "poll-for-third-party-jobs",
        "put-action-revision",
        "put-approval-result",
        "put-job-failure-result",
        "put-job-success-result",
        "put-third-party-job-failure-result",
        "put-third-party-job-success-result",
        "put-webhook",
        "register-webhook-with-third-party",
        "retry-stage-execution",
        "rollback-stage",
        "start-pipeline-execution",
        "stop-pipeline-execution",
        "tag-resource",
        "untag-resource",
        "update-action-type",
        "update-pipeline",
        "help",
    ];
    let mut msg = String::from("argument operation: Invalid choice, valid choices are:\n");
    for pair in ops.chunks(2) {
        msg.push('\n');
        msg.push_str(&pair.iter().map(|o| format!("{o:<40}")).collect::<Vec<_>>().join(" | "));
    }
    msg.push_str("\n\n\nInvalid choice: 'poll-for-third-party-job', maybe you meant:\n\n  * poll-for-third-party-jobs");
    assert_argparse_error(&["codepipeline", "poll-for-third-party-job", "--endpoint-url", "http://127.0.0.1:1"], &msg);
}

#[test]
fn unknown_options_exit_255_x18_x19_x29() {
    let ati = "category=Build,owner=ThirdParty,provider=p,version=1";
    for (args, rest) in [
        (vec!["codepipeline", POLL, "--action-type-id", ati, "--bogus", "1"], "--bogus, 1"),
        (vec!["codepipeline", POLL, "--action-type-id", ati, "extra", "positional"], "positional, extra"),
        (vec!["codepipeline", POLL, "--action-type-id", ati, "--max-batch-size", "5", "6"], "6"),
        (
            vec!["codepipeline", "get-pipeline", "--page-size", "--tag-keys", "--name", "json", ""],
            "--page-size, --tag-keys",
        ),
    ] {
        let o = aws(&args);
        assert_eq!(o.code, 255, "{args:?}");
        assert_eq!(o.stdout, "");
        assert_eq!(o.stderr, format!("{USAGE}\nUnknown options: {rest}\n"), "{args:?}");
    }
}

#[test]
fn prefixes_and_explicit_values() {
    assert_argparse_error(
        &["codepipeline", POLL, "--c", "x"],
        "ambiguous option: --c could match --color, --ca-bundle, --cli-read-timeout, --cli-connect-timeout",
    );
    assert_argparse_error(
        &["codepipeline", "put-job-success-result", "--job-id", "a", "--cur"],
        "argument --current-revision: expected one argument",
    );
    assert_argparse_error(
        &["codepipeline", "stop-pipeline-execution", "--abandon=1"],
        "argument --abandon: ignored explicit argument '1'",
    );
    assert_argparse_error(
        &["codepipeline", POLL, "--generate-cli-skeleton=foo"],
        "argument --generate-cli-skeleton: Invalid choice, valid choices are:\n\ninput                                    | output                                  ",
    );
}

#[test]
fn version_anywhere_x02_x03() {
    let line = format!("cpjobs/{}\n", env!("CARGO_PKG_VERSION"));
    for args in [
        vec!["--version"],
        vec!["codepipeline", POLL, "--version"],
        vec!["codepipeline", POLL, "--action-type-id", "x", "--version", "junk"],
    ] {
        let o = aws(&args);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, line.as_str(), ""), "{args:?}");
    }
}

#[test]
fn version_acts_in_command_line_order() {
    // Actions run left to right: an earlier bad value wins, a later one is never seen.
    assert_argparse_error(
        &["--output", "yaml", "--version"],
        "argument --output: Invalid choice, valid choices are:\n\njson                                     | text                                    \ntable                                   ",
    );
    let o = aws(&["--version", "--output", "yaml"]);
    assert_eq!((o.code, o.stdout.starts_with("cpjobs/")), (0, true));
    // Words are classified before any action runs, so an ambiguous prefix wins over --version.
    assert_argparse_error(
        &["--version", "--cli"],
        "ambiguous option: --cli could match --cli-read-timeout, --cli-connect-timeout",
    );
}

#[test]
fn program_name_follows_argv0() {
    let o = run_as("cpjobs", &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.ends_with(
        "  cpjobs <command> <subcommand> help\ncpjobs: error: the following arguments are required: command\n"
    ));
}

#[test]
fn top_level_checks_x09_x12_e38() {
    let o = aws(&["codepipeline", POLL, "--cli-read-timeout", "abc"]);
    assert_eq!((o.code, o.stderr.as_str()), (255, "\ninvalid literal for int() with base 10: 'abc'\n"));
    let o = aws(&["codepipeline", POLL, "--cli-connect-timeout", "1.5", "--cli-read-timeout", " 3"]);
    assert_eq!((o.code, o.stderr.as_str()), (255, "\ninvalid literal for int() with base 10: '1.5'\n"));
    // Checked before the operation is even looked up.
    let o = aws(&["codepipeline", "nope", "--endpoint-url", "127.0.0.1:18765"]);
    assert_eq!(o.code, 255);
    assert_eq!(
        o.stderr,
        "\nBad value for --endpoint-url \"127.0.0.1:18765\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/\n"
    );
}

#[test]
fn paging_arguments() {
    assert_argparse_error(
        &["codepipeline", "list-pipelines", "--page-size", "x"],
        "argument --page-size: invalid int value: 'x'",
    );
    assert_argparse_error(
        &["codepipeline", "list-pipelines", "--max-items", "1.5"],
        "argument --max-items: invalid int value: '1.5'",
    );
    // list-action-types has no limit key, so no --page-size: it is an unknown option.
    let o = aws(&["codepipeline", "list-action-types", "--page-size", "3"]);
    assert_eq!((o.code, o.stderr.ends_with("\nUnknown options: --page-size, 3\n")), (255, true), "{}", o.stderr);
    for args in [
        vec!["codepipeline", "list-pipelines", "--max-results", "3", "--max-items", "2"],
        vec!["--no-paginate", "codepipeline", "list-pipelines", "--max-items", "2"],
    ] {
        let o = aws(&args);
        assert_eq!(o.code, 255);
        assert_eq!(
            o.stderr,
            "\nError during pagination: Cannot specify --no-paginate along with pagination arguments: --max-items\n"
        );
    }
}

#[test]
fn renamed_version_members() {
    // get-pipeline's `version` member is `--pipeline-version`; `--version` stays the global one.
    let o = aws(&["codepipeline", "get-pipeline", "--version", "3"]);
    assert_eq!((o.code, o.stdout.starts_with("cpjobs/")), (0, true));
    assert_argparse_error(
        &["codepipeline", "get-pipeline", "--pipeline-version"],
        "argument --pipeline-version: expected one argument",
    );
}

#[test]
fn help_pages() {
    let o = aws(&["help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("codepipeline") && o.stdout.contains("--endpoint-url"), "{}", o.stdout);
    let o = aws(&["codepipeline", "help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("  poll-for-third-party-jobs --action-type-id\n"), "{}", o.stdout);
    // A lone `help` is help even when required arguments are missing.
    let o = aws(&["codepipeline", POLL, "help"]);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert!(
        o.stdout.contains("SYNOPSIS\n  aws codepipeline poll-for-third-party-jobs\n    --action-type-id <value>\n")
    );
    assert!(o.stdout.contains("category=string,owner=string,provider=string,version=string"));
    let o = aws(&["codepipeline", "list-pipelines", "--max-items", "3", "help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("    [--page-size <value>]\n"));
}
