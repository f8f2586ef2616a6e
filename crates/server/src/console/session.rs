//! The console's session cookie and CSRF tokens.
//!
//! A session is `ACCOUNT.KEYID.EXPIRES.SID.MAC`: the account and access key id
//! (hex) the user signed in with, when the session ends (Unix seconds), a
//! random session id, and an HMAC-SHA256 over the rest under the console key
//! (derived from the service key, so sessions survive a restart and no other
//! service can mint them). Nothing secret is in it; a changed byte breaks the MAC.
//!
//! Each form carries a CSRF token, the MAC of the session id under another
//! label: a page of another origin can neither read it nor compute it. The
//! sign-in form, which has no session yet, carries the MAC of a random value
//! kept in a short-lived cookie of its own (so another site cannot sign a
//! browser in to an account of its choosing).
//!
//! Signing out records the session id as revoked until the session would have
//! ended, so a copy of the cookie stops working too.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "cpjobs_session";
/// The cookie the sign-in form's CSRF token is bound to.
pub(crate) const SIGNIN_COOKIE: &str = "cpjobs_signin";
/// How long the sign-in form stays usable.
pub(crate) const SIGNIN_TTL: Duration = Duration::from_secs(3600);

/// Who is signed in, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// The 12-digit account id.
    pub(crate) account_id: String,
    /// The access key id the user signed in with (never its secret).
    pub(crate) access_key_id: String,
    /// When the session ends.
    pub(crate) expires: u64,
    /// Random, hex: what CSRF tokens and revocation are keyed on.
    pub(crate) sid: String,
}

/// Signs and checks sessions and CSRF tokens.
pub(crate) struct Sessions {
    key: hmac::Key,
    ttl: Duration,
    /// Signed-out session ids, with when each would have ended anyway.
    revoked: Mutex<HashMap<String, u64>>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// 16 random bytes, hex.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    // The OS's generator does not fail on the systems this runs on; if it did,
    // a zero id would still be unguessable in its MAC, but say so loudly.
    if let Err(e) = getrandom::fill(&mut b) {
        tracing::error!(error = %e, "no randomness for a console session id");
    }
    hex(&b)
}

impl Sessions {
    /// Sessions signed under `key`, each lasting `ttl`.
    pub(crate) fn new(key: [u8; 32], ttl: Duration) -> Sessions {
        Sessions { key: hmac::Key::new(hmac::HMAC_SHA256, &key), ttl, revoked: Mutex::default() }
    }

