//! The Raft state machine: each committed entry is applied as one block through
//! the chain's ordinary apply path, with the entry's log id written atomically
//! with the block. Snapshots carry the whole block history (every block with its
//! receipts and state changes), from which a node rebuilds state and history.

use std::io::Cursor;
use std::sync::{Arc, Mutex};

use billflow_chain::Chain;
use billflow_storage::StoredBlock;
use billflow_types::{BlockProposal, Canonical, ConsensusRef};
use borsh::{BorshDeserialize, BorshSerialize};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError,
    StoredMembership,
};

use crate::config::{Applied, RaftNode, TypeConfig, decode, encode};

/// The last applied log id and the membership as of it.
type AppliedState = (Option<LogId<u64>>, StoredMembership<u64, RaftNode>);

const APPLIED: &str = "raft/applied";
const MEMBERSHIP: &str = "raft/membership";

/// A snapshot's content.
#[derive(BorshSerialize, BorshDeserialize)]
struct SnapshotData {
    blocks: Vec<StoredBlock>,
}

#[derive(Clone)]
struct CurrentSnapshot {
    meta: SnapshotMeta<u64, RaftNode>,
    data: Vec<u8>,
}

/// The state machine over a node's chain.
#[derive(Clone)]
pub struct StateMachine {
    chain: Chain,
    snapshot: Arc<Mutex<Option<CurrentSnapshot>>>,
}

impl StateMachine {
    /// The state machine applying to `chain`.
    pub fn new(chain: Chain) -> StateMachine {
        StateMachine { chain, snapshot: Arc::default() }
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
    applied: Option<LogId<u64>>,
    membership: StoredMembership<u64, RaftNode>,
    current: Arc<Mutex<Option<CurrentSnapshot>>>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<u64>> {
        let store = self.chain.store().clone();
        let height = self.height;
        let blocks =
            tokio::task::spawn_blocking(move || -> Result<Vec<StoredBlock>, billflow_storage::StorageError> {
                (0..=height)
                    .map(|h| {
                        store.stored_block(h)?.ok_or_else(|| billflow_storage::StorageError::Corrupt {
                            what: format!("block {h}"),
                            reason: "missing while building a snapshot".into(),
                        })
                    })
                    .collect()
            })
            .await
            .map_err(|e| StorageIOError::read_state_machine(&e))?
            .map_err(|e| StorageIOError::read_state_machine(&e))?;
        let data = SnapshotData { blocks }.encode();
        let snapshot_id = match self.applied {
            Some(id) => format!("{}-{}-{height}", id.leader_id.term, id.index),
            None => format!("none-{height}"),
        };
        let meta = SnapshotMeta { last_log_id: self.applied, last_membership: self.membership.clone(), snapshot_id };
        let current = CurrentSnapshot { meta: meta.clone(), data: data.clone() };
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(current);
        tracing::info!(height, bytes = data.len(), "snapshot built");
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) })
    }
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
        let (mut applied, _) = self.applied()?;
        let mut responses = Vec::new();
        for entry in entries {
            let log_id = entry.log_id;
            if Some(log_id) <= applied {
                // Already applied before a restart: the block and the pointer were written together.
                responses.push(Applied::default());
                continue;
            }
            let mut meta = vec![(APPLIED.to_string(), encode(&log_id))];
            let response = match entry.payload {
                EntryPayload::Blank => {
                    self.chain.store().put_meta(&meta).map_err(|e| StorageIOError::apply(log_id, &e))?;
                    Applied::default()
                }
                EntryPayload::Membership(m) => {
                    meta.push((MEMBERSHIP.to_string(), encode(&StoredMembership::new(Some(log_id), m))));
                    self.chain.store().put_meta(&meta).map_err(|e| StorageIOError::apply(log_id, &e))?;
                    Applied::default()
                }
                EntryPayload::Normal(proposal) => {
                    let proposal = BlockProposal::decode(&proposal.0).map_err(|e| StorageIOError::apply(log_id, &e))?;
                    let chain = self.chain.clone();
                    let consensus = ConsensusRef { term: log_id.leader_id.term, index: log_id.index };
                    let tip = tokio::task::spawn_blocking(move || chain.apply(&proposal, consensus, meta))
                        .await
                        .map_err(|e| StorageIOError::apply(log_id, &e))?
                        .map_err(|e| StorageIOError::apply(log_id, &e))?;
                    Applied { height: tip.map(|t| t.height) }
                }
            };
            applied = Some(log_id);
            responses.push(response);
        }
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        let (applied, membership) = self.applied().unwrap_or_default();
        SnapshotBuilder {
            chain: self.chain.clone(),
            height: self.chain.tip().height,
            applied,
            membership,
            current: self.snapshot.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError<u64>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, RaftNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<u64>> {
        let data = snapshot.into_inner();
        let decoded =
            SnapshotData::decode(&data).map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        let chain = self.chain.clone();
        let count = decoded.blocks.len();
        let tip = tokio::task::spawn_blocking(move || chain.install_blocks(decoded.blocks))
            .await
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        let mut written = vec![(MEMBERSHIP.to_string(), encode(&meta.last_membership))];
        if let Some(id) = meta.last_log_id {
            written.push((APPLIED.to_string(), encode(&id)));
        }
        self.chain
            .store()
            .put_meta(&written)
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        tracing::info!(blocks = count, height = tip.height, "snapshot installed");
        *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) = Some(CurrentSnapshot { meta: meta.clone(), data });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError<u64>> {
        let current = self.snapshot.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(current.map(|c| Snapshot { meta: c.meta, snapshot: Box::new(Cursor::new(c.data)) }))
    }
}
