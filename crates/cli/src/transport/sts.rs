//! Assume-role through STS `AssumeRole` (AWS Query protocol), as botocore's
//! `AssumeRoleCredentialFetcher` does it when a profile names `role_arn`.
//!
//! Invariant: the call happens only when a request is first signed (like
//! botocore's deferred credentials), goes to the configured STS endpoint
//! (`AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` / profile, else the regional
//! endpoint), and its failures read as AWS CLI's (`... when calling the
//! AssumeRole operation: ...`). Like AWS CLI, assumed credentials are cached
//! in `~/.aws/cli/cache/<sha1 of the call's arguments>.json` and reused while
//! they have more than 15 minutes left, so the two share one cache.

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
            let key = cache_key(&assume_role_key_args(role));
            if let Some(c) = load_cached(session, &key, "assume-role") {
                return Ok(c);
            }
            let source = resolve(session, globals, region, &role.source)?;
            let client = Client::sts(session, globals, region, Some(source))?;
            let body = assume_role_body(role, SystemTime::now(), read_token_code)?;
            let resp = client.invoke("AssumeRole", &body)?;
            let creds = parse_assume_role(&resp.body);
            if creds.is_some() {
                store_cached(session, &key, &resp.body);
            }
            creds.ok_or_else(|| {
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
            let mut key_args = vec![("RoleArn", KeyVal::Str(w.role_arn.clone()))];
            if let Some(n) = &w.role_session_name {
                key_args.push(("RoleSessionName", KeyVal::Str(n.clone())));
            }
            let key = cache_key(&key_args);
            if let Some(c) = load_cached(session, &key, "assume-role-with-web-identity") {
                return Ok(c);
            }
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
            if parse_assume_role(&resp.body).is_some() {
                store_cached(session, &key, &resp.body);
            }
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

/// A value in the cache key's JSON.
enum KeyVal {
    Str(String),
    Int(i64),
}

/// The arguments botocore hashes for an assume-role cache entry (the default session name is left out).
fn assume_role_key_args(role: &AssumeRole) -> Vec<(&'static str, KeyVal)> {
    let mut args = vec![("RoleArn", KeyVal::Str(role.role_arn.clone()))];
    if let Some(n) = &role.role_session_name {
        args.push(("RoleSessionName", KeyVal::Str(n.clone())));
    }
    if let Some(e) = &role.external_id {
        args.push(("ExternalId", KeyVal::Str(e.clone())));
    }
    if let Some(m) = &role.mfa_serial {
        args.push(("SerialNumber", KeyVal::Str(m.clone())));
    }
    if let Some(d) = role.duration_seconds {
        args.push(("DurationSeconds", KeyVal::Int(d)));
    }
    args
}

/// `sha1(json.dumps(args, sort_keys=True))`, made file-safe.
fn cache_key(args: &[(&str, KeyVal)]) -> String {
    use sha1::{Digest, Sha1};
    let mut sorted: Vec<&(&str, KeyVal)> = args.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut json = String::from("{");
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        crate::py::json_encode::write_str(k, true, &mut json);
        json.push_str(": ");
        match v {
            KeyVal::Str(s) => crate::py::json_encode::write_str(s, true, &mut json),
            KeyVal::Int(n) => json.push_str(&n.to_string()),
        }
    }
    json.push('}');
    Sha1::digest(json.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn cache_path(session: &Session, key: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(session.env().expand_path("~/.aws/cli/cache")).join(format!("{key}.json"))
}

/// Cached credentials with more than 15 minutes left (botocore's expiry window).
fn load_cached(session: &Session, key: &str, method: &'static str) -> Option<Credentials> {
    let text = std::fs::read_to_string(cache_path(session, key)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let c = v.get("Credentials")?;
    let expires = parse_iso8601(c.get("Expiration")?.as_str()?)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    if expires - now < 15 * 60 {
        crate::debug::log("botocore.credentials", "Credentials were found in cache, but they are expired.");
        return None;
    }
    crate::debug::log("botocore.credentials", "Credentials for role retrieved from cache.");
    Some(Credentials {
        access_key: c.get("AccessKeyId")?.as_str()?.to_owned(),
        secret_key: c.get("SecretAccessKey")?.as_str()?.to_owned(),
        token: c.get("SessionToken").and_then(|t| t.as_str()).map(str::to_owned),
        method,
    })
}

/// Writes the response as botocore's JSONFileCache does (best effort: a cache failure is not an error).
fn store_cached(session: &Session, key: &str, body: &[u8]) {
    let xml = String::from_utf8_lossy(body);
    let Some(start) = xml.find("<Credentials>") else { return };
    let creds = &xml[start..];
    let field = |tag: &str| xml_text(creds, tag).map(serde_json::Value::String).unwrap_or(serde_json::Value::Null);
    // botocore stores the parsed datetime with strftime('%Y-%m-%dT%H:%M:%S%Z').
    let expiration = xml_text(creds, "Expiration").and_then(|e| parse_iso8601(&e)).map(|t| {
        let (y, m, d) = crate::debug::civil_from_days(t.div_euclid(86_400));
        let r = t.rem_euclid(86_400);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}UTC", r / 3600, r % 3600 / 60, r % 60)
    });
    let Some(expiration) = expiration else { return };
    let mut c = serde_json::Map::new();
    c.insert("AccessKeyId".into(), field("AccessKeyId"));
    c.insert("SecretAccessKey".into(), field("SecretAccessKey"));
    c.insert("SessionToken".into(), field("SessionToken"));
    c.insert("Expiration".into(), serde_json::Value::String(expiration));
    let mut root = serde_json::Map::new();
    root.insert("Credentials".into(), serde_json::Value::Object(c));
    if let Some(arn) = xml_text(&xml, "Arn") {
        let mut user = serde_json::Map::new();
        if let Some(id) = xml_text(&xml, "AssumedRoleId") {
            user.insert("AssumedRoleId".into(), serde_json::Value::String(id));
        }
        user.insert("Arn".into(), serde_json::Value::String(arn));
        root.insert("AssumedRoleUser".into(), serde_json::Value::Object(user));
    }
    let path = cache_path(session, key);
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Write then rename, so a concurrent reader never sees half a file.
    let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, serde_json::Value::Object(root).to_string()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|UTC|+00:00|±HH:MM)` as Unix seconds.
fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    let mut dp = date.split('-');
    let (y, m, d): (i64, i64, i64) = (dp.next()?.parse().ok()?, dp.next()?.parse().ok()?, dp.next()?.parse().ok()?);
    let time_end = rest.find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.')).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(time_end);
    let mut tp = time.split(':');
    let hh: i64 = tp.next()?.parse().ok()?;
    let mm: i64 = tp.next()?.parse().ok()?;
    let ss: i64 = tp.next()?.split('.').next()?.parse().ok()?;
    let offset = match zone {
        "" | "Z" | "UTC" | "GMT" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = z.trim_start_matches(['+', '-']).replace(':', "");
            let (h, mi) = z.split_at(z.len().min(2));
            sign * (h.parse::<i64>().ok()? * 3600 + mi.parse::<i64>().unwrap_or(0) * 60)
        }
    };
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m2 + 2) / 5 + d - 1;
    Some((era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60 + ss - offset)
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

    const EXPECTED_KEY_1: &str = "f84d75ff2dd3e8682912dae5e7be77540d9d68d0";
    const EXPECTED_KEY_2: &str = "f33fff6b7ea2e0e1f21cf83b4d1cbb502d33b600";

    #[test]
    fn cache_keys_match_botocore() {
        // python3 -c "import json,hashlib;print(hashlib.sha1(json.dumps({'RoleArn':'arn:aws:iam::123456789012:role/x'},sort_keys=True).encode()).hexdigest())"
        assert_eq!(cache_key(&[("RoleArn", KeyVal::Str("arn:aws:iam::123456789012:role/x".into()))]), EXPECTED_KEY_1);
        let args = assume_role_key_args(&role());
        assert_eq!(cache_key(&args), EXPECTED_KEY_2);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso8601("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_iso8601("1970-01-01T00:01:00UTC"), Some(60));
        assert_eq!(parse_iso8601("1970-01-01T01:01:00.123+01:00"), Some(60));
        assert_eq!(parse_iso8601("nope"), None);
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
