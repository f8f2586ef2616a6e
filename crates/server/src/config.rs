//! The operator's TOML configuration (`cpjobs serve --config FILE`) and the
//! development account used when there is none.
//!
//! Invariant: a `ServiceConfig` that leaves this module is consistent: account
//! ids are 12 digits and unique, access keys are unique across accounts, every
//! third-party action type is owned by, and polled by, declared accounts, is
//! declared once, and has a job timeout within 60..=43200 seconds; a dispatch
//! lease, when set, is within 1..=3600 seconds. A bad file
//! is refused whole, with a message that names the file and what is wrong.

mod artifacts;

pub use artifacts::{ArtifactBackendSettings, S3Settings};

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cpjobs_core::ServiceConfig;
use cpjobs_core::config::{Account, Principal, Quotas, ThirdPartyActionType};
use cpjobs_model::ServiceModel;
use serde::Deserialize;

/// The region the service answers for when the file names none.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The job timeout of an action type that declares none.
pub const DEFAULT_JOB_TIMEOUT_SECONDS: u64 = 3600;
/// The longest dispatch lease an operator may set: a job nobody acknowledges
/// must come back to the queue well within the shortest job timeout (60 s)
/// times a few, and an hour is already far beyond any poller's round trip.
pub const MAX_DISPATCH_LEASE_SECONDS: u64 = 3600;

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: Option<String>,
    dispatch_lease_seconds: Option<u64>,
    limits: Option<RawLimits>,
    metrics_token: Option<String>,
    metrics_token_file: Option<PathBuf>,
    metrics_listen: Option<String>,
    store: Option<String>,
    store_password_file: Option<PathBuf>,
    store_ca_file: Option<PathBuf>,
    store_max_connections: Option<u64>,
    service_key_file: Option<PathBuf>,
    artifacts: Option<artifacts::RawArtifacts>,
    #[serde(default)]
    account: Vec<RawAccount>,
    #[serde(default)]
    third_party_action_type: Vec<RawActionType>,
    #[serde(default)]
    quotas: RawQuotas,
}

/// `[quotas]`: per-account quotas, AWS's when left out.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawQuotas {
    pipelines_per_account: Option<u64>,
    custom_action_types_per_account: Option<u64>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    header_read_timeout_seconds: Option<f64>,
    idle_timeout_seconds: Option<f64>,
    body_read_timeout_seconds: Option<f64>,
    body_min_bytes: Option<u64>,
    write_timeout_seconds: Option<f64>,
    max_connections: Option<u64>,
    request_timeout_seconds: Option<f64>,
    max_body_bytes: Option<u64>,
}

/// The settings of the HTTP face itself (connections, limits, `/metrics`
/// access), read from the same file as the [`ServiceConfig`].
#[derive(Clone, Default)]
pub struct ServerSettings {
    /// `[limits]`: connection timeouts and cap.
    pub limits: crate::ConnectionLimits,
    /// `[limits] request_timeout_seconds`, when set.
    pub request_timeout: Option<Duration>,
    /// `[limits] max_body_bytes`, when set.
    pub max_body_bytes: Option<usize>,
    /// `metrics_token` / `metrics_token_file`, `metrics_listen`.
    pub metrics: crate::MetricsAccess,
    /// `store`, `store_password_file`, `store_ca_file`, `store_max_connections`.
    pub store: StoreSettings,
    /// `[artifacts]`: where artifacts are kept.
    pub artifacts: ArtifactBackendSettings,
    /// `service_key_file`: the key every node shares (default: `<data dir>/service.key`).
    pub service_key_file: Option<PathBuf>,
}

