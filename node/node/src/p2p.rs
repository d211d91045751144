//! What nodes say to each other, and keeping the network's admission list in
//! step with the ledger's node records.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use billflow_api::NetworkInfo;
use billflow_chain::Chain;
use billflow_net::{InboundRequest, Member, NetHandle};
use billflow_types::system::{NodeRecord, NodeStatus, system_contract};
use billflow_types::view::{NetworkView, PeerView};
use billflow_types::{Canonical, Hash32, NodeId};
use borsh::{BorshDeserialize, BorshSerialize};
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

/// A request between nodes.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PeerRequest {
    /// The peer's chain position.
    Status,
}

/// An answer between nodes.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PeerResponse {
    /// The answering node's chain position.
    Status {
        /// Its id.
        node_id: NodeId,
        /// Its committed height.
        height: u64,
        /// Its tip hash.
        tip_hash: Hash32,
    },
    /// The request could not be understood.
    Error(String),
}

/// Answers peers' requests until the network stops.
pub fn spawn_handler(chain: Chain, mut requests: mpsc::Receiver<InboundRequest>) {
    tokio::spawn(async move {
        while let Some(req) = requests.recv().await {
            let answer = match PeerRequest::decode(&req.payload) {
                Ok(PeerRequest::Status) => {
                    let tip = chain.tip();
                    PeerResponse::Status { node_id: chain.node_id().clone(), height: tip.height, tip_hash: tip.hash }
                }
                Err(e) => {
                    tracing::warn!(from = %req.from, error = %e, "undecodable peer request");
                    PeerResponse::Error(e.to_string())
                }
            };
            let _ = req.reply.send(answer.encode());
        }
    });
}

/// The node records in the ledger's state.
pub fn node_records(chain: &Chain) -> Result<Vec<NodeRecord>> {
    let entries = chain.store().state_range(&system_contract(), b"node/", Some(b"node0"), 100_000)?;
    entries.into_iter().map(|(_, v)| NodeRecord::decode(&v).map_err(anyhow::Error::from)).collect()
}

/// Sets the network's members from the ledger, now and after every block.
pub async fn sync_membership(chain: Chain, net: NetHandle, addresses: HashMap<NodeId, String>) {
    let mut tip = chain.subscribe_tip();
    loop {
        match node_records(&chain) {
            Ok(records) => {
                let mut members = Vec::new();
                let mut revoked = Vec::new();
                for r in records {
                    match r.status {
                        NodeStatus::Active => members.push(Member {
                            address: addresses.get(&r.id).cloned(),
                            node_id: r.id,
                            public_key: r.public_key,
                        }),
                        NodeStatus::Revoked { .. } => revoked.push(r.public_key),
                    }
                }
                if net.set_members(members, revoked).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read node records; admission unchanged"),
        }
        if tip.changed().await.is_err() {
            return;
        }
    }
}

/// The gateway's view of the network.
pub struct NetInfo {
    /// The chain.
    pub chain: Chain,
    /// The network.
    pub net: NetHandle,
}

impl NetworkInfo for NetInfo {
    fn view(&self) -> BoxFuture<'_, NetworkView> {
        Box::pin(async move {
            let connected = self.net.connected().await.unwrap_or_default();
            let records = node_records(&self.chain).unwrap_or_default();
            let mut peers = Vec::new();
            for r in records.into_iter().filter(|r| &r.id != self.chain.node_id()) {
                let revoked = matches!(r.status, NodeStatus::Revoked { .. });
                let is_connected = connected.contains(&r.id);
                let (height, error) = if is_connected {
                    let asked = tokio::time::timeout(
                        Duration::from_secs(2),
                        self.net.request(&r.id, PeerRequest::Status.encode()),
                    );
                    match asked.await {
                        Ok(Ok(bytes)) => match PeerResponse::decode(&bytes) {
                            Ok(PeerResponse::Status { height, .. }) => (Some(height), None),
                            Ok(PeerResponse::Error(e)) => (None, Some(e)),
                            Err(e) => (None, Some(e.to_string())),
                        },
                        Ok(Err(e)) => (None, Some(e.to_string())),
                        Err(_) => (None, Some("no answer within 2 s".into())),
                    }
                } else {
                    (None, None)
                };
                peers.push(PeerView {
                    node_id: r.id.to_string(),
                    org: r.org.to_string(),
                    role: r.role,
                    connected: is_connected,
                    revoked,
                    height,
                    error,
                });
            }
            NetworkView {
                node_id: self.chain.node_id().to_string(),
                peer_id: Some(self.net.peer_id().to_string()),
                peers,
            }
        })
    }
}
