use std::time::{Duration, Instant};

use billflow_storage::Store;
use billflow_types::dev::{DEV_TENANT, dev_genesis, dev_key};
use billflow_types::system::{RevokeKey, SystemCall, system_contract};
use billflow_types::{Genesis, SignedTx, Tx, TxStatus};

use super::*;

fn genesis(max_txs: u32, max_wait_ms: u64) -> Genesis {
    let mut g = dev_genesis();
    g.params.max_txs_per_block = max_txs;
    g.params.max_block_wait_ms = max_wait_ms;
    g
}

fn open(dir: &std::path::Path, g: &Genesis, capacity: usize) -> Chain {
    let config = ChainConfig { node_id: "n1".parse().unwrap(), mempool_capacity: capacity };
    Chain::open(Store::open(dir).unwrap(), g, config).unwrap()
}

fn call_tx(tx_id: &str, key: &str, call: &SystemCall) -> SignedTx {
    Tx {
        chain_id: dev_genesis().chain_id,
        tx_id: tx_id.parse().unwrap(),
        tenant: Some(DEV_TENANT.0.parse().unwrap()),
        signer: key.parse().unwrap(),
        contract: system_contract(),
        version: billflow_types::system::SYSTEM_VERSION,
        method: call.method_name(),
        args: call.encode_args(),
        timestamp_ms: now_ms(),
    }
    .sign(&dev_key(key))
}

fn registration(n: u64) -> SignedTx {
    billflow_types::dev::dev_registration(n, now_ms())
}

#[test]
fn the_mempool_deduplicates_and_bounds() {
    let mut pool = Mempool::new(2);
    let (a, b, c) = (registration(1), registration(2), registration(3));
    pool.push(a.clone(), a.hash()).unwrap();
    assert_eq!(pool.push(a.clone(), a.hash()), Err(Rejection::Duplicate(a.tx.tx_id.clone())));
    pool.push(b.clone(), b.hash()).unwrap();
    assert_eq!(pool.push(c.clone(), c.hash()), Err(Rejection::Busy(2)));
    assert_eq!(pool.take(5), vec![a.clone(), b]);
    // Proposed but not applied: still pending, still refused again.
    assert_eq!((pool.len(), pool.queued()), (2, 0));
    assert!(pool.contains(&a.tx.tx_id));
    pool.settle(&a.tx.tx_id);
    assert_eq!(pool.len(), 1);
}

#[tokio::test]
async fn proposals_are_cut_at_once_and_at_most_full() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), &genesis(3, 5_000), 100);
    for n in 1..=4 {
        assert_eq!(chain.submit(registration(n)).unwrap(), Ok(Submitted::Accepted));
    }
    let started = Instant::now();
    let full = chain.next_proposal().await;
    assert_eq!(full.txs.len(), 3, "at most max_txs_per_block");
    let rest = chain.next_proposal().await;
    assert_eq!(rest.txs.len(), 1);
    // Nothing queued: it waits for the next submission, then cuts at once.
    let waiting = {
        let chain = chain.clone();
        tokio::spawn(async move { chain.next_proposal().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "no proposal without a transaction");
    assert_eq!(chain.submit(registration(5)).unwrap(), Ok(Submitted::Accepted));
    let lone = tokio::time::timeout(Duration::from_secs(2), waiting).await.unwrap().unwrap();
    assert_eq!(lone.txs.len(), 1);
    assert!(
        started.elapsed() < Duration::from_millis(2_000),
        "a lone transaction never waits for max_block_wait_ms (5 s here): {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn submitting_again_never_executes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), &genesis(10, 10), 100);
    let tx = registration(1);
    assert_eq!(chain.submit(tx.clone()).unwrap(), Ok(Submitted::Accepted));
    assert_eq!(chain.submit(tx.clone()).unwrap(), Ok(Submitted::AlreadyPending));
    let proposal = chain.next_proposal().await;
    assert_eq!(chain.submit(tx.clone()).unwrap(), Ok(Submitted::AlreadyPending), "proposed, not yet applied");
    chain.apply(&proposal, ConsensusRef::default(), Vec::new()).unwrap();
    let Ok(Submitted::AlreadyCommitted(TxOutcome::Committed { location, receipt })) = chain.submit(tx.clone()).unwrap()
    else {
        panic!("expected the first result");
    };
    assert_eq!((location.height, receipt.status), (1, TxStatus::Success));
    // Same id, different content.
    let mut other = registration(2);
    other.tx.tx_id = tx.tx.tx_id.clone();
    let other = other.tx.sign(&dev_key(DEV_TENANT.1));
    assert_eq!(chain.submit(other).unwrap(), Err(Rejection::Duplicate(tx.tx.tx_id.clone())));
    assert_eq!(chain.tip().height, 1);
}

#[tokio::test]
async fn waiters_learn_commits_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), &genesis(10, 10), 100);
    let reg = registration(1);
    chain.submit(reg.clone()).unwrap().unwrap();
    let p = chain.next_proposal().await;
    chain.apply(&p, ConsensusRef::default(), Vec::new()).unwrap();

    // Admitted while its key was valid, then the key is revoked before the block.
    let by_ent = call_tx("by-ent", "e1.k1", &SystemCall::RevokeKey(RevokeKey { key_id: "e1.k1".parse().unwrap() }));
    chain.submit(by_ent.clone()).unwrap().unwrap();
    let waiter = {
        let chain = chain.clone();
        tokio::spawn(async move { chain.wait(&"by-ent".parse().unwrap(), Duration::from_secs(5)).await })
    };
    // The waiter registers before the block is applied (a rejection is not
    // stored: only a waiter present at the time hears of it).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queued = chain.next_proposal().await;
    let revoke =
        call_tx("revoke", DEV_TENANT.1, &SystemCall::RevokeKey(RevokeKey { key_id: "e1.k1".parse().unwrap() }));
    let revoke_proposal =
        BlockProposal { proposer: "n1".parse().unwrap(), proposed_at_ms: now_ms(), txs: vec![revoke] };
    chain.apply(&revoke_proposal, ConsensusRef::default(), Vec::new()).unwrap();
    chain.apply(&queued, ConsensusRef::default(), Vec::new()).unwrap();
    let outcome = waiter.await.unwrap().unwrap();
    assert_eq!(outcome, Some(TxOutcome::Rejected(Rejection::KeyRevoked("e1.k1".parse().unwrap()))));
    assert_eq!(chain.pending(), 0);

    // A waiter that arrives after the commit gets the recorded outcome at once.
    let late = chain.wait(&reg.tx.tx_id, Duration::from_secs(5)).await.unwrap();
    assert!(matches!(late, Some(TxOutcome::Committed { .. })));
    // And one for an unknown transaction times out with nothing.
    assert_eq!(chain.wait(&"nothing".parse().unwrap(), Duration::from_millis(50)).await.unwrap(), None);
}

