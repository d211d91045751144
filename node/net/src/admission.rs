//! Who may connect: current members of the ledger's configuration whose
//! certificates are not revoked. Checked in the TLS handshake and again when a
//! connection is established; revoking a member closes its live connections.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use billflow_types::NodeId;
use libp2p::PeerId;

/// Why a peer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Its key belongs to no member node.
    #[error("peer {0} is not a member of the consortium")]
    NotMember(String),
    /// Its node was revoked.
    #[error("peer {0} is revoked")]
    Revoked(String),
}

#[derive(Debug, Default)]
struct State {
    members: HashMap<PeerId, NodeId>,
    revoked: HashSet<PeerId>,
}

/// The admission list, shared by the handshake and the swarm.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    inner: Arc<RwLock<State>>,
}

impl Admission {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The member node `peer` is, or why it is refused.
    pub fn check(&self, peer: &PeerId) -> Result<NodeId, Refusal> {
        let state = self.read();
        if state.revoked.contains(peer) {
            return Err(Refusal::Revoked(peer.to_string()));
        }
        state.members.get(peer).cloned().ok_or_else(|| Refusal::NotMember(peer.to_string()))
    }

    /// The peer id of member `node`.
    pub fn peer_of(&self, node: &NodeId) -> Option<PeerId> {
        self.read().members.iter().find(|(_, n)| *n == node).map(|(p, _)| *p)
    }

    /// Replaces the lists; returns the peers admitted before and refused now.
    pub(crate) fn replace(&self, members: HashMap<PeerId, NodeId>, revoked: HashSet<PeerId>) -> Vec<PeerId> {
        let mut state = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let dropped =
            state.members.keys().filter(|p| !members.contains_key(p) || revoked.contains(p)).copied().collect();
        *state = State { members, revoked };
        dropped
    }
}
