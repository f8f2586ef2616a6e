//! `cpjobs worker`: a job worker that runs a command for each job of one
//! action type. It polls (with backoff and jitter while the queue is empty),
//! claims each job (third-party: the client token from
//! `Cpjobs_20261129.ListThirdPartyClients`, cached), runs up to `--max-jobs`
//! of them at once, each on its own thread (see [`job`]), and on SIGTERM or
//! ctrl-c stops polling and gives running commands a grace period before it
//! kills them (see [`stop`]).
//!
//! The run directory of a job (under `--work-dir`, removed afterwards):
//!
//! ```text
//! <run-id>/work/                   the command's working directory; a single input artifact is
//!                                  unpacked here, several into work/inputs/<ArtifactName>/
//! <run-id>/outputs/<ArtifactName>/ $CPJOBS_OUTPUT_DIR_<ArtifactName>: zipped and uploaded on success
//! <run-id>/stdout.log, stderr.log  the command's output (the summary and failure message come from them)
//! ```

pub mod api;
pub mod archive;
pub mod command;
pub mod env;
pub mod job;
pub mod links;
pub mod rundir;
pub mod s3;
pub mod stop;
pub mod variables;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cpjobs_cli::args::GlobalArgs;
use cpjobs_cli::config::Session;
use serde_json::{Value, json};

use api::{JobApi, Owner};
use job::{Settings, Shared};
use stop::Stop;

