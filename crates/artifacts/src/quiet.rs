//! What the S3 endpoint logs, and what it keeps out of the logs.
//!
//! s3s logs every refused request twice at ERROR (an unsigned GET is two
//! ERROR lines: log flooding for anyone with a socket), and at DEBUG it logs
//! the whole request, `Authorization` and session token included, and the
//! signature it expected. Its calls therefore run under [`Quiet`], which
//! passes everything on to the subscriber in force except s3s's WARN and
//! ERROR events and its events that carry the request, signatures or
//! multipart forms. [`ArtifactService`](crate::ArtifactService) logs each
//! request itself instead: at DEBUG, with [`redacted_uri`] and
//! [`redacted_headers`]; a 5xx answer at ERROR (the store's own failures are
//! logged where they happen).

use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Level, Metadata, Subscriber, span};

/// Fields of s3s's events that hold secrets (the request with its headers,
/// signatures, multipart forms with their policy and signature).
const SECRET_FIELDS: [&str; 8] =
    ["req", "resp", "signature", "raw_signature", "expected", "string_to_sign", "multipart", "meta"];

fn silenced(meta: &Metadata<'_>) -> bool {
    let from_s3s = meta.target() == "s3s" || meta.target().starts_with("s3s::");
    from_s3s
        && meta.is_event()
        && (*meta.level() <= Level::WARN || meta.fields().iter().any(|f| SECRET_FIELDS.contains(&f.name())))
}

/// A subscriber that forwards to `inner` all but s3s's noisy or secret-bearing events.
pub(crate) struct Quiet {
    inner: Dispatch,
    /// The most verbose level enabled when it was made (`Dispatch` does not
    /// tell its subscriber's hint).
    hint: tracing::level_filters::LevelFilter,
}

impl Quiet {
    /// `inner` with s3s's noise left out.
    pub(crate) fn around(inner: Dispatch) -> Dispatch {
        Dispatch::new(Quiet { inner, hint: tracing::level_filters::LevelFilter::current() })
    }
}

impl Subscriber for Quiet {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if silenced(meta) { Interest::never() } else { self.inner.register_callsite(meta) }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        !silenced(meta) && self.inner.enabled(meta)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(self.hint)
    }

    fn new_span(&self, span: &span::Attributes<'_>) -> span::Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &span::Id, values: &span::Record<'_>) {
        self.inner.record(span, values)
    }

    fn record_follows_from(&self, span: &span::Id, follows: &span::Id) {
        self.inner.record_follows_from(span, follows)
    }

    fn event(&self, event: &Event<'_>) {
        if !silenced(event.metadata()) {
            self.inner.event(event)
        }
    }

    fn enter(&self, span: &span::Id) {
        self.inner.enter(span)
    }

    fn exit(&self, span: &span::Id) {
        self.inner.exit(span)
    }

    fn clone_span(&self, id: &span::Id) -> span::Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: span::Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.inner.current_span()
    }
}

/// Query parameters whose values are secrets or name who signed.
const SECRET_PARAMETERS: [&str; 5] =
    ["x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid"];

/// Headers whose values are secrets.
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-amz-security-token", "cookie"];

/// `uri` with the values of signing parameters replaced by `REDACTED`.
pub fn redacted_uri(uri: &http::Uri) -> String {
    let Some(query) = uri.query() else { return uri.path().to_owned() };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_PARAMETERS.iter().any(|s| k.eq_ignore_ascii_case(s)) => format!("{k}=REDACTED"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), query.join("&"))
}

/// `headers` as `name: value` pairs, secret values replaced by `REDACTED`.
pub fn redacted_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let value = if SECRET_HEADERS.contains(&k.as_str()) {
                "REDACTED".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let uri: http::Uri =
            "/b/k?X-Amz-Credential=AKIA%2F20261129%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc&uploadId=7"
                .parse()
                .unwrap();
        assert_eq!(redacted_uri(&uri), "/b/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&uploadId=7");
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "AWS4-HMAC-SHA256 Credential=...".parse().unwrap());
        h.insert("x-amz-security-token", "tok".parse().unwrap());
        h.insert("content-length", "3".parse().unwrap());
        let r = redacted_headers(&h);
        assert!(r.contains(&("authorization".into(), "REDACTED".into())));
        assert!(r.contains(&("x-amz-security-token".into(), "REDACTED".into())));
        assert!(r.contains(&("content-length".into(), "3".into())));
    }
}
