//! [`Store`]: reads and the atomic block commit.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use billflow_types::{
    Block, BlockHeader, Canonical, ChainTip, ContractName, Genesis, Hash32, Receipt, SignedTx, TxId, TxLocation,
};

use crate::blockfile::{self, BlockFiles, BlockPos, ReceiptSpan, StoredBlock, Unindexed};
use crate::index::{Batch, Index};
use crate::raftlog::RaftLog;
use crate::seen::SeenIds;
use crate::{Result, StorageError, keys};

/// A single consensus value kept beside the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaftValue {
    /// The vote.
    Vote,
    /// The last known committed log id.
    Committed,
    /// The last purged log id.
    Purged,
}

impl RaftValue {
    /// The value's file in the consensus log's directory.
    fn name(self) -> &'static str {
        match self {
            RaftValue::Vote => "vote",
            RaftValue::Committed => "committed",
            RaftValue::Purged => "purged",
        }
    }
}

/// One stored state value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateEntry {
    /// The owning contract.
    pub contract: ContractName,
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// A transaction index entry (`t:`): where the transaction is, and where its
/// receipt's bytes are in the block files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
struct TxEntry {
    loc: TxLocation,
    receipt: ReceiptSpan,
}

/// The ledger store of one node: block files plus an index and state.
#[derive(Clone)]
pub struct Store {
    ledger: Index,
    raft: Arc<RaftLog>,
    blocks_dir: PathBuf,
    /// The block files open for reading.
    readers: Arc<blockfile::Readers>,
    root: PathBuf,
    /// Held for the whole of a commit, so commits are serialised.
    files: Arc<Mutex<BlockFiles>>,
    /// The transaction ids indexed, so that looking up a new one reads nothing.
    seen: Arc<SeenIds>,
    /// Counts the commits that changed the system contract's state.
    system_changes: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn decode<T: Canonical>(what: impl FnOnce() -> String, bytes: &[u8]) -> Result<T> {
    T::decode(bytes).map_err(|e| StorageError::corrupt(what(), e))
}

/// The keys after which [`Store::commit_blocks`] closes an index batch.
const BATCH_KEYS: usize = 4096;

impl Store {
    /// Opens (or creates) the store in directory `path`: block files under
    /// `path/blocks`, the index under `path/kv`, the Raft log under
    /// `path/raft`. Blocks that reached the block files but not the index
    /// before a crash are indexed now. A store whose index is still in sled
    /// (`path/index`) has it moved first.
    pub fn open(path: &Path) -> Result<Store> {
        let ledger = Index::open(&index_dir(path))?;
        crate::legacy::move_from_sled(path, &ledger, &path.join("raft"))?;
        let raft = Arc::new(RaftLog::open(&path.join("raft"))?);
        let blocks_dir = path.join("blocks");
        let mut tip: Option<ChainTip> = get(&ledger, keys::TIP, || "chain tip".into())?;
        if let Some(t) = tip
            && let Some(pos) =
                get::<BlockPos>(&ledger, &keys::block(t.height), || format!("position of block {}", t.height))?
            && !blockfile::reach(&blocks_dir, pos)?
        {
            rebuild_index(&ledger, &blocks_dir, t.height)?;
            tip = get(&ledger, keys::TIP, || "chain tip".into())?;
        }
        let last = match &tip {
            Some(t) => Some(
                get::<BlockPos>(&ledger, &keys::block(t.height), || format!("position of block {}", t.height))?
                    .ok_or_else(|| StorageError::Corrupt {
                        what: format!("block {}", t.height),
                        reason: "not indexed".into(),
                    })?,
            ),
            None => None,
        };
        let (files, pending) = BlockFiles::open(&blocks_dir, last)?;
        let first = tip.map_or(0, |t| t.height + 1);
        for (expected, Unindexed { height, pos, stored }) in (first..).zip(pending) {
            if height != expected || stored.block.header.height != height {
                return Err(StorageError::Corrupt {
                    what: format!("block {height}"),
                    reason: format!(
                        "found after block {} in the block files, expected height {expected}",
                        expected.wrapping_sub(1)
                    ),
                });
            }
            ledger.apply(index_batch(&stored, pos)?)?;
        }
        if let Some(tip) = first.checked_sub(1)
            && ledger.scan_prefix(keys::OLD_RECEIPT_PREFIX).next().is_some()
        {
            move_receipts_to_block_files(&ledger, &blockfile::Readers::new(&blocks_dir), tip)?;
        }
        ledger.flush()?;
        let seen = Arc::new(SeenIds::new());
        fill_in_background(&ledger, &seen);
        let readers = Arc::new(blockfile::Readers::new(&blocks_dir));
        Ok(Store {
            ledger,
            raft,
            blocks_dir,
            readers,
            root: path.to_path_buf(),
            files: Arc::new(Mutex::new(files)),
            seen,
            system_changes: Arc::default(),
        })
    }

