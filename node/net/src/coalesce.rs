//! A write buffer between the multiplexer and TLS, so that what the
//! multiplexer writes between two flushes leaves as one TLS record and one
//! system call.
//!
//! yamux writes each frame as two writes (its 12-byte header, then the body)
//! and flushes after every frame. Straight onto TLS, each write became a TLS
//! record of its own and a `writev` of its own: a request, with its substream's
//! opening, protocol negotiation, answer and closing, took about eight. Held
//! here until the flush, a frame costs one of each.
//!
//! Writes are accepted into the buffer up to [`LIMIT`] bytes; beyond that the
//! buffer is written out first, so a writer that never flushes still makes
//! progress and the buffer never grows past the limit. Reads pass through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{AsyncRead, AsyncWrite};

/// The most bytes held before they are written out whether or not the writer
/// flushed: one TLS record's worth.
pub(crate) const LIMIT: usize = 16 * 1024;

/// `inner` with its writes held until a flush (see the module documentation).
#[derive(Debug)]
pub struct Coalesced<S> {
    inner: S,
    buf: Vec<u8>,
    /// Bytes of `buf` already written to `inner`.
    sent: usize,
}

impl<S> Coalesced<S> {
    pub(crate) fn new(inner: S) -> Coalesced<S> {
        Coalesced { inner, buf: Vec::new(), sent: 0 }
    }
}

impl<S: AsyncWrite + Unpin> Coalesced<S> {
    /// Writes out everything held.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.buf.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Coalesced<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read_vectored(cx, bufs)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Coalesced<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + data.len() > LIMIT {
            ready!(this.poll_drain(cx))?;
            if data.len() >= LIMIT {
                return Pin::new(&mut this.inner).poll_write(cx, data);
            }
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Records each write it is given as one piece.
    #[derive(Default)]
    struct Pieces(Vec<Vec<u8>>);

    impl AsyncWrite for Pieces {
        fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
            // At most 10,000 bytes a write, as a socket with a full buffer takes.
            let n = data.len().min(10_000);
            self.get_mut().0.push(data[..n].to_vec());
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncRead for Pieces {
        fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            if this.0.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let piece = this.0.remove(0);
            buf[..piece.len()].copy_from_slice(&piece);
            Poll::Ready(Ok(piece.len()))
        }
    }

    #[test]
    fn writes_between_flushes_leave_as_one_and_nothing_is_lost_or_reordered() {
        futures::executor::block_on(async {
            let mut s = Coalesced::new(Pieces::default());
            s.write_all(b"header").await.unwrap();
            s.write_all(b"body").await.unwrap();
            assert!(s.inner.0.is_empty(), "held until the flush");
            s.flush().await.unwrap();
            assert_eq!(s.inner.0, vec![b"headerbody".to_vec()]);

            // Past the limit the buffer goes out without a flush, in order,
            // and a large write goes straight through.
            let mut s = Coalesced::new(Pieces::default());
            let small = vec![1u8; LIMIT - 10];
            let large = vec![2u8; 3 * LIMIT];
            s.write_all(&small).await.unwrap();
            s.write_all(&large).await.unwrap();
            s.write_all(b"tail").await.unwrap();
            s.close().await.unwrap();
            let sent: Vec<u8> = s.inner.0.concat();
            assert_eq!(sent, [small, large, b"tail".to_vec()].concat());
            assert!(s.buf.is_empty());

            // Reads pass through.
            let mut s = Coalesced::new(Pieces(vec![b"abc".to_vec()]));
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"abc");
        });
    }
}
