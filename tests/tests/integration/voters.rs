//! Proofs that survive changes of the voters: every genesis voter replaced,
//! one at a time, through the runbook (docs/operations.md, "Certificate
//! rotation"), and evidence proofs of records made before the first change
//! and after the last verified offline against the genesis file alone.

use std::path::Path;
use std::time::{Duration, Instant};

use billflow_sdk::evidence::{self, EvidenceConfig};
use billflow_sdk::types::proof::EvidenceProof;
use billflow_sdk::types::{ChainParams, Hash32, Version};
use billflow_tests::exclusive;

use crate::cluster::{Cluster, VOTERS_AND_OBSERVER};
use crate::operations::{admin, get, run_ok};

/// `billflow …`: whether it succeeded, and what it printed.
fn billflow(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(billflow_tests::cli_binary().unwrap()).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Carries out an administrative action from a JSON file: notary-a proposes, bank-b approves.
fn carry_out(c: &Cluster, via: usize, proposal: &str, action: serde_json::Value) {
    let file = c.dir.path().join(format!("{proposal}.json"));
    std::fs::write(&file, action.to_string()).unwrap();
    admin(c, via, "notary-a", &["propose", "--proposal", proposal, "action", file.to_str().unwrap()]);
    let approved = admin(c, via, "bank-b", &["approve", "--proposal", proposal]);
    assert!(approved.contains("carried out in block"), "{approved}");
}

/// Saves node `i`'s proof of `hash` to `file` with `billflow evidence proof`.
fn save_proof(c: &Cluster, i: usize, hash: &Hash32, file: &Path) -> Result<(), String> {
    let ca = c.dir.path().join("cas.pem");
    let url = &c.nodes[i].as_ref().unwrap().url;
    let hex = hash.to_hex();
    let (ok, text) = billflow(&[
        "--node",
        url,
        "--ca",
        ca.to_str().unwrap(),
        "evidence",
        "proof",
        &hex,
        "--out",
        file.to_str().unwrap(),
    ]);
    if ok { Ok(()) } else { Err(text) }
}

/// The explorer's own check (explorer/verify.js) of a saved proof, run by Node.
fn verify_in_page_code(c: &Cluster, hash: &Hash32, proof: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/verify-proof.mjs");
    let genesis = c.dir.path().join("genesis.json");
    let out = std::process::Command::new("node")
        .arg(script)
        .args([genesis.as_os_str(), proof.as_os_str(), hash.to_hex().as_ref()])
        .output()
        .expect("node runs the explorer's proof check");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// `billflow evidence verify --genesis --proof`: no node involved.
fn verify_offline(c: &Cluster, hash: &Hash32, proof: &Path) -> (bool, String) {
    let genesis = c.dir.path().join("genesis.json");
    billflow(&[
        "evidence",
        "verify",
        &hash.to_hex(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--proof",
        proof.to_str().unwrap(),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proofs_verify_offline_after_every_genesis_voter_is_replaced() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let leader = c.wait_leader(&c.alive(), Duration::from_secs(20)).await;
    let tenant = c.tenant();
    let config = EvidenceConfig { notary_threshold: 1 };
    carry_out(
        &c,
        leader,
        "deploy-evidence",
        serde_json::json!({"action": "deploy_contract", "name": "evidence", "version": "1.0.0",
            "code": hex::encode(billflow_contracts::EVIDENCE),
            "registrations": {"orgs": [], "tenants": [tenant.tenant.as_ref().unwrap().as_str()]},
            "init_args": hex::encode(borsh::to_vec(&config).unwrap())}),
    );
    let version: Version = "1.0.0".parse().unwrap();
    let record = async |c: &Cluster, i: usize, n: u8| {
        let hash = Hash32([n; 32]);
        let tx = evidence::submit_tx(
            &tenant,
            format!("ev-voters-{n}").parse().unwrap(),
            version,
            &hash,
            "invoice",
            vec![("no".into(), format!("INV-{n}"))],
        );
        let done = c.client(i).submit_and_wait(&tx, Duration::from_secs(30)).await.unwrap();
        assert!(done.receipt.unwrap().failure.is_none(), "evidence {n} recorded");
        hash
    };
    let before = record(&c, leader, 1).await;

    // Each genesis voter in turn: a new node of its organisation issued,
    // started, admitted as a voter and ready; then the old one revoked and stopped.
    let orgs = [("notary-a", "notary", "bank-b"), ("bank-b", "bank", "notary-c"), ("notary-c", "notary", "notary-a")];
    for (old, (org, role, approver)) in orgs.into_iter().enumerate() {
        let old_id = format!("{org}-1");
        let new_id = format!("{org}-2");
        assert_eq!(c.name(old), old_id);
        let issued = run_ok(
            billflow_tests::genesis_binary().unwrap(),
            &[
                "issue-node",
                "--ca",
                c.org_dir(org).to_str().unwrap(),
                "--node-id",
                &new_id,
                "--org",
                org,
                "--role",
                role,
                "--host",
                "127.0.0.1",
                "--out",
                c.org_dir(org).join("nodes").join(&new_id).to_str().unwrap(),
            ],
        );
        let public_key = issued.trim().rsplit(' ').next().unwrap().to_string();
        let (config_path, address) = c.joiner_config(&new_id, org, None);
        c.nodes.push(Some(billflow_tests::NodeProcess::start_configured(&config_path).unwrap()));
        let new = c.nodes.len() - 1;
        let via = c.alive().into_iter().find(|i| *i != new && *i != old).unwrap();
        let add = format!("add-{new_id}");
        admin(
            &c,
            via,
            org,
            &[
                "propose",
                "--proposal",
                &add,
                "add-node",
                "--node-id",
                &new_id,
                "--org",
                org,
                "--role",
                "voter",
                "--public-key",
                &public_key,
                "--address",
                &address,
            ],
        );
        let approved = admin(&c, via, approver, &["approve", "--proposal", &add]);
        assert!(approved.contains("carried out in block"), "{approved}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(&c, new, "/v1/ready").await.0 != 200 {
            assert!(Instant::now() < deadline, "{new_id} never became ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Before the old node goes, the new one serves proofs of the records
        // made before it joined: it fetched their attestations from its peers.
        let file = c.dir.path().join(format!("proof-from-{new_id}.json"));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(60);
        loop {
            let saved = save_proof(&c, new, &before, &file);
            if saved.is_ok() && verify_offline(&c, &before, &file).0 {
                break;
            }
            assert!(Instant::now() < deadline, "{new_id} never served a proof that verifies: {saved:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        eprintln!(
            "voters: {new_id} serves a verifying proof of the first record {:?} after it was ready",
            started.elapsed()
        );
        let revoke = format!("revoke-{old_id}");
        admin(
            &c,
            via,
            org,
            &["propose", "--proposal", &revoke, "revoke-node", "--node-id", &old_id, "--reason", "rotated"],
        );
        let revoked = admin(&c, via, approver, &["approve", "--proposal", &revoke]);
        assert!(revoked.contains("carried out in block"), "{revoked}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let voters = c.client(via).network().await.map(|v| v.voters).unwrap_or_default();
            if voters.contains(&new_id) && !voters.contains(&old_id) {
                break;
            }
            assert!(Instant::now() < deadline, "the consensus voters did not become {new_id}'s: {voters:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        c.kill(old);
        eprintln!("voters: {old_id} replaced by {new_id}");
    }
    let newest = c.nodes.len() - 1;
    let after = record(&c, newest, 2).await;

    // Both proofs, served by the node that joined last (which fetched the
    // attestations of the blocks before it joined from its peers), verify
    // offline against the genesis file: its voters are all gone.
    let work = tempfile::tempdir().unwrap();
    for (what, hash, changes) in [("before the first change", before, 0), ("after the last change", after, 6)] {
        let file = work.path().join(format!("{}.json", hash.to_hex()));
        let deadline = Instant::now() + Duration::from_secs(60);
        let verified = loop {
            save_proof(&c, newest, &hash, &file).unwrap();
            let (ok, text) = verify_offline(&c, &hash, &file);
            if ok || Instant::now() > deadline {
                break (ok, text);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        assert!(verified.0 && verified.1.contains("verified"), "a proof of a record made {what}: {}", verified.1);
        let proof: EvidenceProof = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(proof.voter_changes.len(), changes, "{what}: three additions and three revocations");
        // The explorer's page code agrees.
        let (ok, text) = verify_in_page_code(&c, &hash, &file);
        assert!(ok && text.starts_with("verified"), "the explorer's check of a record made {what}: {text}");
        eprintln!("voters: the proof of a record made {what} verifies offline ({changes} changes of voters)");
    }

    // Leaving out a change (here the revocation of notary-a-1, so that it
    // would still count) is refused: the headers name the voters in force.
    let file = work.path().join(format!("{}.json", after.to_hex()));
    let mut proof: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    proof["voter_changes"].as_array_mut().unwrap().remove(1);
    let cut = work.path().join("cut.json");
    std::fs::write(&cut, proof.to_string()).unwrap();
    let (ok, text) = verify_offline(&c, &after, &cut);
    assert!(!ok && text.contains("names other voters than the proof leads to"), "{text}");
    let (ok, text) = verify_in_page_code(&c, &after, &cut);
    assert!(!ok && text.contains("names other voters than the proof leads to"), "the explorer: {text}");
    // And with no changes at all, the genesis voters alone do not attest it.
    proof["voter_changes"] = serde_json::json!([]);
    std::fs::write(&cut, proof.to_string()).unwrap();
    let (ok, text) = verify_offline(&c, &after, &cut);
    assert!(!ok && text.contains("names other voters than the proof leads to"), "{text}");
}

/// Rewrites node data `dir`'s audit log from entry `from` on (a changed
/// request id) and hashes the chain again, as someone with file access could.
fn rewrite_audit_log(dir: &Path, from: u64) {
    use billflow_sdk::types::audit::AuditEntry;
    let path = dir.join("audit/audit.jsonl");
    let mut entries: Vec<AuditEntry> =
        std::fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut prev = Hash32::ZERO;
    for e in &mut entries {
        if e.seq == from {
            e.result = "403 E_UNAUTHORIZED".into();
        }
        e.prev = prev;
        e.hash = e.compute_hash();
        prev = e.hash;
    }
    let text: String = entries.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect();
    std::fs::write(&path, text).unwrap();
}

/// docs/operations.md, "The audit log": each node anchors its audit log's
/// head in its block attestations, which every node holds; `billflow-node
/// audit verify` finds a log rewritten and hashed again, or cut short, with
/// the anchors of the node's own store or of another node's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_verify_finds_a_rewritten_or_cut_log_by_its_anchors() {
    let _one = exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER[..3], ChainParams::default(), false, None).await;
    let leader = c.wait_leader(&c.alive(), Duration::from_secs(20)).await;
    let watched = (0..3).find(|i| *i != leader).unwrap();
    let other = (0..3).find(|i| *i != leader && *i != watched).unwrap();
    // Calls to the watched node are audited there; blocks made after them
    // carry its attestations, which anchor its log's head.
    for n in 0..12 {
        get(&c, watched, "/v1/health").await;
        let (tx, _, _) = crate::register_enterprise(&c.tenant(), 800_000 + n, &format!("audit-{n}"));
        assert!(crate::raft::commit(&c.client(leader), &tx).await);
    }
    let height = c.height(leader).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.height(watched).await < height || c.height(other).await < height {
        assert!(Instant::now() < deadline, "the followers did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.kill(watched);
    c.kill(other);
    let (data, anchors) = (c.data_dir(watched), c.data_dir(other));
    let name = c.name(watched);
    let audit = |anchors: Option<&Path>| {
        let mut all: Vec<&std::ffi::OsStr> =
            vec!["audit".as_ref(), "verify".as_ref(), "--data".as_ref(), data.as_os_str()];
        if let Some(dir) = anchors {
            all.extend(["--anchors".as_ref(), dir.as_os_str(), "--node".as_ref(), name.as_ref()]);
        }
        crate::operations::node_cmd(&all)
    };
    let (ok, text) = audit(None);
    assert!(ok && text.contains("audit log verified") && text.contains("anchors by"), "{text}");
    let (ok, text) = audit(Some(&anchors));
    assert!(ok && text.contains("audit log verified"), "with another node's anchors: {text}");
    eprintln!("audit: {}", text.trim());

    // Rewritten from entry 1 and hashed again: the chain holds, the anchors do not.
    let log = data.join("audit/audit.jsonl");
    let original = std::fs::read(&log).unwrap();
    rewrite_audit_log(&data, 1);
    for anchors in [None, Some(anchors.as_path())] {
        let (ok, text) = audit(anchors);
        assert!(!ok && text.contains("the log was rewritten") && text.contains("is between"), "{text}");
        eprintln!("audit: {}", text.trim());
    }
    // `verify` checks the audit log too.
    let (ok, text) = crate::operations::node_cmd(&["verify".as_ref(), "--data".as_ref(), data.as_os_str()]);
    assert!(!ok && text.contains("the log was rewritten"), "{text}");

    // Cut to its first entry.
    let first_line = original.iter().position(|b| *b == b'\n').unwrap() + 1;
    std::fs::write(&log, &original[..first_line]).unwrap();
    let (ok, text) = audit(Some(&anchors));
    assert!(!ok && text.contains("the log was cut: it ends at entry 0"), "{text}");
    eprintln!("audit: {}", text.trim());

    // Put back, it verifies again.
    std::fs::write(&log, &original).unwrap();
    let (ok, text) = audit(None);
    assert!(ok, "{text}");
}
