//! Proofs that a transaction and its receipt are in a block the network
//! committed, checkable offline against the genesis document alone.
//!
//! A [`TxProof`] carries the block header, the attestations of the nodes that
//! committed it, the transaction and its receipt with their Merkle paths. It
//! holds when both paths lead to the header's roots and more than half of the
//! genesis voters signed the header's hash. (A node admitted after genesis is
//! not known to a verifier holding only the genesis file, so its attestation
//! does not count.)

use serde::{Deserialize, Serialize};

use crate::block::{Attestation, BlockHeader};
use crate::genesis::{Genesis, NodeRole};
use crate::merkle::MerkleProof;
use crate::receipt::Receipt;
use crate::tx::SignedTx;

/// A transaction and its receipt, proven to be in a committed block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TxProof {
    /// The block header.
    pub header: BlockHeader,
    /// Nodes' signatures over the block hash.
    pub attestations: Vec<Attestation>,
    /// The transaction.
    pub tx: SignedTx,
    /// Its path to `header.tx_root`.
    pub tx_path: MerkleProof,
    /// Its receipt.
    pub receipt: Receipt,
    /// The receipt's path to `header.receipts_root`.
    pub receipt_path: MerkleProof,
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The block belongs to another chain.
    #[error("the block is of chain {got}, the genesis founds {expected}")]
    WrongChain {
        /// The genesis chain id.
        expected: String,
        /// The block's.
        got: String,
    },
    /// The transaction is not under the header's transaction root.
    #[error("the transaction is not in the block (Merkle path does not lead to the transaction root)")]
    TxNotInBlock,
    /// The receipt is not under the header's receipts root, or is not the transaction's.
    #[error("the receipt is not the transaction's receipt in the block")]
    ReceiptNotInBlock,
    /// Too few genesis voters attest the block.
    #[error("{valid} of the {voters} genesis voters attest block {height}; more than half must")]
    NotAttested {
        /// Block height.
        height: u64,
        /// Valid attestations by distinct genesis voters.
        valid: usize,
        /// Genesis voters.
        voters: usize,
    },
}

impl TxProof {
    /// Checks the proof against `genesis`.
    pub fn verify(&self, genesis: &Genesis) -> Result<(), ProofError> {
        let h = &self.header;
        if h.chain_id != genesis.chain_id {
            return Err(ProofError::WrongChain { expected: genesis.chain_id.to_string(), got: h.chain_id.to_string() });
        }
        if !self.tx_path.verify(&self.tx.hash(), &h.tx_root) {
            return Err(ProofError::TxNotInBlock);
        }
        if self.receipt.tx_hash != self.tx.hash()
            || self.receipt_path.leaf_index != self.tx_path.leaf_index
            || !self.receipt_path.verify(&self.receipt.hash(), &h.receipts_root)
        {
            return Err(ProofError::ReceiptNotInBlock);
        }
        let block_hash = h.hash();
        let voters: Vec<_> = genesis.nodes.iter().filter(|n| n.role == NodeRole::Voter).collect();
        let mut signed: Vec<&str> = self
            .attestations
            .iter()
            .filter(|a| a.height == h.height && a.block_hash == block_hash)
            .filter_map(|a| {
                let node = voters.iter().find(|n| n.id == a.node)?;
                a.verify(&node.public_key).ok().map(|()| node.id.as_str())
            })
            .collect();
        signed.sort_unstable();
        signed.dedup();
        if signed.len() * 2 <= voters.len() {
            return Err(ProofError::NotAttested { height: h.height, valid: signed.len(), voters: voters.len() });
        }
        Ok(())
    }
}

/// An evidence record with the proof of every transaction that made it: the
/// submission and each co-signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceProof {
    /// The document hash.
    pub hash: crate::hash::Hash32,
    /// What the ledger holds for it, readable.
    pub summary: EvidenceSummary,
    /// The record as the evidence contract stores it (Borsh).
    #[serde(with = "crate::tx::hex_bytes")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "hex", pattern = "^([0-9a-f]{2})*$"))]
    pub record: Vec<u8>,
    /// The submitting transaction.
    pub submit: TxProof,
    /// The co-signing transactions, in block order.
    pub cosigns: Vec<TxProof>,
}

/// An evidence record in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceSummary {
    /// The document type.
    pub doc_type: String,
    /// Metadata pairs.
    pub metadata: Vec<(String, String)>,
    /// Who submitted it (`participant:…`, `tenant:…` or `org:…`).
    pub submitter: String,
    /// The submitting transaction.
    pub tx_id: String,
    /// Block height of the submission.
    pub height: u64,
    /// Block time of the submission, ms since the Unix epoch.
    pub time_ms: u64,
    /// The notaries that co-signed, in order.
    pub notaries: Vec<String>,
    /// Height at which it became notarised, if it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notarised_at: Option<u64>,
}
