//! `billflow-devnet`: a 3-voter, 1-observer network of processes that
//! survives killing any one voter, stops every node on a signal, and starts
//! again on its directory after Ctrl-C or a crash.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use billflow_sdk::types::view::{NetworkView, TxState};
use billflow_sdk::{Client, Signer};
use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::trade::CORE;
use billflow_tests::{devnet_binary, eventually, exclusive, node_binary};

use crate::register_enterprise;

/// Submits a document hash as the tenant, has both notaries co-sign it, and
/// checks every node answers with the same notarised record and block hashes.
async fn evidence_is_notarised_alike_on_every_node(
    tenant: &Signer,
    notaries: &[Signer],
    clients: &[Client],
    genesis: &billflow_sdk::types::Genesis,
) {
    use billflow_contracts::evidence::{CosignEvidence, EvidenceRecord, GetEvidence, SubmitEvidence};
    use billflow_sdk::types::{ContractName, TxStatus, Version};

    let evidence: ContractName = "evidence".parse().unwrap();
    let client = clients[0].clone();
    eventually(Duration::from_secs(60), "the evidence contract", || async {
        client.contract(&evidence).await.ok().flatten().is_some()
    })
    .await
    .unwrap();
    let hash = [0x42; 32];
    let call = |signer: &Signer, id: &str, method: &str, args: Vec<u8>| {
        signer.sign(id.parse().unwrap(), evidence.clone(), Version::new(1, 0, 0), method.parse().unwrap(), args)
    };
    let submit = SubmitEvidence { hash, doc_type: "invoice".into(), metadata: vec![("no".into(), "INV-7".into())] };
    let view =
        client.submit(&call(tenant, "ev-submit", "submit", borsh::to_vec(&submit).unwrap()), true).await.unwrap();
    assert_eq!(view.receipt.unwrap().status, TxStatus::Success);
    for (n, notary) in notaries.iter().enumerate() {
        let tx = call(notary, &format!("ev-cosign-{n}"), "cosign", borsh::to_vec(&CosignEvidence { hash }).unwrap());
        // The notary's registration may still be on its way.
        let deadline = Instant::now() + Duration::from_secs(60);
        let receipt = loop {
            match client.with_auth(notary.clone()).submit(&tx, true).await {
                Ok(v) => break v.receipt.unwrap(),
                Err(e) if e.code() == Some("E_UNKNOWN_KEY") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Err(e) => panic!("cosign {n}: {e}"),
            }
        };
        assert_eq!(receipt.failure, None);
    }
    let tip = client.health().await.unwrap().height;
    let get = borsh::to_vec(&GetEvidence { hash }).unwrap();
    let mut records = Vec::new();
    let mut headers = Vec::new();
    for c in clients {
        let c = c.with_auth(tenant.clone());
        eventually(Duration::from_secs(20), "every node at the tip", || async {
            c.health().await.map(|h| h.height >= tip).unwrap_or(false)
        })
        .await
        .unwrap();
        let out = c.query(&evidence, "get", get.clone()).await.unwrap();
        records.push(borsh::from_slice::<Option<EvidenceRecord>>(&out).unwrap().unwrap());
        headers.push(c.block(tip).await.unwrap().header);
    }
    assert!(records[0].notarised_at.is_some(), "{:?}", records[0]);
    assert!(records.windows(2).all(|w| w[0] == w[1]), "every node holds the same record");
    assert!(headers.windows(2).all(|w| w[0] == w[1]), "every node holds the same block {tip}, state hash included");
    notarised_evidence_is_proven_offline(&clients[0], genesis, billflow_sdk::types::Hash32(hash)).await;
}

