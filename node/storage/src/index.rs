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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Slice};

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

/// The CPU priority (nice value) of fjall's background threads: the lowest.
/// They flush in-memory tables and merge sorted tables, work that can wait a
/// moment; the threads that execute blocks and answer requests cannot. At the
/// default priority a merge took both cores of the benchmark machine for 0.3
/// to 0.7 s every few seconds, and those stalls were the flows workload's
/// slowest percent of commits.
const BACKGROUND_NICE: i32 = 19;

/// fjall's background threads: one. With two or more, the first keeps itself
/// free for flushes by handing every merge request back to the queue, and
/// while another thread merges it takes that request again at once, round
/// and round: a thread spinning for as long as a merge runs.
const BACKGROUND_THREADS: usize = 1;

/// The keyspace every record lives in, under its kind's prefix (`keys`).
const KEYSPACE: &str = "ledger";

/// The bound of the cache of values read, keys and values together (see
/// [`ReadCache`]).
const READ_CACHE_BYTES: u64 = 16 << 20;
/// What an entry of the read cache costs beside its key and value.
const READ_CACHE_ENTRY_BYTES: u64 = 128;

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
pub type Entry = (Slice, Slice);

/// The ledger's index and state (see the module's docs). Clones share it.
#[derive(Clone)]
pub struct Index {
    db: Database,
    ledger: Keyspace,
    cache: Arc<ReadCache>,
}

/// Values read by key, and keys read and found absent, kept in memory.
///
/// A point read in the tree looks in the in-memory tables and in every sorted
/// table whose filter may hold the key; the same few records (a bill, its
/// parties, their limits, a contract's configuration) are read by nearly every
/// transaction of a flow, and a key just written is often read next.
///
/// What it holds is never older than the tree: a write updates the entries
/// of the keys it writes that the cache holds, and a value read is kept only
/// if no write was made while it was read. Writes and keeping take turns
/// (`turn`); `writes` counts the writes done.
struct ReadCache {
    values: quick_cache::sync::Cache<Vec<u8>, Option<Slice>, Weight>,
    writes: AtomicU64,
    turn: RwLock<()>,
}

/// The weight of a cached entry: its bytes.
#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<Vec<u8>, Option<Slice>> for Weight {
    fn weight(&self, key: &Vec<u8>, value: &Option<Slice>) -> u64 {
        (key.len() + value.as_ref().map_or(0, |v| v.len())) as u64 + READ_CACHE_ENTRY_BYTES
    }
}

impl ReadCache {
    fn new() -> ReadCache {
        let items = (READ_CACHE_BYTES / 256) as usize;
        ReadCache {
            values: quick_cache::sync::Cache::with_weighter(items, READ_CACHE_BYTES, Weight),
            writes: AtomicU64::new(0),
            turn: RwLock::new(()),
        }
    }

    /// Runs `write` (a write to the tree), then brings the entries of the
    /// `written` keys up to date, while no value read is being kept.
    fn write<'a>(
        &self,
        written: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
        write: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let _turn = self.turn.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = write();
        for (key, value) in written {
            if out.is_err() {
                // Whatever the tree holds now, it is read again.
                self.values.remove(key);
            } else if self.values.contains_key(key) {
                self.values.insert(key.to_vec(), value.map(Slice::from));
            }
        }
        self.writes.fetch_add(1, Ordering::Release);
        out
    }

    /// Keeps `value`, read for `key` after `writes` writes had been done,
    /// unless a write was made since.
    fn keep(&self, key: &[u8], value: &Option<Slice>, writes: u64) {
        let _turn = self.turn.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.writes.load(Ordering::Acquire) == writes {
            self.values.insert(key.to_vec(), value.clone());
        }
    }
}

/// Gives fjall's background threads in this process [`BACKGROUND_NICE`]
/// (Linux keeps a nice value per thread). fjall starts them when a database
/// is opened and names them `fjall:*`. A thread that cannot be lowered keeps
/// its priority, with a warning: the node runs as before, only with the
/// merges' stalls.
fn lower_background_priority() {
    let tasks = match std::fs::read_dir("/proc/self/task") {
        Ok(tasks) => tasks,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list this process's threads; the index's background work keeps its priority");
            return;
        }
    };
    for task in tasks.flatten() {
        // `None` would name the calling thread.
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<i32>().ok()) else { continue };
        let Some(pid) = rustix::process::Pid::from_raw(tid) else { continue };
        let background = std::fs::read_to_string(task.path().join("comm")).is_ok_and(|name| name.starts_with("fjall:"));
        if !background {
            continue;
        }
        if let Err(e) = rustix::process::setpriority_process(Some(pid), BACKGROUND_NICE) {
            tracing::warn!(tid, error = %e, "cannot lower the priority of the index's background thread");
        }
    }
}

