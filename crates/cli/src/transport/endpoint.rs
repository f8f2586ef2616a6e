//! Endpoint URLs as botocore handles them: Python's `urlsplit`, the
//! `--endpoint-url` checks (AWS CLI's "scheme is missing", botocore's
//! "Invalid endpoint"), the request URL (`_urljoin`: the endpoint's own path
//! or `/`, its query kept) and the `Host` value (port only when not default).
//!
//! Invariant: the URL printed in connection errors is the request URL
//! exactly as botocore builds it, e.g. `http://127.0.0.1:18766/`.

use crate::error::CliError;

/// `urllib.parse.urlsplit` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitUrl {
    /// Lowercased scheme, `""` when none.
    pub scheme: String,
    /// `user@host:port` as written.
    pub netloc: String,
    /// Path as written (may be empty).
    pub path: String,
    /// Query without `?`.
    pub query: String,
    /// Fragment without `#`.
    pub fragment: String,
    has_query: bool,
    has_fragment: bool,
}

/// `urlsplit(url)` (Python 3.11 semantics for what endpoints use).
pub fn urlsplit(url: &str) -> SplitUrl {
    // Python strips leading C0 control chars and spaces, and removes tabs/newlines anywhere.
    let cleaned: String =
        url.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\r' | '\n')).collect();
    let mut rest = cleaned.as_str();
    let mut scheme = String::new();
    if let Some(colon) = rest.find(':') {
        let cand = &rest[..colon];
        if cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            scheme = cand.to_ascii_lowercase();
            rest = &rest[colon + 1..];
        }
    }
    let mut netloc = String::new();
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = after[..end].to_owned();
        rest = &after[end..];
    }
    let (rest, fragment, has_fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, f.to_owned(), true),
        None => (rest, String::new(), false),
    };
    let (path, query, has_query) = match rest.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned(), true),
        None => (rest.to_owned(), String::new(), false),
    };
    SplitUrl { scheme, netloc, path, query, fragment, has_query, has_fragment }
}

impl SplitUrl {
    /// `.hostname`: userinfo removed, brackets removed, lowercased; None when empty.
    pub fn hostname(&self) -> Option<String> {
        let hostport = self.netloc.rsplit_once('@').map_or(self.netloc.as_str(), |(_, h)| h);
        let host = if let Some(inner) = hostport.strip_prefix('[') {
            inner.split_once(']').map_or(inner, |(h, _)| h)
        } else {
            hostport.split_once(':').map_or(hostport, |(h, _)| h)
        };
        if host.is_empty() { None } else { Some(host.to_lowercase()) }
    }

    /// The port text after the host, if any (`.port` converts it lazily).
    fn port_text(&self) -> Option<&str> {
        let hostport = self.netloc.rsplit_once('@').map_or(self.netloc.as_str(), |(_, h)| h);
        let after = if hostport.starts_with('[') { hostport.split_once(']').map(|(_, r)| r)? } else { hostport };
        after.split_once(':').map(|(_, p)| p)
    }

    /// `.port`: None when absent or empty; Python's ValueErrors otherwise.
    pub fn port(&self) -> Result<Option<u16>, String> {
        let Some(text) = self.port_text() else { return Ok(None) };
        if text.is_empty() {
            return Ok(None);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("Port could not be cast to integer value as {}", py_repr(text)));
        }
        match text.parse::<u32>() {
            Ok(p) if p <= 65535 => Ok(Some(p as u16)),
            _ => Err("Port out of range 0-65535".to_owned()),
        }
    }

    /// Whether the host is an IPv6 literal.
    pub fn is_ipv6(&self) -> bool {
        let hostport = self.netloc.rsplit_once('@').map_or(self.netloc.as_str(), |(_, h)| h);
        hostport.starts_with('[')
    }

    /// `urlunsplit`.
    pub fn unsplit(&self) -> String {
        let mut s = String::new();
        if !self.scheme.is_empty() {
            s.push_str(&self.scheme);
            s.push(':');
        }
        if !self.netloc.is_empty() || self.scheme == "http" || self.scheme == "https" {
            s.push_str("//");
            s.push_str(&self.netloc);
        }
        s.push_str(&self.path);
        if self.has_query && !self.query.is_empty() {
            s.push('?');
            s.push_str(&self.query);
        }
        if self.has_fragment && !self.fragment.is_empty() {
            s.push('#');
            s.push_str(&self.fragment);
        }
        s
    }
}

fn py_repr(s: &str) -> String {
    let mut out = String::new();
    crate::py::value::str_repr(s, &mut out);
    out
}

/// AWS CLI's own `--endpoint-url` check (runs right after the global options are parsed).
pub fn check_endpoint_arg(value: &str) -> Result<(), CliError> {
    if urlsplit(value).scheme.is_empty() {
        return Err(CliError::general(format!(
            "Bad value for --endpoint-url \"{value}\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/"
        )));
    }
    Ok(())
}

