//! Routes and handlers.
//!
//! Public (anonymous) routes serve what anyone may read: health, the network,
//! block headers with what each transaction calls, contracts, evidence with
//! its proof, metrics and the OpenAPI document. Everything else needs a signed
//! request, and shows a tenant only its own transactions.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use billflow_chain::{Chain, Submitted, TxOutcome};
use billflow_contract_evidence::{CosignEvidence, EvidenceRecord, GetEvidence, SubmitEvidence};
use billflow_types::contract::ContractRecord;
use billflow_types::proof::{EvidenceProof, EvidenceSummary, TxProof};
use billflow_types::view::{
    AuditPage, BatchItem, BatchView, BlockPage, BlockSummary, BlockView, ErrorBody, Health, NetworkView, Readiness,
    TxInBlock, TxState, TxView,
};
use billflow_types::{
    Attestation, Block, Canonical, ContractName, Hash32, KeyId, MerkleProof, MethodName, Rejection, SignedTx, TxId,
    TxLocation, TxStatus,
};
use serde::Deserialize;

use crate::auth::Subject;
use crate::error::ApiError;
use crate::{Gateway, text};

type Gw = State<Arc<Gateway>>;

/// The longest a client may ask to wait for a commit (custody rules allow 30 s a transaction).
const MAX_WAIT: Duration = Duration::from_secs(30);
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The most transactions in one batch.
pub const MAX_BATCH: usize = 1_000;
/// The most blocks in one page.
const MAX_PAGE: u64 = 100;

/// The gateway's routes, without layers.
pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/transactions", post(submit))
        .route("/v1/transactions/batch", post(submit_batch))
        .route("/v1/transactions/{tx_id}", get(get_transaction))
        .route("/v1/transactions/{tx_id}/proof", get(transaction_proof))
        .route("/v1/audit", get(audit_log))
        .route("/v1/supervision/stream", get(crate::supervision::stream))
        .route("/v1/supervision/events", get(crate::supervision::events))
        .route("/v1/blocks", get(list_blocks))
        .route("/v1/blocks/{height}", get(get_block))
        .route("/v1/blocks/hash/{hash}", get(get_block_by_hash))
        .route("/v1/contracts", get(list_contracts))
        .route("/v1/contracts/{name}", get(get_contract))
        .route("/v1/contracts/{name}/query/{method}", post(query_contract))
        .route("/v1/evidence/{hash}", get(evidence))
        .route("/v1/explorer/stats", get(crate::explorer::stats))
        .route("/v1/explorer/recent-txs", get(crate::explorer::recent_txs))
        .route("/v1/explorer/txs/{tx_id}", get(crate::explorer::transaction))
        .route("/v1/explorer/bills/{number}", get(crate::explorer::bill))
        .route("/v1/explorer/search", get(crate::explorer::search))
        .route("/v1/network", get(network_view))
        .route("/v1/health", get(health))
        .route("/v1/ready", get(ready))
        .route("/v1/openapi.json", get(crate::openapi::document))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found("no such route") })
}

/// A storage failure: the node's fault, told to the log and not to the client.
pub(crate) fn storage(e: billflow_storage::StorageError) -> ApiError {
    ApiError::internal(e)
}