    /// A number that grows with every commit that changes the system
    /// contract's state (members, keys, contracts, parameters), and with no
    /// other: what a copy of system records read after this call answers is
    /// current for as long as the number stays the same.
    pub fn system_generation(&self) -> u64 {
        self.system_changes.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether directory `path` holds a store (its index, in either layout).
    pub fn exists_in(path: &Path) -> bool {
        index_dir(path).exists() || crate::legacy::sled_dir(path).exists()
    }

    /// The directory the store was opened in.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// The stored genesis document, with its founders' signatures, if the chain was initialised.
    pub fn genesis(&self) -> Result<Option<Genesis>> {
        self.get(keys::GENESIS, || "genesis".into())
    }

    /// The newest committed block, or `None` for an empty store.
    pub fn tip(&self) -> Result<Option<ChainTip>> {
        self.get(keys::TIP, || "chain tip".into())
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>> {
        Ok(self.stored_block(height)?.map(|s| s.block))
    }

    /// Everything block `height` wrote, as recorded in the block files.
    pub fn stored_block(&self, height: u64) -> Result<Option<StoredBlock>> {
        match self.block_pos(height)? {
            Some(pos) => blockfile::read(&self.readers, pos, height).map(Some),
            None => Ok(None),
        }
    }

    /// Where the record of block `height` is in the block files.
    fn block_pos(&self, height: u64) -> Result<Option<BlockPos>> {
        self.get(&keys::block(height), || format!("position of block {height}"))
    }

    /// The transaction at `loc` and its block's header, read from the block's
    /// record without decoding the rest of it (its receipts, its state
    /// changes and the transactions after this one).
    pub fn tx_at(&self, loc: TxLocation) -> Result<Option<(BlockHeader, SignedTx)>> {
        match self.block_pos(loc.height)? {
            Some(pos) => blockfile::read_tx(&self.readers, pos, loc.height, loc.index),
            None => Ok(None),
        }
    }

    /// The record of block `height` as the block files hold it: the canonical
    /// encoding of its [`StoredBlock`], checked by its checksum, not decoded.
    /// What a node serves to a peer that checks it for itself.
    pub fn stored_block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        match self.block_pos(height)? {
            Some(pos) => blockfile::read_payload(&self.readers, pos, height).map(Some),
            None => Ok(None),
        }
    }

    /// The height of the block with this hash.
    pub fn height_of(&self, hash: &Hash32) -> Result<Option<u64>> {
        self.get(&keys::block_hash(hash), || format!("hash index {hash}"))
    }

    /// Where the transaction `tx_id` is recorded.
    pub fn tx_location(&self, tx_id: &TxId) -> Result<Option<TxLocation>> {
        Ok(self.tx_entry(tx_id)?.map(|e| e.loc))
    }

    /// Where the transaction `tx_id` is recorded, and its receipt, read from
    /// the block files at the place the index names (checked by its checksum).
    pub fn tx_receipt(&self, tx_id: &TxId) -> Result<Option<(TxLocation, Receipt)>> {
        let Some(entry) = self.tx_entry(tx_id)? else { return Ok(None) };
        let receipt = blockfile::read_receipt(&self.readers, entry.receipt, || format!("receipt of {tx_id}"))?;
        Ok(Some((entry.loc, receipt)))
    }

    fn tx_entry(&self, tx_id: &TxId) -> Result<Option<TxEntry>> {
        if !self.seen.may_contain(tx_id.as_str().as_bytes()) {
            return Ok(None);
        }
        self.get(&keys::tx(tx_id), || format!("index of transaction {tx_id}"))
    }

    /// The receipts of the block at `height`, in order (none for a block not stored).
    pub fn receipts(&self, height: u64) -> Result<Vec<Receipt>> {
        Ok(self.stored_block(height)?.map(|s| s.receipts).unwrap_or_default())
    }

    /// A contract's state value.
    pub fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.ledger.get(&keys::state(contract, key))?.map(|v| v.to_vec()))
    }

