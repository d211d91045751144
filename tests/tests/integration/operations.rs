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
        for cert in reqwest::Certificate::from_pem_bundle(ca).unwrap() {
            builder = builder.add_root_certificate(cert);
        }
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

    // A backup restored for another node leaves its audit log out.
    let elsewhere = c.dir.path().join("elsewhere");
    let (ok, text) = node_cmd(&[
        "restore".as_ref(),
        "--backup".as_ref(),
        backup.as_os_str(),
        "--data".as_ref(),
        elsewhere.as_os_str(),
        "--without-audit-log".as_ref(),
    ]);
    assert!(ok, "{text}");
    assert!(elsewhere.join("blocks").is_dir() && !elsewhere.join("audit").exists());

    // Restore, then check the restored store offline before the node starts.
    let started = Instant::now();
    let (ok, text) =
        node_cmd(&["restore".as_ref(), "--backup".as_ref(), backup.as_os_str(), "--data".as_ref(), data.as_os_str()]);
    assert!(ok, "{text}");
    let restore_took = started.elapsed();
    assert!(text.contains(&format!("height {backed_up} ")), "{text}");
    let (ok, text) = node_cmd(&["verify".as_ref(), "--data".as_ref(), data.as_os_str()]);
    assert!(ok, "{text}");
    // Its audit log came back with it: what it had written by the backup.
    let audit_log = data.join("audit").join("audit.jsonl");
    let restored_entries = std::fs::read_to_string(&audit_log).unwrap_or_default().lines().count();
    assert!(restored_entries > 0, "no audit log restored");

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
    // The restored audit log goes on where it stopped: one chain, numbered on.
    let seqs: Vec<u64> = std::fs::read_to_string(&audit_log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.len() > restored_entries, "no entry written after the restore");
    assert!(seqs.iter().enumerate().all(|(i, s)| *s == i as u64), "{seqs:?}");
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

/// Runs a program of the workspace, checks it succeeded, returns its stdout.
pub(crate) fn run_ok(program: std::path::PathBuf, args: &[&str]) -> String {
    let out = Command::new(&program).args(args).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{} {}: {stdout}{stderr}", program.display(), args.join(" "));
    stdout.into_owned()
}

