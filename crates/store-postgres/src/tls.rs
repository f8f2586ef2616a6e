//! TLS to the server: which `sslmode` cpjobs runs under, which CA
//! certificates it trusts, and what a refused handshake means to an operator.
//!
//! Invariant: whenever a connection is encrypted, the server's certificate
//! chain AND its host name were verified (rustls does both, always): a
//! handshake that fails verification is an error, never a fallback to clear
//! text. libpq's `require` and `verify-ca` (which check less) are therefore
//! answered as `verify-full`.
//!
//! The decision, made once when the store opens:
//! - `sslmode=disable`: clear text.
//! - `sslmode=prefer`: TLS, verified, when the server offers it; clear text
//!   only when the server offers no TLS at all (as libpq; someone on the
//!   path can make a server seem to offer none, so prefer `require`).
//! - `sslmode=require`, `verify-ca`, `verify-full`: TLS, verified, or no
//!   connection.
//! - `sslmode` not set (tokio-postgres would take `prefer`): `require` when
//!   a CA file is set or a server is not on this machine; clear text when
//!   every server is (a loopback address, `localhost`, a Unix socket), where
//!   TLS protects nothing and many local servers present a self-signed
//!   certificate (Debian's default cluster does).
//!
//! Trusted CAs: the CA file (`store_ca_file`, or `sslrootcert=PATH` in the
//! URL; PEM, one or more certificates), else the platform's store through
//! `rustls-native-certs` (`sslrootcert=system` asks for it by name). The
//! platform's store, not a bundled copy of Mozilla's list: operators manage
//! trust in one place (`update-ca-certificates`, `SSL_CERT_FILE`), private
//! CAs added there work, and a removed CA stops working without a rebuild.
//!
//! tokio-postgres' `Config` refuses keys it does not know and `sslmode`
//! values other than disable/prefer/require, so `sslmode` and `sslrootcert`
//! are taken out of the URL here before it parses the rest.

use std::error::Error as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use cpjobs_core::StoreError;
use cpjobs_core::store::redact_url;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::drive::{ConnectError, Protocol, Socket};

/// What the URL's `sslmode` asked for (libpq's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Unset,
    Disable,
    Prefer,
    Require,
}

/// Where the trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// A PEM file, and the setting that named it (for messages).
    File(PathBuf, &'static str),
    /// The platform's CA store.
    System,
}

impl Roots {
    fn describe(&self) -> String {
        match self {
            Roots::File(path, from) => format!("the CA file {} named by {from}", path.display()),
            Roots::System => "the system's CA certificates".to_owned(),
        }
    }
}

/// How the store's connections are secured, decided once at open.
#[derive(Clone)]
pub(crate) struct Tls {
    /// `None`: clear text (`sslmode` disable, or unset on this machine).
    connector: Option<MakeRustlsConnect>,
    /// Why TLS is demanded, when it is (for the message when a server offers none).
    demanded: Option<&'static str>,
    roots: Roots,
    /// The servers' names, for messages.
    hosts: String,
    summary: String,
}

