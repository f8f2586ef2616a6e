//! The credential chain of botocore's `create_credential_resolver`, in its
//! order: environment (skipped when `--profile` is given), assume-role
//! profiles, the shared credentials file, `credential_process`, the config
//! file. Instance metadata and containers are not consulted: cpjobs never
//! talks to anything but the endpoint the user configured.
//!
//! Invariant: the first provider that finds anything wins, and a provider
//! that finds something incomplete fails with botocore's exact message
//! rather than falling through.

use super::Session;
use super::ini::{self, IniValue, Section};
use crate::error::CliError;

/// Signing credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Session token (`X-Amz-Security-Token`).
    pub token: Option<String>,
    /// Which provider found them (botocore's `method`), for `--debug`.
    pub method: &'static str,
}

impl std::fmt::Debug for Credentials {
    // Never print secrets, even in test failures.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("token", &self.token.is_some())
            .field("method", &self.method)
            .finish()
    }
}

/// botocore's PartialCredentialsError as printed by AWS CLI.
fn partial(provider: &str, var: &str) -> CliError {
    CliError::general(format!("Partial credentials found in {provider}, missing: {var}"))
}

/// botocore's CredentialRetrievalError as printed by AWS CLI.
pub fn retrieval_error(provider: &str, msg: &str) -> CliError {
    CliError::general(format!("Error when retrieving credentials from {provider}: {msg}"))
}

/// botocore's NoCredentialsError as awscli's clidriver prints it (raised when a request is signed).
pub fn no_credentials_error() -> CliError {
    CliError::bare("Unable to locate credentials. You can configure credentials by running \"aws configure\".")
}

fn from_mapping(section: &Section, method: &'static str) -> Result<Option<Credentials>, CliError> {
    let get = |k: &str| ini::get(section, k).and_then(IniValue::as_str);
    let Some(access_key) = get("aws_access_key_id") else { return Ok(None) };
    let secret_key = get("aws_secret_access_key").ok_or_else(|| partial(method, "aws_secret_access_key"))?;
    // aws_security_token first: botocore keeps its older name ahead of the standard one.
    let token = get("aws_security_token").or_else(|| get("aws_session_token")).map(str::to_owned);
    Ok(Some(Credentials { access_key: access_key.to_owned(), secret_key: secret_key.to_owned(), token, method }))
}

/// EnvProvider: `AWS_ACCESS_KEY_ID` (non-empty) starts it; the secret is then required.
fn from_env(session: &Session) -> Result<Option<Credentials>, CliError> {
    let env = session.env();
    let Some(access_key) = env.non_empty("AWS_ACCESS_KEY_ID") else { return Ok(None) };
    let secret_key = env.non_empty("AWS_SECRET_ACCESS_KEY").ok_or_else(|| partial("env", "AWS_SECRET_ACCESS_KEY"))?;
    let token = env.non_empty("AWS_SECURITY_TOKEN").or_else(|| env.non_empty("AWS_SESSION_TOKEN")).map(str::to_owned);
    Ok(Some(Credentials { access_key: access_key.to_owned(), secret_key: secret_key.to_owned(), token, method: "env" }))
}

/// `compat_shell_split` on POSIX: `shlex.split(s)`.
fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    parts.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("No closing quotation".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err("No escaped character".into()),
                }
            }
            '#' if !in_word => break,
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        parts.push(cur);
    }
    Ok(parts)
}

/// ProcessProvider: runs `credential_process` (no shell) and reads its JSON.
fn from_process(command: &str) -> Result<Credentials, CliError> {
    const METHOD: &str = "custom-process";
    let argv = shell_split(command).map_err(CliError::general)?;
    let Some((prog, args)) = argv.split_first() else {
        return Err(CliError::general("list index out of range"));
    };
    let out =
        std::process::Command::new(prog).args(args).stdin(std::process::Stdio::inherit()).output().map_err(|e| {
            CliError::general(format!("[Errno {}] {}: '{}'", e.raw_os_error().unwrap_or(0), io_strerror(&e), prog))
        })?;
    if !out.status.success() {
        return Err(retrieval_error(METHOD, &String::from_utf8_lossy(&out.stderr)));
    }
    let parsed: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| CliError::general(format!("Expecting value: {e}")))?;
    let version_ok = parsed.get("Version").and_then(serde_json::Value::as_i64) == Some(1)
        && !parsed.get("Version").is_some_and(serde_json::Value::is_boolean);
    if !version_ok {
        let shown = match parsed.get("Version") {
            None => "<Version key not provided>".to_owned(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        return Err(retrieval_error(
            METHOD,
            &format!("Unsupported version '{shown}' for credential process provider, supported versions: 1"),
        ));
    }
    let field = |k: &str| -> Result<String, CliError> {
        match parsed.get(k) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(v) => Ok(v.to_string()),
            None => Err(retrieval_error(METHOD, &format!("Missing required key in response: '{k}'"))),
        }
    };
    let access_key = field("AccessKeyId")?;
    let secret_key = field("SecretAccessKey")?;
    let token = parsed.get("SessionToken").and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Credentials { access_key, secret_key, token, method: METHOD })
}

