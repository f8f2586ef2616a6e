//! Job-scoped temporary credentials: issued and verified without any database.
//!
//! A credential set is three strings, as AWS STS hands out:
//!
//! * the **session token** carries the grant (account, readable and writable objects),
//!   its issue time and its lifetime, followed by an HMAC-SHA256 over all of it made
//!   with the service key (`service.key` in the data directory). Nobody without the key
//!   can make or alter one.
//! * the **access key id** is `ASIA` + 16 base32 characters: 8 taken from the token's
//!   MAC (so the key id is bound to exactly one token) and 8 from an HMAC of those
//!   (so a key id that the service never issued is recognised as unknown on sight).
//! * the **secret access key** is an HMAC of the access key id; since the key id is
//!   derived from the token, the secret is a function of the token too. It is computed
//!   from the key id alone because s3s asks for a secret knowing only the key id
//!   (`S3Auth::get_secret_key`); the token is checked afterwards, against the key id.
//!
//! Every node that holds the same `service.key` verifies every credential, and a
//! restart changes nothing. The invariant: a credential verifies only if the service
//! key made it, its token is unaltered, its key id belongs to that token, and the clock
//! passed in is before its expiry.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Lifetime of job credentials, as CodePipeline hands them out.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// File name of the service key inside the data directory.
pub const SERVICE_KEY_FILE: &str = "service.key";

const KEY_LEN: usize = 32;
const TOKEN_VERSION: u8 = 1;
const MAC_LEN: usize = 32;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// One object in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
}

impl ObjectRef {
    /// An object reference.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> ObjectRef {
        ObjectRef { bucket: bucket.into(), key: key.into() }
    }

    fn is(&self, bucket: &str, key: &str) -> bool {
        self.bucket == bucket && self.key == key
    }
}

/// What one job's credentials may touch: exactly these objects, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactGrant {
    /// The account whose pipeline runs the job.
    pub account_id: String,
    /// The job the credentials were issued for: writes are allowed only while it runs
    /// (see [`crate::JobGate`]). `None` in grants not made for a job.
    pub job_id: Option<String>,
    /// Objects the job may GET and HEAD (its input artifacts).
    pub read: Vec<ObjectRef>,
    /// Objects the job may PUT, in one request or by multipart upload (its output artifacts).
    pub write: Vec<ObjectRef>,
    /// How long the credentials live (whole seconds count; [`DEFAULT_TTL`] by default).
    pub ttl: Duration,
}

impl ArtifactGrant {
    /// A grant with the default lifetime of 15 minutes.
    pub fn new(account_id: impl Into<String>, read: Vec<ObjectRef>, write: Vec<ObjectRef>) -> ArtifactGrant {
        ArtifactGrant { account_id: account_id.into(), job_id: None, read, write, ttl: DEFAULT_TTL }
    }

    /// The same grant, made for `job_id`.
    pub fn for_job(mut self, job_id: impl Into<String>) -> ArtifactGrant {
        self.job_id = Some(job_id.into());
        self
    }

    /// Whether the grant lets its holder read `bucket/key`.
    pub fn may_read(&self, bucket: &str, key: &str) -> bool {
        self.read.iter().any(|o| o.is(bucket, key))
    }

    /// Whether the grant lets its holder write `bucket/key`.
    pub fn may_write(&self, bucket: &str, key: &str) -> bool {
        self.write.iter().any(|o| o.is(bucket, key))
    }
}

/// Credentials as they go into `GetJobDetails`' `artifactCredentials`.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    /// `ASIA…`, 20 characters.
    pub access_key_id: String,
    /// 40 characters.
    pub secret_access_key: String,
    /// Opaque to clients; sent back as `x-amz-security-token`.
    pub session_token: String,
    /// When they stop working.
    pub expiration: SystemTime,
}

impl fmt::Debug for TemporaryCredentials {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Why a temporary credential was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredError {
    /// The access key id was never issued by this service (or any sharing its key).
    UnknownAccessKey,
    /// A temporary access key arrived without its session token.
    MissingToken,
    /// The token is malformed, altered, or belongs to another access key.
    InvalidToken,
    /// The token was genuine but its lifetime is over.
    ExpiredToken,
}

impl CredError {
    /// The S3 error code AWS answers with for this case.
    pub fn s3_code(&self) -> s3s::S3ErrorCode {
        match self {
            // AWS answers a key id it does not know, and an STS key id sent without
            // its token, alike.
            CredError::UnknownAccessKey | CredError::MissingToken => s3s::S3ErrorCode::InvalidAccessKeyId,
            CredError::InvalidToken => s3s::S3ErrorCode::InvalidToken,
            CredError::ExpiredToken => s3s::S3ErrorCode::ExpiredToken,
        }
    }

