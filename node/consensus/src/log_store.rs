//! The Raft log on the node's store: entries, vote and purge point are durable
//! before openraft is told they are.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use billflow_storage::{RaftValue, Store};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{Entry, LogId, OptionalSend, RaftLogReader, StorageError, StorageIOError, Vote};

use crate::config::{TypeConfig, decode, encode};

/// The Raft log store: entries, vote, last committed id and purge point in
/// the Raft log files of the node's [`Store`] (`raft/`).
///
/// ### To ensure correctness
///
/// - **Durable on return.** `append` writes its entries with one write and
///   one `fdatasync`, and calls its callback after that and before it
///   returns, so an entry counts towards a majority only once it is on disk,
///   and is readable by every [`LogStore`] clone (the replication readers)
///   from then on. `truncate`, `purge` and `save_vote` are synced before they
///   return. `save_committed` is written but not synced: openraft needs the
///   committed id only to apply again at startup what was committed, and an
///   older one only means it learns the rest from the leader.
/// - **In order.** openraft calls the writes one at a time through `&mut self`;
///   each is on disk before the next starts, so a restart sees every write
///   that returned, in order, and of the one under way either all or nothing.
/// - **No hole.** `append` writes consecutive entries; `truncate` removes the
///   suffix from an index on; `purge` records the purge point durably, then
///   forgets the prefix up to it (a restart drops what lies at or below the
///   point). Whatever a crash interrupts, the stored entries are one run
///   following the purge point.
/// - **What a restart sees.** `get_log_state` names the last stored entry, or
///   the purge point when no entry is left; it never looks at the state
///   machine. The vote reads back as last saved; the last committed id as
///   last saved, or older after the machine itself failed.
/// - **Purge and apply.** openraft purges only entries at or below the last
///   snapshot, which is at or below the state machine's applied id, keeping
///   500 behind it; so every entry after the applied id is still here, or the
///   leader sends a snapshot. A log that ends before the applied id (a node
///   rebuilt from a backup) is purged up to it by openraft at startup.
/// - **Re-applying.** The saved committed id makes openraft apply again, at
///   startup, the entries up to it; [`crate::StateMachine`] skips those it
///   already holds.
/// - **Failures stop Raft.** A read or write that fails, or a stored entry
///   that does not decode, is a [`StorageError`]: openraft stops, and the
///   node with it.
#[derive(Debug, Clone)]
pub struct LogStore {
    store: Store,
}

impl LogStore {
    /// The log in `store`.
    pub fn new(store: Store) -> LogStore {
        LogStore { store }
    }

    fn value<T: for<'de> serde::Deserialize<'de>>(&self, name: RaftValue) -> Result<Option<T>, StorageError<u64>> {
        match self.store.raft_value(name).map_err(|e| StorageIOError::read(&e))? {
            Some(bytes) => Ok(Some(decode(&bytes).map_err(|e| StorageIOError::read(&e))?)),
            None => Ok(None),
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<u64>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(x) => x.saturating_add(1),
            Bound::Excluded(x) => *x,
            Bound::Unbounded => u64::MAX,
        };
        let raw = self.store.raft_entries(start, end).map_err(|e| StorageIOError::read_logs(&e))?;
        raw.into_iter()
            .map(|(index, bytes)| decode(&bytes).map_err(|e| StorageIOError::read_log_at_index(index, &e).into()))
            .collect()
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<u64>> {
        let last_purged_log_id: Option<LogId<u64>> = self.value(RaftValue::Purged)?;
        let last = self.store.raft_last().map_err(|e| StorageIOError::read_logs(&e))?;
        let last_log_id = match last {
            Some((index, bytes)) => {
                let entry: Entry<TypeConfig> =
                    decode(&bytes).map_err(|e| StorageIOError::read_log_at_index(index, &e))?;
                Some(entry.log_id)
            }
            None => last_purged_log_id,
        };
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError<u64>> {
        self.store.put_raft_value(RaftValue::Vote, &encode(vote)).map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError<u64>> {
        self.value(RaftValue::Vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), StorageError<u64>> {
        self.store
            .put_raft_value(RaftValue::Committed, &encode(&committed))
            .map_err(|e| StorageIOError::write(&e).into())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, StorageError<u64>> {
        Ok(self.value::<Option<LogId<u64>>>(RaftValue::Committed)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError<u64>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let items: Vec<(u64, Vec<u8>)> = entries.into_iter().map(|e| (e.log_id.index, encode(&e))).collect();
        let result = self.store.raft_append(&items);
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(StorageIOError::write_logs(&e).into())
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        self.store.raft_truncate(log_id.index).map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), StorageError<u64>> {
        self.store.raft_purge(log_id.index, &encode(&log_id)).map_err(|e| StorageIOError::write_logs(&e).into())
    }
}