/// The notarised record's proof verifies against the genesis file alone,
/// co-signatures and notarisation included; a record edited in either is refused.
async fn notarised_evidence_is_proven_offline(
    client: &Client,
    genesis: &billflow_sdk::types::Genesis,
    hash: billflow_sdk::types::Hash32,
) {
    use billflow_sdk::evidence::{self, EvidenceRecord, VerifyError};

    // The voters' attestations of the last co-signing follow its commit by a moment.
    let mut verdict = Err(VerifyError::Mismatch("no proof yet".into()));
    let mut proof = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while verdict.is_err() && Instant::now() < deadline {
        proof = client.evidence(&hash).await.unwrap();
        verdict = evidence::verify(proof.as_ref().unwrap(), genesis, &hash);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let verdict = verdict.unwrap();
    assert!(verdict.notarised, "{verdict:?}");
    assert_eq!(verdict.cosigned_by.len(), 2);
    assert_eq!(verdict.record.signatures.len(), 2);
    let proof = proof.unwrap();
    type Edit = fn(&mut EvidenceRecord);
    let edits: [(Edit, &str); 4] = [
        (|r| r.signatures[0].org = Some("another-office".into()), "co-signature 1 of the record"),
        (|r| r.signatures.swap(0, 1), "co-signature 1 of the record"),
        (|r| r.notarised_at = None, "notarisation"),
        (|r| r.notarised_at = r.notarised_at.map(|h| h + 1), "notarisation"),
    ];
    for (edit, says) in edits {
        let mut edited = proof.clone();
        let mut record: EvidenceRecord = borsh::from_slice(&edited.record).unwrap();
        edit(&mut record);
        edited.record = borsh::to_vec(&record).unwrap();
        let refused = evidence::verify(&edited, genesis, &hash).unwrap_err().to_string();
        assert!(refused.contains(says), "refused saying {says:?}: {refused}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_devnet_runs_a_network_that_survives_losing_its_leader() {
    let _one = exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Command::new(devnet_binary().unwrap())
        .arg("--node-binary")
        .arg(node_binary().unwrap())
        .args(["--voters", "3", "--observers", "1", "--base-port", "0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let json = dir.path().join("devnet.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    let devnet_json: serde_json::Value = loop {
        if let Ok(text) = std::fs::read_to_string(&json) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if v["nodes"][0]["pid"].is_u64() {
                    break v;
                }
            }
        }
        assert!(Instant::now() < deadline, "devnet.json not written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let nodes = devnet_json["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes.iter().filter(|n| n["role"] == "observer").count(), 1);
    let key = &devnet_json["tenant_keys"][0];
    let signer = Signer {
        chain_id: devnet_json["chain_id"].as_str().unwrap().parse().unwrap(),
        tenant: Some(key["owner"].as_str().unwrap().parse().unwrap()),
        key_id: key["key_id"].as_str().unwrap().parse().unwrap(),
        secret: billflow_genesis::keys::read_key(std::path::Path::new(key["key_file"].as_str().unwrap())).unwrap(),
    };
    let url = |i: usize| nodes[i]["api_url"].as_str().unwrap().to_string();
    let ca_pem = std::fs::read(devnet_json["ca_cert"].as_str().unwrap()).unwrap();
    let client_of = |i: usize| Client::builder([url(i)]).ca_pem(ca_pem.clone()).auth(signer.clone()).build().unwrap();
    let leader_of = |i: usize| {
        let c = client_of(i);
        async move {
            let v: NetworkView = c.network().await.ok()?;
            v.leader
        }
    };
    eventually(Duration::from_secs(30), "a leader", || async { leader_of(3).await.is_some() }).await.unwrap();

    // The devnet deploys the evidence contract and registers a notary per notary office.
    let key_of = |k: &serde_json::Value, tenant: Option<&str>| Signer {
        chain_id: devnet_json["chain_id"].as_str().unwrap().parse().unwrap(),
        tenant: tenant.map(|t| t.parse().unwrap()),
        key_id: k["key_id"].as_str().unwrap().parse().unwrap(),
        secret: billflow_genesis::keys::read_key(std::path::Path::new(k["key_file"].as_str().unwrap())).unwrap(),
    };
    let notaries: Vec<Signer> =
        devnet_json["notary_keys"].as_array().unwrap().iter().map(|k| key_of(k, None)).collect();
    assert_eq!(notaries.len(), 2, "notary-1 and notary-3");
    let ca = std::fs::read(devnet_json["ca_cert"].as_str().unwrap()).unwrap();
    let clients: Vec<Client> =
        (0..4).map(|i| Client::builder([url(i)]).ca_pem(ca.clone()).auth(signer.clone()).build().unwrap()).collect();
    let genesis: billflow_sdk::types::Genesis =
        serde_json::from_slice(&std::fs::read(devnet_json["genesis"].as_str().unwrap()).unwrap()).unwrap();
    evidence_is_notarised_alike_on_every_node(&signer, &notaries, &clients, &genesis).await;

    // Kill the leader, the hardest voter to lose: the other two elect another and still commit.
    let voters: Vec<usize> = (0..4).filter(|i| nodes[*i]["role"] == "voter").collect();
    let leader = leader_of(3).await.unwrap();
    let victim = *voters.iter().find(|i| nodes[**i]["node_id"] == leader.as_str()).unwrap();
    let submit_at = *voters.iter().find(|i| **i != victim).unwrap();
    let (tx, _, _) = register_enterprise(&signer, 1, "devnet-1");
    let client = client_of(submit_at);
    assert_eq!(client.submit(&tx, true).await.unwrap().status, TxState::Committed);
    let pid = nodes[victim]["pid"].as_u64().unwrap().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    let (tx, _, _) = register_enterprise(&signer, 2, "devnet-2");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.submit(&tx, true).await {
            Ok(v) if v.status == TxState::Committed => break,
            _ => assert!(Instant::now() < deadline, "no commit after killing {}", nodes[victim]["node_id"]),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The observer follows.
    let observer = client_of(3);
    eventually(Duration::from_secs(20), "the observer to apply devnet-2", || async {
        observer.transaction(&tx.tx.tx_id).await.map(|v| v.status == TxState::Committed).unwrap_or(false)
    })
    .await
    .unwrap();

    // Ctrl-C (SIGTERM here) stops every node.
    Command::new("kill").args(["-TERM", &devnet.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while devnet.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "devnet did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for n in &nodes {
        let pid = n["pid"].as_u64().unwrap();
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z");
        assert!(!alive, "node {} still running", n["node_id"]);
    }
}

/// The tenant commits a registration: the ledger takes transactions.
async fn commits(devnet: &DevnetProcess, n: u64, tx_id: &str) -> u64 {
    let owner = devnet.json["tenant_keys"][0]["owner"].as_str().unwrap().to_string();
    let tenant = devnet.signer("tenant_keys", &owner, Some(&owner)).unwrap();
    let client = devnet.client().unwrap().with_auth(tenant.clone());
    let (tx, _, _) = register_enterprise(&tenant, n, tx_id);
    let view = client.submit_and_wait(&tx, Duration::from_secs(60)).await.unwrap();
    let receipt = view.receipt.unwrap();
    assert_eq!(receipt.failure, None, "{tx_id}");
    view.height.unwrap()
}

/// Nothing of the setup was done again: no deployment, no registration, no seeding.
fn repeated_nothing(devnet: &DevnetProcess) {
    let again: Vec<&String> = devnet
        .said()
        .iter()
        .filter(|l| l.starts_with("deployed") || l.starts_with("registered") || l.starts_with("seeded"))
        .collect();
    assert!(again.is_empty(), "the setup was done again: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ctrl_c_and_the_same_command_again_restart_the_same_network() {
    let _one = exclusive().await;
    let mut devnet = DevnetProcess::start(3, 1, false, Clock::Real).unwrap();
    let before = commits(&devnet, 1, "before-ctrl-c").await;

    devnet.interrupt().unwrap();
    devnet.restart().unwrap();
    repeated_nothing(&devnet);
    let client = devnet.client().unwrap();
    for name in ["evidence", "flows"] {
        assert!(client.contract(&name.parse().unwrap()).await.unwrap().is_some(), "{name} is deployed");
    }
    let after = commits(&devnet, 2, "after-ctrl-c").await;
    assert!(after > before, "the chain goes on from height {before}, got {after}");

    // And again, as often as one likes.
    devnet.interrupt().unwrap();
    devnet.restart().unwrap();
    repeated_nothing(&devnet);
    assert!(commits(&devnet, 3, "after-second-ctrl-c").await > after);
    devnet.interrupt().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_demo_devnet_crashed_while_seeding_finishes_the_demo_and_restarts_seeded() {
    use billflow_sdk::flows::{BillStage, Page};

    let _one = exclusive().await;
    let mut devnet = DevnetProcess::spawn(3, 1, true, Clock::Real).unwrap();
    // Cut the power as the seed begins: none, some or all of its steps reach the
    // ledger. However many did, the restart finishes the demo.
    devnet.wait_for("registered participants").unwrap();
    devnet.crash().unwrap();

    devnet.restart().unwrap();
    assert!(!devnet.said().iter().any(|l| l.starts_with("deployed")), "{:?}", devnet.said());
    let core = devnet.participant(CORE).unwrap();
    let as_core = devnet.client().unwrap().with_auth(core);
    let bills = as_core.bills(&Page { after: None, limit: 100 }).await.unwrap();
    assert_eq!(bills.len(), 4, "the demo's four bills, once each: {bills:?}");
    let last = as_core.bill("530100000000000000000000000004").await.unwrap();
    assert_eq!(last.bill.stage, BillStage::Cancelled, "the seed's last step is done");
    let before = commits(&devnet, 1, "before-ctrl-c").await;

    devnet.interrupt().unwrap();
    devnet.restart().unwrap();
    repeated_nothing(&devnet);
    assert!(devnet.said().iter().any(|l| l == "the demo is seeded already"), "{:?}", devnet.said());
    assert_eq!(as_core.bills(&Page { after: None, limit: 100 }).await.unwrap(), bills);
    assert!(commits(&devnet, 2, "after-ctrl-c").await > before);
    devnet.interrupt().unwrap();
}
