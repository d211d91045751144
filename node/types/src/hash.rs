//! Domain-separated SHA-256.
//!
//! Every hash names what it is a hash of: `H(domain, data) = SHA-256(len(tag) ‖ tag ‖ data)`
//! where `tag` is the domain's ASCII tag and `len(tag)` one byte. Two different
//! kinds of object can therefore never share a hash, even with equal bytes.

use std::fmt;

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// What a hash or signature is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A signed transaction: its hash is its identity in blocks and proofs.
    Tx,
    /// The message an ed25519 transaction signature covers.
    TxSignature,
    /// A block header: the block hash.
    BlockHeader,
    /// One receipt.
    Receipt,
    /// A Merkle leaf.
    MerkleLeaf,
    /// An inner Merkle node.
    MerkleNode,
    /// The root of an empty Merkle tree.
    MerkleEmpty,
    /// The sorted state changes of one block.
    StateChanges,
    /// One link of the state-change chain.
    StateChain,
    /// The genesis document.
    Genesis,
    /// A founding organisation's signature over the genesis hash.
    GenesisSignature,
    /// A node's attestation of a committed block.
    BlockAttestation,
    /// Contract code (the code hash).
    ContractCode,
    /// The message a gateway request signature covers.
    ApiRequest,
    /// One entry of the audit log (its link in the hash chain).
    AuditEntry,
    /// A voter set: what a block header commits to as the voters in force.
    VoterSet,
    /// A node's signature over its audit log's head, carried in its attestations.
    AuditAnchor,
}

impl Domain {
    /// The ASCII tag hashed in front of the data.
    pub const fn tag(self) -> &'static str {
        match self {
            Domain::Tx => "billflow/v1/tx",
            Domain::TxSignature => "billflow/v1/tx-signature",
            Domain::BlockHeader => "billflow/v1/block-header",
            Domain::Receipt => "billflow/v1/receipt",
            Domain::MerkleLeaf => "billflow/v1/merkle-leaf",
            Domain::MerkleNode => "billflow/v1/merkle-node",
            Domain::MerkleEmpty => "billflow/v1/merkle-empty",
            Domain::StateChanges => "billflow/v1/state-changes",
            Domain::StateChain => "billflow/v1/state-chain",
            Domain::Genesis => "billflow/v1/genesis",
            Domain::GenesisSignature => "billflow/v1/genesis-signature",
            Domain::BlockAttestation => "billflow/v1/block-attestation",
            Domain::ContractCode => "billflow/v1/contract-code",
            Domain::ApiRequest => "billflow/v1/api-request",
            Domain::AuditEntry => "billflow/v1/audit-entry",
            Domain::VoterSet => "billflow/v1/voter-set",
            Domain::AuditAnchor => "billflow/v1/audit-anchor",
        }
    }

    /// `len(tag) ‖ tag`: the prefix of every hashed or signed message of this domain.
    pub fn prefix(self) -> Vec<u8> {
        let tag = self.tag().as_bytes();
        let mut out = Vec::with_capacity(tag.len() + 1);
        out.push(tag.len() as u8);
        out.extend_from_slice(tag);
        out
    }
}

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The all-zero hash, used as the previous hash of the genesis block.
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// Hashes `data` in `domain`.
    pub fn of(domain: Domain, data: &[u8]) -> Hash32 {
        Self::of_parts(domain, &[data])
    }

    /// Hashes the concatenation of `parts` in `domain`.
    pub fn of_parts(domain: Domain, parts: &[&[u8]]) -> Hash32 {
        let tag = domain.tag().as_bytes();
        let mut h = Sha256::new();
        h.update([tag.len() as u8]);
        h.update(tag);
        for part in parts {
            h.update(part);
        }
        Hash32(h.finalize().into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Hash32, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(Hash32(out))
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        Hash32::from_hex(&s).map_err(|e| serde::de::Error::custom(format!("invalid hash {s:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_separate_equal_bytes() {
        assert_ne!(Hash32::of(Domain::Tx, b"x"), Hash32::of(Domain::Receipt, b"x"));
    }

    #[test]
    fn parts_hash_as_their_concatenation() {
        assert_eq!(Hash32::of_parts(Domain::Tx, &[b"ab", b"c"]), Hash32::of(Domain::Tx, b"abc"));
    }

    #[test]
    fn hex_round_trip_and_rejection() {
        let h = Hash32::of(Domain::Genesis, b"g");
        assert_eq!(Hash32::from_hex(&h.to_hex()), Ok(h));
        assert!(Hash32::from_hex("zz").is_err());
        assert!(Hash32::from_hex(&"0".repeat(62)).is_err());
    }
}
