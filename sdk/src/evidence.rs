//! The evidence contract from the client's side: building its transactions,
//! and verifying an evidence proof offline against the genesis file alone.

use billflow_types::proof::{EvidenceProof, ProofError, TxProof};
use billflow_types::{ContractName, Genesis, Hash32, SignedTx, TxId, TxStatus, Version};
use sha2::{Digest, Sha256};

pub use billflow_contract_evidence::{
    CosignEvidence, EvidenceConfig, EvidenceRecord, GetEvidence, ListBySubmitter, SubmitEvidence,
};

use crate::Signer;

/// The evidence contract's name.
pub const CONTRACT: &str = "evidence";

/// The SHA-256 of a document: what the ledger records of it.
pub fn document_hash(document: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(document).into())
}

fn contract() -> ContractName {
    #[allow(clippy::expect_used)]
    ContractName::new(CONTRACT).expect("valid constant")
}

fn method(name: &str) -> billflow_types::MethodName {
    #[allow(clippy::expect_used)]
    billflow_types::MethodName::new(name).expect("valid constant")
}

fn borsh_bytes(value: &impl borsh::BorshSerialize) -> Vec<u8> {
    // Encoding plain structs into a Vec cannot fail.
    borsh::to_vec(value).unwrap_or_default()
}

/// A transaction submitting `hash` as evidence, to contract version `version`.
pub fn submit_tx(
    signer: &Signer,
    tx_id: TxId,
    version: Version,
    hash: &Hash32,
    doc_type: &str,
    metadata: Vec<(String, String)>,
) -> SignedTx {
    let args = SubmitEvidence { hash: hash.0, doc_type: doc_type.into(), metadata };
    signer.sign(tx_id, contract(), version, method("submit"), borsh_bytes(&args))
}

/// A notary's co-signature of `hash`.
pub fn cosign_tx(signer: &Signer, tx_id: TxId, version: Version, hash: &Hash32) -> SignedTx {
    signer.sign(tx_id, contract(), version, method("cosign"), borsh_bytes(&CosignEvidence { hash: hash.0 }))
}

/// What a verified proof shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The document hash.
    pub hash: Hash32,
    /// The record.
    pub record: EvidenceRecord,
    /// Block height of the submission.
    pub submitted_at: u64,
    /// The key ids of the notaries whose co-signatures are proven.
    pub cosigned_by: Vec<String>,
    /// Whether a proven co-signature completed the notary threshold.
    pub notarised: bool,
}

/// Why an evidence proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The proof is for another document.
    #[error("the proof is for {got}, not {expected}")]
    OtherDocument {
        /// The hash asked about.
        expected: Hash32,
        /// The proof's.
        got: Hash32,
    },
    /// A transaction proof does not hold.
    #[error("{what}: {source}")]
    Proof {
        /// Which transaction.
        what: String,
        /// Why.
        source: ProofError,
    },
    /// A proven transaction is not what the proof claims it is.
    #[error("{0}")]
    Mismatch(String),
}

fn proven(p: &TxProof, genesis: &Genesis, what: &str, method: &str, hash: &Hash32) -> Result<(), VerifyError> {
    p.verify(genesis).map_err(|source| VerifyError::Proof { what: what.into(), source })?;
    let tx = &p.tx.tx;
    if tx.contract.as_str() != CONTRACT || tx.method.as_str() != method {
        return Err(VerifyError::Mismatch(format!(
            "{what} calls {}.{}, not {CONTRACT}.{method}",
            tx.contract, tx.method
        )));
    }
    let doc = match method {
        "submit" => borsh::from_slice::<SubmitEvidence>(&tx.args).map(|a| a.hash),
        _ => borsh::from_slice::<CosignEvidence>(&tx.args).map(|a| a.hash),
    };
    if doc.ok() != Some(hash.0) {
        return Err(VerifyError::Mismatch(format!("{what} is about another document")));
    }
    if p.receipt.status != TxStatus::Success {
        return Err(VerifyError::Mismatch(format!("{what} failed on the ledger")));
    }
    Ok(())
}

fn emitted(p: &TxProof, topic: &str) -> bool {
    p.receipt.events.iter().any(|e| e.contract.as_str() == CONTRACT && e.topic == topic)
}

/// Verifies `proof` for document `hash` with nothing but the genesis document:
/// every transaction is in a block attested by a majority of the genesis
/// voters, the submission and co-signatures are about this document and
/// succeeded, and the record agrees with them.
pub fn verify(proof: &EvidenceProof, genesis: &Genesis, hash: &Hash32) -> Result<Verdict, VerifyError> {
    if proof.hash != *hash {
        return Err(VerifyError::OtherDocument { expected: *hash, got: proof.hash });
    }
    proven(&proof.submit, genesis, "the submission", "submit", hash)?;
    if !emitted(&proof.submit, "evidence.submitted") {
        return Err(VerifyError::Mismatch("the submission's receipt records no evidence.submitted event".into()));
    }
    let mut cosigned_by = Vec::new();
    let mut notarised = false;
    for (n, c) in proof.cosigns.iter().enumerate() {
        proven(c, genesis, &format!("co-signature {}", n + 1), "cosign", hash)?;
        if c.header.height < proof.submit.header.height {
            return Err(VerifyError::Mismatch(format!("co-signature {} precedes the submission", n + 1)));
        }
        cosigned_by.push(c.tx.tx.signer.to_string());
        notarised |= emitted(c, "evidence.notarised");
    }
    let record: EvidenceRecord = borsh::from_slice(&proof.record)
        .map_err(|e| VerifyError::Mismatch(format!("the record does not decode: {e}")))?;
    if record.hash != hash.0 || record.tx_id != proof.submit.tx.tx.tx_id.as_str() {
        return Err(VerifyError::Mismatch("the record is not the one the submission made".into()));
    }
    if record.notarised_at.is_some() && !notarised {
        return Err(VerifyError::Mismatch(
            "the record claims to be notarised, but no proven co-signature completed it".into(),
        ));
    }
    Ok(Verdict { hash: *hash, record, submitted_at: proof.submit.header.height, cosigned_by, notarised })
}
