use billflow_types::dev::dev_genesis;
use billflow_types::{
    Block, BlockHeader, ConsensusRef, Hash32, Receipt, SecretKey, StateChange, Tx, TxLocation, TxStatus, Version,
};

use super::*;
use crate::blockfile::StoredBlock;

fn tx(n: u64) -> billflow_types::SignedTx {
    Tx {
        chain_id: "c".parse().unwrap(),
        tx_id: format!("tx-{n}").parse().unwrap(),
        tenant: None,
        signer: "k".parse().unwrap(),
        contract: "system".parse().unwrap(),
        version: Version::new(1, 0, 0),
        method: "m".parse().unwrap(),
        args: n.to_le_bytes().to_vec(),
        timestamp_ms: n,
    }
    .sign(&SecretKey::from_seed([1; 32]))
}

fn stored(height: u64, prev: Hash32, txs: Vec<billflow_types::SignedTx>, changes: Vec<StateChange>) -> StoredBlock {
    let receipts = txs
        .iter()
        .map(|t| Receipt {
            tx_hash: t.hash(),
            tx_id: t.tx.tx_id.clone(),
            status: TxStatus::Success,
            failure: None,
            events: vec![],
            fuel_used: 1,
        })
        .collect();
    let header = BlockHeader {
        chain_id: "c".parse().unwrap(),
        height,
        prev_hash: prev,
        tx_root: Hash32::ZERO,
        receipts_root: Hash32::ZERO,
        state_hash: Hash32::of(billflow_types::Domain::StateChain, &height.to_le_bytes()),
        tx_count: txs.len() as u32,
        proposer: "n".parse().unwrap(),
        proposed_at_ms: height,
        consensus: ConsensusRef::default(),
        voters_hash: Hash32::ZERO,
    };
    StoredBlock {
        block: Block { header, txs },
        receipts,
        changes,
        genesis: (height == 0).then(dev_genesis),
        meta: vec![("applied".into(), height.to_le_bytes().to_vec())],
    }
}

fn change(key: &str, value: Option<&str>) -> StateChange {
    StateChange {
        contract: "system".parse().unwrap(),
        key: key.as_bytes().to_vec(),
        value: value.map(|v| v.as_bytes().to_vec()),
    }
}

/// A store with genesis and `n` more blocks of one transaction each.
fn chain_of(dir: &std::path::Path, n: u64) -> (Store, Vec<StoredBlock>) {
    let store = Store::open(dir).unwrap();
    let mut blocks = vec![stored(0, Hash32::ZERO, vec![], vec![change("a", Some("0"))])];
    store.commit_block(&blocks[0]).unwrap();
    for h in 1..=n {
        let prev = blocks.last().unwrap().block.header.hash();
        let b =
            stored(h, prev, vec![tx(h)], vec![change("a", Some(&h.to_string())), change(&format!("k{h}"), Some("v"))]);
        store.commit_block(&b).unwrap();
        blocks.push(b);
    }
    (store, blocks)
}

#[test]
fn committed_blocks_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 3);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let tip = store.tip().unwrap().unwrap();
    assert_eq!((tip.height, tip.hash), (3, blocks[3].block.header.hash()));
    assert_eq!(store.genesis().unwrap(), Some(dev_genesis()));
    for b in &blocks {
        let h = b.block.header.height;
        assert_eq!(store.stored_block(h).unwrap().as_ref(), Some(b));
        assert_eq!(store.height_of(&b.block.header.hash()).unwrap(), Some(h));
        assert_eq!(store.receipts(h).unwrap(), b.receipts);
    }
    let loc = store.tx_location(&"tx-2".parse().unwrap()).unwrap().unwrap();
    assert_eq!(loc, TxLocation { height: 2, index: 0 });
    assert_eq!(store.tx_receipt(&"tx-2".parse().unwrap()).unwrap(), Some((loc, blocks[2].receipts[0].clone())));
    let system = "system".parse().unwrap();
    assert_eq!(store.state_get(&system, b"a").unwrap(), Some(b"3".to_vec()));
    let range = store.state_range(&system, b"k", None, 10).unwrap();
    assert_eq!(range.iter().map(|(k, _)| k.as_slice()).collect::<Vec<_>>(), [b"k1", b"k2", b"k3"]);
    assert_eq!(store.state_range(&system, b"k2", Some(b"k3"), 10).unwrap().len(), 1);
    assert_eq!(store.state_entries().count(), 4);
    assert_eq!(store.meta("applied").unwrap(), Some(3u64.to_le_bytes().to_vec()));
}

