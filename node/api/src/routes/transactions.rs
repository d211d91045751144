//! A transaction's status and its proof, shown only to whom may see it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use billflow_chain::TxOutcome;
use billflow_types::proof::TxProof;
use billflow_types::system::{RecordKind, VoterChanges, state_key, system_contract};
use billflow_types::view::{ErrorBody, TxState, TxView};
use billflow_types::{Attestation, Canonical, Hash32, MerkleProof, TxId, TxLocation};

use super::{Gw, parse_tx_id, storage, wants_binary};
use crate::Gateway;
use crate::auth::Subject;
use crate::error::ApiError;

pub(super) fn pending_view(tx_id: TxId, tx_hash: Hash32) -> TxView {
    TxView {
        tx_id,
        tx_hash,
        status: TxState::Pending,
        height: None,
        index: None,
        receipt: None,
        decoded_events: Vec::new(),
    }
}

/// The view of a transaction's outcome; with `decode`, its events decoded by
/// their contracts' interfaces (for an answer in JSON).
pub(super) fn outcome_view(gw: &Gateway, tx_id: TxId, outcome: TxOutcome, decode: bool) -> Result<TxView, ApiError> {
    match outcome {
        TxOutcome::Committed { location, receipt } => Ok(TxView {
            tx_id,
            tx_hash: receipt.tx_hash,
            status: TxState::Committed,
            height: Some(location.height),
            index: Some(location.index),
            decoded_events: if decode { gw.interfaces.events(&gw.chain, &receipt.events) } else { Vec::new() },
            receipt: Some(receipt),
        }),
        TxOutcome::Rejected(r) => Err(r.into()),
    }
}

/// A transaction's view with `status`: JSON, or canonical bytes when the
/// client asked for them (`Accept: application/octet-stream`).
pub(super) fn view_answer(status: StatusCode, view: TxView, binary: bool) -> Response {
    if binary {
        return (status, [(header::CONTENT_TYPE, "application/octet-stream")], view.encode()).into_response();
    }
    (status, Json(view)).into_response()
}

/// The committed transaction `tx_id` if the subject may see it.
fn visible_tx(gw: &Gateway, subject: &Subject, tx_id: &TxId) -> Result<Option<TxLocation>, ApiError> {
    let Some(location) = gw.store.tx_location(tx_id).map_err(storage)? else { return Ok(None) };
    Ok(may_see_at(gw, subject, location)?.then_some(location))
}

/// Whether `subject` may see the committed transaction at `location`: an
/// organisation sees every one, with nothing to read; a tenant its own.
fn may_see_at(gw: &Gateway, subject: &Subject, location: TxLocation) -> Result<bool, ApiError> {
    if subject.sees_every_tx() {
        return Ok(true);
    }
    Ok(gw.store.tx_at(location).map_err(storage)?.is_some_and(|(_, tx)| subject.may_see(&tx)))
}

