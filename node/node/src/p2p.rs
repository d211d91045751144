//! Wiring the node's network: requests from peers go to consensus, the
//! admission list follows the ledger's node records, and the gateway can show
//! the network.

use std::collections::HashMap;
use std::time::Duration;

use billflow_api::NetworkInfo;
use billflow_chain::Chain;
use billflow_consensus::Consensus;
use billflow_consensus::wire::{WireRequest, WireResponse};
use billflow_net::{InboundRequest, Member, NetHandle};
use billflow_types::system::{NodeStatus, OrgRecord};
use billflow_types::view::{NetworkView, PeerView};
use billflow_types::{NodeId, OrgId};
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

/// Hands every request from a peer to consensus, each in its own task so that a
/// slow one (a snapshot) does not hold up heartbeats.
pub fn spawn_handler(consensus: Consensus, mut requests: mpsc::Receiver<InboundRequest>) {
    tokio::spawn(async move {
        while let Some(req) = requests.recv().await {
            let consensus = consensus.clone();
            tokio::spawn(async move {
                let answer = consensus.handle(&req.from, &req.payload).await;
                let _ = req.reply.send(answer);
            });
        }
    });
}

/// The CAs (PEM) that admit each organisation's nodes at `height`: its current
/// one and those it is rotating away from, none for a removed organisation.
fn cas_at(records: &[OrgRecord], height: u64) -> Vec<(&OrgId, &str)> {
    records.iter().flat_map(|r| r.cas_at(height).into_iter().map(move |text| (&r.id, text))).collect()
}

/// [`cas_at`] as DER. A CA that is not PEM is logged and left out (its nodes
/// are refused until it is replaced).
pub fn org_cas(records: &[OrgRecord], height: u64) -> Vec<(OrgId, Vec<u8>)> {
    let mut cas = Vec::new();
    for (org, text) in cas_at(records, height) {
        match pem::parse(text) {
            Ok(block) => cas.push((org.clone(), block.contents().to_vec())),
            Err(e) => tracing::error!(%org, error = %e, "a CA of the organisation is not PEM; left out"),
        }
    }
    cas
}

/// Sets the organisations' CAs from the ledger's organisation records at the
/// current height, when they differ from `last` (compared as text, so that
/// most blocks parse nothing).
async fn sync_cas(chain: &Chain, net: &NetHandle, last: &mut Option<Vec<(OrgId, String)>>) {
    match chain.org_records() {
        Ok(records) => {
            let height = chain.tip().height;
            let now = cas_at(&records, height);
            let same = |l: &Vec<(OrgId, String)>| {
                l.len() == now.len() && l.iter().zip(&now).all(|(a, b)| a.0 == *b.0 && a.1 == b.1)
            };
            if last.as_ref().is_some_and(same) {
                return;
            }
            let now: Vec<(OrgId, String)> = now.into_iter().map(|(o, t)| (o.clone(), t.to_string())).collect();
            if let Err(e) = net.set_org_cas(org_cas(&records, height)).await {
                tracing::error!(error = %e, "some organisations' nodes are refused");
            }
            *last = Some(now);
        }
        Err(e) => tracing::error!(error = %e, "cannot read organisation records; CAs unchanged"),
    }
}

/// Sets the network's members, and their organisations' CAs, from the ledger,
/// now and after every block that changes them. Addresses come from this
/// node's configuration, or else from the ledger's node records.
pub async fn sync_membership(chain: Chain, net: NetHandle, configured: HashMap<NodeId, String>) {
    let mut tip = chain.subscribe_tip();
    let mut last = None;
    let mut last_orgs = None;
    loop {
        sync_cas(&chain, &net, &mut last_orgs).await;
        match chain.node_records() {
            // Most blocks change no node record: the network is told only of changes.
            Ok(records) if last.as_ref() == Some(&records) => {}
            Ok(records) => {
                last = Some(records.clone());
                let mut members = Vec::new();
                let mut revoked = Vec::new();
                for r in records {
                    match r.status {
                        NodeStatus::Active => members.push(Member {
                            // This node's own configuration first: its operator
                            // knows best how to reach a peer from here.
                            address: configured.get(&r.id).cloned().or_else(|| r.address.clone()),
                            org: r.org,
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
    /// Consensus.
    pub consensus: Consensus,
}

impl NetworkInfo for NetInfo {
    fn view(&self) -> BoxFuture<'_, NetworkView> {
        Box::pin(async move {
            let connected = self.net.connected().await.unwrap_or_default();
            let records = self.chain.node_records().unwrap_or_default();
            let status = billflow_consensus::wire::encode_request(&WireRequest::Status);
            let me = records.iter().find(|r| &r.id == self.chain.node_id()).map(|r| (r.org.to_string(), r.role));
            let mut peers = Vec::new();
            for r in records.into_iter().filter(|r| &r.id != self.chain.node_id()) {
                let revoked = matches!(r.status, NodeStatus::Revoked { .. });
                let is_connected = connected.contains(&r.id);
                let (height, error) = if is_connected {
                    let asked = tokio::time::timeout(Duration::from_secs(2), self.net.request(&r.id, status.clone()));
                    match asked.await {
                        Ok(Ok(bytes)) => match billflow_consensus::wire::decode_response(&bytes) {
                            Ok(WireResponse::Status(s)) => (Some(s.height), None),
                            Ok(other) => (None, Some(format!("unexpected answer {other:?}"))),
                            Err(e) => (None, Some(e)),
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
                org: me.as_ref().map(|m| m.0.clone()),
                role: me.map(|m| m.1),
                leader: self.consensus.leader(),
                voters: self.consensus.voters(),
                peers,
            }
        })
    }
}
