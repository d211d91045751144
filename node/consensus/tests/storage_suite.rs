//! openraft's conformance suite for the Raft log ([`LogStore`]) and the state
//! machine ([`StateMachine`]), one test per case, each on a fresh store and
//! chain; then what the suite cannot check here: entries that carry block
//! proposals, and what a restart sees.
//!
//! Every case of `openraft::testing::Suite::test_store` runs. The suite builds
//! only blank and membership entries (openraft cannot make a `C::D`), so the
//! cases below it apply real proposals.

// openraft's storage traits fix the (large) error type.
#![allow(clippy::result_large_err, clippy::unwrap_used)]

use billflow_chain::{Chain, ChainConfig};
use billflow_consensus::{Applied, LogStore, Proposal, StateMachine, TypeConfig};
use billflow_storage::Store;
use billflow_types::Canonical;
use billflow_types::dev::{dev_genesis, dev_registration};
use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::testing::{StoreBuilder, Suite, blank_ent, log_id};
use openraft::{Entry, EntryPayload, LogId, RaftLogReader, RaftSnapshotBuilder, StorageError, StorageIOError, Vote};
use tempfile::TempDir;

/// A fresh store in a temporary directory, with a chain on the development
/// genesis; the directory goes when the case is done.
struct Fresh;

fn chain_on(store: Store) -> Result<Chain, StorageError<u64>> {
    let config = ChainConfig { node_id: "n1".parse().map_err(|e| StorageIOError::write(&e))?, mempool_capacity: 100 };
    Chain::open(store, &dev_genesis(), config).map_err(|e| StorageIOError::write(&e).into())
}

fn open(dir: &TempDir) -> Result<(LogStore, StateMachine, Chain), StorageError<u64>> {
    let store = Store::open(dir.path()).map_err(|e| StorageIOError::write(&e))?;
    let chain = chain_on(store.clone())?;
    let sm = StateMachine::new(chain.clone()).map_err(|e| StorageIOError::write(&e))?;
    Ok((LogStore::new(store), sm, chain))
}

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for Fresh {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError<u64>> {
        let dir = tempfile::tempdir().map_err(|e| StorageIOError::write(&e))?;
        let (log, sm, _) = open(&dir)?;
        Ok((dir, log, sm))
    }
}

type Conformance = Suite<TypeConfig, LogStore, StateMachine, Fresh, TempDir>;

/// One test per case of the suite, each on a store of its own.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() -> Result<(), StorageError<u64>> {
            // The directory outlives the store and the state machine, which the case consumes.
            let (_dir, log, sm) = Fresh.build().await?;
            Conformance::$case(log, sm).await
        }
    )*};
}

// The cases of `Suite::test_store` in openraft 0.9.25, in its order.
conformance!(
    last_membership_in_log_initial,
    last_membership_in_log,
    last_membership_in_log_multi_step,
    get_membership_initial,
    get_membership_from_log_and_empty_sm,
    get_membership_from_empty_log_and_sm,
    get_membership_from_log_le_sm_last_applied,
    get_membership_from_log_gt_sm_last_applied_1,
    get_membership_from_log_gt_sm_last_applied_2,
    get_initial_state_without_init,
    get_initial_state_membership_from_log_and_sm,
    get_initial_state_with_state,
    get_initial_state_last_log_gt_sm,
    get_initial_state_last_log_lt_sm,
    get_initial_state_log_ids,
    get_initial_state_re_apply_committed,
    save_vote,
    get_log_entries,
    limited_get_log_entries,
    try_get_log_entry,
    initial_logs,
    get_log_state,
    get_log_id,
    last_id_in_log,
    last_applied_state,
    purge_logs_upto_0,
    purge_logs_upto_5,
    purge_logs_upto_20,
    delete_logs_since_11,
    delete_logs_since_0,
    append_to_log,
    snapshot_meta,
    apply_single,
    apply_multiple,
);