/// Where the service keeps its state: the embedded SQLite store (the
/// default), or a PostgreSQL database that several nodes may share. The
/// server itself opens no store; the binary does, from these.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoreSettings {
    /// `store`: a `postgres://` (or `postgresql://`) URL; `None` for SQLite.
    pub url: Option<String>,
    /// The password read from `store_password_file`, if set.
    pub password: Option<String>,
    /// `store_max_connections`: the most connections one node opens.
    pub max_connections: Option<usize>,
    /// `store_ca_file`: the CA certificates (PEM) the database server's TLS
    /// certificate must chain to, relative paths resolved against the TOML's
    /// directory. The store reads it when it opens.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &self.url.as_deref().map(redact_store_url))
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("max_connections", &self.max_connections)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Reads a `store` value: `sqlite` (the embedded store) or a PostgreSQL URL.
pub fn store_url(value: &str) -> Result<Option<String>, ConfigError> {
    match value {
        "sqlite" => Ok(None),
        v if v.starts_with("postgres://") || v.starts_with("postgresql://") => Ok(Some(v.to_owned())),
        v => Err(ConfigError(format!(
            "store {:?} is neither \"sqlite\" nor a URL such as postgres://USER@HOST:5432/DB",
            redact_store_url(v)
        ))),
    }
}

/// A store URL without its password, for messages and logs.
pub use cpjobs_core::store::redact_url as redact_store_url;

impl ServerSettings {
    /// `options` with these settings in force.
    pub fn apply(self, mut options: crate::Options) -> crate::Options {
        options.limits = self.limits;
        if let Some(t) = self.request_timeout {
            options.request_timeout = t;
        }
        if let Some(b) = self.max_body_bytes {
            options.max_body_bytes = b;
        }
        options.metrics = self.metrics;
        options
    }
}

/// The longest timeout an operator may set: a day.
const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

fn seconds(name: &str, value: Option<f64>, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if v > 0.0 && v <= MAX_TIMEOUT_SECONDS => Ok(Duration::from_secs_f64(v)),
        Some(v) => Err(ConfigError(format!("[limits] {name} {v} is outside (0, {MAX_TIMEOUT_SECONDS}]"))),
    }
}

fn settings_of(raw: &RawConfig, base: &Path) -> Result<ServerSettings, ConfigError> {
    let l = raw.limits.unwrap_or_default();
    let d = crate::ConnectionLimits::default();
    let max_connections = match l.max_connections {
        Some(0) => return Err(ConfigError("[limits] max_connections must be at least 1".into())),
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    let limits = crate::ConnectionLimits {
        header_read_timeout: seconds(
            "header_read_timeout_seconds",
            l.header_read_timeout_seconds,
            d.header_read_timeout,
        )?,
        idle_timeout: seconds("idle_timeout_seconds", l.idle_timeout_seconds, d.idle_timeout)?,
        body_read_timeout: seconds("body_read_timeout_seconds", l.body_read_timeout_seconds, d.body_read_timeout)?,
        body_min_bytes: l.body_min_bytes.unwrap_or(d.body_min_bytes),
        write_timeout: seconds("write_timeout_seconds", l.write_timeout_seconds, d.write_timeout)?,
        max_connections,
    };
    let request_timeout = match l.request_timeout_seconds {
        Some(v) => Some(seconds("request_timeout_seconds", Some(v), Duration::ZERO)?),
        None => None,
    };
    let max_body_bytes = match l.max_body_bytes {
        Some(n) if n < 1024 => return Err(ConfigError(format!("[limits] max_body_bytes {n} is below 1024"))),
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    let token = match (&raw.metrics_token, &raw.metrics_token_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError("metrics_token and metrics_token_file are exclusive: set one".into()));
        }
        (Some(t), None) => Some(t.clone()),
        (None, Some(f)) => {
            let path = if f.is_absolute() { f.clone() } else { base.join(f) };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("cannot read metrics_token_file {}: {e}", path.display())))?;
            Some(text.trim().to_owned())
        }
        (None, None) => None,
    };
    if let Some(t) = &token
        && (t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(ConfigError("the metrics token must be non-empty printable ASCII without spaces".into()));
    }
    let listen = match &raw.metrics_listen {
        Some(a) => Some(
            a.parse()
                .map_err(|_| ConfigError(format!("metrics_listen {a:?} is not an address such as 127.0.0.1:9100")))?,
        ),
        None => None,
    };
    let store = store_settings(raw, base)?;
    let artifacts = artifacts::artifact_settings(&raw.artifacts.clone().unwrap_or_default(), base)?;
    Ok(ServerSettings {
        limits,
        request_timeout,
        max_body_bytes,
        metrics: crate::MetricsAccess { token, listen },
        store,
        artifacts,
        service_key_file: artifacts::service_key_file(raw.service_key_file.as_ref(), base),
    })
}

