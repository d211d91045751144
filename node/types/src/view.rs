//! Shapes of the gateway's answers, shared by the gateway and the SDK so that the
//! two can never disagree. Plain data: how they are rendered (JSON) is the edge's business.

use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::hash::Hash32;
use crate::ids::{ChainId, TxId};
use crate::receipt::Receipt;
use crate::tx::SignedTx;

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// Admitted, not yet in a block.
    Pending,
    /// Recorded in a block (see the receipt for success or failure).
    Committed,
}

/// A transaction's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxView {
    /// Its id.
    pub tx_id: TxId,
    /// Its hash.
    pub tx_hash: Hash32,
    /// Pending or committed.
    pub status: TxState,
    /// Block height, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position in the block, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The receipt, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// A transaction inside a block view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInBlock {
    /// Its hash.
    pub tx_hash: Hash32,
    /// The signed transaction.
    #[serde(flatten)]
    pub tx: SignedTx,
}

/// A block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// The block hash.
    pub hash: Hash32,
    /// The header.
    pub header: BlockHeader,
    /// The transactions.
    pub txs: Vec<TxInBlock>,
    /// The attestations this node holds for the block.
    #[serde(default)]
    pub attestations: Vec<crate::block::Attestation>,
}

/// A node's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The chain.
    pub chain_id: ChainId,
    /// The node.
    pub node_id: String,
    /// Its committed height.
    pub height: u64,
    /// Its tip hash.
    pub tip_hash: Hash32,
    /// Transactions pending in its mempool.
    pub pending: usize,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code, e.g. `E_BAD_SIGNATURE`.
    pub code: String,
    /// Detail.
    pub message: String,
}

/// What a node knows of another member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    /// The member.
    pub node_id: String,
    /// Its organisation.
    pub org: String,
    /// Voter or observer.
    pub role: crate::genesis::NodeRole,
    /// Whether it is connected now.
    pub connected: bool,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Its committed height, if it answered a status request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Why it did not answer, if it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The network as one node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkView {
    /// This node.
    pub node_id: String,
    /// Its libp2p peer id (absent for a standalone node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// The consensus leader this node knows of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// The other members.
    pub peers: Vec<PeerView>,
}
