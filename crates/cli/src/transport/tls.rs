//! TLS judged the way AWS CLI's Python `ssl` (OpenSSL) judges it, on rustls.
//!
//! Two differences from plain rustls/webpki matter to users and are bridged here:
//! - a certificate listed in `--ca-bundle` is trusted as the server's own
//!   certificate even when it is self-signed or marked as a CA (OpenSSL accepts
//!   a trust anchor as the leaf; webpki answers `CaUsedAsEndEntity`), the
//!   hostname still being checked;
//! - failures are reported with OpenSSL's wording (`self-signed certificate`,
//!   `unable to get local issuer certificate`, ...), since AWS CLI prints them.
//!
//! The connector replaces ureq's own rustls connector (ureq offers no hook for
//! a custom verifier); the rest of ureq's chain (proxy CONNECT, TCP) is kept.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

/// How the server's certificate is checked.
#[derive(Debug, Clone)]
pub enum Verify {
    /// `--no-verify-ssl`.
    Off,
    /// Mozilla's roots (what certifi gives AWS CLI).
    DefaultRoots,
    /// The certificates of `--ca-bundle` / `AWS_CA_BUNDLE` / `ca_bundle`.
    Bundle(Vec<CertificateDer<'static>>),
}

/// Builds the rustls client configuration for `verify`.
pub fn client_config(verify: &Verify) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Off => Arc::new(NoVerify(provider)),
        Verify::DefaultRoots | Verify::Bundle(_) => {
            let mut roots = RootCertStore::empty();
            let pinned = match verify {
                Verify::Bundle(certs) => {
                    roots.add_parsable_certificates(certs.iter().cloned());
                    certs.clone()
                }
                _ => {
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                    Vec::new()
                }
            };
            // An empty store cannot build a verifier; nothing is trusted then, which the pinned check handles.
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().ok();
            Arc::new(OpensslLike { inner, pinned, provider })
        }
    };
    Ok(Arc::new(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()))
}

/// A certificate error as OpenSSL words it (the text after `certificate verify failed: `).
fn openssl_reason(e: &rustls::CertificateError, end_entity: &CertificateDer<'_>, chain_len: usize) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        C::Expired | C::ExpiredContext { .. } => "certificate has expired",
        C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not yet valid",
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "Hostname mismatch, certificate is not valid for this host"
        }
        C::Revoked => "certificate revoked",
        _ if chain_len == 0 && is_self_signed(end_entity) => "self-signed certificate",
        _ => "unable to get local issuer certificate",
    }
}

/// The error rustls reports, carrying OpenSSL's message (or urllib3's, for a name mismatch).
fn verify_failed(e: &rustls::CertificateError, end_entity: &CertificateDer<'_>, chain_len: usize) -> rustls::Error {
    if let rustls::CertificateError::NotValidForNameContext { expected, presented } = e {
        return rustls::Error::General(hostname_mismatch(&expected.to_str(), presented));
    }
    let reason = openssl_reason(e, end_entity, chain_len);
    rustls::Error::General(format!(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {reason} (_ssl.c:1006)"
    ))
}

/// urllib3's `match_hostname` message; `presented` holds webpki's `DnsName("x")` / `IpAddress(1.2.3.4)`.
fn hostname_mismatch(hostname: &str, presented: &[String]) -> String {
    let repr = |s: &str| {
        let mut out = String::new();
        crate::py::value::str_repr(s, &mut out);
        out
    };
    let names: Vec<String> = presented
        .iter()
        .filter_map(|p| {
            p.strip_prefix("DnsName(\"")
                .and_then(|r| r.strip_suffix("\")"))
                .or_else(|| p.strip_prefix("IpAddress(").and_then(|r| r.strip_suffix(')')))
        })
        .map(repr)
        .collect();
    match names.as_slice() {
        [] => "no appropriate subjectAltName fields were found".to_owned(),
        [one] => format!("hostname {} doesn't match {one}", repr(hostname)),
        many => format!("hostname {} doesn't match either of {}", repr(hostname), many.join(", ")),
    }
}

