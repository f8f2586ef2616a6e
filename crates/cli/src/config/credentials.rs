//! The credential chain of botocore's `create_credential_resolver`, in its
//! order: environment (skipped when `--profile` is given), assume-role
//! profiles (STS `AssumeRole`, deferred to the first signature), web identity
//! (`AssumeRoleWithWebIdentity`), SSO (refused with a message: not
//! supported), the shared credentials file, `credential_process`, the config
//! file, then container credentials (`AWS_CONTAINER_CREDENTIALS_*`). The EC2
//! instance metadata service is never queried: on a machine that is not an
//! EC2 instance AWS CLI would wait on it for nothing, and cpjobs talks only to
//! endpoints the user named.
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
    crate::debug::log("botocore.credentials", "Found credentials in environment variables.");
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
    let text = std::str::from_utf8(&out.stdout).map_err(|e| {
        CliError::general(format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
            out.stdout[e.valid_up_to()],
            e.valid_up_to()
        ))
    })?;
    let parsed: serde_json::Value = serde_json::from_str(text).map_err(|e| CliError::general(json_error(text, &e)))?;
    let Some(obj) = parsed.as_object() else {
        let ty = crate::transport::retry::to_py(&parsed)
            .type_repr()
            .trim_start_matches("<class '")
            .trim_end_matches("'>")
            .to_owned();
        return Err(CliError::general(format!("'{ty}' object has no attribute 'get'")));
    };
    // Python compares `version != 1`, so `true` and `1.0` pass too.
    let version_ok = match obj.get("Version") {
        Some(serde_json::Value::Number(n)) => n.as_f64() == Some(1.0),
        Some(serde_json::Value::Bool(b)) => *b,
        _ => false,
    };
    if !version_ok {
        let shown = match obj.get("Version") {
            None => "<Version key not provided>".to_owned(),
            Some(v) => crate::transport::retry::to_py(v).py_str(),
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

/// Python's `json.loads` message for the common failures (position reckoned as Python does, in characters).
fn json_error(text: &str, e: &serde_json::Error) -> String {
    let (line, col) = (e.line(), e.column());
    // serde reports the column of the offending character (1-based); Python too, but
    // at the start of the bad token. Char offset from line and column.
    let start_of_line: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(|l| l.chars().count()).sum();
    let trimmed_end = text.trim_end().chars().count();
    let kind = match e.classify() {
        serde_json::error::Category::Eof if text.trim().is_empty() => "Expecting value",
        serde_json::error::Category::Syntax if e.to_string().starts_with("trailing characters") => "Extra data",
        serde_json::error::Category::Syntax if e.to_string().starts_with("key must be a string") => {
            "Expecting property name enclosed in double quotes"
        }
        _ => "Expecting value",
    };
    let (line, col, pos) = if text.trim().is_empty() {
        let n = text.chars().count();
        let last_line = text.split('\n').count();
        let last_col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (last_line, last_col, n)
    } else {
        let col = col.max(1);
        (line, col, (start_of_line + col - 1).min(trimmed_end))
    };
    format!("{kind}: line {line} column {col} (char {pos})")
}

/// ContainerProvider: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https, loopback or the container hosts), with the
/// optional `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`; 3 attempts, 2 s timeout, 1 s apart.
pub fn from_container(session: &Session, sleep: &dyn Fn(std::time::Duration)) -> Result<Option<Credentials>, CliError> {
    const METHOD: &str = "container-role";
    let env = session.env();
    let url = match (env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        (Some(rel), _) => format!("http://169.254.170.2{rel}"),
        (None, Some(full)) => {
            let parts = crate::transport::endpoint::urlsplit(full);
            let host = parts.hostname().unwrap_or_default();
            let loopback = host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            let allowed = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"];
            if parts.scheme != "https" && !loopback && !allowed.contains(&host.as_str()) {
                return Err(CliError::general(format!(
                    "Unsupported host '{host}'.  Can only retrieve metadata from a loopback address or one of these hosts: {}",
                    allowed.join(", ")
                )));
            }
            full.to_owned()
        }
        (None, None) => return Ok(None),
    };
    let token = if let Some(path) = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(std::fs::read_to_string(path).map_err(|e| {
            CliError::general(format!("[Errno {}] {}: '{path}'", e.raw_os_error().unwrap_or(0), io_strerror(&e)))
        })?)
    } else {
        env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN").map(str::to_owned)
    };
    if token.as_deref().is_some_and(|t| t.contains(['\r', '\n'])) {
        return Err(CliError::general("Auth token value is not a legal header value"));
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(std::time::Duration::from_secs(2)))
        .build()
        .new_agent();
    let mut attempts = 0;
    loop {
        let mut req = agent.get(&url).header("Accept", "application/json");
        if let Some(t) = &token {
            req = req.header("Authorization", t.as_str());
        }
        let err = match req.call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                if status != 200 {
                    format!("Received non 200 response {status} from container metadata: {text}")
                } else {
                    match serde_json::from_str::<serde_json::Value>(&text) {
                        Ok(v) => {
                            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                            let missing = |k: &str| retrieval_error(METHOD, &format!("'{k}'"));
                            crate::debug::log("botocore.credentials", "Found credentials from container metadata.");
                            return Ok(Some(Credentials {
                                access_key: field("AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?,
                                secret_key: field("SecretAccessKey").ok_or_else(|| missing("SecretAccessKey"))?,
                                token: field("Token"),
                                method: METHOD,
                            }));
                        }
                        Err(_) => "Unable to parse JSON returned from container metadata services".to_owned(),
                    }
                }
            }
            Err(e) => format!("Received error when attempting to retrieve container metadata: {e}"),
        };
        sleep(std::time::Duration::from_secs(1));
        attempts += 1;
        if attempts >= 3 {
            return Err(retrieval_error(METHOD, &err));
        }
    }
}

