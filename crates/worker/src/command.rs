//! Running a job's command: in its own process group (a ctrl-c meant for the
//! worker does not reach it, and everything it starts can be ended with it),
//! watched until it exits, runs out of `--command-timeout`, or the worker's
//! stop says to kill it. Whatever way it ends, its process group is killed
//! afterwards: nothing a job started (background jobs, daemons) outlives its
//! run and writes into a directory being packed.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process_group, waitid};

use crate::stop::Stop;

/// How a command's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited (or a signal of its own ended it).
    Exited(ExitStatus),
    /// It ran past `--command-timeout` and was killed.
    TimedOut,
    /// The worker stopped (grace over or a second signal) and killed it.
    Stopped,
}

/// How often a running command is looked at.
const TICK: Duration = Duration::from_millis(50);

/// Runs `cmd` to its end (see [`Ended`]).
pub fn run(cmd: &mut Command, stop: &Stop, timeout: Option<Duration>) -> io::Result<Ended> {
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    let pid = Pid::from_child(&child);
    let started = Instant::now();
    let ended = loop {
        // WNOWAIT: the exited command stays a zombie, so its pid (the group's id)
        // cannot be reused before the group is killed below.
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        if waitid(WaitId::Pid(pid), options)?.is_some() {
            break None;
        }
        if stop.kill_now() {
            break Some(Ended::Stopped);
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            break Some(Ended::TimedOut);
        }
        std::thread::sleep(TICK);
    };
    // ESRCH (the group is already empty) is the usual answer and fine.
    let _ = kill_process_group(pid, Signal::KILL);
    let status = child.wait()?;
    Ok(ended.unwrap_or(Ended::Exited(status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: &str) -> bool {
        // A killed process may linger as a zombie until its (init) parent reaps it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
    }

    fn gone(pid: &str) -> bool {
        (0..200).any(|_| {
            if alive(pid) {
                std::thread::sleep(Duration::from_millis(25));
                false
            } else {
                true
            }
        })
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_what_it_started() {
        let t = tempfile::tempdir().unwrap();
        let pidfile = t.path().join("pid");
        let stop = Stop::new(Duration::from_secs(3600));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "trap '' TERM; sleep 1000 & echo $! > \"$0\"; wait"]).arg(&pidfile);
        assert_eq!(run(&mut cmd, &stop, Some(Duration::from_millis(300))).unwrap(), Ended::TimedOut);
        let bg = std::fs::read_to_string(&pidfile).unwrap();
        assert!(gone(bg.trim()), "the background sleep {bg} survived");

        // A command that exits at once still has its background job ended with it.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 1000 & echo $! > \"$0\"; exit 4"]).arg(&pidfile);
        match run(&mut cmd, &stop, None).unwrap() {
            Ended::Exited(s) => assert_eq!(s.code(), Some(4)),
            other => panic!("{other:?}"),
        }
        let bg = std::fs::read_to_string(&pidfile).unwrap();
        assert!(gone(bg.trim()), "the background sleep {bg} survived");

        stop.signal();
        stop.signal();
        let mut cmd = Command::new("sleep");
        cmd.arg("1000");
        assert_eq!(run(&mut cmd, &stop, None).unwrap(), Ended::Stopped);
    }
}
