//! Random identifiers and secrets: ids of jobs, executions and clients,
//! nonces, client tokens, and the comparison of secrets in constant time.

/// A fresh UUID (job ids, execution ids, client ids, nonces).
pub(crate) fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A secret token: 256 random bits, hex.
pub(crate) fn secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// A short random suffix for artifact object keys.
pub(crate) fn short_id() -> String {
    let s = uuid::Uuid::new_v4().simple().to_string();
    s[..7].to_owned()
}

/// Compares secrets in time independent of where they first differ.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
