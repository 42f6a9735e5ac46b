//! Accepting and serving client connections (HTTP/1.1 through hyper), with the limits a
//! service facing untrusted clients needs:
//!
//! * at most `max_connections` open connections, and `max_connections_per_peer` from one IP
//!   address; a connection over either is closed as it is accepted (counted in
//!   `mcpwire_gateway_connections_refused_total{limit}`);
//! * a client must send a whole request head within `header_timeout_secs` of its first byte
//!   (slowloris), and a new connection must start one within that time (silent connections);
//! * a kept-alive connection with no request in flight is closed after
//!   `client_idle_timeout_secs` (both counted in
//!   `mcpwire_gateway_connections_timed_out_total{timeout}`);
//! * draining (SIGTERM): the listener stays open and `/readyz` answers 503 while open
//!   requests finish, up to `shutdown_grace_secs`; kept-alive connections are closed after
//!   their current request, new ones serve one request each; then everything is closed.
//!
//! Every accepted socket has `TCP_NODELAY`, so a streamed reply is not held back by the
//! client's delayed ACK.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tower::ServiceExt as _;

use crate::config::Limits;
use crate::state::App;

/// Connections open now, in total and per peer address.
#[derive(Default)]
struct Open {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
}

/// One open connection's place in [`Open`]; released on drop.
struct Slot {
    open: Arc<Mutex<Open>>,
    peer: IpAddr,
    app: Arc<App>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.per_peer.remove(&self.peer);
            }
        }
        self.app.metrics.connection_open(-1);
    }
}

fn admit(open: &Arc<Mutex<Open>>, peer: IpAddr, limits: &Limits, app: &Arc<App>) -> Option<Slot> {
    let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
    if o.total >= limits.max_connections {
        app.metrics.connection_refused("total");
        return None;
    }
    let n = o.per_peer.entry(peer).or_insert(0);
    if *n >= limits.max_connections_per_peer {
        app.metrics.connection_refused("peer");
        return None;
    }
    *n += 1;
    o.total += 1;
    app.metrics.connection_open(1);
    Some(Slot {
        open: open.clone(),
        peer,
        app: app.clone(),
    })
}

/// Never: "no byte since the connection went idle".
const NONE: u64 = u64::MAX;

/// What a connection's watchdog needs to know (times in ms since the connection opened).
struct ConnState {
    opened: Instant,
    in_flight: AtomicUsize,
    served: AtomicU64,
    idle_since: AtomicU64,
    first_byte: AtomicU64,
}

impl ConnState {
    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    /// When, if nothing changes, the connection is due to close, and for which timeout.
    fn due(&self, limits: &Limits) -> Option<(u64, &'static str)> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let header = limits.header_timeout.as_millis() as u64;
        let first = self.first_byte.load(Ordering::SeqCst);
        if first != NONE {
            return Some((first.saturating_add(header), "header"));
        }
        let since = self.idle_since.load(Ordering::SeqCst);
        Some(if self.served.load(Ordering::SeqCst) == 0 {
            (since.saturating_add(header), "header")
        } else {
            let idle = limits.client_idle_timeout.as_millis() as u64;
            (since.saturating_add(idle), "idle")
        })
    }
}

