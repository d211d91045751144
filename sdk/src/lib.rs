//! The billflow client library: load keys, build and sign transactions, submit
//! them to a node's gateway over HTTPS with signed requests, wait for their
//! receipts, query contracts and read blocks, and verify evidence proofs
//! offline against the genesis file alone; and the bill, fund and order
//! flows ([`flows`]: typed actions, queries, masked accounts, statements).
//!
//! Retrying a submission with the same `tx_id` is always safe: the ledger
//! records a transaction id once and answers a resubmission with the first
//! result. [`Client::submit_and_wait`] does exactly that across every node it
//! knows until the transaction commits.

mod client;
pub mod evidence;
pub mod flows;
mod supervise;

pub use billflow_types as types;
pub use client::{Client, ClientBuilder};
pub use supervise::Supervision;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use billflow_types::system::{SYSTEM_VERSION, SystemCall, system_contract};
use billflow_types::{ChainId, ContractName, KeyId, MethodName, SecretKey, SignedTx, TenantId, Tx, TxId, Version};

/// Client failures.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The node could not be reached or the connection failed.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The node answered with an error.
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// Detail.
        message: String,
        /// The request's id on the node (for its audit log).
        request_id: Option<String>,
    },
    /// A WebSocket could not be opened or broke off (the node is unreachable,
    /// or closed the stream: a slow reader is told where to resume).
    #[error("stream: {0}")]
    Stream(String),
    /// The transaction was recorded with a failed receipt.
    #[error("transaction failed: {}: {}", .0.code, .0.message)]
    Failed(billflow_types::TxFailure),
    /// The request could not be built, or the answer made no sense.
    #[error("{0}")]
    Invalid(String),
}

impl SdkError {
    /// The ledger's error code, if the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SdkError::Api { code, .. } => Some(code),
            SdkError::Failed(f) => Some(&f.code),
            SdkError::Transport(_) | SdkError::Stream(_) | SdkError::Invalid(_) => None,
        }
    }

    /// Whether another node (or a later try) may succeed where this failed:
    /// the node was unreachable, timed out, was busy or shutting down.
    pub fn is_retryable(&self) -> bool {
        match self {
            SdkError::Transport(_) | SdkError::Stream(_) => true,
            SdkError::Api { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            SdkError::Failed(_) | SdkError::Invalid(_) => false,
        }
    }
}

/// Result of client operations.
pub type Result<T, E = SdkError> = std::result::Result<T, E>;

/// An identity that signs transactions and requests: a registered key and the
/// tenant it acts under.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The chain to sign for.
    pub chain_id: ChainId,
    /// The tenant the key acts under (`None` for organisation administrators and banks).
    pub tenant: Option<TenantId>,
    /// The registered key id.
    pub key_id: KeyId,
    /// The secret key.
    pub secret: SecretKey,
}

/// What [`set_clock_offset_ms`] set.
static CLOCK_OFFSET_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Milliseconds since the Unix epoch by this client's clock: the system's,
/// plus any offset set with [`set_clock_offset_ms`]. Transactions and signed
/// requests carry it.
pub fn now_ms() -> u64 {
    let system = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    system.saturating_add(CLOCK_OFFSET_MS.load(std::sync::atomic::Ordering::Relaxed)).max(0) as u64
}

/// Corrects this process's client clock by `offset_ms` (positive: ahead of
/// the system clock), for a machine whose clock is known to differ from the
/// network's: nodes refuse transactions and requests stamped more than a few
/// minutes off their own clock.
pub fn set_clock_offset_ms(offset_ms: i64) {
    CLOCK_OFFSET_MS.store(offset_ms, std::sync::atomic::Ordering::Relaxed);
}

/// Reads an ed25519 key from a PKCS#8 PEM file.
pub fn read_key(path: &Path) -> Result<SecretKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SdkError::Invalid(format!("cannot read the key {}: {e}", path.display())))?;
    billflow_types::keyfile::parse_key_pem(&text).map_err(|e| SdkError::Invalid(format!("{}: {e}", path.display())))
}

impl Signer {
    /// A signer from a PKCS#8 PEM key file.
    pub fn from_key_file(chain_id: ChainId, tenant: Option<TenantId>, key_id: KeyId, path: &Path) -> Result<Signer> {
        Ok(Signer { chain_id, tenant, key_id, secret: read_key(path)? })
    }

    /// Builds and signs a call of `contract` at `version`.
    pub fn sign(
        &self,
        tx_id: TxId,
        contract: ContractName,
        version: Version,
        method: MethodName,
        args: Vec<u8>,
    ) -> SignedTx {
        Tx {
            chain_id: self.chain_id.clone(),
            tx_id,
            tenant: self.tenant.clone(),
            signer: self.key_id.clone(),
            contract,
            version,
            method,
            args,
            timestamp_ms: now_ms(),
        }
        .sign(&self.secret)
    }

    /// Builds and signs a system-contract call.
    pub fn system(&self, tx_id: TxId, call: &SystemCall) -> SignedTx {
        self.sign(tx_id, system_contract(), SYSTEM_VERSION, call.method_name(), call.encode_args())
    }
}

/// A new transaction id: `prefix-` and 16 random hex digits.
///
/// About one random id in twenty thousand is all decimal digits with a
/// valid Luhn check, which reads as a bank card number: the ledger refuses
/// such an id as personal data (`E_PERSONAL_DATA`). Those are drawn again.
pub fn new_tx_id(prefix: &str) -> Result<TxId> {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| SdkError::Invalid(format!("no random source: {e}")))?;
        let id = format!("{prefix}-{}", hex::encode(bytes));
        if billflow_types::privacy::find_personal_data(&id).is_none() {
            return TxId::new(id).map_err(|e| SdkError::Invalid(e.to_string()));
        }
    }
}

#[cfg(test)]
mod tx_id_tests {
    #[test]
    fn new_ids_never_read_as_personal_data() {
        // "x-" and sixteen digits with a valid Luhn check: refused by the ledger.
        assert!(billflow_types::privacy::find_personal_data("x-6222021234567894").is_some());
        for _ in 0..50_000 {
            let id = super::new_tx_id("x").unwrap();
            assert!(billflow_types::privacy::find_personal_data(id.as_str()).is_none(), "{id}");
        }
    }
}