#[tokio::test]
async fn the_single_node_loop_commits_until_shut_down() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), &genesis(10, 5), 100);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run_single_node(chain.clone(), stopped));
    for n in 1..=25 {
        chain.submit(registration(n)).unwrap().unwrap();
    }
    let outcome = chain.wait(&"reg-25".parse().unwrap(), Duration::from_secs(10)).await.unwrap();
    assert!(matches!(outcome, Some(TxOutcome::Committed { .. })));
    assert!(chain.tip().height >= 3, "25 transactions at 10 a block need at least 3 blocks");
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

/// A client told that its transaction committed sees its block at the tip at
/// once, on the path with a consensus log too, where the block files are
/// synced after the answers; the durable tip follows once they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_told_of_its_commit_sees_its_block_at_the_tip() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), &genesis(10, 10), 100);
    for n in 1..=20 {
        let tx = registration(n);
        let id = tx.tx.tx_id.clone();
        chain.submit(tx).unwrap().unwrap();
        let waiter = {
            let chain = chain.clone();
            tokio::spawn(async move {
                let outcome = chain.wait(&id, Duration::from_secs(5)).await.unwrap();
                (outcome, chain.tip().height)
            })
        };
        // The waiter registers before the block is applied.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let proposal = chain.next_proposal().await;
        let applying = chain.clone();
        let tips =
            tokio::task::spawn_blocking(move || applying.apply_all([(&proposal, ConsensusRef::default(), Vec::new())]))
                .await
                .unwrap()
                .unwrap();
        let (outcome, seen) = waiter.await.unwrap();
        let Some(TxOutcome::Committed { location, .. }) = outcome else { panic!("{outcome:?}") };
        assert!(seen >= location.height, "told of block {} while the tip was at {seen}", location.height);
        assert_eq!(tips.last().copied().flatten(), Some(chain.tip()));
        assert_eq!(chain.durable_tip(), chain.tip());
    }
}

#[tokio::test]
async fn each_committed_block_is_told_with_its_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), &genesis(10, 10), 100);
    let mut feed = chain.subscribe_committed();
    for n in 1..=2 {
        chain.submit(registration(n)).unwrap().unwrap();
    }
    let p = chain.next_proposal().await;
    chain.apply(&p, ConsensusRef::default(), Vec::new()).unwrap();
    let told = feed.try_recv().unwrap();
    assert_eq!(told.height, 1);
    assert_eq!(told.proposed_at_ms, p.proposed_at_ms);
    assert_eq!(told.outcomes.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [TxStatus::Success; 2]);
    assert!(told.outcomes.iter().all(|(_, fuel)| *fuel > 0), "{told:?}");
    let stored = chain.store().stored_block(1).unwrap().unwrap();
    assert_eq!(*told, CommittedBlock::of(&stored.block, &stored.receipts));

    // A proposal that makes no block (its only transaction is a duplicate) tells nothing.
    chain.apply(&p, ConsensusRef::default(), Vec::new()).unwrap();
    assert!(feed.try_recv().is_err());

    // A block installed whole (catching up) is told too.
    let other = tempfile::tempdir().unwrap();
    let behind = open(other.path(), &genesis(10, 10), 100);
    let mut feed = behind.subscribe_committed();
    behind.install_blocks([stored]).unwrap();
    assert_eq!(*feed.try_recv().unwrap(), *told);
}
