//! The explorer: the web page every node serves at `/explorer/` (its files
//! are compiled in, see `build.rs`) and the public routes it reads beside the
//! block and contract routes: throughput over the last hour, the latest
//! transactions, one transaction's receipt (signer masked, never its
//! arguments) and search.
//!
//! Every answer is bounded: the plot keeps the last hour's block headers
//! (at most [`MAX_PLOT_BLOCKS`]) and reads only blocks it has not seen; lists
//! scan at most [`MAX_SCAN_BLOCKS`] blocks back from the tip.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use billflow_contract_flows as flows;
use billflow_types::view::{
    ErrorBody, ExplorerBill, ExplorerBillRange, ExplorerBillStep, ExplorerEvent, ExplorerInvoice, ExplorerMovement,
    ExplorerStats, ExplorerTx, ExplorerTxList, ExplorerTxSummary, MinuteStats, SearchHit,
};
use billflow_types::{BlockHeader, Hash32, Receipt, SignedTx, TxStatus};
use serde::Deserialize;

use crate::Gateway;
use crate::error::ApiError;
use crate::routes::{parse_query, parse_tx_id, storage};

include!(concat!(env!("OUT_DIR"), "/explorer_assets.rs"));

/// The plot's window.
const WINDOW_MS: u64 = 60 * 60 * 1000;
/// The most block headers the plot keeps (a block every 360 ms for an hour).
pub const MAX_PLOT_BLOCKS: usize = 10_000;
/// The most blocks a list reads back from the tip.
pub const MAX_SCAN_BLOCKS: u64 = 1_000;
/// The longest list of latest transactions.
const MAX_RECENT: usize = 100;

/// The page's own policy: scripts, styles and requests only from the node
/// itself, so that text from the ledger can never load or run anything.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page's files: `/explorer` and everything under it.
pub(crate) fn asset_routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/explorer", get(|| async { Redirect::permanent("/explorer/") }))
        .route("/explorer/", get(|| async { asset("index.html") }))
        .route("/explorer/{*path}", get(|Path(path): Path<String>| async move { asset(&path) }))
}