    /// The message AWS S3 sends with that code.
    pub fn message(&self) -> &'static str {
        match self {
            CredError::UnknownAccessKey | CredError::MissingToken => {
                "The AWS Access Key Id you provided does not exist in our records."
            }
            CredError::InvalidToken => "The provided token is malformed or otherwise invalid.",
            CredError::ExpiredToken => "The provided token has expired.",
        }
    }
}

impl fmt::Display for CredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for CredError {}

impl From<CredError> for s3s::S3Error {
    fn from(e: CredError) -> s3s::S3Error {
        s3s::S3Error::with_message(e.s3_code(), e.message())
    }
}

/// The token's signed content. Short field names keep tokens short: they travel in
/// every request header.
#[derive(Serialize, Deserialize)]
struct TokenBody {
    /// Account id.
    a: String,
    /// Job id (absent in tokens made before jobs were named in them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    j: Option<String>,
    /// Readable objects as `[bucket, key]`.
    r: Vec<(String, String)>,
    /// Writable objects as `[bucket, key]`.
    w: Vec<(String, String)>,
    /// Issue time, Unix seconds.
    i: u64,
    /// Lifetime, seconds.
    t: u64,
    /// Random nonce: two grants issued in the same second still get different keys.
    n: String,
}

/// Issues and verifies job credentials with the service key.
pub struct CredentialIssuer {
    key: [u8; KEY_LEN],
}

impl fmt::Debug for CredentialIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialIssuer").finish_non_exhaustive()
    }
}

impl CredentialIssuer {
    /// An issuer with the given key (tests, or a key shared through other means).
    pub fn from_key(key: [u8; KEY_LEN]) -> CredentialIssuer {
        CredentialIssuer { key }
    }

    /// Reads `data_dir/service.key`, creating it with fresh random bytes on first start.
    ///
    /// The key is written whole or not at all, and kept if another process wrote one
    /// first (`IfExists::Keep`): two processes starting at once agree on one key, and a
    /// crash never leaves a short key.
    pub fn load_or_create(data_dir: &Path) -> io::Result<CredentialIssuer> {
        let path = data_dir.join(SERVICE_KEY_FILE);
        if let Some(key) = read_key(&path)? {
            return Ok(CredentialIssuer { key });
        }
        crate::private::new_dir_all(data_dir)?;
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(io::Error::other)?;
        match cpjobs_private::write_private(&path, &key, cpjobs_private::IfExists::Keep) {
            Ok(()) => Ok(CredentialIssuer { key }),
            // Another process won the race: use its key.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_key(&path)?
                .map(|key| CredentialIssuer { key })
                .ok_or_else(|| io::Error::other("service key vanished")),
            Err(e) => Err(e),
        }
    }