#[tokio::test]
async fn transfer_snapshot() -> Result<(), StorageError<u64>> {
    Conformance::transfer_snapshot(&Fresh).await
}

/// A Raft entry carrying the next proposal `chain` cuts, with one registration in it.
async fn proposal_entry(chain: &Chain, n: u64, log_id: LogId<u64>) -> Entry<TypeConfig> {
    assert!(chain.submit(dev_registration(n, billflow_chain::now_ms())).unwrap().is_ok());
    let proposal = chain.next_proposal().await;
    Entry { log_id, payload: EntryPayload::Normal(Proposal(proposal.encode())) }
}

#[tokio::test]
async fn a_proposal_applies_as_one_block_and_is_not_applied_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut sm, chain) = open(&dir).unwrap();
    let entries = vec![
        blank_ent::<TypeConfig>(1, 0, 1),
        proposal_entry(&chain, 1, log_id(1, 0, 2)).await,
        proposal_entry(&chain, 2, log_id(1, 0, 3)).await,
    ];
    let answers = sm.apply(entries.clone()).await.unwrap();
    assert_eq!(answers, [Applied { height: None }, Applied { height: Some(1) }, Applied { height: Some(2) }]);
    let header = chain.store().block(2).unwrap().unwrap().header;
    assert_eq!((header.consensus.term, header.consensus.index), (1, 3));
    drop((sm, chain));

    // openraft re-sends the committed entries after a restart: the ones the
    // ledger holds are skipped, the next one applies.
    let (_, mut sm, chain) = open(&dir).unwrap();
    assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(1, 0, 3)));
    let mut again = entries;
    again.push(proposal_entry(&chain, 3, log_id(2, 0, 4)).await);
    let answers = sm.apply(again).await.unwrap();
    assert_eq!(answers[..3], [Applied::default(), Applied::default(), Applied::default()]);
    assert_eq!(answers[3], Applied { height: Some(3) });
    assert_eq!(chain.tip().height, 3);
    assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(2, 0, 4)));
}

#[tokio::test]
async fn an_entry_that_is_not_a_proposal_is_a_storage_error_and_is_not_recorded_as_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut sm, chain) = open(&dir).unwrap();
    sm.apply([blank_ent::<TypeConfig>(1, 0, 1)]).await.unwrap();
    let garbage = Entry { log_id: log_id(1, 0, 2), payload: EntryPayload::Normal(Proposal(vec![0xff; 7])) };
    // A storage error stops Raft: a leader wrote something no node can apply.
    let err = sm.apply([garbage]).await.unwrap_err();
    assert!(err.to_string().contains("Apply"), "{err}");
    assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(1, 0, 1)));
    assert_eq!(chain.tip().height, 0);
}

#[tokio::test]
async fn the_log_vote_commit_point_and_purge_point_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _, _) = open(&dir).unwrap();
        log.blocking_append((1..=6).map(|i| blank_ent::<TypeConfig>(1, 0, i))).await.unwrap();
        log.save_vote(&Vote::new_committed(1, 0)).await.unwrap();
        log.save_committed(Some(log_id(1, 0, 5))).await.unwrap();
        log.purge(log_id(1, 0, 2)).await.unwrap();
        log.truncate(log_id(1, 0, 6)).await.unwrap();
    }
    let (mut log, _, _) = open(&dir).unwrap();
    let state = log.get_log_state().await.unwrap();
    assert_eq!((state.last_purged_log_id, state.last_log_id), (Some(log_id(1, 0, 2)), Some(log_id(1, 0, 5))));
    assert_eq!(log.read_vote().await.unwrap(), Some(Vote::new_committed(1, 0)));
    assert_eq!(log.read_committed().await.unwrap(), Some(log_id(1, 0, 5)));
    let indexes: Vec<u64> = log.try_get_log_entries(0..).await.unwrap().iter().map(|e| e.log_id.index).collect();
    assert_eq!(indexes, [3, 4, 5]);
}

