//! The request body rule: in every `body_read_timeout` spent waiting for the
//! client, at least `body_min_bytes` of body must arrive.
//!
//! Only time spent waiting for the client counts: time the handler spends
//! elsewhere (writing to disk) between reads does not, so a slow handler never
//! fails a client, and an upload at any real network's speed never fails
//! however large; a stall, or a trickle (one byte every few seconds), does, and
//! the body's connection is marked for closing.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use crate::conn::{ConnectionLimits, Watch};

/// Why a request body was cut off: the client sent it too slowly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the client sent the request body too slowly")
    }
}

impl std::error::Error for BodyTooSlow {}

/// A request body under the body rule (see the module documentation).
pub(crate) struct TimedBody<B> {
    inner: B,
    window: Duration,
    min_bytes: u64,
    /// Time spent waiting for the client in the current window.
    waited: Duration,
    /// Bytes received in the current window.
    bytes: u64,
    /// Since when the body has been waiting for the client, if it is.
    pending_since: Option<Instant>,
    /// Made at the first wait: most bodies arrive with their headers and never wait.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    armed_for: Option<Instant>,
    failed: bool,
    watch: Option<Arc<Watch>>,
}

impl<B> TimedBody<B> {
    pub(crate) fn new(inner: B, limits: &ConnectionLimits, watch: Option<Arc<Watch>>) -> TimedBody<B> {
        TimedBody {
            inner,
            window: limits.body_read_timeout,
            min_bytes: limits.body_min_bytes,
            waited: Duration::ZERO,
            bytes: 0,
            pending_since: None,
            timer: None,
            armed_for: None,
            failed: false,
            watch,
        }
    }

    /// Closes the window that just ended: refused if too few bytes came.
    fn end_window(&mut self) -> Result<(), BodyTooSlow> {
        if self.bytes < self.min_bytes {
            self.failed = true;
            if let Some(w) = &self.watch {
                w.doom();
            }
            tracing::debug!(
                bytes = self.bytes,
                window_secs = self.window.as_secs_f64(),
                "request body too slow; closing the connection"
            );
            return Err(BodyTooSlow);
        }
        self.waited = Duration::ZERO;
        self.bytes = 0;
        Ok(())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<B> HttpBody for TimedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(since) = this.pending_since.take() {
                    this.waited += since.elapsed();
                }
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
                if this.waited >= this.window
                    && let Err(e) = this.end_window()
                {
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => loop {
                let since = *this.pending_since.get_or_insert_with(Instant::now);
                let due = since + this.window.saturating_sub(this.waited);
                let due_at = tokio::time::Instant::from_std(due);
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due_at)));
                if this.armed_for != Some(due) {
                    timer.as_mut().reset(due_at);
                    this.armed_for = Some(due);
                }
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // A whole window spent waiting: judge it, and start the next.
                this.waited = this.window;
                if let Err(e) = this.end_window() {
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                this.pending_since = Some(Instant::now());
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    /// A body fed by the test, chunk by chunk.
    struct Fed(tokio::sync::mpsc::Receiver<Bytes>);

    impl HttpBody for Fed {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
        }
    }

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            body_read_timeout: Duration::from_millis(200),
            body_min_bytes: 100,
            ..ConnectionLimits::default()
        }
    }

    async fn read_all(mut body: TimedBody<Fed>, pause: Duration) -> Result<usize, BoxError> {
        let mut n = 0;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            n += frame?.into_data().map(|d| d.len()).unwrap_or(0);
            // The handler's own work between reads (a disk write, say).
            tokio::time::sleep(pause).await;
        }
        Ok(n)
    }

    #[tokio::test]
    async fn a_slow_handler_never_fails_a_prompt_client() {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        for _ in 0..6 {
            tx.send(Bytes::from_static(&[1; 10])).await.unwrap();
        }
        drop(tx);
        // 60 bytes in 6 reads 100 ms apart: far below 100 bytes per 200 ms of
        // wall time, but the client never kept the handler waiting.
        let n = read_all(TimedBody::new(Fed(rx), &limits(), None), Duration::from_millis(100)).await.unwrap();
        assert_eq!(n, 60);
    }

    #[tokio::test]
    async fn a_trickle_fails_and_a_stall_fails() {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let feeder = tokio::spawn(async move {
            for _ in 0..40 {
                if tx.send(Bytes::from_static(b"x")).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let e = read_all(TimedBody::new(Fed(rx), &limits(), None), Duration::ZERO).await.unwrap_err();
        assert!(e.is::<BodyTooSlow>(), "{e}");
        feeder.abort();

        let (_tx, rx) = tokio::sync::mpsc::channel(1);
        let e = read_all(TimedBody::new(Fed(rx), &limits(), None), Duration::ZERO).await.unwrap_err();
        assert!(e.is::<BodyTooSlow>(), "{e}");
    }
}
