//! Configuration as botocore's `Session` resolves it: environment variables,
//! `~/.aws/config` and `~/.aws/credentials`, the selected profile, region,
//! output format, retry settings and (in [`credentials`]) the credential chain.
//!
//! Invariant: every value comes from the same place, in the same order of
//! precedence, and fails with the same message as in botocore 1.43.11
//! (`session.py`, `configprovider.py`, `configloader.py`). The environment is
//! captured once in [`Env`] so tests can run without touching the process.
//!
//! When to call what (AWS CLI's order of failures): [`check_files`] as the
//! program starts (an unparseable file beats even usage errors), then
//! [`Session::load`] once the command's arguments are parsed (an unknown
//! profile is reported after argument errors, before `--generate-cli-skeleton`).
//! Python artefact replaced: for an unparseable file AWS CLI dies with a
//! traceback (exit 1); we print `Unable to parse config file: <path>`, exit 1.

pub mod credentials;
pub mod ini;

use std::collections::BTreeMap;

use crate::args::GlobalArgs;
use crate::error::CliError;
use ini::{Ini, IniValue, Section};

pub use credentials::Credentials;

/// A snapshot of the environment variables botocore reads.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The process environment (non-UTF-8 entries are skipped, as botocore could not use them either).
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of exactly these variables (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// A variable's value; botocore treats a variable that is set but empty as set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// All variables, sorted by name.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A variable's value when set and non-empty (`os.environ.get(x, '')` truthiness).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// `os.path.expanduser(os.path.expandvars(path))`.
    pub fn expand_path(&self, path: &str) -> String {
        let path = self.expand_vars(path);
        if (path == "~" || path.starts_with("~/"))
            && let Some(home) = self.get("HOME")
        {
            let home = if home.len() > 1 { home.trim_end_matches('/') } else { home };
            return format!("{home}{}", &path[1..]);
        }
        path
    }

    /// `os.path.expandvars`: `$NAME` and `${NAME}` of set variables; others stay as written.
    fn expand_vars(&self, path: &str) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) => (&inner[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            };
            match self.get(name).filter(|_| !name.is_empty()) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[pos..pos + 1 + consumed]),
            }
            rest = &rest[pos + 1 + consumed..];
        }
        out.push_str(rest);
        out
    }
}

/// What AWS CLI resolved about the user's configuration.
#[derive(Debug, Clone)]
pub struct Session {
    env: Env,
    globals: GlobalArgs,
    /// The configured profile (`--profile` > `AWS_DEFAULT_PROFILE` > `AWS_PROFILE`), None = unset.
    profile: Option<String>,
    /// Path of the config file as botocore names it in messages.
    config_path: String,
    /// Path of the shared credentials file.
    credentials_path: String,
    /// The parsed credentials file (None when it does not exist).
    credentials_ini: Option<Ini>,
    /// The parsed config file (None when it does not exist).
    config_ini: Option<Ini>,
    /// `full_config['profiles']`: config file profiles, updated by credentials file sections.
    profiles: Vec<(String, Section)>,
}

/// botocore's `ConfigParseError` escapes AWS CLI as a Python traceback ending in
/// `botocore.exceptions.ConfigParseError: Unable to parse config file: <path>`, exit 1.
/// cpjobs prints the message alone, with the same exit code (a deliberate difference,
/// tests/conformance/differences.tsv).
fn config_parse_error(path: &str) -> CliError {
    CliError::raw(1, format!("Unable to parse config file: {path}\n"))
}

/// Reads and parses an INI file; Ok(None) when it is not a regular file (botocore's ConfigNotFound).
fn read_ini(path: &str) -> Result<Option<Ini>, CliError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(None),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    // configparser's read() silently skips files it cannot open.
    let Ok(bytes) = std::fs::read(path) else { return Ok(None) };
    ini::parse(&bytes).map(Some).map_err(|_| config_parse_error(path))
}

/// `shlex.split(key)` for section names like `profile "my name"`; None when shlex would fail.
fn shlex_split(s: &str) -> Option<Vec<String>> {
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
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => cur.push(c),
                            c => {
                                cur.push('\\');
                                cur.push(c);
                            }
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            // shlex in POSIX mode treats '#' as a comment start.
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
    Some(parts)
}

