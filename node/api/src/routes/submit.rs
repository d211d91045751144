//! Submitting signed transactions, one or a batch, and waiting for their receipts.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use billflow_chain::Submitted;
use billflow_types::view::{BatchItem, BatchView, ErrorBody, TxState, TxView};
use billflow_types::{Canonical, KeyId, Rejection, SignedTx};
use serde::Deserialize;

use super::transactions::{outcome_view, pending_view, view_answer};
use super::{Gw, is_binary, is_json, parse_query, unsupported_media, wants_binary};
use crate::Gateway;
use crate::auth::Subject;
use crate::error::ApiError;

/// The longest a client may ask to wait for a commit (custody rules allow 30 s a transaction).
const MAX_WAIT: Duration = Duration::from_secs(30);
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The most transactions in one batch.
const MAX_BATCH: usize = 1_000;

/// What a submission asks: whether to wait for the commit, and how long.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitQuery {
    #[serde(default)]
    wait: bool,
    timeout_ms: Option<u64>,
}

impl SubmitQuery {
    fn timeout(&self) -> Duration {
        self.timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT)
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
async fn submit_one(gw: &Gateway, tx: SignedTx, wait: Option<Duration>, decode: bool) -> Result<TxView, ApiError> {
    let chain = &gw.chain;
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
        Some(o) => outcome_view(gw, tx_id, o, decode),
        None => Ok(pending_view(tx_id, tx_hash)),
    }
}

/// Submit one signed transaction
///
/// The body is the signed transaction in JSON, or its canonical (Borsh)
/// encoding as `application/octet-stream`. The request needs no signature of
/// its own: the transaction's signature (over its chain id, unique id and
/// time) authenticates it, checked once at admission. A signed request relays
/// the transaction under its signer: a tenant may relay only transactions
/// under its own tenant. Resubmitting the same transaction is
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
        (status = 200, description = "Committed (with `wait`, or recorded before): the receipt. JSON, or the \
            view's canonical bytes (without `decoded_events`) under `Accept: application/octet-stream`.",
            body = TxView,
            links(
            ("GetTransaction" = (operation_id = "get_transaction", parameters(("tx_id" = "$response.body#/tx_id")))),
            ("GetTransactionProof" = (
                operation_id = "transaction_proof",
                parameters(("tx_id" = "$response.body#/tx_id"))
            )),
        )),
        (status = 202, description = "Accepted and pending (JSON, or canonical bytes as for 200).", body = TxView,
            links(
            ("GetTransaction" = (operation_id = "get_transaction", parameters(("tx_id" = "$response.body#/tx_id")))),
            ("GetTransactionProof" = (
                operation_id = "transaction_proof",
                parameters(("tx_id" = "$response.body#/tx_id"))
            )),
        )),
        (status = 400, description = "Malformed, an invalid field, another chain, a stale timestamp, or a bad query \
            (`E_MALFORMED`, `E_INVALID_FIELD`, `E_WRONG_CHAIN`, `E_TX_STALE`, `E_BAD_QUERY`).", body = ErrorBody),
        (status = 401, description = "The request's signature, or the transaction's key (unknown, revoked) or \
            signature, does not verify.", body = ErrorBody),
        (status = 403, description = "The transaction acts under another tenant than the request's signer \
            (`E_FOREIGN_PARTICIPANT`, `E_TENANT_MISMATCH`).", body = ErrorBody),
        (status = 409, description = "Another transaction with this id is recorded or pending (`E_DUPLICATE_TX`).",
            body = ErrorBody),
        (status = 413, description = "The transaction is over the size limit (`E_TX_TOO_LARGE`).", body = ErrorBody),
        (status = 415, description = "Neither `application/json` nor `application/octet-stream`.", body = ErrorBody),
        (status = 503, description = "The node is busy or shutting down (`E_BUSY`, `E_SHUTTING_DOWN`); retry.",
            body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = []), ()),
)]
pub(crate) async fn submit(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    query: Result<Query<SubmitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut submitter = None;
    let result = async {
        let query = parse_query(query)?;
        let tx = decode_tx(&gw, &headers, &body)?;
        let relay = submitter.insert(subject.submitting(&gw, &tx.tx.signer)?);
        if subject.is_authenticated() {
            relay.may_submit(&tx)?;
        }
        let binary = wants_binary(&headers);
        let view = submit_one(&gw, tx, query.wait.then(|| query.timeout()), !binary).await?;
        let status = if view.status == TxState::Committed { StatusCode::OK } else { StatusCode::ACCEPTED };
        Ok::<_, ApiError>(view_answer(status, view, binary))
    }
    .await;
    with_submitter(result, submitter)
}