#[test]
fn a_reader_sees_what_the_store_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut blocks) = chain_of(dir.path(), 1);
    let reader = store.reader();
    let next = stored(2, blocks[1].block.header.hash(), vec![tx(2)], vec![change("a", Some("2"))]);
    store.commit_block(&next).unwrap();
    store.put_attestation(2, "node-a", b"att").unwrap();
    blocks.push(next);
    for b in &blocks {
        let h = b.block.header.height;
        assert_eq!(reader.stored_block(h).unwrap().as_ref(), Some(b));
        assert_eq!(reader.block(h).unwrap().as_ref(), Some(&b.block));
        assert_eq!(reader.height_of(&b.block.header.hash()).unwrap(), Some(h));
        assert_eq!(reader.receipts(h).unwrap(), b.receipts);
    }
    assert_eq!(reader.tx_location(&"tx-2".parse().unwrap()).unwrap(), Some(TxLocation { height: 2, index: 0 }));
    assert_eq!(reader.attestations(2).unwrap(), [("node-a".to_string(), b"att".to_vec())]);
    assert_eq!(reader.state_get(&"system".parse().unwrap(), b"a").unwrap(), Some(b"2".to_vec()));
    assert_eq!(reader.block(3).unwrap(), None);
}

#[test]
fn the_consensus_log_is_appended_truncated_and_purged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let entries: Vec<(u64, Vec<u8>)> = (1..=10).map(|i| (i, vec![i as u8; 3])).collect();
    store.raft_append(&entries).unwrap();
    assert_eq!(store.raft_entries(3, 6).unwrap(), entries[2..5].to_vec());
    store.raft_truncate(8).unwrap();
    assert_eq!(store.raft_last().unwrap(), Some((7, vec![7; 3])));
    store.raft_purge(4, b"p4").unwrap();
    assert_eq!(store.raft_entries(0, 100).unwrap(), entries[4..7].to_vec());
    store.put_raft_value(RaftValue::Vote, b"v").unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.raft_value(RaftValue::Vote).unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.raft_value(RaftValue::Purged).unwrap(), Some(b"p4".to_vec()));
    assert_eq!(store.raft_last().unwrap().map(|(i, _)| i), Some(7));
}

#[test]
fn the_consensus_log_cuts_a_torn_append_refuses_a_gap_and_reports_a_bad_entry() {
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<(u64, Vec<u8>)> = (1..=5).map(|i| (i, vec![i as u8; 40])).collect();
    {
        let store = Store::open(dir.path()).unwrap();
        store.raft_append(&entries[..3]).unwrap();
        store.raft_append(&entries[3..]).unwrap();
        // Not the next index: refused, nothing written.
        assert!(store.raft_append(&[(9, vec![9])]).is_err());
        assert!(store.raft_append(&[(6, vec![6]), (8, vec![8])]).is_err());
        assert_eq!(store.raft_last().unwrap().map(|(i, _)| i), Some(5));
    }
    let wal = dir.path().join("raft/log-000000.wal");
    let whole = std::fs::read(&wal).unwrap();
    // A crash in the middle of the last append: the torn entry is cut off.
    std::fs::write(&wal, &whole[..whole.len() - 7]).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.raft_entries(0, 100).unwrap(), entries[..4].to_vec());
    store.raft_append(&entries[4..]).unwrap();
    assert_eq!(store.raft_entries(0, 100).unwrap(), entries);
    drop(store);

    // A changed byte in an entry that is not the last one of the newest
    // file is corruption once a later file exists.
    let frame = 20 + 40;
    let mut bad = std::fs::read(&wal).unwrap();
    bad[frame + 30] ^= 1;
    std::fs::write(&wal, &bad).unwrap();
    std::fs::write(dir.path().join("raft/log-000001.wal"), b"").unwrap();
    let err = Store::open(dir.path()).map(|_| ()).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[test]