impl Tls {
    /// The URL's settings and the TLS they ask for; `ca_file` is the
    /// `store_ca_file` setting. Reads the CA certificates, so a missing or
    /// garbled CA file is reported here, before any connection.
    pub(crate) fn configure(url: &str, ca_file: Option<&Path>) -> Result<(Config, Tls), StoreError> {
        let invalid = |why: String| StoreError::Backend(format!("the PostgreSQL URL {} {why}", redact_url(url)));
        let (rest, ssl) = take_ssl_params(url).map_err(invalid)?;
        let mut config = Config::from_str(&rest).map_err(|e| invalid(format!("is not valid: {e}")))?;
        let asked = match ssl.mode.as_deref() {
            None => Asked::Unset,
            Some("disable") => Asked::Disable,
            Some("prefer") => Asked::Prefer,
            Some("require" | "verify-ca" | "verify-full") => Asked::Require,
            Some(other) => {
                return Err(invalid(format!(
                    "has sslmode={other:?}; cpjobs knows disable, prefer, require, verify-ca and verify-full \
                     (the last three verify the certificate and host name alike)"
                )));
            }
        };
        let roots = match (ssl.root_cert, ca_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "has sslrootcert, and store_ca_file is set too: set the CA file in one place".to_owned(),
                ));
            }
            (Some(p), None) if p == "system" => Some(Roots::System),
            (Some(p), None) => Some(Roots::File(PathBuf::from(p), "sslrootcert")),
            (None, Some(p)) => Some(Roots::File(p.to_owned(), "store_ca_file")),
            (None, None) => None,
        };
        let (mode, demanded) = decide(asked, roots.is_some(), all_local(&config)).map_err(invalid)?;
        let roots = roots.unwrap_or(Roots::System);
        config.ssl_mode(mode);
        let connector = match mode {
            SslMode::Disable => None,
            _ => Some(connector(&roots).map_err(StoreError::Backend)?),
        };
        let summary = match (mode, &connector) {
            (SslMode::Disable, _) | (_, None) => "clear text (no TLS)".to_owned(),
            (SslMode::Prefer, Some(_)) => {
                format!("TLS when the server offers it, verified against {}", roots.describe())
            }
            (_, Some(_)) => format!("TLS required, verified against {}", roots.describe()),
        };
        let hosts = hosts(&config);
        Ok((config, Tls { connector, demanded, roots, hosts, summary }))
    }

    /// How connections are secured, for the operator's log.
    pub(crate) fn summary(&self) -> &str {
        &self.summary
    }

    /// The startup handshake on `socket` (TLS first, as decided): the client
    /// and the connection's protocol state, which the thread that waits on
    /// the connection drives (see `drive.rs`). `name` is what the server's
    /// certificate must be valid for.
    pub(crate) async fn handshake(
        &self,
        config: &Config,
        socket: Socket,
        name: &str,
    ) -> Result<(Client, Protocol), ConnectError> {
        match &self.connector {
            None => {
                let (client, connection) = config.connect_raw(socket, NoTls).await.map_err(ConnectError::Pg)?;
                Ok((client, Box::pin(connection)))
            }
            Some(make) => {
                let tls = MakeTlsConnect::<Socket>::make_tls_connect(&mut make.clone(), name)
                    .map_err(|e| ConnectError::Other(format!("{name} is not a name TLS can check: {e}")))?;
                let (client, connection) = config.connect_raw(socket, tls).await.map_err(ConnectError::Pg)?;
                Ok((client, Box::pin(connection)))
            }
        }
    }

    /// A failed connection's cause in the operator's terms: which check of
    /// the server's certificate failed, or why TLS was demanded of a server
    /// that offers none; other failures as the client describes them.
    pub(crate) fn explain(&self, e: &tokio_postgres::Error) -> String {
        let detail = crate::pool::describe(e);
        if let Some(r) = rustls_cause(e) {
            let hosts = &self.hosts;
            let what = match r {
                // A bad signature: the certificate names a trusted CA whose key did not sign it.
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer | CertificateError::BadSignature) => {
                    format!(
                        "the TLS certificate of {hosts} is not signed by a CA cpjobs trusts ({}): set store_ca_file \
                     (or sslrootcert=PATH in the URL) to the CA certificate that signed it",
                        self.roots.describe()
                    )
                }
                rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                ) => format!(
                    "the TLS certificate of {hosts} is not valid for that name (cpjobs checks the host name \
                     under every sslmode): connect by a name or address the certificate lists"
                ),
                rustls::Error::InvalidCertificate(
                    CertificateError::Expired
                    | CertificateError::ExpiredContext { .. }
                    | CertificateError::NotValidYet
                    | CertificateError::NotValidYetContext { .. },
                ) => format!("the TLS certificate of {hosts} is outside its validity period"),
                rustls::Error::InvalidCertificate(_) => format!("the TLS certificate of {hosts} was refused"),
                _ => format!("the TLS handshake with {hosts} failed"),
            };
            return format!("{what} ({r})");
        }
        // tokio-postgres says so in words only; the test of a server without
        // TLS keeps this match honest.
        if detail.contains("server does not support TLS")
            && let Some(why) = self.demanded
        {
            return format!(
                "{} offers no TLS, and {why}: turn ssl on in the server's configuration, or set \
                 sslmode=disable if the network to it is private",
                self.hosts
            );
        }
        detail
    }
}

/// The `sslmode` tokio-postgres runs with, and why TLS is demanded when it is.
fn decide(asked: Asked, has_ca: bool, local: bool) -> Result<(SslMode, Option<&'static str>), String> {
    Ok(match asked {
        Asked::Disable if has_ca => {
            return Err("has sslmode=disable, and a CA file is set: a CA file is for TLS; drop one of them".into());
        }
        Asked::Disable => (SslMode::Disable, None),
        Asked::Prefer => (SslMode::Prefer, None),
        Asked::Require => (SslMode::Require, Some("the URL's sslmode demands TLS")),
        Asked::Unset if has_ca => (SslMode::Require, Some("a CA file is set, which demands TLS")),
        Asked::Unset if local => (SslMode::Disable, None),
        Asked::Unset => (
            SslMode::Require,
            Some("cpjobs demands TLS of a server that is not on this machine unless sslmode says otherwise"),
        ),
    })
}

