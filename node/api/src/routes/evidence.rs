//! Evidence of a document, with the proofs of its submission and co-signatures.

use axum::Json;
use axum::extract::{Path, State};
use billflow_contract_evidence::{CosignEvidence, EvidenceRecord, GetEvidence, SubmitEvidence};
use billflow_types::proof::{EvidenceProof, EvidenceSummary};
use billflow_types::view::ErrorBody;
use billflow_types::{Hash32, TxLocation, TxStatus};

use super::contracts::run_query;
use super::transactions::{tx_proof, voter_changes};
use super::{Gw, contract_name, parse_tx_id, storage};
use crate::Gateway;
use crate::error::ApiError;

/// The evidence contract's name.
const EVIDENCE: &str = "evidence";

/// The evidence record of document `doc`, if the evidence contract is deployed and holds one.
pub(crate) async fn evidence_record(gw: &Gateway, doc: Hash32) -> Result<Option<EvidenceRecord>, ApiError> {
    let name = contract_name(EVIDENCE.into())?;
    if gw.chain.contract(&name)?.is_none() {
        return Ok(None);
    }
    let args = borsh::to_vec(&GetEvidence { hash: doc.0 }).map_err(ApiError::internal)?;
    // A public lookup: it runs anonymous, whoever asks.
    let output = run_query(gw.chain.clone(), None, name, "get".into(), args).await?;
    borsh::from_slice(&output).map_err(|e| ApiError::internal(format!("evidence record: {e}")))
}

/// Evidence of a document, with its proofs
///
/// What the evidence contract records for the document's SHA-256 (submitter,
/// type, metadata, notaries), the record itself, and the proof of the
/// submitting transaction and of every co-signature.
#[utoipa::path(
    get,
    path = "/v1/evidence/{hash}",
    tag = "evidence",
    params(("hash" = Hash32, Path, description = "The document's SHA-256, 64 hex digits.")),
    responses(
        (status = 200, description = "The evidence and its proofs.", body = EvidenceProof),
        (status = 400, description = "Not 64 hex digits (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No evidence contract is deployed, or no evidence of this document.",
            body = ErrorBody),
        (status = 422, description = "The evidence contract refused the lookup.", body = ErrorBody),
    ),
)]
pub(crate) async fn evidence(State(gw): Gw, Path(hash): Path<String>) -> Result<Json<EvidenceProof>, ApiError> {
    let doc = Hash32::from_hex(&hash)
        .map_err(|_| ApiError::bad_request("E_INVALID_FIELD", "a document hash is 64 hex digits (SHA-256)"))?;
    if gw.chain.contract(&contract_name(EVIDENCE.into())?)?.is_none() {
        return Err(ApiError::not_found("no evidence contract is deployed"));
    }
    let record = evidence_record(&gw, doc)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no evidence {doc} is on the ledger")))?;
    let store = &gw.store;
    let submit_id = parse_tx_id(record.tx_id.clone())?;
    let location = store.tx_location(&submit_id).map_err(storage)?.ok_or_else(|| {
        ApiError::internal(format!("evidence {doc} names transaction {submit_id}, which is not recorded"))
    })?;
    let submit = tx_proof(&gw, location)?;
    let mut cosigns = Vec::new();
    let mut heights: Vec<u64> = record.signatures.iter().map(|s| s.height).collect();
    heights.dedup();
    for height in heights {
        let Some(stored) = store.stored_block(height).map_err(storage)? else { continue };
        for (index, (tx, receipt)) in stored.block.txs.iter().zip(&stored.receipts).enumerate() {
            let cosigns_this = tx.tx.contract.as_str() == EVIDENCE
                && tx.tx.method.as_str() == "cosign"
                && receipt.status == TxStatus::Success
                && borsh::from_slice::<CosignEvidence>(&tx.tx.args).is_ok_and(|c| c.hash == doc.0);
            if cosigns_this {
                cosigns.push(tx_proof(&gw, TxLocation { height, index: index as u32 })?);
            }
        }
    }
    let summary = EvidenceSummary {
        doc_type: record.doc_type.clone(),
        metadata: record.metadata.clone(),
        submitter: record.submitter.clone(),
        tx_id: record.tx_id.clone(),
        height: record.height,
        time_ms: record.time_ms,
        notaries: record.signatures.iter().map(|s| s.notary.clone()).collect(),
        notarised_at: record.notarised_at,
    };
    // Make sure the submission is what the record says (a defect here would mislead a verifier).
    if !borsh::from_slice::<SubmitEvidence>(&submit.tx.tx.args).is_ok_and(|s| s.hash == doc.0) {
        return Err(ApiError::internal(format!("transaction {submit_id} does not submit evidence {doc}")));
    }
    let record = borsh::to_vec(&record).map_err(ApiError::internal)?;
    let last = cosigns.iter().map(|c| c.header.height).chain([submit.header.height]).max().unwrap_or_default();
    let voter_changes = voter_changes(&gw, last)?;
    Ok(Json(EvidenceProof { hash: doc, summary, record, submit, cosigns, voter_changes }))
}
