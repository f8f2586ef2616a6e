//! What a SigV4 signature is scoped to, checked before s3s verifies it, as S3 does.
//!
//! s3s verifies a signature with whatever region and service its credential scope
//! names (it takes `sts` as well as `s3`), and accepts presigned URLs of any lifetime.
//! S3 refuses all three before looking at the signature:
//!
//! * a scope of another region: `AuthorizationHeaderMalformed` (header) or
//!   `AuthorizationQueryParametersError` (presigned URL), naming the expected region;
//! * a scope of another service than `s3`: the same codes, naming the service;
//! * `X-Amz-Expires` over 604800 s (7 days), or not a number:
//!   `AuthorizationQueryParametersError`.
//!
//! Anything this module cannot parse is left to s3s, which refuses malformed
//! authorization with its own errors.

use http::{HeaderMap, Uri};
use s3s::{S3Error, S3ErrorCode};

use crate::access::{percent_decode, query_param};

/// The longest lifetime S3 accepts for a SigV4 presigned URL (7 days).
pub const MAX_PRESIGNED_EXPIRES_SECS: u64 = 604_800;

/// Checks the credential scope (and a presigned URL's lifetime) of a SigV4 request
/// against the endpoint's `region`; SigV2 and unsigned requests pass unchecked.
pub(crate) fn check(headers: &HeaderMap, uri: &Uri, region: &str) -> Result<(), S3Error> {
    if let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256")
    {
        let Some(credential) = header_credential(rest) else { return Ok(()) };
        return check_scope(credential, region).map_err(|problem| {
            S3Error::with_message(
                S3ErrorCode::AuthorizationHeaderMalformed,
                format!("The authorization header is malformed; {problem}"),
            )
        });
    }
    // Any of its parameters makes a presigned URL (s3s refuses incomplete ones itself).
    let presigned = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Expires"]
        .iter()
        .any(|p| query_param(uri, p).is_some());
    if !presigned {
        return Ok(());
    }
    let query_error = |message: String| S3Error::with_message(S3ErrorCode::AuthorizationQueryParametersError, message);
    if let Some(credential) = query_param(uri, "X-Amz-Credential").and_then(percent_decode) {
        check_scope(&credential, region)
            .map_err(|problem| query_error(format!("Error parsing the X-Amz-Credential parameter; {problem}")))?;
    }
    if let Some(expires) = query_param(uri, "X-Amz-Expires") {
        match expires.parse::<u64>() {
            Ok(secs) if secs <= MAX_PRESIGNED_EXPIRES_SECS => {}
            Ok(_) => {
                return Err(query_error(format!(
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be \
                     less than {MAX_PRESIGNED_EXPIRES_SECS} seconds"
                )));
            }
            Err(_) => return Err(query_error("X-Amz-Expires should be a number".to_owned())),
        }
    }
    Ok(())
}

/// The `Credential=` value of a SigV4 `Authorization` header (after the algorithm).
fn header_credential(params: &str) -> Option<&str> {
    params.split(',').map(str::trim).find_map(|p| p.strip_prefix("Credential="))
}

/// `AKID/date/region/service/aws4_request`: the region and service must be ours.
/// Other shapes are s3s's to refuse.
fn check_scope(credential: &str, region: &str) -> Result<(), String> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [_, _, scope_region, service, _] = parts.as_slice() else { return Ok(()) };
    if *scope_region != region {
        return Err(format!("the region '{scope_region}' is wrong; expecting '{region}'"));
    }
    if *service != "s3" {
        return Err(format!("incorrect service \"{service}\". This endpoint belongs to \"s3\"."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(credential: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=00");
        h.insert(http::header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    fn code(r: Result<(), S3Error>) -> Option<S3ErrorCode> {
        r.err().map(|e| e.code().clone())
    }

    #[test]
    fn header_scopes_must_name_our_region_and_s3() {
        let uri: Uri = "/b/k".parse().unwrap();
        assert_eq!(code(check(&header("AK/20261203/us-east-1/s3/aws4_request"), &uri, "us-east-1")), None);
        let wrong_region = check(&header("AK/20261203/mars-1/s3/aws4_request"), &uri, "us-east-1").unwrap_err();
        assert_eq!(wrong_region.code(), &S3ErrorCode::AuthorizationHeaderMalformed);
        assert!(wrong_region.message().unwrap().contains("'mars-1' is wrong; expecting 'us-east-1'"));
        let sts = check(&header("AK/20261203/us-east-1/sts/aws4_request"), &uri, "us-east-1").unwrap_err();
        assert_eq!(sts.code(), &S3ErrorCode::AuthorizationHeaderMalformed);
        assert!(sts.message().unwrap().contains("\"sts\""));
        // Shapes s3s refuses itself, and SigV2, pass through.
        assert_eq!(code(check(&header("garbage"), &uri, "us-east-1")), None);
        let mut v2 = HeaderMap::new();
        v2.insert(http::header::AUTHORIZATION, "AWS AK:sig".parse().unwrap());
        assert_eq!(code(check(&v2, &uri, "us-east-1")), None);
    }

    #[test]
    fn presigned_urls_live_at_most_a_week_in_our_scope() {
        let url = |cred: &str, expires: &str| -> Uri {
            format!("/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={cred}&X-Amz-Expires={expires}")
                .parse()
                .unwrap()
        };
        let ok = "AK%2F20261203%2Feu-west-3%2Fs3%2Faws4_request";
        let h = HeaderMap::new();
        assert_eq!(code(check(&h, &url(ok, "604800"), "eu-west-3")), None);
        for (cred, expires) in [
            (ok, "604801"),
            (ok, "315360000"),
            (ok, "-1"),
            (ok, "1e3"),
            ("AK%2F20261203%2Fmars-1%2Fs3%2Faws4_request", "60"),
            ("AK%2F20261203%2Feu-west-3%2Fsts%2Faws4_request", "60"),
        ] {
            assert_eq!(
                code(check(&h, &url(cred, expires), "eu-west-3")),
                Some(S3ErrorCode::AuthorizationQueryParametersError),
                "{cred} {expires}"
            );
        }
        // Without the algorithm, the lifetime is still checked; a query without any of
        // the parameters is not looked at.
        assert_eq!(
            code(check(&h, &"/b/k?X-Amz-Expires=999999999".parse().unwrap(), "eu-west-3")),
            Some(S3ErrorCode::AuthorizationQueryParametersError)
        );
        assert_eq!(code(check(&h, &"/b/k?versionId=1&Expires=999999999".parse().unwrap(), "eu-west-3")), None);
    }
}