/// The answer, naming who submitted (for the audit log) when the handler
/// learnt it from the transaction.
fn with_submitter(result: Result<Response, ApiError>, submitter: Option<Subject>) -> Response {
    let mut resp = result.unwrap_or_else(IntoResponse::into_response);
    if let Some(subject) = submitter {
        resp.extensions_mut().insert(subject);
    }
    resp
}

/// Submit a batch of signed transactions
///
/// The body is `{"txs": [signed transactions]}` in JSON, or the canonical
/// (Borsh) encoding of the list as `application/octet-stream`; 1 to 1000
/// transactions. As for one transaction, the request needs no signature of
/// its own; unsigned, it counts once against the rate of each signer it
/// carries. Each is checked and submitted on its own: the answer holds one
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
        (status = 401, description = "The request's signature does not verify.", body = ErrorBody),
        (status = 415, description = "Neither `application/json` nor `application/octet-stream`.", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = []), ()),
)]
pub(crate) async fn submit_batch(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    query: Result<Query<SubmitQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut submitter = None;
    let result = async {
        let query = parse_query(query)?;
        let txs = decode_batch(&headers, &body)?;
        // Each signer an unsigned batch carries counts it once against its rate.
        let mut subjects: HashMap<KeyId, Result<Subject, ApiError>> = HashMap::new();
        for tx in &txs {
            if !subjects.contains_key(&tx.tx.signer) {
                let s = subject.submitting(&gw, &tx.tx.signer);
                if let Err(e) = &s
                    && e.status == StatusCode::TOO_MANY_REQUESTS
                {
                    return Err(e.clone());
                }
                subjects.insert(tx.tx.signer.clone(), s);
            }
        }
        if let [Ok(only)] = subjects.values().collect::<Vec<_>>().as_slice() {
            submitter = Some(only.clone());
        }
        let params = gw.chain.executor().params();
        let wait = query.wait.then(|| query.timeout());
        let submissions = txs.into_iter().map(|tx| {
            let gw = gw.clone();
            let relay = subjects[&tx.tx.signer].clone();
            let signed = subject.is_authenticated();
            async move {
                let tx_id = tx.tx.tx_id.to_string();
                let checked = tx
                    .check_stateless(gw.chain.executor().chain_id(), params, billflow_chain::now_ms())
                    .map_err(ApiError::from)
                    .and_then(|()| match relay? {
                        relay if signed => relay.may_submit(&tx),
                        _ => Ok(()),
                    });
                let result = match checked {
                    Ok(()) => submit_one(&gw, tx, wait, true).await,
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
        let results = futures_util::future::join_all(submissions).await;
        Ok(Json(BatchView { results }).into_response())
    }
    .await;
    with_submitter(result, submitter)
}

/// Decodes a batch of 1 to [`MAX_BATCH`] signed transactions from the body.
fn decode_batch(headers: &HeaderMap, body: &[u8]) -> Result<Vec<SignedTx>, ApiError> {
    let txs: Vec<SignedTx> = if is_binary(headers) {
        Vec::<SignedTx>::decode(body).map_err(|e| ApiError::bad_request("E_MALFORMED", e.to_string()))?
    } else if is_json(headers) {
        serde_json::from_slice::<crate::openapi::BatchBody>(body)
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
    Ok(txs)
}
