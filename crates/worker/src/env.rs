//! The command's environment: the worker's own, minus everything that carries
//! the worker's AWS identity or points at its credential files, with HOME and
//! TMPDIR moved into the run directory (so an `aws` or SDK call inside the
//! command finds no `~/.aws` of the worker's), plus the job's `CPJOBS_*`.
//!
//! The rule is by prefix, not by a list of today's names: every `AWS_*`
//! variable is dropped except the two that only name a region, because new
//! identity variables appear with each SDK release (`AWS_CONTAINER_*`,
//! `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_SSO_*`, ...). The
//! worker's own `CPJOBS_*` variables are dropped too, so the command sees only
//! the job's.

use std::ffi::OsString;
use std::path::Path;

/// `AWS_*` variables the command keeps: a region names no identity.
const KEPT_AWS: &[&str] = &["AWS_REGION", "AWS_DEFAULT_REGION"];

/// Whether the worker's variable `name` is passed on to the command.
pub fn inherited(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("AWS_") {
        return KEPT_AWS.contains(&upper.as_str());
    }
    !upper.starts_with("CPJOBS_") && !matches!(upper.as_str(), "HOME" | "TMPDIR")
}

/// The command's environment from the worker's `vars`: what it inherits,
/// `HOME` and `TMPDIR` in the run directory, then the job's variables.
pub fn command_env(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    home: &Path,
    tmp: &Path,
    job: Vec<(String, String)>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> =
        vars.into_iter().filter(|(k, _)| k.to_str().is_some_and(inherited)).collect();
    env.push(("HOME".into(), home.into()));
    env.push(("TMPDIR".into(), tmp.into()));
    env.extend(job.into_iter().map(|(k, v)| (k.into(), v.into())));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_variables_stay_with_the_worker() {
        let worker = [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "aws_secret_access_key",
            "CPJOBS_ARTIFACT_CREDENTIALS_TTL_SECS",
            "HOME",
            "TMPDIR",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "PATH",
            "LANG",
        ]
        .map(|k| (OsString::from(k), OsString::from("worker's")));
        let env = command_env(
            worker,
            Path::new("/run/home"),
            Path::new("/run/tmp"),
            vec![("CPJOBS_JOB_ID".into(), "j".into())],
        );
        let names: Vec<_> =
            env.iter().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect();
        assert_eq!(
            names,
            [
                "AWS_REGION=worker's",
                "AWS_DEFAULT_REGION=worker's",
                "PATH=worker's",
                "LANG=worker's",
                "HOME=/run/home",
                "TMPDIR=/run/tmp",
                "CPJOBS_JOB_ID=j"
            ]
        );
    }
}