    /// Up to `limit` of a contract's entries with keys in `[from, to)` (`to = None`: to the end), in key order.
    pub fn state_range(
        &self,
        contract: &ContractName,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let prefix = keys::state_prefix(contract);
        let start = keys::state(contract, from);
        let mut out = Vec::new();
        for kv in self.ledger.range(start, to.map(|to| keys::state(contract, to))) {
            let (k, v) = kv?;
            if out.len() >= limit || !k.starts_with(&prefix) {
                break;
            }
            out.push((k[prefix.len()..].to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// Every stored state entry, sorted by contract and key (for `verify`).
    pub fn state_entries(&self) -> impl Iterator<Item = Result<StateEntry>> + '_ {
        self.ledger.scan_prefix(keys::STATE_PREFIX).map(|kv| {
            let (k, v) = kv?;
            let bad = |reason: &str| StorageError::Corrupt { what: "state key".into(), reason: reason.into() };
            let (contract, key) = keys::split_state(&k).ok_or_else(|| bad("no contract separator"))?;
            let contract = std::str::from_utf8(contract)
                .ok()
                .and_then(|c| ContractName::new(c).ok())
                .ok_or_else(|| bad("invalid contract name"))?;
            Ok(StateEntry { contract, key: key.to_vec(), value: v.to_vec() })
        })
    }

    /// Records a block; see [`Store::commit_blocks`].
    pub fn commit_block(&self, stored: &StoredBlock) -> Result<ChainTip> {
        let tip = self.commit_blocks(&[stored])?;
        tip.ok_or_else(|| StorageError::Io("no block was committed".into()))
    }

    /// Records blocks that extend the stored tip one after another: appends
    /// them to the block files and syncs those once (the blocks are durable
    /// when this returns), then writes the blocks' indexes, receipts, state
    /// and metadata to the index in atomic batches of whole blocks. The index is
    /// not synced here (it is with the next [`Store::flush`] or
    /// [`Store::put_meta`]), and after a crash [`Store::open`] indexes again
    /// from the block files whatever the index had not yet written. Refuses the
    /// whole call, writing nothing, if a block does not extend the one before
    /// it. Returns the new tip (`None` for no blocks).
    pub fn commit_blocks(&self, blocks: &[&StoredBlock]) -> Result<Option<ChainTip>> {
        self.put_blocks(blocks, true)
    }

    /// [`Store::commit_blocks`] without the sync: the records are written and
    /// indexed, and become durable with the next [`Store::sync_blocks`] (or
    /// [`Store::flush`]). For blocks whose consensus log entries are durable,
    /// so that a crash before the sync loses nothing the log cannot apply
    /// again. Should the index have been written out with records that the
    /// crash then took, [`Store::open`] rebuilds the index from the block files.
    pub fn write_blocks(&self, blocks: &[&StoredBlock]) -> Result<Option<ChainTip>> {
        self.put_blocks(blocks, false)
    }

    fn put_blocks(&self, blocks: &[&StoredBlock], durable: bool) -> Result<Option<ChainTip>> {
        let mut files = self.lock_files()?;
        let mut tip = self.tip()?;
        for stored in blocks {
            let header = &stored.block.header;
            match (tip, header.height) {
                (None, 0) => {}
                (Some(tip), h) if h == tip.height + 1 && header.prev_hash == tip.hash => {}
                (tip, h) => {
                    return Err(StorageError::NotNext {
                        height: h,
                        reason: match tip {
                            None => "the store is empty and the block is not genesis".into(),
                            Some(t) => format!(
                                "tip is {} at height {}, block names parent {}",
                                t.hash, t.height, header.prev_hash
                            ),
                        },
                    });
                }
            }
            if stored.receipts.len() != stored.block.txs.len() || stored.genesis.is_some() != (header.height == 0) {
                return Err(StorageError::NotNext {
                    height: header.height,
                    reason: format!(
                        "{} transactions, {} receipts, genesis document {}",
                        stored.block.txs.len(),
                        stored.receipts.len(),
                        if stored.genesis.is_some() { "present" } else { "absent" }
                    ),
                });
            }
            tip = Some(ChainTip::of(header));
        }
        let mut positions = Vec::with_capacity(blocks.len());
        for stored in blocks.iter() {
            positions.push(files.write(stored.block.header.height, &stored.encode())?);
        }
        if durable {
            files.sync()?;
        }
        // Atomic batches of whole blocks: a key that a run of small blocks
        // writes several times (the tip, the applied id, a hot state value)
        // is written once. A batch closes once it holds BATCH_KEYS keys, which
        // bounds the memory a long run (a node catching up) holds. A crash
        // between batches leaves blocks durable in the block files but not
        // indexed; opening the store indexes them.
        self.seen.insert(blocks.iter().flat_map(|b| &b.block.txs).map(|tx| tx.tx.tx_id.as_str().as_bytes()));
        let index = || -> Result<()> {
            let mut batch = Batch::default();
            for (stored, pos) in blocks.iter().zip(positions) {
                add_to_index(&mut batch, stored, pos)?;
                if batch.len() >= BATCH_KEYS {
                    self.ledger.apply(std::mem::take(&mut batch))?;
                }
            }
            self.ledger.apply(batch)
        };
        let indexed = index();
        // After the writes, even those of a call that failed half way.
        let system = billflow_types::system::system_contract();
        if blocks.iter().flat_map(|b| &b.changes).any(|c| c.contract == system) {
            self.system_changes.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        indexed?;
        Ok(if blocks.is_empty() { None } else { tip })
    }

    /// Consensus metadata `name` (as written with a block or by [`Store::put_meta`]).
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.ledger.get(&keys::meta(name))?.map(|v| v.to_vec()))
    }

    /// Writes consensus metadata atomically and durably (for log entries that make no block).
    pub fn put_meta(&self, meta: &[(String, Vec<u8>)]) -> Result<()> {
        let mut batch = Batch::default();
        for (name, value) in meta {
            batch.insert(keys::meta(name), value.as_slice());
        }
        self.ledger.apply(batch)?;
        self.flush()
    }

    /// Makes everything written durable now: the block files, then the index.
    pub fn flush(&self) -> Result<()> {
        self.sync_blocks()?;
        self.ledger.flush()
    }

    /// Makes every block record written so far durable (one `fdatasync`, none
    /// when nothing was written since the last).
    pub fn sync_blocks(&self) -> Result<()> {
        self.lock_files()?.sync()
    }

    fn lock_files(&self) -> Result<std::sync::MutexGuard<'_, BlockFiles>> {
        self.files.lock().map_err(|_| StorageError::Io("a previous commit panicked".into()))
    }

    /// Stores a node's attestation of block `height` (not flushed: attestations can be re-sent).
    pub fn put_attestation(&self, height: u64, node: &str, bytes: &[u8]) -> Result<()> {
        self.ledger.insert(&keys::attestation(height, node), bytes)
    }

    /// The attestations of block `height`, by node.
    pub fn attestations(&self, height: u64) -> Result<Vec<(String, Vec<u8>)>> {
        let prefix = [b"a:".as_slice(), &height.to_be_bytes()].concat();
        self.ledger
            .scan_prefix(&prefix)
            .map(|kv: Result<_>| {
                let (k, v) = kv?;
                Ok((String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), v.to_vec()))
            })
            .collect()
    }

