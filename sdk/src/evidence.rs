//! The evidence contract from the client's side: building its transactions,
//! and verifying an evidence proof offline against the genesis file alone.

use billflow_types::proof::{EvidenceProof, ProofError, TxProof, VoterHistory};
use billflow_types::{ContractName, Genesis, Hash32, SignedTx, TxId, TxStatus, Version};
use sha2::{Digest, Sha256};

pub use billflow_contract_evidence::{
    CosignEvidence, EvidenceConfig, EvidenceCosigned, EvidenceNotarised, EvidenceRecord, EvidenceSubmitted,
    GetEvidence, ListBySubmitter, NotarySignature, SubmitEvidence,
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

fn proven(p: &TxProof, voters: &VoterHistory, what: &str, method: &str, hash: &Hash32) -> Result<(), VerifyError> {
    p.verify_in(voters).map_err(|source| VerifyError::Proof { what: what.into(), source })?;
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

/// The event `topic` the evidence contract emitted in a proven receipt, decoded.
fn event<T: borsh::BorshDeserialize>(p: &TxProof, topic: &str, what: &str) -> Result<Option<T>, VerifyError> {
    let Some(e) = p.receipt.events.iter().find(|e| e.contract.as_str() == CONTRACT && e.topic == topic) else {
        return Ok(None);
    };
    borsh::from_slice(&e.data)
        .map(Some)
        .map_err(|err| VerifyError::Mismatch(format!("{what}: its {topic} event does not decode: {err}")))
}

/// Verifies `proof` for document `hash` with nothing but the genesis document:
/// every transaction is in a block attested by a majority of the voters in
/// force at its height (followed from genesis through the proven changes of
/// voters the proof carries), the submission and co-signatures are about this document and
/// succeeded, and every field of the record the verdict shows is what those
/// transactions prove: the document type and metadata are the submission's
/// arguments, the submitter and tenant what the contract recorded for it,
/// each co-signature (notary, office, height) one proven co-signing, and the
/// notarisation the proven co-signing that completed it, over the threshold
/// of distinct notary offices the contract named.
pub fn verify(proof: &EvidenceProof, genesis: &Genesis, hash: &Hash32) -> Result<Verdict, VerifyError> {
    let mismatch = |text: String| Err(VerifyError::Mismatch(text));
    if proof.hash != *hash {
        return Err(VerifyError::OtherDocument { expected: *hash, got: proof.hash });
    }
    let voters = VoterHistory::follow(genesis, &proof.voter_changes)
        .map_err(|source| VerifyError::Proof { what: "the changes of voters".into(), source })?;
    let submit = &proof.submit;
    proven(submit, &voters, "the submission", "submit", hash)?;
    let Some(submitted) = event::<EvidenceSubmitted>(submit, "evidence.submitted", "the submission")? else {
        return mismatch("the submission's receipt records no evidence.submitted event".into());
    };
    let args: SubmitEvidence = borsh::from_slice(&submit.tx.tx.args)
        .map_err(|e| VerifyError::Mismatch(format!("the submission's arguments do not decode: {e}")))?;
    let record: EvidenceRecord = borsh::from_slice(&proof.record)
        .map_err(|e| VerifyError::Mismatch(format!("the record does not decode: {e}")))?;
    if record.hash != hash.0 || submitted.hash != hash.0 || record.tx_id != submit.tx.tx.tx_id.as_str() {
        return mismatch("the record is not the one the submission made".into());
    }
    if record.doc_type != args.doc_type {
        return mismatch(format!(
            "the record's document type {:?} is not the submission's {:?}",
            record.doc_type, args.doc_type
        ));
    }
    if record.metadata != args.metadata {
        return mismatch("the record's metadata is not the submission's".into());
    }
    if record.submitter != submitted.submitter || record.tenant != submitted.tenant {
        return mismatch(format!(
            "the record's submitter {} is not the one the contract recorded for the submission ({})",
            record.submitter, submitted.submitter
        ));
    }
    if record.height != submit.header.height || record.time_ms != submit.header.proposed_at_ms {
        return mismatch("the record's height or time is not the submission's block".into());
    }

    let mut cosigned_by = Vec::new();
    let mut signatures = Vec::new();
    let mut notarised_at = None;
    for (n, c) in proof.cosigns.iter().enumerate() {
        let what = format!("co-signature {}", n + 1);
        proven(c, &voters, &what, "cosign", hash)?;
        if c.header.height < submit.header.height {
            return mismatch(format!("{what} precedes the submission"));
        }
        let Some(cosigned) = event::<EvidenceCosigned>(c, "evidence.cosigned", &what)? else {
            return mismatch(format!("{what}: its receipt records no evidence.cosigned event"));
        };
        if cosigned.hash != hash.0 {
            return mismatch(format!("{what} is about another document"));
        }
        signatures.push(NotarySignature {
            notary: cosigned.notary,
            org: cosigned.org,
            height: c.header.height,
            time_ms: c.header.proposed_at_ms,
        });
        cosigned_by.push(c.tx.tx.signer.to_string());
        let notarises = event::<EvidenceNotarised>(c, "evidence.notarised", &what)?;
        if notarises.is_some_and(|e| e.hash == hash.0) && notarised_at.is_none() {
            // The threshold counts distinct notary offices among the proven co-signatures.
            let so_far = EvidenceRecord { signatures: signatures.clone(), ..record.clone() };
            if so_far.offices() < cosigned.threshold {
                return mismatch(format!(
                    "{what} claims to notarise the record with {} notary offices, the threshold is {}",
                    so_far.offices(),
                    cosigned.threshold
                ));
            }
            notarised_at = Some(c.header.height);
        }
    }
    if record.signatures.len() != signatures.len() {
        return mismatch(format!(
            "the record lists {} co-signatures, the proof proves {}",
            record.signatures.len(),
            signatures.len()
        ));
    }
    for (n, (claimed, proven)) in record.signatures.iter().zip(&signatures).enumerate() {
        if claimed != proven {
            return mismatch(format!(
                "co-signature {} of the record ({}) is not the proven one ({})",
                n + 1,
                claimed.notary,
                proven.notary
            ));
        }
    }
    if record.notarised_at != notarised_at {
        return mismatch(match record.notarised_at {
            Some(_) if notarised_at.is_none() => {
                "the record claims to be notarised, but no proven co-signature completed it".into()
            }
            _ => "the record's notarisation is not the one the proven co-signatures made".into(),
        });
    }
    let notarised = notarised_at.is_some();
    Ok(Verdict { hash: *hash, record, submitted_at: submit.header.height, cosigned_by, notarised })
}
