//! Assume-role through STS `AssumeRole` (AWS Query protocol), as botocore's
//! `AssumeRoleCredentialFetcher` does it when a profile names `role_arn`.
//!
//! Invariant: the call happens only when a request is first signed (like
//! botocore's deferred credentials), goes to the configured STS endpoint
//! (`AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` / profile, else the regional
//! endpoint), and its failures read as AWS CLI's (`... when calling the
//! AssumeRole operation: ...`). Assumed credentials are not cached on disk.

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use super::Client;
use super::retry::{ServiceError, reason_phrase};
use crate::args::GlobalArgs;
use crate::config::Session;
use crate::config::credentials::{AssumeRole, CredentialSource, Credentials};
use crate::error::CliError;

/// Resolves `src` to signing credentials, calling STS for each assume-role in the chain.
pub fn resolve(
    session: &Session,
    globals: &GlobalArgs,
    region: Option<&str>,
    src: &CredentialSource,
) -> Result<Credentials, CliError> {
    match src {
        CredentialSource::Static(c) => Ok(c.clone()),
        CredentialSource::AssumeRole(role) => {
            let source = resolve(session, globals, region, &role.source)?;
            let client = Client::sts(session, globals, region, Some(source))?;
            let body = assume_role_body(role, SystemTime::now(), read_token_code)?;
            let resp = client.invoke("AssumeRole", &body)?;
            parse_assume_role(&resp.body).ok_or_else(|| {
                // botocore's ResponseParserError text; the XML parser's reason is approximated.
                let reason = if resp.body.trim_ascii_start().starts_with(b"<") {
                    "no Credentials element"
                } else {
                    "not well-formed (invalid token): line 1, column 0"
                };
                let shown = crate::py::PyValue::Bytes(resp.body.clone()).repr();
                CliError::general(format!(
                    "Unable to parse response ({reason}), invalid XML received. Further retries may succeed:\n{shown}"
                ))
            })
        }
        CredentialSource::WebIdentity(w) => {
            let token = std::fs::read_to_string(&w.token_file).map_err(|e| {
                let errno = e.raw_os_error().unwrap_or(0);
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "No such file or directory",
                    std::io::ErrorKind::PermissionDenied => "Permission denied",
                    _ => "OSError",
                };
                CliError::general(format!("[Errno {errno}] {why}: '{}'", w.token_file))
            })?;
            // AssumeRoleWithWebIdentity is unsigned: the token is the proof.
            let client = Client::sts(session, globals, region, None)?;
            let session_name = w.role_session_name.clone().unwrap_or_else(|| {
                format!(
                    "botocore-session-{}",
                    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
                )
            });
            let params = [
                ("Action", "AssumeRoleWithWebIdentity"),
                ("Version", "2011-06-15"),
                ("RoleArn", w.role_arn.as_str()),
                ("RoleSessionName", session_name.as_str()),
                ("WebIdentityToken", token.as_str()),
            ];
            let body = params
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let resp = client.invoke("AssumeRoleWithWebIdentity", &body)?;
            let mut creds = parse_assume_role(&resp.body).ok_or_else(|| {
                CliError::general(format!(
                    "Unable to parse response (no Credentials element), invalid XML received. Further retries may succeed:\n{}",
                    crate::py::PyValue::Bytes(resp.body.clone()).repr()
                ))
            })?;
            creds.method = "assume-role-with-web-identity";
            Ok(creds)
        }
    }
}

