//! Stores written before the index moved to fjall kept it in sled, under
//! `<data>/index`, with the same keys. Opening such a store moves it, once:
//!
//! 1. A store older still kept its Raft log in sled's `raft` tree: that log,
//!    vote and purge point are moved into the log's own files first, durably.
//! 2. Every entry of sled's `ledger` tree is copied into the new index, in
//!    atomic batches, and the new index is synced.
//! 3. Only then is sled's directory removed.
//!
//! Interrupted anywhere, the next open finds sled's directory still there,
//! clears what the new index holds and moves it again. This is the only module
//! that names a sled type.

use std::path::Path;

use crate::index::{Batch, Index};
use crate::raftlog::RaftLog;
use crate::{Result, StorageError};

/// Keys copied per atomic batch.
const BATCH_KEYS: usize = 4096;

impl From<sled::Error> for StorageError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at, .. } => {
                StorageError::Corrupt { what: "database page".into(), reason: format!("checksum mismatch at {at:?}") }
            }
            other => StorageError::Io(other.to_string()),
        }
    }
}

/// The directory of a sled index in the store at `root`.
pub fn sled_dir(root: &Path) -> std::path::PathBuf {
    root.join("index")
}

/// Moves the sled index at `root` (if there is one) into `index`, and a Raft
/// log kept in it into `raft_dir`'s files (see the module's docs).
pub fn move_from_sled(root: &Path, index: &Index, raft_dir: &Path) -> Result<()> {
    let dir = sled_dir(root);
    if !dir.exists() {
        return Ok(());
    }
    tracing::info!(from = %dir.display(), "moving the index out of sled");
    let db = sled::Config::new().path(&dir).open()?;
    move_raft_log(&db, raft_dir)?;
    index.clear(BATCH_KEYS)?;
    let ledger = db.open_tree("ledger")?;
    let mut batch = Batch::default();
    let mut moved = 0u64;
    for kv in ledger.iter() {
        let (k, v) = kv?;
        batch.insert(k.to_vec(), v.to_vec());
        if batch.len() >= BATCH_KEYS {
            moved += batch.len() as u64;
            index.apply(std::mem::take(&mut batch))?;
        }
    }
    moved += batch.len() as u64;
    index.apply(batch)?;
    index.flush()?;
    drop(ledger);
    drop(db);
    std::fs::remove_dir_all(&dir).map_err(|e| StorageError::Io(format!("remove {}: {e}", dir.display())))?;
    tracing::info!(keys = moved, "the index moved out of sled");
    Ok(())
}

/// Moves a Raft log kept in sled's `raft` tree into the log's own files, when
/// those do not exist yet: entries, vote, committed id and purge point,
/// durably; then drops the tree.
fn move_raft_log(db: &sled::Db, dir: &Path) -> Result<()> {
    if dir.exists() || !db.tree_names().iter().any(|n| n.as_ref() == b"raft") {
        return Ok(());
    }
    let log = RaftLog::open(dir)?;
    let old = db.open_tree("raft")?;
    let mut entries = Vec::new();
    for kv in old.scan_prefix(b"e:") {
        let (k, v) = kv?;
        let index = k.get(2..10).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).ok_or_else(|| {
            StorageError::Corrupt { what: "consensus log key".into(), reason: format!("{} bytes", k.len()) }
        })?;
        entries.push((index, v.to_vec()));
    }
    log.append(&entries)?;
    for name in ["vote", "committed"] {
        if let Some(v) = old.get(name.as_bytes())? {
            log.put_value(name, &v)?;
        }
    }
    if let Some(purged) = old.get(b"purged")? {
        let upto = entries.first().map_or(0, |(i, _)| i.saturating_sub(1));
        log.purge(upto, &purged)?;
    }
    db.drop_tree("raft")?;
    db.flush()?;
    Ok(())
}
