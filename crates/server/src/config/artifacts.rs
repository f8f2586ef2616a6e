//! `[artifacts]` and `service_key_file`: where a node keeps artifacts, and the key
//! it shares with the other nodes. Read here, opened by the binary.
//!
//! Invariant: an `s3` backend that leaves this module names an http(s) endpoint, a
//! region and a bucket, and either both explicit keys or neither (the AWS default
//! chain); a disk backend carries no S3 setting at all.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// `[artifacts]` as written.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArtifacts {
    backend: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    bucket: Option<String>,
    prefix: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    secret_access_key_file: Option<PathBuf>,
    request_timeout_seconds: Option<f64>,
}

/// Where the artifacts are kept.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub enum ArtifactBackendSettings {
    /// `backend = "disk"` (the default): `<data dir>/artifacts`, one node only.
    #[default]
    Disk,
    /// `backend = "s3"`: an S3-compatible store every node shares.
    S3(S3Settings),
}

/// `[artifacts] backend = "s3"`.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `endpoint`: `http(s)://host[:port]`.
    pub endpoint: String,
    /// `region`, the one requests are signed for.
    pub region: String,
    /// `bucket`, which must exist.
    pub bucket: String,
    /// `prefix` under the bucket (empty: its root).
    pub prefix: String,
    /// `access_key_id` and `secret_access_key` (or `_file`); `None`: the AWS default
    /// chain from the environment.
    pub credentials: Option<(String, String)>,
    /// `request_timeout_seconds`: how long one request to the store may take.
    pub request_timeout: Option<Duration>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("credentials", &self.credentials.as_ref().map(|(id, _)| (id, "***")))
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

fn relative(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_owned() } else { base.join(p) }
}

/// Reads `[artifacts]`; relative files are read from `base` (the config's directory).
pub(super) fn artifact_settings(raw: &RawArtifacts, base: &Path) -> Result<ArtifactBackendSettings, ConfigError> {
    let err = |m: String| ConfigError(format!("[artifacts] {m}"));
    match raw.backend.as_deref().unwrap_or("disk") {
        "disk" => {
            let stray = [
                ("endpoint", raw.endpoint.is_some()),
                ("region", raw.region.is_some()),
                ("bucket", raw.bucket.is_some()),
                ("prefix", raw.prefix.is_some()),
                ("access_key_id", raw.access_key_id.is_some()),
                ("secret_access_key", raw.secret_access_key.is_some()),
                ("secret_access_key_file", raw.secret_access_key_file.is_some()),
                ("request_timeout_seconds", raw.request_timeout_seconds.is_some()),
            ];
            match stray.iter().find(|(_, set)| *set) {
                Some((name, _)) => Err(err(format!("{name} needs backend = \"s3\""))),
                None => Ok(ArtifactBackendSettings::Disk),
            }
        }
        "s3" => {
            let endpoint = raw.endpoint.clone().ok_or_else(|| err("backend = \"s3\" needs an endpoint".into()))?;
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(err(format!(
                    "endpoint {endpoint:?} is not a URL such as https://s3.eu-west-1.amazonaws.com"
                )));
            }
            let region = raw.region.clone().ok_or_else(|| err("backend = \"s3\" needs a region".into()))?;
            let bucket = raw.bucket.clone().ok_or_else(|| err("backend = \"s3\" needs a bucket".into()))?;
            if bucket.is_empty() || bucket.contains('/') {
                return Err(err(format!("bucket {bucket:?} is not a bucket name")));
            }
            let secret = match (&raw.secret_access_key, &raw.secret_access_key_file) {
                (Some(_), Some(_)) => {
                    return Err(err("secret_access_key and secret_access_key_file are exclusive: set one".into()));
                }
                (Some(s), None) => Some(s.clone()),
                (None, Some(f)) => {
                    let path = relative(base, f);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| err(format!("cannot read secret_access_key_file {}: {e}", path.display())))?;
                    Some(text.trim().to_owned())
                }
                (None, None) => None,
            };
            let credentials = match (&raw.access_key_id, secret) {
                (Some(id), Some(secret)) => Some((id.clone(), secret)),
                (None, None) => None,
                (Some(_), None) => return Err(err("access_key_id needs secret_access_key (or its _file)".into())),
                (None, Some(_)) => return Err(err("secret_access_key needs access_key_id".into())),
            };
            let request_timeout = match raw.request_timeout_seconds {
                Some(s) if !(1.0..=3600.0).contains(&s) => {
                    return Err(err(format!("request_timeout_seconds {s} is outside [1, 3600]")));
                }
                Some(s) => Some(Duration::from_secs_f64(s)),
                None => None,
            };
            Ok(ArtifactBackendSettings::S3(S3Settings {
                endpoint,
                region,
                bucket,
                prefix: raw.prefix.clone().unwrap_or_default().trim_matches('/').to_owned(),
                credentials,
                request_timeout,
            }))
        }
        other => Err(err(format!("backend {other:?} is neither \"disk\" nor \"s3\""))),
    }
}

