//! Accepting connections: HTTP/1.1 on hyper with a header read timeout, so a
//! slow client (slowloris: headers trickled a byte at a time, or an idle
//! keep-alive connection) is closed instead of holding a socket for ever; a
//! write timeout, so a client that stops reading its response (the response
//! waiting in memory for it) is closed too; a cap on open connections; and a
//! graceful shutdown that lets open requests finish.
//!
//! `axum::serve` sets no timer, so hyper's header timeout never runs there;
//! this is the same accept loop with one.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Sleep;

/// What a connection may hold and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must arrive within this time (an idle keep-alive
    /// connection is closed after it too).
    pub header_timeout: Duration,
    /// A write of the response that makes no progress for this long (the
    /// client reads nothing) closes the connection.
    pub write_timeout: Duration,
    /// Connections served at once; more wait in the kernel's listen backlog
    /// until one closes.
    pub max_connections: usize,
}

/// How often "connection cap reached" is logged at most.
const FULL_LOG_EVERY: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting, asks every connection to close after its current request, and
/// returns once they all have.
pub async fn serve<S>(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: S,
) -> io::Result<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut full_logged: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A slot first: past the cap, connections wait (unaccepted) until one closes.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                let logged_lately = full_logged.is_some_and(|t| t.elapsed() < FULL_LOG_EVERY);
                if !logged_lately {
                    elogln!(
                        "buyerpath serve: {} connections open (--max-connections): new ones wait until one closes",
                        limits.max_connections
                    );
                    full_logged = Some(Instant::now());
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    Some(_) = conns.join_next(), if !conns.is_empty() => continue,
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                }
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            // Reap finished connections so the set stays small.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving the
                        // connections we have, try again shortly.
                        elogln!("buyerpath serve: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let mut stop = stop_rx.clone();
                conns.spawn(async move {
                    let _slot = slot;
                    let mut builder = http1::Builder::new();
                    builder
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.header_timeout)
                        .keep_alive(true);
                    let io = WriteTimeout::new(stream, limits.write_timeout);
                    let conn = builder.serve_connection(TokioIo::new(io), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => return,
                        _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
                    }
                    let _ = conn.await;
                });
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// A socket whose writes fail once one has made no progress for `limit`: a
/// client that stops reading (its receive window full) is cut off instead of
/// keeping the rest of its response in memory for ever. Reads are not timed
/// here (hyper's header timeout and the handlers' body timeout do that).
struct WriteTimeout<T> {
    inner: T,
    limit: Duration,
    /// Armed while a write waits: when it fires, the write fails.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    fn new(inner: T, limit: Duration) -> Self {
        WriteTimeout {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Passes a ready write through (progress: the clock stops); for a
    /// pending one, starts the clock or fails if it has run out.
    fn timed<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let clock = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if clock.as_mut().poll(cx).is_ready() {
            self.stalled = None;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing of the response within the write timeout",
            )));
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.timed(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.timed(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.timed(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.timed(cx, polled)
    }
}
