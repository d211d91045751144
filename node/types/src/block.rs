//! Blocks: proposals as ordered by consensus, and committed blocks as stored.

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::Canonical;
use crate::hash::{Domain, Hash32};
use crate::ids::{ChainId, NodeId};
use crate::merkle::merkle_root;
use crate::tx::SignedTx;

/// What the proposer puts in front of consensus: one proposal becomes at most one block.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct BlockProposal {
    /// The node that cut the proposal.
    pub proposer: NodeId,
    /// The proposer's clock when it cut the proposal; the block time inside contracts.
    pub proposed_at_ms: u64,
    /// Transactions in order.
    pub txs: Vec<SignedTx>,
}

/// Where a block sits in the consensus log (zero on a single-node chain's own log).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsensusRef {
    /// The term of the log entry.
    pub term: u64,
    /// The index of the log entry.
    pub index: u64,
}

/// A block header; its hash is the block hash.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockHeader {
    /// The chain.
    pub chain_id: ChainId,
    /// 0 for genesis.
    pub height: u64,
    /// Hash of the block at `height - 1` (zero for genesis).
    pub prev_hash: Hash32,
    /// Merkle root of the transaction hashes.
    pub tx_root: Hash32,
    /// Merkle root of the receipt hashes.
    pub receipts_root: Hash32,
    /// The state-change chain after this block ([`crate::state::chain_state_hash`]).
    pub state_hash: Hash32,
    /// Number of transactions.
    pub tx_count: u32,
    /// The node that proposed it.
    pub proposer: NodeId,
    /// Proposal time, ms since the Unix epoch.
    pub proposed_at_ms: u64,
    /// The consensus log entry that carried it.
    pub consensus: ConsensusRef,
    /// The voters in force for this block ([`voter_set_hash`] of the set
    /// before its own transactions): what lets a verifier holding only the
    /// genesis document tell whether it knows every change of voters.
    pub voters_hash: Hash32,
}

impl BlockHeader {
    /// The block hash.
    pub fn hash(&self) -> Hash32 {
        Hash32::of(Domain::BlockHeader, &self.encode())
    }
}

/// A voter: a node and the key its attestations are checked under.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoterKey {
    /// The node.
    pub node: NodeId,
    /// Its certificate's ed25519 key.
    pub public_key: crate::crypto::PublicKey,
}

/// The topic of the system event that names the voters in force from the
/// next block on; its data is the sorted `Vec<VoterKey>`.
pub const VOTERS_CHANGED: &str = "voters.changed";

/// The hash a header commits to: the voter set sorted by node id, encoded.
pub fn voter_set_hash(voters: &[VoterKey]) -> Hash32 {
    let mut sorted = voters.to_vec();
    sorted.sort();
    Hash32::of(Domain::VoterSet, &crate::encoding::to_canonical(&sorted))
}

/// A committed block.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The recorded transactions.
    pub txs: Vec<SignedTx>,
}

impl Block {
    /// Hashes of the transactions, in order.
    pub fn tx_hashes(&self) -> Vec<Hash32> {
        self.txs.iter().map(SignedTx::hash).collect()
    }

    /// The Merkle root of the transactions, recomputed.
    pub fn compute_tx_root(&self) -> Hash32 {
        merkle_root(&self.tx_hashes())
    }
}

/// The newest committed block, as a node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct ChainTip {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: Hash32,
    /// Its state hash.
    pub state_hash: Hash32,
    /// Its proposal time.
    pub time_ms: u64,
}

impl ChainTip {
    /// The tip that a block with `header` makes.
    pub fn of(header: &BlockHeader) -> ChainTip {
        ChainTip {
            height: header.height,
            hash: header.hash(),
            state_hash: header.state_hash,
            time_ms: header.proposed_at_ms,
        }
    }
}

/// A node's signature over a block it committed. A block attested by a majority
/// of the notary nodes is notarised.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attestation {
    /// The block's height.
    pub height: u64,
    /// The block's hash.
    pub block_hash: Hash32,
    /// The node that signs.
    pub node: NodeId,
    /// ed25519 by the node's certificate key over `height ‖ block_hash` in [`Domain::BlockAttestation`].
    pub signature: crate::crypto::Signature,
    /// The node's audit log head when it attested, signed on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditAnchor>,
}

impl Attestation {
    fn message(height: u64, block_hash: &Hash32) -> Vec<u8> {
        [height.to_le_bytes().as_slice(), &block_hash.0].concat()
    }

    /// Signs block `height` with hash `block_hash` as `node`.
    pub fn sign(height: u64, block_hash: Hash32, node: NodeId, key: &crate::crypto::SecretKey) -> Attestation {
        let signature = key.sign(Domain::BlockAttestation, &Self::message(height, &block_hash));
        Attestation { height, block_hash, node, signature, audit: None }
    }

    /// Anchors the node's audit log `head` in this attestation.
    pub fn with_audit(self, head: crate::audit::AuditHead, key: &crate::crypto::SecretKey) -> Attestation {
        let audit = Some(crate::audit::AuditAnchor::sign(&self.node, self.height, head, key));
        Attestation { audit, ..self }
    }

    /// Checks the signature under `key`, and the audit anchor's if it has one.
    pub fn verify(&self, key: &crate::crypto::PublicKey) -> Result<(), crate::crypto::SignatureError> {
        key.verify(Domain::BlockAttestation, &Self::message(self.height, &self.block_hash), &self.signature)?;
        match &self.audit {
            Some(anchor) => anchor.verify(&self.node, self.height, key),
            None => Ok(()),
        }
    }
}