/// `cpjobs worker --help`.
pub const USAGE: &str = "usage: cpjobs worker --action-type-id category=C,owner=ThirdParty|Custom,provider=P,version=V
                     [--max-jobs N] [--endpoint-url URL] [--s3-endpoint-url URL] [--region R]
                     [--profile P] [--poll-interval SECS] [--refresh-margin SECS] [--work-dir DIR]
                     [--keep-run-dirs] [--max-input-bytes BYTES] [--max-input-entries N]
                     [--shutdown-grace SECS] [--command-timeout SECS] [--query-param KEY=VALUE]
                     [--log-format text|json]
                     -- COMMAND [ARGS...]

  Runs COMMAND for each job of the action type. Credentials come from the AWS chain
  (environment, --profile, config and credentials files). The command runs in a fresh
  private directory holding its input artifact (several: inputs/<Name>/), with the
  worker's environment minus every AWS_* variable but AWS_REGION and AWS_DEFAULT_REGION
  (and minus the worker's CPJOBS_*), HOME and TMPDIR inside its run directory, and the
  job: CPJOBS_JOB_ID, CPJOBS_RUN_ID, CPJOBS_PIPELINE, CPJOBS_STAGE, CPJOBS_ACTION,
  CPJOBS_PIPELINE_EXECUTION_ID, CPJOBS_CONFIG_<KEY>, CPJOBS_INPUT_DIR_<NAME>,
  CPJOBS_OUTPUT_DIR_<NAME>, CPJOBS_CONTINUATION_TOKEN, CPJOBS_CONTINUATION_FILE,
  CPJOBS_SUMMARY_FILE, CPJOBS_OUTPUT_VARIABLES_FILE (a JSON object or KEY=VALUE lines:
  the success's outputVariables, custom action types only).

  --action-type-id ID       the action type to serve: category=..,owner=..,provider=..,version=.. (required)
  --endpoint-url URL        the CodePipeline endpoint (default: AWS_ENDPOINT_URL, the profile's, else AWS's)
  --region R                signing region (default: AWS_DEFAULT_REGION or the profile's)
  --profile P               the profile of the AWS config and credentials files
  --max-jobs N              jobs run at once (default 1)
  --poll-interval SECS      wait after an empty poll, doubled up to 16 times it (default 1)
  --refresh-margin SECS     refresh job credentials this long before their 15 minutes end (default 120)
  --s3-endpoint-url URL     the artifact store (default: the --endpoint-url, which cpjobs serve shares)
  --work-dir DIR            where run directories are made, mode 0700, refused if another user's or
                            open to others (default: <temp dir>/cpjobs-worker-<uid>)
  --max-input-bytes BYTES   a job's inputs may unpack to this much (default 4294967296, 4 GiB)
  --max-input-entries N     and hold this many entries (default 200000)
  --shutdown-grace SECS     after SIGTERM/SIGINT, how long running commands may finish before their
                            process groups are killed (default 30); a second signal kills at once
  --command-timeout SECS    a command running longer is killed and its job failed (default: none)
  --query-param KEY=VALUE   PollForJobs' queryParam: only jobs whose queryable property KEY is VALUE
                            (custom action types; at most one, as the API takes)
  --keep-run-dirs           keep each job's run directory afterwards (for debugging)
  --log-format FMT          text (default on a terminal) or json (default otherwise); RUST_LOG sets the level
  -h, --help                this text";

/// Validated `cpjobs worker` arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerArgs {
    /// The action type, as the API spells it.
    pub action_type_id: Value,
    /// `ThirdParty` or `Custom`.
    pub owner: Owner,
    /// Jobs at once.
    pub max_jobs: usize,
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--s3-endpoint-url`.
    pub s3_endpoint_url: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// Base wait after an empty poll.
    pub poll_interval: Duration,
    /// Credential refresh margin.
    pub refresh_margin: Duration,
    /// Where run directories go.
    pub work_dir: PathBuf,
    /// Keep run directories.
    pub keep_run_dirs: bool,
    /// `--max-input-bytes`, `--max-input-entries`.
    pub input_limits: archive::Limits,
    /// `--shutdown-grace`: how long running commands may finish after a stop signal.
    pub shutdown_grace: Duration,
    /// `--command-timeout`.
    pub command_timeout: Option<Duration>,
    /// `--query-param`s: PollForJobs' `queryParam`.
    pub query_param: serde_json::Map<String, Value>,
    /// `--log-format`: `Some(true)` for JSON.
    pub json_logs: Option<bool>,
    /// The command.
    pub command: Vec<String>,
}

fn seconds(name: &str, v: &str) -> Result<Duration, String> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{name} must be a number of seconds, not {v:?}")),
    }
}

fn count(name: &str, v: &str) -> Result<u64, String> {
    v.parse::<u64>().map_err(|_| format!("{name} must be a whole number, not {v:?}"))
}

/// Parses `category=..,owner=..,provider=..,version=..`.
fn parse_type_id(v: &str) -> Result<(Value, Owner), String> {
    let mut id = serde_json::Map::new();
    for pair in v.split(',') {
        let (k, val) = pair.split_once('=').ok_or(format!("--action-type-id: {pair:?} is not key=value"))?;
        if !matches!(k, "category" | "owner" | "provider" | "version") {
            return Err(format!("--action-type-id: unknown key {k:?} (category, owner, provider, version)"));
        }
        id.insert(k.to_owned(), json!(val));
    }
    for k in ["category", "owner", "provider", "version"] {
        if !id.contains_key(k) {
            return Err(format!("--action-type-id needs {k}=..."));
        }
    }
    let owner = match id["owner"].as_str() {
        Some("ThirdParty") => Owner::ThirdParty,
        Some("Custom") => Owner::Custom,
        other => return Err(format!("--action-type-id: owner must be ThirdParty or Custom, not {other:?}")),
    };
    Ok((Value::Object(id), owner))
}

/// Parses the arguments after `worker`. `Ok(None)` means help was asked for.
pub fn parse_args(args: &[String]) -> Result<Option<WorkerArgs>, String> {
    let mut type_id = None;
    let mut a = WorkerArgs {
        action_type_id: Value::Null,
        owner: Owner::Custom,
        max_jobs: 1,
        endpoint_url: None,
        s3_endpoint_url: None,
        region: None,
        profile: None,
        poll_interval: Duration::from_secs(1),
        refresh_margin: Duration::from_secs(120),
        work_dir: rundir::default_work_dir(),
        keep_run_dirs: false,
        input_limits: archive::Limits::default(),
        shutdown_grace: Duration::from_secs(30),
        command_timeout: None,
        query_param: serde_json::Map::new(),
        json_logs: None,
        command: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            a.command = it.by_ref().cloned().collect();
            break;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{name} needs a value"));
        match name {
            "-h" | "--help" => return Ok(None),
            "--action-type-id" => type_id = Some(parse_type_id(&value()?)?),
            "--max-jobs" => {
                a.max_jobs = match value()?.parse::<usize>() {
                    Ok(n) if (1..=100).contains(&n) => n,
                    _ => return Err("--max-jobs must be a number from 1 to 100".into()),
                }
            }
            "--endpoint-url" => a.endpoint_url = Some(value()?),
            "--s3-endpoint-url" => a.s3_endpoint_url = Some(value()?),
            "--region" => a.region = Some(value()?),
            "--profile" => a.profile = Some(value()?),
            "--poll-interval" => a.poll_interval = seconds(name, &value()?)?,
            "--refresh-margin" => a.refresh_margin = seconds(name, &value()?)?,
            "--work-dir" => a.work_dir = PathBuf::from(value()?),
            "--keep-run-dirs" => a.keep_run_dirs = true,
            "--query-param" => variables::add_query_param(&mut a.query_param, &value()?)?,
            "--shutdown-grace" => a.shutdown_grace = seconds(name, &value()?)?,
            "--command-timeout" => a.command_timeout = Some(seconds(name, &value()?)?),
            "--max-input-bytes" => a.input_limits.max_bytes = count(name, &value()?)?,
            "--max-input-entries" => a.input_limits.max_entries = count(name, &value()?)?,
            "--log-format" => {
                a.json_logs = Some(match value()?.as_str() {
                    "json" => true,
                    "text" => false,
                    other => return Err(format!("--log-format must be text or json, not {other:?}")),
                })
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let (id, owner) = type_id.ok_or("--action-type-id is required")?;
    a.action_type_id = id;
    a.owner = owner;
    if owner == Owner::ThirdParty && !a.query_param.is_empty() {
        return Err("--query-param is for custom action types: PollForThirdPartyJobs takes no queryParam".into());
    }
    if a.command.is_empty() {
        return Err("a command is required after --".into());
    }
    Ok(Some(a))
}

/// Waits after empty polls: `base * 2^n` (n up to 4) with ±25% jitter, so
/// idle workers spread their polls; a poll that finds work resets it.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    empty: u32,
}

impl Backoff {
    /// A backoff starting at `base`.
    pub fn new(base: Duration) -> Backoff {
        Backoff { base, empty: 0 }
    }

    /// The wait after one more empty poll.
    pub fn next_wait(&mut self) -> Duration {
        let d = self.base * 2u32.pow(self.empty.min(4));
        self.empty = self.empty.saturating_add(1);
        let mut b = [0u8; 2];
        let _ = getrandom::fill(&mut b);
        let unit = f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX); // 0..=1
        d.mul_f64(0.75 + 0.5 * unit)
    }

    /// Work was found.
    pub fn reset(&mut self) {
        self.empty = 0;
    }
}

/// Tells the poll loop a job thread ended, even if it panicked: its slot is free again.
struct Done(mpsc::Sender<()>);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Serves the action type `args` names until SIGTERM or SIGINT (see the
/// module). The binary parses the arguments ([`parse_args`]), sets up logging,
/// then calls this; an error is what ended the worker.
pub fn serve(args: &WorkerArgs) -> Result<(), String> {
    let globals = GlobalArgs {
        endpoint_url: args.endpoint_url.clone(),
        region: args.region.clone(),
        profile: args.profile.clone(),
        ..GlobalArgs::default()
    };
    let session = Session::load(&globals).map_err(|e| e.stderr.trim().to_owned())?;
    let region = session.region().map_err(|e| e.stderr.trim().to_owned())?;
    let mut api = JobApi::new(&session, &globals, args.owner, args.action_type_id.clone())?;
    api.set_query_param(args.query_param.clone());
    // cpjobs serve answers S3 on its API port; against AWS, artifacts are at S3's own endpoint.
    let s3_base = args.s3_endpoint_url.clone().unwrap_or_else(|| {
        let default = cpjobs_cli::transport::endpoint::default_endpoint("codepipeline", &region);
        if api.url().trim_end_matches('/') == default {
            format!("https://s3.{region}.amazonaws.com")
        } else {
            api.url().to_owned()
        }
    });
    rundir::private_work_dir(&args.work_dir)?;
    let shared = Arc::new(Shared {
        api,
        s3: s3::S3::new(&s3_base, &region),
        settings: Settings {
            command: args.command.clone(),
            work_dir: args.work_dir.clone(),
            credentials_lifetime: Duration::from_secs(15 * 60),
            refresh_margin: args.refresh_margin,
            keep_run_dirs: args.keep_run_dirs,
            input_limits: args.input_limits,
            command_timeout: args.command_timeout,
        },
        owner: args.owner,
        stop: Stop::new(args.shutdown_grace),
    });
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
        .map_err(|e| format!("cannot handle signals: {e}"))?;
    let on_signal = shared.clone();
    // Lives as long as the process: every signal, the first and any later one, counts.
    std::thread::spawn(move || {
        for _ in signals.forever() {
            on_signal.stop.signal();
        }
    });
    let stop = &shared.stop;
    tracing::info!(
        action_type = %args.action_type_id,
        endpoint = %shared.api.url(),
        s3 = %shared.s3.base(),
        max_jobs = args.max_jobs,
        "worker started"
    );
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut running = 0usize;
    let mut threads = Vec::new();
    let mut backoff = Backoff::new(args.poll_interval);
    let mut fatal = None;
    // Waits up to `d`, returning early when a job ends or a signal stops the worker.
    let pause = |d: Duration, running: &mut usize| {
        let until = Instant::now() + d;
        while !stop.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            if done_rx.recv_timeout(left.min(Duration::from_millis(100))).is_ok() {
                *running -= 1;
                return;
            }
        }
    };
    while !stop.stopping() {
        while done_rx.try_recv().is_ok() {
            running -= 1;
        }
        if running >= args.max_jobs {
            pause(Duration::from_secs(3600), &mut running);
            continue;
        }
        match shared.api.poll(args.max_jobs - running) {
            Ok(jobs) if !jobs.is_empty() => {
                backoff.reset();
                for polled in jobs {
                    running += 1;
                    let (shared, done) = (shared.clone(), Done(done_tx.clone()));
                    threads.push(std::thread::spawn(move || {
                        let _done = done;
                        job::handle(&shared, polled);
                    }));
                }
                threads.retain(|t| !t.is_finished());
            }
            Ok(_) => pause(backoff.next_wait(), &mut running),
            Err(e) if e.code.as_deref().is_some_and(|c| FATAL_POLL_ERRORS.contains(&c)) => {
                // Waiting would not change the answer: the action type or the credentials are wrong.
                tracing::error!(error = %e, "poll refused; stopping");
                fatal = Some(e.message);
                stop.signal();
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "poll failed");
                pause(backoff.next_wait(), &mut running);
            }
        }
    }
    tracing::info!(running, "no more polls; waiting for the jobs held");
    // Bounded: once commands are killed, their jobs get this long to report failure.
    loop {
        threads.retain(|t| !t.is_finished());
        if threads.is_empty() {
            break;
        }
        if stop.killing_since().is_some_and(|t| t.elapsed() >= REPORT_AFTER_KILL) {
            tracing::warn!(jobs = threads.len(), "exiting before every held job reported its result");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    tracing::info!("stopped");
    fatal.map_or(Ok(()), Err)
}

/// How long jobs whose commands were killed at shutdown may take to report their failure.
const REPORT_AFTER_KILL: Duration = Duration::from_secs(10);

/// Poll answers that no retry can change: the worker stops (after the jobs it holds).
const FATAL_POLL_ERRORS: &[&str] = &[
    "ActionTypeNotFoundException",
    "ValidationException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "AccessDeniedException",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_checked() {
        let a = parse_args(&args(&[
            "--action-type-id",
            "category=Build,owner=ThirdParty,provider=AcmeCI,version=1",
            "--max-jobs=3",
            "--poll-interval",
            "0.2",
            "--",
            "sh",
            "-c",
            "echo --max-jobs",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.owner, Owner::ThirdParty);
        assert_eq!(a.action_type_id["provider"], "AcmeCI");
        assert_eq!(a.max_jobs, 3);
        assert_eq!(a.poll_interval, Duration::from_millis(200));
        assert_eq!(a.command, ["sh", "-c", "echo --max-jobs"]);
        let err = |v: &[&str]| parse_args(&args(v)).unwrap_err();
        assert!(err(&["--", "true"]).contains("--action-type-id is required"));
        assert!(
            err(&["--action-type-id", "category=Build,owner=AWS,provider=S3,version=1", "--", "x"]).contains("owner")
        );
        assert!(err(&["--action-type-id", "category=Build,owner=Custom,provider=X"]).contains("version"));
        assert!(err(&["--action-type-id", "category=B,owner=Custom,provider=X,version=1"]).contains("command"));
        assert!(err(&["--max-jobs", "0"]).contains("1 to 100"));
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
        assert_eq!(
            (a.input_limits, a.shutdown_grace, a.command_timeout),
            (archive::Limits::default(), Duration::from_secs(30), None)
        );
        let b = parse_args(&args(&[
            "--action-type-id",
            "category=Build,owner=Custom,provider=X,version=1",
            "--max-input-bytes",
            "10",
            "--max-input-entries=3",
            "--shutdown-grace",
            "2",
            "--command-timeout",
            "1.5",
            "--",
            "x",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(b.input_limits, archive::Limits { max_bytes: 10, max_entries: 3 });
        assert_eq!((b.shutdown_grace, b.command_timeout), (Duration::from_secs(2), Some(Duration::from_millis(1500))));
        assert!(err(&["--max-input-bytes", "lots"]).contains("whole number"));
        assert!(err(&["--shutdown-grace", "-1"]).contains("seconds"));
        let third_party = ["--action-type-id", "category=B,owner=ThirdParty,provider=X,version=1"];
        assert!(err(&[&third_party[..], &["--query-param", "K=v", "--", "x"]].concat()).contains("no queryParam"));
        assert!(err(&["--query-param", "K=v", "--query-param", "L=w"]).contains("at most 1"));
    }

    #[test]
    fn backoff_grows_to_sixteen_times_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100));
        let waits: Vec<Duration> = (0..7).map(|_| b.next_wait()).collect();
        for (i, w) in waits.iter().enumerate() {
            let nominal = 100.0 * f64::from(2u32.pow((i as u32).min(4)));
            let ms = w.as_secs_f64() * 1000.0;
            assert!(ms >= nominal * 0.75 - 0.001 && ms <= nominal * 1.25 + 0.001, "{i}: {ms}");
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_millis(125));
    }
}