fn the_committed_hint_is_written_at_most_once_a_second_and_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("raft/committed");
    let store = Store::open(dir.path()).unwrap();
    store.put_raft_value(RaftValue::Committed, b"c1").unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"c1", "the first one is written at once");
    for c in [b"c2", b"c3"] {
        store.put_raft_value(RaftValue::Committed, c).unwrap();
    }
    assert_eq!(store.raft_value(RaftValue::Committed).unwrap(), Some(b"c3".to_vec()), "read from memory");
    assert_eq!(std::fs::read(&file).unwrap(), b"c1", "the newer ones wait");
    drop(store);
    assert_eq!(std::fs::read(&file).unwrap(), b"c3", "and reach the file on close");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.raft_value(RaftValue::Committed).unwrap(), Some(b"c3".to_vec()));
}

#[test]
fn purging_the_consensus_log_deletes_files_that_hold_only_purged_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Entries of 5 MiB: a file fills after 13 of them.
    let big = vec![7u8; 5 << 20];
    for i in 1..=30 {
        store.raft_append(&[(i, big.clone())]).unwrap();
    }
    let files = || {
        std::fs::read_dir(dir.path().join("raft"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".wal"))
            .count()
    };
    assert_eq!(files(), 3);
    store.raft_purge(20, b"p20").unwrap();
    assert_eq!(files(), 2, "the first file held entries 1 to 13 only");
    assert_eq!(store.raft_entries(0, 100).unwrap().first().map(|(i, _)| *i), Some(21));
    store.raft_truncate(25).unwrap();
    assert_eq!(files(), 1, "entries 25 on were in the third file and its predecessor's end");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let kept: Vec<u64> = store.raft_entries(0, 100).unwrap().into_iter().map(|(i, _)| i).collect();
    assert_eq!(kept, (21..=24).collect::<Vec<_>>());
    assert_eq!(store.raft_value(RaftValue::Purged).unwrap(), Some(b"p20".to_vec()));
    store.raft_append(&[(25, vec![1])]).unwrap();
}

#[test]
fn a_consensus_log_kept_in_sled_moves_to_its_own_files() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path().join("index")).unwrap();
        let raft = db.open_tree("raft").unwrap();
        for i in 4..=6u64 {
            raft.insert([b"e:".as_slice(), &i.to_be_bytes()].concat(), vec![i as u8]).unwrap();
        }
        raft.insert(b"vote", b"v".as_slice()).unwrap();
        raft.insert(b"purged", b"p3".as_slice()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.raft_entries(0, 100).unwrap(), vec![(4, vec![4]), (5, vec![5]), (6, vec![6])]);
    assert_eq!(store.raft_value(RaftValue::Vote).unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.raft_value(RaftValue::Purged).unwrap(), Some(b"p3".to_vec()));
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.raft_last().unwrap(), Some((6, vec![6])));
}

/// Every key and value the index holds, in key order.
fn every_entry(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.ledger.scan_prefix(b"").map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec()))).collect::<Result<_>>().unwrap()
}

#[test]
fn an_index_kept_in_sled_moves_to_the_new_index_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 3);
    store.put_attestation(2, "n1", b"attested").unwrap();
    store.put_meta(&[("node".into(), b"n1".to_vec())]).unwrap();
    let entries = every_entry(&store);
    drop(store);
    // The layout before: the same keys in sled's `ledger` tree under `index`.
    std::fs::remove_dir_all(dir.path().join("kv")).unwrap();
    {
        let db = sled::open(dir.path().join("index")).unwrap();
        let ledger = db.open_tree("ledger").unwrap();
        for (k, v) in &entries {
            ledger.insert(k.as_slice(), v.as_slice()).unwrap();
        }
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(!dir.path().join("index").exists(), "sled's directory is removed once moved");
    let moved = every_entry(&store);
    assert_eq!(moved, entries);
    assert_eq!(store.tip().unwrap().unwrap().height, 3);
    assert_eq!(store.attestations(2).unwrap(), vec![("n1".to_string(), b"attested".to_vec())]);
    assert_eq!(store.meta("node").unwrap(), Some(b"n1".to_vec()));
    let next = stored(4, blocks[3].block.header.hash(), vec![tx(4)], vec![]);
    store.commit_block(&next).unwrap();
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().tip().unwrap().unwrap().height, 4);
}

