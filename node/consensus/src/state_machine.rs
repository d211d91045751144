//! The Raft state machine: each committed entry is applied as one block through
//! the chain's ordinary apply path, with the entry's log id written atomically
//! with the block. Snapshots carry the whole block history (every block with its
//! receipts and state changes), from which a node rebuilds state and history;
//! they live in files ([`crate::snapshot`]), never whole in memory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use billflow_chain::{Chain, Meta};
use billflow_types::{BlockProposal, Canonical, ConsensusRef};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};

use crate::config::{Applied, RaftNode, TypeConfig, decode, encode};
use crate::snapshot::{self, SnapshotFile};

/// The last applied log id and the membership as of it.
type AppliedState = (Option<LogId<u64>>, StoredMembership<u64, RaftNode>);

pub(crate) const APPLIED: &str = "raft/applied";
pub(crate) const MEMBERSHIP: &str = "raft/membership";

/// A run of proposals is applied and written once it holds this many
/// transactions (a single larger block is applied whole). A node catching up
/// is handed hundreds of blocks at once; applied as one run, their decoded
/// transactions, receipts, state changes and encoded records were all held
/// together, about 1 GB for 200,000 transactions. A sync of the block files
/// per 4,096 transactions costs nothing measurable.
const RUN_TXS: usize = 4096;

/// The latest snapshot: its metadata and its file.
#[derive(Clone)]
struct CurrentSnapshot {
    meta: SnapshotMeta<u64, RaftNode>,
    path: PathBuf,
}

/// The latest snapshot, shared with the builders. Its file is replaced and
/// opened under the lock, so a reader never opens a file just removed.
type Current = Arc<Mutex<Option<CurrentSnapshot>>>;

/// The state machine over a node's chain: the applied id and the membership
/// are ledger metadata, written with the blocks.
///
/// ### To ensure correctness
///
/// - **Durable on return, with the block.** `apply` writes each entry's log id
///   (and the membership as of it) into the block the entry makes, which is
///   synced to the block files before its index batch is written
///   (`Chain::apply`), or on its own in a flushed write for an entry that makes
///   no block (blank, membership, a proposal whose transactions were all
///   refused). When `apply` returns, every entry it was given is on disk; a
///   crash during it leaves a prefix of them applied (the store indexes again
///   from its block files what its index had not written), never a block
///   without its entry or the other way round. A batch of entries goes to one
///   blocking thread, not one thread hop per entry.
/// - **In log order, once.** Entries apply one after another; the applied id
///   only grows. An entry at or below the stored applied id is skipped and
///   answered with an empty [`Applied`]: after a restart openraft sends again
///   the committed entries after what it believes applied, and the ledger may
///   hold some of them already.
/// - **Deterministic, or stop.** A payload that is not a proposal, or a block
///   that cannot be committed, is a [`StorageError`]: openraft stops and the
///   node with it, rather than skip an entry every other node applies.
/// - **What a restart sees.** `applied_state` reads the applied id and the
///   membership as of it back from the ledger. Snapshot files are not kept: a
///   snapshot is the ledger's own blocks, so one is rebuilt when needed
///   (openraft builds one at startup when the log was purged).
/// - **Apply and the log's purge point.** openraft purges the log only up to a
///   snapshot, which names an applied id; so the purge point never passes the
///   applied id, and the entries after it are in the log or in the leader's
///   next snapshot.
/// - **Snapshots.** A builder names the tip, applied id and membership at the
///   moment it is made, between two applies, so the three agree; one that
///   cannot read them fails rather than build a snapshot naming no entry.
///   `install_snapshot` commits the blocks the chain lacks in order, each with
///   the entry id it carried (a crash midway leaves a prefix of the leader's
///   chain, and an applied id that matches it), checks those it holds are the
///   same, then records the snapshot's applied id and membership, and keeps
///   the snapshot in this store's directory as the only current one.
#[derive(Clone)]
pub struct StateMachine {
    chain: Chain,
    snapshot: Current,
    /// Numbers files of snapshots being received.
    receiving: Arc<AtomicU64>,
}

impl StateMachine {
    /// The state machine applying to `chain`. Snapshot files of an earlier run
    /// are removed: a snapshot is rebuilt from the ledger when one is needed.
    pub fn new(chain: Chain) -> std::io::Result<StateMachine> {
        let dir = snapshot::dir(chain.store());
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(StateMachine { chain, snapshot: Arc::default(), receiving: Arc::default() })
    }

    fn read_meta<T: for<'de> serde::Deserialize<'de>>(&self, name: &str) -> Result<Option<T>, StorageError<u64>> {
        match self.chain.store().meta(name).map_err(|e| StorageIOError::read_state_machine(&e))? {
            Some(bytes) => Ok(Some(decode(&bytes).map_err(|e| StorageIOError::read_state_machine(&e))?)),
            None => Ok(None),
        }
    }

    fn applied(&self) -> Result<AppliedState, StorageError<u64>> {
        let applied = self.read_meta::<LogId<u64>>(APPLIED)?;
        let membership = self.read_meta(MEMBERSHIP)?.unwrap_or_default();
        Ok((applied, membership))
    }
}