/// The network as this node sees it
///
/// This node, its libp2p peer id and the consensus leader it knows of (both
/// absent on a standalone node), and every other member with its role and
/// whether it is connected.
#[utoipa::path(
    get,
    path = "/v1/network",
    tag = "node",
    responses((status = 200, description = "The network as this node sees it.", body = NetworkView)),
)]
async fn network_view(State(gw): Gw) -> Json<NetworkView> {
    match &gw.network {
        Some(n) => Json(n.view().await),
        None => Json(NetworkView {
            node_id: gw.chain.node_id().to_string(),
            peer_id: None,
            org: None,
            role: None,
            leader: None,
            peers: Vec::new(),
        }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitQuery {
    #[serde(default)]
    wait: bool,
    timeout_ms: Option<u64>,
}

impl SubmitQuery {
    fn timeout(&self) -> Duration {
        self.timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT)
    }
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

pub(crate) fn parse_query<T: for<'de> Deserialize<'de>>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::bad_request("E_BAD_QUERY", e.body_text()))
}

fn is_binary(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

fn unsupported_media() -> ApiError {
    ApiError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "E_UNSUPPORTED_MEDIA_TYPE".into(),
        message: "send application/json or application/octet-stream (canonical bytes)".into(),
    }
}

/// Decodes one signed transaction from the body.
fn decode_tx(gw: &Gateway, headers: &HeaderMap, body: &[u8]) -> Result<SignedTx, ApiError> {
    let params = gw.chain.executor().params();
    if is_binary(headers) {
        Ok(SignedTx::decode_limited(body, params)?)
    } else if is_json(headers) {
        // JSON carries the arguments as hex, so it may be about twice the binary size.
        let limit = 2 * params.max_envelope_bytes() + 4096;
        if body.len() > limit {
            return Err(Rejection::TooLarge { size: body.len(), max: params.max_envelope_bytes() }.into());
        }
        serde_json::from_slice::<SignedTx>(body)
            .map_err(|e| ApiError::bad_request("E_MALFORMED", format!("not a signed transaction: {e}")))
    } else {
        Err(unsupported_media())
    }
}

/// Submits one transaction; `Ok(None)` while it is pending.
async fn submit_one(chain: &Chain, tx: SignedTx, wait: Option<Duration>) -> Result<TxView, ApiError> {
    let tx_id = tx.tx.tx_id.clone();
    let tx_hash = tx.hash();
    let outcome = match chain.submit(tx)?? {
        Submitted::AlreadyCommitted(outcome) => Some(outcome),
        Submitted::Accepted | Submitted::AlreadyPending => match wait {
            Some(timeout) => chain.wait(&tx_id, timeout).await?,
            None => None,
        },
    };
    match outcome {
        Some(o) => outcome_view(tx_id, o),
        None => Ok(pending_view(tx_id, tx_hash)),
    }
}

/// Submit one signed transaction
///
/// The body is the signed transaction in JSON, or its canonical (Borsh)
/// encoding as `application/octet-stream`. A tenant may submit only
/// transactions under its own tenant. Resubmitting the same transaction is
/// safe: it is never executed twice. Without `wait` the answer is 202 with the
/// pending status; with `wait=true` the gateway waits up to `timeout_ms` for the
/// commit and answers 200 with the receipt (a failed receipt is still 200: see
/// `receipt.status`), or 202 if the wait ran out.
#[utoipa::path(
    post,
    path = "/v1/transactions",
    tag = "transactions",
    params(
        ("wait" = Option<bool>, Query, description = "Wait for the transaction to commit (default false)."),
        (
            "timeout_ms" = Option<u64>,
            Query,
            description = "How long to wait for the commit, in ms (default 10000; at most 30000 is waited)."
        ),
    ),
    request_body(
        description = "One signed transaction: JSON, or its canonical encoding.",
        content(
            (SignedTx = "application/json"),
            (inline(crate::openapi::Binary) = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "Committed (with `wait`, or recorded before): the receipt.", body = TxView,
            links(
            ("GetTransaction" = (operation_id = "get_transaction", parameters(("tx_id" = "$response.body#/tx_id")))),
            ("GetTransactionProof" = (
                operation_id = "transaction_proof",
                parameters(("tx_id" = "$response.body#/tx_id"))
            )),
        )),
        (status = 202, description = "Accepted and pending.", body = TxView,
            links(
            ("GetTransaction" = (operation_id = "get_transaction", parameters(("tx_id" = "$response.body#/tx_id")))),
            ("GetTransactionProof" = (
                operation_id = "transaction_proof",
                parameters(("tx_id" = "$response.body#/tx_id"))
            )),
        )),
        (status = 400, description = "Malformed, an invalid field, another chain, a stale timestamp, or a bad query \
            (`E_MALFORMED`, `E_INVALID_FIELD`, `E_WRONG_CHAIN`, `E_TX_STALE`, `E_BAD_QUERY`).", body = ErrorBody),
        (status = 401, description = "The request is not signed, or the transaction's key is unknown, revoked or its \
            signature does not verify.", body = ErrorBody),
        (status = 403, description = "The transaction acts under another tenant than the request's signer \
            (`E_FOREIGN_PARTICIPANT`, `E_TENANT_MISMATCH`).", body = ErrorBody),
        (status = 409, description = "Another transaction with this id is recorded or pending (`E_DUPLICATE_TX`).",
            body = ErrorBody),
        (status = 413, description = "The transaction is over the size limit (`E_TX_TOO_LARGE`).", body = ErrorBody),
        (status = 415, description = "Neither `application/json` nor `application/octet-stream`.", body = ErrorBody),
        (status = 503, description = "The node is busy or shutting down (`E_BUSY`, `E_SHUTTING_DOWN`); retry.",
            body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
async fn submit(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    query: Result<Query<SubmitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    subject.require()?;
    let query = parse_query(query)?;
    let tx = decode_tx(&gw, &headers, &body)?;
    subject.may_submit(&tx)?;
    let view = submit_one(&gw.chain, tx, query.wait.then(|| query.timeout())).await?;
    let status = if view.status == TxState::Committed { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(view)).into_response())
}

/// Submit a batch of signed transactions
///
/// The body is `{"txs": [signed transactions]}` in JSON, or the canonical
/// (Borsh) encoding of the list as `application/octet-stream`; 1 to 1000
/// transactions. Each is checked and submitted on its own: the answer holds one
/// item per transaction, in the order sent, with its status or why it was
/// refused. `wait` and `timeout_ms` apply to each transaction as in a single
/// submission.
#[utoipa::path(
    post,
    path = "/v1/transactions/batch",
    tag = "transactions",
    params(
        ("wait" = Option<bool>, Query, description = "Wait for each transaction to commit (default false)."),
        (
            "timeout_ms" = Option<u64>,
            Query,
            description = "How long to wait for each commit, in ms (default 10000; at most 30000 is waited)."
        ),
    ),
    request_body(
        description = "1 to 1000 signed transactions: JSON, or the canonical encoding of the list.",
        content(
            (crate::openapi::BatchBody = "application/json"),
            (inline(crate::openapi::Binary) = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "One item per transaction, in the order sent.", body = BatchView, links(
            ("GetFirstTransaction" = (
                operation_id = "get_transaction",
                parameters(("tx_id" = "$response.body#/results/0/tx_id"))
            )),
        )),
        (status = 400, description = "Not a batch, or not 1 to 1000 transactions, or a bad query \
            (`E_MALFORMED`, `E_BAD_BATCH`, `E_BAD_QUERY`).", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 415, description = "Neither `application/json` nor `application/octet-stream`.", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
async fn submit_batch(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    query: Result<Query<SubmitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchView>, ApiError> {
    subject.require()?;
    let query = parse_query(query)?;
    let txs: Vec<SignedTx> = if is_binary(&headers) {
        Vec::<SignedTx>::decode(&body).map_err(|e| ApiError::bad_request("E_MALFORMED", e.to_string()))?
    } else if is_json(&headers) {
        serde_json::from_slice::<crate::openapi::BatchBody>(&body)
            .map_err(|e| {
                ApiError::bad_request("E_MALFORMED", format!("expected {{\"txs\": [signed transactions]}}: {e}"))
            })?
            .txs
    } else {
        return Err(unsupported_media());
    };
    if txs.is_empty() || txs.len() > MAX_BATCH {
        return Err(ApiError::bad_request("E_BAD_BATCH", format!("a batch holds 1 to {MAX_BATCH} transactions")));
    }
    let params = gw.chain.executor().params();
    let wait = query.wait.then(|| query.timeout());
    let submissions = txs.into_iter().map(|tx| {
        let gw = gw.clone();
        let subject = subject.clone();
        async move {
            let tx_id = tx.tx.tx_id.to_string();
            let checked = tx
                .check_stateless(gw.chain.executor().chain_id(), params, billflow_chain::now_ms())
                .map_err(ApiError::from)
                .and_then(|()| subject.may_submit(&tx));
            let result = match checked {
                Ok(()) => submit_one(&gw.chain, tx, wait).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(view) => BatchItem { tx_id, view: Some(view), error: None },
                Err(e) => BatchItem {
                    tx_id,
                    view: None,
                    error: Some(ErrorBody { code: e.code.into_owned(), message: e.message, request_id: None }),
                },
            }
        }
    });
    Ok(Json(BatchView { results: futures_util::future::join_all(submissions).await }))
}

pub(crate) fn parse_tx_id(tx_id: String) -> Result<TxId, ApiError> {
    TxId::new(tx_id).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))
}

/// The committed transaction `tx_id` if the subject may see it.
fn visible_tx(gw: &Gateway, subject: &Subject, tx_id: &TxId) -> Result<Option<(TxLocation, SignedTx)>, ApiError> {
    let store = gw.chain.store();
    let Some(location) = store.tx_location(tx_id).map_err(storage)? else { return Ok(None) };
    let block = store.block(location.height).map_err(storage)?;
    let tx = block.and_then(|b| b.txs.into_iter().nth(location.index as usize));
    Ok(tx.filter(|tx| subject.may_see(tx)).map(|tx| (location, tx)))
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
        (status = 200, description = "The transaction's status.", body = TxView, links(
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
async fn get_transaction(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(tx_id): Path<String>,
) -> Result<Json<TxView>, ApiError> {
    subject.require()?;
    let tx_id = parse_tx_id(tx_id)?;
    let not_found =
        || ApiError::not_found(format!("no transaction {tx_id} of yours is recorded or pending on this node"));
    if visible_tx(&gw, &subject, &tx_id)?.is_some() {
        let outcome = gw.chain.committed(&tx_id)?.ok_or_else(not_found)?;
        return Ok(Json(outcome_view(tx_id, outcome)?));
    }
    if gw.chain.store().tx_location(&tx_id).map_err(storage)?.is_some() {
        return Err(not_found());
    }
    if let Some(hash) = gw.chain.pending_hash(&tx_id) {
        return Ok(Json(pending_view(tx_id, hash)));
    }
    Err(not_found())
}

/// The proof that the transaction at `location` and its receipt are in a committed block.
fn tx_proof(gw: &Gateway, location: TxLocation) -> Result<TxProof, ApiError> {
    let store = gw.chain.store();
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
    })
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
async fn transaction_proof(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(tx_id): Path<String>,
) -> Result<Json<TxProof>, ApiError> {
    subject.require()?;
    let tx_id = parse_tx_id(tx_id)?;
    let (location, _) = visible_tx(&gw, &subject, &tx_id)?
        .ok_or_else(|| ApiError::not_found(format!("no transaction {tx_id} of yours is recorded on this node")))?;
    Ok(Json(tx_proof(&gw, location)?))
}

fn attestations(gw: &Gateway, height: u64) -> Result<Vec<Attestation>, ApiError> {
    Ok(gw
        .chain
        .store()
        .attestations(height)
        .map_err(storage)?
        .into_iter()
        .filter_map(|(_, bytes)| Attestation::decode(&bytes).ok())
        .collect())
}

fn block_view(gw: &Gateway, subject: &Subject, b: Block) -> Result<BlockView, ApiError> {
    let attestations = attestations(gw, b.header.height)?;
    Ok(BlockView {
        hash: b.header.hash(),
        header: b.header,
        txs: b
            .txs
            .into_iter()
            .map(|tx| {
                let visible = subject.may_see(&tx);
                TxInBlock::new(tx, visible)
            })
            .collect(),
        attestations,
    })
}

fn parse_height(height: &str) -> Result<u64, ApiError> {
    height.parse().map_err(|_| {
        ApiError::bad_request("E_INVALID_FIELD", format!("block height must be a whole number, got {height:?}"))
    })
}

/// A block by height
///
/// Its header, what each transaction calls and the attestations this node
/// holds. A transaction itself (signer, tenant, arguments) is shown only to a
/// signed request that may see it: its tenant, or a consortium organisation.
#[utoipa::path(
    get,
    path = "/v1/blocks/{height}",
    tag = "blocks",
    params(("height" = u64, Path, description = "The block's height (0 is genesis).")),
    responses(
        (status = 200, description = "The block.", body = BlockView, links(
            ("GetBlockByHash" = (operation_id = "get_block_by_hash", parameters(("hash" = "$response.body#/hash")))),
        )),
        (status = 400, description = "Not a whole number (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No block at this height yet.", body = ErrorBody),
    ),
)]
async fn get_block(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(height): Path<String>,
) -> Result<Json<BlockView>, ApiError> {
    let height = parse_height(&height)?;
    let block = gw.chain.store().block(height).map_err(storage)?;
    let block = block.ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    Ok(Json(block_view(&gw, &subject, block)?))
}

/// A block by hash
///
/// As a block by height.
#[utoipa::path(
    get,
    path = "/v1/blocks/hash/{hash}",
    tag = "blocks",
    params(("hash" = Hash32, Path, description = "The block's hash, 64 hex digits.")),
    responses(
        (status = 200, description = "The block.", body = BlockView),
        (status = 400, description = "Not 64 hex digits (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No block with this hash.", body = ErrorBody),
    ),
)]
async fn get_block_by_hash(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(hash): Path<String>,
) -> Result<Json<BlockView>, ApiError> {
    let hash = Hash32::from_hex(&hash)
        .map_err(|_| ApiError::bad_request("E_INVALID_FIELD", "a block hash is 64 hex digits"))?;
    let store = gw.chain.store();
    let height = store.height_of(&hash).map_err(storage)?;
    let block = height.map(|h| store.block(h)).transpose().map_err(storage)?.flatten();
    let block = block.ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?;
    Ok(Json(block_view(&gw, &subject, block)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// Blocks below this height (default: from the tip).
    before: Option<u64>,
    /// How many (default 20, at most 100).
    limit: Option<u64>,
}

/// Blocks, newest first
///
/// A page of block summaries below `before` (from the tip by default); the
/// answer's `next_before` asks for the next older page.
#[utoipa::path(
    get,
    path = "/v1/blocks",
    tag = "blocks",
    params(
        ("before" = Option<u64>, Query, description = "Only blocks below this height (default: from the tip)."),
        (
            "limit" = Option<u64>,
            Query,
            minimum = 1,
            maximum = 100,
            description = "How many blocks (default 20, 1 to 100)."
        ),
    ),
    responses(
        (status = 200, description = "A page of blocks.", body = BlockPage, links(
            ("GetNewestBlock" = (operation_id = "get_block", parameters(("height" = "$response.body#/blocks/0/height")))),
            ("GetNewestBlockByHash" = (
                operation_id = "get_block_by_hash",
                parameters(("hash" = "$response.body#/blocks/0/hash"))
            )),
        )),
        (status = 400, description = "A bad query (`E_BAD_QUERY`).", body = ErrorBody),
    ),
)]
async fn list_blocks(
    State(gw): Gw,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BlockPage>, ApiError> {
    let q = parse_query(query)?;
    let limit = q.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request("E_BAD_QUERY", format!("limit must be 1 to {MAX_PAGE}")));
    }
    let tip = gw.chain.tip().height;
    let top = q.before.map_or(tip, |b| b.saturating_sub(1).min(tip));
    let mut blocks = Vec::new();
    if q.before != Some(0) {
        let bottom = top.saturating_sub(limit - 1);
        for height in (bottom..=top).rev() {
            if let Some(b) = gw.chain.store().block(height).map_err(storage)? {
                blocks.push(BlockSummary {
                    height,
                    hash: b.header.hash(),
                    tx_count: b.header.tx_count,
                    time_ms: b.header.proposed_at_ms,
                    proposer: b.header.proposer.to_string(),
                });
            }
        }
    }
    let next_before = blocks.last().map(|b| b.height).filter(|h| *h > 0);
    Ok(Json(BlockPage { blocks, next_before }))
}

/// What `GET /v1/audit` asks.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    from: Option<String>,
    to: Option<String>,
    subject: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
}

/// The most audit entries one page holds.
const MAX_AUDIT_PAGE: usize = 1_000;

/// `YYYY-MM-DD` or an RFC 3339 UTC time as the log writes it (`…Z`).
/// Checks ASCII before it cuts the text: a cut inside a multi-byte character
/// would panic.
fn audit_time(what: &str, text: &str) -> Result<(), ApiError> {
    let date_ok = text.is_ascii() && text.get(..10).is_some_and(audit_date_ok);
    let rest_ok =
        text.len() == 10 || (text.as_bytes().get(10) == Some(&b'T') && text.ends_with('Z') && text.len() <= 30);
    if date_ok && rest_ok {
        Ok(())
    } else {
        let shown: String = text.chars().take(40).collect();
        Err(ApiError::bad_request(
            "E_BAD_QUERY",
            format!("{what} must be YYYY-MM-DD or an RFC 3339 UTC time, got {shown:?}"),
        ))
    }
}

fn audit_date_ok(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !b.iter().all(|c| c.is_ascii_digit() || *c == b'-') {
        return false;
    }
    let part = |range: std::ops::Range<usize>| date.get(range).and_then(|p| p.parse::<u16>().ok());
    let (Some(y), Some(m), Some(d)) = (part(0..4), part(5..7), part(8..10)) else {
        return false;
    };
    let (Ok(m), Ok(d)) = (u8::try_from(m), u8::try_from(d)) else { return false };
    time::Month::try_from(m).is_ok_and(|m| time::Date::from_calendar_date(i32::from(y), m, d).is_ok())
}

/// The audit log
///
/// Regulators read the gateway's hash-chained audit log: every call with its
/// time, subject, object, action, result and request id, oldest first,
/// filtered by time (`from` inclusive, `to` inclusive; dates or RFC 3339 UTC
/// times) and by subject (entries whose subject contains the text). The
/// whole log is checked against its hash chain on every read; a broken chain
/// is a 500 naming the entry.
#[utoipa::path(
    get,
    path = "/v1/audit",
    tag = "audit",
    params(
        ("from" = Option<String>, Query, description = "From this date or time (inclusive)."),
        ("to" = Option<String>, Query, description = "To this date or time (inclusive)."),
        ("subject" = Option<String>, Query, description = "Only entries whose subject contains this text."),
        ("after" = Option<u64>, Query, description = "Only entries after this position (paging)."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "How many (default 100)."),
    ),
    responses(
        (status = 200, description = "A page of the audit log.", body = AuditPage),
        (status = 400, description = "A bad query (`E_BAD_QUERY`).", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 403, description = "The signer is not a regulator (`E_NOT_REGULATOR`).", body = ErrorBody),
        (status = 404, description = "This gateway keeps no audit log.", body = ErrorBody),
        (status = 500, description = "The log's hash chain is broken (`E_AUDIT_BROKEN`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
async fn audit_log(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    crate::supervision::require_regulator(&gw, &subject)?;
    let q = parse_query(query)?;
    for (what, t) in [("from", &q.from), ("to", &q.to)] {
        if let Some(t) = t {
            audit_time(what, t)?;
        }
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_PAGE {
        return Err(ApiError::bad_request("E_BAD_QUERY", format!("limit must be 1 to {MAX_AUDIT_PAGE}")));
    }
    let dir = gw.config.audit_dir.clone().ok_or_else(|| ApiError::not_found("this gateway keeps no audit log"))?;
    let path = dir.join(crate::audit::AUDIT_FILE);
    let entries = tokio::task::spawn_blocking(move || crate::audit::read_complete_entries(&path))
        .await
        .map_err(|e| ApiError::internal(format!("audit read task failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("cannot read the audit log: {e}")))?
        .map_err(|broken| {
            // Regulators are told which entry; how it fails to verify stays in the node's log.
            tracing::error!(seq = broken.seq, reason = %broken.reason, "the audit log's hash chain is broken");
            ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "E_AUDIT_BROKEN".into(),
                message: format!(
                    "the audit log's hash chain is broken at entry {}; see the node's log with this request id",
                    broken.seq
                ),
            }
        })?;
    let in_window = |time: &str| {
        q.from.as_deref().is_none_or(|f| time >= f)
            // Compared as bytes: a `to` date covers every time of its day, and no cut can fall inside a character.
            && q.to.as_deref().is_none_or(|t| time.as_bytes().get(..t.len()).unwrap_or(time.as_bytes()) <= t.as_bytes())
    };
    let mut page: Vec<_> = entries
        .into_iter()
        .filter(|e| q.after.is_none_or(|a| e.seq > a))
        .filter(|e| in_window(&e.time))
        .filter(|e| q.subject.as_deref().is_none_or(|s| e.subject.contains(s)))
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let next_after = if more { page.last().map(|e| e.seq) } else { None };
    Ok(Json(AuditPage { entries: page, next_after }))
}

pub(crate) fn contract_name(name: String) -> Result<ContractName, ApiError> {
    ContractName::new(name).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))
}

/// Every deployed contract
#[utoipa::path(
    get,
    path = "/v1/contracts",
    tag = "contracts",
    responses((status = 200, description = "The deployed contracts, by name.", body = Vec<ContractRecord>, links(
        ("GetFirstContract" = (operation_id = "get_contract", parameters(("name" = "$response.body#/0/name")))),
    ))),
)]
async fn list_contracts(State(gw): Gw) -> Result<Json<Vec<ContractRecord>>, ApiError> {
    Ok(Json(gw.chain.contracts()?))
}

/// A deployed contract
///
/// Its active version and code hash, whether it is frozen, who may invoke it
/// and every version it has had.
#[utoipa::path(
    get,
    path = "/v1/contracts/{name}",
    tag = "contracts",
    params(("name" = ContractName, Path, description = "The contract's name.")),
    responses(
        (status = 200, description = "The contract.", body = ContractRecord),
        (status = 400, description = "Not a valid contract name (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No contract of this name is deployed.", body = ErrorBody),
    ),
)]
async fn get_contract(State(gw): Gw, Path(name): Path<String>) -> Result<Json<ContractRecord>, ApiError> {
    let name = contract_name(name)?;
    gw.chain
        .contract(&name)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no contract named {name} is deployed")))
}