#[test]
fn a_block_that_does_not_extend_the_tip_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 2);
    let tip = store.tip().unwrap();
    let gap = stored(4, blocks[2].block.header.hash(), vec![tx(9)], vec![change("x", Some("1"))]);
    assert!(matches!(store.commit_block(&gap), Err(StorageError::NotNext { height: 4, .. })));
    let fork = stored(3, Hash32::ZERO, vec![tx(9)], vec![change("x", Some("1"))]);
    assert!(matches!(store.commit_block(&fork), Err(StorageError::NotNext { height: 3, .. })));
    let mut no_receipts = stored(3, blocks[2].block.header.hash(), vec![tx(9)], vec![]);
    no_receipts.receipts.clear();
    assert!(matches!(store.commit_block(&no_receipts), Err(StorageError::NotNext { .. })));
    assert_eq!(store.tip().unwrap(), tip);
    assert_eq!(store.tx_location(&"tx-9".parse().unwrap()).unwrap(), None);
    assert_eq!(store.state_get(&"system".parse().unwrap(), b"x").unwrap(), None);
    // The refused attempts left nothing in the block files either.
    let next = stored(3, blocks[2].block.header.hash(), vec![tx(3)], vec![]);
    store.commit_block(&next).unwrap();
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().tip().unwrap().unwrap().height, 3);
}

#[test]
fn a_block_in_the_files_but_not_the_index_is_indexed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 2);
    // The crash window: the record is synced, the sled batch never happened.
    let b3 = stored(3, blocks[2].block.header.hash(), vec![tx(3)], vec![change("a", Some("3"))]);
    store.files.lock().unwrap().append(3, &b3.encode()).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tip().unwrap().unwrap().hash, b3.block.header.hash());
    assert_eq!(store.tx_location(&"tx-3".parse().unwrap()).unwrap(), Some(TxLocation { height: 3, index: 0 }));
    assert_eq!(store.state_get(&"system".parse().unwrap(), b"a").unwrap(), Some(b"3".to_vec()));
}

#[test]
fn a_run_of_blocks_is_committed_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 1);
    let b2 = stored(2, blocks[1].block.header.hash(), vec![tx(2)], vec![change("a", Some("2"))]);
    let b3 = stored(3, b2.block.header.hash(), vec![tx(3)], vec![change("a", Some("3"))]);
    let stray = stored(4, Hash32::ZERO, vec![tx(4)], vec![change("a", Some("4"))]);
    // A run with a block that does not extend the one before it writes nothing.
    assert!(matches!(store.commit_blocks(&[&b2, &b3, &stray]), Err(StorageError::NotNext { height: 4, .. })));
    assert_eq!(store.tip().unwrap().unwrap().height, 1);
    assert_eq!(store.tx_location(&"tx-2".parse().unwrap()).unwrap(), None);
    let tip = store.commit_blocks(&[&b2, &b3]).unwrap().unwrap();
    assert_eq!((tip.height, tip.hash), (3, b3.block.header.hash()));
    assert_eq!(store.commit_blocks(&[]).unwrap(), None);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tip().unwrap(), Some(tip));
    assert_eq!(store.stored_block(2).unwrap(), Some(b2));
    assert_eq!(store.meta("applied").unwrap(), Some(3u64.to_le_bytes().to_vec()));
    assert_eq!(store.state_get(&"system".parse().unwrap(), b"a").unwrap(), Some(b"3".to_vec()));
}

#[test]
fn a_run_of_large_blocks_is_indexed_in_several_batches_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 1);
    // Three blocks of 1,500 transactions and as many state changes: more
    // keys than one index batch holds.
    let mut prev = blocks[1].block.header.hash();
    let mut run = Vec::new();
    for h in 2..=4u64 {
        let txs: Vec<_> = (0..1_500).map(|i| tx(h * 10_000 + i)).collect();
        let changes = (0..1_500).map(|i| change(&format!("k{h}-{i}"), Some("v"))).collect();
        let b = stored(h, prev, txs, changes);
        prev = b.block.header.hash();
        run.push(b);
    }
    let keys: usize = run.iter().map(|b| 3 + b.block.txs.len() + b.changes.len()).sum();
    assert!(keys > 2 * BATCH_KEYS);
    let tip = store.commit_blocks(&run.iter().collect::<Vec<_>>()).unwrap().unwrap();
    assert_eq!((tip.height, tip.hash), (4, prev));
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tip().unwrap(), Some(tip));
    assert_eq!(store.meta("applied").unwrap(), Some(4u64.to_le_bytes().to_vec()));
    for b in &run {
        let h = b.block.header.height;
        for (index, t) in b.block.txs.iter().enumerate() {
            let loc = TxLocation { height: h, index: index as u32 };
            assert_eq!(store.tx_location(&t.tx.tx_id).unwrap(), Some(loc));
        }
        let last = format!("k{h}-1499");
        assert_eq!(store.state_get(&"system".parse().unwrap(), last.as_bytes()).unwrap(), Some(b"v".to_vec()));
        assert_eq!(store.stored_block_bytes(h).unwrap(), Some(b.encode()));
    }
}

