//! The swarm task: owns the libp2p swarm and serves [`NetHandle`] commands.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use billflow_types::{NodeId, OrgId, PublicKey};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, allow_block_list};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::admission::Admission;
use crate::codec::{BytesCodec, PROTOCOL};
use crate::identity::peer_id_of_key;
use crate::lane::{LANE, LANE_MAX, Lanes};
use crate::tls::TlsConfig;
use crate::{Member, NetConfig, NetError, Network};

/// A request from an admitted peer.
#[derive(Debug)]
pub struct InboundRequest {
    /// The member that sent it.
    pub from: NodeId,
    /// The request bytes.
    pub payload: Vec<u8>,
    /// Where to send the answer (dropping it answers with a failure).
    pub reply: oneshot::Sender<Vec<u8>>,
}

/// Something that happened on the network, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// A member connected.
    Connected(NodeId),
    /// A member's last connection closed.
    Disconnected(NodeId),
    /// A connection was refused; `reason` says why.
    Refused {
        /// The remote address, when known.
        address: Option<String>,
        /// Why.
        reason: String,
    },
}

enum Command {
    Request { node: NodeId, payload: Vec<u8>, reply: oneshot::Sender<Result<Vec<u8>, NetError>> },
    SetMembers { members: Vec<Member>, revoked: Vec<PublicKey>, reply: oneshot::Sender<()> },
    SetCas { cas: Vec<(OrgId, Vec<u8>)>, reply: oneshot::Sender<Result<(), NetError>> },
    Connected(oneshot::Sender<Vec<NodeId>>),
    ListenAddrs(oneshot::Sender<Vec<String>>),
}

/// A handle to the running network.
#[derive(Clone)]
pub struct NetHandle {
    cmd: mpsc::Sender<Command>,
    lanes: Lanes,
    request_timeout: Duration,
    admission: Admission,
    events: broadcast::Sender<NetEvent>,
    peer_id: String,
}

impl std::fmt::Debug for NetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetHandle").field("peer_id", &self.peer_id).finish_non_exhaustive()
    }
}

impl NetHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, NetError> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(make(tx)).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// Sends `payload` to member `node` and waits for its answer: on this
    /// node's lane to it when one is open, else on a substream of its own.
    pub async fn request(&self, node: &NodeId, payload: Vec<u8>) -> Result<Vec<u8>, NetError> {
        let lane = (payload.len() <= LANE_MAX)
            .then(|| self.admission.peer_of(node))
            .flatten()
            .and_then(|peer| self.lanes.get(&peer));
        let Some(lane) = lane else { return self.request_bulk(node, payload).await };
        let failed = |reason: String| NetError::Request { node: node.clone(), reason };
        match tokio::time::timeout(self.request_timeout, lane.call(&payload)).await {
            Ok(answer) => answer.map_err(failed),
            Err(_) => Err(failed(format!("no answer within {:?}", self.request_timeout))),
        }
    }

    /// Whether this node's lane to `node` is open (requests to it then skip
    /// the substream per request).
    pub fn lane_open(&self, node: &NodeId) -> bool {
        self.admission.peer_of(node).is_some_and(|peer| self.lanes.get(&peer).is_some())
    }

    /// Like [`NetHandle::request`], always on a substream of its own: for
    /// requests whose answers are large (ranges of blocks), so that they do
    /// not hold up the small ones queued behind them on the lane.
    pub async fn request_bulk(&self, node: &NodeId, payload: Vec<u8>) -> Result<Vec<u8>, NetError> {
        self.ask(|reply| Command::Request { node: node.clone(), payload, reply }).await?
    }

    /// Replaces the admitted members and the revoked keys, and returns once
    /// the new list is in force. Connections of peers no longer admitted are
    /// closed at once.
    pub async fn set_members(&self, members: Vec<Member>, revoked: Vec<PublicKey>) -> Result<(), NetError> {
        self.ask(|reply| Command::SetMembers { members, revoked, reply }).await
    }

    /// Members connected now.
    pub async fn connected(&self) -> Result<Vec<NodeId>, NetError> {
        self.ask(Command::Connected).await
    }

    /// Addresses this node listens on.
    pub async fn listen_addrs(&self) -> Result<Vec<String>, NetError> {
        self.ask(Command::ListenAddrs).await
    }

    /// Follows network events.
    pub fn events(&self) -> broadcast::Receiver<NetEvent> {
        self.events.subscribe()
    }

    /// This node's libp2p peer id.
    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    /// Replaces the organisations' CAs (DER), each the trust anchor of its
    /// own nodes only; an unusable one is left out and named in the error.
    /// Live connections of an organisation that lost a CA are closed, so
    /// that each is checked again as it reconnects.
    pub async fn set_org_cas(&self, cas: Vec<(OrgId, Vec<u8>)>) -> Result<(), NetError> {
        self.ask(|reply| Command::SetCas { cas, reply }).await?
    }

    /// The admission list.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    rpc: request_response::Behaviour<BytesCodec>,
    lanes: libp2p_stream::Behaviour,
}