/// `build_profile_map`'s profiles, then the credentials file merged in as `full_config` does.
fn build_profiles(config: Option<&Ini>, creds: Option<&Ini>) -> Vec<(String, Section)> {
    let mut profiles: Vec<(String, Section)> = Vec::new();
    let set = |profiles: &mut Vec<(String, Section)>, name: String, values: Section, merge: bool| match profiles
        .iter_mut()
        .find(|(n, _)| *n == name)
    {
        Some((_, existing)) if merge => {
            for (k, v) in values {
                match existing.iter_mut().find(|(ek, _)| *ek == k) {
                    Some(slot) => slot.1 = v,
                    None => existing.push((k, v)),
                }
            }
        }
        Some((_, existing)) => *existing = values,
        None => profiles.push((name, values)),
    };
    if let Some(config) = config {
        for (key, values) in &config.sections {
            if key.starts_with("profile") {
                if let Some(parts) = shlex_split(key)
                    && parts.len() == 2
                {
                    set(&mut profiles, parts[1].clone(), values.clone(), false);
                }
            } else if key == "default" {
                set(&mut profiles, key.clone(), values.clone(), false);
            }
        }
    }
    if let Some(creds) = creds {
        for (name, values) in &creds.sections {
            set(&mut profiles, name.clone(), values.clone(), true);
        }
    }
    profiles
}

/// Parses the config and credentials files, as AWS CLI does when it starts
/// (before any argument is parsed): a file it cannot parse ends the program
/// (exit 1) before anything else is reported. [`Session::load`] does this too.
pub fn check_files() -> Result<(), CliError> {
    let env = Env::from_process();
    read_ini(&config_path(&env))?;
    read_ini(&credentials_path(&env))?;
    Ok(())
}

fn config_path(env: &Env) -> String {
    env.expand_path(env.get("AWS_CONFIG_FILE").unwrap_or("~/.aws/config"))
}

fn credentials_path(env: &Env) -> String {
    env.expand_path(env.get("AWS_SHARED_CREDENTIALS_FILE").unwrap_or("~/.aws/credentials"))
}

impl Session {
    /// Reads AWS_* env vars and the config/credentials files and picks the
    /// profile (--profile > AWS_DEFAULT_PROFILE > AWS_PROFILE > default).
    /// Fails like AWS CLI on an unparseable file (exit 1) and on a named
    /// profile that exists in neither file (255). Needs no region or credentials.
    pub fn load(globals: &GlobalArgs) -> Result<Session, CliError> {
        Session::load_with_env(globals, Env::from_process())
    }

    /// [`Session::load`] with an explicit environment.
    pub fn load_with_env(globals: &GlobalArgs, env: Env) -> Result<Session, CliError> {
        let config_path = config_path(&env);
        let credentials_path = credentials_path(&env);
        let config_ini = read_ini(&config_path)?;
        let credentials_ini = read_ini(&credentials_path)?;
        let profiles = build_profiles(config_ini.as_ref(), credentials_ini.as_ref());
        let profile = globals
            .profile
            .clone()
            .or_else(|| env.get("AWS_DEFAULT_PROFILE").map(str::to_owned))
            .or_else(|| env.get("AWS_PROFILE").map(str::to_owned));
        if let Some(name) = &profile
            && !profiles.iter().any(|(n, _)| n == name)
        {
            return Err(CliError::general(format!("The config profile ({name}) could not be found")));
        }
        Ok(Session {
            env,
            globals: globals.clone(),
            profile,
            config_path,
            credentials_path,
            credentials_ini,
            config_ini,
            profiles,
        })
    }

    /// The environment this session was loaded with.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The global arguments this session was loaded with.
    pub fn globals(&self) -> &GlobalArgs {
        &self.globals
    }

    /// The profile name used for credentials: the configured one or `default`.
    pub fn profile_name(&self) -> &str {
        self.profile.as_deref().unwrap_or("default")
    }

    /// Whether `--profile` was given (it turns off credentials from the environment).
    pub fn profile_from_flag(&self) -> bool {
        self.globals.profile.is_some()
    }