#[test]
fn a_run_in_the_files_but_not_the_index_is_indexed_on_open_with_its_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 1);
    let b2 = stored(2, blocks[1].block.header.hash(), vec![tx(2)], vec![change("a", Some("2"))]);
    let b3 = stored(3, b2.block.header.hash(), vec![tx(3)], vec![change("a", Some("3"))]);
    // The crash window of a run: the records are synced, no sled batch was written.
    {
        let mut files = store.files.lock().unwrap();
        files.write(2, &b2.encode()).unwrap();
        files.write(3, &b3.encode()).unwrap();
        files.sync().unwrap();
    }
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tip().unwrap().unwrap().hash, b3.block.header.hash());
    assert_eq!(store.meta("applied").unwrap(), Some(3u64.to_le_bytes().to_vec()));
    assert_eq!(store.tx_location(&"tx-2".parse().unwrap()).unwrap(), Some(TxLocation { height: 2, index: 0 }));
}

#[test]
fn blocks_written_unsynced_are_durable_after_sync_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 1);
    let b2 = stored(2, blocks[1].block.header.hash(), vec![tx(2)], vec![change("a", Some("2"))]);
    let tip = store.write_blocks(&[&b2]).unwrap().unwrap();
    assert!(store.files.lock().unwrap().unsynced);
    // Written and indexed before the sync: readable at once.
    assert_eq!(store.tx_location(&"tx-2".parse().unwrap()).unwrap(), Some(TxLocation { height: 2, index: 0 }));
    store.sync_blocks().unwrap();
    assert!(!store.files.lock().unwrap().unsynced);
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().tip().unwrap(), Some(tip));
}

#[test]
fn an_index_ahead_of_the_block_files_is_rebuilt_from_them_keeping_what_no_block_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 2);
    store.put_attestation(1, "n1", b"attested").unwrap();
    store.put_meta(&[("node".into(), b"n1".to_vec())]).unwrap();
    let file = dir.path().join("blocks").join("seg-000000.blk");
    let two_blocks = std::fs::metadata(&file).unwrap().len();
    // Block 3 written unsynced, and the index written out with it.
    let b3 =
        stored(3, blocks[2].block.header.hash(), vec![tx(3)], vec![change("a", Some("3")), change("k3", Some("v"))]);
    store.write_blocks(&[&b3]).unwrap();
    store.ledger.flush().unwrap();
    drop(store);
    // The crash takes block 3's unsynced record, and tears the one after it.
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(two_blocks + 7).unwrap();
    drop(f);

    let store = Store::open(dir.path()).unwrap();
    let tip = store.tip().unwrap().unwrap();
    assert_eq!((tip.height, tip.hash), (2, blocks[2].block.header.hash()));
    let system = "system".parse().unwrap();
    assert_eq!(store.state_get(&system, b"a").unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.state_get(&system, b"k3").unwrap(), None);
    assert_eq!(store.state_get(&system, b"k2").unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.tx_location(&"tx-3".parse().unwrap()).unwrap(), None);
    assert_eq!(store.tx_location(&"tx-1".parse().unwrap()).unwrap(), Some(TxLocation { height: 1, index: 0 }));
    assert_eq!(store.block(3).unwrap(), None);
    assert_eq!(store.height_of(&b3.block.header.hash()).unwrap(), None);
    // The block metadata is block 2's; the rest is kept.
    assert_eq!(store.meta("applied").unwrap(), Some(2u64.to_le_bytes().to_vec()));
    assert_eq!(store.meta("node").unwrap(), Some(b"n1".to_vec()));
    assert_eq!(store.attestations(1).unwrap(), vec![("n1".to_string(), b"attested".to_vec())]);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), two_blocks);
    // Block 3 is applied again, from the consensus log in a node.
    assert_eq!(store.commit_block(&b3).unwrap().height, 3);
    assert_eq!(store.state_get(&system, b"k3").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn a_torn_record_at_the_end_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 2);
    drop(store);
    let file = dir.path().join("blocks").join("seg-000000.blk");
    let good_len = std::fs::metadata(&file).unwrap().len();
    // Half of a record's frame, as a crash mid-append leaves it.
    let b3 = stored(3, blocks[2].block.header.hash(), vec![tx(3)], vec![]);
    let mut frame = b"BFB1".to_vec();
    frame.extend_from_slice(&3u64.to_le_bytes());
    frame.extend_from_slice(&(b3.encode().len() as u32).to_le_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(&b3.encode()[..10]);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(&frame);
    std::fs::write(&file, bytes).unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.tip().unwrap().unwrap().height, 2);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), good_len);
    store.commit_block(&b3).unwrap();
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().stored_block(3).unwrap(), Some(b3));
}