fn store_settings(raw: &RawConfig, base: &Path) -> Result<StoreSettings, ConfigError> {
    let url = match &raw.store {
        Some(v) => store_url(v)?,
        None => None,
    };
    let password = match &raw.store_password_file {
        Some(_) if url.is_none() => {
            return Err(ConfigError("store_password_file needs store = \"postgres://...\"".into()));
        }
        Some(f) => {
            let path = if f.is_absolute() { f.clone() } else { base.join(f) };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("cannot read store_password_file {}: {e}", path.display())))?;
            // The file's last line break is not part of the password.
            Some(text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_owned())
        }
        None => None,
    };
    let ca_file = match &raw.store_ca_file {
        Some(_) if url.is_none() => {
            return Err(ConfigError("store_ca_file needs store = \"postgres://...\"".into()));
        }
        Some(f) => Some(if f.is_absolute() { f.clone() } else { base.join(f) }),
        None => None,
    };
    let max_connections = match raw.store_max_connections {
        Some(n) if !(1..=1000).contains(&n) => {
            return Err(ConfigError(format!("store_max_connections {n} is outside [1, 1000]")));
        }
        Some(n) => Some(n as usize),
        None => None,
    };
    Ok(StoreSettings { url, password, max_connections, ca_file })
}

/// Reads the configuration file at `path`: the domain's configuration and
/// the server's own settings (`[limits]`, `metrics_*`).
pub fn load_all(path: &Path) -> Result<(ServiceConfig, ServerSettings), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_all(&text, base).map_err(|e| ConfigError(format!("config {}: {}", path.display(), e.0)))
}