    /// Reads a service key an operator gave (`service_key_file`): exactly 32 bytes, in
    /// a regular file that only its owner may read, as ssh wants of a private key. Every
    /// node given the same file honours the others' job credentials, sealed client
    /// tokens and console sessions. The message of an error says what to fix.
    pub fn load_shared(path: &Path) -> Result<CredentialIssuer, String> {
        use std::os::unix::fs::PermissionsExt;
        let shown = path.display();
        let meta = fs::metadata(path).map_err(|e| format!("cannot read the service key file {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("the service key file {shown} is not a regular file"));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the service key file {shown} may be read by others (mode {mode:03o}): make it private (chmod 600 {shown})"
            ));
        }
        let bytes = fs::read(path).map_err(|e| format!("cannot read the service key file {shown}: {e}"))?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            format!(
                "the service key file {shown} holds {} bytes, not {KEY_LEN} (make one with: head -c {KEY_LEN} /dev/urandom > FILE)",
                bytes.len()
            )
        })?;
        Ok(CredentialIssuer { key })
    }

    /// Issues credentials for `grant`, valid from `now` for `grant.ttl`.
    pub fn issue(&self, grant: ArtifactGrant, now: SystemTime) -> TemporaryCredentials {
        let issued = unix_secs(now);
        let ttl = grant.ttl.as_secs();
        let mut nonce = [0u8; 12];
        // Without OS randomness uniqueness of key ids degrades, not security: the MAC
        // still covers everything, so a zero nonce is an acceptable fallback.
        let _ = getrandom::fill(&mut nonce);
        let body = TokenBody {
            a: grant.account_id,
            j: grant.job_id,
            r: grant.read.into_iter().map(|o| (o.bucket, o.key)).collect(),
            w: grant.write.into_iter().map(|o| (o.bucket, o.key)).collect(),
            i: issued,
            t: ttl,
            n: hex_simd::encode_to_string(nonce, hex_simd::AsciiCase::Lower),
        };
        let mut raw = vec![TOKEN_VERSION];
        raw.extend(serde_json::to_vec(&body).expect("token body serializes"));
        let mac = self.mac(b"token", &raw);
        raw.extend_from_slice(&mac);
        let session_token = base64_simd::STANDARD.encode_to_string(&raw);
        let access_key_id = self.access_key_id_for(&mac);
        let secret_access_key = self.secret_for(&access_key_id);
        TemporaryCredentials {
            access_key_id,
            secret_access_key,
            session_token,
            expiration: UNIX_EPOCH + Duration::from_secs(issued.saturating_add(ttl)),
        }
    }

    /// Checks a temporary credential at `now`: returns its secret (for the signature
    /// check) and the grant it carries.
    pub fn verify(
        &self,
        access_key_id: &str,
        session_token: &str,
        now: SystemTime,
    ) -> Result<(String, ArtifactGrant), CredError> {
        if !self.is_issued_key(access_key_id) {
            return Err(CredError::UnknownAccessKey);
        }
        let raw = base64_simd::STANDARD.decode_to_vec(session_token.trim()).map_err(|_| CredError::InvalidToken)?;
        if raw.len() < 1 + MAC_LEN || raw[0] != TOKEN_VERSION {
            return Err(CredError::InvalidToken);
        }
        let (signed, mac) = raw.split_at(raw.len() - MAC_LEN);
        let expected = self.mac(b"token", signed);
        if !bool::from(expected.ct_eq(mac)) {
            return Err(CredError::InvalidToken);
        }
        // The token is genuine; it must also be this key id's token.
        let own_key_id = self.access_key_id_for(&expected);
        if !bool::from(own_key_id.as_bytes().ct_eq(access_key_id.as_bytes())) {
            return Err(CredError::InvalidToken);
        }
        let body: TokenBody = serde_json::from_slice(&signed[1..]).map_err(|_| CredError::InvalidToken)?;
        if unix_secs(now) >= body.i.saturating_add(body.t) {
            return Err(CredError::ExpiredToken);
        }
        let grant = ArtifactGrant {
            account_id: body.a,
            job_id: body.j,
            read: body.r.into_iter().map(|(b, k)| ObjectRef::new(b, k)).collect(),
            write: body.w.into_iter().map(|(b, k)| ObjectRef::new(b, k)).collect(),
            ttl: Duration::from_secs(body.t),
        };
        Ok((self.secret_for(access_key_id), grant))
    }

    /// A 32-byte key for another use of the service key (`purpose` names it), which
    /// never equals a key derived for another purpose, nor the service key itself.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        self.mac(b"derived-key", purpose.as_bytes())
    }

    /// Whether `access_key_id` has the shape of a temporary key (`ASIA…`), issued or not.
    pub fn is_temporary_key(access_key_id: &str) -> bool {
        access_key_id.len() == 20 && access_key_id.starts_with("ASIA")
    }

    /// The secret of a temporary key id this service issued; `None` for any other id.
    /// This alone proves nothing about the token: [`CredentialIssuer::verify`] does.
    pub fn secret_for_key_id(&self, access_key_id: &str) -> Option<String> {
        self.is_issued_key(access_key_id).then(|| self.secret_for(access_key_id))
    }

    fn is_issued_key(&self, access_key_id: &str) -> bool {
        if !Self::is_temporary_key(access_key_id) {
            return false;
        }
        let (tag, check) = access_key_id[4..].split_at(8);
        let expected = base32_8(&self.mac(b"key-id", tag.as_bytes())[..5]);
        bool::from(expected.as_bytes().ct_eq(check.as_bytes()))
    }

    fn access_key_id_for(&self, token_mac: &[u8]) -> String {
        let tag = base32_8(&token_mac[..5]);
        let check = base32_8(&self.mac(b"key-id", tag.as_bytes())[..5]);
        format!("ASIA{tag}{check}")
    }

    fn secret_for(&self, access_key_id: &str) -> String {
        let mac = self.mac(b"secret", access_key_id.as_bytes());
        // 30 bytes encode to exactly 40 characters, the length of an AWS secret key.
        base64_simd::STANDARD.encode_to_string(&mac[..30])
    }

    /// HMAC-SHA256 with a purpose label, so a MAC made for one use never passes for another.
    fn mac(&self, purpose: &[u8], data: &[u8]) -> [u8; MAC_LEN] {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(purpose);
        m.update(&[0]);
        m.update(data);
        m.finalize().into_bytes().into()
    }
}

