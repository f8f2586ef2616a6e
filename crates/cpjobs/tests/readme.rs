//! The README's walkthrough ("A pipeline with a worker"), run as written: its
//! shell block is read from README.md itself, so the README cannot drift from
//! the product. The service is started as the README's first command starts
//! it (`cpjobs serve` on its development account), but on a free port and a
//! temporary data directory; the block is then pasted twice, as a reader who
//! comes back would, and must end with both stages `Succeeded` each time.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HEADING: &str = "## A pipeline with a worker";

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first ```sh block after `heading`.
fn shell_block(text: &str, heading: &str) -> String {
    let at = text.find(heading).unwrap_or_else(|| panic!("README.md has no {heading:?}"));
    let rest = &text[at..];
    let start = rest.find("```sh\n").expect("a ```sh block follows the heading") + "```sh\n".len();
    let len = rest[start..].find("```").expect("the block is closed");
    rest[start..start + len].to_owned()
}

/// The environment of a fresh shell: nothing of this machine's AWS set-up,
/// a home and a data directory of the test's own.
fn fresh_env(cmd: &mut Command, home: &Path) {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_cpjobs")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    cmd.env_clear().env("PATH", path).env("HOME", home).env("XDG_DATA_HOME", home.join("data")).env("LANG", "C.UTF-8");
}

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills the walkthrough's process group (its background worker included).
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        // Not `kill -KILL -PGID`: procps-ng 4.0.2 takes a small PGID for a
        // signal number and then kills every process it may (kill(-1)).
        if let Some(pgid) = i32::try_from(self.0.id()).ok().and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.0.wait();
    }
}

#[test]
fn readme_first_command_names_the_binary() {
    // `cargo run` in a workspace with two binaries needs to know which: the
    // root manifest's default members say it.
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml")).unwrap();
    assert!(manifest.contains("default-members = [\"crates/cpjobs\"]"), "Cargo.toml lost its default-members");
    let text = readme();
    assert!(text.contains("```sh\ncargo run --release --bin cpjobs -- serve "), "README's first command changed");
    assert!(text.contains("\nbash scripts/test.sh "), "README's test command changed");
}

#[test]
fn readme_walkthrough_runs_as_written_twice() {
    let block = shell_block(&readme(), HEADING);
    let home = tempfile::tempdir().unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_cpjobs"));
    fresh_env(&mut serve, home.path());
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut service = Service(serve.spawn().expect("cpjobs serve starts"));
    let mut lines = BufReader::new(service.0.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a banner").unwrap();
    assert!(first.starts_with("cpjobs serve: listening on http://127.0.0.1:"), "{first}");
    // The rest of the banner: the export line on every start.
    let banner: Vec<String> = lines.by_ref().take(4).map(Result::unwrap).collect();
    assert!(banner.iter().any(|l| l.starts_with("export AWS_ACCESS_KEY_ID=")), "{banner:?}");
    std::thread::spawn(move || lines.for_each(drop));

    for run in 1..=2 {
        // A shell the way a reader pastes into one: from the repository's
        // place in the tree does not matter, the block makes its own directory.
        let work = tempfile::tempdir().unwrap();
        let mut sh = Command::new("bash");
        fresh_env(&mut sh, home.path());
        // The reader stops the worker with `kill %1` when done: so does the test.
        sh.arg("-c")
            .arg(format!("{block}\nkill %1; wait"))
            .current_dir(work.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut group = Group(sh.spawn().expect("bash runs"));
        let (mut out, mut err) = (String::new(), String::new());
        let mut stdout = group.0.stdout.take().unwrap();
        let mut stderr = group.0.stderr.take().unwrap();
        let errs = std::thread::spawn(move || {
            let _ = stderr.read_to_string(&mut err);
            err
        });
        let deadline = Instant::now() + Duration::from_secs(180);
        let reader = std::thread::spawn(move || {
            let _ = stdout.read_to_string(&mut out);
            out
        });
        while group.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "run {run}: the walkthrough did not finish within 180 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = reader.join().unwrap();
        let err = errs.join().unwrap();
        let tail: Vec<&str> = out.lines().rev().take(2).collect();
        assert_eq!(tail.len(), 2, "run {run}: stdout {out:?}\nstderr {err}");
        assert!(
            tail[1].starts_with("Source\tSucceeded\ts3://my-sources/src.zip (ETag "),
            "run {run}: {tail:?}\nstderr {err}"
        );
        assert_eq!(tail[0], "Build\tSucceeded\tHELLO, PIPELINE", "run {run}: stderr {err}");
        // Nothing but the worker's own log lines on stderr: no error on a second run.
        for line in err.lines() {
            assert!(
                line.starts_with('{') && line.contains("cpjobs_worker"),
                "run {run}: unexpected stderr line {line:?}"
            );
        }
    }
}
