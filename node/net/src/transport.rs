//! The TCP transport between members, tuned so that a dead link is noticed in
//! seconds and a live one, however slow or lossy, is kept.
//!
//! A member cut off the network looks, to its peers' TCP stacks, like a slow
//! one: unacknowledged data is retransmitted with exponential backoff for
//! about 15 minutes. When the link returns, nothing flows until the next
//! retransmission, which after a 20 s cut comes 5 to 10 s later, and then a
//! backlog of requests long abandoned by their callers goes first. Instead:
//!
//! - **`TCP_USER_TIMEOUT`** ([`DEAD_AFTER`]): data unacknowledged that long
//!   closes the connection. A slow link still acknowledges what it carries,
//!   so only a link that carries nothing at all is closed; the swarm then
//!   dials again every redial interval, and the first dial after the link
//!   returns succeeds.
//! - **Keepalive** ([`KEEPALIVE_IDLE`], [`KEEPALIVE_INTERVAL`]): a connection
//!   with nothing to send probes, so an idle dead link is noticed too, about
//!   [`DEAD_AFTER`] after the last thing it heard.
//! - **Linear retransmission timeouts** while few packets are in flight (Linux's
//!   thin-stream mode): a lone lost heartbeat is resent after one RTO, not
//!   after a doubling series, so a lossy link neither stalls nor reaches
//!   [`DEAD_AFTER`] on a few losses in a row.
//! - **Bounded dials** ([`CONNECT_WITHIN`]): a SYN sent into a cut link is
//!   retried by the kernel after 1, 2, 4, 8… s, and a dial in that backoff
//!   blocks the next. A connect that has not completed in time is abandoned and
//!   the next redial starts afresh. The handshakes after it are bounded by
//!   [`DEAD_AFTER`] (nothing acknowledged) and, for a peer that acknowledges but
//!   never answers, by [`HANDSHAKE_WITHIN`].
//!
//! None of this bounds how long a request may take on a slow link: that is
//! the request timeout of [`crate::NetConfig`].

use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Boxed;
use libp2p::core::transport::timeout::TransportTimeout;
use libp2p::core::upgrade::Version;
use libp2p::core::{ConnectedPoint, Transport};
use libp2p::tcp::tokio::TcpStream;
use libp2p::{PeerId, tcp, yamux};
use socket2::{SockRef, TcpKeepalive};

use crate::tls::TlsConfig;

/// Data unacknowledged for this long closes a connection (`TCP_USER_TIMEOUT`).
/// Well above a slow link's round trip (the fault suite's shaped link queues
/// for up to 500 ms), well below the several seconds a member may be away.
pub const DEAD_AFTER: Duration = Duration::from_secs(3);
/// A connection idle this long sends a keepalive probe.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(2);
/// Between unanswered keepalive probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// A TCP connect (the SYN and its answer) not done within this is abandoned.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(2);
/// The TLS and multiplexer handshakes of a new connection, whichever side
/// opened it, must be done within this.
pub const HANDSHAKE_WITHIN: Duration = Duration::from_secs(20);

/// Sets the options above on a connected socket.
fn tune(stream: TcpStream, _: ConnectedPoint) -> futures::future::Ready<std::io::Result<TcpStream>> {
    let tuned = (|| {
        let socket = SockRef::from(&stream.0);
        socket.set_tcp_user_timeout(Some(DEAD_AFTER))?;
        socket.set_tcp_keepalive(
            &TcpKeepalive::new().with_time(KEEPALIVE_IDLE).with_interval(KEEPALIVE_INTERVAL).with_retries(3),
        )?;
        socket.set_tcp_thin_linear_timeouts(true)
    })();
    futures::future::ready(tuned.map(|()| stream))
}

/// TCP with the options above, mutual TLS ([`TlsConfig`]) and yamux.
pub(crate) fn build(tls: TlsConfig) -> Boxed<(PeerId, StreamMuxerBox)> {
    let tcp = tcp::tokio::Transport::new(tcp::Config::default().nodelay(true));
    TransportTimeout::with_outgoing_timeout(tcp, CONNECT_WITHIN)
        .and_then(tune)
        .upgrade(Version::V1Lazy)
        .authenticate(tls)
        .multiplex(yamux::Config::default())
        .timeout(HANDSHAKE_WITHIN)
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed()
}