/// Parses configuration text: the domain's configuration and the server's
/// settings; a relative `metrics_token_file` is read from `base`.
pub fn parse_all(text: &str, base: &Path) -> Result<(ServiceConfig, ServerSettings), ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError(e.to_string().trim_end().to_owned()))?;
    let settings = settings_of(&raw, base)?;
    Ok((service_config(raw)?, settings))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: String,
    #[serde(default)]
    principal: Vec<RawPrincipal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrincipal {
    access_key_id: String,
    secret_access_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActionType {
    owner_account: String,
    category: String,
    provider: String,
    version: String,
    #[serde(default)]
    polling_accounts: Vec<String>,
    job_timeout_seconds: Option<u64>,
}

/// The largest quota an operator may set: a quota check counts up to the
/// quota, so it stays a bounded read.
pub const MAX_QUOTA: u64 = 100_000;

/// Reads and checks the configuration file at `path`.
pub fn load(path: &Path) -> Result<ServiceConfig, ConfigError> {
    load_all(path).map(|(c, _)| c)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses and checks configuration text.
///
/// The server's own settings are checked too (a bad `[limits]` refuses the
/// file) but not returned: [`parse_all`] returns them.
pub fn parse(text: &str) -> Result<ServiceConfig, ConfigError> {
    parse_all(text, Path::new(".")).map(|(c, _)| c)
}

fn service_config(raw: RawConfig) -> Result<ServiceConfig, ConfigError> {
    // toml reports unknown keys, duplicate keys and type errors with line and column.
    let err = |m: String| Err(ConfigError(m));

    let region = raw.region.unwrap_or_else(|| DEFAULT_REGION.to_owned());
    if region.is_empty() || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return err(format!("region {region:?} is not a region name (lowercase letters, digits and '-')"));
    }

    if let Some(lease) = raw.dispatch_lease_seconds
        && !(1..=MAX_DISPATCH_LEASE_SECONDS).contains(&lease)
    {
        return err(format!("dispatch_lease_seconds {lease} is outside 1..={MAX_DISPATCH_LEASE_SECONDS}"));
    }

    let mut accounts = Vec::new();
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    for a in raw.account {
        if !is_account_id(&a.id) {
            return err(format!("[[account]] id {:?} is not a 12-digit account id", a.id));
        }
        if !ids.insert(a.id.clone()) {
            return err(format!("[[account]] {} is declared twice", a.id));
        }
        let mut principals = Vec::new();
        for p in a.principal {
            // '/' would break the SigV4 Credential scope; whitespace cannot be sent in a header token.
            if p.access_key_id.is_empty() || !p.access_key_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return err(format!(
                    "account {}: access_key_id {:?} must be non-empty ASCII letters and digits",
                    a.id, p.access_key_id
                ));
            }
            if p.secret_access_key.is_empty() {
                return err(format!("account {}: principal {} has an empty secret_access_key", a.id, p.access_key_id));
            }
            if !keys.insert(p.access_key_id.clone()) {
                return err(format!("access_key_id {} is declared twice", p.access_key_id));
            }
            principals.push(Principal { access_key_id: p.access_key_id, secret_access_key: p.secret_access_key });
        }
        accounts.push(Account { id: a.id, principals });
    }

    let model = ServiceModel::codepipeline();
    let categories = &model.shape("ActionCategory").enum_values;
    let mut types = Vec::new();
    let mut seen_types = HashSet::new();
    for t in raw.third_party_action_type {
        let name = format!("{}/{}/{}", t.category, t.provider, t.version);
        if !ids.contains(&t.owner_account) {
            return err(format!(
                "third_party_action_type {name}: owner_account {:?} is not declared as an [[account]]",
                t.owner_account
            ));
        }
        if !categories.contains(&t.category) {
            return err(format!(
                "third_party_action_type {name}: category {:?} is not one of {}",
                t.category,
                categories.join(", ")
            ));
        }
        for (field, value, shape) in [("provider", &t.provider, "ActionProvider"), ("version", &t.version, "Version")] {
            let s = model.shape(shape);
            let len = value.chars().count() as i64;
            let pattern_ok = s.pattern.as_ref().is_none_or(|p| {
                regex::Regex::new(&crate::validate::java_pattern_to_rust(p)).is_ok_and(|re| re.is_match(value))
            });
            if len < s.min.unwrap_or(0) || len > s.max.unwrap_or(i64::MAX) || !pattern_ok {
                return err(format!(
                    "third_party_action_type {name}: {field} {value:?} must be {}..{} characters matching {}",
                    s.min.unwrap_or(0),
                    s.max.unwrap_or(i64::MAX),
                    s.pattern.as_deref().unwrap_or(".*")
                ));
            }
        }
        if !seen_types.insert((t.category.clone(), t.provider.clone(), t.version.clone())) {
            return err(format!("third_party_action_type {name} is declared twice"));
        }
        for p in &t.polling_accounts {
            if !ids.contains(p) {
                return err(format!(
                    "third_party_action_type {name}: polling account {p:?} is not declared as an [[account]]"
                ));
            }
        }
        let timeout = t.job_timeout_seconds.unwrap_or(DEFAULT_JOB_TIMEOUT_SECONDS);
        if !(60..=43_200).contains(&timeout) {
            return err(format!("third_party_action_type {name}: job_timeout_seconds {timeout} is outside 60..=43200"));
        }
        types.push(ThirdPartyActionType {
            owner_account: t.owner_account,
            category: t.category,
            provider: t.provider,
            version: t.version,
            polling_accounts: t.polling_accounts,
            job_timeout_seconds: timeout,
        });
    }
    let mut quotas = Quotas::AWS;
    for (name, value, slot) in [
        ("pipelines_per_account", raw.quotas.pipelines_per_account, &mut quotas.pipelines_per_account),
        (
            "custom_action_types_per_account",
            raw.quotas.custom_action_types_per_account,
            &mut quotas.custom_action_types_per_account,
        ),
    ] {
        match value {
            Some(n) if n > MAX_QUOTA => return err(format!("[quotas] {name} {n} is outside 0..={MAX_QUOTA}")),
            Some(n) => *slot = n as usize,
            None => {}
        }
    }
    Ok(ServiceConfig {
        region,
        accounts,
        third_party_action_types: types,
        dispatch_lease_seconds: raw.dispatch_lease_seconds,
        quotas,
    })
}