/// Runs a query as `caller` (`None`: anonymous) off the async runtime.
pub(crate) async fn run_query(
    chain: Chain,
    caller: Option<KeyId>,
    name: ContractName,
    method: String,
    args: Vec<u8>,
) -> Result<Vec<u8>, ApiError> {
    tokio::task::spawn_blocking(move || chain.query(caller.as_ref(), &name, &method, &args))
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))??
        .map_err(ApiError::contract)
}

/// Query a contract
///
/// Runs a read-only method of a contract on the committed state and answers
/// its output. The contract sees the request's key as its caller (with its
/// tenant, participant and organisation), as it sees a transaction's signer.
/// The arguments are `{"args": hex}` in JSON, or the raw argument bytes as
/// `application/octet-stream`, encoded as the contract defines.
#[utoipa::path(
    post,
    path = "/v1/contracts/{name}/query/{method}",
    tag = "contracts",
    params(
        ("name" = ContractName, Path, description = "The contract's name."),
        ("method" = MethodName, Path, description = "The method to run."),
    ),
    request_body(
        description = "The method's arguments: JSON with hex, or the raw bytes.",
        content(
            (crate::openapi::QueryArgs = "application/json"),
            (inline(crate::openapi::Binary) = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "The method's output.", body = crate::openapi::QueryOutput),
        (status = 400, description = "A bad name, method or body (`E_INVALID_FIELD`, `E_MALFORMED`).",
            body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 413, description = "The arguments are over the chain's limit (`E_ARGS_TOO_LARGE`).",
            body = ErrorBody),
        (status = 415, description = "Neither `application/json` nor `application/octet-stream`.", body = ErrorBody),
        (status = 422, description = "The contract refused: no such contract or method, or the method failed \
            (with the contract's own code).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
async fn query_contract(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path((name, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<crate::openapi::QueryOutput>, ApiError> {
    subject.require()?;
    let name = contract_name(name)?;
    let method = MethodName::new(method).map_err(|e| ApiError::bad_request("E_INVALID_FIELD", e.to_string()))?;
    let limit = gw.chain.executor().params().max_args_bytes as usize;
    let args = if is_binary(&headers) {
        body.to_vec()
    } else if is_json(&headers) {
        serde_json::from_slice::<crate::openapi::QueryArgs>(&body)
            .map_err(|e| ApiError::bad_request("E_MALFORMED", format!("expected {{\"args\": hex}}: {e}")))?
            .args
    } else {
        return Err(unsupported_media());
    };
    if args.len() > limit {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "E_ARGS_TOO_LARGE".into(),
            message: format!("query arguments are limited to {limit} bytes"),
        });
    }
    // The contract sees the signer as its caller, as in a transaction.
    let caller = match &subject {
        Subject::Key { key_id, .. } => Some(key_id.clone()),
        Subject::Anonymous { .. } => None,
    };
    let output = run_query(gw.chain.clone(), caller, name, method.to_string(), args).await?;
    Ok(Json(crate::openapi::QueryOutput { output }))
}

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
async fn evidence(State(gw): Gw, Path(hash): Path<String>) -> Result<Json<EvidenceProof>, ApiError> {
    let doc = Hash32::from_hex(&hash)
        .map_err(|_| ApiError::bad_request("E_INVALID_FIELD", "a document hash is 64 hex digits (SHA-256)"))?;
    if gw.chain.contract(&contract_name(EVIDENCE.into())?)?.is_none() {
        return Err(ApiError::not_found("no evidence contract is deployed"));
    }
    let record = evidence_record(&gw, doc)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no evidence {doc} is on the ledger")))?;
    let store = gw.chain.store();
    let submit_id = parse_tx_id(record.tx_id.clone())?;
    let location = store.tx_location(&submit_id).map_err(storage)?.ok_or_else(|| {
        ApiError::internal(format!("evidence {doc} names transaction {submit_id}, which is not recorded"))
    })?;
    let submit = tx_proof(&gw, location)?;
    let mut cosigns = Vec::new();
    let mut heights: Vec<u64> = record.signatures.iter().map(|s| s.height).collect();
    heights.dedup();
    for height in heights {
        let Some(block) = store.block(height).map_err(storage)? else { continue };
        let receipts = store.receipts(height).map_err(storage)?;
        for (index, (tx, receipt)) in block.txs.iter().zip(&receipts).enumerate() {
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
    Ok(Json(EvidenceProof { hash: doc, summary, record, submit, cosigns }))
}

/// The node's health
///
/// Its chain, committed height and tip, and how many transactions are pending.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "node",
    responses((status = 200, description = "The node is up.", body = Health)),
)]
async fn health(State(gw): Gw) -> Json<Health> {
    let tip = gw.chain.tip();
    Json(Health {
        status: "ok".into(),
        chain_id: gw.chain.executor().chain_id().clone(),
        node_id: gw.chain.node_id().to_string(),
        height: tip.height,
        tip_hash: tip.hash,
        pending: gw.chain.pending(),
    })
}

/// How far behind the highest height a member reports a node may be and still take traffic.
const READY_LAG_BLOCKS: u64 = 20;

/// Whether the node should receive traffic
///
/// Ready when it knows the consensus leader and its committed height is
/// within 20 blocks of the highest a connected member reports. A node alone
/// (no network) is ready once it runs. For load balancers and orchestrators:
/// `/v1/health` says the process answers, this says it is in step. Not
/// ready is a 503 `E_NOT_READY` whose message says why.
#[utoipa::path(
    get,
    path = "/v1/ready",
    tag = "node",
    responses(
        (status = 200, description = "Ready for traffic.", body = Readiness),
        (status = 503, description = "Not ready (`E_NOT_READY`): the message says why.", body = ErrorBody),
    ),
)]
async fn ready(State(gw): Gw) -> Result<Json<Readiness>, ApiError> {
    let height = gw.chain.tip().height;
    let Some(network) = &gw.network else {
        return Ok(Json(Readiness {
            ready: true,
            height,
            highest_peer_height: None,
            leader: None,
            connected_peers: 0,
        }));
    };
    let view = network.view().await;
    let connected: Vec<_> = view.peers.iter().filter(|p| p.connected).collect();
    let highest = connected.iter().filter_map(|p| p.height).max();
    let not_ready =
        |message: String| ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code: "E_NOT_READY".into(), message };
    match (&view.leader, highest) {
        (None, _) => Err(not_ready(format!("no consensus leader known (height {height})"))),
        (Some(_), Some(h)) if h > height + READY_LAG_BLOCKS => {
            Err(not_ready(format!("catching up: height {height}, a member reports {h}")))
        }
        _ => Ok(Json(Readiness {
            ready: true,
            height,
            highest_peer_height: highest,
            leader: view.leader.clone(),
            connected_peers: u32::try_from(connected.len()).unwrap_or(u32::MAX),
        })),
    }
}

/// Prometheus metrics
///
/// Requests by route and status, their latency, the committed height and the
/// pending transactions, in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4"),
    ),
)]
async fn metrics(State(gw): Gw) -> Response {
    let network = match &gw.network {
        Some(n) => {
            let view = n.view().await;
            Some(crate::metrics::NetworkGauges {
                peers: view.peers.iter().filter(|p| p.connected).count(),
                leader_known: view.leader.is_some(),
            })
        }
        None => None,
    };
    text(gw.metrics.render(gw.chain.tip().height, gw.chain.pending(), network))
}

#[cfg(test)]
pub(crate) mod tests;