/// `billflow admin …` against node `i` as `org`'s administrator, which is
/// expected to fail: whether it succeeded, and what it printed.
fn admin_refused(c: &Cluster, i: usize, org: &str, args: &[&str]) -> (bool, String) {
    let dir = c.dir.path();
    let (ca, key) = (dir.join("cas.pem"), dir.join(format!("orgs/{org}/admin.key")));
    let key_id = format!("{org}.admin");
    let url = &c.nodes[i].as_ref().unwrap().url;
    let conn = ["--node", url, "--ca", ca.to_str().unwrap(), "--key", key.to_str().unwrap(), "--key-id", &key_id];
    let out = Command::new(billflow_tests::cli_binary().unwrap())
        .args([&conn[..], &["admin"], args].concat())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// `billflow admin …` against node `i`, signed by `org`'s administrator.
pub(crate) fn admin(c: &Cluster, i: usize, org: &str, args: &[&str]) -> String {
    let dir = c.dir.path();
    let (ca, key) = (dir.join("cas.pem"), dir.join(format!("orgs/{org}/admin.key")));
    let key_id = format!("{org}.admin");
    let url = &c.nodes[i].as_ref().unwrap().url;
    let conn = ["--node", url, "--ca", ca.to_str().unwrap(), "--key", key.to_str().unwrap(), "--key-id", &key_id];
    run_ok(billflow_tests::cli_binary().unwrap(), &[&conn[..], &["admin"], args].concat())
}

/// docs/operations.md, "Voter or observer": a notary's node is made an
/// observer and a voter again through `billflow admin`, and the consensus
/// configuration follows; a regulator's node cannot be made a voter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runbook_moves_a_node_between_voter_and_observer() {
    let _one = exclusive().await;
    let c = Cluster::start(&VOTERS_AND_OBSERVER, ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let voters = |c: &Cluster, i: usize| {
        let c = c.client(i);
        async move { c.network().await.map(|v| v.voters).unwrap_or_default() }
    };
    assert_eq!(voters(&c, leader).await, ["bank-b-1", "notary-a-1", "notary-c-1"]);
    fn set_role<'a>(id: &'a str, role: &'a str) -> [&'a str; 8] {
        ["propose", "--proposal", id, "set-node-role", "--node-id", "notary-c-1", "--role", role]
    }

    let proposed = admin(&c, leader, "notary-a", &set_role("demote-c", "observer"));
    assert!(proposed.contains("waiting for more organisations"), "{proposed}");
    // Four organisations: a majority is three.
    admin(&c, leader, "bank-b", &["approve", "--proposal", "demote-c"]);
    let approved = admin(&c, leader, "regulator-d", &["approve", "--proposal", "demote-c"]);
    assert!(approved.contains("carried out in block"), "{approved}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while voters(&c, leader).await != ["bank-b-1", "notary-a-1"] {
        assert!(Instant::now() < deadline, "notary-c-1 still votes: {:?}", voters(&c, leader).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // It keeps following the ledger as an observer.
    let (tx, _, _) = register_enterprise(&c.tenant(), 800_000, "while-observing");
    assert!(commit(&c.client(leader), &tx).await);
    let c_node = (0..4).find(|i| c.name(*i) == "notary-c-1").unwrap();
    c.wait_converged(&all, Duration::from_secs(30)).await;
    assert_all_recorded(&c, c_node, std::slice::from_ref(&tx)).await;

    admin(&c, leader, "notary-a", &set_role("promote-c", "voter"));
    admin(&c, leader, "bank-b", &["approve", "--proposal", "promote-c"]);
    admin(&c, leader, "regulator-d", &["approve", "--proposal", "promote-c"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
        if voters(&c, leader).await == ["bank-b-1", "notary-a-1", "notary-c-1"] {
            break;
        }
        assert!(Instant::now() < deadline, "notary-c-1 was not made a voter again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A regulator's node stays an observer.
    let (status, body) = admin_refused(
        &c,
        leader,
        "notary-a",
        &["propose", "--proposal", "promote-d", "set-node-role", "--node-id", "regulator-d-1", "--role", "voter"],
    );
    assert!(!status && body.contains("E_REGULATOR_VOTER"), "{body}");
}

/// Whether node `i` of the leader's view is connected.
async fn connected(c: &Cluster, leader: usize, node: &str) -> bool {
    let (_, network) = get(c, leader, "/v1/network").await;
    let view: serde_json::Value = serde_json::from_str(&network).unwrap_or_default();
    view["peers"].as_array().into_iter().flatten().any(|p| p["node_id"] == node && p["connected"] == true)
}

/// docs/operations.md, "Rotating an organisation's CA": bank-b makes a new CA
/// and certifies its node's key with it; once the rotation is carried out,
/// the old certificate still admits the node until the height the proposal
/// names and is refused after it (the node itself refuses to start with it),
/// and the new one admits it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runbook_rotates_an_organisations_ca() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let bank = (0..3).find(|i| c.name(*i) == "bank-b-1").unwrap();
    let leader = if leader == bank {
        // The node that restarts below is not the leader, whose log is read.
        (0..3).find(|i| *i != bank).unwrap()
    } else {
        leader
    };
    let org_dir = c.org_dir("bank-b");
    let node_dir = org_dir.join("nodes/bank-b-1");

    // 1. Where bank-b keeps its CA: a new CA, and the node's own key certified by it.
    let genesis_tool = billflow_tests::genesis_binary().unwrap();
    let new_ca = org_dir.join("ca-2");
    run_ok(genesis_tool.clone(), &["org", "new-ca", "--org", "bank-b", "--out", new_ca.to_str().unwrap()]);
    let reissued = org_dir.join("reissued");
    run_ok(
        genesis_tool,
        &[
            "issue-node",
            "--ca",
            new_ca.to_str().unwrap(),
            "--node-id",
            "bank-b-1",
            "--org",
            "bank-b",
            "--role",
            "bank",
            "--host",
            "127.0.0.1",
            "--key",
            node_dir.join("node.key").to_str().unwrap(),
            "--out",
            reissued.to_str().unwrap(),
        ],
    );

    // 2. The rotation, with the old CA honoured for ten more blocks.
    let height = c.height(leader).await;
    let until = (height + 10).to_string();
    let ca_file = new_ca.join("ca.pem");
    admin(
        &c,
        leader,
        "bank-b",
        &[
            "propose",
            "--proposal",
            "rotate-b",
            "rotate-ca",
            "--org",
            "bank-b",
            "--new-ca",
            ca_file.to_str().unwrap(),
            "--old-until-height",
            &until,
        ],
    );
    let approved = admin(&c, leader, "notary-a", &["approve", "--proposal", "rotate-b"]);
    assert!(approved.contains("carried out in block"), "{approved}");

    // 3. Within the window the old certificate still admits bank-b-1.
    assert!(c.height(leader).await < height + 10);
    c.kill(bank);
    c.restart(bank);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !connected(&c, leader, "bank-b-1").await {
        assert!(Instant::now() < deadline, "the old certificate was refused within its window");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 4. Past it, the old certificate is refused. bank-b-1 is down while the
    //    window closes (a node on the old certificate may be cut off a block
    //    short of its end, when its peers apply that block first); its disk
    //    is then restored from a backup of a peer taken past the window, and
    //    the node, holding the ledger past that height, says so itself at
    //    start, naming the file.
    c.kill(bank);
    let tenant = c.tenant();
    for n in 0..12 {
        let (tx, _, _) = register_enterprise(&tenant, 900_000 + n, &format!("rotation-{n}"));
        assert!(commit(&c.client(leader), &tx).await);
    }
    let (file, backed_up) = backup(&c, leader, "past-window.backup");
    assert!(backed_up >= height + 10, "the backup holds {backed_up}, the window ends at {}", height + 10);
    std::fs::remove_dir_all(c.data_dir(bank)).unwrap();
    let data = c.data_dir(bank);
    let (ok, text) =
        node_cmd(&["restore".as_ref(), "--backup".as_ref(), file.as_os_str(), "--data".as_ref(), data.as_os_str()]);
    assert!(ok, "{text}");
    let refused = billflow_tests::NodeProcess::start_configured(&c.out.nodes[bank].1).err().unwrap();
    let log = std::fs::read_to_string(node_dir.join("node-stderr.log")).unwrap_or_default();
    assert!(format!("{refused:#}{log}").contains("is a CA that bank-b retired at height"), "{refused:#}\n{log}");

    // 5. With the new certificate and CA in place, it is admitted again.
    std::fs::copy(reissued.join("node.pem"), node_dir.join("node.pem")).unwrap();
    std::fs::copy(&ca_file, org_dir.join("ca.pem")).unwrap();
    c.restart(bank);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !connected(&c, leader, "bank-b-1").await {
        assert!(Instant::now() < deadline, "the new certificate did not admit bank-b-1");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// docs/operations.md, "Adding an organisation", with the commands it names:
/// bank-e runs `org init` on its own, the consortium admits it from its
/// bundle, bank-e's administrator proposes its node, and the node (whose
/// certificate only bank-e's CA issued) joins and becomes ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runbook_adds_an_organisation_and_its_node() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let org_dir = c.org_dir("bank-e");
    let ports = billflow_tests::free_ports(2).unwrap();

    // 1. bank-e, on its own machine: its CA, administrator key, node and bundle.
    let genesis_tool = billflow_tests::genesis_binary().unwrap();
    let base_port = ports[0].to_string();
    run_ok(
        genesis_tool.clone(),
        &[
            "org",
            "init",
            "--org",
            "bank-e",
            "--role",
            "bank",
            "--nodes",
            "1",
            "--host",
            "127.0.0.1",
            "--base-port",
            &base_port,
            "--out",
            org_dir.to_str().unwrap(),
        ],
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(org_dir.join("bundle.json")).unwrap()).unwrap();
    let node = &bundle["nodes"][0];
    let (public_key, address) = (node["public_key"].as_str().unwrap(), node["address"].as_str().unwrap());

    // 2. The consortium admits bank-e from its bundle under the policy.
    let bundle_path = org_dir.join("bundle.json");
    let proposed = admin(
        &c,
        leader,
        "notary-a",
        &["propose", "--proposal", "add-bank-e", "add-org", "--bundle", bundle_path.to_str().unwrap()],
    );
    assert!(proposed.contains("waiting for more organisations"), "{proposed}");
    let approved = admin(&c, leader, "bank-b", &["approve", "--proposal", "add-bank-e"]);
    assert!(approved.contains("carried out in block"), "{approved}");

    // 3. bank-e's own administrator proposes its node; another organisation approves.
    let proposed = admin(
        &c,
        leader,
        "bank-e",
        &[
            "propose",
            "--proposal",
            "add-bank-e-1",
            "add-node",
            "--node-id",
            "bank-e-1",
            "--org",
            "bank-e",
            "--role",
            "voter",
            "--public-key",
            public_key,
            "--address",
            address,
        ],
    );
    assert!(proposed.contains("waiting for more organisations"), "{proposed}");
    // Four organisations now: the policy's majority is three.
    let approved = admin(&c, leader, "notary-a", &["approve", "--proposal", "add-bank-e-1"]);
    assert!(approved.contains("waiting for more organisations"), "{approved}");
    let approved = admin(&c, leader, "bank-b", &["approve", "--proposal", "add-bank-e-1"]);
    assert!(approved.contains("carried out in block"), "{approved}");

    // 4. bank-e writes its node's configuration and starts it.
    let api = format!("127.0.0.1:{}", ports[1]);
    let genesis = c.out.genesis_path.clone();
    run_ok(
        genesis_tool,
        &[
            "node-config",
            "--genesis",
            genesis.to_str().unwrap(),
            "--org-dir",
            org_dir.to_str().unwrap(),
            "--node",
            "bank-e-1",
            "--api-listen",
            &api,
            "--joining",
        ],
    );
    let started = Instant::now();
    let config = org_dir.join("nodes/bank-e-1/node.toml");
    c.nodes.push(Some(billflow_tests::NodeProcess::start_configured(&config).unwrap()));
    let new = c.nodes.len() - 1;
    let deadline = Instant::now() + Duration::from_secs(90);
    while get(&c, new, "/v1/ready").await.0 != 200 {
        assert!(Instant::now() < deadline, "bank-e-1 never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, network) = get(&c, leader, "/v1/network").await;
    let view: serde_json::Value = serde_json::from_str(&network).unwrap();
    let peer = view["peers"].as_array().unwrap().iter().find(|p| p["node_id"] == "bank-e-1").cloned();
    assert_eq!(peer.as_ref().map(|p| p["connected"].clone()), Some(serde_json::Value::Bool(true)), "{network}");
    eprintln!("runbook: bank-e admitted, its node added and ready in {:?}", started.elapsed());

    // 5. bank-e leaves: its node is revoked and shut out, its administrator key refused.
    let proposed = admin(
        &c,
        leader,
        "notary-a",
        &["propose", "--proposal", "remove-bank-e", "remove-org", "--org", "bank-e", "--reason", "left"],
    );
    assert!(proposed.contains("waiting for more organisations"), "{proposed}");
    admin(&c, leader, "bank-b", &["approve", "--proposal", "remove-bank-e"]);
    let approved = admin(&c, leader, "notary-c", &["approve", "--proposal", "remove-bank-e"]);
    assert!(approved.contains("carried out in block"), "{approved}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, network) = get(&c, leader, "/v1/network").await;
        let view: serde_json::Value = serde_json::from_str(&network).unwrap();
        let e = view["peers"].as_array().unwrap().iter().find(|p| p["node_id"] == "bank-e-1").cloned().unwrap();
        if e["revoked"] == true && e["connected"] == false && !view["voters"].to_string().contains("bank-e-1") {
            break;
        }
        assert!(Instant::now() < deadline, "bank-e-1 still in: {network}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (ok, text) = admin_refused(&c, leader, "bank-e", &["approve", "--proposal", "remove-bank-e"]);
    assert!(!ok && text.contains("E_KEY_REVOKED"), "{text}");
}

/// docs/operations.md, "Adding and removing a node" and "Certificate
/// rotation", step by step with the commands it names: bank-b's node is
/// replaced by a new one with a new key and certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runbook_rotates_a_nodes_certificate_by_adding_a_node_and_revoking_the_old() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let old = (0..3).find(|i| c.out.nodes[*i].0.node_id.as_str() == "bank-b-1").unwrap();
    let running = load(vec![c.client(leader)], c.tenant(), 0);

    // 1. Issue the new node's certificate where the CA key is kept.
    let issued = run_ok(
        billflow_tests::genesis_binary().unwrap(),
        &[
            "issue-node",
            "--ca",
            c.org_dir("bank-b").to_str().unwrap(),
            "--node-id",
            "bank-b-2",
            "--org",
            "bank-b",
            "--role",
            "bank",
            "--host",
            "127.0.0.1",
            "--out",
            c.org_dir("bank-b").join("nodes/bank-b-2").to_str().unwrap(),
        ],
    );
    let public_key = issued.trim().rsplit(' ').next().unwrap().to_string();
    let peer_id = issued.split(" peer id ").nth(1).unwrap().split(' ').next().unwrap().to_string();

    // 2. Its node.toml, laid out as the members' are, with its own id,
    //    files and addresses and every current member as a peer; start it.
    let (config_path, address) = c.joiner_config("bank-b-2", "bank-b", None);
    let started = Instant::now();
    c.nodes.push(Some(billflow_tests::NodeProcess::start_configured(&config_path).unwrap()));
    let new = c.nodes.len() - 1;
    let (status, body) = get(&c, new, "/v1/ready").await;
    assert_eq!(status, 503, "not ready before it is admitted: {body}");

    // 3. bank-b proposes the admission; notary-a's approval meets the policy.
    let proposed = admin(
        &c,
        leader,
        "bank-b",
        &[
            "propose",
            "--proposal",
            "add-bank-b-2",
            "add-node",
            "--node-id",
            "bank-b-2",
            "--org",
            "bank-b",
            "--role",
            "voter",
            "--public-key",
            &public_key,
            "--address",
            &address,
        ],
    );
    assert!(proposed.contains("waiting for more organisations"), "{proposed}");
    let approved = admin(&c, leader, "notary-a", &["approve", "--proposal", "add-bank-b-2"]);
    assert!(approved.contains("carried out in block"), "{approved}");

    // 4. Wait until the new node says it is ready and has caught up.
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&c, new, "/v1/ready").await.0 != 200 {
        assert!(Instant::now() < deadline, "the new node never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, network) = get(&c, leader, "/v1/network").await;
    assert!(network.contains(&peer_id) || network.contains("bank-b-2"), "{network}");
    eprintln!("runbook: bank-b-2 issued, admitted and ready in {:?}", started.elapsed());

    // 5. Revoke the old node, then stop it.
    admin(
        &c,
        leader,
        "bank-b",
        &["propose", "--proposal", "revoke-bank-b-1", "revoke-node", "--node-id", "bank-b-1", "--reason", "rotated"],
    );
    let revoked = admin(&c, leader, "notary-a", &["approve", "--proposal", "revoke-bank-b-1"]);
    assert!(revoked.contains("carried out in block"), "{revoked}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.kill(old);
    let (acked, _) = running.finish().await;

    // The voters are now notary-a-1, notary-c-1 and bank-b-2: with one
    // notary down too, bank-b-2's vote is what makes the majority.
    let stays = (0..3).find(|i| *i != old && *i != leader).unwrap();
    c.kill(leader);
    let (tx, _, _) = register_enterprise(&c.tenant(), 700_000, "after-rotation");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !commit(&c.client(stays), &tx).await {
        assert!(Instant::now() < deadline, "notary and bank-b-2 do not commit together");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    c.restart(leader);
    let now = c.alive();
    let height = c.wait_converged(&now, Duration::from_secs(60)).await;
    c.assert_same_chain(&now, height).await;
    for &i in &now {
        assert_all_recorded(&c, i, &acked).await;
    }
    eprintln!("runbook: bank-b-1 revoked; bank-b-2 votes; {} transactions on every node", acked.len());
}

/// docs/operations.md, "Upgrading a contract", with the commands it names:
/// the evidence contract deployed from a JSON action file, used, upgraded to
/// a new version, and the old version refused from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runbook_upgrades_a_contract_and_the_old_version_is_refused() {
    use billflow_sdk::types::{Hash32, Version};
    let _one = exclusive().await;
    let c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let leader = c.wait_leader(&c.alive(), Duration::from_secs(20)).await;
    let tenant = c.tenant();
    let code = hex::encode(billflow_contracts::EVIDENCE);
    let config = billflow_contracts::evidence::EvidenceConfig { notary_threshold: 1 };
    let init_args = hex::encode(borsh::to_vec(&config).unwrap());
    let carry_out = |proposal: &str, action: serde_json::Value| {
        let file = c.dir.path().join(format!("{proposal}.json"));
        std::fs::write(&file, action.to_string()).unwrap();
        let proposed =
            admin(&c, leader, "notary-a", &["propose", "--proposal", proposal, "action", file.to_str().unwrap()]);
        assert!(proposed.contains("waiting for more organisations"), "{proposed}");
        let approved = admin(&c, leader, "bank-b", &["approve", "--proposal", proposal]);
        assert!(approved.contains("carried out in block"), "{approved}");
    };
    carry_out(
        "deploy-evidence",
        serde_json::json!({"action": "deploy_contract", "name": "evidence", "version": "1.0.0", "code": code,
            "registrations": {"orgs": [], "tenants": [tenant.tenant.as_ref().unwrap().as_str()]}, "init_args": init_args}),
    );
    let client = c.client(leader).with_auth(tenant.clone());
    let submit = async |n: u8, version: &str| {
        let version: Version = version.parse().unwrap();
        let tx = billflow_sdk::evidence::submit_tx(
            &tenant,
            format!("ev-upgrade-{n}").parse().unwrap(),
            version,
            &Hash32([n; 32]),
            "contract",
            vec![],
        );
        client.submit_and_wait(&tx, Duration::from_secs(30)).await.unwrap().receipt.unwrap().failure.map(|f| f.code)
    };
    assert_eq!(submit(1, "1.0.0").await, None);

    // 1-3: the new version from an action file, proposed and approved.
    carry_out(
        "upgrade-evidence",
        serde_json::json!({"action": "upgrade_contract", "name": "evidence", "version": "1.1.0", "code": code,
            "migrate_args": ""}),
    );
    let (_, contracts) = get(&c, leader, "/v1/contracts").await;
    assert!(contracts.contains("\"1.1.0\""), "{contracts}");
    // 4: tenants move to it; the old version is refused from now on.
    assert_eq!(submit(2, "1.0.0").await.as_deref(), Some("E_VERSION_MISMATCH"));
    assert_eq!(submit(3, "1.1.0").await, None);
    eprintln!("runbook: evidence deployed, upgraded to 1.1.0; 1.0.0 refused after");
}

/// Backs up node `i` online to `name` in the cluster's directory; returns the
/// file and the height it holds.
fn backup(c: &Cluster, i: usize, name: &str) -> (std::path::PathBuf, u64) {
    let file = c.dir.path().join(name);
    let data = c.data_dir(i);
    let (ok, text) =
        node_cmd(&["backup".as_ref(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), file.as_os_str()]);
    assert!(ok, "{text}");
    let height = text.split("blocks 0 to ").nth(1).and_then(|t| t.split(',').next()).unwrap().parse().unwrap();
    (file, height)
}

/// The worst case of docs/operations.md: every voter's disk lost at once,
/// round after round on one consortium. In each round the three voters are
/// backed up under load at different heights, in an order that puts the
/// newest backup on a different node each round (so it starts first, second
/// or last); every data directory is removed, each voter restored from its
/// own backup and all started. They must elect a leader, converge on the
/// newest backup's chain (the same blocks as before the loss) and commit
/// again; what was committed after the newest backup is lost (the RPO).
///
/// `BILLFLOW_RESTORE_ROUNDS` sets the rounds (3 by default; the disaster drill
/// in docs/operations.md runs 20).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_voter_restored_from_backups_of_different_heights_converges_on_the_newest() {
    let _one = exclusive().await;
    let rounds: u64 = std::env::var("BILLFLOW_RESTORE_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let all = c.alive();
    let mut leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let mut recovery = Vec::new();
    for round in 0..rounds {
        let running = load(vec![c.client(leader)], c.tenant(), (round + 1) * 1_000_000);
        // Backups 0.5 to 1.5 s apart, the newest on node `round % 3`.
        let order: Vec<usize> = (1..=3).map(|k| (round as usize + k) % 3).collect();
        let gap = Duration::from_millis(500 + 500 * (round % 3));
        let mut backups = vec![(std::path::PathBuf::new(), 0); 3];
        for &i in &order {
            tokio::time::sleep(gap).await;
            backups[i] = backup(&c, i, &format!("round-{round}-node-{i}.backup"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (acked, _) = running.finish().await;
        let newest = backups.iter().map(|(_, h)| *h).max().unwrap();
        let lost_at = c.height(leader).await;
        assert!(backups.iter().any(|(_, h)| *h < newest) && lost_at > newest, "{backups:?} {lost_at}");
        // Blocks are hash-chained: the newest backup's last block hash stands
        // for every block before it.
        let newest_hash = c.client(leader).block(newest).await.unwrap().hash;

        // Every disk lost; each voter restored from its own backup.
        for &i in &all {
            c.kill(i);
            std::fs::remove_dir_all(c.data_dir(i)).unwrap();
            let data = c.data_dir(i);
            let file = &backups[i].0;
            let (ok, text) = node_cmd(&[
                "restore".as_ref(),
                "--backup".as_ref(),
                file.as_os_str(),
                "--data".as_ref(),
                data.as_os_str(),
            ]);
            assert!(ok, "{text}");
        }
        let started = Instant::now();
        for &i in &all {
            c.restart(i);
        }
        leader = c.wait_leader(&all, Duration::from_secs(30)).await;
        let (tx, _, _) = register_enterprise(&c.tenant(), 900_000 + round, &format!("after-disaster-{round}"));
        assert!(commit(&c.client(leader), &tx).await, "round {round}: nothing commits after the restore");
        let committing = started.elapsed();
        let height = c.wait_converged(&all, Duration::from_secs(60)).await;
        if round == 0 {
            // Block by block once; later rounds rely on the hash chain.
            c.assert_same_chain(&all, height).await;
        }
        for &i in &all {
            let hash = c.client(i).block(newest).await.unwrap().hash;
            assert_eq!(hash, newest_hash, "round {round}: node {i} has another chain up to the newest backup");
        }
        let client = c.client(leader);
        let mut kept = 0;
        for tx in &acked {
            if client
                .transaction(&tx.tx.tx_id)
                .await
                .is_ok_and(|v| v.status == billflow_sdk::types::view::TxState::Committed)
            {
                kept += 1;
            }
        }
        eprintln!(
            "round {:>2} of {rounds}: disks lost at height {lost_at}; backups at {:?} (newest on node {}); \
             committing again {:.2} s after the restarts, leader node {leader}, converged at {height}; \
             {kept} of {} acknowledged transactions kept, {} blocks lost",
            round + 1,
            backups.iter().map(|(_, h)| h).collect::<Vec<_>>(),
            order[2],
            committing.as_secs_f64(),
            acked.len(),
            lost_at - newest,
        );
        assert!(kept > 0 && kept < acked.len(), "round {round}: {kept} of {}", acked.len());
        recovery.push(committing.as_secs_f64());
    }
    recovery.sort_by(f64::total_cmp);
    eprintln!(
        "{rounds} of {rounds} rounds converged on the newest backup; committing again after {:.2} s (median), \
         {:.2} s (worst)",
        recovery[recovery.len() / 2],
        recovery[recovery.len() - 1]
    );
}