/// Builds a snapshot of the chain as it stood when the builder was made.
pub struct SnapshotBuilder {
    chain: Chain,
    height: u64,
    /// The applied id and membership the snapshot names, or why they could not
    /// be read: a snapshot naming no entry would be taken for an empty one.
    applied: Result<AppliedState, StorageError<u64>>,
    current: Current,
}

/// Makes the snapshot at `path` the current one, removes the others and opens it.
fn make_current(current: &Current, meta: SnapshotMeta<u64, RaftNode>, path: PathBuf) -> std::io::Result<SnapshotFile> {
    let mut guard = current.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = path.parent() {
        snapshot::remove_others(dir, &path);
    }
    let file = SnapshotFile::open(&path)?;
    *guard = Some(CurrentSnapshot { meta, path });
    Ok(file)
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<u64>> {
        let height = self.height;
        let (applied, membership) = self.applied.clone()?;
        let snapshot_id = match applied {
            Some(id) => format!("{}-{}-{height}", id.leader_id.term, id.index),
            None => format!("none-{height}"),
        };
        let path = snapshot::dir(self.chain.store()).join(format!("{snapshot_id}.snap"));
        let store = self.chain.store().clone();
        let target = path.clone();
        let bytes = tokio::task::spawn_blocking(move || snapshot::write(&store, height, &target))
            .await
            .map_err(|e| StorageIOError::read_state_machine(&e))?
            .map_err(|e| StorageIOError::read_state_machine(&e))?;
        let meta = SnapshotMeta { last_log_id: applied, last_membership: membership, snapshot_id };
        let file = make_current(&self.current, meta.clone(), path)
            .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), &e))?;
        tracing::info!(height, bytes, "snapshot built");
        Ok(Snapshot { meta, snapshot: Box::new(file) })
    }
}

/// Applies `entries` in order on a blocking thread (see [`StateMachine`]).
fn apply_entries(
    chain: &Chain,
    mut applied: Option<LogId<u64>>,
    mut membership: StoredMembership<u64, RaftNode>,
    entries: Vec<Entry<TypeConfig>>,
    run_txs: usize,
) -> Result<Vec<Applied>, StorageError<u64>> {
    let mut responses = Vec::with_capacity(entries.len());
    // Consecutive proposals are applied together, with one sync of the block
    // files; the run is written before any entry that is not a proposal, and
    // once it holds `RUN_TXS` transactions.
    let mut run: Run = Vec::new();
    // Transactions in `run`.
    let mut held = 0;
    for entry in entries {
        let log_id = entry.log_id;
        if Some(log_id) <= applied {
            // Already applied before a restart: the block and the pointer were written together.
            responses.push(Applied::default());
            continue;
        }
        let mut meta = vec![(APPLIED.to_string(), encode(&log_id))];
        match entry.payload {
            EntryPayload::Normal(proposal) => {
                // Each block carries the membership as of its entry, so a node
                // rebuilt from blocks alone (a backup, a snapshot) knows the
                // voters without the log entries that named them.
                meta.push((MEMBERSHIP.to_string(), encode(&membership)));
                let proposal = BlockProposal::decode(&proposal.0).map_err(|e| StorageIOError::apply(log_id, &e))?;
                // Every write of a run empties it.
                held = if run.is_empty() { 0 } else { held } + proposal.txs.len();
                run.push((log_id, proposal, meta));
                if held >= run_txs {
                    apply_run(chain, &mut run, &mut responses)?;
                }
            }
            EntryPayload::Blank => {
                apply_run(chain, &mut run, &mut responses)?;
                chain.store().put_meta(&meta).map_err(|e| StorageIOError::apply(log_id, &e))?;
                responses.push(Applied::default());
            }
            EntryPayload::Membership(m) => {
                apply_run(chain, &mut run, &mut responses)?;
                membership = StoredMembership::new(Some(log_id), m);
                meta.push((MEMBERSHIP.to_string(), encode(&membership)));
                chain.store().put_meta(&meta).map_err(|e| StorageIOError::apply(log_id, &e))?;
                responses.push(Applied::default());
            }
        }
        applied = Some(log_id);
    }
    apply_run(chain, &mut run, &mut responses)?;
    Ok(responses)
}

/// Consecutive proposals, each with its entry's id and the metadata its block carries.
type Run = Vec<(LogId<u64>, BlockProposal, Meta)>;

