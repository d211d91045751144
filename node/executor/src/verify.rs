//! `verify`: replays a stored chain from its genesis through the apply path and
//! checks every stored byte against the replay: hash links, Merkle roots,
//! receipts, the transaction index, the state-change chain, the final state,
//! and the nodes' attestations of the blocks. The first difference is
//! reported with the height it belongs to.

use std::collections::BTreeMap;

use billflow_storage::{StorageError, Store};
use billflow_types::{BlockProposal, ChainTip, ContractName, Hash32, TxLocation};

use crate::{Executor, LedgerRead, MemoryLedger, genesis_block};

/// What `verify` found wrong.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The chain differs from its replay at `height`.
    #[error("height {height}: {what}")]
    Mismatch {
        /// The block the difference belongs to.
        height: u64,
        /// What differs.
        what: String,
    },
    /// The store is empty or its chain metadata is unreadable.
    #[error("{0}")]
    Chain(String),
}

/// A summary of a chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The verified tip.
    pub tip: ChainTip,
    /// Transactions replayed.
    pub transactions: u64,
    /// State entries compared.
    pub state_entries: u64,
    /// Attestations checked.
    pub attestations: u64,
}

fn at(height: u64) -> impl Fn(String) -> VerifyError {
    move |what| VerifyError::Mismatch { height, what }
}

fn storage(height: u64) -> impl Fn(StorageError) -> VerifyError {
    move |e| VerifyError::Mismatch { height, what: e.to_string() }
}

/// Verifies the whole chain in `store`.
pub fn verify(store: &Store) -> Result<VerifyReport, VerifyError> {
    let genesis = store
        .genesis()
        .map_err(storage(0))?
        .ok_or_else(|| VerifyError::Chain("the store holds no chain (no genesis)".into()))?;
    genesis.verify_signatures().map_err(|e| at(0)(format!("stored genesis: {e}")))?;
    let tip = store.tip().map_err(|e| VerifyError::Chain(format!("chain tip unreadable: {e}")))?;
    let tip = tip.ok_or_else(|| VerifyError::Chain("the store holds no chain tip".into()))?;
    let executor = Executor::new(&genesis).map_err(|e| VerifyError::Chain(e.to_string()))?;

    let (block0, changes0) = genesis_block(&genesis);
    let stored0 = store.stored_block(0).map_err(storage(0))?.ok_or_else(|| at(0)("genesis block missing".into()))?;
    if stored0.block != block0 || stored0.changes != changes0 || stored0.genesis.as_ref() != Some(&genesis) {
        return Err(at(0)("stored genesis block differs from the one the genesis document defines".into()));
    }
    // Shared with contract calls during a block; sole owner between blocks.
    let mut ledger = std::sync::Arc::new(MemoryLedger::default());
    std::sync::Arc::make_mut(&mut ledger).apply(&changes0);
    let mut last_writer: BTreeMap<(ContractName, Vec<u8>), u64> = BTreeMap::new();
    for c in &changes0 {
        last_writer.insert((c.contract.clone(), c.key.clone()), 0);
    }
    let mut replay_tip = ChainTip {
        height: 0,
        hash: block0.header.hash(),
        state_hash: block0.header.state_hash,
        time_ms: block0.header.proposed_at_ms,
    };
    check_index(store, 0, &replay_tip)?;
    let mut transactions = 0u64;
    let mut hashes = vec![replay_tip.hash];

    for height in 1..=tip.height {
        let fail = at(height);
        let record =
            store.stored_block(height).map_err(storage(height))?.ok_or_else(|| fail("block missing".into()))?;
        let stored = &record.block;
        let h = &stored.header;
        if h.height != height {
            return Err(fail(format!("block stored at this height says height {}", h.height)));
        }
        if h.prev_hash != replay_tip.hash {
            return Err(fail(format!(
                "previous hash {} but block {} hashes to {}",
                h.prev_hash,
                height - 1,
                replay_tip.hash
            )));
        }
        if stored.compute_tx_root() != h.tx_root {
            return Err(fail("transaction Merkle root does not match the transactions".into()));
        }
        let proposal =
            BlockProposal { proposer: h.proposer.clone(), proposed_at_ms: h.proposed_at_ms, txs: stored.txs.clone() };
        let shared: crate::SharedLedger = ledger.clone();
        let executed =
            executor.execute(&shared, &replay_tip, &proposal, h.consensus).map_err(|e| fail(e.to_string()))?;
        drop(shared);
        if let Some(r) = executed.rejected.first() {
            return Err(fail(format!("transaction {} would be refused: {}", r.tx_id, r.reason)));
        }
        let Some(replayed) = executed.block else {
            return Err(fail("block holds no transaction".into()));
        };
        if replayed.receipts != record.receipts {
            return Err(fail("receipts in the block file differ from the replay".into()));
        }
        if replayed.changes != record.changes {
            return Err(fail("state changes in the block file differ from the replay".into()));
        }
        let replayed = replayed.block;
        if replayed.header.receipts_root != h.receipts_root {
            return Err(fail("receipts root differs from the replay".into()));
        }
        if replayed.header.state_hash != h.state_hash {
            return Err(fail("state-change hash differs from the replay".into()));
        }
        if replayed.header != *h {
            return Err(fail("header differs from the replay".into()));
        }
        for (index, (tx, receipt)) in stored.txs.iter().zip(&record.receipts).enumerate() {
            let want = TxLocation { height, index: index as u32 };
            let indexed = store.tx_receipt(&tx.tx.tx_id).map_err(storage(height))?;
            let got = indexed.as_ref().map(|(loc, _)| *loc);
            if got != Some(want) {
                return Err(fail(format!("transaction index for {} is {got:?}, expected {want:?}", tx.tx.tx_id)));
            }
            if indexed.as_ref().map(|(_, r)| r) != Some(receipt) {
                return Err(fail(format!("the receipt the index names for {} is not the block's", tx.tx.tx_id)));
            }
            std::sync::Arc::make_mut(&mut ledger).txs.insert(tx.tx.tx_id.clone());
        }
        transactions += stored.txs.len() as u64;
        std::sync::Arc::make_mut(&mut ledger).apply(&record.changes);
        for c in &record.changes {
            last_writer.insert((c.contract.clone(), c.key.clone()), height);
        }
        replay_tip = ChainTip { height, hash: h.hash(), state_hash: h.state_hash, time_ms: h.proposed_at_ms };
        check_index(store, height, &replay_tip)?;
        hashes.push(replay_tip.hash);
    }
    if replay_tip != tip {
        return Err(at(tip.height)("stored chain tip differs from the replayed chain".into()));
    }
    if store.block(tip.height + 1).map_err(storage(tip.height + 1))?.is_some() {
        return Err(at(tip.height + 1)("a block is stored above the chain tip".into()));
    }
    let state_entries = compare_state(store, &ledger, &last_writer, tip.height)?;
    let attestations = check_attestations(store, &ledger, &hashes)?;
    Ok(VerifyReport { tip, transactions, state_entries, attestations })
}