/// The socket, noting when the first byte of a request head arrives.
struct Tracked {
    tcp: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before
            && self.state.in_flight.load(Ordering::SeqCst) == 0
            && self.state.first_byte.load(Ordering::SeqCst) == NONE
        {
            let now = self.state.now();
            self.state.first_byte.store(now, Ordering::SeqCst);
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// Marks a request in flight on its connection and in the process until its response body
/// is done (or dropped).
struct InFlight {
    state: Arc<ConnState>,
    all: Arc<AtomicUsize>,
}

impl InFlight {
    fn begin(state: &Arc<ConnState>, all: &Arc<AtomicUsize>) -> InFlight {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        all.fetch_add(1, Ordering::SeqCst);
        InFlight {
            state: state.clone(),
            all: all.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let s = &self.state;
        s.served.fetch_add(1, Ordering::SeqCst);
        s.first_byte.store(NONE, Ordering::SeqCst);
        s.idle_since.store(s.now(), Ordering::SeqCst);
        s.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.all.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that ends its request's [`InFlight`] when it is done or dropped.
struct ObservedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for ObservedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `router` on `listener` until `stop` fires, then drains (see the module docs).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    router: axum::Router,
    stop: oneshot::Receiver<()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let all = Arc::new(AtomicUsize::new(0));
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut accept_error_logged = false;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    accept_error_logged = false;
                    let limits = app.live().config.limits.clone();
                    let Some(slot) = admit(&open, peer.ip(), &limits, &app) else {
                        drop(tcp);
                        continue;
                    };
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY");
                    }
                    tasks.spawn(connection(
                        tcp,
                        slot,
                        router.clone(),
                        app.clone(),
                        all.clone(),
                        drain_rx.clone(),
                    ));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    if !accept_error_logged {
                        tracing::warn!(error = %e, "accept failed");
                        accept_error_logged = true;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut stop, if drain_until.is_none() => {
                let grace = app.live().config.limits.shutdown_grace;
                tracing::info!(grace_secs = grace.as_secs(), "draining");
                app.draining.store(true, Ordering::SeqCst);
                let _ = drain_tx.send(true);
                drain_until = Some(tokio::time::Instant::now() + grace);
            }
            _ = tokio::time::sleep(Duration::from_millis(20)), if drain_until.is_some() => {
                if all.load(Ordering::SeqCst) == 0 {
                    break;
                }
                if drain_until.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    tracing::warn!("shutdown grace period over; closing open streams");
                    break;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    // The ends of the last requests may still wait for an admission to carry them.
    app.limits.flush().await;
}

/// Whether bytes wait in the socket that were never read while the connection looked silent:
/// then the client is not the slow party.
fn unread_bytes(probe: Option<&std::net::TcpStream>, state: &ConnState) -> bool {
    if state.first_byte.load(Ordering::SeqCst) != NONE {
        // The head started arriving and stopped: the client is slow.
        return false;
    }
    // The socket is non-blocking (the duplicate shares its flags): no data is WouldBlock.
    probe.is_some_and(|p| p.peek(&mut [0u8; 1]).is_ok_and(|n| n > 0))
}

async fn connection(
    tcp: TcpStream,
    _slot: Slot,
    router: axum::Router,
    app: Arc<App>,
    all: Arc<AtomicUsize>,
    mut drain: watch::Receiver<bool>,
) {
    // A second handle on the socket, to tell a silent client from one whose bytes this
    // process has not got round to reading (a busy runtime must not close good connections).
    let probe = {
        use std::os::fd::AsFd as _;
        tcp.as_fd()
            .try_clone_to_owned()
            .ok()
            .map(std::net::TcpStream::from)
    };
    let state = Arc::new(ConnState {
        opened: Instant::now(),
        in_flight: AtomicUsize::new(0),
        served: AtomicU64::new(0),
        idle_since: AtomicU64::new(0),
        first_byte: AtomicU64::new(NONE),
    });
    let io = TokioIo::new(Tracked {
        tcp,
        state: state.clone(),
    });
    let service = {
        let state = state.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::begin(&state, &all);
            let router = router.clone();
            async move {
                let response = router.oneshot(request.map(Body::new)).await?;
                Ok::<_, std::convert::Infallible>(response.map(|inner| {
                    Body::new(ObservedBody {
                        inner,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let draining = *drain.borrow();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.header_read_timeout(None).keep_alive(!draining);
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut shutting_down = draining;
    loop {
        let limits = app.live().config.limits.clone();
        let due = state.due(&limits);
        let wake = match due {
            Some((at, _)) => {
                let now = state.now();
                tokio::time::Instant::now() + Duration::from_millis(at.saturating_sub(now))
            }
            None => tokio::time::Instant::now() + limits.header_timeout,
        };
        tokio::select! {
            _ = conn.as_mut() => break,
            changed = drain.changed(), if !shutting_down => {
                if changed.is_err() || *drain.borrow() {
                    shutting_down = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                if let Some((at, which)) = state.due(&limits)
                    && state.now() >= at
                    && !unread_bytes(probe.as_ref(), &state)
                {
                    app.metrics.connection_timed_out(which);
                    break;
                }
            }
        }
    }
}
