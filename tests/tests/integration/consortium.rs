//! Nodes from one `billflow-genesis init` admit each other over mutual TLS, and a
//! revocation approved by the admin policy closes the revoked node out.

use std::time::Duration;

use billflow_sdk::types::OrgRole;
use billflow_sdk::types::system::{AdminAction, ApproveAdmin, ProposeAdmin, SystemCall};
use billflow_sdk::types::view::NetworkView;
use billflow_tests::{NodeProcess, consortium, eventually, org_admin};

async fn network(node: &NodeProcess) -> NetworkView {
    node.client().network().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_of_one_consortium_connect_and_a_revoked_node_is_shut_out() {
    let _one = billflow_tests::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let orgs = [("notary-a", OrgRole::Notary), ("bank-b", OrgRole::Bank), ("notary-c", OrgRole::Notary)];
    let out = consortium(dir.path(), &orgs).unwrap();
    let nodes: Vec<NodeProcess> =
        out.nodes.iter().map(|(_, path)| NodeProcess::start_configured(path).unwrap()).collect();

    // Every node reaches every other with a status round trip over mutual TLS.
    for node in &nodes {
        eventually(Duration::from_secs(20), "all peers connected and answering", || async {
            let view = network(node).await;
            view.peers.len() == 2 && view.peers.iter().all(|p| p.connected && p.height == Some(0))
        })
        .await
        .unwrap();
    }

    // Two of three organisations revoke notary-c-1 on node 0's ledger.
    let client = nodes[0].client();
    let proposal = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "revoke-c".parse().unwrap(),
        action: AdminAction::RevokeNode { node: "notary-c-1".parse().unwrap(), reason: "decommissioned".into() },
    });
    let approve = SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: "revoke-c".parse().unwrap() });
    let a = org_admin(dir.path(), &out.genesis, "notary-a").unwrap();
    let b = org_admin(dir.path(), &out.genesis, "bank-b").unwrap();
    let r = client.with_auth(a.clone()).submit(&a.system("p-1".parse().unwrap(), &proposal), true).await.unwrap();
    assert!(r.receipt.unwrap().failure.is_none());
    let r = client.with_auth(b.clone()).submit(&b.system("p-2".parse().unwrap(), &approve), true).await.unwrap();
    let receipt = r.receipt.unwrap();
    assert!(receipt.failure.is_none(), "{:?}", receipt.failure);
    assert!(receipt.events.iter().any(|e| e.topic == "node.revoked"));

    // Node 0 closes the connection and keeps refusing notary-c-1, which keeps redialling.
    eventually(Duration::from_secs(10), "notary-c-1 shut out", || async {
        let view = network(&nodes[0]).await;
        view.peers.iter().any(|p| p.node_id == "notary-c-1" && p.revoked && !p.connected)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let view = network(&nodes[0]).await;
    let c = view.peers.iter().find(|p| p.node_id == "notary-c-1").unwrap();
    assert!(!c.connected, "a revoked node got back in");
    let b_view = view.peers.iter().find(|p| p.node_id == "bank-b-1").unwrap();
    assert!(b_view.connected, "the other member stays connected");
}

/// Runs `billflow-genesis` and returns its output, failing the test on a non-zero exit.
fn ceremony_step(args: &[&str]) -> String {
    let out = std::process::Command::new(billflow_tests::genesis_binary().unwrap()).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "billflow-genesis {}: {text}", args.join(" "));
    text
}

/// The public keys of every private key file under `dir`.
fn private_keys_under(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    let mut keys = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("PRIVATE KEY")) {
                keys.insert(billflow_genesis::keys::read_key(&path).unwrap().public().to_hex());
            }
        }
    }
    keys
}

