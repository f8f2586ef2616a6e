//! AWS Signature Version 4 verification of incoming requests
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>).
//!
//! The service never trusts a signature it did not compute: it re-signs the
//! request with the caller's secret, using exactly the headers the request says
//! it signed (`SignedHeaders`), its own `X-Amz-Date` and the buffered body, and
//! compares the two signatures in constant time. The refusals carry AWS's own
//! error names and wording, so real clients report them as they would AWS's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SessionTokenMode, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use cpjobs_core::{ApiError, Caller, ServiceConfig};
use http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::amzdate;

/// The signing name of the service in credential scopes.
pub const SERVICE_NAME: &str = "codepipeline";

/// How far a request's `X-Amz-Date` may be from the service's clock (AWS: 15 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// A temporary credential the service issued (for example a job's artifact
/// credentials): usable only together with its session token, until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryCredential {
    /// The account the credential acts for.
    pub account_id: String,
    /// Its secret access key.
    pub secret_access_key: String,
    /// The session token a request must carry in `X-Amz-Security-Token`.
    pub session_token: String,
    /// When it stops working.
    pub expires: SystemTime,
}

/// Where the verifier looks up temporary credentials by access key id.
/// The domain implements it for the credentials it hands to jobs.
pub trait TemporaryCredentials: Send + Sync + 'static {
    /// The temporary credential with this access key id, if one was issued.
    fn lookup(&self, access_key_id: &str) -> Option<TemporaryCredential>;
}

/// Verifies requests against the configured principals and, for requests with
/// a session token, against the temporary credentials hook.
#[derive(Clone)]
pub struct Verifier {
    region: String,
    /// Always `codepipeline` in the service; AWS's published test vectors use `service`.
    service: &'static str,
    principals: Arc<HashMap<String, (String, String)>>,
    temporary: Option<Arc<dyn TemporaryCredentials>>,
}

/// The parts of a request the signature covers.
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path and query exactly as received.
    pub path_and_query: &'a str,
    /// All request headers.
    pub headers: &'a HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

fn incomplete(message: String) -> ApiError {
    ApiError::client("IncompleteSignatureException", message)
}

fn invalid_signature(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidSignatureException", message)
}

