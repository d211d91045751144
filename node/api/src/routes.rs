//! Routes and handlers.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use billflow_chain::{Chain, Submitted, TxOutcome};
use billflow_types::contract::ContractRecord;
use billflow_types::view::{BlockView, Health, NetworkView, TxInBlock, TxState, TxView};
use billflow_types::{Attestation, Block, Canonical, ContractName, Hash32, MethodName, Rejection, SignedTx, TxId};
use serde::Deserialize;

use std::sync::Arc;

use crate::error::ApiError;
use crate::{ApiState, NetworkInfo};

/// The longest a client may ask to wait for a commit (custody rules allow 30 s a transaction).
const MAX_WAIT: Duration = Duration::from_secs(30);
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The gateway's routes.
pub fn router(state: ApiState) -> Router {
    let network = state.network.clone();
    Router::new()
        .route("/v1/transactions", post(submit))
        .route("/v1/transactions/{tx_id}", get(get_transaction))
        .route("/v1/blocks/{height}", get(get_block))
        .route("/v1/health", get(health))
        .route("/v1/contracts", get(list_contracts))
        .route("/v1/contracts/{name}", get(get_contract))
        .route("/v1/contracts/{name}/query/{method}", post(query_contract))
        .with_state(state.chain.clone())
        .route("/v1/network", get(move || network_view(network.clone(), state.chain.clone())))
        .fallback(|| async { ApiError::not_found("no such route") })
}

async fn network_view(network: Option<Arc<dyn NetworkInfo>>, chain: Chain) -> Json<NetworkView> {
    match network {
        Some(n) => Json(n.view().await),
        None => {
            Json(NetworkView { node_id: chain.node_id().to_string(), peer_id: None, leader: None, peers: Vec::new() })
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitQuery {
    #[serde(default)]
    wait: bool,
    timeout_ms: Option<u64>,
}

fn pending_view(tx_id: TxId, tx_hash: Hash32) -> TxView {
    TxView { tx_id, tx_hash, status: TxState::Pending, height: None, index: None, receipt: None }
}

fn outcome_view(tx_id: TxId, outcome: TxOutcome) -> Result<TxView, ApiError> {
    match outcome {
        TxOutcome::Committed { location, receipt } => Ok(TxView {
            tx_id,
            tx_hash: receipt.tx_hash,
            status: TxState::Committed,
            height: Some(location.height),
            index: Some(location.index),
            receipt: Some(receipt),
        }),
        TxOutcome::Rejected(r) => Err(r.into()),
    }
}

fn parse_query<T: for<'de> Deserialize<'de>>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::bad_request("E_BAD_QUERY", e.body_text()))
}

async fn submit(
    State(chain): State<Chain>,
    query: Result<Query<SubmitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    let params = chain.executor().params();
    let binary =
        headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    // JSON carries the arguments as hex, so it may be about twice the binary size.
    let limit = params.max_envelope_bytes() * if binary { 1 } else { 2 } + 4096;
    let bytes = to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::from(Rejection::TooLarge { size: limit + 1, max: params.max_envelope_bytes() }))?;
    let tx = if binary {
        SignedTx::decode_limited(&bytes, params)?
    } else {
        serde_json::from_slice::<SignedTx>(&bytes)
            .map_err(|e| ApiError::bad_request("E_MALFORMED", format!("not a signed transaction: {e}")))?
    };
    let tx_id = tx.tx.tx_id.clone();
    let tx_hash = tx.hash();
    let submitted = chain.submit(tx)??;
    let outcome = match submitted {
        Submitted::AlreadyCommitted(outcome) => Some(outcome),
        Submitted::Accepted | Submitted::AlreadyPending if query.wait => {
            let timeout = query.timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT);
            chain.wait(&tx_id, timeout).await?
        }
        Submitted::Accepted | Submitted::AlreadyPending => None,
    };
    Ok(match outcome {
        Some(o) => (StatusCode::OK, Json(outcome_view(tx_id, o)?)).into_response(),
        None => (StatusCode::ACCEPTED, Json(pending_view(tx_id, tx_hash))).into_response(),
    })
}