/// Python's strerror for the common spawn failures.
fn io_strerror(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory",
        std::io::ErrorKind::PermissionDenied => "Permission denied",
        _ => "OSError",
    }
}

/// Credentials as botocore holds them after resolution: either ready to use,
/// or an assume-role whose STS call is deferred until a request is signed
/// (`DeferredRefreshableCredentials`), so STS errors surface when AWS CLI's do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Ready credentials.
    Static(Credentials),
    /// `role_arn` with its source credentials.
    AssumeRole(Box<AssumeRole>),
    /// `AssumeRoleWithWebIdentity` with a token read from a file.
    WebIdentity(WebIdentity),
}

/// One `AssumeRoleWithWebIdentity` call to make (env `AWS_WEB_IDENTITY_TOKEN_FILE`/`AWS_ROLE_ARN` or the profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    /// `web_identity_token_file`.
    pub token_file: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name`.
    pub role_session_name: Option<String>,
}

/// One `AssumeRole` call to make: the profile's role settings and who calls STS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// The profile that names the role.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name` (else `botocore-session-<unix time>`).
    pub role_session_name: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `mfa_serial` (the token code is read from the terminal).
    pub mfa_serial: Option<String>,
    /// `duration_seconds`, when it is an integer.
    pub duration_seconds: Option<i64>,
    /// Who calls STS.
    pub source: CredentialSource,
}

fn has_static(section: &Section) -> bool {
    ini::get(section, "aws_access_key_id").is_some() || ini::get(section, "aws_secret_access_key").is_some()
}

fn has_role(section: &Section) -> bool {
    ini::get(section, "role_arn").is_some() && ini::get(section, "web_identity_token_file").is_none()
}

impl Session {
    /// Resolves credentials the way botocore does when AWS CLI creates its
    /// client, without any network call: Ok(None) when no provider has any
    /// (AWS CLI reports that only when it signs, see [`no_credentials_error`]).
    pub fn credential_source(&self) -> Result<Option<CredentialSource>, CliError> {
        // An explicit --profile negates the environment provider.
        if !self.profile_from_flag()
            && let Some(c) = from_env(self)?
        {
            return Ok(Some(CredentialSource::Static(c)));
        }
        let profile = self.profile_name().to_owned();
        if let Some(section) = self.profile_config(&profile)
            && has_role(section)
        {
            let mut visited = vec![profile.clone()];
            return self.assume_role(&profile, &mut visited).map(Some);
        }
        if let Some(found) = self.profile_providers(&profile, self.profile_from_flag())? {
            return Ok(Some(found));
        }
        // After the profile providers: the container provider (instance metadata is never queried).
        Ok(from_container(self, &std::thread::sleep)?.map(CredentialSource::Static))
    }

