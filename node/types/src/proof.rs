//! Proofs that a transaction and its receipt are in a block the network
//! committed, checkable offline against the genesis document alone.
//!
//! A [`TxProof`] carries the block header, the attestations of the nodes that
//! committed it, the transaction and its receipt with their Merkle paths. It
//! holds when both paths lead to the header's roots and more than half of the
//! voters in force at that height signed the header's hash.
//!
//! The verifier learns the voters from genesis and then from the proofs of
//! every change of voters before the block ([`VoterHistory`]): each change is
//! itself a transaction proven under the set before it, whose receipt names
//! the new set. Every header commits to the hash of its voter set, so a proof
//! that leaves a change out (to let a revoked voter count, say) does not
//! match the header and is refused.

use serde::{Deserialize, Serialize};

use crate::block::{Attestation, BlockHeader, VOTERS_CHANGED, VoterKey, voter_set_hash};
use crate::encoding::Canonical;
use crate::genesis::Genesis;
use crate::hash::Hash32;
use crate::merkle::MerkleProof;
use crate::receipt::{Receipt, TxStatus};
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
    /// The proofs of the changes of voters between genesis and this block, in
    /// order (empty inside an [`EvidenceProof`], which carries them once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub voter_changes: Vec<TxProof>,
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
    /// The header's voter set is not the one the verifier followed to its height.
    #[error(
        "block {height} names other voters than the proof leads to: the proof lacks a change of voters before it, \
         or holds one that is not the chain's"
    )]
    UnknownVoters {
        /// Block height.
        height: u64,
    },
    /// Too few voters in force attest the block.
    #[error("{valid} of the {voters} voters in force attest block {height}; more than half must")]
    NotAttested {
        /// Block height.
        height: u64,
        /// Valid attestations by distinct voters in force.
        valid: usize,
        /// Voters in force.
        voters: usize,
    },
    /// A change of voters is not one.
    #[error("change of voters {index} (block {height}): {reason}")]
    BadVoterChange {
        /// Its position in the proof, from 1.
        index: usize,
        /// Its block.
        height: u64,
        /// Why.
        reason: String,
    },
}

/// The voter sets from genesis on, each with the height it is in force from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterHistory {
    chain_id: crate::ids::ChainId,
    /// `(first height, voters)`, heights increasing; the first from 1.
    sets: Vec<(u64, Vec<VoterKey>)>,
}

impl VoterHistory {
    /// The genesis voters only.
    pub fn genesis(genesis: &Genesis) -> VoterHistory {
        VoterHistory { chain_id: genesis.chain_id.clone(), sets: vec![(1, genesis.voters())] }
    }

    /// Follows the voters from `genesis` through `changes`: each change must be
    /// proven under the set in force at its height, later than the one
    /// before, and name the new set in its receipt.
    pub fn follow(genesis: &Genesis, changes: &[TxProof]) -> Result<VoterHistory, ProofError> {
        let mut history = VoterHistory::genesis(genesis);
        for (n, change) in changes.iter().enumerate() {
            let height = change.header.height;
            let bad = |reason: &str| ProofError::BadVoterChange { index: n + 1, height, reason: reason.into() };
            if history.sets.last().is_some_and(|(from, _)| height < *from) {
                return Err(bad("it is not later than the change before it"));
            }
            change.verify_in(&history).map_err(|e| bad(&e.to_string()))?;
            if change.tx.tx.contract.as_str() != crate::system::SYSTEM_CONTRACT {
                return Err(bad("it is not a system transaction"));
            }
            if change.receipt.status != TxStatus::Success {
                return Err(bad("its transaction failed"));
            }
            let mut named = change
                .receipt
                .events
                .iter()
                .filter(|e| e.contract.as_str() == crate::system::SYSTEM_CONTRACT && e.topic == VOTERS_CHANGED);
            let (Some(event), None) = (named.next(), named.next()) else {
                return Err(bad("its receipt does not name one new voter set"));
            };
            let voters = Vec::<VoterKey>::decode(&event.data).map_err(|e| bad(&e.to_string()))?;
            if voters.is_empty() {
                return Err(bad("it names no voter"));
            }
            history.sets.push((height + 1, voters));
        }
        Ok(history)
    }

    /// The history a node's own ledger holds: `changes` are each change's
    /// height and the set it names, in order (taken as the chain's, unchecked).
    pub fn from_ledger(genesis: &Genesis, changes: impl IntoIterator<Item = (u64, Vec<VoterKey>)>) -> VoterHistory {
        let mut history = VoterHistory::genesis(genesis);
        history.sets.extend(changes.into_iter().map(|(height, voters)| (height + 1, voters)));
        history
    }

    /// The voters in force at `height`.
    pub fn at(&self, height: u64) -> &[VoterKey] {
        self.sets.iter().rev().find(|(from, _)| *from <= height).map_or(&[], |(_, v)| v.as_slice())
    }
}

impl TxProof {
    /// Checks the proof against `genesis`, following the voters through the
    /// changes it carries.
    pub fn verify(&self, genesis: &Genesis) -> Result<(), ProofError> {
        self.verify_in(&VoterHistory::follow(genesis, &self.voter_changes)?)
    }

    /// Checks the proof against the voters of `history`.
    pub fn verify_in(&self, history: &VoterHistory) -> Result<(), ProofError> {
        let h = &self.header;
        if h.chain_id != history.chain_id {
            return Err(ProofError::WrongChain { expected: history.chain_id.to_string(), got: h.chain_id.to_string() });
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
        check_attested(h, &self.attestations, history.at(h.height)).map(|_| ())
    }
}

/// Checks that `voters` are the set `header` names and that more than half
/// of them signed its hash among `attestations`. Answers the valid
/// attestations of those voters, one per voter.
pub fn check_attested<'a>(
    header: &BlockHeader,
    attestations: &'a [Attestation],
    voters: &[VoterKey],
) -> Result<Vec<&'a Attestation>, ProofError> {
    if voter_set_hash(voters) != header.voters_hash {
        return Err(ProofError::UnknownVoters { height: header.height });
    }
    let block_hash: Hash32 = header.hash();
    let mut signed: Vec<&Attestation> = attestations
        .iter()
        .filter(|a| a.height == header.height && a.block_hash == block_hash)
        .filter(|a| voters.iter().find(|v| v.node == a.node).is_some_and(|v| a.verify(&v.public_key).is_ok()))
        .collect();
    signed.sort_unstable_by(|a, b| a.node.cmp(&b.node));
    signed.dedup_by(|a, b| a.node == b.node);
    if signed.len() * 2 <= voters.len() {
        return Err(ProofError::NotAttested { height: header.height, valid: signed.len(), voters: voters.len() });
    }
    Ok(signed)
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
    /// The proofs of the changes of voters between genesis and the last of
    /// these blocks, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub voter_changes: Vec<TxProof>,
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
