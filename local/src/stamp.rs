//! hyper answers what it cannot parse (a bad request line or header, a head beyond its buffer)
//! by itself, before any of our code runs, so those answers lack the `apigw-requestid` header
//! every gateway answer carries. This wraps a connection's writes and adds one to any response
//! head that has none. It also counts what was read since the last answer, so that a head
//! hyper drops without a word (cut short, or beyond its buffer) can still be answered.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const STATUS_LINE: &[u8] = b"HTTP/1.1 ";
const HEADER: &[u8] = b"apigw-requestid";

/// A connection whose response heads all carry a request id.
#[derive(Debug)]
pub(crate) struct Stamped<T> {
    inner: T,
    /// A rewritten head being written: the bytes, how many are out, and how many of the
    /// caller's bytes they stand for.
    pending: Option<(Vec<u8>, usize, usize)>,
    /// Bytes read since the last write: a request not answered yet.
    unanswered: usize,
}

impl<T> Stamped<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self {
            inner,
            pending: None,
            unanswered: 0,
        }
    }

    /// How many bytes arrived after the last answer (0: nothing is waiting for one).
    pub(crate) fn unanswered(&self) -> usize {
        self.unanswered
    }

    pub(crate) fn into_inner(self) -> T {
        self.inner
    }
}

/// The statuses hyper sends on its own (hyper's `on_error`: bad method, header, URI or
/// version; URI too long; head too large). Only those are looked at, so that a body which
/// happens to start a write with `HTTP/1.1 200` is never touched.
const HYPER_STATUSES: [&[u8]; 3] = [b"400 ", b"414 ", b"431 "];

/// `buf` with `apigw-requestid` added after its status line, when it starts one of hyper's own
/// answers and has none.
fn stamp(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf.strip_prefix(STATUS_LINE)?;
    if !HYPER_STATUSES.iter().any(|status| rest.starts_with(status)) {
        return None;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &buf[..head_end];
    let lower = head.to_ascii_lowercase();
    if lower.windows(HEADER.len()).any(|w| w == HEADER) {
        return None;
    }
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    let id = crate::event::new_request_id();
    let mut out = Vec::with_capacity(buf.len() + 40);
    out.extend_from_slice(&buf[..line_end + 2]);
    out.extend_from_slice(b"apigw-requestid: ");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&buf[line_end + 2..]);
    tracing::info!(request_id = id, status = %String::from_utf8_lossy(&head[STATUS_LINE.len()..line_end]), "request refused by the HTTP parser");
    Some(out)
}

impl<T: AsyncWrite + Unpin> Stamped<T> {
    /// Writes out a pending rewritten head; `Ready(Ok(n))` with the caller's byte count once done.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        while let Some((bytes, written, stands_for)) = &mut self.pending {
            if *written == bytes.len() {
                let stands_for = *stands_for;
                self.pending = None;
                return Poll::Ready(Ok(Some(stands_for)));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(None))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Stamped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.unanswered = self.unanswered.saturating_add(buf.filled().len() - before);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stamped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.unanswered = 0;
        if this.pending.is_none()
            && let Some(stamped) = stamp(buf)
        {
            this.pending = Some((stamped, 0, buf.len()));
        }
        if this.pending.is_some() {
            // hyper calls again with the same bytes until this reports them written.
            return match ready!(this.poll_pending(cx))? {
                Some(n) => Poll::Ready(Ok(n)),
                None => Poll::Ready(Ok(0)),
            };
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A head half written stays pending until hyper writes again; flushing does not lose it.
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each head in one buffer, so `stamp` sees it whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_without_request_id_gets_one_after_the_status_line() {
        let head = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let stamped = String::from_utf8(stamp(head).unwrap()).unwrap();
        assert!(
            stamped.starts_with("HTTP/1.1 400 Bad Request\r\napigw-requestid: "),
            "{stamped}"
        );
        assert!(
            stamped.ends_with("\r\ncontent-length: 0\r\n\r\n"),
            "{stamped}"
        );
    }

    #[test]
    fn heads_with_an_id_bodies_and_interim_answers_pass_unchanged() {
        assert_eq!(
            stamp(b"HTTP/1.1 200 OK\r\napigw-requestid: x\r\n\r\nbody"),
            None
        );
        assert_eq!(
            stamp(b"HTTP/1.1 200 OK\r\nApigw-RequestId: x\r\n\r\n"),
            None
        );
        assert_eq!(stamp(b"HTTP/1.1 100 Continue\r\n\r\n"), None);
        assert_eq!(
            stamp(b"HTTP/1.1 200 OK\r\nx: y\r\n\r\n"),
            None,
            "only hyper's own statuses"
        );
        assert_eq!(stamp(b"{\"message\":\"HTTP/1.1 \"}"), None);
        assert_eq!(
            stamp(b"HTTP/1.1 400 Bad Request\r\n"),
            None,
            "not a whole head"
        );
    }
}