#[derive(Debug)]
struct OpensslLike {
    inner: Option<Arc<WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for OpensslLike {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
        };
        match result {
            Ok(v) => Ok(v),
            Err(rustls::Error::InvalidCertificate(e)) => {
                if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
                    // Trusted as is, like OpenSSL; the name must still match, as Python checks it.
                    let parsed = ParsedCertificate::try_from(end_entity)?;
                    return match verify_server_name(&parsed, server_name) {
                        Ok(()) => Ok(ServerCertVerified::assertion()),
                        Err(rustls::Error::InvalidCertificate(e)) => {
                            Err(verify_failed(&e, end_entity, intermediates.len()))
                        }
                        Err(other) => Err(other),
                    };
                }
                Err(verify_failed(&e, end_entity, intermediates.len()))
            }
            Err(other) => Err(other),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// `--no-verify-ssl`: any certificate, but handshake signatures are still checked.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Whether a certificate's issuer equals its subject (a minimal DER walk of the TBSCertificate).
fn is_self_signed(cert: &CertificateDer<'_>) -> bool {
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let first = *b.get(1)? as usize;
        let (len, hdr) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | *b.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        let body = b.get(hdr..hdr + len)?;
        Some((tag, body, &b[hdr + len..]))
    }
    let parse = || -> Option<bool> {
        let (_, cert_body, _) = tlv(cert.as_ref())?;
        let (_, tbs, _) = tlv(cert_body)?;
        let mut rest = tbs;
        // Optional [0] version.
        if rest.first() == Some(&0xa0) {
            rest = tlv(rest)?.2;
        }
        let rest = tlv(rest)?.2; // serialNumber
        let rest = tlv(rest)?.2; // signature AlgorithmIdentifier
        let (_, issuer, rest) = tlv(rest)?;
        let rest = tlv(rest)?.2; // validity
        let (_, subject, _) = tlv(rest)?;
        Some(issuer == subject)
    };
    parse().unwrap_or(false)
}

/// ureq connector doing TLS with [`client_config`].
pub struct TlsConnector {
    verify: Verify,
    /// Built on the first https connection: loading the root store costs start-up time
    /// that plain-http calls (a local `cpjobs serve`) should not pay.
    config: std::sync::OnceLock<Result<Arc<ClientConfig>, String>>,
}

impl TlsConnector {
    /// A connector for `verify`.
    pub fn new(verify: &Verify) -> TlsConnector {
        TlsConnector { verify: verify.clone(), config: std::sync::OnceLock::new() }
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish()
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::Tls("no transport to wrap in TLS"));
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        // IPv6 literals come bracketed in the URI.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name =
            ServerName::try_from(host.to_owned()).map_err(|_| ureq::Error::Tls("invalid server name for TLS"))?;
        let config = self
            .config
            .get_or_init(|| client_config(&self.verify))
            .clone()
            .map_err(|_| ureq::Error::Tls("TLS setup failed"))?;
        let mut conn = ClientConnection::new(config, name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream: StreamOwned { conn, sock } })))
    }
}

/// A TLS connection made by [`TlsConnector`].
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_messages() {
        assert_eq!(
            hostname_mismatch("localhost", &["IpAddress(127.0.0.1)".into()]),
            "hostname 'localhost' doesn't match '127.0.0.1'"
        );
        assert_eq!(
            hostname_mismatch("h", &["DnsName(\"a.example\")".into(), "DnsName(\"*.b.example\")".into()]),
            "hostname 'h' doesn't match either of 'a.example', '*.b.example'"
        );
        assert_eq!(hostname_mismatch("h", &[]), "no appropriate subjectAltName fields were found");
    }

    #[test]
    fn self_signed_detection() {
        // A self-signed certificate (issuer == subject) made with openssl for the tests.
        let pem = include_str!("../../tests/data/selfsigned.pem");
        let der = ureq::tls::parse_pem(pem.as_bytes())
            .find_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.der().to_vec()),
                _ => None,
            })
            .unwrap();
        assert!(is_self_signed(&CertificateDer::from(der)));
        assert!(!is_self_signed(&CertificateDer::from(vec![0x30, 0x00])));
    }
}
