//! Raft-ordered replication across real node processes on loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use billflow_sdk::types::view::TxState;
use billflow_sdk::types::{ChainParams, SignedTx};
use billflow_sdk::{Client, Signer};
use billflow_tests::exclusive;
use tokio::sync::Mutex;

use crate::cluster::{Cluster, VOTERS_AND_OBSERVER};
use crate::register_enterprise;

fn tenant(c: &Cluster) -> Signer {
    c.tenant()
}

/// Submits and waits; `true` when committed.
pub(crate) async fn commit(client: &Client, tx: &SignedTx) -> bool {
    matches!(client.submit(tx, true).await, Ok(v) if v.status == TxState::Committed)
}

pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<SignedTx>>>,
    unacked: Arc<Mutex<Vec<SignedTx>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Bounded load: each client submits registrations one at a time until stopped.
pub(crate) fn load(clients: Vec<Client>, signer: Signer, first: u64) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<SignedTx>>> = Arc::default();
    let unacked: Arc<Mutex<Vec<SignedTx>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(first));
    let tasks = clients
        .into_iter()
        .map(|client| {
            let (stop, acked, unacked, next, signer) =
                (stop.clone(), acked.clone(), unacked.clone(), next.clone(), signer.clone());
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (tx, _, _) = register_enterprise(&signer, n, &format!("load-{n}"));
                    if commit(&client, &tx).await {
                        acked.lock().await.push(tx);
                    } else {
                        unacked.lock().await.push(tx);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    Load { stop, acked, unacked, tasks }
}

impl Load {
    /// How many transactions have been acknowledged so far.
    pub(crate) async fn acked_so_far(&self) -> usize {
        self.acked.lock().await.len()
    }

    pub(crate) async fn finish(self) -> (Vec<SignedTx>, Vec<SignedTx>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
        }
        let acked = self.acked.lock().await.clone();
        let unacked = self.unacked.lock().await.clone();
        (acked, unacked)
    }
}

pub(crate) async fn assert_all_recorded(c: &Cluster, node: usize, txs: &[SignedTx]) {
    let client = c.client(node);
    for tx in txs {
        let view = client.transaction(&tx.tx.tx_id).await.unwrap();
        assert_eq!(
            (view.status, view.tx_hash),
            (TxState::Committed, tx.hash()),
            "{} lost on {}",
            tx.tx.tx_id,
            c.name(node)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ledger_replicates_and_survives_losing_its_leader() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER, ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let signer = tenant(&c);

    // Transactions submitted at a follower are ordered by the leader and applied everywhere, observer included.
    for n in 0..10 {
        let (tx, _, _) = register_enterprise(&signer, n, &format!("first-{n}"));
        assert!(commit(&c.client(follower), &tx).await, "first-{n} not committed");
    }
    let height = c.wait_converged(&all, Duration::from_secs(20)).await;
    assert!(height >= 1);
    c.assert_same_chain(&all, height).await;

    // Every node attests every block; attestations travel, so each node holds them all.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let block = c.client(3).block(height).await.unwrap();
        if block.attestations.len() == 4 {
            break;
        }
        assert!(Instant::now() < deadline, "block {height} has {} attestations", block.attestations.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Kill the leader under load submitted at the other voters.
    let others: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    let running = load(others.iter().map(|i| c.client(*i)).collect(), signer.clone(), 1000);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed_at = Instant::now();
    c.kill(leader);
    let survivors: Vec<usize> = c.alive();
    let new_leader = c.wait_leader(&survivors, Duration::from_secs(10)).await;
    let failover = killed_at.elapsed();
    assert_ne!(new_leader, leader);
    // The time it took is a figure to read, not a condition: a slow host stretches it.
    eprintln!("new leader {} after {failover:?}", c.name(new_leader));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (acked, unacked) = running.finish().await;
    assert!(!acked.is_empty());

    // Nothing acknowledged is lost, and nothing submitted is silently dropped:
    // whatever did not come back committed commits when resubmitted, exactly once.
    assert_all_recorded(&c, new_leader, &acked).await;
    for tx in &unacked {
        assert!(commit(&c.client(others[0]), tx).await, "{} could not be resubmitted", tx.tx.tx_id);
    }
    assert_all_recorded(&c, others[1], &unacked).await;

    // The old leader comes back and catches up.
    c.restart(leader);
    let height = c.wait_converged(&all, Duration::from_secs(30)).await;
    c.assert_same_chain(&all, height).await;
    eprintln!("{} acknowledged before/around the kill, {} resubmitted; height {height}", acked.len(), unacked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_killed_under_load_catches_up() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let victim = (0..3).find(|i| *i != leader).unwrap();
    let signer = tenant(&c);
    let running = load(vec![c.client(leader), c.client(leader)], signer, 0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.kill(victim);
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.restart(victim);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (acked, _) = running.finish().await;
    let height = c.wait_converged(&all, Duration::from_secs(30)).await;
    c.assert_same_chain(&all, height).await;
    assert_all_recorded(&c, victim, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_isolated_voter_commits_nothing_and_converges_after_healing() {
    let _one = exclusive().await;
    let c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), true, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let isolated = (0..3).find(|i| *i != leader).unwrap();
    let majority: Vec<usize> = (0..3).filter(|i| *i != isolated).collect();
    let signer = tenant(&c);
    let (tx, _, _) = register_enterprise(&signer, 1, "before-cut");
    assert!(commit(&c.client(leader), &tx).await);
    c.wait_converged(&all, Duration::from_secs(20)).await;

    c.isolate(isolated);
    let cut_height = c.height(isolated).await;
    for n in 0..15 {
        let (tx, _, _) = register_enterprise(&signer, 100 + n, &format!("during-cut-{n}"));
        assert!(commit(&c.client(majority[0]), &tx).await, "the majority stopped committing");
    }
    let majority_height = c.wait_converged(&majority, Duration::from_secs(20)).await;
    assert!(majority_height > cut_height);
    // The cut-off voter cannot commit anything, not even what is submitted to it.
    let (tx, _, _) = register_enterprise(&signer, 999, "at-isolated");
    let attempt = c.client(isolated).submit(&tx, true).await;
    assert!(!matches!(attempt, Ok(ref v) if v.status == TxState::Committed), "{attempt:?}");
    assert_eq!(c.height(isolated).await, cut_height);
    // Cut off, it is not ready for traffic, and says why.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = crate::operations::get(&c, isolated, "/v1/ready").await;
        if status == 503 {
            assert!(body.contains("E_NOT_READY") && body.contains("no consensus leader"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "the isolated voter still says it is ready: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    c.heal();
    let height = c.wait_converged(&all, Duration::from_secs(30)).await;
    assert!(height >= majority_height);
    c.assert_same_chain(&all, height).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_added_after_thousands_of_blocks_catches_up() {
    use billflow_genesis::{Ca, NodeCertSpec};
    use billflow_sdk::types::system::{AdminAction, ApproveAdmin, ProposeAdmin, SystemCall};
    use billflow_sdk::types::{NodeRole, OrgRole, SecretKey};

    let _one = exclusive().await;
    // One transaction a block, and snapshots every 300 entries, so that the log the
    // new node needs has long been purged and it must install a snapshot.
    let params = ChainParams { max_txs_per_block: 1, ..ChainParams::default() };
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], params, false, Some(300)).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let signer = tenant(&c);
    let running = load((0..16).map(|_| c.client(leader)).collect(), signer, 0);
    let deadline = Instant::now() + Duration::from_secs(240);
    while c.height(leader).await < 2000 {
        assert!(Instant::now() < deadline, "2000 blocks took too long");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (acked, _) = running.finish().await;

    // A new bank node: certificate from its organisation's CA, configuration naming the members.
    let dir = c.dir.path().to_path_buf();
    let org_dir = c.org_dir("bank-b");
    let ca = Ca::load(&org_dir.join("ca.pem"), &org_dir.join("ca.key")).unwrap();
    let key = SecretKey::generate();
    let now = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let spec = NodeCertSpec {
        node_id: "bank-b-2".parse().unwrap(),
        org: "bank-b".parse().unwrap(),
        role: OrgRole::Bank,
        hosts: vec![],
        not_before: now,
        not_after: now + time::Duration::days(30),
    };
    let cert = ca.issue_node(&spec, &key).unwrap();
    let node_dir = org_dir.join("nodes/bank-b-2");
    std::fs::create_dir_all(&node_dir).unwrap();
    std::fs::write(node_dir.join("node.pem"), &cert.pem).unwrap();
    std::fs::write(node_dir.join("node.key"), billflow_genesis::keys::pkcs8_pem(&key)).unwrap();
    let (config_path, p2p) = c.joiner_config("bank-b-2", "bank-b", Some(300));
    let started = Instant::now();
    let newcomer = billflow_tests::NodeProcess::start_configured(&config_path).unwrap();

    // Two of three organisations admit it.
    let add = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "add-bank-b-2".parse().unwrap(),
        action: AdminAction::AddNode {
            node: "bank-b-2".parse().unwrap(),
            org: "bank-b".parse().unwrap(),
            public_key: key.public(),
            role: NodeRole::Voter,
            address: p2p,
        },
    });
    let approve = SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: "add-bank-b-2".parse().unwrap() });
    let a = billflow_tests::org_admin(&dir, &c.out.genesis, "notary-a").unwrap();
    let b = billflow_tests::org_admin(&dir, &c.out.genesis, "bank-b").unwrap();
    assert!(commit(&c.client(leader).with_auth(a.clone()), &a.system("adm-1".parse().unwrap(), &add)).await);
    let r = c
        .client(leader)
        .with_auth(b.clone())
        .submit(&b.system("adm-2".parse().unwrap(), &approve), true)
        .await
        .unwrap();
    assert!(r.receipt.unwrap().events.iter().any(|e| e.topic == "node.added"));

    c.nodes.push(Some(newcomer));
    let everyone: Vec<usize> = c.alive();
    let height = c.wait_converged(&everyone, Duration::from_secs(120)).await;
    eprintln!(
        "bank-b-2 caught up to height {height} in {:?} ({} transactions before it joined)",
        started.elapsed(),
        acked.len()
    );
    assert!(height >= 2000);
    // It caught up through a snapshot, received into a file and kept as its
    // current one. Beside it there may be one transfer the leader began and
    // left when log replication could take over: Raft holds it open until the
    // next transfer, and the next snapshot removes it.
    let snapshots: Vec<String> = std::fs::read_dir(node_dir.join("data/snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let kept = snapshots.iter().filter(|name| name.ends_with(".snap")).count();
    let transfers = snapshots.iter().filter(|name| name.starts_with("incoming-") && name.ends_with(".part")).count();
    assert!(
        kept == 1 && transfers <= 1 && kept + transfers == snapshots.len(),
        "the newcomer's snapshot directory holds {snapshots:?}"
    );
    for h in (0..=height).step_by(97).chain([height]) {
        let mut hashes = Vec::new();
        for &i in &everyone {
            let b = c.client(i).block(h).await.unwrap();
            hashes.push((b.hash, b.header.state_hash));
        }
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "height {h} differs: {hashes:?}");
    }
    assert_all_recorded(&c, everyone.len() - 1, &acked[..50]).await;
    // It takes part from now on: a transaction submitted to it commits.
    let (tx, _, _) = register_enterprise(&tenant(&c), 900_000, "via-newcomer");
    assert!(commit(&c.client(everyone.len() - 1), &tx).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_emptied_node_installs_its_peers_checked_blocks_then_follows_raft() {
    let _one = exclusive().await;
    // One transaction a block, so that a few hundred blocks pile up quickly.
    let params = ChainParams { max_txs_per_block: 1, ..ChainParams::default() };
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER, params, false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all[..3], Duration::from_secs(20)).await;
    let observer = 3;
    c.kill(observer);
    std::fs::remove_dir_all(c.data_dir(observer)).unwrap();
    let running = load((0..8).map(|_| c.client(leader)).collect(), tenant(&c), 0);
    let deadline = Instant::now() + Duration::from_secs(180);
    while c.height(leader).await < 400 {
        assert!(Instant::now() < deadline, "400 blocks took too long");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (acked, _) = running.finish().await;
    let behind = c.height(leader).await;

    c.restart(observer);
    let height = c.wait_converged(&all, Duration::from_secs(120)).await;
    c.assert_same_chain(&all, height).await;
    assert_all_recorded(&c, observer, &acked).await;
    // It takes part from now on: a transaction submitted to it commits.
    let (tx, _, _) = register_enterprise(&tenant(&c), 900_000, "via-caught-up");
    assert!(commit(&c.client(observer), &tx).await);
    // What it installed and executed since is what `verify` replays. It
    // installed the blocks it lacked from a peer, checked, rather than
    // executing them again from the Raft log: its log holds only the entries
    // after them (replaying would have kept one for each of the blocks).
    c.kill(observer);
    let (ok, report) = billflow_tests::verify(&c.data_dir(observer)).unwrap();
    assert!(ok, "{report}");
    let entries: u64 = report
        .split("consensus log verified: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no consensus log figure in {report}"));
    assert!(entries < behind / 2, "{entries} log entries for {behind} blocks behind: {report}");
}
