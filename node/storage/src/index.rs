//! [`Index`]: the ordered key-value store that holds the ledger's indexes,
//! latest state and metadata, on fjall (a log-structured merge tree). This is
//! the only module that names a fjall type.
//!
//! Why an LSM tree: the keys are hashes and transaction ids, so every write
//! lands at a random place in the key space. A B-tree of pages rewrites a page
//! for a few such writes and keeps the space of the old copies until it
//! cleans them; an LSM tree appends each batch to its journal, writes sorted
//! tables in the background and merges them, keeping little more on disk than
//! the live bytes (compressed), with sequential writes only.

use std::collections::BTreeMap;
use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::{Result, StorageError};

/// The bound of the block cache (decompressed blocks of the sorted tables).
/// The operating system caches the table files beneath it.
const CACHE_BYTES: u64 = 16 << 20;

/// The bound of the in-memory table: it is written out as a sorted table once
/// it holds this much. A range read walks every entry of the in-memory table
/// in its range, the removed and replaced ones too, so a prefix whose keys come
/// and go (a bill's open requests, an inbox) costs more to read the more of
/// that history the table holds: under the flows load, 4 MiB served 2,012 and
/// 2,045 transactions a second where 16 MiB served 1,376 and 1,703 (1 MiB:
/// 1,686 and 1,771, flushing more often than it saves).
const MEMTABLE_BYTES: u64 = 4 << 20;

/// The bound of the journals kept for in-memory tables not yet written out
/// (fjall's least).
const JOURNAL_BYTES: u64 = 64 << 20;

/// The keyspace every record lives in, under its kind's prefix (`keys`).
const KEYSPACE: &str = "ledger";

impl From<fjall::Error> for StorageError {
    fn from(e: fjall::Error) -> Self {
        use fjall::LsmError;
        let corrupt = |reason: String| StorageError::Corrupt { what: "index".into(), reason };
        match e {
            fjall::Error::Storage(
                e @ (LsmError::ChecksumMismatch { .. }
                | LsmError::Decompress(_)
                | LsmError::InvalidTag(_)
                | LsmError::InvalidTrailer
                | LsmError::InvalidHeader(_)
                | LsmError::Unrecoverable
                | LsmError::Utf8(_)),
            ) => corrupt(e.to_string()),
            e @ (fjall::Error::JournalRecovery(_)
            | fjall::Error::Decompress(_)
            | fjall::Error::InvalidTrailer
            | fjall::Error::InvalidTag(_)) => corrupt(e.to_string()),
            other => StorageError::Io(other.to_string()),
        }
    }
}

/// Writes applied together by [`Index::apply`]: all or none are visible, and
/// a later write to a key replaces an earlier one in the same batch.
#[derive(Debug, Default)]
pub struct Batch {
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Batch {
    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), Some(value.into()));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), None);
    }

    /// The number of keys written.
    pub fn len(&self) -> usize {
        self.writes.len()
    }
}

/// One key and its value, as read.
pub type Entry = (fjall::Slice, fjall::Slice);

/// The ledger's index and state (see the module's docs). Clones share it.
#[derive(Clone)]
pub struct Index {
    db: Database,
    ledger: Keyspace,
}

impl Index {
    /// Opens (or creates) the index in directory `path`. A store just closed
    /// in this process may hold the lock a moment longer (fjall's background
    /// threads let go of it after the drop): the open waits up to ten seconds
    /// for it. A store open elsewhere is still refused, after that wait.
    pub fn open(path: &Path) -> Result<Index> {
        let mut waited = std::time::Duration::ZERO;
        let db = loop {
            match Database::builder(path).cache_size(CACHE_BYTES).max_journaling_size(JOURNAL_BYTES).open() {
                Err(fjall::Error::Locked) if waited < std::time::Duration::from_secs(10) => {
                    let pause = std::time::Duration::from_millis(20);
                    std::thread::sleep(pause);
                    waited += pause;
                }
                other => break other?,
            }
        };
        let ledger = db.keyspace(KEYSPACE, || KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES))?;
        Ok(Index { db, ledger })
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<fjall::Slice>> {
        Ok(self.ledger.get(key)?)
    }

    /// Sets one key (not made durable: see [`Index::flush`]).
    pub fn insert(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.ledger.insert(key, value)?)
    }

    /// Applies `batch` atomically (not made durable: see [`Index::flush`]).
    pub fn apply(&self, batch: Batch) -> Result<()> {
        let mut writes = self.db.batch();
        for (key, value) in batch.writes {
            match value {
                Some(v) => writes.insert(&self.ledger, key, v),
                None => writes.remove(&self.ledger, key),
            }
        }
        Ok(writes.commit()?)
    }

    /// The entries whose keys begin with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Entry>> + use<> {
        self.ledger.prefix(prefix).map(|g| g.into_inner().map_err(StorageError::from))
    }

    /// The keys that begin with `prefix`, in order.
    pub fn keys_with_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<fjall::Slice>> + use<> {
        self.ledger.prefix(prefix).map(|g| g.key().map_err(StorageError::from))
    }

    /// The entries with keys in `[from, to)` (`to = None`: to the end), in key order.
    pub fn range(&self, from: Vec<u8>, to: Option<Vec<u8>>) -> impl Iterator<Item = Result<Entry>> + use<> {
        let iter = match to {
            Some(to) => self.ledger.range(from..to),
            None => self.ledger.range(from..),
        };
        iter.map(|g| g.into_inner().map_err(StorageError::from))
    }

    /// Removes every key, in atomic batches of at most `per_batch` keys (the
    /// whole is not atomic). One pass over a snapshot: a scan begun again
    /// after each batch would walk the removals of the batches before it.
    pub fn clear(&self, per_batch: usize) -> Result<()> {
        let mut batch = Batch::default();
        for key in self.ledger.iter() {
            batch.remove(key.key()?.to_vec());
            if batch.len() >= per_batch {
                self.apply(std::mem::take(&mut batch))?;
            }
        }
        self.apply(batch)
    }

    /// Makes every write so far durable (the journal written and synced).
    pub fn flush(&self) -> Result<()> {
        Ok(self.db.persist(PersistMode::SyncAll)?)
    }

    /// Bytes the index occupies on disk (sorted tables and journals).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.disk_space()?)
    }
}