async fn get_transaction(State(chain): State<Chain>, Path(tx_id): Path<String>) -> Result<Json<TxView>, ApiError> {
    let tx_id = TxId::new(tx_id).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))?;
    if let Some(outcome) = chain.committed(&tx_id)? {
        return Ok(Json(outcome_view(tx_id, outcome)?));
    }
    if let Some(hash) = chain.pending_hash(&tx_id) {
        return Ok(Json(pending_view(tx_id, hash)));
    }
    Err(ApiError::not_found(format!("no transaction {tx_id} is recorded or pending on this node")))
}

fn block_view(b: Block, attestations: Vec<Attestation>) -> BlockView {
    BlockView {
        hash: b.header.hash(),
        header: b.header,
        txs: b.txs.into_iter().map(|tx| TxInBlock { tx_hash: tx.hash(), tx }).collect(),
        attestations,
    }
}

async fn get_block(State(chain): State<Chain>, Path(height): Path<String>) -> Result<Json<BlockView>, ApiError> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request("E_INVALID_FIELD", format!("block height must be a whole number, got {height:?}"))
    })?;
    let store = chain.store();
    let block = store.block(height).map_err(billflow_chain::ChainError::from)?;
    let block = block.ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    let attestations = store
        .attestations(height)
        .map_err(billflow_chain::ChainError::from)?
        .into_iter()
        .filter_map(|(_, bytes)| Attestation::decode(&bytes).ok())
        .collect();
    Ok(Json(block_view(block, attestations)))
}

fn contract_name(name: String) -> Result<ContractName, ApiError> {
    ContractName::new(name).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))
}

async fn list_contracts(State(chain): State<Chain>) -> Result<Json<Vec<ContractRecord>>, ApiError> {
    Ok(Json(chain.contracts()?))
}

async fn get_contract(State(chain): State<Chain>, Path(name): Path<String>) -> Result<Json<ContractRecord>, ApiError> {
    let name = contract_name(name)?;
    let record = chain.contracts()?.into_iter().find(|c| c.name == name);
    record.map(Json).ok_or_else(|| ApiError::not_found(format!("no contract named {name} is deployed")))
}

/// A query's arguments in JSON: the contract's argument bytes in hex.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryBody {
    #[serde(with = "billflow_types::tx::hex_bytes")]
    args: Vec<u8>,
}

/// A query's answer: the contract's output bytes in hex.
#[derive(Debug, serde::Serialize)]
struct QueryAnswer {
    #[serde(with = "billflow_types::tx::hex_bytes")]
    output: Vec<u8>,
}

async fn query_contract(
    State(chain): State<Chain>,
    Path((name, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<QueryAnswer>, ApiError> {
    let name = contract_name(name)?;
    let method = MethodName::new(method).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))?;
    let limit = chain.executor().params().max_args_bytes as usize;
    let bytes = to_bytes(body, 2 * limit + 64)
        .await
        .map_err(|_| ApiError::from(Rejection::TooLarge { size: 2 * limit + 65, max: limit }))?;
    let binary =
        headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    let args = if binary {
        bytes.to_vec()
    } else {
        serde_json::from_slice::<QueryBody>(&bytes)
            .map_err(|e| ApiError::bad_request("E_MALFORMED", format!("expected {{\"args\": hex}}: {e}")))?
            .args
    };
    let answer = tokio::task::spawn_blocking(move || chain.query(&name, method.as_str(), &args))
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))??;
    match answer {
        Ok(output) => Ok(Json(QueryAnswer { output })),
        Err(f) => Err(ApiError::contract(f)),
    }
}

async fn health(State(chain): State<Chain>) -> Json<Health> {
    let tip = chain.tip();
    Json(Health {
        status: "ok".into(),
        chain_id: chain.executor().chain_id().clone(),
        node_id: chain.node_id().to_string(),
        height: tip.height,
        tip_hash: tip.hash,
        pending: chain.pending(),
    })
}

#[cfg(test)]
mod tests;