/// Python's strerror for the common spawn failures.
fn io_strerror(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory",
        std::io::ErrorKind::PermissionDenied => "Permission denied",
        _ => "OSError",
    }
}

impl Session {
    /// Resolves credentials the way botocore does when AWS CLI creates its
    /// client: Ok(None) when no provider has any (AWS CLI reports that only
    /// when it signs the first request, see [`no_credentials_error`]).
    pub fn credentials(&self) -> Result<Option<Credentials>, CliError> {
        // An explicit --profile negates the environment provider.
        if !self.profile_from_flag()
            && let Some(c) = from_env(self)?
        {
            return Ok(Some(c));
        }
        let profile = self.profile_name().to_owned();
        let full = self.profile_config(&profile);
        if let Some(section) = full
            && ini::get(section, "role_arn").is_some()
        {
            // AssumeRoleProvider would call STS; cpjobs does not (yet), and silently
            // using other credentials instead would sign as the wrong principal.
            return Err(CliError::general(format!(
                "cpjobs does not support assume-role profiles yet (profile {profile} sets role_arn); use credentials from the environment, the credentials file or credential_process"
            )));
        }
        if let Some(section) = self.credentials_file().and_then(|c| c.section(&profile))
            && let Some(c) = from_mapping(section, "shared-credentials-file")?
        {
            return Ok(Some(c));
        }
        if let Some(cmd) = full.and_then(|s| ini::get(s, "credential_process")).and_then(IniValue::as_str) {
            return from_process(cmd).map(Some);
        }
        if let Some(section) = self.config_file_profile(&profile)
            && let Some(c) = from_mapping(&section, "config-file")?
        {
            return Ok(Some(c));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_home;
    use super::super::{Env, Session};
    use super::*;
    use crate::args::GlobalArgs;

    fn session(tag: &str, config: &str, creds: &str, globals: &GlobalArgs, env: &[(&str, &str)]) -> Session {
        let home = temp_home(tag);
        std::fs::write(home.join(".aws/config"), config).unwrap();
        std::fs::write(home.join(".aws/credentials"), creds).unwrap();
        let mut pairs = vec![("HOME".to_owned(), home.display().to_string())];
        pairs.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Session::load_with_env(globals, Env::from_pairs(pairs)).unwrap()
    }

    const CONFIG: &str = "[default]\nregion = us-west-2\naws_access_key_id = CFGDEF\naws_secret_access_key = s\n[profile cfgcreds]\naws_access_key_id = AKIDCFGFILE\naws_secret_access_key = cfgfilesecret\n[profile nocreds]\nregion = r\n[profile tok]\naws_access_key_id = T\naws_secret_access_key = s\naws_session_token = tok\n";
    const CREDS: &str = "[default]\naws_access_key_id = FILEDEF\naws_secret_access_key = s\n[cfgcreds]\naws_access_key_id = AKIDCREDSFILEWINS\naws_secret_access_key = credsfilesecret\n[partial]\naws_access_key_id = P\n";

    #[test]
    fn env_first_unless_profile_flag() {
        let env =
            [("AWS_ACCESS_KEY_ID", "ENVKEY"), ("AWS_SECRET_ACCESS_KEY", "envsecret"), ("AWS_SESSION_TOKEN", "st")];
        let s = session("c-env", CONFIG, CREDS, &GlobalArgs::default(), &env);
        let c = s.credentials().unwrap().unwrap();
        assert_eq!((c.access_key.as_str(), c.token.as_deref(), c.method), ("ENVKEY", Some("st"), "env"));
        // AWS_PROFILE keeps env credentials...
        let env2 = [("AWS_ACCESS_KEY_ID", "ENVKEY"), ("AWS_SECRET_ACCESS_KEY", "x"), ("AWS_PROFILE", "cfgcreds")];
        assert_eq!(
            session("c-env2", CONFIG, CREDS, &GlobalArgs::default(), &env2).credentials().unwrap().unwrap().access_key,
            "ENVKEY"
        );
        // ...--profile does not.
        let g = GlobalArgs { profile: Some("cfgcreds".into()), ..GlobalArgs::default() };
        assert_eq!(
            session("c-env3", CONFIG, CREDS, &g, &env).credentials().unwrap().unwrap().access_key,
            "AKIDCREDSFILEWINS"
        );
    }

    #[test]
    fn security_token_beats_session_token() {
        let env = [
            ("AWS_ACCESS_KEY_ID", "K"),
            ("AWS_SECRET_ACCESS_KEY", "S"),
            ("AWS_SESSION_TOKEN", "new"),
            ("AWS_SECURITY_TOKEN", "old"),
        ];
        assert_eq!(
            session("c-tok", "", "", &GlobalArgs::default(), &env).credentials().unwrap().unwrap().token.as_deref(),
            Some("old")
        );
    }

    #[test]
    fn partial_env_and_file() {
        let s = session("c-part", "", CREDS, &GlobalArgs::default(), &[("AWS_ACCESS_KEY_ID", "K")]);
        assert_eq!(
            s.credentials().unwrap_err().stderr,
            "\nPartial credentials found in env, missing: AWS_SECRET_ACCESS_KEY\n"
        );
        let g = GlobalArgs { profile: Some("partial".into()), ..GlobalArgs::default() };
        let s = session("c-part2", "", CREDS, &g, &[]);
        assert_eq!(
            s.credentials().unwrap_err().stderr,
            "\nPartial credentials found in shared-credentials-file, missing: aws_secret_access_key\n"
        );
    }

    #[test]
    fn file_order() {
        let g = |p: &str| GlobalArgs { profile: Some(p.into()), ..GlobalArgs::default() };
        assert_eq!(
            session("c-f1", CONFIG, CREDS, &g("cfgcreds"), &[]).credentials().unwrap().unwrap().access_key,
            "AKIDCREDSFILEWINS"
        );
        assert_eq!(
            session("c-f2", CONFIG, CREDS, &GlobalArgs::default(), &[]).credentials().unwrap().unwrap().access_key,
            "FILEDEF"
        );
        assert_eq!(
            session("c-f3", CONFIG, "", &GlobalArgs::default(), &[]).credentials().unwrap().unwrap().method,
            "config-file"
        );
        let tok = session("c-f4", CONFIG, "", &g("tok"), &[]).credentials().unwrap().unwrap();
        assert_eq!(tok.token.as_deref(), Some("tok"));
        assert_eq!(session("c-f5", CONFIG, CREDS, &g("nocreds"), &[]).credentials().unwrap(), None);
        assert_eq!(
            no_credentials_error().stderr,
            "Unable to locate credentials. You can configure credentials by running \"aws configure\".\n"
        );
    }

    #[test]
    fn credential_process() {
        let ok = "[profile p]\ncredential_process = sh -c 'echo \"{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"PK\\\", \\\"SecretAccessKey\\\": \\\"PS\\\", \\\"SessionToken\\\": \\\"PT\\\"}\"'\n";
        let g = GlobalArgs { profile: Some("p".into()), ..GlobalArgs::default() };
        let c = session("c-p1", ok, "", &g, &[]).credentials().unwrap().unwrap();
        assert_eq!(
            (c.access_key.as_str(), c.secret_key.as_str(), c.token.as_deref(), c.method),
            ("PK", "PS", Some("PT"), "custom-process")
        );
        let fail = "[profile p]\ncredential_process = sh -c 'echo boom >&2; exit 3'\n";
        assert_eq!(
            session("c-p2", fail, "", &g, &[]).credentials().unwrap_err().stderr,
            "\nError when retrieving credentials from custom-process: boom\n\n"
        );
        let v2 = "[profile p]\ncredential_process = sh -c 'echo {\\\"Version\\\": 2}'\n";
        assert_eq!(
            session("c-p3", v2, "", &g, &[]).credentials().unwrap_err().stderr,
            "\nError when retrieving credentials from custom-process: Unsupported version '2' for credential process provider, supported versions: 1\n"
        );
        let missing =
            "[profile p]\ncredential_process = sh -c 'echo {\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"x\\\"}'\n";
        assert_eq!(
            session("c-p4", missing, "", &g, &[]).credentials().unwrap_err().stderr,
            "\nError when retrieving credentials from custom-process: Missing required key in response: 'SecretAccessKey'\n"
        );
    }

    #[test]
    fn assume_role_is_refused_not_bypassed() {
        let cfg = "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n[default]\naws_access_key_id = A\naws_secret_access_key = B\n";
        let g = GlobalArgs { profile: Some("r".into()), ..GlobalArgs::default() };
        assert!(session("c-ar", cfg, "", &g, &[]).credentials().unwrap_err().stderr.contains("role_arn"));
    }

    #[test]
    fn shell_split_quotes() {
        assert_eq!(shell_split("a 'b c' \"d\\\"e\" f\\ g").unwrap(), vec!["a", "b c", "d\"e", "f g"]);
        assert!(shell_split("'open").is_err());
    }
}
