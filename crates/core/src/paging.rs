//! Paging tokens: a list's position as an opaque `nextToken`, and back; a
//! token the service did not issue is `InvalidNextTokenException`.

use crate::api::ApiError;
use crate::error_code::ErrorCode;
use crate::fail::{Fail, Res};

/// Encodes a paging position as an opaque `nextToken`.
pub(crate) fn encode_token(position: &str) -> String {
    position.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a `nextToken`; a token we did not issue is `InvalidNextTokenException`.
pub(crate) fn decode_token(token: &str) -> Res<String> {
    let bad = || Fail::Api(ApiError::client(ErrorCode::InvalidNextTokenException, "The next token is not valid."));
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())
}

/// Decodes a numeric paging offset.
pub(crate) fn decode_offset(token: Option<&str>) -> Res<usize> {
    match token {
        None => Ok(0),
        Some(t) => decode_token(t)?.strip_prefix("offset:").and_then(|n| n.parse().ok()).ok_or_else(|| {
            Fail::Api(ApiError::client(ErrorCode::InvalidNextTokenException, "The next token is not valid."))
        }),
    }
}

/// Encodes a numeric paging offset.
pub(crate) fn encode_offset(offset: usize) -> String {
    encode_token(&format!("offset:{offset}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_token(&encode_token("pipe-1")).unwrap(), "pipe-1");
        assert_eq!(decode_offset(Some(&encode_offset(42))).unwrap(), 42);
        assert!(decode_token("zz").is_err());
        assert!(decode_offset(Some(&encode_token("nope"))).is_err());
    }
}
