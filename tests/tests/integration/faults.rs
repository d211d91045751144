//! The fault suite: three voters, each in a network namespace of its own (a
//! host of its own, joined by a switch), under a bounded load of business
//! transactions, while links are cut, flap, lose packets or are throttled,
//! the leader's disk is slowed (it hands its role over) and nodes are killed. After
//! every scenario all nodes converge to the same blocks and state, and every
//! acknowledged transaction is on every node. Each scenario prints its
//! convergence check and recovery times.
//!
//! `cargo test` runs the short version. `BILLFLOW_FAULTS=full` runs the long
//! one (20 restarts in a row, longer cuts and flapping):
//! `BILLFLOW_FAULTS=full cargo test -p billflow-tests --test integration faults:: -- --nocapture`.
//! Needs root, for `ip netns`, `nft` and the blkio cgroup.

use std::time::{Duration, Instant};

use billflow_sdk::types::ChainParams;
use billflow_tests::exclusive;
use billflow_tests::netns::Degradation;
use billflow_tests::throttle::SlowDisk;

use crate::cluster::{Cluster, VOTERS_AND_OBSERVER};
use crate::operations::node_cmd;
use crate::raft::{Load, assert_all_recorded, commit, load};
use crate::register_enterprise;

/// A random duration in `lo..hi` milliseconds (std's randomly seeded hasher).
fn random_ms(lo: u64, hi: u64) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new().build_hasher().finish();
    Duration::from_millis(lo + r % (hi - lo))
}

fn full() -> bool {
    std::env::var("BILLFLOW_FAULTS").is_ok_and(|v| v == "full")
}

async fn start() -> Cluster {
    Cluster::start_in_namespaces(&VOTERS_AND_OBSERVER[..3], ChainParams::default()).await
}

/// Stops the load, waits until every node converges, compares the chains and
/// finds every acknowledged transaction on every node. Returns the time to converge.
async fn converge(c: &Cluster, scenario: &str, running: Load) -> Duration {
    let (acked, _) = running.finish().await;
    assert!(!acked.is_empty(), "{scenario}: nothing was acknowledged");
    let all = c.alive();
    let started = Instant::now();
    let height = c.wait_converged(&all, Duration::from_secs(60)).await;
    let took = started.elapsed();
    c.assert_same_chain(&all, height).await;
    for &i in &all {
        assert_all_recorded(c, i, &acked).await;
    }
    eprintln!(
        "{scenario}: converged at height {height} in {took:?}; same blocks and state on {} nodes; \
         all {} acknowledged transactions on each",
        all.len(),
        acked.len()
    );
    took
}