fn signature_mismatch() -> ApiError {
    invalid_signature(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

fn unrecognized() -> ApiError {
    ApiError::client("UnrecognizedClientException", "The security token included in the request is invalid.")
}

/// The three parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct AuthHeader<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<AuthHeader<'_>, ApiError> {
    let Some(rest) = value.strip_prefix("AWS4-HMAC-SHA256") else {
        let algorithm = value.split_whitespace().next().unwrap_or_default();
        return Err(incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    // AWS lists every missing parameter, then echoes the header.
    let mut missing = String::new();
    for (name, v) in [("Credential", credential), ("Signature", signature), ("SignedHeaders", signed_headers)] {
        if v.is_none_or(str::is_empty) {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={value}")));
    }
    Ok(AuthHeader {
        credential: credential.unwrap_or_default(),
        signed_headers: signed_headers.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Verifier {
    /// A verifier for the principals of `config`, answering for `config.region`.
    pub fn new(config: &ServiceConfig, temporary: Option<Arc<dyn TemporaryCredentials>>) -> Verifier {
        let mut principals = HashMap::new();
        for account in &config.accounts {
            for p in &account.principals {
                principals.insert(p.access_key_id.clone(), (account.id.clone(), p.secret_access_key.clone()));
            }
        }
        Verifier { region: config.region.clone(), service: SERVICE_NAME, principals: Arc::new(principals), temporary }
    }

    /// Checks the request's signature at time `now`; the caller it identifies, or AWS's refusal.
    pub fn verify(&self, req: &SignedRequest<'_>, now: SystemTime) -> Result<Caller, ApiError> {
        let Some(auth) = req.headers.get(http::header::AUTHORIZATION) else {
            return Err(ApiError::client("MissingAuthenticationTokenException", "Missing Authentication Token"));
        };
        let auth_value = auth.to_str().map_err(|_| incomplete("Authorization header is not ASCII".into()))?;
        let auth = parse_authorization(auth_value)?;

        let Some(date_value) = header_str(req.headers, "x-amz-date") else {
            return Err(incomplete(format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth_value}"
            )));
        };
        let Some(date) = amzdate::parse(date_value) else {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date_value}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        };
        check_skew(date, now)?;

        // Credential=AKID/20261129/us-east-1/codepipeline/aws4_request
        let scope: Vec<&str> = auth.credential.split('/').collect();
        let [access_key_id, scope_date, region, service, terminator] = scope[..] else {
            return Err(incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                auth.credential
            )));
        };
        if terminator != "aws4_request" {
            return Err(invalid_signature(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            )));
        }
        if service != self.service {
            return Err(invalid_signature(format!(
                "Credential should be scoped to correct service: '{}'. ",
                self.service
            )));
        }
        if region != self.region {
            return Err(invalid_signature(format!(
                "Credential should be scoped to a valid region, not '{region}'. This service answers for '{}'. ",
                self.region
            )));
        }
        if scope_date != &date_value[..8] {
            return Err(invalid_signature(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{date_value}'.",
                &date_value[..8]
            )));
        }

        let token = header_str(req.headers, "x-amz-security-token");
        let (account_id, secret) = match token {
            None => match self.principals.get(access_key_id) {
                Some((account, secret)) => (account.clone(), secret.clone()),
                None => return Err(unrecognized()),
            },
            Some(token) => {
                let Some(cred) = self.temporary.as_ref().and_then(|t| t.lookup(access_key_id)) else {
                    return Err(unrecognized());
                };
                if !bool::from(cred.session_token.as_bytes().ct_eq(token.as_bytes())) {
                    return Err(unrecognized());
                }
                if now >= cred.expires {
                    return Err(ApiError::client(
                        "ExpiredTokenException",
                        "The security token included in the request is expired",
                    ));
                }
                (cred.account_id, cred.secret_access_key)
            }
        };

        let expected = self.compute_signature(req, &auth, access_key_id, &secret, token, date)?;
        if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            return Err(signature_mismatch());
        }
        Ok(Caller { account_id, access_key_id: access_key_id.to_owned() })
    }

    fn compute_signature(
        &self,
        req: &SignedRequest<'_>,
        auth: &AuthHeader<'_>,
        access_key_id: &str,
        secret: &str,
        token: Option<&str>,
        date: SystemTime,
    ) -> Result<String, ApiError> {
        let signed: Vec<&str> = auth.signed_headers.split(';').collect();
        // The signer canonicalizes what it is given; make sure that is exactly
        // what the client declared: lowercase names, each once, each present.
        let mut seen = std::collections::HashSet::new();
        for name in &signed {
            let well_formed = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.!#$%&'*+^`|~".contains(&b));
            if !well_formed || !seen.insert(*name) || !req.headers.contains_key(*name) {
                return Err(signature_mismatch());
            }
        }
        if !seen.contains("host") {
            return Err(invalid_signature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."));
        }
        // The signer adds x-amz-date (from `time`) and the session token itself;
        // every other signed header is handed over with all its values.
        let mut headers = Vec::new();
        for name in &signed {
            if *name == "x-amz-date" || *name == "x-amz-security-token" {
                continue;
            }
            for value in req.headers.get_all(*name) {
                let value = value.to_str().map_err(|_| invalid_signature("A signed header is not ASCII."))?;
                headers.push((*name, value));
            }
        }
        let host = header_str(req.headers, "host").unwrap_or("localhost");
        let uri = format!("http://{host}{}", req.path_and_query);
        let mut settings = SigningSettings::default();
        settings.excluded_headers = None;
        settings.session_token_mode = if signed.contains(&"x-amz-security-token") {
            SessionTokenMode::Include
        } else {
            SessionTokenMode::Exclude
        };
        let identity =
            Credentials::new(access_key_id, secret, token.map(str::to_owned), None, "cpjobs-verifier").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(date)
            .settings(settings)
            .build()
            .map_err(|_| ApiError::internal("signing parameters"))?
            .into();
        let signable = SignableRequest::new(req.method, uri, headers.into_iter(), SignableBody::Bytes(req.body))
            .map_err(|_| invalid_signature("The request cannot be canonicalized for signing."))?;
        let out = sign(signable, &params)
            .map_err(|_| invalid_signature("The request cannot be canonicalized for signing."))?;
        Ok(out.signature().to_owned())
    }
}