fn read_key(path: &Path) -> io::Result<Option<[u8; KEY_LEN]>> {
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    let key: [u8; KEY_LEN] = buf.as_slice().try_into().map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{} must hold exactly {KEY_LEN} bytes", path.display()))
    })?;
    Ok(Some(key))
}

/// 5 bytes = 40 bits = 8 base32 characters.
fn base32_8(bytes: &[u8]) -> String {
    let mut v: u64 = 0;
    for b in &bytes[..5] {
        v = (v << 8) | u64::from(*b);
    }
    (0..8).rev().map(|i| BASE32[((v >> (i * 5)) & 31) as usize] as char).collect()
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) fn random_hex(bytes: usize) -> io::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(io::Error::other)?;
    Ok(hex_simd::encode_to_string(&buf, hex_simd::AsciiCase::Lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> CredentialIssuer {
        CredentialIssuer::from_key([7u8; KEY_LEN])
    }

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn grant() -> ArtifactGrant {
        ArtifactGrant::new(
            "111122223333",
            vec![ObjectRef::new("artifacts", "pipe/in/source.zip")],
            vec![ObjectRef::new("artifacts", "pipe/out/build.zip")],
        )
        .for_job("job-1")
    }

    #[test]
    fn issued_credentials_verify_and_carry_the_grant() {
        let creds = issuer().issue(grant(), t0());
        assert!(creds.access_key_id.starts_with("ASIA"));
        assert_eq!(creds.access_key_id.len(), 20);
        assert_eq!(creds.secret_access_key.len(), 40);
        assert_eq!(creds.expiration, t0() + DEFAULT_TTL);
        let (secret, g) =
            issuer().verify(&creds.access_key_id, &creds.session_token, t0() + Duration::from_secs(60)).unwrap();
        assert_eq!(secret, creds.secret_access_key);
        assert_eq!(g, grant());
        assert!(g.may_read("artifacts", "pipe/in/source.zip"));
        assert!(!g.may_read("artifacts", "pipe/out/build.zip"));
        assert!(g.may_write("artifacts", "pipe/out/build.zip"));
        assert!(!g.may_write("artifacts", "pipe/in/source.zip"));
        assert_eq!(issuer().secret_for_key_id(&creds.access_key_id).as_deref(), Some(creds.secret_access_key.as_str()));
    }

    #[test]
    fn derived_keys_depend_on_the_purpose_and_the_service_key() {
        let k = issuer().derive_key("client-tokens");
        assert_eq!(k, issuer().derive_key("client-tokens"));
        assert_ne!(k, issuer().derive_key("other"));
        assert_ne!(k, CredentialIssuer::from_key([8u8; KEY_LEN]).derive_key("client-tokens"));
        assert_ne!(k, [7u8; KEY_LEN]);
    }

    #[test]
    fn each_issue_gets_its_own_key() {
        let a = issuer().issue(grant(), t0());
        let b = issuer().issue(grant(), t0());
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret_access_key, b.secret_access_key);
    }

    #[test]
    fn expiry_is_checked_against_the_clock_passed_in() {
        let creds = issuer().issue(grant(), t0());
        let last_ok = t0() + DEFAULT_TTL - Duration::from_secs(1);
        assert!(issuer().verify(&creds.access_key_id, &creds.session_token, last_ok).is_ok());
        let err = issuer().verify(&creds.access_key_id, &creds.session_token, t0() + DEFAULT_TTL).unwrap_err();
        assert_eq!(err, CredError::ExpiredToken);
        assert_eq!(err.s3_code(), s3s::S3ErrorCode::ExpiredToken);
        let mut short = grant();
        short.ttl = Duration::from_secs(5);
        let creds = issuer().issue(short, t0());
        assert_eq!(
            issuer().verify(&creds.access_key_id, &creds.session_token, t0() + Duration::from_secs(5)),
            Err(CredError::ExpiredToken)
        );
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let creds = issuer().issue(grant(), t0());
        let mut raw = base64_simd::STANDARD.decode_to_vec(&creds.session_token).unwrap();
        // Widen the grant: replace "in" by "ou" in the readable key.
        let pos = raw.windows(7).position(|w| w == b"in/sour").unwrap();
        raw[pos..pos + 2].copy_from_slice(b"ou");
        let forged = base64_simd::STANDARD.encode_to_string(&raw);
        let err = issuer().verify(&creds.access_key_id, &forged, t0()).unwrap_err();
        assert_eq!(err, CredError::InvalidToken);
        assert_eq!(err.s3_code(), s3s::S3ErrorCode::InvalidToken);
        for bad in ["", "not base64!", "AAAA", &creds.session_token[..creds.session_token.len() - 8]] {
            assert_eq!(issuer().verify(&creds.access_key_id, bad, t0()), Err(CredError::InvalidToken), "{bad:?}");
        }
    }

    #[test]
    fn a_token_works_only_with_its_own_key_id() {
        let a = issuer().issue(grant(), t0());
        let b = issuer().issue(grant(), t0());
        assert_eq!(issuer().verify(&a.access_key_id, &b.session_token, t0()), Err(CredError::InvalidToken));
    }

    #[test]
    fn keys_from_another_service_key_are_unknown() {
        let creds = issuer().issue(grant(), t0());
        let other = CredentialIssuer::from_key([8u8; KEY_LEN]);
        let err = other.verify(&creds.access_key_id, &creds.session_token, t0()).unwrap_err();
        assert_eq!(err, CredError::UnknownAccessKey);
        assert_eq!(err.s3_code(), s3s::S3ErrorCode::InvalidAccessKeyId);
        assert_eq!(other.secret_for_key_id(&creds.access_key_id), None);
        for id in ["AKIAIOSFODNN7EXAMPLE", "ASIAAAAAAAAAAAAAAAAA", "ASIA", ""] {
            assert_eq!(issuer().verify(id, &creds.session_token, t0()), Err(CredError::UnknownAccessKey));
        }
    }

    #[test]
    fn the_service_key_is_created_once_and_survives_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = CredentialIssuer::load_or_create(dir.path()).unwrap();
        let creds = first.issue(grant(), t0());
        let key = fs::read(dir.path().join(SERVICE_KEY_FILE)).unwrap();
        assert_eq!(key.len(), KEY_LEN);
        let again = CredentialIssuer::load_or_create(dir.path()).unwrap();
        assert!(again.verify(&creds.access_key_id, &creds.session_token, t0()).is_ok());
        assert_eq!(fs::read(dir.path().join(SERVICE_KEY_FILE)).unwrap(), key);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        fs::write(dir.path().join(SERVICE_KEY_FILE), b"short").unwrap();
        assert!(CredentialIssuer::load_or_create(dir.path()).is_err());
    }

    #[test]
    fn a_shared_service_key_must_be_private_and_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.key");
        let missing = CredentialIssuer::load_shared(&path).unwrap_err();
        assert!(missing.contains("cannot read the service key file"), "{missing}");
        fs::write(&path, [9u8; KEY_LEN]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let open = CredentialIssuer::load_shared(&path).unwrap_err();
        assert!(open.contains("may be read by others (mode 640)") && open.contains("chmod 600"), "{open}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        // Two nodes with the same file honour each other's credentials.
        let a = CredentialIssuer::load_shared(&path).unwrap();
        let b = CredentialIssuer::load_shared(&path).unwrap();
        let creds = a.issue(grant(), t0());
        assert!(b.verify(&creds.access_key_id, &creds.session_token, t0()).is_ok());
        assert_eq!(a.derive_key("client-tokens"), b.derive_key("client-tokens"));
        fs::write(&path, b"short").unwrap();
        let short = CredentialIssuer::load_shared(&path).unwrap_err();
        assert!(short.contains("holds 5 bytes, not 32"), "{short}");
        let dir_err = CredentialIssuer::load_shared(dir.path()).unwrap_err();
        assert!(dir_err.contains("not a regular file"), "{dir_err}");
    }
}
