//! One job, from the poll to its result: claim it (client token, details,
//! acknowledge), download and unpack its inputs with the job's credentials,
//! run the command in a fresh directory with the job in its environment, pack
//! and upload its outputs, report success or failure.
//!
//! Invariants: a job the worker could not acknowledge is never worked on
//! (another worker owns it); a job it acknowledged always gets a result
//! unless the service stops answering; credentials are refreshed (a new
//! details call) before they come within the refresh margin of their
//! lifetime, and once more when S3 says they expired.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{JobApi, Owner, Polled};
use crate::command::{self, Ended};
use crate::s3::{JobCredentials, S3, S3Error};
use crate::stop::Stop;
use crate::{archive, env, rundir, variables};

/// The model's limits on what a result carries.
const SUMMARY_MAX: usize = 2048;
const MESSAGE_MAX: usize = 5000;
const CONTINUATION_MAX: usize = 2048;

/// How the worker runs jobs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Where run directories are made.
    pub work_dir: PathBuf,
    /// How long job credentials live (15 minutes, as the service hands them out).
    pub credentials_lifetime: Duration,
    /// Credentials this close to the end of their lifetime are refreshed before use.
    pub refresh_margin: Duration,
    /// Keep run directories after the job (for debugging).
    pub keep_run_dirs: bool,
    /// What a job's inputs may unpack to.
    pub input_limits: archive::Limits,
    /// `--command-timeout`: a command running longer is killed and its job failed.
    pub command_timeout: Option<Duration>,
}

/// What every job thread shares.
#[derive(Debug)]
pub struct Shared {
    /// The API.
    pub api: JobApi,
    /// The artifact store.
    pub s3: S3,
    /// How jobs run.
    pub settings: Settings,
    /// Which kind of action type.
    pub owner: Owner,
    /// Whether the worker is stopping, and whether commands must be killed.
    pub stop: Stop,
}

/// A fresh id for one run of the command (the job's `externalExecutionId`).
pub fn new_run_id() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    format!("run-{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// Cuts `s` to at most `max` characters, keeping the start.
fn head(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Cuts `s` to at most `max` characters, keeping the end.
fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    s.chars().skip(n.saturating_sub(max)).collect()
}

/// An environment variable name for an artifact name or configuration key:
/// letters, digits and `_` kept, anything else becomes `_`.
pub fn env_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// The last `max` bytes of a file, as text.
fn file_tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else { return String::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The start of a file the command wrote, at most `max` bytes of it: a
/// command cannot make the worker read gigabytes; what is cut off is still
/// long enough to be refused as too long.
fn read_capped(path: &Path, max: u64) -> Option<String> {
    let mut buf = Vec::new();
    File::open(path).ok()?.take(max).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The failure message: what happened, then the tail of stderr, within the model's limit.
pub fn failure_message(what: &str, stderr: &str) -> String {
    let stderr = stderr.trim_end();
    let what = head(what, MESSAGE_MAX);
    if stderr.is_empty() {
        return what;
    }
    let prefix = format!("{what}; stderr ends with:\n");
    let room = MESSAGE_MAX.saturating_sub(prefix.chars().count());
    format!("{prefix}{}", tail(stderr, room))
}

/// The summary: the summary file if the command wrote one, else the last
/// non-empty line of its stdout.
pub fn summary(summary_file: &Path, stdout: &str) -> String {
    let written = read_capped(summary_file, 4 * SUMMARY_MAX as u64 + 8).unwrap_or_default();
    let text = if written.trim().is_empty() {
        stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("The command succeeded").trim().to_owned()
    } else {
        written.trim().to_owned()
    };
    head(&text, SUMMARY_MAX)
}

/// The model's artifact name pattern, `[a-zA-Z0-9_\-]+`, at most 100 characters.
fn valid_artifact_name(name: &str) -> bool {
    (1..=100).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// An artifact of job data: name, bucket, key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Artifact {
    name: String,
    bucket: String,
    key: String,
}

fn artifacts(data: &Value, field: &str) -> Vec<Artifact> {
    data.get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let s3 = a.pointer("/location/s3Location")?;
            Some(Artifact {
                name: a.get("name")?.as_str()?.to_owned(),
                bucket: s3.get("bucketName")?.as_str()?.to_owned(),
                key: s3.get("objectKey")?.as_str()?.to_owned(),
            })
        })
        .collect()
}

/// A claimed job.
struct Job<'a> {
    shared: &'a Shared,
    id: String,
    token: Option<String>,
    data: Value,
    creds: Option<JobCredentials>,
    obtained: Instant,
}