    /// The merged settings of `name` (config file, then credentials file on top).
    pub fn profile_config(&self, name: &str) -> Option<&Section> {
        self.profiles.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// The scoped config: the selected profile's settings, empty if it does not exist.
    fn scoped(&self) -> Option<&Section> {
        self.profile_config(self.profile_name())
    }

    /// A plain string setting of the selected profile.
    pub fn scoped_str(&self, key: &str) -> Option<&str> {
        ini::get(self.scoped()?, key).and_then(IniValue::as_str)
    }

    /// A nested block setting of the selected profile (`services`-like values).
    pub fn scoped_value(&self, key: &str) -> Option<&IniValue> {
        ini::get(self.scoped()?, key)
    }

    /// A config variable resolved env > profile (`configprovider.py` chain without the instance level).
    pub fn env_or_profile(&self, env_var: &str, key: &str) -> Option<String> {
        self.env.get(env_var).map(str::to_owned).or_else(|| self.scoped_str(key).map(str::to_owned))
    }

    /// The config file path as botocore prints it.
    pub fn config_path(&self) -> &str {
        &self.config_path
    }

    /// The credentials file path as botocore prints it.
    pub fn credentials_path(&self) -> &str {
        &self.credentials_path
    }

    /// The parsed credentials file (SharedCredentialProvider reads only this).
    pub fn credentials_file(&self) -> Option<&Ini> {
        self.credentials_ini.as_ref()
    }

    /// The parsed config file (ConfigProvider reads only this, without the credentials file).
    pub fn config_file(&self) -> Option<&Ini> {
        self.config_ini.as_ref()
    }

    /// The config file's own profile map (before the credentials file is merged in).
    pub fn config_file_profile(&self, name: &str) -> Option<Section> {
        build_profiles(self.config_ini.as_ref(), None).into_iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// A non-profile section of the config file, e.g. `services NAME` (for endpoint overrides).
    pub fn config_section(&self, name: &str) -> Option<&Section> {
        self.config_ini.as_ref()?.section(name)
    }

    /// The region, if configured: --region > AWS_DEFAULT_REGION > profile
    /// `region`. `AWS_REGION` is not read by this botocore.
    pub fn region_opt(&self) -> Option<String> {
        self.globals.region.clone().or_else(|| self.env_or_profile("AWS_DEFAULT_REGION", "region"))
    }

    /// --region > AWS_DEFAULT_REGION > profile region; else AWS CLI's message (no leading blank line).
    pub fn region(&self) -> Result<String, CliError> {
        self.region_opt().ok_or_else(no_region_error)
    }

    /// --output > AWS_DEFAULT_OUTPUT > profile output, unvalidated.
    pub fn output_format(&self) -> Option<String> {
        self.globals.output.clone().or_else(|| self.env_or_profile("AWS_DEFAULT_OUTPUT", "output"))
    }
}

/// botocore's NoRegionError as awscli's clidriver prints it.
pub fn no_region_error() -> CliError {
    CliError::bare("You must specify a region. You can also configure your region by running \"aws configure\".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh directory under the target's tmp for one test's files.
    pub(crate) fn temp_home(tag: &str) -> PathBuf {
        // Unique per call: tests run in parallel and several share a tag.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("cpjobs-config-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".aws")).unwrap();
        dir
    }

    fn profiles_home() -> PathBuf {
        let home = temp_home("profiles");
        std::fs::write(
            home.join(".aws/config"),
            "[default]\nregion = eu-west-1\noutput = text\n\n[profile dev]\nregion = ap-southeast-2\noutput = table\n\n[profile noregion]\noutput = json\n\n[profile \"quoted name\"]\nregion = q-1\n[profiledev]\nregion = ignored\n[preview]\nx = 1\n",
        )
        .unwrap();
        std::fs::write(home.join(".aws/credentials"), "[default]\naws_access_key_id = A\naws_secret_access_key = B\n[credsonly]\nregion = from-creds\n[dev]\noutput = json\n").unwrap();
        home
    }

    fn session(home: &std::path::Path, globals: &GlobalArgs, extra: &[(&str, &str)]) -> Result<Session, CliError> {
        let mut pairs = vec![("HOME".to_owned(), home.display().to_string())];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Session::load_with_env(globals, Env::from_pairs(pairs))
    }

    #[test]
    fn profile_precedence() {
        let home = profiles_home();
        let g = GlobalArgs::default();
        assert_eq!(session(&home, &g, &[]).unwrap().region().unwrap(), "eu-west-1");
        assert_eq!(session(&home, &g, &[("AWS_PROFILE", "dev")]).unwrap().region().unwrap(), "ap-southeast-2");
        let s = session(&home, &g, &[("AWS_PROFILE", "dev"), ("AWS_DEFAULT_PROFILE", "noregion")]).unwrap();
        assert_eq!(s.region().unwrap_err(), no_region_error());
        let flag = GlobalArgs { profile: Some("noregion".into()), ..GlobalArgs::default() };
        let s = session(&home, &flag, &[("AWS_PROFILE", "dev")]).unwrap();
        assert!(s.region().is_err());
        assert!(s.profile_from_flag());
        assert_eq!(session(&home, &g, &[("AWS_PROFILE", "quoted name")]).unwrap().region().unwrap(), "q-1");
    }

    #[test]
    fn credentials_file_sections_are_profiles_and_override() {
        let home = profiles_home();
        let g = GlobalArgs::default();
        assert_eq!(session(&home, &g, &[("AWS_PROFILE", "credsonly")]).unwrap().region().unwrap(), "from-creds");
        // [dev] in the credentials file overrides the config file's output.
        assert_eq!(session(&home, &g, &[("AWS_PROFILE", "dev")]).unwrap().output_format().unwrap(), "json");
    }

    #[test]
    fn profile_not_found() {
        let home = profiles_home();
        let g = GlobalArgs { profile: Some("doesnotexist".into()), ..GlobalArgs::default() };
        let e = session(&home, &g, &[]).unwrap_err();
        assert_eq!(
            e,
            CliError { exit_code: 255, stderr: "\nThe config profile (doesnotexist) could not be found\n".into() }
        );
        // `[profiledev]` and `[preview]` are not profiles.
        assert!(session(&home, &GlobalArgs::default(), &[("AWS_PROFILE", "profiledev")]).is_err());
        assert!(session(&home, &GlobalArgs::default(), &[("AWS_PROFILE", "preview")]).is_err());
        // An explicitly named `default` must exist; an unset profile needs nothing.
        let empty = temp_home("empty");
        assert!(session(&empty, &GlobalArgs::default(), &[]).is_ok());
        assert!(session(&empty, &GlobalArgs::default(), &[("AWS_PROFILE", "default")]).is_err());
    }

    #[test]
    fn region_and_output_precedence() {
        let home = profiles_home();
        let g = GlobalArgs { region: Some("cli-region".into()), output: Some("json".into()), ..GlobalArgs::default() };
        let s = session(&home, &g, &[("AWS_DEFAULT_REGION", "env-region"), ("AWS_DEFAULT_OUTPUT", "table")]).unwrap();
        assert_eq!(s.region().unwrap(), "cli-region");
        assert_eq!(s.output_format().unwrap(), "json");
        let s = session(
            &home,
            &GlobalArgs::default(),
            &[("AWS_DEFAULT_REGION", "env-region"), ("AWS_REGION", "ignored"), ("AWS_DEFAULT_OUTPUT", "table")],
        )
        .unwrap();
        assert_eq!(s.region().unwrap(), "env-region");
        assert_eq!(s.output_format().unwrap(), "table");
        let s = session(&temp_home("noreg"), &GlobalArgs::default(), &[("AWS_REGION", "eu-central-1")]).unwrap();
        assert!(s.region().is_err(), "AWS_REGION is ignored");
        assert_eq!(s.output_format(), None);
    }

    #[test]
    fn unparseable_config_exits_1() {
        let home = temp_home("bad");
        std::fs::write(home.join(".aws/config"), "[default\nregion = us-east-1\n").unwrap();
        let e = session(&home, &GlobalArgs::default(), &[]).unwrap_err();
        assert_eq!(e.exit_code, 1);
        assert_eq!(e.stderr, format!("Unable to parse config file: {}/.aws/config\n", home.display()));
    }

    #[test]
    fn file_env_vars_and_expansion() {
        let home = profiles_home();
        let env = Env::from_pairs([("HOME", "/h"), ("X", "v")]);
        assert_eq!(env.expand_path("~/a/$X/${X}/$NOPE"), "/h/a/v/v/$NOPE");
        let other = temp_home("other");
        std::fs::write(other.join("cfg"), "[profile p]\nregion = r-p\n").unwrap();
        let cfg = format!("{}/cfg", other.display());
        let creds = format!("{}/.aws/credentials", home.display());
        let s = session(
            &other,
            &GlobalArgs::default(),
            &[("AWS_CONFIG_FILE", cfg.as_str()), ("AWS_SHARED_CREDENTIALS_FILE", creds.as_str()), ("AWS_PROFILE", "p")],
        )
        .unwrap();
        assert_eq!(s.region().unwrap(), "r-p");
        assert!(s.credentials_file().unwrap().section("default").is_some());
    }

    #[test]
    fn shlex_profile_names() {
        assert_eq!(shlex_split("profile dev"), Some(vec!["profile".into(), "dev".into()]));
        assert_eq!(shlex_split("profile 'a b'"), Some(vec!["profile".into(), "a b".into()]));
        assert_eq!(shlex_split("profile \"a"), None);
    }
}
