//! `billflow-node audit verify`: a node's audit log checked against its own
//! hash chain and against the heads the node anchored in its attestations,
//! which every node of the consortium holds. A log rewritten and hashed again,
//! or cut short, no longer matches its anchors.

use std::path::Path;

use billflow_storage::Store;
use billflow_types::audit::{AuditEntry, AuditHead};
use billflow_types::system::{NodeRecord, RecordKind, state_key, system_contract};
use billflow_types::{Attestation, Canonical, NodeId};

/// The store's meta key holding the id of the node that runs on it.
pub const NODE_ID_META: &str = "node/id";

/// What a log that verified holds.
#[derive(Debug)]
pub struct AuditReport {
    /// Entries in the log.
    pub entries: u64,
    /// Anchors found and matched.
    pub anchors: u64,
    /// Anchors of entries in segments no longer here (archived), not checked.
    pub archived: u64,
    /// The first entry present.
    pub first: u64,
    /// The last anchored head, and the block that anchors it.
    pub last_anchor: Option<(u64, AuditHead)>,
}

/// The node that runs on `store`, as it recorded at start.
pub fn node_id(store: &Store) -> Result<Option<NodeId>, String> {
    let Some(bytes) = store.meta(NODE_ID_META).map_err(|e| e.to_string())? else { return Ok(None) };
    let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
    text.parse().map(Some).map_err(|e| format!("the recorded node id {text:?}: {e}"))
}

/// Every audit head `node` anchored in the attestations `store` holds, with
/// the height of each, in height order; `None` when the ledger lists no such
/// node (a node running alone attests nothing). An anchor whose signature
/// does not verify under the node's key is an error.
pub fn anchors(store: &Store, node: &NodeId) -> Result<Option<Vec<(u64, AuditHead)>>, String> {
    let key = state_key(RecordKind::Node, node.as_str());
    let Some(record) = store.state_get(&system_contract(), &key).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let record = NodeRecord::decode(&record).map_err(|e| e.to_string())?;
    let tip = store.tip().map_err(|e| e.to_string())?.map_or(0, |t| t.height);
    let mut out = Vec::new();
    for height in 1..=tip {
        let held = store.attestations(height).map_err(|e| e.to_string())?;
        let Some((_, bytes)) = held.iter().find(|(name, _)| name == node.as_str()) else { continue };
        let att = Attestation::decode(bytes).map_err(|e| format!("the attestation of block {height}: {e}"))?;
        let Some(anchor) = &att.audit else { continue };
        anchor
            .verify(node, height, &record.public_key)
            .map_err(|_| format!("the audit head anchored at block {height} does not verify under {node}'s key"))?;
        out.push((height, anchor.head));
    }
    Ok(Some(out))
}

/// Checks `entries` (already read from the log) against their hash chain and
/// against `anchors`; names the first entry that differs.
pub fn check(entries: &[AuditEntry], anchors: &[(u64, AuditHead)]) -> Result<AuditReport, String> {
    // The oldest segments may have been moved off the host: the chain is
    // checked from the first entry present.
    let (first, prev) = entries.first().map_or((0, billflow_types::Hash32::ZERO), |e| (e.seq, e.prev));
    billflow_types::audit::verify_chain_from(entries, first, prev)
        .map_err(|b| format!("the log's hash chain breaks at entry {}: {}", b.seq, b.reason))?;
    let last = (first + entries.len() as u64).checked_sub(1);
    let mut matched: Option<(u64, AuditHead)> = None;
    let mut archived = 0;
    for &(height, head) in anchors {
        if head.seq < first {
            archived += 1;
            continue;
        }
        let Some(entry) = entries.get((head.seq - first) as usize) else {
            let ends = last.map_or("it holds no entry".to_string(), |l| format!("it ends at entry {l}"));
            return Err(format!("the log was cut: {ends}, but entry {} was anchored at block {height}", head.seq));
        };
        if entry.hash != head.hash {
            let from = matched.map_or(first, |(_, m)| m.seq + 1);
            let before = if from > first {
                format!("entries {first} to {} match their anchors, so ", from - 1)
            } else {
                String::new()
            };
            return Err(format!(
                "the log was rewritten: entry {} is not the one anchored at block {height}; {before}the first \
                 rewritten entry is between {from} and {}",
                head.seq, head.seq
            ));
        }
        if matched.is_none_or(|(_, m)| head.seq >= m.seq) {
            matched = Some((height, head));
        }
    }
    Ok(AuditReport {
        entries: entries.len() as u64,
        anchors: anchors.len() as u64 - archived,
        archived,
        first,
        last_anchor: matched,
    })
}

/// Reads the log in `data/audit`, every segment present, oldest first
/// (chain unchecked: [`check`] does it).
pub fn read_entries(data: &Path) -> Result<Vec<AuditEntry>, String> {
    let dir = data.join("audit");
    let files = billflow_api::log_files(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut entries = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let entry = serde_json::from_str(line)
                .map_err(|e| format!("line {} of {} is not an entry: {e}", n + 1, path.display()))?;
            entries.push(entry);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use billflow_types::Hash32;

    use super::*;

    fn log(n: u64, salt: &str) -> Vec<AuditEntry> {
        let mut prev = Hash32::ZERO;
        (0..n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    time: "2026-12-04T10:00:00.000Z".into(),
                    request_id: format!("r{seq}{}", if seq >= 5 { salt } else { "" }),
                    subject: "anonymous".into(),
                    object: "/v1/health".into(),
                    action: "GET /v1/health".into(),
                    result: "200".into(),
                    prev,
                    hash: Hash32::ZERO,
                };
                e.hash = e.compute_hash();
                prev = e.hash;
                e
            })
            .collect()
    }

    #[test]
    fn a_rewritten_or_cut_log_no_longer_matches_its_anchors() {
        let original = log(10, "");
        let anchors: Vec<(u64, AuditHead)> = [(3, 2), (4, 4), (7, 6), (9, 9)]
            .iter()
            .map(|&(h, s)| (h, AuditHead { seq: s, hash: original[s as usize].hash }))
            .collect();
        let report = check(&original, &anchors).unwrap();
        assert_eq!((report.entries, report.anchors, report.last_anchor.map(|(h, _)| h)), (10, 4, Some(9)));

        // Entry 5 onwards rewritten and hashed again: the chain holds, the anchors do not.
        let rewritten = log(10, "-edited");
        let err = check(&rewritten, &anchors).unwrap_err();
        assert!(err.contains("entry 6 is not the one anchored at block 7") && err.contains("between 5 and 6"), "{err}");

        // Cut after entry 7.
        let err = check(&original[..8], &anchors).unwrap_err();
        assert!(err.contains("it ends at entry 7, but entry 9 was anchored at block 9"), "{err}");

        // The oldest entries archived: their anchors are passed over, the rest checked.
        let report = check(&original[5..], &anchors).unwrap();
        assert_eq!((report.first, report.archived, report.anchors), (5, 2, 2));

        // An edit without re-hashing breaks the chain itself.
        let mut edited = original.clone();
        edited[3].result = "500".into();
        assert!(check(&edited, &anchors).unwrap_err().contains("breaks at entry 3"));
    }
}