#[tokio::test]
async fn an_installed_snapshot_is_kept_by_the_state_machine_even_when_handed_over_whole() {
    // openraft streams a snapshot into the file `begin_receiving_snapshot`
    // made; the suite's transfer case hands over another state machine's file
    // instead. The follower must then keep a copy of its own.
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let (_, mut leader, _) = open(&dirs[0]).unwrap();
    let (_, mut follower, _) = open(&dirs[1]).unwrap();
    leader.apply([blank_ent::<TypeConfig>(1, 0, 1)]).await.unwrap();
    let first = leader.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let mut incoming = follower.begin_receiving_snapshot().await.unwrap();
    *incoming = *first.snapshot;
    follower.install_snapshot(&first.meta, incoming).await.unwrap();

    // The leader's next snapshot replaces its first one.
    leader.apply([blank_ent::<TypeConfig>(1, 0, 2)]).await.unwrap();
    leader.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let kept = follower.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(kept.meta, first.meta);
    assert_eq!(follower.applied_state().await.unwrap().0, Some(log_id(1, 0, 1)));
}

#[tokio::test]
async fn a_snapshot_is_not_built_on_an_applied_id_that_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut sm, chain) = open(&dir).unwrap();
    sm.apply([blank_ent::<TypeConfig>(1, 0, 1)]).await.unwrap();
    chain.store().put_meta(&[("raft/applied".to_string(), vec![0xff; 3])]).unwrap();
    assert!(sm.applied_state().await.is_err());
    let built = sm.get_snapshot_builder().await.build_snapshot().await;
    assert!(built.is_err(), "a snapshot built on an unreadable applied id: {:?}", built.map(|s| s.meta));
}

#[tokio::test]
async fn the_log_is_checked_against_the_blocks_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, mut sm, chain) = open(&dir).unwrap();
    let entries = vec![
        blank_ent::<TypeConfig>(1, 0, 1),
        proposal_entry(&chain, 1, log_id(1, 0, 2)).await,
        proposal_entry(&chain, 2, log_id(1, 0, 3)).await,
    ];
    log.blocking_append(entries.clone()).await.unwrap();
    sm.apply(entries.clone()).await.unwrap();
    let report = billflow_consensus::verify_log(chain.store()).unwrap();
    assert_eq!((report.entries, report.blocks), (3, 2));

    // Entry 3 replaced (cut and written again) by another proposal: named.
    let store = chain.store();
    let replace = |bytes: Vec<u8>| {
        store.raft_truncate(3).unwrap();
        store.raft_append(&[(3, bytes)]).unwrap();
    };
    let other = proposal_entry(&chain, 3, log_id(1, 0, 3)).await;
    replace(postcard::to_stdvec(&other).unwrap());
    let err = billflow_consensus::verify_log(store).unwrap_err();
    assert!(err.contains("entry 3 is not the proposal block 2 was made from"), "{err}");
    // Its term changed: named.
    let mut moved = entries[2].clone();
    moved.log_id = log_id(2, 0, 3);
    replace(postcard::to_stdvec(&moved).unwrap());
    let err = billflow_consensus::verify_log(store).unwrap_err();
    assert!(err.contains("entry 3 has term 2; block 2 says 1"), "{err}");
    // Garbage, and an entry stored under another index: named.
    replace(b"garbage".to_vec());
    assert!(billflow_consensus::verify_log(store).unwrap_err().contains("entry 3 does not decode"));
    replace(postcard::to_stdvec(&entries[1]).unwrap());
    assert!(billflow_consensus::verify_log(store).unwrap_err().contains("entry 3 says it is entry 2"));
    // A gap: the log refuses to make one (a gap written into its files is
    // refused when the store opens: the tamper suite).
    replace(postcard::to_stdvec(&entries[2]).unwrap());
    assert!(store.raft_append(&[(5, postcard::to_stdvec(&blank_ent::<TypeConfig>(1, 0, 5)).unwrap())]).is_err());
    assert_eq!(billflow_consensus::verify_log(store).unwrap(), report);
}
