//! `cpjobs serve` as a user runs it: first start creates and prints a
//! development account, a restart keeps it and prints it again (as does
//! `cpjobs dev-env`), SIGTERM stops the service cleanly, a bad config is
//! refused before anything listens, and every command's help and usage errors
//! are what a newcomer needs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn start(data_dir: &Path) -> (Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // The banner ends with the export line, on every start.
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve ended early: {lines:?}");
        let done = line.starts_with("export ");
        lines.push(line.trim_end().to_owned());
        if done {
            break;
        }
    }
    (child, lines)
}

fn port(lines: &[String]) -> u16 {
    let first = &lines[0];
    assert!(first.starts_with("cpjobs serve: listening on http://127.0.0.1:"), "{first}");
    first.rsplit(':').next().unwrap().split(' ').next().unwrap().parse().unwrap()
}

fn stop(child: &mut Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM ends serve with status 0, not {status:?}");
}

#[test]
fn first_start_prints_a_dev_account_and_restarts_keep_it() {
    let dir = std::env::temp_dir().join(format!("cpjobs-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let (mut child, lines) = start(&dir);
    assert!(lines[1].starts_with("Development account ") && lines[1].contains(" created "), "{lines:?}");
    let export = lines.last().unwrap().clone();
    let p = port(&lines);
    assert!(export.starts_with("export AWS_ACCESS_KEY_ID=AKIA"), "{export}");
    assert!(export.contains(" AWS_SECRET_ACCESS_KEY="), "{export}");
    assert!(
        export.ends_with(&format!(" AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:{p}")),
        "{export}"
    );
    assert_eq!(dev_env(&dir), format!("{export}\n"), "dev-env prints what serve printed");

    let mut s = TcpStream::connect(("127.0.0.1", p)).unwrap();
    s.write_all(b"GET /health HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200"), "{resp}");
    stop(&mut child);

    let (mut child, lines) = start(&dir);
    assert!(lines[1].contains(" in use "), "{lines:?}");
    let again = lines.last().unwrap().clone();
    let key = |l: &str| l.split_whitespace().find_map(|w| w.strip_prefix("AWS_ACCESS_KEY_ID=")).unwrap().to_owned();
    assert_eq!(key(&again), key(&export), "the restart uses the same account and prints it again");
    assert!(again.ends_with(&format!("AWS_ENDPOINT_URL=http://127.0.0.1:{}", port(&lines))), "{again}");
    assert_eq!(dev_env(&dir), format!("{again}\n"), "dev-env follows the service to its new port");
    stop(&mut child);
    for (name, mode) in [("", 0o700), ("dev-account.toml", 0o600), ("endpoint", 0o600)] {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, mode, "{name:?} is {m:o}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn cpjobs(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cpjobs")).args(args).env("HOME", "/nonexistent").output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dev_env(dir: &Path) -> String {
    let (code, out, err) = cpjobs(&["dev-env", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    out
}

#[test]
fn help_lists_every_command_and_option() {
    let (code, out, _) = cpjobs(&["--help"]);
    assert_eq!(code, Some(0));
    for cmd in ["codepipeline", "serve", "worker", "dev-env", "clients"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(cmd)), "--help lacks {cmd}: {out}");
    }
    let (code, out, _) = cpjobs(&["serve", "--help"]);
    assert_eq!(code, Some(0));
    for opt in ["--config FILE", "--listen ADDR", "--data-dir DIR", "--store STORE", "--log-format FMT", "-h, --help"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(opt)), "serve --help lacks {opt}: {out}");
    }
    let (code, out, _) = cpjobs(&["dev-env", "--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("--data-dir DIR"), "{out}");
    let (code, out, _) = cpjobs(&["worker", "--help"]);
    assert_eq!(code, Some(0));
    for opt in [
        "--action-type-id ID",
        "--endpoint-url URL",
        "--region R",
        "--profile P",
        "--max-jobs N",
        "--poll-interval SECS",
        "--refresh-margin SECS",
        "--s3-endpoint-url URL",
        "--work-dir DIR",
        "--max-input-bytes BYTES",
        "--max-input-entries N",
        "--shutdown-grace SECS",
        "--command-timeout SECS",
        "--query-param KEY=VALUE",
        "--keep-run-dirs",
        "--log-format FMT",
        "-h, --help",
    ] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(opt)), "worker --help lacks {opt}: {out}");
    }
}

#[test]
fn wrong_options_say_what_is_wrong_and_exit_2() {
    for (args, says) in [
        (&["serve", "--bogus"][..], "cpjobs serve: invalid option '--bogus'"),
        (&["serve", "--listen"], "cpjobs serve: missing argument for option '--listen'"),
        (&["serve", "--listen", "here"], "is not an address"),
        (&["serve", "stray"], "cpjobs serve: unexpected argument \"stray\""),
        (&["dev-env", "--bogus"], "cpjobs dev-env: invalid option '--bogus'"),
        (&["worker", "--bogus"], "--bogus"),
    ] {
        let (code, out, err) = cpjobs(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn dev_env_without_an_account_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = cpjobs(&["dev-env", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert!(err.contains("no development account in") && err.contains("start `cpjobs serve --data-dir"), "{err}");
}

#[test]
fn a_bad_config_is_refused_with_its_reason() {
    let dir = std::env::temp_dir().join(format!("cpjobs-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("cpjobs.toml");
    std::fs::write(&cfg, "region = \"us-east-1\"\n[[account]]\nid = \"111111111111\"\ncolour = \"red\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpjobs"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cpjobs.toml") && err.contains("unknown field `colour`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