/// Asks for the MFA code the way botocore's prompter does (on the terminal, via stderr/stdin).
fn read_token_code(serial: &str) -> Result<String, CliError> {
    let mut err = std::io::stderr();
    let _ = write!(err, "Enter MFA code for {serial}: ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| CliError::general(e.to_string()))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// `percent_encode` with botocore's safe set (`-_.~` plus alphanumerics).
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The form body of `AssumeRole`, members in the model's order.
fn assume_role_body(
    role: &AssumeRole,
    now: SystemTime,
    token: impl Fn(&str) -> Result<String, CliError>,
) -> Result<String, CliError> {
    let session_name = role.role_session_name.clone().unwrap_or_else(|| {
        format!("botocore-session-{}", now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
    });
    let mut params: Vec<(&str, String)> = vec![
        ("Action", "AssumeRole".into()),
        ("Version", "2011-06-15".into()),
        ("RoleArn", role.role_arn.clone()),
        ("RoleSessionName", session_name),
    ];
    if let Some(d) = role.duration_seconds {
        params.push(("DurationSeconds", d.to_string()));
    }
    if let Some(e) = &role.external_id {
        params.push(("ExternalId", e.clone()));
    }
    if let Some(serial) = &role.mfa_serial {
        params.push(("SerialNumber", serial.clone()));
        params.push(("TokenCode", token(serial)?));
    }
    Ok(params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&"))
}

/// The text of the first `<tag>...</tag>`, XML entities decoded.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(unescape(&xml[start..end]))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&after[..=semi]),
        }
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// The credentials in an `AssumeRoleResponse`.
fn parse_assume_role(body: &[u8]) -> Option<Credentials> {
    let xml = String::from_utf8_lossy(body);
    let creds = &xml[xml.find("<Credentials>")?..];
    Some(Credentials {
        access_key: xml_text(creds, "AccessKeyId")?,
        secret_key: xml_text(creds, "SecretAccessKey")?,
        token: xml_text(creds, "SessionToken"),
        method: "assume-role",
    })
}

/// botocore's Query-protocol error parse: `<Error><Code>` and `<Message>`, else status and reason.
pub fn parse_query_error(status: u16, body: &[u8]) -> ServiceError {
    let xml = String::from_utf8_lossy(body);
    let trimmed = xml.trim();
    let generic = status >= 500 && (trimmed.is_empty() || trimmed.starts_with("<html>"));
    match (generic, xml_text(&xml, "Code")) {
        (false, Some(code)) => ServiceError { code, message: xml_text(&xml, "Message").unwrap_or_default() },
        _ => ServiceError { code: status.to_string(), message: reason_phrase(status).to_owned() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> AssumeRole {
        AssumeRole {
            profile: "p".into(),
            role_arn: "arn:aws:iam::123456789012:role/my role".into(),
            role_session_name: None,
            external_id: Some("ext/1".into()),
            mfa_serial: None,
            duration_seconds: Some(900),
            source: CredentialSource::Static(Credentials {
                access_key: "A".into(),
                secret_key: "B".into(),
                token: None,
                method: "env",
            }),
        }
    }

    #[test]
    fn body_in_model_order() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let body = assume_role_body(&role(), t, |_| unreachable!()).unwrap();
        assert_eq!(
            body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmy%20role&RoleSessionName=botocore-session-1700000000&DurationSeconds=900&ExternalId=ext%2F1"
        );
        let mut r = role();
        r.mfa_serial = Some("arn:mfa".into());
        r.role_session_name = Some("mine".into());
        let body = assume_role_body(&r, t, |s| Ok(format!("code-for-{s}"))).unwrap();
        assert!(
            body.contains("RoleSessionName=mine&")
                && body.ends_with("&SerialNumber=arn%3Amfa&TokenCode=code-for-arn%3Amfa"),
            "{body}"
        );
    }

    #[test]
    fn responses() {
        let ok = br#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>x</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s&amp;k</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"#;
        let c = parse_assume_role(ok).unwrap();
        assert_eq!((c.access_key.as_str(), c.secret_key.as_str(), c.token.as_deref()), ("ASIA1", "s&k", Some("tok")));
        assert!(parse_assume_role(b"<x/>").is_none());
        let err = br#"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not &lt;allowed&gt;</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        assert_eq!(
            parse_query_error(403, err),
            ServiceError { code: "AccessDenied".into(), message: "not <allowed>".into() }
        );
        assert_eq!(
            parse_query_error(503, b""),
            ServiceError { code: "503".into(), message: "Service Unavailable".into() }
        );
    }
}
