//! How the shared store meets the backend: object names for keys, backend errors in
//! S3's terms, and the TLS provider.

use crate::store::StoreError;

/// Whether the backend said "no such object" (and not "no such bucket", which is a
/// broken configuration, never an absent object).
pub(super) fn is_missing_object(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. }) && !format!("{e:?}").contains("NoSuchBucket")
}

/// A backend failure in S3's terms: no answer (or a 5xx) means try again later; a
/// refusal (denied, no such bucket) is the configuration's fault. The cause is logged
/// where the error is answered.
pub(super) fn backend_error(what: &str, e: object_store::Error) -> StoreError {
    let cause = format!("{what}: {e}");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.is::<object_store::client::HttpError>() {
            // Refused, reset, timed out: no answer at all.
            return StoreError::Unavailable(cause);
        }
        source = s.source();
    }
    // An answer: a 5xx (after the retries) is the backend's trouble, anything else a refusal.
    if cause.contains("status code: 5") { StoreError::Unavailable(cause) } else { StoreError::Backend(cause) }
}

/// A key as one name in the backend: bytes outside `[A-Za-z0-9._-]` (and a leading
/// dot, so no name is `.` or `..`) become `!XX`. Nothing a key spells (`/`, `..`,
/// control characters) reaches the backend's own path rules, and keys map one to one.
pub(super) fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, b) in key.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("!{b:02X}"));
        }
    }
    out
}

pub(super) fn decode_key(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'!' {
            let hex = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// TLS for `https://` endpoints through rustls with `ring` (no C build), installed as
/// the process's provider unless one already is.
pub(super) fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_backend_names_one_to_one() {
        for key in ["a/b.zip", ".", "..", "a//b", "!21", "é ü", "x\n/../y", "p/Out/abc-1_2.3"] {
            let name = encode_key(key);
            assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-!".contains(&b)), "{name}");
            assert!(name != "." && name != "..");
            assert_eq!(decode_key(&name).as_deref(), Some(key));
        }
        assert_eq!(encode_key("pipe/Art/x1.zip"), "pipe!2FArt!2Fx1.zip");
        assert_ne!(encode_key("!21"), encode_key("!"));
    }
}