/// Applies a run of proposals as blocks, written with one sync, and answers
/// each with the height of the block it made.
fn apply_run(chain: &Chain, run: &mut Run, responses: &mut Vec<Applied>) -> Result<(), StorageError<u64>> {
    let Some(&(last, _, _)) = run.last() else { return Ok(()) };
    let tips = chain
        .apply_all(run.iter_mut().map(|(log_id, proposal, meta)| {
            let consensus = ConsensusRef { term: log_id.leader_id.term, index: log_id.index };
            (&*proposal, consensus, std::mem::take(meta))
        }))
        .map_err(|e| StorageIOError::apply(last, &e))?;
    responses.extend(tips.into_iter().map(|tip| Applied { height: tip.map(|t| t.height) }));
    run.clear();
    Ok(())
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<AppliedState, StorageError<u64>> {
        self.applied()
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError<u64>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let (applied, membership) = self.applied()?;
        let entries: Vec<Entry<TypeConfig>> = entries.into_iter().collect();
        let chain = self.chain.clone();
        // One trip to a blocking thread for the whole batch: a follower catching
        // up is handed hundreds of entries at once.
        tokio::task::spawn_blocking(move || apply_entries(&chain, applied, membership, entries, RUN_TXS))
            .await
            .map_err(|e| StorageIOError::apply(LogId::default(), &e))?
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder {
            chain: self.chain.clone(),
            height: self.chain.tip().height,
            applied: self.applied(),
            current: self.snapshot.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<SnapshotFile>, StorageError<u64>> {
        let n = self.receiving.fetch_add(1, Ordering::Relaxed);
        let path = snapshot::dir(self.chain.store()).join(format!("incoming-{n}.part"));
        let file = SnapshotFile::create(&path).await.map_err(|e| StorageIOError::write_snapshot(None, &e))?;
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, RaftNode>,
        snapshot: Box<SnapshotFile>,
    ) -> Result<(), StorageError<u64>> {
        let failed = |e: &dyn std::fmt::Display| {
            StorageIOError::write_snapshot(Some(meta.signature()), openraft::AnyError::error(e))
        };
        let received = snapshot.received().await.map_err(|e| failed(&e))?;
        // A transfer received here lives in this store's snapshot directory and
        // becomes its snapshot. A file handed over whole (another state
        // machine's current snapshot, as openraft's test suite does) is not
        // ours: it is copied in, and never moved or removed.
        let dir = snapshot::dir(self.chain.store());
        let ours = received.parent() == Some(dir.as_path());
        let chain = self.chain.clone();
        let source = received.clone();
        let installed =
            tokio::task::spawn_blocking(move || snapshot::install(&chain, &source)).await.map_err(|e| failed(&e))?;
        let (tip, count) = match installed {
            Ok(done) => done,
            Err(e) => {
                if ours {
                    let _ = std::fs::remove_file(&received);
                }
                return Err(failed(&e).into());
            }
        };
        let mut written = vec![(MEMBERSHIP.to_string(), encode(&meta.last_membership))];
        if let Some(id) = meta.last_log_id {
            written.push((APPLIED.to_string(), encode(&id)));
        }
        self.chain.store().put_meta(&written).map_err(|e| failed(&e))?;
        tracing::info!(blocks = count, height = tip.height, "snapshot installed");
        let path = dir.join(format!("{}.snap", meta.snapshot_id));
        if ours {
            std::fs::rename(&received, &path).map_err(|e| failed(&e))?;
        } else {
            let copy = path.with_extension("part");
            tokio::fs::copy(&received, &copy).await.map_err(|e| failed(&e))?;
            std::fs::rename(&copy, &path).map_err(|e| failed(&e))?;
        }
        make_current(&self.snapshot, meta.clone(), path).map_err(|e| failed(&e))?;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError<u64>> {
        let guard = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        let Some(current) = guard.as_ref() else { return Ok(None) };
        let file = SnapshotFile::open(&current.path)
            .map_err(|e| StorageIOError::read_snapshot(Some(current.meta.signature()), &e))?;
        Ok(Some(Snapshot { meta: current.meta.clone(), snapshot: Box::new(file) }))
    }
}

#[cfg(test)]
mod tests {
    use billflow_chain::ChainConfig;
    use billflow_storage::Store;
    use billflow_types::dev::{dev_genesis, dev_registration};
    use openraft::testing::log_id;

    use super::*;
    use crate::config::Proposal;

    #[tokio::test]
    async fn a_run_of_proposals_is_written_once_it_holds_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let config = ChainConfig { node_id: "n1".parse().unwrap(), mempool_capacity: 100 };
        let chain = Chain::open(Store::open(dir.path()).unwrap(), &dev_genesis(), config).unwrap();
        let mut entries = Vec::new();
        for n in 1..=3u64 {
            assert!(chain.submit(dev_registration(n, billflow_chain::now_ms())).unwrap().is_ok());
            let proposal = chain.next_proposal().await;
            entries.push(Entry { log_id: log_id(1, 0, n), payload: EntryPayload::Normal(Proposal(proposal.encode())) });
        }
        // The fourth entry cannot be applied: what the runs before it held is written.
        entries.push(Entry { log_id: log_id(1, 0, 4), payload: EntryPayload::Normal(Proposal(vec![0xff; 7])) });
        let sm = StateMachine::new(chain.clone()).unwrap();
        let (applied, membership) = sm.applied().unwrap();
        let err = apply_entries(&chain, applied, membership, entries, 2).unwrap_err();
        assert!(err.to_string().contains("Apply"), "{err}");
        // Blocks 1 and 2 made a run of two transactions; block 3 waited for more.
        assert_eq!(chain.tip().height, 2);
        assert_eq!(sm.applied().unwrap().0, Some(log_id(1, 0, 2)));
    }
}
