//! The operator commands refuse bad input with a clear message and a non-zero exit.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

fn node() -> Command {
    Command::new(env!("CARGO_BIN_EXE_billflow-node"))
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn verify_refuses_a_directory_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(node().args(["verify", "--data"]).arg(dir.path()));
    assert!(!ok);
    assert!(out.contains("holds no billflow store"), "{out}");
}

#[test]
fn the_development_genesis_prints_and_a_bad_genesis_file_is_named() {
    let (ok, out) = run(node().args(["genesis"]));
    assert!(ok, "{out}");
    assert!(out.contains("\"chain_id\": \"billflow-dev\""), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("genesis.json");
    std::fs::write(&bad, "{\"chain_id\": \"x\"}").unwrap();
    let (ok, out) = run(node().args(["run", "--data"]).arg(dir.path().join("data")).arg("--genesis").arg(&bad));
    assert!(!ok);
    assert!(out.contains("genesis.json is not a valid genesis"), "{out}");
    let (ok, out) = run(node().args(["genesis", "--file"]).arg(dir.path().join("missing.json")));
    assert!(!ok);
    assert!(out.contains("cannot read genesis file"), "{out}");
}

#[test]
fn a_store_of_another_chain_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = node().args(["genesis"]).output().unwrap();
    assert!(out.status.success());
    // Another chain, signed by its founders (the development keys are public).
    let mut other: billflow_types::Genesis = serde_json::from_slice(&out.stdout).unwrap();
    other.chain_id = "billflow-other".parse().unwrap();
    other.signatures = other
        .organisations
        .iter()
        .map(|o| {
            let key = &o.admin_keys[0].key_id;
            other.sign(o.id.clone(), key.clone(), &billflow_types::dev::dev_key(key.as_str()))
        })
        .collect();
    let genesis = dir.path().join("other.json");
    std::fs::write(&genesis, serde_json::to_vec(&other).unwrap()).unwrap();
    // Initialise a development store, then start it under another genesis.
    let data = dir.path().join("data");
    let mut child = node()
        .args(["run", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
    let (ok, out) =
        run(node().args(["run", "--listen", "127.0.0.1:0", "--data"]).arg(&data).arg("--genesis").arg(&genesis));
    assert!(!ok);
    assert!(out.contains("store and genesis disagree"), "{out}");
}

fn consortium(dir: &std::path::Path) -> std::path::PathBuf {
    let spec = billflow_genesis::InitSpec {
        chain_id: "cli-test".parse().unwrap(),
        orgs: vec![
            billflow_genesis::OrgSpec { id: "notary-a".parse().unwrap(), role: billflow_types::OrgRole::Notary },
            billflow_genesis::OrgSpec { id: "bank-b".parse().unwrap(), role: billflow_types::OrgRole::Bank },
        ],
        nodes_per_org: 1,
        hosts: vec![],
        tenants: vec![],
        keys: billflow_genesis::keys::KeySource::Seeded([5; 32]),
        genesis_time: time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap(),
        base_port: 7100,
        params: Default::default(),
    };
    billflow_genesis::init(dir, &spec).unwrap();
    dir.join("orgs/notary-a/nodes/notary-a-1/node.toml")
}

#[test]
fn a_configured_node_names_the_file_that_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let config = consortium(dir.path());
    let node_dir = dir.path().join("orgs/notary-a/nodes/notary-a-1");
    let start = || run(node().args(["run", "--config"]).arg(&config));

    std::fs::rename(node_dir.join("node.pem"), node_dir.join("node.pem.bak")).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("node certificate") && out.contains("node.pem"), "{out}");
    std::fs::rename(node_dir.join("node.pem.bak"), node_dir.join("node.pem")).unwrap();

    // Another node's key.
    let theirs = dir.path().join("orgs/bank-b/nodes/bank-b-1/node.key");
    let mine = std::fs::read(node_dir.join("node.key")).unwrap();
    std::fs::copy(&theirs, node_dir.join("node.key")).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("node key") && out.contains("does not match the node certificate"), "{out}");
    std::fs::write(node_dir.join("node.key"), "not a key").unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("node.key"), "{out}");
    std::fs::write(node_dir.join("node.key"), &mine).unwrap();

    // Another node's certificate and key: valid, but not this node's.
    let mine_pem = std::fs::read(node_dir.join("node.pem")).unwrap();
    std::fs::copy(dir.path().join("orgs/bank-b/nodes/bank-b-1/node.pem"), node_dir.join("node.pem")).unwrap();
    std::fs::copy(&theirs, node_dir.join("node.key")).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("is not the one genesis") && out.contains("notary-a-1"), "{out}");

    std::fs::write(node_dir.join("node.key"), &mine).unwrap();
    std::fs::write(node_dir.join("node.pem"), &mine_pem).unwrap();

    // Another organisation's CA named as this node's.
    let ca = dir.path().join("orgs/notary-a/ca.pem");
    let own_ca = std::fs::read(&ca).unwrap();
    std::fs::copy(dir.path().join("orgs/bank-b/ca.pem"), &ca).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("ca.pem") && out.contains("is not the CA of notary-a"), "{out}");
    // A CA certificate of no organisation at all.
    std::fs::copy(dir.path().join("orgs/notary-a/admin.pem"), &ca).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("ca.pem") && out.contains("is not the CA of any organisation"), "{out}");
    std::fs::write(&ca, own_ca).unwrap();

    // This node's key, in a certificate that bank-b's CA issued: refused here,
    // as every peer would refuse it.
    let bank = dir.path().join("orgs/bank-b");
    let bank_ca = billflow_genesis::Ca::load(&bank.join("ca.pem"), &bank.join("ca.key")).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let spec = billflow_genesis::NodeCertSpec {
        node_id: "notary-a-1".parse().unwrap(),
        org: "notary-a".parse().unwrap(),
        role: billflow_types::OrgRole::Notary,
        hosts: vec![],
        not_before: now - time::Duration::hours(1),
        not_after: now + time::Duration::days(1),
    };
    let key = billflow_genesis::keys::read_key(&node_dir.join("node.key")).unwrap();
    std::fs::write(node_dir.join("node.pem"), bank_ca.issue_node(&spec, &key).unwrap().pem).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("node.pem") && out.contains("was not issued by the CA of notary-a"), "{out}");
}