impl Job<'_> {
    /// Credentials fresh enough to use now; `force` asks for new ones.
    fn credentials(&mut self, force: bool) -> Result<JobCredentials, String> {
        let s = &self.shared.settings;
        let stale = self.obtained.elapsed() + s.refresh_margin >= s.credentials_lifetime;
        if force || stale || self.creds.is_none() {
            let details = self
                .shared
                .api
                .details(&self.id, self.token.as_deref())
                .map_err(|e| format!("cannot refresh the artifact credentials: {e}"))?;
            let creds = details.get("data").and_then(JobCredentials::from_job_data);
            if creds.is_some() {
                tracing::info!(job_id = %self.id, forced = force, "artifact credentials refreshed");
            }
            self.creds = creds;
            self.obtained = Instant::now();
        }
        self.creds.clone().ok_or_else(|| "the job has no artifact credentials".to_owned())
    }

    /// Runs an S3 call with fresh credentials, once more with new ones if they expired.
    fn with_s3<T>(&mut self, f: impl Fn(&S3, &JobCredentials) -> Result<T, S3Error>) -> Result<T, String> {
        let creds = self.credentials(false)?;
        match f(&self.shared.s3, &creds) {
            Err(e) if e.is_expired() => {
                let creds = self.credentials(true)?;
                f(&self.shared.s3, &creds).map_err(|e| e.to_string())
            }
            r => r.map_err(|e| e.to_string()),
        }
    }
}

/// Claims and runs one polled job; logs what happened.
pub fn handle(shared: &Shared, polled: Polled) {
    let run_id = new_run_id();
    let span = tracing::info_span!("job", job_id = %polled.id, run_id = %run_id);
    let _enter = span.enter();
    let Some(mut job) = claim(shared, polled) else { return };
    tracing::info!("job acknowledged");
    let outcome = work(&mut job, &run_id);
    let token = job.token.clone();
    let reported = match &outcome {
        Outcome::Succeeded { details, continuation, variables } => {
            shared.api.succeed(&job.id, token.as_deref(), details.clone(), continuation.as_deref(), variables.clone())
        }
        Outcome::Failed(message) => shared.api.fail(&job.id, token.as_deref(), message, &run_id),
    };
    match (reported, &outcome) {
        (Ok(()), Outcome::Succeeded { continuation: Some(_), .. }) => tracing::info!("job continues"),
        (Ok(()), Outcome::Succeeded { .. }) => tracing::info!("job succeeded"),
        (Ok(()), Outcome::Failed(m)) => tracing::info!(message = %m, "job failed"),
        (Err(e), _) => tracing::error!(error = %e, "the result could not be reported"),
    }
    let run_dir = shared.settings.work_dir.join(&run_id);
    if !shared.settings.keep_run_dirs {
        let _ = fs::remove_dir_all(&run_dir);
    }
}

fn claim<'a>(shared: &'a Shared, polled: Polled) -> Option<Job<'a>> {
    let id = polled.id.clone();
    let (token, nonce, data) = match shared.owner {
        Owner::ThirdParty => {
            let client_id = polled.client_id.clone().unwrap_or_default();
            let token = match shared.api.client_token(&client_id) {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(error = %e, "no client token for the job; it returns to the queue");
                    return None;
                }
            };
            let details = match shared.api.details(&id, Some(&token)) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "job details unavailable");
                    return None;
                }
            };
            let nonce = details.get("nonce").and_then(Value::as_str).map(str::to_owned);
            (Some(token), nonce, details.get("data").cloned().unwrap_or(Value::Null))
        }
        Owner::Custom => (None, polled.nonce.clone(), polled.data.clone().unwrap_or(Value::Null)),
    };
    let Some(nonce) = nonce else {
        tracing::warn!("the job has no nonce: not dispatched to this worker");
        return None;
    };
    match shared.api.acknowledge(&id, &nonce, token.as_deref()) {
        Ok(status) if status == "InProgress" => {}
        Ok(status) => {
            tracing::warn!(status = %status, "the job is not ours to run");
            return None;
        }
        Err(e) => {
            // InvalidNonceException: another worker has it (or our lease ended).
            tracing::warn!(error = %e, "acknowledge refused; another worker owns the job");
            return None;
        }
    }
    let creds = JobCredentials::from_job_data(&data);
    Some(Job { shared, id, token, data, creds, obtained: Instant::now() })
}

enum Outcome {
    Succeeded { details: Value, continuation: Option<String>, variables: Option<Value> },
    Failed(String),
}

fn work(job: &mut Job<'_>, run_id: &str) -> Outcome {
    match try_work(job, run_id) {
        Ok(o) => o,
        Err(message) => Outcome::Failed(head(&message, MESSAGE_MAX)),
    }
}