#[test]
fn a_corrupt_record_is_reported_with_its_height() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 3);
    // The index is written out in the background; flush it as the next
    // consensus write would, so that block 2 is indexed and read, not
    // re-indexed when the store opens.
    store.put_meta(&[]).unwrap();
    drop(store);
    let file = dir.path().join("blocks").join("seg-000000.blk");
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.windows(4).position(|w| w == b"tx-2").unwrap();
    bytes[at] ^= 0x20;
    std::fs::write(&file, bytes).unwrap();
    let store = Store::open(dir.path()).unwrap();
    match store.stored_block(2) {
        Err(StorageError::Corrupt { what, reason }) => {
            assert_eq!(what, "block 2");
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(store.stored_block(3).unwrap().as_ref(), Some(&blocks[3]));
}

/// A block of several transactions whose receipts differ in length.
fn block_of_several(height: u64, prev: Hash32) -> StoredBlock {
    let mut b = stored(height, prev, (100 * height..100 * height + 5).map(tx).collect(), vec![]);
    for (i, r) in b.receipts.iter_mut().enumerate() {
        r.fuel_used = 10 + i as u64;
        r.events = (0..i)
            .map(|e| billflow_types::Event {
                contract: "system".parse().unwrap(),
                topic: format!("topic-{e}"),
                data: vec![e as u8; 7 * i],
            })
            .collect();
    }
    b
}

#[test]
fn each_receipt_is_read_from_the_block_files_where_the_index_says() {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut blocks) = chain_of(dir.path(), 2);
    for h in 3..=4 {
        blocks.push(block_of_several(h, blocks.last().unwrap().block.header.hash()));
    }
    store.commit_blocks(&[&blocks[3], &blocks[4]]).unwrap();
    let check = |store: &Store| {
        for b in &blocks {
            for (index, (t, r)) in b.block.txs.iter().zip(&b.receipts).enumerate() {
                let want = TxLocation { height: b.block.header.height, index: index as u32 };
                assert_eq!(store.tx_receipt(&t.tx.tx_id).unwrap(), Some((want, r.clone())));
            }
        }
    };
    check(&store);
    assert!(store.ledger.scan_prefix(keys::OLD_RECEIPT_PREFIX).next().is_none(), "no receipt is kept in the index");
    drop(store);
    check(&Store::open(dir.path()).unwrap());
}

#[test]
fn one_transaction_is_read_from_its_block_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut blocks) = chain_of(dir.path(), 2);
    blocks.push(block_of_several(3, blocks.last().unwrap().block.header.hash()));
    store.commit_blocks(&[&blocks[3]]).unwrap();
    for b in &blocks {
        let height = b.block.header.height;
        for (index, t) in b.block.txs.iter().enumerate() {
            let (header, read) = store.tx_at(TxLocation { height, index: index as u32 }).unwrap().unwrap();
            assert_eq!((&header, &read), (&b.block.header, t));
        }
        let past = TxLocation { height, index: b.block.txs.len() as u32 };
        assert_eq!(store.tx_at(past).unwrap(), None, "no transaction past the block's last");
    }
    assert_eq!(store.tx_at(TxLocation { height: 4, index: 0 }).unwrap(), None, "no block above the tip");
}

