//! Operations: an online backup of a voter under load, a restore into a new
//! data directory, and the restored node rejoining and catching up; bad
//! backups and occupied directories refused without leaving anything behind.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use billflow_sdk::types::ChainParams;
use billflow_tests::exclusive;

use crate::cluster::{Cluster, VOTERS_AND_OBSERVER};
use crate::raft::{assert_all_recorded, commit, load};
use crate::register_enterprise;

pub(crate) fn node_cmd(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(billflow_tests::node_binary().unwrap()).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// GET `path` from node `i` over HTTPS: status and body.
pub(crate) async fn get(c: &Cluster, i: usize, path: &str) -> (u16, String) {
    let node = c.nodes[i].as_ref().expect("node is running");
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(ca) = &node.ca_pem {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap());
    }
    let r = builder.build().unwrap().get(format!("{}{path}", node.url)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of an unlabelled sample in a Prometheus exposition.
fn sample(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_voter_restored_from_an_online_backup_rejoins_and_catches_up() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let victim = (0..3).find(|i| *i != leader).unwrap();
    let survivor = (0..3).find(|i| *i != leader && *i != victim).unwrap();
    let signer = c.tenant();
    let running = load(vec![c.client(leader), c.client(survivor)], signer.clone(), 0);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Online: the node keeps running and committing while it is backed up.
    let backup = c.dir.path().join("victim.backup");
    let data = c.data_dir(victim);
    let started = Instant::now();
    let (ok, text) =
        node_cmd(&["backup".as_ref(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), backup.as_os_str()]);
    assert!(ok, "{text}");
    eprintln!("{} (took {:?})", text.trim(), started.elapsed());
    let backed_up: u64 = text.split("blocks 0 to ").nth(1).and_then(|t| t.split(',').next()).unwrap().parse().unwrap();
    assert!(backed_up > 0, "{text}");
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The disk is lost: the node stops and its data is gone.
    c.kill(victim);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (acked, _) = running.finish().await;
    let height_at_loss = c.height(leader).await;
    assert!(height_at_loss > backed_up, "the cluster committed past the backup");
    std::fs::remove_dir_all(&data).unwrap();

    // Refusals that leave nothing behind.
    let garbage = c.dir.path().join("garbage.backup");
    std::fs::write(&garbage, b"not a backup at all").unwrap();
    let (ok, text) =
        node_cmd(&["restore".as_ref(), "--backup".as_ref(), garbage.as_os_str(), "--data".as_ref(), data.as_os_str()]);
    assert!(!ok && text.contains("not a valid snapshot"), "{text}");
    assert!(!data.exists() && !data.with_extension("restoring").exists());
    let occupied = c.dir.path().join("occupied");
    std::fs::create_dir_all(occupied.join("index")).unwrap();
    let (ok, text) = node_cmd(&[
        "restore".as_ref(),
        "--backup".as_ref(),
        backup.as_os_str(),
        "--data".as_ref(),
        occupied.as_os_str(),
    ]);
    assert!(!ok && text.contains("not empty"), "{text}");
    assert!(occupied.join("index").is_dir() && !occupied.join("blocks").exists());
    let cut = c.dir.path().join("cut.backup");
    let bytes = std::fs::read(&backup).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let (ok, text) =
        node_cmd(&["restore".as_ref(), "--backup".as_ref(), cut.as_os_str(), "--data".as_ref(), data.as_os_str()]);
    assert!(!ok && text.contains("cut short"), "{text}");
    assert!(!data.exists());

    // Restore, then check the restored store offline before the node starts.
    let started = Instant::now();
    let (ok, text) =
        node_cmd(&["restore".as_ref(), "--backup".as_ref(), backup.as_os_str(), "--data".as_ref(), data.as_os_str()]);
    assert!(ok, "{text}");
    let restore_took = started.elapsed();
    assert!(text.contains(&format!("height {backed_up} ")), "{text}");
    let (ok, text) = node_cmd(&["verify".as_ref(), "--data".as_ref(), data.as_os_str()]);
    assert!(ok, "{text}");

    // It rejoins, catches up and holds everything acknowledged.
    let started = Instant::now();
    c.restart(victim);
    let height = c.wait_converged(&all, Duration::from_secs(60)).await;
    let rejoin_took = started.elapsed();
    eprintln!("restored to height {backed_up} in {restore_took:?}; caught up to {height} in {rejoin_took:?}");
    assert!(height >= height_at_loss);
    c.assert_same_chain(&all, height).await;
    assert_all_recorded(&c, victim, &acked).await;

    // In step: ready for traffic, and its metrics say so.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(&c, victim, "/v1/ready").await;
        if status == 200 {
            let r: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(r["ready"] == true && r["leader"].is_string() && r["connected_peers"] == 2, "{body}");
            break;
        }
        assert!(status == 503 && Instant::now() < deadline, "{status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, metrics) = get(&c, victim, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(sample(&metrics, "billflow_peers_connected"), Some(2.0), "{metrics}");
    assert_eq!(sample(&metrics, "billflow_leader_known"), Some(1.0), "{metrics}");
    assert!(sample(&metrics, "billflow_block_commit_seconds_count").is_some_and(|n| n > 0.0), "{metrics}");
    assert!(sample(&metrics, "billflow_transaction_fuel_count").is_some_and(|n| n > 0.0), "{metrics}");
    assert!(metrics.contains("billflow_transactions_total{outcome=\"success\"}"), "{metrics}");

    // It is a full voter again: with the leader gone, it and the survivor still commit.
    c.kill(leader);
    let pair = [victim, survivor];
    c.wait_leader(&pair, Duration::from_secs(20)).await;
    let (tx, _, _) = register_enterprise(&signer, 900_000, "after-restore");
    assert!(commit(&c.client(victim), &tx).await, "the restored voter and the survivor do not commit");
    let height = c.wait_converged(&pair, Duration::from_secs(20)).await;
    c.assert_same_chain(&pair, height).await;
}

#[test]
fn backing_up_what_is_not_a_node_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let (ok, text) =
        node_cmd(&["backup".as_ref(), "--data".as_ref(), dir.path().as_os_str(), "--out".as_ref(), out.as_os_str()]);
    assert!(!ok && text.contains("not a node's data directory"), "{text}");
    assert!(!out.exists() && !Path::new(&out.with_extension("partial")).exists());
}