fn try_work(job: &mut Job<'_>, run_id: &str) -> Result<Outcome, String> {
    let settings = job.shared.settings.clone();
    let run_dir = settings.work_dir.join(run_id);
    let work = run_dir.join("work");
    let outputs_dir = run_dir.join("outputs");
    let downloads = run_dir.join("downloads");
    let (home, tmp) = (run_dir.join("home"), run_dir.join("tmp"));
    rundir::new_run_dir(&run_dir).map_err(|e| format!("cannot create {}: {e}", run_dir.display()))?;
    for d in [&work, &outputs_dir, &downloads, &home, &tmp] {
        fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let inputs = artifacts(&job.data, "inputArtifacts");
    let outputs = artifacts(&job.data, "outputArtifacts");
    // Artifact names become directory names: the model's pattern, checked here, keeps them one plain step.
    if let Some(a) = inputs.iter().chain(&outputs).find(|a| !valid_artifact_name(&a.name)) {
        return Err(format!("the artifact name {:?} is not a valid artifact name", a.name));
    }
    let mut env: Vec<(String, String)> = Vec::new();
    let mut budget = archive::Budget::new(settings.input_limits);
    for (i, a) in inputs.iter().enumerate() {
        let zip = downloads.join(format!("input-{i}"));
        job.with_s3(|s3, c| s3.get(c, &a.bucket, &a.key, &zip, settings.input_limits.max_bytes))
            .map_err(|e| format!("downloading input artifact {} (s3://{}/{}) failed: {e}", a.name, a.bucket, a.key))?;
        // One input is the working directory itself; several get a directory each.
        let dest = if inputs.len() == 1 { work.clone() } else { work.join("inputs").join(&a.name) };
        archive::unpack(&zip, &dest, &a.name, &mut budget)
            .map_err(|e| format!("unpacking input artifact {} failed: {e}", a.name))?;
        env.push((format!("CPJOBS_INPUT_DIR_{}", env_name(&a.name)), dest.display().to_string()));
    }
    for a in &outputs {
        let dir = outputs_dir.join(&a.name);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        env.push((format!("CPJOBS_OUTPUT_DIR_{}", env_name(&a.name)), dir.display().to_string()));
    }
    let ctx = job.data.get("pipelineContext").cloned().unwrap_or(Value::Null);
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
    env.push(("CPJOBS_JOB_ID".into(), job.id.clone()));
    env.push(("CPJOBS_RUN_ID".into(), run_id.to_owned()));
    env.push(("CPJOBS_PIPELINE".into(), s(&ctx, "/pipelineName")));
    env.push(("CPJOBS_STAGE".into(), s(&ctx, "/stage/name")));
    env.push(("CPJOBS_ACTION".into(), s(&ctx, "/action/name")));
    env.push(("CPJOBS_PIPELINE_EXECUTION_ID".into(), s(&ctx, "/pipelineExecutionId")));
    if let Some(config) = job.data.pointer("/actionConfiguration/configuration").and_then(Value::as_object) {
        for (k, v) in config {
            let v = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            env.push((format!("CPJOBS_CONFIG_{}", env_name(k)), v));
        }
    }
    if let Some(t) = job.data.get("continuationToken").and_then(Value::as_str) {
        env.push(("CPJOBS_CONTINUATION_TOKEN".into(), t.to_owned()));
    }
    let continuation_file = run_dir.join("continuation-token");
    let summary_file = run_dir.join("summary");
    env.push(("CPJOBS_CONTINUATION_FILE".into(), continuation_file.display().to_string()));
    env.push(("CPJOBS_SUMMARY_FILE".into(), summary_file.display().to_string()));
    let variables_file = run_dir.join("output-variables");
    env.push(("CPJOBS_OUTPUT_VARIABLES_FILE".into(), variables_file.display().to_string()));

    let stdout_path = run_dir.join("stdout.log");
    let stderr_path = run_dir.join("stderr.log");
    let open = |p: &Path| File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()));
    let mut cmd = Command::new(&settings.command[0]);
    cmd.args(&settings.command[1..])
        .current_dir(&work)
        .env_clear()
        .envs(env::command_env(std::env::vars_os(), &home, &tmp, env))
        .stdin(Stdio::null())
        .stdout(open(&stdout_path)?)
        .stderr(open(&stderr_path)?);
    tracing::info!(command = ?settings.command, inputs = inputs.len(), outputs = outputs.len(), "running the command");
    let ended = command::run(&mut cmd, &job.shared.stop, settings.command_timeout)
        .map_err(|e| format!("cannot run {:?}: {e}", settings.command[0]))?;
    let stderr = file_tail(&stderr_path, 8192);
    let status = match ended {
        Ended::Exited(status) => status,
        Ended::TimedOut => {
            let secs = settings.command_timeout.unwrap_or_default().as_secs_f64();
            let what = format!("The command ran longer than the worker's --command-timeout ({secs} s) and was killed");
            return Ok(Outcome::Failed(failure_message(&what, &stderr)));
        }
        Ended::Stopped => {
            let what = "The worker was stopped before the command finished; the command was killed";
            return Ok(Outcome::Failed(failure_message(what, &stderr)));
        }
    };
    if !status.success() {
        let what = match status.code() {
            Some(code) => format!("The command exited with code {code}"),
            None => format!("The command was ended by a signal ({status})"),
        };
        return Ok(Outcome::Failed(failure_message(&what, &stderr)));
    }
    let stdout = file_tail(&stdout_path, 8192);
    let summary = summary(&summary_file, &stdout);
    let continuation =
        read_capped(&continuation_file, 4 * CONTINUATION_MAX as u64 + 8).unwrap_or_default().trim().to_owned();
    if !continuation.is_empty() {
        if continuation.chars().count() > CONTINUATION_MAX {
            return Ok(Outcome::Failed(format!(
                "The continuation token the command wrote is longer than {CONTINUATION_MAX} characters"
            )));
        }
        // The action is not finished: outputs are uploaded by the run that finishes it.
        if variables_file.exists() {
            tracing::warn!(
                "output variables are sent by the run that finishes the action, not with a continuation token: ignored"
            );
        }
        let details = json!({"summary": summary, "externalExecutionId": run_id});
        return Ok(Outcome::Succeeded { details, continuation: Some(continuation), variables: None });
    }
    let variables = match read_capped(&variables_file, 4 * variables::OUTPUT_VARIABLES_MAX as u64) {
        None => None,
        Some(_) if job.shared.owner == Owner::ThirdParty => {
            tracing::warn!("output variables are not sent: PutThirdPartyJobSuccessResult has no outputVariables");
            None
        }
        Some(text) => match variables::parse_output_variables(&text) {
            Ok(vars) => Some(Value::Object(vars)),
            Err(e) => return Ok(Outcome::Failed(e)),
        },
    };
    for a in &outputs {
        let zip = downloads.join(format!("{}.zip", a.name));
        archive::pack(&outputs_dir.join(&a.name), &zip)
            .map_err(|e| format!("packing output artifact {} failed: {e}", a.name))?;
        job.with_s3(|s3, c| s3.put(c, &a.bucket, &a.key, &zip))
            .map_err(|e| format!("uploading output artifact {} (s3://{}/{}) failed: {e}", a.name, a.bucket, a.key))?;
    }
    let details = json!({"summary": summary, "externalExecutionId": run_id, "percentComplete": 100});
    Ok(Outcome::Succeeded { details, continuation: None, variables })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_messages_and_summaries_fit_the_model() {
        assert_eq!(env_name("Build-Out.v2"), "Build_Out_v2");
        assert_eq!(env_name("BuildOut"), "BuildOut");
        let long = "e".repeat(10_000);
        let m = failure_message("The command exited with code 3", &format!("{long}\nlast words\n"));
        assert_eq!(m.chars().count(), MESSAGE_MAX);
        assert!(m.starts_with("The command exited with code 3; stderr ends with:\n"));
        assert!(m.ends_with("last words"));
        assert_eq!(failure_message("The command exited with code 1", " \n"), "The command exited with code 1");

        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("summary");
        assert_eq!(summary(&file, "first\nsecond line\n\n"), "second line");
        assert_eq!(summary(&file, ""), "The command succeeded");
        fs::write(&file, format!("{}\n", "s".repeat(3000))).unwrap();
        assert_eq!(summary(&file, "ignored"), "s".repeat(SUMMARY_MAX));
        assert!(new_run_id().starts_with("run-") && new_run_id() != new_run_id());
    }

    #[test]
    fn artifacts_are_read_from_job_data() {
        let data = json!({"inputArtifacts": [
            {"name": "Src", "location": {"type": "S3", "s3Location": {"bucketName": "b", "objectKey": "p/Src/1"}}},
            {"name": "Broken"}
        ]});
        assert_eq!(
            artifacts(&data, "inputArtifacts"),
            [Artifact { name: "Src".into(), bucket: "b".into(), key: "p/Src/1".into() }]
        );
        assert!(artifacts(&data, "outputArtifacts").is_empty());
    }
}
