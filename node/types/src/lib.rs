//! Ledger data types shared by every billflow component: transactions, blocks,
//! receipts, identities, the genesis document, the canonical encoding, hashing,
//! Merkle proofs and ed25519 signatures.
//!
//! This crate does no IO and knows nothing of async, storage, networking or JSON
//! transport; serde derives exist so that edge crates can map these types to JSON,
//! but what is signed or hashed is always the canonical binary encoding
//! ([`Canonical`]).

pub mod audit;
pub mod block;
pub mod contract;
pub mod crypto;
pub mod dev;
pub mod encoding;
pub mod genesis;
pub mod hash;
pub mod ids;
pub mod interface;
pub mod keyfile;
pub mod merkle;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod proof;
pub mod receipt;
pub mod reject;
pub mod request;
pub mod state;
pub mod system;
pub mod tx;
pub mod view;

#[cfg(test)]
mod roundtrip;

/// Finding and masking personal data: what the ledger refuses and what every
/// response and log line masks.
pub use billflow_privacy as privacy;

pub use block::{
    Attestation, Block, BlockHeader, BlockProposal, ChainTip, ConsensusRef, VOTERS_CHANGED, VoterKey, voter_set_hash,
};
pub use crypto::{PublicKey, SecretKey, Signature, SignatureError};
pub use encoding::{Canonical, DecodeError};
pub use genesis::{
    AdminPolicy, ChainParams, Genesis, GenesisKey, GenesisNode, GenesisOrg, GenesisSignature, GenesisTenant, NodeRole,
    OrgRole, RegulatorApproval,
};
pub use hash::{Domain, Hash32};
pub use ids::{
    ChainId, ContractName, IdError, KeyId, MethodName, NodeId, OrgId, ParticipantId, TenantId, TxId, Version,
};
pub use merkle::{MerkleProof, merkle_root};
pub use receipt::{Event, Receipt, TxFailure, TxLocation, TxStatus};
pub use reject::Rejection;
pub use state::StateChange;
pub use tx::{SignedTx, Tx};
