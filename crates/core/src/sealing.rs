//! Client tokens at rest: sealed with ChaCha20-Poly1305 before they reach the
//! store, opened when a job call checks one or the partner lists them.
//!
//! Tokens must go back to their partner (`ListThirdPartyClients`), so they are
//! encrypted, not hashed, under a key the service derives from its service key
//! (the binary hands it over: [`crate::Service::with_token_key`]). A sealed
//! token is `sealed1:` and the hex of a random 96-bit nonce, the ciphertext and
//! the tag; the client id is the associated data, so a sealed token copied to
//! another client's row does not open. A service without a key (tests, other
//! embedders) keeps tokens as they are; a stored token without the prefix is
//! one from before sealing, which [`crate::Service::with_token_key`] seals at
//! start-up.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::store::StoreError;

/// The prefix of a sealed token (version 1 of the format).
pub const SEALED_PREFIX: &str = "sealed1:";

/// How client tokens are kept at rest: sealed under a key, or as they are.
#[derive(Default)]
pub struct TokenSeal {
    key: Option<LessSafeKey>,
}

impl std::fmt::Debug for TokenSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSeal").field("sealed", &self.key.is_some()).finish()
    }
}

impl TokenSeal {
    /// Seals under `key` (32 bytes, secret: derive it from the service key).
    pub fn with_key(key: [u8; 32]) -> TokenSeal {
        let key = UnboundKey::new(&CHACHA20_POLY1305, &key).expect("ChaCha20-Poly1305 takes 32-byte keys");
        TokenSeal { key: Some(LessSafeKey::new(key)) }
    }

    /// Whether tokens are sealed.
    pub fn seals(&self) -> bool {
        self.key.is_some()
    }

    /// The form of `client_id`'s `token` to store.
    pub(crate) fn seal(&self, client_id: &str, token: &str) -> Result<String, StoreError> {
        let Some(key) = &self.key else { return Ok(token.to_owned()) };
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| StoreError::Backend("the OS random source failed".to_owned()))?;
        let mut sealed = token.as_bytes().to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(client_id.as_bytes()), &mut sealed)
            .map_err(|_| StoreError::Backend("sealing a client token failed".to_owned()))?;
        let mut out = String::with_capacity(SEALED_PREFIX.len() + 2 * (NONCE_LEN + sealed.len()));
        out.push_str(SEALED_PREFIX);
        push_hex(&mut out, &nonce);
        push_hex(&mut out, &sealed);
        Ok(out)
    }

    /// The token `stored` for `client_id`; `None` when it does not open (sealed
    /// under another key, altered, or moved from another client), which callers
    /// treat as a token nobody can present.
    pub(crate) fn open(&self, client_id: &str, stored: &str) -> Option<String> {
        let Some(hex) = stored.strip_prefix(SEALED_PREFIX) else { return Some(stored.to_owned()) };
        let key = self.key.as_ref()?;
        let mut raw = from_hex(hex)?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let mut sealed = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).ok()?;
        let plain = key.open_in_place(nonce, Aad::from(client_id.as_bytes()), &mut sealed).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// Whether a stored token is sealed.
pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_for_their_client_under_their_key() {
        let seal = TokenSeal::with_key([9; 32]);
        let token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let stored = seal.seal("client-1", token).unwrap();
        assert!(is_sealed(&stored) && !stored.contains(token), "{stored}");
        assert_ne!(stored, seal.seal("client-1", token).unwrap(), "a fresh nonce each time");
        assert_eq!(seal.open("client-1", &stored).as_deref(), Some(token));
        assert_eq!(seal.open("client-2", &stored), None, "moved to another client");
        assert_eq!(TokenSeal::with_key([8; 32]).open("client-1", &stored), None, "another key");
        assert_eq!(TokenSeal::default().open("client-1", &stored), None, "no key");
        let mut altered = stored.clone();
        altered.replace_range(stored.len() - 2.., if stored.ends_with("00") { "01" } else { "00" });
        assert_eq!(seal.open("client-1", &altered), None);
        for bad in ["sealed1:", "sealed1:zz", "sealed1:abc", "sealed1:00"] {
            assert_eq!(seal.open("client-1", bad), None, "{bad}");
        }
        // Tokens from before sealing still open; without a key nothing is sealed.
        assert_eq!(seal.open("client-1", token).as_deref(), Some(token));
        assert_eq!(TokenSeal::default().seal("client-1", token).unwrap(), token);
    }
}