fn asset(path: &str) -> Response {
    let Some((_, bytes)) = ASSETS.iter().find(|(p, _)| *p == path) else {
        return ApiError::not_found(format!("the explorer has no file {path}")).into_response();
    };
    let kind = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    let mut resp = (StatusCode::OK, *bytes).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The last hour's blocks, kept between requests: (height, time, transactions).
#[derive(Default)]
pub(crate) struct Plot {
    blocks: Mutex<VecDeque<(u64, u64, u32)>>,
}

impl Plot {
    /// Brings the window up to the tip at `now_ms`: reads the blocks not seen
    /// yet (newest first on the first call) and drops those older than an hour.
    fn update(&self, gw: &Gateway, now_ms: u64) -> Result<Vec<(u64, u64, u32)>, ApiError> {
        let store = &gw.store;
        let tip = gw.chain.tip().height;
        let mut blocks = self.blocks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let since = now_ms.saturating_sub(WINDOW_MS);
        let seen = blocks.back().map(|b| b.0);
        let first_new = match seen {
            Some(h) => h + 1,
            // The first call reads back from the tip until an hour ago.
            None => tip.saturating_sub(MAX_PLOT_BLOCKS as u64 - 1).max(1),
        };
        let mut fresh = Vec::new();
        for height in (first_new..=tip).rev() {
            let Some(block) = store.block(height).map_err(storage)? else { break };
            if block.header.proposed_at_ms < since {
                break;
            }
            fresh.push((height, block.header.proposed_at_ms, block.header.tx_count));
            if fresh.len() == MAX_PLOT_BLOCKS {
                break;
            }
        }
        blocks.extend(fresh.into_iter().rev());
        while blocks.front().is_some_and(|b| b.1 < since) || blocks.len() > MAX_PLOT_BLOCKS {
            blocks.pop_front();
        }
        Ok(blocks.iter().copied().collect())
    }
}

/// Throughput and block time over the last hour
///
/// Sixty one-minute buckets, oldest first: blocks, transactions and the mean
/// time between blocks; and transactions per second over the last minute.
#[utoipa::path(
    get,
    path = "/v1/explorer/stats",
    tag = "explorer",
    responses((status = 200, description = "The last hour.", body = ExplorerStats)),
)]
pub(crate) async fn stats(State(gw): State<Arc<Gateway>>) -> Result<Json<ExplorerStats>, ApiError> {
    let now_ms = billflow_chain::now_ms();
    let blocks = gw.plot.update(&gw, now_ms)?;
    let first = now_ms - now_ms % 60_000 - 59 * 60_000;
    let mut minutes: Vec<MinuteStats> = (0..60)
        .map(|m| MinuteStats { start_ms: first + m * 60_000, blocks: 0, txs: 0, mean_block_interval_ms: None })
        .collect();
    let mut intervals = vec![(0u64, 0u32); 60];
    let mut previous: Option<u64> = None;
    let mut last_minute_txs = 0u64;
    for &(_, time, txs) in &blocks {
        if time + 60_000 >= now_ms {
            last_minute_txs += u64::from(txs);
        }
        if time >= first {
            let m = ((time - first) / 60_000).min(59) as usize;
            minutes[m].blocks += 1;
            minutes[m].txs += txs;
            if let Some(p) = previous {
                intervals[m].0 += time.saturating_sub(p);
                intervals[m].1 += 1;
            }
        }
        previous = Some(time);
    }
    for (minute, (sum, n)) in minutes.iter_mut().zip(intervals) {
        minute.mean_block_interval_ms = (n > 0).then(|| sum as f64 / f64::from(n));
    }
    Ok(Json(ExplorerStats { now_ms, height: gw.chain.tip().height, tps_1m: last_minute_txs as f64 / 60.0, minutes }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecentQuery {
    /// How many, 1 to 100 (default 20).
    limit: Option<usize>,
}

fn summary(header: &BlockHeader, tx: &SignedTx, receipt: &Receipt, index: usize) -> ExplorerTxSummary {
    ExplorerTxSummary {
        tx_id: tx.tx.tx_id.clone(),
        tx_hash: receipt.tx_hash,
        height: header.height,
        index: index as u32,
        time_ms: header.proposed_at_ms,
        contract: tx.tx.contract.clone(),
        method: tx.tx.method.clone(),
        status: match receipt.status {
            TxStatus::Success => "success".into(),
            TxStatus::Failed => "failed".into(),
        },
    }
}

/// The latest transactions
///
/// Newest first, from at most the last 1000 blocks: what each called and how it ended.
#[utoipa::path(
    get,
    path = "/v1/explorer/recent-txs",
    tag = "explorer",
    params(RecentQuery),
    responses(
        (status = 200, description = "The transactions.", body = ExplorerTxList),
        (status = 400, description = "A bad query (`E_BAD_QUERY`).", body = ErrorBody),
    ),
)]
pub(crate) async fn recent_txs(
    State(gw): State<Arc<Gateway>>,
    query: Result<Query<RecentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ExplorerTxList>, ApiError> {
    let limit = parse_query(query)?.limit.unwrap_or(20);
    if !(1..=MAX_RECENT).contains(&limit) {
        return Err(ApiError::bad_request("E_BAD_QUERY", format!("limit must be 1 to {MAX_RECENT}, got {limit}")));
    }
    let store = &gw.store;
    let tip = gw.chain.tip().height;
    let mut txs = Vec::new();
    for height in (tip.saturating_sub(MAX_SCAN_BLOCKS - 1).max(1)..=tip).rev() {
        let Some(stored) = store.stored_block(height).map_err(storage)? else { continue };
        for index in (0..stored.receipts.len()).rev() {
            if let Some(tx) = stored.block.txs.get(index) {
                txs.push(summary(&stored.block.header, tx, &stored.receipts[index], index));
            }
            if txs.len() == limit {
                return Ok(Json(ExplorerTxList { txs }));
            }
        }
    }
    Ok(Json(ExplorerTxList { txs }))
}

/// A key id with its owner masked: the first three characters and the key's
/// own suffix stay (`bank-a.k1` → `ban***.k1`).
pub(crate) fn mask_key(key: &str) -> String {
    let (owner, suffix) = key.rsplit_once('.').map_or((key, ""), |(o, s)| (o, s));
    let kept: String = owner.chars().take(3).collect();
    if suffix.is_empty() { format!("{kept}***") } else { format!("{kept}***.{suffix}") }
}

/// The text strings in an event's data (Borsh strings without control
/// characters), personal data masked.
pub(crate) fn event_text(data: &[u8]) -> Option<String> {
    let parts: Vec<String> = billflow_types::privacy::encoded_strings(data, 1)
        .filter(|t| !t.chars().any(char::is_control))
        .take(64)
        .map(public_text)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// Ledger text as the explorer shows it: personal data masked, and every
/// enterprise's credit code masked as the bill disclosure masks it
/// (`913***02T`), so that a transaction's events do not name the parties a
/// bill's public view leaves unnamed.
pub(crate) fn public_text(text: &str) -> String {
    let text = billflow_types::privacy::mask(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let word = &rest[..end];
        if billflow_types::ids::is_valid_credit_code(word) {
            out.push_str(&word[..3]);
            out.push_str("***");
            out.push_str(&word[15..]);
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A transaction in the explorer
///
/// What it called, its signer (masked), its receipt and events; never its
/// arguments. Any committed transaction, whoever asks.
#[utoipa::path(
    get,
    path = "/v1/explorer/txs/{tx_id}",
    tag = "explorer",
    params(("tx_id" = String, Path, description = "The transaction's id.")),
    responses(
        (status = 200, description = "The transaction.", body = ExplorerTx),
        (status = 400, description = "Not a valid transaction id (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No such transaction is recorded here.", body = ErrorBody),
    ),
)]
pub(crate) async fn transaction(
    State(gw): State<Arc<Gateway>>,
    Path(tx_id): Path<String>,
) -> Result<Json<ExplorerTx>, ApiError> {
    let tx_id = parse_tx_id(tx_id)?;
    let not_found = || ApiError::not_found(format!("no transaction {tx_id} is recorded on this node"));
    let store = &gw.store;
    // The transaction and its receipt, decoding no more of its block.
    let (location, receipt) = store.tx_receipt(&tx_id).map_err(storage)?.ok_or_else(not_found)?;
    let (header, tx) = store.tx_at(location).map_err(storage)?.ok_or_else(not_found)?;
    let summary = summary(&header, &tx, &receipt, location.index as usize);
    Ok(Json(ExplorerTx {
        summary,
        version: tx.tx.version,
        signer: mask_key(tx.tx.signer.as_str()),
        tenant: tx.tx.tenant.as_ref().map(|t| t.as_str().to_string()),
        failure: receipt.failure.clone().map(|mut f| {
            f.message = public_text(&f.message);
            f
        }),
        fuel_used: receipt.fuel_used,
        events: receipt
            .events
            .iter()
            .map(|e| ExplorerEvent {
                contract: e.contract.clone(),
                topic: e.topic.clone(),
                data_hex: hex::encode(&e.data),
                text: event_text(&e.data),
            })
            .collect(),
    }))
}

/// The name the flows contract is deployed under.
const FLOWS: &str = "flows";

/// A bill's disclosure from the flows contract, `None` if the contract is not
/// deployed or has no such bill; `400` unless `number` is 30 digits.
async fn bill_disclosure(gw: &Gateway, number: &str) -> Result<Option<flows::BillDisclosure>, ApiError> {
    if number.len() != 30 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request("E_INVALID_FIELD", "a bill number is 30 digits"));
    }
    let name = crate::routes::contract_name(FLOWS.into())?;
    if gw.chain.contract(&name)?.is_none() {
        return Ok(None);
    }
    let args = borsh::to_vec(&flows::ByBill { bill: number.into() }).map_err(ApiError::internal)?;
    // Open to anyone: it runs anonymous, whoever asks.
    match crate::routes::contracts::run_query(
        gw.chain.clone(),
        None,
        name,
        flows::methods::BILL_DISCLOSURE.into(),
        args,
    )
    .await
    {
        Ok(output) => {
            borsh::from_slice(&output).map(Some).map_err(|e| ApiError::internal(format!("bill disclosure: {e}")))
        }
        Err(e) if e.code == flows::codes::E_UNKNOWN_BILL => Ok(None),
        Err(e) => Err(e),
    }
}

/// Yuan with two decimals, no separators: `1000000.00`.
fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn amount_of(start: u64, end: u64) -> Option<String> {
    (start > 0 && end >= start).then(|| yuan(end - start + 1))
}

/// A bill
///
/// What of a bill anyone may read: its terms, its sub-ranges and holders, its
/// whole history with the block and transaction of every step, and the
/// orders, invoices and fund movements behind it. The acceptor and banks are
/// named; other enterprises, order ids and invoice numbers are masked; rates,
/// notes and accounts are never shown.
#[utoipa::path(
    get,
    path = "/v1/explorer/bills/{number}",
    tag = "explorer",
    params(("number" = String, Path, description = "The 30-digit bill package number.")),
    responses(
        (status = 200, description = "The bill.", body = ExplorerBill),
        (status = 400, description = "Not a bill number (`E_INVALID_FIELD`).", body = ErrorBody),
        (status = 404, description = "No such bill on this ledger.", body = ErrorBody),
    ),
)]
pub(crate) async fn bill(
    State(gw): State<Arc<Gateway>>,
    Path(number): Path<String>,
) -> Result<Json<ExplorerBill>, ApiError> {
    let Some(d) = bill_disclosure(&gw, &number).await? else {
        return Err(ApiError::not_found(format!("no bill {number} on this ledger")));
    };
    let kind = match d.kind {
        flows::BillKind::BankAcceptance => "bank_acceptance",
        flows::BillKind::FinanceCompanyAcceptance => "finance_company_acceptance",
        flows::BillKind::CommercialAcceptance => "commercial_acceptance",
        flows::BillKind::SupplyChain => "supply_chain",
    };
    let status = match (d.frozen, d.stage) {
        (true, _) => "frozen",
        (false, flows::BillStage::Issued) => "issued",
        (false, flows::BillStage::Accepted) => "accepted",
        (false, flows::BillStage::Circulating) => "circulating",
        (false, flows::BillStage::Cancelled) => "cancelled",
    };
    Ok(Json(ExplorerBill {
        number: d.number,
        kind: kind.into(),
        amount: yuan(d.amount),
        drawer: d.drawer,
        acceptor: d.acceptor,
        payee: d.payee,
        issue_date: d.issue_date.to_string(),
        due_date: d.due_date.to_string(),
        status: status.into(),
        ranges: d
            .ranges
            .into_iter()
            .map(|r| ExplorerBillRange {
                amount: amount_of(r.start, r.end).unwrap_or_default(),
                start: r.start,
                end: r.end,
                holder: r.holder,
                state: r.state,
            })
            .collect(),
        history: d
            .history
            .into_iter()
            .map(|s| ExplorerBillStep {
                date: flows::finance::Date::of_block_time(s.time_ms).to_string(),
                amount: amount_of(s.start, s.end),
                step: s.action,
                time_ms: s.time_ms,
                height: s.height,
                tx_id: s.tx_id,
                from: s.actor,
                to: s.counterparty,
            })
            .collect(),
        orders: d.orders,
        invoices: d
            .invoices
            .into_iter()
            .map(|i| ExplorerInvoice {
                code: i.code,
                number: i.number,
                amount: yuan(i.amount_inc_tax),
                occupied: yuan(i.occupied),
            })
            .collect(),
        movements: d
            .movements
            .into_iter()
            .map(|m| ExplorerMovement {
                id: m.id,
                kind: match m.kind {
                    flows::MovementKind::Disbursement => "disbursement",
                    flows::MovementKind::Payment => "payment",
                    flows::MovementKind::Recourse => "recourse",
                    flows::MovementKind::Fee => "fee",
                    flows::MovementKind::Reversal => "reversal",
                }
                .into(),
                amount: yuan(m.amount),
                status: match m.status {
                    flows::MovementStatus::Pending => "pending",
                    flows::MovementStatus::Success => "success",
                    flows::MovementStatus::Failed => "failed",
                    flows::MovementStatus::Unknown => "unknown",
                }
                .into(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// A height, a block hash, a transaction id, a bill number (30 digits) or a document hash.
    q: String,
}

/// Search
///
/// What a term names: a block height, a block hash, a transaction id, a
/// bill number (30 digits) or a document hash on the ledger.
#[utoipa::path(
    get,
    path = "/v1/explorer/search",
    tag = "explorer",
    params(SearchQuery),
    responses(
        (status = 200, description = "What it names.", body = SearchHit),
        (status = 400, description = "No term (`E_BAD_QUERY`).", body = ErrorBody),
        (status = 404, description = "Nothing on this ledger has that name.", body = ErrorBody),
    ),
)]
pub(crate) async fn search(
    State(gw): State<Arc<Gateway>>,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchHit>, ApiError> {
    let q = parse_query(query)?.q.trim().to_string();
    if q.is_empty() || q.len() > 128 {
        return Err(ApiError::bad_request("E_BAD_QUERY", "search for 1 to 128 characters"));
    }
    let hit = |kind: &str, target: String| Ok(Json(SearchHit { kind: kind.into(), target }));
    let store = &gw.store;
    if q.len() == 30 && q.bytes().all(|b| b.is_ascii_digit()) {
        return match bill_disclosure(&gw, &q).await? {
            Some(_) => hit("bill", q),
            None => Err(ApiError::not_found(format!("no bill {q} on this ledger"))),
        };
    }
    if let Ok(height) = q.parse::<u64>()
        && height <= gw.chain.tip().height
    {
        return hit("block", height.to_string());
    }
    if let Ok(hash) = Hash32::from_hex(&q.to_ascii_lowercase()) {
        if let Some(height) = store.height_of(&hash).map_err(storage)? {
            return hit("block", height.to_string());
        }
        if crate::routes::evidence::evidence_record(&gw, hash).await?.is_some() {
            return hit("evidence", hash.to_string());
        }
    }
    if let Ok(tx_id) = q.parse::<billflow_types::TxId>()
        && store.tx_location(&tx_id).map_err(storage)?.is_some()
    {
        return hit("tx", tx_id.to_string());
    }
    Err(ApiError::not_found(format!("nothing on this ledger is called {q}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_masked_and_event_text_is_read_string_by_string() {
        assert_eq!(mask_key("bank-a.k1"), "ban***.k1");
        assert_eq!(mask_key("91320500MA1FL0002T.k2"), "913***.k2");
        assert_eq!(mask_key("ab"), "ab***");
        let mut data = 5u32.to_le_bytes().to_vec();
        data.extend_from_slice(b"hello");
        data.extend_from_slice(&[0, 1, 2]);
        data.extend_from_slice(&11u32.to_le_bytes());
        data.extend_from_slice(b"13812345678");
        assert_eq!(event_text(&data).as_deref(), Some("hello · 138****5678"));
        assert_eq!(event_text(&[1, 2, 3]), None);
        assert_eq!(
            public_text("participant:91320500MA1FL0002T, 91320500MA1FL0002X, bank-a; 合同"),
            "participant:913***02T, 91320500MA1FL0002X, bank-a; 合同",
            "valid credit codes masked; anything else kept"
        );
        assert!(ASSETS.iter().any(|(p, _)| *p == "index.html"), "the page is compiled in");
    }
}