/// botocore's `is_valid_endpoint_url` / `is_valid_ipv6_endpoint_url`, checked when the client is created.
pub fn check_valid_endpoint(url: &str) -> Result<(), CliError> {
    let parts = urlsplit(url);
    let ok = match parts.hostname() {
        None => false,
        Some(_) if parts.is_ipv6() => true,
        Some(host) => {
            let host = host.strip_suffix('.').unwrap_or(&host);
            host.len() <= 255
                && !host.is_empty()
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
    };
    if ok { Ok(()) } else { Err(CliError::general(format!("Invalid endpoint: {url}"))) }
}

/// The default endpoint for a region (the `aws` and `aws-cn` partitions).
pub fn default_endpoint(endpoint_prefix: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://{endpoint_prefix}.{region}.{suffix}")
}

/// Where one operation is sent: botocore's `_urljoin(endpoint, "/")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as botocore holds it (used in messages and for signing).
    pub url: String,
    /// Its parts.
    pub parts: SplitUrl,
}

impl Target {
    /// The request URL for an operation whose request URI is `/`.
    pub fn new(endpoint_url: &str) -> Target {
        let mut parts = urlsplit(endpoint_url);
        if parts.path.is_empty() {
            parts.path = "/".to_owned();
        }
        Target { url: parts.unsplit(), parts }
    }

    /// `Host` as the server receives it: lowercase host, port unless it is the scheme's default.
    pub fn host_header(&self) -> Result<String, String> {
        let host = self.parts.hostname().unwrap_or_default();
        let host = if self.parts.is_ipv6() { format!("[{host}]") } else { host };
        let default = match self.parts.scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        Ok(match self.parts.port()? {
            Some(p) if Some(p) != default => format!("{host}:{p}"),
            _ => host,
        })
    }

    /// The request target on the wire: path and query (the fragment never leaves the client).
    pub fn path_and_query(&self) -> String {
        if self.parts.query.is_empty() {
            self.parts.path.clone()
        } else {
            format!("{}?{}", self.parts.path, self.parts.query)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join() {
        assert_eq!(Target::new("http://127.0.0.1:18766").url, "http://127.0.0.1:18766/");
        assert_eq!(Target::new("http://127.0.0.1:18765/").url, "http://127.0.0.1:18765/");
        let t = Target::new("http://127.0.0.1:18765/q?x=1&a=b%20c");
        assert_eq!(t.url, "http://127.0.0.1:18765/q?x=1&a=b%20c");
        assert_eq!(t.path_and_query(), "/q?x=1&a=b%20c");
        assert_eq!(Target::new("http://h/base/path").path_and_query(), "/base/path");
        assert_eq!(Target::new("HTTP://Example.COM:80/").host_header().unwrap(), "example.com");
        assert_eq!(Target::new("https://h:8443").host_header().unwrap(), "h:8443");
        assert_eq!(Target::new("http://[::1]:9000/").host_header().unwrap(), "[::1]:9000");
        assert_eq!(Target::new("http://u:p@h:1/").host_header().unwrap(), "h:1");
    }

    #[test]
    fn ports() {
        assert_eq!(urlsplit("http://127.0.0.1:99999").port().unwrap_err(), "Port out of range 0-65535");
        assert_eq!(urlsplit("http://h:abc").port().unwrap_err(), "Port could not be cast to integer value as 'abc'");
        assert_eq!(urlsplit("http://h:").port().unwrap(), None);
    }

    #[test]
    fn endpoint_checks() {
        assert_eq!(
            check_endpoint_arg("127.0.0.1:18765").unwrap_err().stderr,
            "\nBad value for --endpoint-url \"127.0.0.1:18765\": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/\n"
        );
        assert!(check_endpoint_arg("ftp://127.0.0.1:18765").is_ok());
        // `localhost:8080` has a scheme for Python (`localhost`) but no host.
        assert!(check_endpoint_arg("localhost:8080").is_ok());
        assert_eq!(check_valid_endpoint("localhost:8080").unwrap_err().stderr, "\nInvalid endpoint: localhost:8080\n");
        assert_eq!(check_valid_endpoint("http:///").unwrap_err().stderr, "\nInvalid endpoint: http:///\n");
        assert!(check_valid_endpoint("http://under_score/").is_err());
        assert!(check_valid_endpoint("http://[::1]:80/").is_ok());
        assert!(check_valid_endpoint("http://a-b.example.com./").is_ok());
        assert_eq!(default_endpoint("codepipeline", "eu-west-1"), "https://codepipeline.eu-west-1.amazonaws.com");
    }
}
