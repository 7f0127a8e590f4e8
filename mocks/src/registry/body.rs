//! A response body that streams an in-memory `Bytes` in chunks without copying.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

/// Largest frame handed to hyper; each is a zero-copy slice of the stored bytes.
const CHUNK: usize = 64 * 1024;

/// The body of every registry response.
#[derive(Debug, Default)]
pub(crate) struct RegistryBody {
    remaining: Bytes,
}

impl RegistryBody {
    /// A body carrying `bytes` (a cheap reference-counted clone of stored content).
    pub(crate) fn new(bytes: Bytes) -> Self {
        Self { remaining: bytes }
    }

    /// No body.
    pub(crate) fn empty() -> Self {
        Self::default()
    }
}

impl hyper::body::Body for RegistryBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.remaining.len().min(CHUNK);
        Poll::Ready(Some(Ok(Frame::data(self.remaining.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining.len() as u64)
    }
}