    /// Appends consensus log entries `(index, bytes)`, which follow the last
    /// one, and syncs them to disk: one write and one `fdatasync`.
    pub fn raft_append(&self, entries: &[(u64, Vec<u8>)]) -> Result<()> {
        self.raft.append(entries)
    }

    /// Consensus log entries with indexes in `[from, to)`, in order, as `(index, bytes)`.
    pub fn raft_entries(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        self.raft.entries(from, to)
    }

    /// The newest consensus log entry.
    pub fn raft_last(&self) -> Result<Option<(u64, Vec<u8>)>> {
        self.raft.last()
    }

    /// Removes consensus log entries from `from` on (a conflicting suffix), durably.
    pub fn raft_truncate(&self, from: u64) -> Result<()> {
        self.raft.truncate(from)
    }

    /// Removes consensus log entries up to and including `upto` and records `purged`, durably.
    pub fn raft_purge(&self, upto: u64, purged: &[u8]) -> Result<()> {
        self.raft.purge(upto, purged)
    }

    /// A consensus value: `vote`, `committed` or `purged`.
    pub fn raft_value(&self, name: RaftValue) -> Result<Option<Vec<u8>>> {
        self.raft.value(name.name())
    }

    /// Stores a consensus value: durably, except the committed id, which
    /// openraft needs only as a hint (it is learnt again from the leader).
    pub fn put_raft_value(&self, name: RaftValue, bytes: &[u8]) -> Result<()> {
        self.raft.put_value(name.name(), bytes)
    }

