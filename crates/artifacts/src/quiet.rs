//! Keeps s3s's own log events out of the service's logs.
//!
//! s3s logs every request in full at debug level (`Authorization`, the session
//! token, presigned query strings), the signature it expected when one does
//! not match, and every refused request twice at ERROR (an unsigned GET makes
//! two ERROR lines: log flooding for anyone with a socket). The endpoint logs
//! what matters itself, without secrets: refusals at debug (method, path,
//! status), store failures at error. So while s3s handles a request, its events
//! are dropped; its spans, and every other crate's events (ours included), go
//! to the dispatcher that was current when the endpoint served its first
//! request.

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

/// A subscriber that forwards to `inner` all but the events of s3s.
pub(crate) struct QuietS3s {
    inner: Dispatch,
    max: LevelFilter,
}

impl QuietS3s {
    /// The current dispatcher, without s3s's events.
    pub(crate) fn around_current() -> Dispatch {
        let inner = tracing::dispatcher::get_default(Dispatch::clone);
        Dispatch::new(QuietS3s { inner, max: LevelFilter::current() })
    }
}

/// Whether `meta` is an event s3s emits.
fn is_s3s_event(meta: &Metadata<'_>) -> bool {
    meta.is_event() && (meta.target() == "s3s" || meta.target().starts_with("s3s::"))
}

impl Subscriber for QuietS3s {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_s3s_event(meta) { Interest::never() } else { self.inner.register_callsite(meta) }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        !is_s3s_event(meta) && self.inner.enabled(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // What the process logs at most: this subscriber must not raise it.
        Some(self.max)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        // Another dispatcher's interest can let an s3s event through to here.
        if !is_s3s_event(event.metadata()) {
            self.inner.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.inner.current_span()
    }
}
