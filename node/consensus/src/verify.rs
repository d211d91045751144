//! Checks the stored consensus log against the block files: the entries kept
//! (those after the last purge) are whole, numbered without a gap, in
//! non-decreasing terms, and every entry that made a block carries the
//! proposal that block was made from.

use std::collections::HashMap;

use billflow_storage::Store;
use billflow_types::{Block, BlockProposal, Canonical};
use openraft::{Entry, EntryPayload};

use crate::config::{TypeConfig, decode};

/// What [`verify_log`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogReport {
    /// Entries read from the log.
    pub entries: u64,
    /// Of those, entries matched with the block they made.
    pub blocks: u64,
}

/// Checks the consensus log in `store` against its blocks; an error names the
/// entry and what is wrong with it.
pub fn verify_log(store: &Store) -> Result<LogReport, String> {
    let Some((last, _)) = store.raft_last().map_err(|e| e.to_string())? else {
        return Ok(LogReport { entries: 0, blocks: 0 });
    };
    let entries = store.raft_entries(0, last.saturating_add(1)).map_err(|e| e.to_string())?;
    let first = entries.first().map_or(last, |(index, _)| *index);
    // Consensus index → the height and block it made, for the blocks the kept
    // entries can have made: walking down from the tip, each block read once.
    let mut made: HashMap<u64, (u64, Block)> = HashMap::new();
    let mut height = store.tip().map_err(|e| e.to_string())?.map_or(0, |t| t.height);
    while height > 0 {
        let block = store
            .block(height)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("block {height} is missing below the tip"))?;
        if block.header.consensus.index < first {
            break;
        }
        made.insert(block.header.consensus.index, (height, block));
        height -= 1;
    }
    let mut report = LogReport { entries: 0, blocks: 0 };
    let mut previous: Option<(u64, u64)> = None;
    for (index, bytes) in entries {
        let entry: Entry<TypeConfig> =
            decode(&bytes).map_err(|e| format!("consensus log entry {index} does not decode: {e}"))?;
        if entry.log_id.index != index {
            return Err(format!("consensus log entry {index} says it is entry {}", entry.log_id.index));
        }
        let term = entry.log_id.leader_id.term;
        if let Some((prev_index, prev_term)) = previous {
            if index != prev_index + 1 {
                return Err(format!("the consensus log jumps from entry {prev_index} to {index}"));
            }
            if term < prev_term {
                return Err(format!(
                    "consensus log entry {index} has term {term}, below its predecessor's {prev_term}"
                ));
            }
        }
        previous = Some((index, term));
        report.entries += 1;
        let EntryPayload::Normal(proposal) = &entry.payload else { continue };
        let Some((height, block)) = made.get(&index) else {
            // Not applied yet, or every transaction in it was refused: no block.
            continue;
        };
        let h = &block.header;
        if h.consensus.term != term {
            return Err(format!(
                "consensus log entry {index} has term {term}; block {height} says {}",
                h.consensus.term
            ));
        }
        let proposal = BlockProposal::decode(&proposal.0)
            .map_err(|e| format!("consensus log entry {index} carries no block proposal: {e}"))?;
        // The block holds the proposal's transactions that were not refused, in its order.
        let mut offered = proposal.txs.iter();
        let from_proposal = block.txs.iter().all(|tx| offered.any(|p| p == tx));
        if h.proposer != proposal.proposer || h.proposed_at_ms != proposal.proposed_at_ms || !from_proposal {
            return Err(format!("consensus log entry {index} is not the proposal block {height} was made from"));
        }
        report.blocks += 1;
    }
    Ok(report)
}