fn load_on(c: &Cluster, nodes: &[usize], first: u64) -> Load {
    load(nodes.iter().map(|i| c.client(*i)).collect(), c.tenant(), first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_isolated_leader_is_replaced_and_rejoins() {
    let _one = exclusive().await;
    let c = start().await;
    let all = c.alive();
    let fabric = c.fabric.as_ref().unwrap();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let others: Vec<usize> = all.iter().copied().filter(|i| *i != leader).collect();
    let running = load_on(&c, &others, 0);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // It commits nothing alone once cut off: what it holds then is where it restarts from.
    let cut_height = c.height(leader).await;
    let cut_at = Instant::now();
    fabric.cut(leader).unwrap();
    // Recovery: until a transaction submitted to a surviving node commits again.
    let mut n = 800_000;
    loop {
        let (tx, _, _) = register_enterprise(&c.tenant(), n, &format!("after-cut-{n}"));
        if commit(&c.client(others[0]), &tx).await {
            break;
        }
        assert!(cut_at.elapsed() < Duration::from_secs(30), "nothing commits after the leader was cut off");
        n += 1;
    }
    let resumed = cut_at.elapsed();
    let new_leader = c.wait_leader(&others, Duration::from_secs(20)).await;
    assert_ne!(new_leader, leader);
    tokio::time::sleep(Duration::from_secs(if full() { 20 } else { 4 })).await;
    let target = c.height(others[0]).await;
    fabric.mend(leader).unwrap();
    let mended_at = Instant::now();
    // Two steps: its links carry again and it follows the new leader (the
    // network's part), then it applies the blocks it missed. Each look is
    // bounded, so that one slow answer does not hold the figures up.
    let quick = Duration::from_millis(300);
    let new_name = c.name(new_leader);
    let mut followed = None;
    while tokio::time::timeout(quick, c.height(leader)).await.unwrap_or(0) < target {
        if followed.is_none() {
            let view = tokio::time::timeout(quick, c.view(leader)).await.ok().flatten();
            if view.and_then(|v| v.leader).as_deref() == Some(new_name.as_str()) {
                followed = Some(mended_at.elapsed());
            }
        }
        assert!(mended_at.elapsed() < Duration::from_secs(60), "the old leader does not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back = mended_at.elapsed();
    let followed = followed.unwrap_or(back);
    eprintln!(
        "leader isolated: commits resumed {resumed:?} after the cut (new leader {new_name}); after its link \
         came back, the old leader followed the new one in {followed:?} and was back at the others' height \
         in {back:?}, {} blocks applied",
        target.saturating_sub(cut_height)
    );
    converge(&c, "leader isolated", running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flapping_link_loses_nothing() {
    let _one = exclusive().await;
    let c = start().await;
    let all = c.alive();
    let fabric = c.fabric.as_ref().unwrap();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let flapping = all.iter().copied().find(|i| *i != leader).unwrap();
    let running = load_on(&c, &all, 10_000);
    let flaps = if full() { 40 } else { 10 };
    for _ in 0..flaps {
        fabric.cut(flapping).unwrap();
        tokio::time::sleep(random_ms(200, 1200)).await;
        fabric.mend(flapping).unwrap();
        tokio::time::sleep(random_ms(200, 1200)).await;
    }
    converge(&c, &format!("flapping link ({flaps} cuts of 0.2 to 1.2 s)"), running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_and_restarted_again_and_again_loses_nothing_and_verifies() {
    let _one = exclusive().await;
    let mut c = start().await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let victim = all.iter().copied().find(|i| *i != leader).unwrap();
    let steady: Vec<usize> = all.iter().copied().filter(|i| *i != victim).collect();
    let running = load_on(&c, &steady, 20_000);
    let rounds = if full() { 20 } else { 5 };
    let mut back = Vec::new();
    for round in 0..rounds {
        // A random moment: blocks commit every few milliseconds under this load.
        tokio::time::sleep(random_ms(100, 900)).await;
        c.kill(victim);
        if round == rounds - 1 {
            // The data a SIGKILL left behind checks from end to end.
            let data = c.data_dir(victim);
            let (ok, text) = node_cmd(&["verify".as_ref(), "--data".as_ref(), data.as_os_str()]);
            assert!(ok, "{text}");
            eprintln!("after the last kill: {}", text.trim());
        }
        let restarted = Instant::now();
        c.restart(victim);
        let target = c.height(steady[0]).await;
        while c.height(victim).await < target {
            assert!(restarted.elapsed() < Duration::from_secs(60), "round {round}: not back in step");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        back.push(restarted.elapsed());
    }
    let mean = back.iter().sum::<Duration>() / rounds;
    let worst = back.iter().max().unwrap();
    eprintln!("{rounds} restarts under load: back in step in {mean:?} on average, {worst:?} at worst");
    converge(&c, &format!("{rounds} kills and restarts"), running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_power_cut_of_the_whole_cluster_loses_nothing_acknowledged() {
    let _one = exclusive().await;
    let mut c = start().await;
    let all = c.alive();
    c.wait_leader(&all, Duration::from_secs(20)).await;
    let running = load_on(&c, &all, 30_000);
    tokio::time::sleep(Duration::from_secs(if full() { 10 } else { 3 })).await;
    for &i in &all {
        c.kill(i);
    }
    let (acked, _) = running.finish().await;
    let restarted = Instant::now();
    for &i in &all {
        c.restart(i);
    }
    let leader = c.wait_leader(&all, Duration::from_secs(30)).await;
    let elected = restarted.elapsed();
    let (tx, _, _) = register_enterprise(&c.tenant(), 900_000, "after-power-cut");
    assert!(commit(&c.client(leader), &tx).await, "nothing commits after the power cut");
    let committing = restarted.elapsed();
    let height = c.wait_converged(&all, Duration::from_secs(60)).await;
    c.assert_same_chain(&all, height).await;
    for &i in &all {
        assert_all_recorded(&c, i, &acked).await;
    }
    eprintln!(
        "power cut: leader elected {elected:?} after the restart, committing again after {committing:?}; \
         converged at height {height} with all {} acknowledged transactions on each node",
        acked.len()
    );
}

/// Transactions acknowledged in a window of `load` while `during` runs,
/// and a line saying how that compares with the same window before.
async fn rate_while(load: &Load, window: Duration, during: impl AsyncFnOnce()) -> (usize, String) {
    let start = load.acked_so_far().await;
    tokio::time::sleep(window).await;
    let before = load.acked_so_far().await - start;
    during().await;
    let degraded = load.acked_so_far().await - start - before;
    let per_s = |n: usize| n as f64 / window.as_secs_f64();
    (degraded, format!("{:.0} tx/s acknowledged before, {:.0} tx/s during", per_s(before), per_s(degraded)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lossy_and_slow_links_lose_nothing() {
    let _one = exclusive().await;
    let c = start().await;
    let all = c.alive();
    let fabric = c.fabric.as_ref().unwrap();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let lossy = all.iter().copied().find(|i| *i != leader).unwrap();
    let running = load_on(&c, &all, 40_000);
    let window = Duration::from_secs(if full() { 30 } else { 6 });
    let slow = Degradation { loss_percent: 0, rate_kbit: Some(2_000) };
    let lost = Degradation { loss_percent: 10, rate_kbit: None };
    // The members' connections, to see that a slow or lossy link is not
    // taken for a dead one (the transport closes a link that acknowledges nothing).
    let links = |k: usize| fabric.connections(k, 7100).unwrap();
    let before: Vec<_> = [leader, lossy].map(links).into();
    let mut during = Vec::new();
    let (degraded, rates) = rate_while(&running, window, async || {
        fabric.degrade(leader, slow).unwrap();
        fabric.degrade(lossy, lost).unwrap();
        tokio::time::sleep(window).await;
        during = [leader, lossy].map(links).into();
        fabric.restore(leader).unwrap();
        fabric.restore(lossy).unwrap();
    })
    .await;
    assert!(degraded > 0, "nothing committed over the lossy and slow links");
    let kept: usize = before.iter().zip(&during).map(|(b, d)| b.intersection(d).count()).sum();
    let total: usize = before.iter().map(|b| b.len()).sum();
    eprintln!(
        "lossy and slow links (the leader's shaped to 2 Mbit/s, a follower's losing 10%) for {window:?}: {rates}; \
         {kept} of their {total} connections kept throughout"
    );
    assert_eq!(kept, total, "a slow or lossy link was taken for a dead one: {before:?} became {during:?}");
    converge(&c, "lossy and slow links", running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_on_a_slow_disk_hands_over_and_loses_nothing() {
    let _one = exclusive().await;
    let c = start().await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    // 1 MiB/s and 50 writes a second: a failing disk or a starved volume.
    let disk = match SlowDisk::new(&c.data_dir(leader), 1 << 20, 50) {
        Ok(disk) => disk,
        Err(e) => {
            eprintln!("slow disk: not run on this machine: {e:#}");
            return;
        }
    };
    let running = load_on(&c, &all, 50_000);
    let window = Duration::from_secs(if full() { 30 } else { 6 });
    let per_s = |n: usize, over: Duration| n as f64 / over.as_secs_f64();
    let start = running.acked_so_far().await;
    tokio::time::sleep(window).await;
    let before = running.acked_so_far().await - start;

    disk.add(c.nodes[leader].as_ref().unwrap().pid()).unwrap();
    let slowed_at = Instant::now();
    let at_slowing = running.acked_so_far().await;
    // It commits blocks later than its followers and hands its role over.
    let new_leader = loop {
        if let Some(l) = c.agreed_leader(&all).await.filter(|l| *l != leader) {
            break l;
        }
        assert!(
            slowed_at.elapsed() < Duration::from_secs(60),
            "the leader on the slow disk kept its role; its log ends:\n{}",
            c.log_tail(leader, 40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let handed = slowed_at.elapsed();
    let at_handover = running.acked_so_far().await;
    // The disk stays slow: the ledger commits at the pace of the others.
    tokio::time::sleep(window).await;
    let after = running.acked_so_far().await - at_handover;
    drop(disk);
    assert!(after > 0, "nothing committed under the new leader");
    eprintln!(
        "slow disk under the leader (1 MiB/s, 50 writes/s): {:.0} tx/s before; {} took over {handed:?} after \
         the disk slowed, {:.0} tx/s until then; {:.0} tx/s over the {window:?} after, the disk still slow",
        per_s(before, window),
        c.name(new_leader),
        per_s(at_handover - at_slowing, handed),
        per_s(after, window),
    );
    converge(&c, "slow disk under the leader", running).await;
}
