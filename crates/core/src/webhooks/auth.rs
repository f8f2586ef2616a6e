//! Webhook authentication, as `PutWebhook` configures it and a POST meets it:
//! `GITHUB_HMAC` (GitHub's signature of the body under the `SecretToken`),
//! `IP` (the POST comes from the `AllowedIPRange` CIDR range) and
//! `UNAUTHENTICATED` (anyone who knows the URL).
//!
//! Signatures are checked as GitHub makes them: `X-Hub-Signature-256:
//! sha256=<hex>` (HMAC-SHA256 of the raw body), or, when only that is sent,
//! the older `X-Hub-Signature: sha1=<hex>`. The comparison takes the same time
//! wherever the signatures differ (ring's `hmac::verify`). The address an IP
//! range is checked against is the connection's peer: a header such as
//! `X-Forwarded-For` is the sender's own word, and is not believed.

use std::net::IpAddr;

use ipnet::IpNet;
use ring::hmac;
use serde_json::{Map, Value};

use crate::error_code::ErrorCode;
use crate::fail::{Res, fail};

/// How a webhook authenticates its POSTs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authentication {
    /// GitHub's HMAC signature under this secret.
    GithubHmac(String),
    /// The sender's address is in this range.
    Ip(IpNet),
    /// Anyone.
    Unauthenticated,
}

/// What a POST brings to be authenticated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'a> {
    /// `X-Hub-Signature-256`, if sent.
    pub(crate) sha256: Option<&'a str>,
    /// `X-Hub-Signature`, if sent.
    pub(crate) sha1: Option<&'a str>,
    /// The connection's peer address.
    pub(crate) peer: IpAddr,
    /// The raw body.
    pub(crate) body: &'a [u8],
}

/// Why a POST was not let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No signature, or one that does not match (HTTP 401).
    Signature(&'static str),
    /// The sender is outside the allowed range (HTTP 403).
    Address,
}

fn invalid<T>(message: impl Into<String>) -> Res<T> {
    fail(ErrorCode::InvalidWebhookAuthenticationParametersException, message)
}

impl Authentication {
    /// Reads `authentication` and its `authenticationConfiguration` (already
    /// checked against the model: the type is one of the three). Each type
    /// takes exactly its own property, as AWS documents.
    pub(crate) fn from_definition(kind: &str, config: &Map<String, Value>) -> Res<Authentication> {
        let token = config.get("SecretToken").and_then(Value::as_str);
        let range = config.get("AllowedIPRange").and_then(Value::as_str);
        match (kind, token, range) {
            ("GITHUB_HMAC", Some(t), None) => Ok(Authentication::GithubHmac(t.to_owned())),
            ("GITHUB_HMAC", _, _) => invalid("GITHUB_HMAC authentication takes a SecretToken and no AllowedIPRange"),
            ("IP", None, Some(r)) => match r.parse::<IpNet>() {
                Ok(net) => Ok(Authentication::Ip(net.trunc())),
                Err(_) => invalid(format!("AllowedIPRange '{r}' is not a CIDR range such as 203.0.113.0/24")),
            },
            ("IP", _, _) => invalid("IP authentication takes an AllowedIPRange and no SecretToken"),
            ("UNAUTHENTICATED", None, None) => Ok(Authentication::Unauthenticated),
            ("UNAUTHENTICATED", _, _) => invalid("UNAUTHENTICATED authentication takes no properties"),
            (other, _, _) => invalid(format!("Authentication '{other}' is not GITHUB_HMAC, IP or UNAUTHENTICATED")),
        }
    }

    /// Lets a POST in, or says why not.
    pub(crate) fn admit(&self, p: &Presented<'_>) -> Result<(), Refused> {
        match self {
            Authentication::Unauthenticated => Ok(()),
            Authentication::Ip(net) => {
                // An IPv4 peer reached over an IPv6 socket shows as ::ffff:a.b.c.d.
                let peer = match p.peer {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(p.peer, IpAddr::V4),
                    v4 => v4,
                };
                if net.contains(&peer) { Ok(()) } else { Err(Refused::Address) }
            }
            Authentication::GithubHmac(secret) => {
                let (algorithm, header) = match (p.sha256, p.sha1) {
                    (Some(h), _) => (hmac::HMAC_SHA256, h.strip_prefix("sha256=")),
                    (None, Some(h)) => (hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, h.strip_prefix("sha1=")),
                    (None, None) => return Err(Refused::Signature("the POST carries no X-Hub-Signature-256 header")),
                };
                let tag = header.and_then(decode_hex).ok_or(Refused::Signature("the signature header is malformed"))?;
                let key = hmac::Key::new(algorithm, secret.as_bytes());
                hmac::verify(&key, p.body, &tag)
                    .map_err(|_| Refused::Signature("the signature does not match the body and the webhook's secret"))
            }
        }
    }
}