/// Checks the attestations stored for every block of the chain (`hashes[h]`
/// is block `h`'s hash): each is the signature, by the node it is stored
/// under, of that block's height and hash; the node is one the ledger lists
/// (its key never changes) and was not revoked at or before that height.
/// Attestations above the tip (received before their block) are not checked.
fn check_attestations(store: &Store, ledger: &MemoryLedger, hashes: &[Hash32]) -> Result<u64, VerifyError> {
    use billflow_types::system::{NodeRecord, NodeStatus, RecordKind, state_key, system_contract};
    use billflow_types::{Attestation, Canonical};

    let mut nodes: BTreeMap<String, Option<NodeRecord>> = BTreeMap::new();
    let mut checked = 0;
    for (height, hash) in (0u64..).zip(hashes) {
        let fail = at(height);
        for (name, bytes) in store.attestations(height).map_err(storage(height))? {
            let att = Attestation::decode(&bytes)
                .map_err(|e| fail(format!("the attestation stored for node {name} does not decode: {e}")))?;
            if att.height != height || att.node.as_str() != name {
                return Err(fail(format!(
                    "the attestation stored for node {name} names node {} at height {}",
                    att.node, att.height
                )));
            }
            if att.block_hash != *hash {
                return Err(fail(format!("the attestation by node {name} is of another block ({})", att.block_hash)));
            }
            if !nodes.contains_key(&name) {
                let record = ledger
                    .state_get(&system_contract(), &state_key(RecordKind::Node, &name))
                    .map_err(storage(height))?
                    .map(|v| NodeRecord::decode(&v))
                    .transpose()
                    .map_err(|e| fail(format!("the ledger's record of node {name} does not decode: {e}")))?;
                nodes.insert(name.clone(), record);
            }
            let Some(Some(node)) = nodes.get(&name) else {
                return Err(fail(format!("an attestation is stored for node {name}, which the ledger does not list")));
            };
            if let NodeStatus::Revoked { at_height, .. } = node.status {
                if at_height <= height {
                    return Err(fail(format!("node {name} attested this block but was revoked at height {at_height}")));
                }
            }
            if att.verify(&node.public_key).is_err() {
                return Err(fail(format!("the attestation by node {name} does not verify under its key")));
            }
            checked += 1;
        }
    }
    Ok(checked)
}

fn check_index(store: &Store, height: u64, tip: &ChainTip) -> Result<(), VerifyError> {
    match store.height_of(&tip.hash).map_err(storage(height))? {
        Some(h) if h == height => Ok(()),
        other => Err(at(height)(format!("block hash index points to {other:?}"))),
    }
}

/// Compares the stored state with the replayed one, key by key in order.
fn compare_state(
    store: &Store,
    ledger: &MemoryLedger,
    last_writer: &BTreeMap<(ContractName, Vec<u8>), u64>,
    tip_height: u64,
) -> Result<u64, VerifyError> {
    let mut expected = ledger.state.iter();
    let mut count = 0u64;
    let describe = |c: &ContractName, k: &[u8]| format!("state {c}/{}", String::from_utf8_lossy(k));
    let writer = |c: &ContractName, k: &[u8]| last_writer.get(&(c.clone(), k.to_vec())).copied().unwrap_or(tip_height);
    for entry in store.state_entries() {
        let entry = entry.map_err(storage(tip_height))?;
        count += 1;
        match expected.next() {
            Some(((c, k), v)) if *c == entry.contract && *k == entry.key => {
                if *v != entry.value {
                    return Err(at(writer(c, k))(format!("{} holds a value the chain never wrote", describe(c, k))));
                }
            }
            Some(((c, k), _)) if (c, k) < (&entry.contract, &entry.key) => {
                return Err(at(writer(c, k))(format!("{} is missing from the store", describe(c, k))));
            }
            _ => {
                return Err(at(writer(&entry.contract, &entry.key))(format!(
                    "{} is stored but no block wrote it",
                    describe(&entry.contract, &entry.key)
                )));
            }
        }
    }
    if let Some(((c, k), _)) = expected.next() {
        return Err(at(writer(c, k))(format!("{} is missing from the store", describe(c, k))));
    }
    Ok(count)
}
