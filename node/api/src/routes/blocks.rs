//! Committed blocks: by height, by hash, and a page at a time.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use billflow_types::view::{BlockPage, BlockSummary, BlockView, ErrorBody, TxInBlock};
use billflow_types::{Block, Hash32};
use serde::Deserialize;

use super::transactions::attestations;
use super::{Gw, parse_query, storage};
use crate::Gateway;
use crate::auth::Subject;
use crate::error::ApiError;

/// The most blocks in one page.
const MAX_PAGE: u64 = 100;

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
pub(crate) async fn get_block(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(height): Path<String>,
) -> Result<Json<BlockView>, ApiError> {
    let height = parse_height(&height)?;
    let block = gw.store.block(height).map_err(storage)?;
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
pub(crate) async fn get_block_by_hash(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    Path(hash): Path<String>,
) -> Result<Json<BlockView>, ApiError> {
    let hash = Hash32::from_hex(&hash)
        .map_err(|_| ApiError::bad_request("E_INVALID_FIELD", "a block hash is 64 hex digits"))?;
    let store = &gw.store;
    let height = store.height_of(&hash).map_err(storage)?;
    let block = height.map(|h| store.block(h)).transpose().map_err(storage)?.flatten();
    let block = block.ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?;
    Ok(Json(block_view(&gw, &subject, block)?))
}

/// What a page of blocks asks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
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
pub(crate) async fn list_blocks(
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
            if let Some(b) = gw.store.block(height).map_err(storage)? {
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