/// Lowercase or uppercase hex as bytes.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.is_empty() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn auth(kind: &str, config: Value) -> Res<Authentication> {
        Authentication::from_definition(kind, config.as_object().expect("object"))
    }

    fn presented<'a>(sha256: Option<&'a str>, sha1: Option<&'a str>, peer: &str, body: &'a [u8]) -> Presented<'a> {
        Presented { sha256, sha1, peer: peer.parse().expect("address"), body }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn each_type_takes_exactly_its_own_property() {
        assert_eq!(auth("GITHUB_HMAC", json!({"SecretToken": "s"})).ok(), Some(Authentication::GithubHmac("s".into())));
        assert_eq!(
            auth("IP", json!({"AllowedIPRange": "10.1.2.3/8"})).ok(),
            Some(Authentication::Ip("10.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(auth("UNAUTHENTICATED", json!({})).ok(), Some(Authentication::Unauthenticated));
        for (kind, config) in [
            ("GITHUB_HMAC", json!({})),
            ("GITHUB_HMAC", json!({"SecretToken": "s", "AllowedIPRange": "10.0.0.0/8"})),
            ("IP", json!({})),
            ("IP", json!({"AllowedIPRange": "10.0.0.1"})),
            ("IP", json!({"AllowedIPRange": "10.0.0.0/33"})),
            ("IP", json!({"AllowedIPRange": "10.0.0.0/8", "SecretToken": "s"})),
            ("UNAUTHENTICATED", json!({"SecretToken": "s"})),
        ] {
            let e = auth(kind, config.clone()).unwrap_err();
            assert!(
                matches!(e, crate::fail::Fail::Api(ref a) if a.code == ErrorCode::InvalidWebhookAuthenticationParametersException),
                "{kind} {config}"
            );
        }
    }

    #[test]
    fn github_signatures_are_checked_against_the_body() {
        let a = Authentication::GithubHmac("It's a Secret to Everybody".into());
        let body = b"Hello, World!";
        // GitHub's documented example (docs.github.com, "Validating webhook deliveries").
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(a.admit(&presented(Some(good), None, "192.0.2.1", body)), Ok(()));
        assert!(matches!(
            a.admit(&presented(Some(good), None, "192.0.2.1", b"Hello, World?")),
            Err(Refused::Signature(_))
        ));
        let sha1 =
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"It's a Secret to Everybody"), body);
        let sha1 = format!("sha1={}", hex(sha1.as_ref()));
        assert_eq!(a.admit(&presented(None, Some(&sha1), "192.0.2.1", body)), Ok(()), "the older header alone");
        assert!(
            a.admit(&presented(Some("sha256=00"), Some(&sha1), "192.0.2.1", body)).is_err(),
            "with both, the SHA-256 one decides"
        );
        for bad in ["", "sha256=", "sha256=zz", "md5=00", "757107ea"] {
            assert!(a.admit(&presented(Some(bad), None, "192.0.2.1", body)).is_err(), "{bad:?}");
        }
        assert!(matches!(a.admit(&presented(None, None, "192.0.2.1", body)), Err(Refused::Signature(_))));
    }

    #[test]
    fn ip_ranges_admit_their_addresses_only() {
        let a = auth("IP", json!({"AllowedIPRange": "192.0.2.0/24"})).unwrap();
        assert_eq!(a.admit(&presented(None, None, "192.0.2.200", b"")), Ok(()));
        assert_eq!(a.admit(&presented(None, None, "::ffff:192.0.2.7", b"")), Ok(()), "IPv4-mapped");
        assert_eq!(a.admit(&presented(None, None, "192.0.3.1", b"")), Err(Refused::Address));
        assert_eq!(a.admit(&presented(None, None, "2001:db8::1", b"")), Err(Refused::Address));
        let v6 = auth("IP", json!({"AllowedIPRange": "2001:db8::/32"})).unwrap();
        assert_eq!(v6.admit(&presented(None, None, "2001:db8::1", b"")), Ok(()));
        assert_eq!(Authentication::Unauthenticated.admit(&presented(None, None, "203.0.113.9", b"x")), Ok(()));
    }
}