#[test]
fn a_genesis_without_every_founders_valid_signature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = consortium(dir.path());
    let genesis_path = dir.path().join("genesis.json");
    let signed: billflow_types::Genesis = serde_json::from_slice(&std::fs::read(&genesis_path).unwrap()).unwrap();
    let start = || run(node().args(["run", "--config"]).arg(&config));

    // bank-b's signature missing.
    let mut g = signed.clone();
    g.signatures.retain(|s| s.org.as_str() != "bank-b");
    std::fs::write(&genesis_path, serde_json::to_vec(&g).unwrap()).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("lacks the signature of founding organisation bank-b"), "{out}");

    // Signed over other bytes: the policy changed after signing.
    let mut g = signed.clone();
    g.admin_policy.min_approving_orgs = 1;
    std::fs::write(&genesis_path, serde_json::to_vec(&g).unwrap()).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("does not verify over this genesis"), "{out}");

    // A signature by a key that is no founder's administrator key.
    let mut g = signed.clone();
    g.signatures[0].key_id = "intruder.admin".parse().unwrap();
    std::fs::write(&genesis_path, serde_json::to_vec(&g).unwrap()).unwrap();
    let (ok, out) = start();
    assert!(!ok);
    assert!(out.contains("not an administrator key of a founding organisation"), "{out}");
    // Nothing was written: no data directory was created.
    assert!(!config.with_file_name("data").exists());
}