/// AWS refuses a request dated more than 15 minutes before or after its clock,
/// with these exact messages.
fn check_skew(date: SystemTime, now: SystemTime) -> Result<(), ApiError> {
    if date + MAX_CLOCK_SKEW < now {
        return Err(invalid_signature(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            amzdate::format(date),
            amzdate::format(now - MAX_CLOCK_SKEW),
            amzdate::format(now)
        )));
    }
    if date > now + MAX_CLOCK_SKEW {
        return Err(invalid_signature(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            amzdate::format(date),
            amzdate::format(now + MAX_CLOCK_SKEW),
            amzdate::format(now)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! AWS's published SigV4 test vectors (the aws-signing-test-suite `v4`
    //! cases for POST, as shipped with aws-sigv4): the verifier must accept
    //! exactly the signatures AWS computed, and refuse them once altered.

    use super::*;
    use cpjobs_core::config::{Account, Principal};

    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    struct StsToken;
    impl TemporaryCredentials for StsToken {
        fn lookup(&self, access_key_id: &str) -> Option<TemporaryCredential> {
            (access_key_id == KEY).then(|| TemporaryCredential {
                account_id: "123456789012".into(),
                secret_access_key: SECRET.into(),
                session_token: TOKEN.into(),
                expires: amzdate::parse("20150830T133600Z").unwrap(),
            })
        }
    }

    fn verifier() -> Verifier {
        let config = ServiceConfig {
            region: "us-east-1".into(),
            accounts: vec![Account {
                id: "123456789012".into(),
                principals: vec![Principal { access_key_id: KEY.into(), secret_access_key: SECRET.into() }],
            }],
            third_party_action_types: vec![],
            dispatch_lease_seconds: None,
        };
        Verifier { service: "service", ..Verifier::new(&config, Some(Arc::new(StsToken))) }
    }

    /// Verifies a `header-signed-request.txt` as the suite writes it.
    fn verify_vector(text: &str) -> Result<Caller, ApiError> {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut headers = HeaderMap::new();
        for line in head.lines().skip(1) {
            let (k, v) = line.split_once(':').unwrap();
            headers.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let now = amzdate::parse("20150830T123600Z").unwrap();
        let req = SignedRequest { method: "POST", path_and_query: "/", headers: &headers, body: body.as_bytes() };
        verifier().verify(&req, now)
    }

    const AUTH: &str = "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    #[test]
    fn post_vanilla() {
        let v = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH}, SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        assert_eq!(verify_vector(&v).unwrap().account_id, "123456789012");
        let altered = v.replace("5da7c1a2", "5da7c1a3");
        assert_eq!(verify_vector(&altered).unwrap_err().code, "InvalidSignatureException");
        let other_host = v.replace("Host:example.amazonaws.com", "Host:example.com");
        assert_eq!(verify_vector(&other_host).unwrap_err().code, "InvalidSignatureException");
    }

    #[test]
    fn post_x_www_form_urlencoded_with_a_body() {
        let v = format!(
            "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\n\
             X-Amz-Date:20150830T123600Z\n\
             x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n\
             {AUTH}, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, \
             Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n\nParam1=value1"
        );
        assert!(verify_vector(&v).is_ok(), "{:?}", verify_vector(&v));
        let tampered = v.replace("Param1=value1", "Param1=value2");
        assert_eq!(verify_vector(&tampered).unwrap_err().code, "InvalidSignatureException");
    }

    #[test]
    fn post_sts_token_signed_and_unsigned() {
        let before = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Security-Token:{TOKEN}\nX-Amz-Date:20150830T123600Z\n\
             {AUTH}, SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
        assert!(verify_vector(&before).is_ok(), "{:?}", verify_vector(&before));
        // The token sent but left out of SignedHeaders (post-sts-header-after).
        let after = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Security-Token:{TOKEN}\nX-Amz-Date:20150830T123600Z\n\
             {AUTH}, SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        assert!(verify_vector(&after).is_ok(), "{:?}", verify_vector(&after));
        let wrong_token = before.replace("EXAMPLEtc764", "EXAMPLEtc765");
        assert_eq!(verify_vector(&wrong_token).unwrap_err().code, "UnrecognizedClientException");
    }

    #[test]
    fn scope_and_header_refusals() {
        let v = format!(
            "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n{AUTH}, SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        let e = verify_vector(&v.replace("/20150830/", "/20150831/")).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        assert!(e.message.starts_with("Date in Credential scope does not match YYYYMMDD"), "{}", e.message);
        let e = verify_vector(&v.replace("/service/", "/s3/")).unwrap_err();
        assert_eq!(e.message, "Credential should be scoped to correct service: 'service'. ");
        let e = verify_vector(&v.replace("X-Amz-Date:20150830T123600Z\n", "")).unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
        assert!(
            e.message
                .starts_with("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        );
        let e = verify_vector(&v.replace("AWS4-HMAC-SHA256 Credential", "AWS4-HMAC-SHA512 Credential")).unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
        // Hostile SignedHeaders are refused, never a panic.
        for signed in
            ["host;;x-amz-date", "HOST;X-AMZ-DATE", "host;bad header;x-amz-date", "host;x-amz-date;absent", ";"]
        {
            let e = verify_vector(&v.replace("SignedHeaders=host;x-amz-date", &format!("SignedHeaders={signed}")));
            assert_eq!(e.unwrap_err().code, "InvalidSignatureException", "{signed}");
        }
        let e = verify_vector(
            &v.replace("AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "AKIDEXAMPLE/20150830/us-east-1"),
        )
        .unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
    }
}