    /// How long a new session lasts.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    fn mac(&self, label: &str, data: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(label.as_bytes());
        ctx.update(&[0]);
        ctx.update(data.as_bytes());
        hex(ctx.sign().as_ref())
    }

    fn mac_ok(&self, label: &str, data: &str, mac_hex: &str) -> bool {
        let Some(tag) = unhex(mac_hex) else { return false };
        let mut msg = Vec::with_capacity(label.len() + 1 + data.len());
        msg.extend_from_slice(label.as_bytes());
        msg.push(0);
        msg.extend_from_slice(data.as_bytes());
        // Constant time: ring compares the tags itself.
        hmac::verify(&self.key, &msg, &tag).is_ok()
    }

    /// A new session for the principal, starting at `now`; the cookie value with it.
    pub(crate) fn issue(&self, account_id: &str, access_key_id: &str, now: SystemTime) -> (Session, String) {
        let session = Session {
            account_id: account_id.to_owned(),
            access_key_id: access_key_id.to_owned(),
            expires: unix(now) + self.ttl.as_secs(),
            sid: random_id(),
        };
        let body =
            format!("{}.{}.{}.{}", session.account_id, hex(access_key_id.as_bytes()), session.expires, session.sid);
        let value = format!("{body}.{}", self.mac("session", &body));
        (session, value)
    }

    /// The session a cookie value names, if its MAC holds, it has not ended
    /// at `now`, and nobody signed it out.
    pub(crate) fn check(&self, value: &str, now: SystemTime) -> Option<Session> {
        let (body, mac) = value.rsplit_once('.')?;
        if !self.mac_ok("session", body, mac) {
            return None;
        }
        let mut parts = body.split('.');
        let (account_id, key_hex, expires, sid) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let expires: u64 = expires.parse().ok()?;
        if expires <= unix(now) {
            return None;
        }
        if self.revoked.lock().unwrap_or_else(PoisonError::into_inner).contains_key(sid) {
            return None;
        }
        let access_key_id = String::from_utf8(unhex(key_hex)?).ok()?;
        Some(Session { account_id: account_id.to_owned(), access_key_id, expires, sid: sid.to_owned() })
    }

    /// Ends `session` for good (signing out), forgetting revocations that expired.
    pub(crate) fn revoke(&self, session: &Session, now: SystemTime) {
        let mut revoked = self.revoked.lock().unwrap_or_else(PoisonError::into_inner);
        let now = unix(now);
        revoked.retain(|_, until| *until > now);
        revoked.insert(session.sid.clone(), session.expires);
    }

    /// The CSRF token of the forms of `session`.
    pub(crate) fn csrf(&self, session: &Session) -> String {
        self.mac("csrf", &session.sid)
    }

    /// Whether `token` is the CSRF token of `session`.
    pub(crate) fn csrf_ok(&self, session: &Session, token: &str) -> bool {
        self.mac_ok("csrf", &session.sid, token)
    }

    /// The sign-in form's token for the value of its cookie.
    pub(crate) fn signin_token(&self, cookie: &str) -> String {
        self.mac("signin", cookie)
    }

    /// Whether `token` belongs to the sign-in cookie `cookie`.
    pub(crate) fn signin_ok(&self, cookie: &str, token: &str) -> bool {
        !cookie.is_empty() && self.mac_ok("signin", cookie, token)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: scoped to the console, out of scripts' reach, never
/// sent on another site's requests. `max_age` 0 deletes it.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Duration) -> String {
    format!("{name}={value}; Path=/console; Max-Age={}; HttpOnly; SameSite=Strict", max_age.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new([7; 32], Duration::from_secs(3600))
    }

    #[test]
    fn a_session_round_trips_until_it_ends() {
        let s = sessions();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let (session, value) = s.issue("111111111111", "AKIA.ODD;KEY", now);
        assert_eq!(s.check(&value, now), Some(session.clone()));
        assert_eq!(s.check(&value, now + Duration::from_secs(3599)), Some(session));
        assert_eq!(s.check(&value, now + Duration::from_secs(3600)), None);
        assert!(!value.contains(';') && !value.contains(' '), "a cookie-safe value: {value}");
    }

    #[test]
    fn a_changed_or_foreign_cookie_is_refused() {
        let s = sessions();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let (_, value) = s.issue("111111111111", "AKIAONE", now);
        // Another account in the same cookie.
        let forged = value.replacen("111111111111", "222222222222", 1);
        assert_eq!(s.check(&forged, now), None);
        // A later expiry.
        let (body, mac) = value.rsplit_once('.').unwrap();
        let mut parts: Vec<&str> = body.split('.').collect();
        let later = (parts[2].parse::<u64>().unwrap() + 10_000).to_string();
        parts[2] = &later;
        assert_eq!(s.check(&format!("{}.{mac}", parts.join(".")), now), None);
        // Another service key.
        let other = Sessions::new([8; 32], Duration::from_secs(3600));
        assert_eq!(other.check(&value, now), None);
        for junk in ["", ".", "a.b.c.d.e", "a.b.c.d.e.f", &format!("{value}x")] {
            assert_eq!(s.check(junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn signing_out_revokes_the_cookie() {
        let s = sessions();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let (session, value) = s.issue("111111111111", "AKIAONE", now);
        let (_, other) = s.issue("111111111111", "AKIAONE", now);
        s.revoke(&session, now);
        assert_eq!(s.check(&value, now), None);
        assert!(s.check(&other, now).is_some(), "only that session ends");
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let s = sessions();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let (a, _) = s.issue("111111111111", "AKIAONE", now);
        let (b, _) = s.issue("111111111111", "AKIAONE", now);
        let token = s.csrf(&a);
        assert!(s.csrf_ok(&a, &token));
        assert!(!s.csrf_ok(&b, &token));
        assert!(!s.csrf_ok(&a, ""));
        assert!(!s.csrf_ok(&a, &token[..62]));
        let t = s.signin_token("abc");
        assert!(s.signin_ok("abc", &t));
        assert!(!s.signin_ok("abd", &t));
        assert!(!s.signin_ok("", &s.signin_token("")));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = http::HeaderMap::new();
        h.append(http::header::COOKIE, "a=1; cpjobs_session=xyz".parse().unwrap());
        h.append(http::header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        let set = set_cookie(SESSION_COOKIE, "v", Duration::from_secs(60));
        assert_eq!(set, "cpjobs_session=v; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict");
    }
}