    /// Bytes the store occupies on disk (block files, index and Raft log).
    pub fn size_on_disk(&self) -> Result<u64> {
        let mut total = self.ledger.size_on_disk()? + self.raft.size_on_disk();
        let entries =
            std::fs::read_dir(&self.blocks_dir).map_err(|e| StorageError::Io(format!("list block files: {e}")))?;
        for entry in entries.flatten() {
            total += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
        Ok(total)
    }

    fn get<T: Canonical>(&self, key: &[u8], what: impl FnOnce() -> String) -> Result<Option<T>> {
        get(&self.ledger, key, what)
    }
}

/// The index's directory in the store at `root`.
fn index_dir(root: &Path) -> PathBuf {
    root.join("kv")
}

fn get<T: Canonical>(index: &Index, key: &[u8], what: impl FnOnce() -> String) -> Result<Option<T>> {
    match index.get(key)? {
        Some(v) => decode(what, &v).map(Some),
        None => Ok(None),
    }
}

/// The index writes that index a stored block and apply its state changes.
fn index_batch(stored: &StoredBlock, pos: BlockPos) -> Result<Batch> {
    let mut batch = Batch::default();
    add_to_index(&mut batch, stored, pos)?;
    Ok(batch)
}

/// Indexes the block files again from the first record, in place of an index
/// that names records beyond their end (`indexed`, the height it had
/// reached). The index was written out with blocks written with
/// [`Store::write_blocks`] before the crash took their unsynced records:
/// the index, state and block metadata are those of the blocks that remain,
/// and the consensus log applies the rest again. What the index holds beside
/// (attestations, metadata no block writes) is kept.
fn rebuild_index(ledger: &Index, blocks_dir: &Path, indexed: u64) -> Result<()> {
    let mut block_meta = std::collections::BTreeSet::new();
    let remaining = blockfile::scan_records(blocks_dir, |_, stored| {
        block_meta.extend(stored.meta.iter().map(|(name, _)| keys::meta(name)));
        Ok(())
    })?;
    tracing::warn!(
        indexed,
        remaining,
        "the index names blocks the block files lost in a crash: indexing the block files again"
    );
    let mut kept = Vec::new();
    for prefix in [keys::ATTESTATION_PREFIX, keys::META_PREFIX] {
        for kv in ledger.scan_prefix(prefix) {
            let (k, v) = kv?;
            if !block_meta.contains(k.as_ref()) && k.as_ref() != keys::TIP && k.as_ref() != keys::GENESIS {
                kept.push((k, v));
            }
        }
    }
    ledger.clear(BATCH_KEYS)?;
    let mut batch = Batch::default();
    for (k, v) in kept {
        batch.insert(k.to_vec(), v.to_vec());
    }
    ledger.apply(batch)?;
    let mut batch = Batch::default();
    blockfile::scan_records(blocks_dir, |pos, stored| {
        add_to_index(&mut batch, &stored, pos)?;
        if batch.len() >= BATCH_KEYS {
            ledger.apply(std::mem::take(&mut batch))?;
        }
        Ok(())
    })?;
    ledger.apply(batch)?;
    ledger.flush()
}

/// Reads the transaction ids indexed in `ledger` into `seen` on a thread of
/// its own, then marks it filled. It stops early if the store is closed; on
/// an error it leaves the filter unfilled, answering "maybe" to every lookup
/// as if there were none.
fn fill_in_background(ledger: &Index, seen: &Arc<SeenIds>) {
    const CHUNK: usize = 4096;
    let (ledger, seen) = (ledger.clone(), Arc::downgrade(seen));
    let fill = move || -> Result<()> {
        let started = std::time::Instant::now();
        let mut count = 0;
        let mut scan = ledger.keys_with_prefix(keys::TX_PREFIX);
        loop {
            let chunk = scan.by_ref().take(CHUNK).collect::<Result<Vec<_>>>()?;
            // Closed: nothing to fill any more.
            let Some(seen) = seen.upgrade() else { return Ok(()) };
            seen.insert(chunk.iter().map(|key| &key[keys::TX_PREFIX.len()..]));
            count += chunk.len();
            if chunk.len() < CHUNK {
                seen.filled();
                break;
            }
        }
        tracing::debug!(ids = count, ms = started.elapsed().as_millis() as u64, "stored ids read into the filter");
        Ok(())
    };
    let spawned = std::thread::Builder::new().name("seen-ids".into()).spawn(move || {
        if let Err(e) = fill() {
            tracing::warn!(error = %e, "the stored ids could not be read into the filter; every lookup reads the index");
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread to fill the id filter; every lookup reads the index");
    }
}

/// Adds to `batch` the writes that index a stored block and apply its state
/// changes. A later block's writes replace an earlier one's to the same key
/// (the tip, metadata, a state value), so a run of blocks is one batch.
fn add_to_index(batch: &mut Batch, stored: &StoredBlock, pos: BlockPos) -> Result<()> {
    let header = &stored.block.header;
    let tip = ChainTip::of(header);
    let hash = tip.hash;
    batch.insert(keys::block(header.height), pos.encode());
    batch.insert(keys::block_hash(&hash), header.height.encode());
    index_txs(batch, stored, pos)?;
    for change in &stored.changes {
        let key = keys::state(&change.contract, &change.key);
        match &change.value {
            Some(v) => batch.insert(key, v.as_slice()),
            None => batch.remove(key),
        }
    }
    if let Some(genesis) = &stored.genesis {
        batch.insert(keys::GENESIS, genesis.encode());
    }
    for (name, value) in &stored.meta {
        batch.insert(keys::meta(name), value.as_slice());
    }
    batch.insert(keys::TIP, tip.encode());
    Ok(())
}

/// Adds to `batch` the transaction index entries of a stored block: each
/// transaction's location and its receipt's span in the record at `pos`.
fn index_txs(batch: &mut Batch, stored: &StoredBlock, pos: BlockPos) -> Result<()> {
    let spans = blockfile::receipt_spans(stored, pos)?;
    for (index, (tx, receipt)) in stored.block.txs.iter().zip(spans).enumerate() {
        let loc = TxLocation { height: stored.block.header.height, index: index as u32 };
        batch.insert(keys::tx(&tx.tx.tx_id), TxEntry { loc, receipt }.encode());
    }
    Ok(())
}

/// Moves a store written when the index held a copy of every receipt (`r:`) to
/// receipts read from the block files: every transaction index entry is
/// written again with its receipt's span, and the copies are removed, a few
/// blocks per atomic batch. Interrupted, it starts again at the next open (the
/// copies that remain mark the store as not yet moved).
fn move_receipts_to_block_files(ledger: &Index, readers: &blockfile::Readers, tip: u64) -> Result<()> {
    const BLOCKS_PER_BATCH: u64 = 64;
    tracing::info!(tip, "moving receipts out of the index: they are read from the block files");
    let mut batch = Batch::default();
    for height in 0..=tip {
        let pos = get::<BlockPos>(ledger, &keys::block(height), || format!("position of block {height}"))?
            .ok_or_else(|| StorageError::Corrupt { what: format!("block {height}"), reason: "not indexed".into() })?;
        let stored = blockfile::read(readers, pos, height)?;
        index_txs(&mut batch, &stored, pos)?;
        for index in 0..stored.receipts.len() {
            batch.remove(keys::old_receipt(TxLocation { height, index: index as u32 }));
        }
        if height % BLOCKS_PER_BATCH == BLOCKS_PER_BATCH - 1 || height == tip {
            ledger.apply(std::mem::take(&mut batch))?;
        }
    }
    ledger.flush()
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
