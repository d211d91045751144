//! Routes and handlers, one module per resource: submitting transactions
//! (`submit`), reading them and their proofs (`transactions`), blocks
//! (`blocks`), the audit log (`audit`), contracts and their queries
//! (`contracts`), evidence with its proofs (`evidence`), the genesis document
//! (`genesis`), and the node itself (`health`). This module keeps the router
//! and what the handlers share.
//!
//! Public (anonymous) routes serve what anyone may read: health, the network,
//! the genesis document, block headers with what each transaction calls,
//! contracts, evidence with its proof, metrics and the OpenAPI document.
//! Everything else needs a signed request, and shows a tenant only its own
//! transactions.

pub(crate) mod audit;
pub(crate) mod blocks;
pub(crate) mod contracts;
pub(crate) mod evidence;
pub(crate) mod genesis;
pub(crate) mod health;
pub(crate) mod inbox;
pub(crate) mod sessions;
pub(crate) mod submit;
pub(crate) mod transactions;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use billflow_types::{ContractName, TxId};
use serde::Deserialize;

use crate::Gateway;
use crate::error::ApiError;

type Gw = State<Arc<Gateway>>;

/// The gateway's routes, without layers.
pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/transactions", post(submit::submit))
        .route("/v1/transactions/batch", post(submit::submit_batch))
        .route("/v1/transactions/{tx_id}", get(transactions::get_transaction))
        .route("/v1/transactions/{tx_id}/proof", get(transactions::transaction_proof))
        .route("/v1/audit", get(audit::audit_log))
        .route("/v1/supervision/stream", get(crate::supervision::stream))
        .route("/v1/supervision/events", get(crate::supervision::events))
        .route("/v1/events", get(crate::supervision::party_events))
        .route("/v1/inbox", get(inbox::inbox))
        .route("/v1/sessions", post(sessions::open_session).delete(sessions::close_session))
        .route("/v1/events/stream", get(crate::supervision::party_stream))
        .route("/v1/blocks", get(blocks::list_blocks))
        .route("/v1/blocks/{height}", get(blocks::get_block))
        .route("/v1/blocks/hash/{hash}", get(blocks::get_block_by_hash))
        .route("/v1/contracts", get(contracts::list_contracts))
        .route("/v1/contracts/{name}", get(contracts::get_contract))
        .route("/v1/contracts/{name}/query/{method}", post(contracts::query_contract))
        .route("/v1/contracts/{name}/interface", get(contracts::contract_interface))
        .route("/v1/contracts/{name}/encode/{method}", post(contracts::encode_args))
        .route("/v1/evidence/{hash}", get(evidence::evidence))
        .route("/v1/explorer/stats", get(crate::explorer::stats))
        .route("/v1/explorer/recent-txs", get(crate::explorer::recent_txs))
        .route("/v1/explorer/txs/{tx_id}", get(crate::explorer::transaction))
        .route("/v1/explorer/bills/{number}", get(crate::explorer::bill))
        .route("/v1/explorer/search", get(crate::explorer::search))
        .route("/v1/network", get(health::network_view))
        .route("/v1/genesis", get(genesis::genesis))
        .route("/v1/health", get(health::health))
        .route("/v1/ready", get(health::ready))
        .route("/v1/openapi.json", get(crate::openapi::document))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { ApiError::not_found("no such route") })
}

/// A storage failure: the node's fault, told to the log and not to the client.
pub(crate) fn storage(e: billflow_storage::StorageError) -> ApiError {
    ApiError::internal(e)
}

/// A query string, or `E_BAD_QUERY` saying what is wrong with it.
pub(crate) fn parse_query<T: for<'de> Deserialize<'de>>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::bad_request("E_BAD_QUERY", e.body_text()))
}

/// Whether the body is canonical bytes.
fn is_binary(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"))
}

/// Whether the client asks for the answer in canonical bytes (`Accept:
/// application/octet-stream`): a program's reads skip the JSON and hex of
/// the answer, on the node and on its own side.
fn wants_binary(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"))
}

/// Whether the body is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// The answer to a body that is neither.
fn unsupported_media() -> ApiError {
    ApiError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "E_UNSUPPORTED_MEDIA_TYPE".into(),
        message: "send application/json or application/octet-stream (canonical bytes)".into(),
    }
}

/// A transaction id from a path, or `E_INVALID_FIELD`.
pub(crate) fn parse_tx_id(tx_id: String) -> Result<TxId, ApiError> {
    TxId::new(tx_id).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))
}

/// A contract name from a path, or `E_INVALID_FIELD`.
pub(crate) fn contract_name(name: String) -> Result<ContractName, ApiError> {
    ContractName::new(name).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))
}

#[cfg(test)]
mod input_tests;
#[cfg(test)]
pub(crate) mod tests;
