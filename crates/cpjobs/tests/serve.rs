//! `cpjobs serve` as a user runs it: first start creates and prints a
//! development account, a restart keeps it, SIGTERM stops the service cleanly,
//! and a bad config is refused before anything listens.

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
    // The banner ends with the example command (first start) or the "Using" line (restart).
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve ended early: {lines:?}");
        let done = line.starts_with("aws --endpoint-url") || line.starts_with("Using the development account");
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
    let export = lines.iter().find(|l| l.starts_with("export ")).expect("an export block").clone();
    assert!(export.contains("AWS_ACCESS_KEY_ID=AKIA"), "{export}");
    assert!(export.contains(" AWS_SECRET_ACCESS_KEY="), "{export}");
    assert!(export.ends_with(" AWS_DEFAULT_REGION=us-east-1"), "{export}");
    let p = port(&lines);
    assert!(lines.last().unwrap().contains(&format!("--endpoint-url http://127.0.0.1:{p} ")), "{lines:?}");

    let mut s = TcpStream::connect(("127.0.0.1", p)).unwrap();
    s.write_all(b"GET /health HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200"), "{resp}");
    stop(&mut child);

    let (mut child, lines) = start(&dir);
    assert!(lines.iter().all(|l| !l.starts_with("export ")), "credentials are printed on first start only");
    let kept = std::fs::read_to_string(dir.join("dev-account.toml")).unwrap();
    let key = export.split_whitespace().find_map(|w| w.strip_prefix("AWS_ACCESS_KEY_ID=")).unwrap();
    assert!(kept.contains(key), "the restart uses the same account");
    stop(&mut child);
    std::fs::remove_dir_all(&dir).unwrap();
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
