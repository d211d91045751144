//! The openraft type configuration.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A block proposal as carried in one Raft entry: its canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal(pub Vec<u8>);

/// What applying one entry produced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Applied {
    /// The height of the block it made, if it made one.
    pub height: Option<u64>,
}

/// A node as Raft knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RaftNode {
    /// The ledger's node id.
    pub node_id: String,
}

openraft::declare_raft_types!(
    /// billflow's Raft types: one entry carries one block proposal.
    pub TypeConfig:
        D = Proposal,
        R = Applied,
        NodeId = u64,
        Node = RaftNode,
        SnapshotData = crate::snapshot::SnapshotFile,
);

/// Raft's numeric id of a node: the first 8 bytes of SHA-256 of its ledger id.
pub fn raft_id(node_id: &str) -> u64 {
    let digest: [u8; 32] = Sha256::digest(node_id.as_bytes()).into();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// postcard bytes of an openraft value.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).unwrap_or_default()
}

/// Decodes postcard bytes.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}
