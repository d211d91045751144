//! Who may connect: current members of the ledger's configuration whose
//! certificates are not revoked and were issued by their own organisation's CA. Checked in the TLS handshake and again when a
//! connection is established; revoking a member closes its live connections.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use billflow_types::{NodeId, OrgId};
use libp2p::PeerId;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// Why a peer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Its key belongs to no member node.
    #[error("peer {0} is not a member of the consortium")]
    NotMember(String),
    /// Its node was revoked.
    #[error("peer {0} is revoked")]
    Revoked(String),
    /// Its certificate was not issued by the CA of the organisation that runs its node.
    #[error("node {node}'s certificate was not issued by the CA of its organisation {org}: {reason}")]
    ForeignCa {
        /// The node the key belongs to.
        node: NodeId,
        /// The organisation the ledger lists for it.
        org: OrgId,
        /// What the chain check found.
        reason: String,
    },
}

#[derive(Debug, Default)]
struct State {
    members: HashMap<PeerId, (NodeId, OrgId)>,
    revoked: HashSet<PeerId>,
    /// Each organisation's CA, as a trust anchor for its own nodes only.
    cas: HashMap<OrgId, Arc<RootCertStore>>,
    /// The same CAs as given (DER), to tell which organisations lost one.
    cas_der: HashMap<OrgId, Vec<Vec<u8>>>,
    /// Counts the changes of the CAs.
    ca_epoch: u64,
    /// When each organisation last lost a CA.
    lost_at: HashMap<OrgId, u64>,
    /// When each peer's certificate last passed the check.
    checked_at: HashMap<PeerId, u64>,
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
        self.member(peer).map(|(node, _)| node)
    }

    /// The member node `peer` is and the organisation that runs it, or why it is refused.
    pub fn member(&self, peer: &PeerId) -> Result<(NodeId, OrgId), Refusal> {
        let state = self.read();
        if state.revoked.contains(peer) {
            return Err(Refusal::Revoked(peer.to_string()));
        }
        state.members.get(peer).cloned().ok_or_else(|| Refusal::NotMember(peer.to_string()))
    }

    /// The peer id of member `node`.
    pub fn peer_of(&self, node: &NodeId) -> Option<PeerId> {
        self.read().members.iter().find(|(_, (n, _))| n == node).map(|(p, _)| *p)
    }

    /// Records that `peer`'s certificate passed the check under the CAs in force now.
    pub(crate) fn checked(&self, peer: PeerId) {
        let mut state = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let epoch = state.ca_epoch;
        state.checked_at.insert(peer, epoch);
    }

    /// Whether `peer`'s organisation lost a CA since its certificate was last
    /// checked: a connection whose handshake ran under the old CAs.
    pub(crate) fn checked_before_a_loss(&self, peer: &PeerId) -> bool {
        let state = self.read();
        let Some((_, org)) = state.members.get(peer) else { return false };
        let Some(lost) = state.lost_at.get(org).copied() else { return false };
        state.checked_at.get(peer).is_none_or(|checked| *checked < lost)
    }

    /// The trust anchor of organisation `org`'s nodes.
    pub fn ca_of(&self, org: &OrgId) -> Option<Arc<RootCertStore>> {
        self.read().cas.get(org).cloned()
    }

    /// Replaces the organisations' CAs (DER). A CA that is not a usable
    /// certificate is left out, and named in the error; the others apply.
    pub fn set_cas(&self, cas: &[(OrgId, Vec<u8>)]) -> Result<(), String> {
        let (_, unusable) = self.replace_cas(cas);
        if unusable.is_empty() { Ok(()) } else { Err(format!("unusable CA certificates: {}", unusable.join("; "))) }
    }

    /// Replaces the CAs; returns the organisations that lost a CA (their
    /// nodes' live connections were admitted under it) and the CAs left out.
    pub(crate) fn replace_cas(&self, cas: &[(OrgId, Vec<u8>)]) -> (Vec<OrgId>, Vec<String>) {
        let mut stores: HashMap<OrgId, RootCertStore> = HashMap::new();
        let mut ders: HashMap<OrgId, Vec<Vec<u8>>> = HashMap::new();
        let mut unusable = Vec::new();
        for (org, der) in cas {
            let store = stores.entry(org.clone()).or_insert_with(RootCertStore::empty);
            match store.add(CertificateDer::from(der.clone())) {
                Ok(()) => ders.entry(org.clone()).or_default().push(der.clone()),
                Err(e) => unusable.push(format!("{org}: {e}")),
            }
        }
        let mut state = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let lost: Vec<OrgId> = state
            .cas_der
            .iter()
            .filter(|(org, old)| old.iter().any(|d| !ders.get(*org).is_some_and(|new| new.contains(d))))
            .map(|(org, _)| org.clone())
            .collect();
        state.ca_epoch += 1;
        let epoch = state.ca_epoch;
        for org in &lost {
            state.lost_at.insert(org.clone(), epoch);
        }
        state.cas = stores.into_iter().filter(|(_, s)| !s.is_empty()).map(|(o, s)| (o, Arc::new(s))).collect();
        state.cas_der = ders;
        (lost, unusable)
    }

    /// Replaces the lists; returns the peers admitted before and refused now.
    pub(crate) fn replace(&self, members: HashMap<PeerId, (NodeId, OrgId)>, revoked: HashSet<PeerId>) -> Vec<PeerId> {
        let mut state = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let dropped =
            state.members.keys().filter(|p| !members.contains_key(p) || revoked.contains(p)).copied().collect();
        state.members = members;
        state.revoked = revoked;
        dropped
    }
}