/// A transaction's status
///
/// Pending or committed (with its receipt). A tenant sees only its own
/// transactions; consortium organisations see every one. Another tenant's
/// transaction is answered as not found.
#[utoipa::path(
    get,
    path = "/v1/transactions/{tx_id}",
    tag = "transactions",
    params(("tx_id" = TxId, Path, description = "The transaction's id.")),
    responses(
        (status = 200, description = "The transaction's status: JSON, or the view's canonical bytes (without \
            `decoded_events`) under `Accept: application/octet-stream`.", body = TxView, links(
            ("GetTransactionProof" = (
                operation_id = "transaction_proof",
                parameters(("tx_id" = "$response.body#/tx_id"))
            )),
        )),
        (status = 400, description = "Not a valid transaction id (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 404, description = "No such transaction of the signer's is recorded or pending here.",
            body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn get_transaction(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(tx_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    subject.require()?;
    let tx_id = parse_tx_id(tx_id)?;
    let not_found =
        || ApiError::not_found(format!("no transaction {tx_id} of yours is recorded or pending on this node"));
    let binary = wants_binary(&headers);
    // One index lookup: where it is and its receipt.
    if let Some((location, receipt)) = gw.store.tx_receipt(&tx_id).map_err(storage)? {
        if !may_see_at(&gw, &subject, location)? {
            return Err(not_found());
        }
        let view = outcome_view(&gw, tx_id, TxOutcome::Committed { location, receipt }, !binary)?;
        return Ok(view_answer(StatusCode::OK, view, binary));
    }
    if let Some(hash) = gw.chain.pending_hash(&tx_id) {
        return Ok(view_answer(StatusCode::OK, pending_view(tx_id, hash), binary));
    }
    Err(not_found())
}

/// The proof that the transaction at `location` and its receipt are in a committed block.
pub(super) fn tx_proof(gw: &Gateway, location: TxLocation) -> Result<TxProof, ApiError> {
    let store = &gw.store;
    let missing = || ApiError::not_found(format!("no block at height {}", location.height));
    let stored = store.stored_block(location.height).map_err(storage)?.ok_or_else(missing)?;
    let index = location.index as usize;
    let tx = stored.block.txs.get(index).cloned().ok_or_else(missing)?;
    let receipt = stored.receipts.get(index).cloned().ok_or_else(missing)?;
    let tx_hashes = stored.block.tx_hashes();
    let receipt_hashes: Vec<Hash32> = stored.receipts.iter().map(|r| r.hash()).collect();
    let tx_path = MerkleProof::build(&tx_hashes, index).ok_or_else(missing)?;
    let receipt_path = MerkleProof::build(&receipt_hashes, index).ok_or_else(missing)?;
    Ok(TxProof {
        attestations: attestations(gw, location.height)?,
        header: stored.block.header,
        tx,
        tx_path,
        receipt,
        receipt_path,
        voter_changes: Vec::new(),
    })
}

/// The proofs of every change of voters in a block below `height`, in order:
/// what takes a verifier holding only the genesis document to the voters in
/// force at `height`.
pub(super) fn voter_changes(gw: &Gateway, height: u64) -> Result<Vec<TxProof>, ApiError> {
    let key = state_key(RecordKind::VoterChanges, "history");
    let Some(bytes) = gw.store.state_get(&system_contract(), &key).map_err(storage)? else {
        return Ok(Vec::new());
    };
    let history = VoterChanges::decode(&bytes).map_err(|e| ApiError::internal(format!("voter history: {e}")))?;
    history
        .changes
        .iter()
        .take_while(|c| c.height < height)
        .map(|c| {
            let location = gw.store.tx_location(&c.tx_id).map_err(storage)?.ok_or_else(|| {
                ApiError::internal(format!("the voter history names transaction {}, which is not recorded", c.tx_id))
            })?;
            tx_proof(gw, location)
        })
        .collect()
}

/// The proof that a transaction is recorded
///
/// The block header with the nodes' attestations, the transaction and its
/// receipt with their Merkle paths: checkable offline against the genesis
/// document alone.
#[utoipa::path(
    get,
    path = "/v1/transactions/{tx_id}/proof",
    tag = "transactions",
    params(("tx_id" = TxId, Path, description = "The transaction's id.")),
    responses(
        (status = 200, description = "The transaction's proof.", body = TxProof),
        (status = 400, description = "Not a valid transaction id (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 404, description = "No such transaction of the signer's is recorded here.", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn transaction_proof(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(tx_id): Path<String>,
) -> Result<Json<TxProof>, ApiError> {
    subject.require()?;
    let tx_id = parse_tx_id(tx_id)?;
    let location = visible_tx(&gw, &subject, &tx_id)?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {tx_id} of yours is recorded on this node")))?;
    let mut proof = tx_proof(&gw, location)?;
    proof.voter_changes = voter_changes(&gw, location.height)?;
    Ok(Json(proof))
}

pub(super) fn attestations(gw: &Gateway, height: u64) -> Result<Vec<Attestation>, ApiError> {
    Ok(gw
        .store
        .attestations(height)
        .map_err(storage)?
        .into_iter()
        .filter_map(|(_, bytes)| Attestation::decode(&bytes).ok())
        .collect())
}