impl Index {
    /// Opens (or creates) the index in directory `path`. A store just closed
    /// in this process may hold the lock a moment longer (fjall's background
    /// threads let go of it after the drop): the open waits up to ten seconds
    /// for it. A store open elsewhere is still refused, after that wait.
    pub fn open(path: &Path) -> Result<Index> {
        let mut waited = std::time::Duration::ZERO;
        let db = loop {
            match Database::builder(path)
                .cache_size(CACHE_BYTES)
                .max_journaling_size(JOURNAL_BYTES)
                .worker_threads(BACKGROUND_THREADS)
                .open()
            {
                Err(fjall::Error::Locked) if waited < std::time::Duration::from_secs(10) => {
                    let pause = std::time::Duration::from_millis(20);
                    std::thread::sleep(pause);
                    waited += pause;
                }
                other => break other?,
            }
        };
        let ledger = db.keyspace(KEYSPACE, || KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES))?;
        lower_background_priority();
        Ok(Index { db, ledger, cache: Arc::new(ReadCache::new()) })
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Slice>> {
        if let Some(value) = self.cache.values.get(key) {
            return Ok(value);
        }
        let writes = self.cache.writes.load(Ordering::Acquire);
        let value = self.ledger.get(key)?;
        self.cache.keep(key, &value, writes);
        Ok(value)
    }

    /// Sets one key (not made durable: see [`Index::flush`]).
    pub fn insert(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut batch = Batch::default();
        batch.insert(key, value);
        self.apply(batch)
    }

    /// Applies `batch` atomically (not made durable: see [`Index::flush`]).
    pub fn apply(&self, batch: Batch) -> Result<()> {
        let written = batch.writes.iter().map(|(k, v)| (k.as_slice(), v.as_deref()));
        self.cache.write(written, || {
            let mut writes = self.db.batch();
            for (key, value) in &batch.writes {
                match value {
                    Some(v) => writes.insert(&self.ledger, key.as_slice(), v.as_slice()),
                    None => writes.remove(&self.ledger, key.as_slice()),
                }
            }
            Ok(writes.commit()?)
        })
    }

    /// The entries whose keys begin with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Entry>> + use<> {
        self.ledger.prefix(prefix).map(|g| g.into_inner().map_err(StorageError::from))
    }

    /// The keys that begin with `prefix`, in order.
    pub fn keys_with_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Slice>> + use<> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn value(index: &Index, key: &[u8]) -> Option<Vec<u8>> {
        index.get(key).unwrap().map(|v| v.to_vec())
    }

    /// The nice value of each of this process's threads, by name.
    fn nice_by_thread() -> Vec<(String, i64)> {
        let mut threads = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let (Ok(name), Ok(stat)) =
                (std::fs::read_to_string(task.path().join("comm")), std::fs::read_to_string(task.path().join("stat")))
            else {
                continue; // a thread that ended meanwhile
            };
            // After the parenthesised name: state is field 3, nice field 19.
            let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
            threads.push((name.trim().to_string(), fields[16].parse().unwrap()));
        }
        threads
    }

    #[test]
    fn the_index_background_threads_run_at_the_lowest_priority_and_no_other_thread_is_lowered() {
        let dir = tempfile::tempdir().unwrap();
        let _index = Index::open(dir.path()).unwrap();
        let threads = nice_by_thread();
        let background: Vec<_> = threads.iter().filter(|(name, _)| name.starts_with("fjall:")).collect();
        assert!(!background.is_empty(), "no background thread found: {threads:?}");
        assert!(background.iter().all(|(_, nice)| *nice == i64::from(BACKGROUND_NICE)), "{threads:?}");
        let me = std::thread::current().name().map(|n| n.chars().take(15).collect::<String>()).unwrap_or_default();
        let mine = threads.iter().find(|(name, _)| *name == me);
        assert_eq!(mine.map(|(_, nice)| *nice), Some(0), "the opening thread `{me}` among {threads:?}");
    }

    #[test]
    fn a_read_after_a_write_sees_the_write_whether_the_key_was_cached_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        // Absent, and cached as absent.
        assert_eq!(value(&index, b"a"), None);
        assert!(index.cache.values.contains_key(b"a".as_slice()));
        index.insert(b"a", b"1").unwrap();
        assert_eq!(value(&index, b"a"), Some(b"1".to_vec()));
        let mut batch = Batch::default();
        batch.insert(b"a".to_vec(), b"2".to_vec());
        batch.insert(b"b".to_vec(), b"3".to_vec());
        index.apply(batch).unwrap();
        assert_eq!((value(&index, b"a"), value(&index, b"b")), (Some(b"2".to_vec()), Some(b"3".to_vec())));
        let mut batch = Batch::default();
        batch.remove(b"a".to_vec());
        index.apply(batch).unwrap();
        assert_eq!(value(&index, b"a"), None);
        index.clear(1).unwrap();
        assert_eq!(value(&index, b"b"), None);
        // Clones share one cache.
        index.clone().insert(b"b", b"4").unwrap();
        assert_eq!(value(&index, b"b"), Some(b"4".to_vec()));
    }

    #[test]
    fn readers_racing_a_writer_never_see_a_value_older_than_one_they_saw() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        const WRITES: u64 = 3_000;
        let key = b"counter";
        std::thread::scope(|s| {
            for _ in 0..3 {
                let index = index.clone();
                s.spawn(move || {
                    let mut last = 0;
                    while last < WRITES {
                        let seen = index.get(key).unwrap().map_or(0, |v| u64::from_be_bytes(v[..].try_into().unwrap()));
                        assert!(seen >= last, "read {seen} after {last}");
                        last = seen;
                    }
                });
            }
            for n in 1..=WRITES {
                let mut batch = Batch::default();
                batch.insert(key.to_vec(), n.to_be_bytes().to_vec());
                batch.insert(n.to_be_bytes().to_vec(), b"x".to_vec());
                index.apply(batch).unwrap();
            }
        });
        assert_eq!(value(&index, key), Some(WRITES.to_be_bytes().to_vec()));
    }
}
