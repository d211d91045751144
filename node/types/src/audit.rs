//! The audit trail: every gateway call and administrative action, one entry
//! each, hash-chained so that a removed, inserted or edited entry is detected.
//!
//! Entry `n` stores the hash of entry `n - 1` (`prev`; zeros for the first) and
//! its own hash over every other field in the [`Domain::AuditEntry`] domain.

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::to_canonical;
use crate::hash::{Domain, Hash32};

/// One audited action.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// When, as RFC 3339 UTC.
    pub time: String,
    /// The request's id.
    pub request_id: String,
    /// Who: tenant, organisation or participant and key, or an anonymous client.
    pub subject: String,
    /// On what: the route's object (a transaction id, a block, a contract).
    pub object: String,
    /// What: method and route.
    pub action: String,
    /// How it ended: the HTTP status and the error code, if any.
    pub result: String,
    /// The previous entry's hash.
    pub prev: Hash32,
    /// This entry's hash.
    pub hash: Hash32,
}

#[derive(BorshSerialize)]
struct Linked<'a> {
    seq: u64,
    time: &'a str,
    request_id: &'a str,
    subject: &'a str,
    object: &'a str,
    action: &'a str,
    result: &'a str,
    prev: &'a Hash32,
}

impl AuditEntry {
    /// The hash this entry must carry.
    pub fn compute_hash(&self) -> Hash32 {
        let linked = Linked {
            seq: self.seq,
            time: &self.time,
            request_id: &self.request_id,
            subject: &self.subject,
            object: &self.object,
            action: &self.action,
            result: &self.result,
            prev: &self.prev,
        };
        Hash32::of(Domain::AuditEntry, &to_canonical(&linked))
    }
}

/// The head of a node's audit log: its last durable entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditHead {
    /// The entry's position.
    pub seq: u64,
    /// Its hash (which covers every entry before it through the chain).
    pub hash: Hash32,
}

/// A node's audit head as it signed it into its attestation of a block: held
/// by every node, so that a log rewritten or cut afterwards no longer matches.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditAnchor {
    /// The head.
    pub head: AuditHead,
    /// ed25519 by the node's key over `node ‖ height ‖ head` in [`Domain::AuditAnchor`].
    pub signature: crate::crypto::Signature,
}

impl AuditAnchor {
    fn message(node: &crate::ids::NodeId, height: u64, head: &AuditHead) -> Vec<u8> {
        to_canonical(&(node, height, head))
    }

    /// `node` anchors `head` at block `height`.
    pub fn sign(
        node: &crate::ids::NodeId,
        height: u64,
        head: AuditHead,
        key: &crate::crypto::SecretKey,
    ) -> AuditAnchor {
        AuditAnchor { head, signature: key.sign(Domain::AuditAnchor, &Self::message(node, height, &head)) }
    }

    /// Checks that `node`'s `key` anchored this head at `height`.
    pub fn verify(
        &self,
        node: &crate::ids::NodeId,
        height: u64,
        key: &crate::crypto::PublicKey,
    ) -> Result<(), crate::crypto::SignatureError> {
        key.verify(Domain::AuditAnchor, &Self::message(node, height, &self.head), &self.signature)
    }
}

/// Where an audit log breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {reason}")]
pub struct AuditBreak {
    /// The first entry that does not verify.
    pub seq: u64,
    /// Why.
    pub reason: String,
}

/// Checks a whole log, in order: numbering, links and hashes.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, AuditBreak> {
    verify_chain_from(entries, 0, Hash32([0; 32]))
}

/// Checks a run of a log that starts at entry `seq`, whose entry before it
/// has hash `prev` (a segment after rotated ones): numbering, links and
/// hashes. Returns the position after the last entry.
pub fn verify_chain_from<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    seq: u64,
    prev: Hash32,
) -> Result<u64, AuditBreak> {
    let mut prev = prev;
    let mut n = seq;
    for e in entries {
        let broken = |reason: String| AuditBreak { seq: n, reason };
        if e.seq != n {
            return Err(broken(format!("numbered {}, expected {n} (an entry is missing or inserted)", e.seq)));
        }
        if e.prev != prev {
            return Err(broken("does not link to the entry before it".into()));
        }
        if e.compute_hash() != e.hash {
            return Err(broken("its content does not match its hash (edited)".into()));
        }
        prev = e.hash;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> Vec<AuditEntry> {
        let mut prev = Hash32([0; 32]);
        (0..n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    time: "2026-11-21T10:00:00.000Z".into(),
                    request_id: format!("r{seq}"),
                    subject: "tenant:demo/key:k1".into(),
                    object: format!("tx-{seq}"),
                    action: "POST /v1/transactions".into(),
                    result: "200".into(),
                    prev,
                    hash: Hash32([0; 32]),
                };
                e.hash = e.compute_hash();
                prev = e.hash;
                e
            })
            .collect()
    }

    #[test]
    fn removed_edited_or_inserted_entries_are_found() {
        let good = log(5);
        assert_eq!(verify_chain(&good), Ok(5));
        let mut edited = good.clone();
        edited[2].result = "403 E_FORBIDDEN".into();
        assert_eq!(verify_chain(&edited).unwrap_err().seq, 2);
        let mut removed = good.clone();
        removed.remove(3);
        assert_eq!(verify_chain(&removed).unwrap_err().seq, 3);
        let mut relinked = good.clone();
        relinked[1].prev = Hash32([9; 32]);
        relinked[1].hash = relinked[1].compute_hash();
        assert_eq!(verify_chain(&relinked).unwrap_err().seq, 1);
    }
}
