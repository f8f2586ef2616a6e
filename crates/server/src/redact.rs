//! What the service's request logs may show: the method and the URI with the
//! values of signing parameters (`X-Amz-Signature`, `X-Amz-Credential`,
//! `X-Amz-Security-Token`, SigV2's `Signature` and `AWSAccessKeyId`) replaced
//! by `REDACTED`, and no headers (`Authorization` and session tokens never
//! reach a log line).

use axum::body::Body;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;

/// Query parameters whose values are secrets, or name who signed.
const SECRET_PARAMETERS: [&str; 5] =
    ["x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid"];

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

fn request_span(req: &http::Request<Body>) -> tracing::Span {
    tracing::debug_span!("http", method = %req.method(), uri = %redacted_uri(req.uri()))
}

/// The trace layer's span function, as a plain function pointer.
pub(crate) type MakeSpan = fn(&http::Request<Body>) -> tracing::Span;

/// tower-http's trace layer with a span that shows the redacted URI only.
pub(crate) fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan> {
    TraceLayer::new_for_http().make_span_with(request_span as MakeSpan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_values_are_redacted_and_the_rest_kept() {
        let uri: http::Uri = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261129%2Fus-east-1%2Fs3%2Faws4_request&x-amz-security-token=tok&X-Amz-Signature=abc&partNumber=2".parse().unwrap();
        assert_eq!(
            redacted_uri(&uri),
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&x-amz-security-token=REDACTED&X-Amz-Signature=REDACTED&partNumber=2"
        );
        let v2: http::Uri = "/b/k?AWSAccessKeyId=AKIA&Signature=s&Expires=1".parse().unwrap();
        assert_eq!(redacted_uri(&v2), "/b/k?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1");
        assert_eq!(redacted_uri(&"/health".parse().unwrap()), "/health");
    }
}
