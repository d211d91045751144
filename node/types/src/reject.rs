//! Why a transaction was refused before it could earn a receipt.
//!
//! A refused transaction is not recorded on the ledger: it was malformed, not
//! for this chain, not authentically signed, or already recorded. Business
//! failures of an authentic transaction are receipts instead ([`crate::TxFailure`]).

use crate::encoding::DecodeError;
use crate::ids::{ChainId, KeyId, TenantId, TxId};

/// A refusal, with a stable code for clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum Rejection {
    /// The bytes are not a canonical signed transaction.
    #[error("malformed transaction: {0}")]
    Malformed(#[from] DecodeError),
    /// A field holds a value the ledger does not accept.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Larger than the chain's `max_tx_bytes`.
    #[error("transaction is {size} bytes, the limit is {max}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Signed for another chain.
    #[error("transaction is for chain {got}, this is chain {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The chain the transaction names.
        got: ChainId,
    },
    /// The signer key is not registered.
    #[error("signing key {0} is not registered")]
    UnknownKey(KeyId),
    /// The signer key was revoked.
    #[error("signing key {0} is revoked")]
    KeyRevoked(KeyId),
    /// The key does not act for the tenant the transaction names.
    #[error("key {key} does not act for tenant {}", tenant.as_ref().map_or("(none)", |t| t.as_str()))]
    TenantMismatch {
        /// The signer key.
        key: KeyId,
        /// The tenant the transaction names.
        tenant: Option<TenantId>,
    },
    /// The signature does not verify under the signer's registered key.
    #[error("signature does not verify under key {0}")]
    BadSignature(KeyId),
    /// A transaction with this id is already recorded or pending.
    #[error("transaction id {0} is already used")]
    Duplicate(TxId),
    /// The client timestamp is too far from the ledger's time.
    #[error("client timestamp {timestamp_ms} is outside the accepted window around {now_ms}")]
    Stale {
        /// The transaction's timestamp.
        timestamp_ms: u64,
        /// The time it was checked against.
        now_ms: u64,
    },
    /// The arguments or the id hold what looks like personal data (a phone,
    /// identity or bank card number), which never goes on the ledger in plain
    /// text. The message names the field and the kind, never the value.
    #[error(
        "the transaction's {field} holds what looks like {kind}: personal data stays off the ledger; hash it or leave it out"
    )]
    PersonalData {
        /// `args` or `tx_id`.
        field: String,
        /// What it looks like ("a mobile phone number").
        kind: String,
    },
    /// The node cannot take more pending transactions now; retry later.
    #[error("the node has {0} pending transactions and accepts no more for now")]
    Busy(usize),
}

impl Rejection {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "E_MALFORMED",
            Rejection::InvalidField { .. } => "E_INVALID_FIELD",
            Rejection::TooLarge { .. } => "E_TX_TOO_LARGE",
            Rejection::WrongChain { .. } => "E_WRONG_CHAIN",
            Rejection::UnknownKey(_) => "E_UNKNOWN_KEY",
            Rejection::KeyRevoked(_) => "E_KEY_REVOKED",
            Rejection::TenantMismatch { .. } => "E_TENANT_MISMATCH",
            Rejection::BadSignature(_) => "E_BAD_SIGNATURE",
            Rejection::Duplicate(_) => "E_DUPLICATE_TX",
            Rejection::Stale { .. } => "E_TX_STALE",
            Rejection::PersonalData { .. } => "E_PERSONAL_DATA",
            Rejection::Busy(_) => "E_BUSY",
        }
    }
}