/// The development account kept in the data directory when no config is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevAccount {
    /// The configuration it stands for: one account with one principal.
    pub config: ServiceConfig,
    /// Whether this start created it (so its credentials are shown).
    pub created: bool,
    /// The file it is kept in.
    pub path: PathBuf,
}

/// The name of the development account's file in the data directory.
pub const DEV_ACCOUNT_FILE: &str = "dev-account.toml";

/// Loads the development account from `data_dir`, creating it with random
/// credentials on first use. The file is an ordinary config file, so it can
/// later be passed to `--config` unchanged.
pub fn dev_account(data_dir: &Path) -> Result<DevAccount, ConfigError> {
    let path = data_dir.join(DEV_ACCOUNT_FILE);
    if path.exists() {
        return Ok(DevAccount { config: load(&path)?, created: false, path });
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| ConfigError(format!("cannot create data directory {}: {e}", data_dir.display())))?;
    let account_id: String = random_chars(12, b"0123456789");
    let key = format!("AKIA{}", random_chars(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
    let secret = random_chars(40, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    let text = format!(
        "# The development account cpjobs created on first start (no --config given).\n\
         # It is an ordinary cpjobs config file: pass it to --config, or edit it.\n\
         region = \"{DEFAULT_REGION}\"\n\n[[account]]\nid = \"{account_id}\"\n\n[[account.principal]]\n\
         access_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\n"
    );
    // Durably, and the first of two starts at once wins: a restart must find the
    // credentials this start prints.
    match cpjobs_private::write_private(&path, text.as_bytes(), cpjobs_private::IfExists::Keep) {
        Ok(()) => Ok(DevAccount { config: parse(&text)?, created: true, path }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(DevAccount { config: load(&path)?, created: false, path })
        }
        Err(e) => Err(ConfigError(format!("cannot write development account {}: {e}", path.display()))),
    }
}

fn random_chars(n: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf).expect("the OS random source works");
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % alphabet.len();
        for &b in &buf {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
region = "us-east-1"
[[account]]
id = "111111111111"
[[account.principal]]
access_key_id = "AKIACUSTOMER00000001"
secret_access_key = "customer-secret"
[[account]]
id = "222222222222"
[[account.principal]]
access_key_id = "AKIAPARTNER000000001"
secret_access_key = "partner-secret"
[[third_party_action_type]]
owner_account = "222222222222"     # the partner; declared as an [[account]] too
category = "Build"
provider = "AcmeCI"
version = "1"
polling_accounts = ["222222222222"]
job_timeout_seconds = 3600
"#;

    #[test]
    fn the_documented_example_parses() {
        let c = parse(EXAMPLE).unwrap();
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(c.accounts[0].principals[0].access_key_id, "AKIACUSTOMER00000001");
        let t = &c.third_party_action_types[0];
        assert_eq!((t.category.as_str(), t.provider.as_str(), t.version.as_str()), ("Build", "AcmeCI", "1"));
        assert_eq!(t.polling_accounts, ["222222222222"]);
        assert_eq!(t.job_timeout_seconds, 3600);
        assert_eq!(c.dispatch_lease_seconds, None, "the service's default lease applies");
    }

    #[test]
    fn dispatch_lease_is_configurable_within_bounds() {
        let with = |v: &str| {
            EXAMPLE.replace("region = \"us-east-1\"", &format!("region = \"us-east-1\"\ndispatch_lease_seconds = {v}"))
        };
        assert_eq!(parse(&with("1")).unwrap().dispatch_lease_seconds, Some(1));
        assert_eq!(parse(&with("3600")).unwrap().dispatch_lease_seconds, Some(3600));
        let e = refused(&with("0"));
        assert!(e.contains("dispatch_lease_seconds 0 is outside 1..=3600"), "{e}");
        let e = refused(&with("3601"));
        assert!(e.contains("dispatch_lease_seconds 3601 is outside"), "{e}");
        let e = refused(&with("-1"));
        assert!(e.contains("dispatch_lease_seconds"), "{e}");
    }

    #[test]
    fn quotas_default_to_aws_and_are_configurable_within_bounds() {
        assert_eq!(parse(EXAMPLE).unwrap().quotas, Quotas::AWS);
        assert_eq!((Quotas::AWS.pipelines_per_account, Quotas::AWS.custom_action_types_per_account), (1000, 50));
        let with = |t: &str| format!("{EXAMPLE}\n[quotas]\n{t}\n");
        let q = parse(&with("pipelines_per_account = 3\ncustom_action_types_per_account = 0")).unwrap().quotas;
        assert_eq!(q, Quotas { pipelines_per_account: 3, custom_action_types_per_account: 0 });
        let q = parse(&with("pipelines_per_account = 5")).unwrap().quotas;
        assert_eq!(q, Quotas { pipelines_per_account: 5, ..Quotas::AWS });
        let e = refused(&with("pipelines_per_account = 100001"));
        assert!(e.contains("[quotas] pipelines_per_account 100001 is outside 0..=100000"), "{e}");
        let e = refused(&with("custom_action_types = 5"));
        assert!(e.contains("unknown field `custom_action_types`"), "{e}");
        let e = refused(&with("pipelines_per_account = -1"));
        assert!(e.contains("pipelines_per_account"), "{e}");
    }

    fn refused(text: &str) -> String {
        parse(text).expect_err("config should be refused").0
    }

    #[test]
    fn bad_configs_are_refused_with_reasons() {
        let e = refused(&EXAMPLE.replace("job_timeout_seconds = 3600", "job_timeout_seconds = 59"));
        assert!(e.contains("job_timeout_seconds 59 is outside 60..=43200"), "{e}");
        let e = refused(&EXAMPLE.replace("job_timeout_seconds = 3600", "job_timeout_seconds = 43201"));
        assert!(e.contains("outside"), "{e}");
        let e = refused(&EXAMPLE.replace("owner_account = \"222222222222\"", "owner_account = \"333333333333\""));
        assert!(e.contains("owner_account \"333333333333\" is not declared"), "{e}");
        let e = refused(&EXAMPLE.replace("provider = \"AcmeCI\"", "provider = \"AcmeCI\"\nflavour = 1"));
        assert!(e.contains("unknown field `flavour`"), "{e}");
        let e = refused(&EXAMPLE.replace("region = \"us-east-1\"", "region = \"us-east-1\"\nregion = \"eu-west-1\""));
        assert!(e.to_lowercase().contains("duplicate key"), "{e}");
        let e = refused(&EXAMPLE.replace("id = \"222222222222\"", "id = \"111111111111\""));
        assert!(e.contains("declared twice"), "{e}");
        let e = refused(&EXAMPLE.replace("AKIAPARTNER000000001", "AKIACUSTOMER00000001"));
        assert!(e.contains("access_key_id AKIACUSTOMER00000001 is declared twice"), "{e}");
        let e = refused(&EXAMPLE.replace("category = \"Build\"", "category = \"Bake\""));
        assert!(e.contains("category \"Bake\""), "{e}");
        let e = refused(&EXAMPLE.replace("id = \"111111111111\"", "id = \"1111\""));
        assert!(e.contains("12-digit"), "{e}");
        let e =
            refused(&EXAMPLE.replace("polling_accounts = [\"222222222222\"]", "polling_accounts = [\"999999999999\"]"));
        assert!(e.contains("polling account \"999999999999\""), "{e}");
        let e = refused(&format!("{EXAMPLE}\n{}", &EXAMPLE[EXAMPLE.find("[[third_party_action_type]]").unwrap()..]));
        assert!(e.contains("Build/AcmeCI/1 is declared twice"), "{e}");
    }

    #[test]
    fn limits_and_metrics_access_are_read_with_defaults() {
        let (_, s) = parse_all(EXAMPLE, Path::new(".")).unwrap();
        assert_eq!(s.limits, crate::ConnectionLimits::default());
        assert!(s.metrics.token.is_none() && s.metrics.listen.is_none());
        let text = EXAMPLE.replace(
            "region = \"us-east-1\"",
            "region = \"us-east-1\"\nmetrics_token = \"t0ken\"\nmetrics_listen = \"127.0.0.1:9100\"\n\
             [limits]\nheader_read_timeout_seconds = 2.5\nidle_timeout_seconds = 30\nbody_read_timeout_seconds = 20\n\
             body_min_bytes = 1\nwrite_timeout_seconds = 9\nmax_connections = 100\nrequest_timeout_seconds = 5\n\
             max_body_bytes = 2048\n",
        );
        // [limits] is a table: the accounts after it would land in it, so it goes last.
        let text = {
            let (head, rest) = text.split_at(text.find("[limits]").unwrap());
            let end = rest.find("[[account]]").unwrap();
            format!("{head}{}{}", &rest[end..], &rest[..end])
        };
        let (c, s) = parse_all(&text, Path::new(".")).unwrap();
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(s.limits.header_read_timeout, Duration::from_millis(2500));
        assert_eq!(s.limits.idle_timeout, Duration::from_secs(30));
        assert_eq!(s.limits.body_read_timeout, Duration::from_secs(20));
        assert_eq!(s.limits.body_min_bytes, 1);
        assert_eq!(s.limits.write_timeout, Duration::from_secs(9));
        assert_eq!(s.limits.max_connections, Some(100));
        assert_eq!(s.request_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.max_body_bytes, Some(2048));
        assert_eq!(s.metrics.token.as_deref(), Some("t0ken"));
        assert_eq!(s.metrics.listen, Some("127.0.0.1:9100".parse().unwrap()));
        let o = s.apply(crate::Options::default());
        assert_eq!((o.request_timeout, o.max_body_bytes), (Duration::from_secs(5), 2048));
        assert_eq!(o.limits.max_connections, Some(100));
    }

    #[test]
    fn bad_limits_and_metrics_settings_are_refused() {
        let with = |extra: &str| format!("{extra}\n{EXAMPLE}");
        let limits = |extra: &str| format!("{EXAMPLE}\n[limits]\n{extra}\n");
        let e = refused(&limits("header_read_timeout_seconds = 0"));
        assert!(e.contains("header_read_timeout_seconds 0 is outside"), "{e}");
        let e = refused(&limits("idle_timeout_seconds = -1"));
        assert!(e.contains("idle_timeout_seconds"), "{e}");
        let e = refused(&limits("max_connections = 0"));
        assert!(e.contains("max_connections must be at least 1"), "{e}");
        let e = refused(&limits("flavour = 1"));
        assert!(e.contains("unknown field `flavour`"), "{e}");
        let e = refused(&with("metrics_token = \"a\"\nmetrics_token_file = \"t\""));
        assert!(e.contains("exclusive"), "{e}");
        let e = refused(&with("metrics_token = \"two words\""));
        assert!(e.contains("printable ASCII"), "{e}");
        let e = refused(&with("metrics_listen = \"everywhere\""));
        assert!(e.contains("metrics_listen \"everywhere\""), "{e}");
        let e = refused(&with("metrics_token_file = \"/nonexistent/cpjobs-token\""));
        assert!(e.contains("cannot read metrics_token_file"), "{e}");
    }

    #[test]
    fn the_metrics_token_file_is_read_next_to_the_config() {
        let dir = std::env::temp_dir().join(format!("cpjobs-mt-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), "s3cret-token\n").unwrap();
        let path = dir.join("cpjobs.toml");
        std::fs::write(&path, format!("metrics_token_file = \"token\"\n{EXAMPLE}")).unwrap();
        let (_, s) = load_all(&path).unwrap();
        assert_eq!(s.metrics.token.as_deref(), Some("s3cret-token"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_store_is_sqlite_unless_a_postgres_url_is_given() {
        let (_, s) = parse_all(EXAMPLE, Path::new(".")).unwrap();
        assert_eq!(s.store, StoreSettings::default());
        let (_, s) = parse_all(&format!("store = \"sqlite\"\n{EXAMPLE}"), Path::new(".")).unwrap();
        assert_eq!(s.store.url, None);

        let dir = std::env::temp_dir().join(format!("cpjobs-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pg-password"), "pa ss\n").unwrap();
        let text = format!(
            "store = \"postgres://cpjobs@db.internal:5432/cpjobs\"\nstore_password_file = \"pg-password\"\n\
             store_max_connections = 16\nstore_ca_file = \"db-ca.pem\"\n{EXAMPLE}"
        );
        let (_, s) = parse_all(&text, &dir).unwrap();
        assert_eq!(s.store.url.as_deref(), Some("postgres://cpjobs@db.internal:5432/cpjobs"));
        assert_eq!(s.store.password.as_deref(), Some("pa ss"), "the file's line break is not the password's");
        assert_eq!(s.store.max_connections, Some(16));
        assert_eq!(s.store.ca_file, Some(dir.join("db-ca.pem")), "relative to the TOML");
        assert!(!format!("{:?}", s.store).contains("pa ss"), "the password stays out of debug output");
        std::fs::remove_dir_all(&dir).unwrap();

        let with = |extra: &str| format!("{extra}\n{EXAMPLE}");
        let e = refused(&with("store = \"mysql://u:hunter2@h/db\""));
        assert!(e.contains("neither \"sqlite\" nor") && !e.contains("hunter2"), "{e}");
        let e = refused(&with("store_password_file = \"p\""));
        assert!(e.contains("store_password_file needs store"), "{e}");
        let e = refused(&with("store = \"sqlite\"\nstore_ca_file = \"/etc/ssl/db-ca.pem\""));
        assert!(e.contains("store_ca_file needs store"), "{e}");
        let text = with("store = \"postgres://h/db\"\nstore_ca_file = \"/etc/ssl/db-ca.pem\"");
        let (_, s) = parse_all(&text, Path::new("/elsewhere")).unwrap();
        assert_eq!(s.store.ca_file.as_deref(), Some(Path::new("/etc/ssl/db-ca.pem")), "an absolute path as it is");
        let e = refused(&with("store = \"postgres://h/db\"\nstore_max_connections = 0"));
        assert!(e.contains("store_max_connections 0 is outside"), "{e}");
        let e = refused(&with("store = \"postgresql://h/db\"\nstore_password_file = \"/nonexistent/pw\""));
        assert!(e.contains("cannot read store_password_file"), "{e}");
        assert_eq!(redact_store_url("postgres://u:pw@h:1/d?x=1"), "postgres://u:***@h:1/d?x=1");
        assert_eq!(redact_store_url("postgres://u@h/d"), "postgres://u@h/d");
    }

    #[test]
    fn defaults_apply() {
        let c = parse("[[account]]\nid = \"111111111111\"\n").unwrap();
        assert_eq!(c.region, DEFAULT_REGION);
        let c = parse(&EXAMPLE.replace("job_timeout_seconds = 3600", "")).unwrap();
        assert_eq!(c.third_party_action_types[0].job_timeout_seconds, DEFAULT_JOB_TIMEOUT_SECONDS);
    }

    #[test]
    fn dev_account_is_created_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("cpjobs-dev-{}", uuid::Uuid::new_v4()));
        let first = dev_account(&dir).unwrap();
        assert!(first.created);
        let p = &first.config.accounts[0].principals[0];
        assert!(p.access_key_id.starts_with("AKIA") && p.access_key_id.len() == 20);
        assert_eq!(p.secret_access_key.len(), 40);
        let second = dev_account(&dir).unwrap();
        assert!(!second.created);
        assert_eq!(second.config, first.config);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