    /// `AssumeRoleWithWebIdentityProvider`: env variables (unless disabled) over the profile's settings.
    fn web_identity(&self, profile: &str, disable_env: bool) -> Result<Option<WebIdentity>, CliError> {
        let get = |key: &str, env_var: &str| -> Option<String> {
            if !disable_env && let Some(v) = self.env().get(env_var) {
                return Some(v.to_owned());
            }
            self.profile_config(profile).and_then(|s| ini::get(s, key)).and_then(IniValue::as_str).map(str::to_owned)
        };
        let Some(token_file) = get("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE").filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let role_arn = get("role_arn", "AWS_ROLE_ARN").filter(|r| !r.is_empty()).ok_or_else(|| {
            CliError::general(
                "The provided profile or the current environment is configured to assume role with web identity but has no role ARN configured. Ensure that the profile has the role_arnconfiguration set or the AWS_ROLE_ARN env var is set.",
            )
        })?;
        Ok(Some(WebIdentity {
            token_file,
            role_arn,
            role_session_name: get("role_session_name", "AWS_ROLE_SESSION_NAME"),
        }))
    }

    /// The profile providers in botocore's order: web identity, SSO (refused), then [`Session::profile_chain`].
    fn profile_providers(&self, profile: &str, disable_env: bool) -> Result<Option<CredentialSource>, CliError> {
        if let Some(w) = self.web_identity(profile, disable_env)? {
            return Ok(Some(CredentialSource::WebIdentity(w)));
        }
        if let Some(section) = self.profile_config(profile)
            && (ini::get(section, "sso_role_name").is_some() || ini::get(section, "sso_account_id").is_some())
        {
            // botocore's SSOProvider takes such a profile; skipping it would silently pick other credentials.
            return Err(CliError::general(format!(
                "cpjobs does not support SSO credentials (profile {profile} sets sso_role_name/sso_account_id); use credentials from the environment, a credentials file, credential_process or an assume-role profile"
            )));
        }
        Ok(self.profile_chain(profile)?.map(CredentialSource::Static))
    }

    /// Like [`Session::credential_source`], with any assume-role carried out now (calls STS).
    pub fn credentials(&self) -> Result<Option<Credentials>, CliError> {
        match self.credential_source()? {
            None => Ok(None),
            Some(src) => {
                crate::transport::sts::resolve(self, &self.globals().clone(), self.region_opt().as_deref(), &src)
                    .map(Some)
            }
        }
    }

    /// The profile providers (`ProfileProviderBuilder.providers`): credentials
    /// file, `credential_process`, config file. Web identity and SSO are not supported.
    fn profile_chain(&self, profile: &str) -> Result<Option<Credentials>, CliError> {
        let full = self.profile_config(profile);
        if let Some(section) = self.credentials_file().and_then(|c| c.section(profile))
            && let Some(c) = from_mapping(section, "shared-credentials-file")?
        {
            crate::debug::log(
                "botocore.credentials",
                format!("Found credentials in shared credentials file: {}", self.credentials_path()),
            );
            return Ok(Some(c));
        }
        if let Some(cmd) = full.and_then(|s| ini::get(s, "credential_process")).and_then(IniValue::as_str) {
            return from_process(cmd).map(Some);
        }
        if let Some(section) = self.config_file_profile(profile)
            && let Some(c) = from_mapping(&section, "config-file")?
        {
            crate::debug::log(
                "botocore.credentials",
                format!("Credentials found in config file: {}", self.config_path()),
            );
            return Ok(Some(c));
        }
        Ok(None)
    }