#[test]
fn a_receipt_that_does_not_match_its_checksum_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = chain_of(dir.path(), 2);
    let id: TxId = "tx-2".parse().unwrap();
    let mut entry = store.tx_entry(&id).unwrap().unwrap();
    entry.receipt.offset -= 1;
    store.ledger.insert(&keys::tx(&id), &entry.encode()).unwrap();
    match store.tx_receipt(&id) {
        Err(StorageError::Corrupt { what, reason }) => {
            assert!(what.contains("tx-2") && reason.contains("checksum"), "{what}: {reason}")
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert!(store.tx_receipt(&"tx-1".parse().unwrap()).unwrap().is_some(), "other receipts still read");
}

#[test]
fn a_store_that_kept_receipts_in_the_index_moves_them_to_the_block_files_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut blocks) = chain_of(dir.path(), 2);
    blocks.push(block_of_several(3, blocks.last().unwrap().block.header.hash()));
    store.commit_block(&blocks[3]).unwrap();
    // The old layout: `t:` holds only the location, `r:` a copy of each receipt.
    for b in &blocks {
        for (index, (t, r)) in b.block.txs.iter().zip(&b.receipts).enumerate() {
            let loc = TxLocation { height: b.block.header.height, index: index as u32 };
            store.ledger.insert(&keys::tx(&t.tx.tx_id), &loc.encode()).unwrap();
            store.ledger.insert(&keys::old_receipt(loc), &r.encode()).unwrap();
        }
    }
    store.ledger.flush().unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.ledger.scan_prefix(keys::OLD_RECEIPT_PREFIX).next().is_none(), "the copies are removed");
    for b in &blocks {
        for (index, (t, r)) in b.block.txs.iter().zip(&b.receipts).enumerate() {
            let want = TxLocation { height: b.block.header.height, index: index as u32 };
            assert_eq!(store.tx_receipt(&t.tx.tx_id).unwrap(), Some((want, r.clone())));
        }
    }
    let next = stored(4, blocks[3].block.header.hash(), vec![tx(4)], vec![]);
    store.commit_block(&next).unwrap();
    assert_eq!(store.tx_receipt(&"tx-4".parse().unwrap()).unwrap().unwrap().1, next.receipts[0]);
}

#[test]
fn lookups_answer_the_same_once_the_stored_ids_are_in_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 3);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !store.seen.is_filled() {
        assert!(std::time::Instant::now() < deadline, "the filter was not filled within 30 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let system: ContractName = "system".parse().unwrap();
    // Recorded before the open: read into the filter by its thread. State
    // reads do not use the filter and answer as ever.
    for h in 1..=3u64 {
        assert!(store.tx_location(&format!("tx-{h}").parse().unwrap()).unwrap().is_some());
        assert_eq!(store.state_get(&system, format!("k{h}").as_bytes()).unwrap(), Some(b"v".to_vec()));
    }
    assert_eq!(store.state_get(&system, b"a").unwrap(), Some(b"3".to_vec()));
    // Never recorded.
    assert!(store.tx_location(&"tx-9".parse().unwrap()).unwrap().is_none());
    assert_eq!(store.state_get(&system, b"k9").unwrap(), None);
    // Recorded after the open, a state key written and one removed.
    let b4 = stored(4, blocks[3].block.header.hash(), vec![tx(4)], vec![change("k9", Some("new")), change("k1", None)]);
    store.commit_block(&b4).unwrap();
    assert!(store.tx_location(&"tx-4".parse().unwrap()).unwrap().is_some());
    assert_eq!(store.state_get(&system, b"k9").unwrap(), Some(b"new".to_vec()));
    assert_eq!(store.state_get(&system, b"k1").unwrap(), None);
}

#[test]
fn the_system_generation_grows_with_system_changes_only() {
    let dir = tempfile::tempdir().unwrap();
    let (store, blocks) = chain_of(dir.path(), 2);
    let before = store.system_generation();
    let other = |key: &str| StateChange {
        contract: "evidence".parse().unwrap(),
        key: key.as_bytes().to_vec(),
        value: Some(b"v".to_vec()),
    };
    let b3 = stored(3, blocks[2].block.header.hash(), vec![tx(3)], vec![other("e3")]);
    store.commit_block(&b3).unwrap();
    assert_eq!(store.system_generation(), before, "a contract's own state is not the system's");
    let b4 = stored(4, b3.block.header.hash(), vec![tx(4)], vec![other("e4"), change("node/x", None)]);
    store.write_blocks(&[&b4]).unwrap();
    assert!(store.system_generation() > before);
}