/// `service_key_file`, resolved against `base`.
pub(super) fn service_key_file(raw: Option<&PathBuf>, base: &Path) -> Option<PathBuf> {
    raw.map(|p| relative(base, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_all;

    const ACCOUNT: &str = "[[account]]\nid = \"111111111111\"\n";

    fn settings(top: &str, artifacts: &str, base: &Path) -> Result<crate::config::ServerSettings, String> {
        parse_all(&format!("{top}\n{ACCOUNT}\n[artifacts]\n{artifacts}\n"), base).map(|(_, s)| s).map_err(|e| e.0)
    }

    #[test]
    fn artifacts_stay_on_disk_unless_an_s3_store_is_named() {
        let (_, s) = parse_all(ACCOUNT, Path::new(".")).unwrap();
        assert_eq!((s.artifacts, s.service_key_file), (ArtifactBackendSettings::Disk, None));
        let s = settings("", "backend = \"disk\"", Path::new(".")).unwrap();
        assert_eq!(s.artifacts, ArtifactBackendSettings::Disk);

        let dir = std::env::temp_dir().join(format!("cpjobs-artifacts-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("s3-secret"), "s3cr3t\n").unwrap();
        let s = settings(
            "service_key_file = \"keys/service.key\"",
            "backend = \"s3\"\nendpoint = \"http://minio:9000\"\nregion = \"eu-west-1\"\nbucket = \"cpjobs\"\n\
             prefix = \"/prod/\"\naccess_key_id = \"AKIDMINIO\"\nsecret_access_key_file = \"s3-secret\"\n\
             request_timeout_seconds = 10",
            &dir,
        )
        .unwrap();
        assert_eq!(s.service_key_file, Some(dir.join("keys/service.key")));
        let ArtifactBackendSettings::S3(s3) = s.artifacts else { panic!("s3") };
        assert_eq!(
            (s3.endpoint.as_str(), s3.region.as_str(), s3.bucket.as_str()),
            ("http://minio:9000", "eu-west-1", "cpjobs")
        );
        assert_eq!(s3.prefix, "prod");
        assert_eq!(s3.credentials, Some(("AKIDMINIO".into(), "s3cr3t".into())));
        assert_eq!(s3.request_timeout, Some(Duration::from_secs(10)));
        assert!(!format!("{s3:?}").contains("s3cr3t"), "the secret stays out of debug output");
        // No keys: the AWS default chain.
        let s = settings(
            "",
            "backend = \"s3\"\nendpoint = \"https://s3.amazonaws.com\"\nregion = \"us-east-1\"\nbucket = \"b\"",
            &dir,
        )
        .unwrap();
        assert!(matches!(s.artifacts, ArtifactBackendSettings::S3(S3Settings { credentials: None, .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_artifact_settings_are_refused_with_reasons() {
        let base = Path::new("/nonexistent");
        let s3 = "backend = \"s3\"\nendpoint = \"http://h:9000\"\nregion = \"r\"\nbucket = \"b\"";
        for (artifacts, expected) in [
            ("backend = \"gcs\"", "backend \"gcs\" is neither \"disk\" nor \"s3\""),
            ("bucket = \"b\"", "bucket needs backend = \"s3\""),
            ("backend = \"s3\"\nregion = \"r\"\nbucket = \"b\"", "needs an endpoint"),
            ("backend = \"s3\"\nendpoint = \"h:9000\"\nregion = \"r\"\nbucket = \"b\"", "is not a URL"),
            ("backend = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"", "needs a region"),
            ("backend = \"s3\"\nendpoint = \"http://h\"\nregion = \"r\"", "needs a bucket"),
            (&format!("{s3}\naccess_key_id = \"A\""), "access_key_id needs secret_access_key"),
            (&format!("{s3}\nsecret_access_key = \"S\""), "secret_access_key needs access_key_id"),
            (&format!("{s3}\nsecret_access_key = \"S\"\nsecret_access_key_file = \"f\""), "exclusive"),
            (
                &format!("{s3}\naccess_key_id = \"A\"\nsecret_access_key_file = \"f\""),
                "cannot read secret_access_key_file",
            ),
            (&format!("{s3}\nrequest_timeout_seconds = 0"), "request_timeout_seconds 0 is outside"),
            ("backend = \"disk\"\ncolour = \"red\"", "unknown field `colour`"),
        ] {
            let Err(e) = settings("", artifacts, base) else { panic!("{artifacts} should be refused") };
            assert!(e.contains(expected), "{artifacts}: {e}");
        }
    }
}