/// docs/identity.md's ceremony, as four organisations type it, each in a
/// directory of its own: their nodes start from the signed genesis and commit
/// transactions; a genesis lacking one founder's signature, and a node
/// certificate from another organisation's CA, are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_organisations_found_a_consortium_each_with_its_own_ca_and_commit_transactions() {
    use billflow_sdk::Signer;
    use billflow_sdk::types::system::{KeyGrant, ParticipantKind, RegisterParticipant};

    let _one = billflow_tests::exclusive().await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let orgs = [("notary-a", "notary"), ("bank-b", "bank"), ("bank-c", "bank"), ("regulator-d", "regulator")];
    let ports = billflow_tests::free_ports(2 * orgs.len()).unwrap();
    let dir = |org: &str| root.join(org);
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();

    // 1. Each organisation on its own machine.
    for (j, (org, role)) in orgs.iter().enumerate() {
        let port = ports[2 * j].to_string();
        let out = s(&dir(org));
        ceremony_step(&[
            "org",
            "init",
            "--org",
            org,
            "--role",
            role,
            "--nodes",
            "1",
            "--host",
            "127.0.0.1",
            "--base-port",
            &port,
            "--out",
            &out,
        ]);
    }
    let keys: Vec<_> = orgs.iter().map(|(org, _)| private_keys_under(&dir(org))).collect();
    for (i, mine) in keys.iter().enumerate() {
        assert_eq!(mine.len(), 3, "{}: its CA, administrator and node key", orgs[i].0);
        for theirs in &keys[i + 1..] {
            assert!(mine.is_disjoint(theirs), "two organisations' directories share a private key");
        }
    }

    // 2. The tenant keeps its key; anyone assembles the genesis from the bundles.
    let tenant_key = billflow_sdk::types::SecretKey::generate();
    let tenant = format!("acme:notary-a:{}", tenant_key.public().to_hex());
    let genesis = root.join("genesis.json");
    let (g, t) = (s(&genesis), tenant.as_str());
    let bundles: Vec<String> = orgs.iter().map(|(org, _)| s(&dir(org).join("bundle.json"))).collect();
    let mut args = vec!["assemble", "--chain-id", "ceremony", "--tenant", t, "--out", &g];
    for b in &bundles {
        args.extend(["--bundle", b.as_str()]);
    }
    ceremony_step(&args);

    // 3. Each founder signs with its own administrator key; the signatures are attached.
    let mut sigs = Vec::new();
    for (org, _) in &orgs {
        let (key, sig) = (s(&dir(org).join("admin.key")), s(&root.join(format!("{org}.sig"))));
        ceremony_step(&["sign", "--genesis", &g, "--key", &key, "--out", &sig]);
        sigs.push(sig);
    }
    let unsigned_by_d = root.join("genesis-3-of-4.json");
    let mut args = vec!["attach", "--genesis", &g, "--out"];
    let partial = s(&unsigned_by_d);
    args.push(&partial);
    for sig in &sigs[..3] {
        args.extend(["--signature", sig.as_str()]);
    }
    ceremony_step(&args);
    let mut args = vec!["attach", "--genesis", &g];
    for sig in &sigs {
        args.extend(["--signature", sig.as_str()]);
    }
    assert!(ceremony_step(&args).contains("signed by every founding organisation"));

    // 4. Each organisation writes its node's configuration and starts it.
    let mut configs = Vec::new();
    for (j, (org, _)) in orgs.iter().enumerate() {
        let api = format!("127.0.0.1:{}", ports[2 * j + 1]);
        let (org_dir, node) = (s(&dir(org)), format!("{org}-1"));
        ceremony_step(&["node-config", "--genesis", &g, "--org-dir", &org_dir, "--node", &node, "--api-listen", &api]);
        configs.push(dir(org).join("nodes").join(&node).join("node.toml"));
    }
    let nodes: Vec<NodeProcess> = configs.iter().map(|c| NodeProcess::start_configured(c).unwrap()).collect();

    // Transactions commit, and every node holds them.
    let chain_id = "ceremony".parse().unwrap();
    let signer = Signer {
        chain_id,
        tenant: Some("acme".parse().unwrap()),
        key_id: "acme.key1".parse().unwrap(),
        secret: tenant_key,
    };
    let client = nodes[0].client().with_auth(signer.clone());
    eventually(Duration::from_secs(30), "a leader", || async {
        nodes[0].client().network().await.is_ok_and(|v| v.leader.is_some())
    })
    .await
    .unwrap();
    for n in 1..=5u64 {
        let participant = billflow_tests::credit_code(n);
        let call = SystemCall::RegisterParticipant(RegisterParticipant {
            participant,
            kind: ParticipantKind::Enterprise,
            name: format!("E{n}"),
            keys: vec![KeyGrant {
                key_id: format!("e{n}.k1").parse().unwrap(),
                public_key: billflow_sdk::types::SecretKey::generate().public(),
            }],
        });
        let tx = signer.system(format!("reg-{n}").parse().unwrap(), &call);
        let r = client.submit(&tx, true).await.unwrap();
        let receipt = r.receipt.unwrap();
        assert!(receipt.failure.is_none(), "{:?}", receipt.failure);
    }
    let height = nodes[0].client().health().await.unwrap().height;
    assert!(height >= 1);
    for node in &nodes {
        eventually(Duration::from_secs(20), "every node, the regulator's observer too, at that height", || async {
            node.client().health().await.is_ok_and(|h| h.height >= height)
        })
        .await
        .unwrap();
    }
    drop(nodes);

    // A genesis lacking regulator-d's signature: its nodes refuse to start.
    let config = &configs[3];
    let text = std::fs::read_to_string(config).unwrap();
    std::fs::write(config, text.replace("genesis.json", "genesis-3-of-4.json")).unwrap();
    let err = NodeProcess::start_configured(config).err().unwrap();
    let log = std::fs::read_to_string(config.with_file_name("node-stderr.log")).unwrap_or_default();
    assert!(
        format!("{err:#}{log}").contains("lacks the signature of founding organisation regulator-d"),
        "{err:#}\n{log}"
    );
    std::fs::write(config, text).unwrap();

    // bank-b's CA issues a certificate for bank-c's node key: refused.
    let (b, c) = (dir("bank-b"), dir("bank-c").join("nodes/bank-c-1"));
    let b_ca = billflow_genesis::Ca::load(&b.join("ca.pem"), &b.join("ca.key")).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let spec = billflow_genesis::NodeCertSpec {
        node_id: "bank-c-1".parse().unwrap(),
        org: "bank-c".parse().unwrap(),
        role: OrgRole::Bank,
        hosts: vec!["127.0.0.1".into()],
        not_before: now - time::Duration::hours(1),
        not_after: now + time::Duration::days(1),
    };
    let key = billflow_genesis::keys::read_key(&c.join("node.key")).unwrap();
    std::fs::write(c.join("node.pem"), b_ca.issue_node(&spec, &key).unwrap().pem).unwrap();
    let err = NodeProcess::start_configured(&configs[2]).err().unwrap();
    let log = std::fs::read_to_string(c.join("node-stderr.log")).unwrap_or_default();
    assert!(format!("{err:#}{log}").contains("was not issued by the CA of bank-c"), "{err:#}\n{log}");
}