    /// `AssumeRoleProvider._load_creds_via_assume_role`: validates the role
    /// settings and resolves the source credentials (recursively for chains).
    fn assume_role(&self, profile: &str, visited: &mut Vec<String>) -> Result<CredentialSource, CliError> {
        let section = self.profile_config(profile).cloned().unwrap_or_default();
        let get = |k: &str| ini::get(&section, k).and_then(IniValue::as_str).map(str::to_owned);
        let role_arn = get("role_arn").unwrap_or_default();
        let source_profile = get("source_profile");
        let credential_source = get("credential_source");
        let source = match (&source_profile, &credential_source) {
            (Some(_), Some(_)) => {
                return Err(CliError::general(format!(
                    "The profile \"{profile}\" contains both source_profile and credential_source."
                )));
            }
            (None, None) => return Err(partial("assume-role", "source_profile or credential_source")),
            (None, Some(cs)) => {
                if !matches!(cs.as_str(), "Environment" | "Ec2InstanceMetadata" | "EcsContainer") {
                    return Err(CliError::general(format!(
                        "The credential source \"{cs}\" referenced in profile \"{profile}\" is not valid."
                    )));
                }
                // cpjobs never queries the instance metadata endpoint.
                let found = match cs.as_str() {
                    "Environment" => from_env(self)?,
                    "EcsContainer" => from_container(self, &std::thread::sleep)?,
                    _ => None,
                };
                let creds = found.ok_or_else(|| {
                    retrieval_error(
                        cs,
                        &format!("No credentials found in credential_source referenced in profile {profile}"),
                    )
                })?;
                CredentialSource::Static(creds)
            }
            (Some(sp), None) => {
                let Some(src_section) = self.profile_config(sp).cloned() else {
                    return Err(CliError::general(format!(
                        "The source_profile \"{sp}\" referenced in the profile \"{profile}\" does not exist."
                    )));
                };
                if visited.contains(sp) && (sp != profile || !has_static(&src_section)) {
                    let list: Vec<String> = visited.iter().map(|v| format!("'{v}'")).collect();
                    return Err(CliError::general(format!(
                        "Infinite loop in credential configuration detected. Attempting to load from profile {sp} which has already been visited. Visited profiles: [{}]",
                        list.join(", ")
                    )));
                }
                visited.push(sp.clone());
                if has_static(&src_section) || !has_role(&src_section) {
                    self.profile_providers(sp, true)?.ok_or_else(|| {
                        CliError::general(format!("The source profile \"{sp}\" must have credentials."))
                    })?
                } else {
                    self.assume_role(sp, visited)?
                }
            }
        };
        Ok(CredentialSource::AssumeRole(Box::new(AssumeRole {
            profile: profile.to_owned(),
            role_arn,
            role_session_name: get("role_session_name"),
            external_id: get("external_id"),
            mfa_serial: get("mfa_serial"),
            duration_seconds: get("duration_seconds").and_then(|d| crate::transport::retry::py_int(&d).ok()),
            source,
        })))
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
    fn assume_role_settings() {
        let cfg = "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\nexternal_id = ext\nduration_seconds = 900\n[profile base]\naws_access_key_id = A\naws_secret_access_key = B\n[profile chain]\nrole_arn = arn:2\nsource_profile = r\n[profile both]\nrole_arn = a\nsource_profile = base\ncredential_source = Environment\n[profile neither]\nrole_arn = a\n[profile missing]\nrole_arn = a\nsource_profile = nope\n[profile loop1]\nrole_arn = a\nsource_profile = loop2\n[profile loop2]\nrole_arn = b\nsource_profile = loop1\n[profile self]\nrole_arn = a\nsource_profile = self\naws_access_key_id = S\naws_secret_access_key = T\n[profile envsrc]\nrole_arn = a\ncredential_source = Environment\n[profile badsrc]\nrole_arn = a\ncredential_source = Nope\n[profile nocreds]\nregion = x\n[profile emptysrc]\nrole_arn = a\nsource_profile = nocreds\n";
        let src = |p: &str, env: &[(&str, &str)]| {
            let g = GlobalArgs { profile: Some(p.into()), ..GlobalArgs::default() };
            session(&format!("c-ar-{p}"), cfg, "", &g, env).credential_source()
        };
        let Some(CredentialSource::AssumeRole(r)) = src("r", &[]).unwrap() else { panic!("assume role expected") };
        assert_eq!(
            (r.role_arn.as_str(), r.external_id.as_deref(), r.duration_seconds),
            ("arn:aws:iam::123456789012:role/x", Some("ext"), Some(900))
        );
        assert!(matches!(&r.source, CredentialSource::Static(c) if c.access_key == "A"));
        let Some(CredentialSource::AssumeRole(c)) = src("chain", &[]).unwrap() else { panic!() };
        assert!(matches!(&c.source, CredentialSource::AssumeRole(inner) if inner.role_arn.starts_with("arn:aws")));
        assert_eq!(
            src("both", &[]).unwrap_err().stderr,
            "\nThe profile \"both\" contains both source_profile and credential_source.\n"
        );
        assert_eq!(
            src("neither", &[]).unwrap_err().stderr,
            "\nPartial credentials found in assume-role, missing: source_profile or credential_source\n"
        );
        assert_eq!(
            src("missing", &[]).unwrap_err().stderr,
            "\nThe source_profile \"nope\" referenced in the profile \"missing\" does not exist.\n"
        );
        assert!(src("loop1", &[]).unwrap_err().stderr.contains("Infinite loop in credential configuration detected."));
        assert!(matches!(src("self", &[]).unwrap(), Some(CredentialSource::AssumeRole(_))));
        let env = [("AWS_ACCESS_KEY_ID", "E"), ("AWS_SECRET_ACCESS_KEY", "F")];
        let Some(CredentialSource::AssumeRole(e)) = src("envsrc", &env).unwrap() else { panic!() };
        assert!(matches!(&e.source, CredentialSource::Static(c) if c.access_key == "E"));
        assert_eq!(
            src("envsrc", &[]).unwrap_err().stderr,
            "\nError when retrieving credentials from Environment: No credentials found in credential_source referenced in profile envsrc\n"
        );
        assert_eq!(
            src("badsrc", &[]).unwrap_err().stderr,
            "\nThe credential source \"Nope\" referenced in profile \"badsrc\" is not valid.\n"
        );
        assert_eq!(
            src("emptysrc", &[]).unwrap_err().stderr,
            "\nThe source profile \"nocreds\" must have credentials.\n"
        );
    }

    #[test]
    fn web_identity_and_sso() {
        let cfg = "[profile w]\nweb_identity_token_file = /tok\nrole_arn = arn:w\n[profile norole]\nweb_identity_token_file = /tok\n[profile sso]\nsso_session = x\nsso_account_id = 1\nsso_role_name = r\n[profile ssotokenonly]\nsso_session = x\naws_access_key_id = K\naws_secret_access_key = S\n[profile viaw]\nrole_arn = arn:outer\nsource_profile = w\n";
        let g = |p: &str| GlobalArgs { profile: Some(p.into()), ..GlobalArgs::default() };
        let env =
            [("AWS_WEB_IDENTITY_TOKEN_FILE", "/envtok"), ("AWS_ROLE_ARN", "arn:env"), ("AWS_ROLE_SESSION_NAME", "s")];
        // Env settings win, unless --profile turns them off.
        let s = session("c-wi1", cfg, "", &GlobalArgs::default(), &env);
        let want = WebIdentity {
            token_file: "/envtok".into(),
            role_arn: "arn:env".into(),
            role_session_name: Some("s".into()),
        };
        assert_eq!(s.credential_source().unwrap(), Some(CredentialSource::WebIdentity(want)));
        let s = session("c-wi2", cfg, "", &g("w"), &env);
        let want = WebIdentity { token_file: "/tok".into(), role_arn: "arn:w".into(), role_session_name: None };
        assert_eq!(s.credential_source().unwrap(), Some(CredentialSource::WebIdentity(want.clone())));
        assert!(
            session("c-wi3", cfg, "", &g("norole"), &[])
                .credential_source()
                .unwrap_err()
                .stderr
                .contains("has no role ARN configured")
        );
        assert!(session("c-wi4", cfg, "", &g("sso"), &[]).credential_source().unwrap_err().stderr.contains("SSO"));
        // A profile naming only an sso_session is not an SSO credentials profile.
        assert!(matches!(
            session("c-wi6", cfg, "", &g("ssotokenonly"), &[]).credential_source().unwrap(),
            Some(CredentialSource::Static(_))
        ));
        // A web-identity profile can be the source of an assume-role.
        let Some(CredentialSource::AssumeRole(r)) =
            session("c-wi5", cfg, "", &g("viaw"), &env).credential_source().unwrap()
        else {
            panic!()
        };
        assert_eq!(r.source, CredentialSource::WebIdentity(want));
    }

    #[test]
    fn shell_split_quotes() {
        assert_eq!(shell_split("a 'b c' \"d\\\"e\" f\\ g").unwrap(), vec!["a", "b c", "d\"e", "f g"]);
        assert!(shell_split("'open").is_err());
    }
}

#[cfg(test)]
mod json_error_tests {
    use super::json_error;

    fn msg(t: &str) -> String {
        json_error(t, &serde_json::from_str::<serde_json::Value>(t).unwrap_err())
    }

    #[test]
    fn python_messages() {
        assert_eq!(msg("abc"), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(msg("{\"a\": 1} x"), "Extra data: line 1 column 10 (char 9)");
        assert_eq!(msg("{a:1}"), "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)");
        assert_eq!(msg("\n\n  "), "Expecting value: line 3 column 3 (char 4)");
    }
}
