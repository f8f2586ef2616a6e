//! AWS Signature Version 4 for one JSON 1.1 request, through `aws-sigv4`,
//! set up to match botocore's `SigV4Auth`: signed headers exactly
//! `content-type;host;x-amz-date;x-amz-target` (plus `x-amz-security-token`
//! with a session token), payload hash of the body but no
//! `x-amz-content-sha256` header, the canonical URI encoded twice
//! (`%20` -> `%2520`) after dot segments are removed.
//!
//! Known difference: botocore copies the endpoint's query string into the
//! canonical request as written, while `aws-sigv4` decodes and re-encodes it;
//! they agree unless an `--endpoint-url` query holds `+` or unusual escapes.

use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign as sigv4_sign,
};
use aws_sigv4::sign::v4;

use crate::config::Credentials;

/// What one signature covers.
pub struct SignInput<'a> {
    /// The request URL (scheme, host, path, query).
    pub url: &'a str,
    /// The `Host` header value.
    pub host: &'a str,
    /// The other headers to sign besides `host` (`content-type`, `x-amz-target`), lowercase names.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
    /// Signing region.
    pub region: &'a str,
    /// Signing name (`codepipeline`).
    pub service: &'a str,
    /// Who signs.
    pub credentials: &'a Credentials,
    /// Signing time.
    pub time: SystemTime,
}

/// `YYYYMMDDTHHMMSSZ` for Unix seconds.
pub fn amz_date(secs: i64) -> String {
    let (y, m, d) = crate::debug::civil_from_days(secs.div_euclid(86_400));
    let r = secs.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", r / 3600, r % 3600 / 60, r % 60)
}

/// Returns the headers botocore adds when signing, in its order:
/// `X-Amz-Date`, `X-Amz-Security-Token` (with a session token), `Authorization`.
pub fn sign(input: &SignInput<'_>) -> Result<Vec<(String, String)>, String> {
    let identity = aws_credential_types::Credentials::new(
        input.credentials.access_key.clone(),
        input.credentials.secret_key.clone(),
        input.credentials.token.clone(),
        None,
        "cpjobs",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    settings.signature_location = SignatureLocation::Headers;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    settings.session_token_mode = SessionTokenMode::Include;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(input.region)
        .name(input.service)
        .time(input.time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    // Only these headers are signed, as in botocore (User-Agent and amz-sdk-* are added after signing).
    let headers = std::iter::once(("host", input.host)).chain(input.headers.iter().copied());
    let request =
        SignableRequest::new("POST", input.url, headers, SignableBody::Bytes(input.body)).map_err(|e| e.to_string())?;
    let (instructions, _signature) = sigv4_sign(request, &params).map_err(|e| e.to_string())?.into_parts();
    let (out_headers, _params) = instructions.into_parts();
    let find =
        |name: &str| out_headers.iter().find(|h| h.name().eq_ignore_ascii_case(name)).map(|h| h.value().to_owned());
    let mut result = Vec::new();
    result.push(("X-Amz-Date".to_owned(), find("x-amz-date").ok_or("no x-amz-date from signer")?));
    if let Some(token) = find("x-amz-security-token") {
        result.push(("X-Amz-Security-Token".to_owned(), token));
    }
    result.push(("Authorization".to_owned(), find("authorization").ok_or("no authorization from signer")?));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    /// An independent botocore-style SigV4 (auth.py), for checking our signer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn botocore_signature(
        method: &str,
        canonical_uri: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        amz_date: &str,
        region: &str,
        service: &str,
        secret: &str,
    ) -> String {
        let mut sorted: Vec<(String, String)> =
            headers.iter().map(|(k, v)| (k.to_lowercase(), v.trim().to_owned())).collect();
        sorted.sort();
        let canonical_headers: String = sorted.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = sorted.iter().map(|(k, _)| k.as_str()).collect();
        let cr = format!(
            "{method}\n{canonical_uri}\n{query}\n{canonical_headers}\n{}\n{}",
            signed.join(";"),
            hex(&Sha256::digest(body))
        );
        let scope = format!("{}/{region}/{service}/aws4_request", &amz_date[..8]);
        let sts = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(cr.as_bytes())));
        let mac = |key: &[u8], msg: &str| {
            let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
            m.update(msg.as_bytes());
            m.finalize().into_bytes().to_vec()
        };
        let k = mac(format!("AWS4{secret}").as_bytes(), &amz_date[..8]);
        let k = mac(&k, region);
        let k = mac(&k, service);
        let k = mac(&k, "aws4_request");
        hex(&mac(&k, &sts))
    }

    pub(crate) fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            token: token.map(str::to_owned),
            method: "env",
        }
    }

    fn check(url: &str, canonical_uri: &str, query: &str, token: Option<&str>) {
        let c = creds(token);
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_974_867);
        let body = br#"{"actionTypeId": {"category": "Build"}}"#;
        let out = sign(&SignInput {
            url,
            host: "127.0.0.1:18765",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "CodePipeline_20150709.PollForThirdPartyJobs"),
            ],
            body,
            region: "us-east-1",
            service: "codepipeline",
            credentials: &c,
            time,
        })
        .unwrap();
        let date = "20261129T175427Z";
        assert_eq!(out[0], ("X-Amz-Date".to_owned(), date.to_owned()));
        let mut headers = vec![
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Host", "127.0.0.1:18765"),
            ("X-Amz-Date", date),
            ("X-Amz-Target", "CodePipeline_20150709.PollForThirdPartyJobs"),
        ];
        let signed_names = if let Some(t) = token {
            assert_eq!(out[1], ("X-Amz-Security-Token".to_owned(), t.to_owned()));
            headers.push(("X-Amz-Security-Token", t));
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        } else {
            "content-type;host;x-amz-date;x-amz-target"
        };
        let expected_sig = botocore_signature(
            "POST",
            canonical_uri,
            query,
            &headers,
            body,
            date,
            "us-east-1",
            "codepipeline",
            &c.secret_key,
        );
        let auth = &out.last().unwrap().1;
        assert_eq!(
            auth,
            &format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/codepipeline/aws4_request, SignedHeaders={signed_names}, Signature={expected_sig}"
            )
        );
    }

    #[test]
    fn matches_botocore() {
        check("http://127.0.0.1:18765/", "/", "", None);
        check("http://127.0.0.1:18765/base/path", "/base/path", "", None);
        check("http://127.0.0.1:18765/", "/", "", Some("FAKESESSIONTOKEN//abc=="));
    }

    #[test]
    fn path_is_encoded_twice_and_query_sorted() {
        check("http://127.0.0.1:18765/a%20b/./c/../d", "/a%2520b/d", "", None);
        check("http://127.0.0.1:18765/q?x=1&a=b%20c", "/q", "a=b%20c&x=1", None);
    }

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_795_974_867), "20261129T175427Z");
    }
}