/// Whether every server the config names is on this machine: a Unix
/// socket, `localhost` or a loopback address (`hostaddr` when given, as
/// that is where the connection goes).
fn all_local(config: &Config) -> bool {
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    let n = hosts.len().max(addrs.len());
    (0..n).all(|i| match (addrs.get(i), hosts.get(i)) {
        (Some(a), _) => a.is_loopback(),
        (None, Some(Host::Unix(_))) => true,
        (None, Some(Host::Tcp(h))) => {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
        }
        (None, None) => true,
    })
}

fn hosts(config: &Config) -> String {
    let names: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(h) => h.clone(),
            Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    match names.as_slice() {
        [] => "the PostgreSQL server".to_owned(),
        [one] => format!("the PostgreSQL server {one}"),
        _ => format!("the PostgreSQL servers {}", names.join(", ")),
    }
}

/// rustls with ring (the provider the rest of cpjobs uses) trusting `roots`.
fn connector(roots: &Roots) -> Result<MakeRustlsConnect, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path, from) => {
            let named = || format!("the CA file {} named by {from}", path.display());
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", named()))?;
            for (i, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
                let cert = cert.map_err(|e| format!("{} is not valid PEM: {e}", named()))?;
                store
                    .add(cert)
                    .map_err(|e| format!("certificate {} of {} is not a usable CA certificate: {e}", i + 1, named()))?;
            }
            if store.is_empty() {
                return Err(format!("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", named()));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(format!(
                    "TLS to PostgreSQL needs trusted CA certificates, and the system's store has none{}: install \
                     them (Debian: ca-certificates), or set store_ca_file (or sslrootcert=PATH in the URL)",
                    if errors.is_empty() { String::new() } else { format!(" ({})", errors.join("; ")) }
                ));
            }
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The rustls error behind a failed connection, if a handshake failed.
fn rustls_cause(e: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        // tokio-rustls wraps it in an io::Error, whose `source` skips it.
        if let Some(r) = c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref()) {
            return Some(r);
        }
        cause = c.source();
    }
    None
}

/// The URL's `sslmode` and `sslrootcert`, taken out of it.
#[derive(Debug, Default, PartialEq, Eq)]
struct SslParams {
    mode: Option<String>,
    root_cert: Option<String>,
}

impl SslParams {
    fn take(&mut self, key: &str, value: String) -> bool {
        match key {
            "sslmode" => self.mode = Some(value),
            "sslrootcert" => self.root_cert = Some(value),
            _ => return false,
        }
        true
    }
}

/// `url` without its `sslmode` and `sslrootcert`, and their values: from
/// the query of a `postgres://` URL, or from libpq's `key=value` form.
fn take_ssl_params(url: &str) -> Result<(String, SslParams), String> {
    let mut ssl = SslParams::default();
    let Some(after_scheme) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) else {
        return Ok((take_from_key_values(url, &mut ssl), ssl));
    };
    // As tokio-postgres reads a URL: the credentials end at the first '@',
    // the query starts at the first '?' after them.
    let creds = after_scheme.find('@').map_or(0, |at| at + 1);
    let Some(q) = after_scheme[creds..].find('?') else { return Ok((url.to_owned(), ssl)) };
    let query_at = url.len() - after_scheme.len() + creds + q;
    let mut kept = Vec::new();
    for pair in url[query_at + 1..].split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value =
            percent_decode(value).ok_or_else(|| format!("has a query parameter {key} that is not valid UTF-8"))?;
        if !ssl.take(key, value) {
            kept.push(pair);
        }
    }
    let mut rest = url[..query_at].to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, ssl))
}

/// libpq's `key = value ...` form without `sslmode` and `sslrootcert`;
/// text it cannot split is given back whole, for tokio-postgres to refuse.
fn take_from_key_values(text: &str, ssl: &mut SslParams) -> String {
    let mut kept = String::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return kept;
        }
        let Some((key, value, after)) = key_value(rest) else { return text.to_owned() };
        if !ssl.take(key, value) {
            kept.push_str(&rest[..rest.len() - after.len()]);
            kept.push(' ');
        }
        rest = after;
    }
}

/// One `key = value` at the start of `s`: the key, the value (quotes and
/// backslash escapes undone) and the text after it.
fn key_value(s: &str) -> Option<(&str, String, &str)> {
    let eq = s.find('=')?;
    let key = s[..eq].trim_end();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    let v = s[eq + 1..].trim_start();
    let quoted = v.starts_with('\'');
    let mut value = String::new();
    let mut chars = v.char_indices().skip(usize::from(quoted));
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '\'' if quoted => return Some((key, value, &v[i + 1..])),
            c if !quoted && c.is_whitespace() => return Some((key, value, &v[i..])),
            c => value.push(c),
        }
    }
    if quoted { None } else { Some((key, value, "")) }
}

/// `%XX` escapes undone; `None` when the bytes are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
