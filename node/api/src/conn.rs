//! Limits on connections that the HTTP stack does not set by itself, so that
//! clients which connect and then say nothing, or trickle their requests
//! (slowloris), cannot hold the gateway's connections.
//!
//! - hyper closes an HTTP/1 connection whose request head takes longer than
//!   its header-read timeout, but only when given a timer, and axum-server
//!   builds connections without one: [`bound_header_reads`] sets both.
//! - Before hyper sees a connection, hyper-util reads its first bytes to tell
//!   HTTP/1 from HTTP/2, with no time limit: [`FirstBytes`] gives those bytes
//!   the same limit.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use futures_util::future::BoxFuture;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The bytes hyper-util may read to tell the protocol: the HTTP/2 preface.
const VERSION_BYTES: usize = 24;

/// Closes HTTP/1 connections that take longer than `timeout` to send a
/// request head (the first, or the next on a kept-alive connection), and
/// pings idle HTTP/2 connections to find dead peers.
pub(crate) fn bound_header_reads(builder: &mut Builder<TokioExecutor>, timeout: Duration) {
    builder.http1().timer(TokioTimer::new()).header_read_timeout(timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(timeout);
}

/// An acceptor that wraps what `inner` accepts (a TCP or TLS stream) in
/// [`FirstBytes`].
#[derive(Debug, Clone)]
pub(crate) struct FirstBytesAcceptor<A> {
    pub(crate) inner: A,
    pub(crate) timeout: Duration,
}

impl<A, I, S> Accept<I, S> for FirstBytesAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Unpin,
{
    type Stream = FirstBytes<A::Stream>;
    type Service = A::Service;
    type Future = BoxFuture<'static, io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let timeout = self.timeout;
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            Ok((FirstBytes::new(stream, timeout), service))
        })
    }
}

/// A stream whose first [`VERSION_BYTES`] must arrive within a time limit;
/// past them it is the stream itself. A read that would wait beyond the limit
/// fails with [`io::ErrorKind::TimedOut`], which closes the connection.
pub(crate) struct FirstBytes<S> {
    inner: S,
    owed: usize,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> FirstBytes<S> {
    fn new(inner: S, timeout: Duration) -> FirstBytes<S> {
        FirstBytes { inner, owed: VERSION_BYTES, deadline: Some(Box::pin(tokio::time::sleep(timeout))) }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstBytes<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(deadline) = this.deadline.as_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().len() - before;
                this.owed = this.owed.saturating_sub(read);
                if this.owed == 0 || read == 0 {
                    this.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if deadline.as_mut().poll(cx).is_ready() => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client sent too little too slowly to start a request",
            ))),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstBytes<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
