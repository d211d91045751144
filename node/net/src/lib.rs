//! Node-to-node networking. This is the only crate that uses libp2p; the rest
//! of the node addresses peers by [`NodeId`] and exchanges opaque byte messages.
//!
//! A libp2p swarm over TCP whose security upgrade is mutual TLS against the
//! consortium CA ([`tls`]), multiplexed with yamux, carrying one generic
//! request-response protocol ([`codec`]). Only admitted peers ([`Admission`]:
//! current members, not revoked) get past the handshake, and a connection is
//! denied again at establishment if admission changed in between; nothing from
//! a refused peer ever reaches the request handler. A connection over which
//! nothing is acknowledged for a few seconds is closed and dialled again, so a
//! member whose link returns is back at once; a slow link is never taken for a
//! dead one (`transport.rs`).

mod admission;
mod coalesce;
pub mod codec;
mod identity;
mod lane;
mod swarm;
pub mod tls;
mod transport;

use std::time::Duration;

pub use admission::{Admission, Refusal};
use billflow_types::{NodeId, OrgId, PublicKey, SecretKey};
pub use identity::{cert_key, peer_id_of_key};
pub use swarm::{InboundRequest, NetEvent, NetHandle};
use tokio::sync::{broadcast, mpsc};

/// Network failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The configuration is unusable (bad address, key or certificate).
    #[error("network configuration: {0}")]
    Config(String),
    /// The node is not a known member.
    #[error("node {0} is not a member")]
    UnknownNode(NodeId),
    /// The request could not be delivered or answered; retry later.
    #[error("request to {node} failed: {reason}")]
    Request {
        /// The node asked.
        node: NodeId,
        /// What went wrong.
        reason: String,
    },
    /// The network task has stopped.
    #[error("the network has stopped")]
    Stopped,
}

/// A member of the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its node id.
    pub node_id: NodeId,
    /// The organisation that runs it: its certificate must come from that organisation's CA.
    pub org: OrgId,
    /// The ed25519 key of its certificate.
    pub public_key: PublicKey,
    /// Where to dial it (`None`: wait for it to dial in).
    pub address: Option<String>,
}

/// How to start the network.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Every organisation's CA certificate (DER). A peer's certificate must be
    /// issued by the CA of the organisation that the ledger lists for its node.
    pub org_cas: Vec<(OrgId, Vec<u8>)>,
    /// This node's certificate (DER).
    pub cert_der: Vec<u8>,
    /// This node's key (must match the certificate).
    pub key: SecretKey,
    /// Listen address, e.g. `/ip4/127.0.0.1/tcp/7100`.
    pub listen: String,
    /// How long a request may take.
    pub request_timeout: Duration,
    /// How often disconnected members with an address are dialled again.
    pub redial_interval: Duration,
}

/// A started network: its handle and the requests peers send to this node.
pub struct Network {
    /// Commands and queries.
    pub handle: NetHandle,
    /// Requests from admitted peers; answer each through its `reply`.
    pub requests: mpsc::Receiver<InboundRequest>,
}

impl Network {
    /// Starts listening. Members are set with [`NetHandle::set_members`].
    pub async fn start(config: NetConfig) -> Result<Network, NetError> {
        let key_of_cert = cert_key(&config.cert_der).map_err(NetError::Config)?;
        if key_of_cert != config.key.public() {
            return Err(NetError::Config("the node key does not match the node certificate".into()));
        }
        let (events, _) = broadcast::channel(1024);
        swarm::spawn(config, events).await
    }
}
