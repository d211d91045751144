//! Attestations a node missed: a node that joined after genesis, or was down
//! while blocks were attested, fetches from its peers the attestations it
//! lacks of settled blocks, so that the proofs it serves carry a majority of
//! each block's voters. Blocks are walked once, in chunks, from a cursor kept
//! in the store; a chunk in which nothing is missing costs no request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use billflow_chain::Chain;
use billflow_net::NetHandle;
use billflow_types::proof::VoterHistory;
use billflow_types::{Attestation, Canonical, NodeId};

use crate::wire::{WireRequest, WireResponse, decode_response, encode_request};

/// The most heights one request names.
pub const MAX_HEIGHTS: usize = 256;
/// A block's attestations are pushed as it commits; one older than this is
/// settled, and whatever it lacks is fetched.
const SETTLED_MS: u64 = 3_000;
/// A chunk whose blocks still lack a majority of their voters' attestations
/// after this many answered rounds is passed: no peer holds them.
const ROUNDS: u32 = 3;
/// The store's meta key of the first height not yet walked.
const CURSOR: &str = "attest/backfilled";
const IDLE: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Walks the chain for missing attestations until the chain is dropped.
pub(crate) async fn run(chain: Chain, net: NetHandle, me: NodeId) {
    let mut cursor = match chain.store().meta(CURSOR) {
        Ok(Some(bytes)) => bytes.try_into().map(u64::from_le_bytes).unwrap_or(1),
        _ => 1,
    };
    let mut rounds = 0;
    loop {
        match step(&chain, &net, &me, cursor, rounds).await {
            Ok(Step::Walked(next)) => {
                cursor = next;
                rounds = 0;
                if let Err(e) = chain.store().put_meta(&[(CURSOR.to_string(), next.to_le_bytes().to_vec())]) {
                    tracing::warn!(error = %e, "cannot keep the attestation cursor");
                }
            }
            Ok(Step::Again) => {
                rounds += 1;
                tokio::time::sleep(IDLE).await;
            }
            Ok(Step::Idle) => tokio::time::sleep(IDLE).await,
            Err(e) => {
                tracing::warn!(error = %e, "attestation backfill paused");
                tokio::time::sleep(IDLE * 5).await;
            }
        }
    }
}

/// What one step did.
enum Step {
    /// The chunk is done; the next starts here.
    Walked(u64),
    /// Peers answered, but some block still lacks a majority: try again.
    Again,
    /// Nothing settled to walk, or no peer answered.
    Idle,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The heights of `from..=to` whose voters in force have not all attested
/// here, and whether any of them lacks a majority.
fn lacking(chain: &Chain, history: &VoterHistory, from: u64, to: u64) -> Result<(Vec<u64>, bool), String> {
    let mut heights = Vec::new();
    let mut short = false;
    for height in from..=to {
        let held = chain.store().attestations(height).map_err(|e| e.to_string())?;
        let voters = history.at(height);
        let attested = voters.iter().filter(|v| held.iter().any(|(node, _)| node == v.node.as_str())).count();
        if attested < voters.len() {
            heights.push(height);
            short |= attested * 2 <= voters.len();
        }
    }
    Ok((heights, short))
}

/// One chunk from `cursor`, in its `rounds`-th retry.
async fn step(chain: &Chain, net: &NetHandle, me: &NodeId, cursor: u64, rounds: u32) -> Result<Step, String> {
    let store = chain.store();
    let now = now_ms();
    let settled = |height: u64| -> Result<bool, String> {
        let block = store.block(height).map_err(|e| e.to_string())?;
        Ok(block.is_some_and(|b| b.header.proposed_at_ms + SETTLED_MS <= now))
    };
    if cursor > chain.tip().height || !settled(cursor)? {
        return Ok(Step::Idle);
    }
    let mut to = (cursor + MAX_HEIGHTS as u64 - 1).min(chain.tip().height);
    while !settled(to)? {
        to = cursor + (to - cursor) / 2;
    }
    let history = chain.voter_history().map_err(|e| e.to_string())?;
    let (missing, _) = lacking(chain, &history, cursor, to)?;
    if missing.is_empty() {
        return Ok(Step::Walked(to + 1));
    }
    let peers = chain.active_peers(me).map_err(|e| e.to_string())?;
    let mut answered = false;
    for peer in peers {
        let request = encode_request(&WireRequest::AttestationsOf(missing.clone()));
        let Ok(Ok(bytes)) = tokio::time::timeout(REQUEST_TIMEOUT, net.request(&peer, request)).await else {
            continue;
        };
        if let Ok(WireResponse::Attestations(batch)) = decode_response(&bytes) {
            let kept = keep(chain, &batch)?;
            if kept > 0 {
                tracing::info!(%peer, kept, from = cursor, to, "attestations fetched from a peer");
            }
            answered = true;
        }
    }
    if !answered {
        return Ok(Step::Idle);
    }
    let (_, short) = lacking(chain, &history, cursor, to)?;
    Ok(if short && rounds + 1 < ROUNDS { Step::Again } else { Step::Walked(to + 1) })
}

/// Stores the attestations of `batch` that are of blocks this node holds, by
/// a node the ledger lists, under that node's key; returns how many.
fn keep(chain: &Chain, batch: &[Vec<u8>]) -> Result<usize, String> {
    let records = chain.node_records().map_err(|e| e.to_string())?;
    let mut kept = 0;
    for bytes in batch {
        let Ok(att) = Attestation::decode(bytes) else { continue };
        let Some(record) = records.iter().find(|r| r.id == att.node) else { continue };
        let ours = chain.block_hash(att.height).map_err(|e| e.to_string())?;
        if ours != Some(att.block_hash) || att.verify(&record.public_key).is_err() {
            continue;
        }
        chain.store().put_attestation(att.height, att.node.as_str(), bytes).map_err(|e| e.to_string())?;
        kept += 1;
    }
    Ok(kept)
}

/// The answer to [`WireRequest::AttestationsOf`]: every attestation held of
/// the first [`MAX_HEIGHTS`] heights asked for.
pub(crate) fn serve(chain: &Chain, heights: &[u64]) -> WireResponse {
    let mut out = Vec::new();
    for &height in heights.iter().take(MAX_HEIGHTS) {
        match chain.store().attestations(height) {
            Ok(held) => out.extend(held.into_iter().map(|(_, bytes)| bytes)),
            Err(e) => return WireResponse::Error(format!("attestations of block {height}: {e}")),
        }
    }
    WireResponse::Attestations(out)
}