type Reply = oneshot::Sender<Result<Vec<u8>, NetError>>;
/// An answer being prepared by the request handler, with the channel it goes back on.
type PendingAnswer = BoxFuture<'static, (ResponseChannel<Vec<u8>>, Option<Vec<u8>>)>;

struct Task {
    swarm: Swarm<Behaviour>,
    lanes: Lanes,
    control: libp2p_stream::Control,
    admission: Admission,
    events: broadcast::Sender<NetEvent>,
    requests: mpsc::Sender<InboundRequest>,
    addresses: HashMap<PeerId, Multiaddr>,
    outbound: HashMap<OutboundRequestId, (NodeId, Reply)>,
    waiting: HashMap<PeerId, Vec<(NodeId, Vec<u8>, Reply)>>,
    answers: FuturesUnordered<PendingAnswer>,
    listen_addrs: Vec<Multiaddr>,
}

fn config_err(e: impl std::fmt::Display) -> NetError {
    NetError::Config(e.to_string())
}

pub(crate) async fn spawn(config: NetConfig, events: broadcast::Sender<NetEvent>) -> Result<Network, NetError> {
    let admission = Admission::default();
    admission.set_cas(&config.org_cas).map_err(config_err)?;
    let key_der = billflow_types::keyfile::pkcs8_der(&config.key);
    let tls = TlsConfig::new(&config.cert_der, &key_der, admission.clone()).map_err(config_err)?;
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(config.key.seed()).map_err(config_err)?;
    let rpc = request_response::Behaviour::with_codec(
        BytesCodec,
        [(PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(1024),
    );
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(move |_| crate::transport::build(tls))
        .map_err(config_err)?
        .with_behaviour(|_| Behaviour { allow: Default::default(), rpc, lanes: libp2p_stream::Behaviour::new() })
        .map_err(config_err)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(365 * 24 * 3600)))
        .build();
    let listen: Multiaddr =
        config.listen.parse().map_err(|e| config_err(format!("listen address {}: {e}", config.listen)))?;
    swarm.listen_on(listen).map_err(config_err)?;
    // Wait for the listener so that the address (and a port 0 choice) is known.
    let mut listen_addrs = Vec::new();
    while listen_addrs.is_empty() {
        match tokio::time::timeout(Duration::from_secs(10), swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => listen_addrs.push(address),
            Ok(SwarmEvent::ListenerError { error, .. }) => return Err(config_err(error)),
            Ok(SwarmEvent::ListenerClosed { reason, .. }) => return Err(config_err(format!("{reason:?}"))),
            Ok(_) => {}
            Err(_) => return Err(config_err("the listener did not start within 10 s")),
        }
    }
    let peer_id = swarm.local_peer_id().to_string();
    let (cmd_tx, cmd_rx) = mpsc::channel(1024);
    let (req_tx, req_rx) = mpsc::channel(1024);
    let mut control = swarm.behaviour().lanes.new_control();
    let incoming = control.accept(LANE).map_err(config_err)?;
    tokio::spawn(crate::lane::accept(incoming, admission.clone(), req_tx.clone()));
    let lanes = Lanes::default();
    let task = Task {
        swarm,
        lanes: lanes.clone(),
        control,
        admission: admission.clone(),
        events: events.clone(),
        requests: req_tx,
        addresses: HashMap::new(),
        outbound: HashMap::new(),
        waiting: HashMap::new(),
        answers: FuturesUnordered::new(),
        listen_addrs,
    };
    tokio::spawn(task.run(cmd_rx, config.redial_interval));
    let handle = NetHandle { cmd: cmd_tx, lanes, request_timeout: config.request_timeout, admission, events, peer_id };
    Ok(Network { handle, requests: req_rx })
}

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>, redial: Duration) {
        let mut tick = tokio::time::interval(redial);
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => return,
                },
                event = self.swarm.select_next_some() => self.swarm_event(event),
                Some((channel, answer)) = self.answers.next(), if !self.answers.is_empty() => {
                    if let Some(answer) = answer {
                        let _ = self.swarm.behaviour_mut().rpc.send_response(channel, answer);
                    }
                }
                _ = tick.tick() => self.redial(),
            }
        }
    }

    fn refused(&self, address: Option<String>, reason: String, inbound: bool) {
        if inbound {
            tracing::warn!(address = address.as_deref().unwrap_or("?"), %reason, "incoming connection refused");
        } else {
            // Dialling a member that is down is routine; a refused handshake is not.
            tracing::debug!(address = address.as_deref().unwrap_or("?"), %reason, "outgoing connection failed");
        }
        let _ = self.events.send(NetEvent::Refused { address, reason });
    }

    fn dial(&mut self, peer: PeerId) {
        if let Some(addr) = self.addresses.get(&peer) {
            // From a port of its own, not the listening one: when both sides
            // dial each other the moment a link returns, two dials from the
            // listening ports meet as one TCP connection (a simultaneous open)
            // on which both sides speak first as TLS clients, and it fails.
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![addr.clone()])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .allocate_new_port()
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, error = %e, "dial not started");
            }
        }
    }

    fn redial(&mut self) {
        let peers: Vec<PeerId> = self.addresses.keys().copied().collect();
        for peer in peers {
            if !self.swarm.is_connected(&peer) {
                self.dial(peer);
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Request { node, payload, reply } => {
                let Some(peer) = self.admission.peer_of(&node) else {
                    let _ = reply.send(Err(NetError::UnknownNode(node)));
                    return;
                };
                if self.swarm.is_connected(&peer) {
                    let id = self.swarm.behaviour_mut().rpc.send_request(&peer, payload);
                    self.outbound.insert(id, (node, reply));
                    // A lane that closed is opened again by the next request.
                    self.lanes.open(self.control.clone(), peer);
                } else if self.addresses.contains_key(&peer) {
                    self.waiting.entry(peer).or_default().push((node, payload, reply));
                    self.dial(peer);
                } else {
                    let _ = reply
                        .send(Err(NetError::Request { node, reason: "not connected and no address known".into() }));
                }
            }
            Command::SetMembers { members, revoked, reply } => {
                self.set_members(members, revoked);
                let _ = reply.send(());
            }
            Command::SetCas { cas, reply } => {
                let (lost, unusable) = self.admission.replace_cas(&cas);
                let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                for peer in peers {
                    if self.admission.member(&peer).is_ok_and(|(_, org)| lost.contains(&org)) {
                        tracing::info!(%peer, "its organisation's CAs changed; reconnecting to check it again");
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                }
                let answer = if unusable.is_empty() {
                    Ok(())
                } else {
                    Err(NetError::Config(format!("unusable CA certificates: {}", unusable.join("; "))))
                };
                let _ = reply.send(answer);
            }
            Command::Connected(reply) => {
                let nodes = self.swarm.connected_peers().filter_map(|p| self.admission.check(p).ok()).collect();
                let _ = reply.send(nodes);
            }
            Command::ListenAddrs(reply) => {
                let _ = reply.send(self.listen_addrs.iter().map(|a| a.to_string()).collect());
            }
        }
    }

    fn set_members(&mut self, members: Vec<Member>, revoked: Vec<PublicKey>) {
        let local = *self.swarm.local_peer_id();
        let mut admitted = HashMap::new();
        let mut addresses = HashMap::new();
        for m in members {
            let Ok(peer) = peer_id_of_key(&m.public_key) else {
                tracing::warn!(node = %m.node_id, "member key is not a valid ed25519 key; not admitted");
                continue;
            };
            if let Some(addr) = m.address.as_ref().and_then(|a| a.parse::<Multiaddr>().ok()) {
                if peer != local {
                    addresses.insert(peer, addr);
                }
            }
            admitted.insert(peer, (m.node_id, m.org));
        }
        let revoked: HashSet<PeerId> = revoked.iter().filter_map(|k| peer_id_of_key(k).ok()).collect();
        admitted.retain(|p, _| !revoked.contains(p));
        addresses.retain(|p, _| !revoked.contains(p));
        let dropped = self.admission.replace(admitted.clone(), revoked);
        let allow = &mut self.swarm.behaviour_mut().allow;
        for peer in &dropped {
            // Closes every live connection of the peer.
            allow.disallow_peer(*peer);
        }
        for peer in admitted.keys() {
            allow.allow_peer(*peer);
        }
        for peer in dropped {
            tracing::warn!(%peer, "peer no longer admitted; its connections are closed");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        self.addresses = addresses;
        self.redial();
    }

    fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                if self.admission.checked_before_a_loss(&peer_id) {
                    // Its handshake ran under CAs its organisation has since lost.
                    tracing::info!(peer = %peer_id, "a connection checked under retired CAs; closing it");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                match self.admission.check(&peer_id) {
                    Ok(node) => {
                        if num_established.get() == 1 {
                            tracing::info!(%node, "peer connected");
                            let _ = self.events.send(NetEvent::Connected(node));
                        }
                        self.lanes.open(self.control.clone(), peer_id);
                        for (node, payload, reply) in self.waiting.remove(&peer_id).unwrap_or_default() {
                            if reply.is_closed() {
                                // Its caller stopped waiting while the peer was away.
                                continue;
                            }
                            let id = self.swarm.behaviour_mut().rpc.send_request(&peer_id, payload);
                            self.outbound.insert(id, (node, reply));
                        }
                    }
                    Err(refusal) => {
                        self.refused(None, refusal.to_string(), true);
                        let _ = self.swarm.disconnect_peer_id(peer_id);
                    }
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                if let Ok(node) = self.admission.check(&peer_id) {
                    tracing::info!(%node, "peer disconnected");
                    let _ = self.events.send(NetEvent::Disconnected(node));
                }
            }
            SwarmEvent::IncomingConnectionError { send_back_addr, error, .. } => {
                self.refused(Some(send_back_addr.to_string()), error_chain(&error), true);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                let reason = error_chain(&error);
                if let Some(peer) = peer_id {
                    for (node, _, reply) in self.waiting.remove(&peer).unwrap_or_default() {
                        let _ = reply.send(Err(NetError::Request { node, reason: reason.clone() }));
                    }
                }
                self.refused(peer_id.and_then(|p| self.addresses.get(&p)).map(|a| a.to_string()), reason, false);
            }
            SwarmEvent::NewListenAddr { address, .. } => self.listen_addrs.push(address),
            SwarmEvent::Behaviour(BehaviourEvent::Rpc(event)) => self.rpc_event(event),
            _ => {}
        }
    }

    fn rpc_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    // Admission was checked at the handshake and at establishment; check
                    // once more in case it changed since.
                    let Ok(from) = self.admission.check(&peer) else {
                        let _ = self.swarm.disconnect_peer_id(peer);
                        return;
                    };
                    let (reply, answer) = oneshot::channel();
                    if self.requests.try_send(InboundRequest { from, payload: request, reply }).is_ok() {
                        self.answers.push(Box::pin(async move { (channel, answer.await.ok()) }));
                    } else {
                        tracing::warn!(%peer, "request handler is busy; request dropped");
                    }
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some((_, reply)) = self.outbound.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                if let Some((node, reply)) = self.outbound.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Request { node, reason: error.to_string() }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// An error with its causes, so that logs say why (e.g. which certificate check failed).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
