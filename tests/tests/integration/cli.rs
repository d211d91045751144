//! The `billflow` command line against a devnet: evidence submitted, verified
//! by the node's proof and offline by a saved one, a tampered proof (a
//! signature, or any field of the record the verdict shows) and a duplicate
//! submission refused with exit status 1.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use billflow_sdk::Client;
use billflow_sdk::types::ContractName;
use billflow_tests::{cli_binary, devnet_binary, eventually, exclusive, node_binary};

/// What one run of the command line did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `billflow --devnet <devnet.json> ARGS…`.
async fn billflow(devnet_json: &Path, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(cli_binary().unwrap())
        .arg("--devnet")
        .arg(devnet_json)
        .args(args)
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The devnet process: stopped with SIGTERM (which stops its nodes) when dropped.
struct Devnet(Child);

impl Devnet {
    /// Sends SIGTERM and waits up to 30 s; whether it exited.
    fn stop(&mut self) -> bool {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
        false
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// Waits for `devnet.json` with the nodes' process ids.
async fn devnet_json(path: &Path) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if v["nodes"][0]["pid"].is_u64() {
                    return v;
                }
            }
        }
        assert!(Instant::now() < deadline, "devnet.json not written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Flips one hex digit of the submission's signature in a saved proof.
fn tamper(proof: &Path) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(proof).unwrap()).unwrap();
    let sig = v["submit"]["tx"]["signature"].as_str().unwrap().to_string();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    v["submit"]["tx"]["signature"] = format!("{flipped}{}", &sig[1..]).into();
    std::fs::write(proof, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

type RecordEdit = fn(&mut billflow_sdk::evidence::EvidenceRecord);

/// Edits of a saved proof's record, one field each, with what the refusal says.
fn record_edits() -> Vec<(&'static str, RecordEdit, &'static str)> {
    use billflow_sdk::evidence::NotarySignature;
    vec![
        ("document type", |r| r.doc_type = "contract".into(), "document type"),
        ("metadata", |r| r.metadata[0].1 = "INV-2".into(), "metadata"),
        ("submitter", |r| r.submitter = "org:91310000000000000X".into(), "submitter"),
        (
            "co-signer",
            |r| {
                r.signatures.push(NotarySignature {
                    notary: "91310000MA1FL0000X".into(),
                    org: Some("notary-a".into()),
                    height: r.height,
                    time_ms: r.time_ms,
                })
            },
            "co-signatures",
        ),
        ("notarised", |r| r.notarised_at = Some(r.height), "notarised"),
    ]
}

/// Writes to `out` the saved proof at `proof` with its record edited.
fn edit_record(proof: &Path, out: &Path, edit: RecordEdit) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(proof).unwrap()).unwrap();
    let bytes = hex::decode(v["record"].as_str().unwrap()).unwrap();
    let mut record: billflow_sdk::evidence::EvidenceRecord = borsh::from_slice(&bytes).unwrap();
    edit(&mut record);
    v["record"] = hex::encode(borsh::to_vec(&record).unwrap()).into();
    std::fs::write(out, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cli_submits_and_verifies_evidence_on_a_devnet() {
    let _one = exclusive().await;
    cli_binary().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet(
        Command::new(devnet_binary().unwrap())
            .arg("--node-binary")
            .arg(node_binary().unwrap())
            .args(["--voters", "3", "--observers", "1", "--base-port", "0", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let json_path = dir.path().join("devnet.json");
    let info = devnet_json(&json_path).await;

    // The devnet deploys the evidence contract once the network is up.
    let ca = std::fs::read(info["ca_cert"].as_str().unwrap()).unwrap();
    let client = Client::builder([info["nodes"][0]["api_url"].as_str().unwrap()]).ca_pem(ca).build().unwrap();
    let evidence: ContractName = "evidence".parse().unwrap();
    eventually(Duration::from_secs(90), "the evidence contract", || async {
        client.contract(&evidence).await.ok().flatten().is_some()
    })
    .await
    .unwrap();

    let status = billflow(&json_path, &["--json", "status"]).await;
    assert_eq!(status.code, Some(0), "{status}");
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["health"]["chain_id"], "billflow-devnet");
    assert_eq!(status["network"]["peers"].as_array().unwrap().len(), 3);

    let work = tempfile::tempdir().unwrap();
    let doc = work.path().join("invoice-1.pdf");
    std::fs::write(&doc, b"%PDF-1.7 invoice INV-1, 1000.00 CNY").unwrap();
    let hash = billflow_sdk::evidence::document_hash(&std::fs::read(&doc).unwrap()).to_hex();
    let doc = doc.to_str().unwrap();

    let submit = billflow(&json_path, &["evidence", "submit", doc, "--type", "invoice", "--meta", "no=INV-1"]).await;
    assert_eq!(submit.code, Some(0), "{submit}");
    assert!(submit.stdout.contains(&hash), "{submit}");

    let get = billflow(&json_path, &["evidence", "get", &hash]).await;
    assert_eq!(get.code, Some(0), "{get}");
    assert!(get.stdout.contains("invoice") && get.stdout.contains("no=INV-1"), "{get}");

    // The other voters' attestations of the block follow its commit by a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let verify = loop {
        let verify = billflow(&json_path, &["evidence", "verify", &hash]).await;
        if verify.code == Some(0) || Instant::now() > deadline || !verify.stderr.contains("E_NOT_VERIFIED") {
            break verify;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(verify.code, Some(0), "{verify}");
    assert!(verify.stdout.contains("verified"), "{verify}");

    // A saved proof verifies offline; tampered with, it does not.
    let proof = work.path().join("proof.json");
    let saved = billflow(&json_path, &["evidence", "proof", &hash, "--out", proof.to_str().unwrap()]).await;
    assert_eq!(saved.code, Some(0), "{saved}");
    let offline = billflow(&json_path, &["evidence", "verify", &hash, "--proof", proof.to_str().unwrap()]).await;
    assert_eq!(offline.code, Some(0), "{offline}");
    assert!(offline.stdout.contains("verified"), "{offline}");
    // Every field the verdict shows is proven: a record edited in any of them is refused, saying which.
    for (field, edit, says) in record_edits() {
        let edited = work.path().join(format!("proof-{field}.json"));
        edit_record(&proof, &edited, edit);
        let refused = billflow(&json_path, &["evidence", "verify", &hash, "--proof", edited.to_str().unwrap()]).await;
        assert_eq!(refused.code, Some(1), "{field}: {refused}");
        assert!(refused.stderr.contains(says), "{field} refused, saying {says:?}: {refused}");
        assert!(!refused.stdout.contains("verified:"), "{field}: {refused}");
    }
    tamper(&proof);
    let refused = billflow(&json_path, &["evidence", "verify", &hash, "--proof", proof.to_str().unwrap()]).await;
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("E_NOT_VERIFIED"), "{refused}");
    assert!(refused.stderr.contains("not in the block"), "says why: {refused}");
    assert!(!refused.stdout.contains("verified:"), "{refused}");

    // The same document again is refused by the contract.
    let again = billflow(&json_path, &["evidence", "submit", doc, "--type", "invoice"]).await;
    assert_eq!(again.code, Some(1), "{again}");
    assert!(again.stderr.contains("E_DUPLICATE_EVIDENCE"), "{again}");

    // A document never submitted is not found.
    let unknown = billflow(&json_path, &["evidence", "get", &"ab".repeat(32)]).await;
    assert_eq!(unknown.code, Some(1), "{unknown}");
    assert!(unknown.stderr.contains("not on the ledger"), "{unknown}");

    rotate_the_platform_key(&json_path, &info, work.path()).await;
    change_the_approval_policy(&json_path, &info, &client).await;

    assert!(devnet.stop(), "devnet did not stop");
}

/// The organisations change the approval policy and rotate an administrator
/// key as docs/operations.md says, through `billflow admin`: a regulator's
/// approval becomes required and the next proposal waits for it; the retired
/// key is refused; the changes reach the supervision stream.
async fn change_the_approval_policy(json_path: &Path, info: &serde_json::Value, client: &Client) {
    let admins: Vec<(String, String, String)> = info["admin_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let s = |f: &str| k[f].as_str().unwrap().to_string();
            (s("owner"), s("key_id"), s("key_file"))
        })
        .collect();
    let admin = |org: &str| {
        let (_, key_id, file) = admins.iter().find(|(o, _, _)| o == org).unwrap().clone();
        vec!["--key".to_string(), file, "--key-id".to_string(), key_id]
    };
    let run = |org: &str, args: &[&str]| {
        let args: Vec<String> = admin(org).into_iter().chain(args.iter().map(|a| a.to_string())).collect();
        async move { billflow(json_path, &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    // Four organisations: a majority is three.
    let set = ["admin", "propose", "--proposal", "policy-1", "set-policy", "--min-approving-orgs", "2"];
    let proposed =
        run("notary-1", &[&set[..], &["--min-share-percent", "0", "--regulator", "required"]].concat()).await;
    assert_eq!(proposed.code, Some(0), "{proposed}");
    assert!(proposed.stdout.contains("waiting for more organisations"), "{proposed}");
    let unmeetable =
        run("notary-1", &["admin", "propose", "--proposal", "policy-x", "set-policy", "--min-approving-orgs", "5"])
            .await;
    assert_eq!(unmeetable.code, Some(1), "{unmeetable}");
    assert!(unmeetable.stderr.contains("E_BAD_POLICY"), "{unmeetable}");
    for org in ["bank-2", "notary-3"] {
        let approved = run(org, &["admin", "approve", "--proposal", "policy-1"]).await;
        assert_eq!(approved.code, Some(0), "{approved}");
    }
    // Now two organisations are enough only with the regulator among them.
    let back = ["admin", "propose", "--proposal", "policy-2", "set-policy", "--min-approving-orgs", "3"];
    let proposed = run("notary-1", &back).await;
    assert_eq!(proposed.code, Some(0), "{proposed}");
    let approved = run("bank-2", &["admin", "approve", "--proposal", "policy-2"]).await;
    assert!(approved.stdout.contains("waiting for more organisations"), "{approved}");
    let approved = run("regulator-1", &["admin", "approve", "--proposal", "policy-2"]).await;
    assert_eq!(approved.code, Some(0), "{approved}");
    assert!(approved.stdout.contains("carried out in block"), "{approved}");

    // bank-2 rotates its administrator key: a new key made, the rotation
    // approved under the policy, the old key refused after.
    let new_file = json_path.with_file_name("bank-2-admin-2.key");
    let made = billflow(json_path, &["--json", "keys", "new", "--out", new_file.to_str().unwrap()]).await;
    assert_eq!(made.code, Some(0), "{made}");
    let public_key =
        serde_json::from_str::<serde_json::Value>(&made.stdout).unwrap()["public_key"].as_str().unwrap().to_string();
    let rotate = [
        "admin",
        "propose",
        "--proposal",
        "rotate-bank-2",
        "rotate-admin-key",
        "--org",
        "bank-2",
        "--new-key-id",
        "bank-2.admin2",
        "--public-key",
        &public_key,
        "--retire",
        "bank-2.admin",
    ];
    let proposed = run("bank-2", &rotate).await;
    assert_eq!(proposed.code, Some(0), "{proposed}");
    for org in ["notary-1", "notary-3"] {
        let approved = run(org, &["admin", "approve", "--proposal", "rotate-bank-2"]).await;
        assert_eq!(approved.code, Some(0), "{approved}");
    }
    let old =
        run("bank-2", &["admin", "propose", "--proposal", "after", "set-policy", "--min-approving-orgs", "3"]).await;
    assert_eq!(old.code, Some(1), "{old}");
    assert!(old.stderr.contains("E_KEY_REVOKED"), "{old}");
    let with_new = ["--key", new_file.to_str().unwrap(), "--key-id", "bank-2.admin2"];
    let new = billflow(
        json_path,
        &[&with_new[..], &["admin", "propose", "--proposal", "after", "set-policy", "--min-approving-orgs", "3"]]
            .concat(),
    )
    .await;
    assert_eq!(new.code, Some(0), "{new}");

    // The changes are on the supervision stream.
    let (_, key_id, file) = admins.iter().find(|(o, _, _)| o == "regulator-1").unwrap().clone();
    let regulator = billflow_sdk::Signer::from_key_file(
        "billflow-devnet".parse().unwrap(),
        None,
        key_id.parse().unwrap(),
        Path::new(&file),
    )
    .unwrap();
    let events = billflow_tests::all_supervision_events(&client.with_auth(regulator)).await.unwrap();
    let changes = events.iter().filter(|e| e.topic == "policy.changed").count();
    assert_eq!(changes, 2, "policy changes on the supervision stream");
    assert!(events.iter().any(|e| e.topic == "admin_key.rotated"), "the key rotation on the supervision stream");
}

/// The tenant platform rotates its key as docs/operations.md says: a new key
/// made, registered by the old one, used, and the old one revoked by the new.
async fn rotate_the_platform_key(json_path: &Path, info: &serde_json::Value, work: &Path) {
    let tenant = info["tenant_keys"][0]["owner"].as_str().unwrap();
    let old_key = info["tenant_keys"][0]["key_id"].as_str().unwrap();
    let new_key_id = format!("{tenant}.key2");
    let new_file = work.join("platform-2.key");
    let made = billflow(json_path, &["--json", "keys", "new", "--out", new_file.to_str().unwrap()]).await;
    assert_eq!(made.code, Some(0), "{made}");
    let public_key =
        serde_json::from_str::<serde_json::Value>(&made.stdout).unwrap()["public_key"].as_str().unwrap().to_string();
    // Signed with the old key, as the devnet's platform.
    let added =
        billflow(json_path, &["keys", "add-tenant-key", "--new-key-id", &new_key_id, "--public-key", &public_key])
            .await;
    assert_eq!(added.code, Some(0), "{added}");
    let with_new = ["--key", new_file.to_str().unwrap(), "--key-id", new_key_id.as_str(), "--tenant", tenant];
    let doc = work.join("after-rotation.txt");
    std::fs::write(&doc, b"delivery note DN-7, signed with the platform's new key").unwrap();
    let doc = doc.to_str().unwrap();
    let submitted =
        billflow(json_path, &[&with_new[..], &["evidence", "submit", doc, "--type", "delivery_note"]].concat()).await;
    assert_eq!(submitted.code, Some(0), "{submitted}");
    let revoked = billflow(json_path, &[&with_new[..], &["keys", "revoke", old_key]].concat()).await;
    assert_eq!(revoked.code, Some(0), "{revoked}");
    // The old key is refused from now on, at the gateway.
    let refused = billflow(json_path, &["evidence", "submit", doc, "--type", "delivery_note"]).await;
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("E_KEY_REVOKED"), "{refused}");

    // The platform's sponsoring organisation adds a key for it and revokes it;
    // another organisation may do neither.
    let sponsor = info["admin_keys"].as_array().unwrap().iter().find(|k| k["owner"] == "notary-1").unwrap();
    let other = info["admin_keys"].as_array().unwrap().iter().find(|k| k["owner"] == "bank-2").unwrap();
    let as_admin = |k: &serde_json::Value| {
        ["--key", k["key_file"].as_str().unwrap(), "--key-id", k["key_id"].as_str().unwrap()].map(String::from)
    };
    let third = format!("{tenant}.key3");
    let add = ["keys", "add-tenant-key", "--for", tenant, "--new-key-id", third.as_str(), "--public-key", &public_key];
    let by_other = billflow(json_path, &[&as_admin(other).each_ref().map(String::as_str)[..], &add[..]].concat()).await;
    assert_eq!(by_other.code, Some(1), "{by_other}");
    assert!(by_other.stderr.contains("E_UNAUTHORIZED"), "{by_other}");
    let sponsor_args = as_admin(sponsor);
    let sponsor_args = sponsor_args.each_ref().map(String::as_str);
    let by_sponsor = billflow(json_path, &[&sponsor_args[..], &add[..]].concat()).await;
    assert_eq!(by_sponsor.code, Some(0), "{by_sponsor}");
    let revoked = billflow(json_path, &[&sponsor_args[..], &["keys", "revoke", third.as_str()]].concat()).await;
    assert_eq!(revoked.code, Some(0), "{revoked}");
}

/// The bill-flow commands against a devnet with the demo seeded: each party
/// lists the bills it may see, a bill shows its whole history, an invoice its
/// occupation, and a refused action exits 1 with the contract's code; the
/// regulator's observer node streams the bills' history to `billflow supervise`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_command_line_shows_each_party_its_bills() {
    use billflow_tests::devnet::{Clock, DevnetProcess};

    let _one = exclusive().await;
    let devnet = DevnetProcess::start(3, 1, true, Clock::Real).unwrap();
    let json = devnet.path.join("devnet.json");
    let (supplier_a, supplier_b) = ("91320500MA1FL0002T", "91330100MA1FL0003D");
    let numbers = |run: &Run| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run}"));
        let list = v.as_array().cloned().or_else(|| v["bills"].as_array().cloned()).unwrap_or_default();
        list.iter().filter_map(|b| b["number"].as_str().map(str::to_string)).collect()
    };
    let a = billflow(&json, &["--as", supplier_a, "--json", "bill", "list"]).await;
    assert_eq!(a.code, Some(0), "{a}");
    let bill = |n: u32| format!("5301000000000000000000000000{n:02}");
    assert_eq!(numbers(&a), vec![bill(1), bill(2), bill(4)], "supplier A: payee of bills 1, 2 and 4");
    let b = billflow(&json, &["--as", supplier_b, "--json", "bill", "list"]).await;
    assert_eq!(numbers(&b), vec![bill(1), bill(3)], "supplier B: endorsee of bill 1, payee of bill 3");

    let show = billflow(&json, &["--as", supplier_a, "bill", "show", &bill(1)]).await;
    assert_eq!(show.code, Some(0), "{show}");
    for step in ["issued", "accepted", "received", "endorsed", "discount_approved", "discounted"] {
        assert!(show.stdout.contains(step), "history step {step} missing:\n{show}");
    }
    let invoice = billflow(&json, &["--as", supplier_a, "--json", "invoice", "show", "3100231130", "00000001"]).await;
    assert_eq!(invoice.code, Some(0), "{invoice}");
    let v: serde_json::Value = serde_json::from_str(&invoice.stdout).unwrap();
    assert_eq!((v["occupied"].as_str(), v["free"].as_str()), (Some("500000.00"), Some("1000000.00")), "{invoice}");
    let outsider = billflow(&json, &["--as", supplier_b, "bill", "show", &bill(2)]).await;
    assert_eq!(outsider.code, Some(1), "{outsider}");
    assert!(outsider.stderr.contains("E_NOT_AUTHORISED"), "{outsider}");

    // Bill 3 is pledged to bank B: supplier B cannot endorse it.
    let refused = billflow(
        &json,
        &["--as", supplier_b, "bill", "endorse", &bill(3), "--to", supplier_a, "--start", "1", "--end", "18000000"],
    )
    .await;
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("E_BILL_PLEDGED"), "{refused}");

    // `billflow inbox`: an endorsement waits for its endorsee, and only for it,
    // until it answers. Supplier A endorses a whole free holding of its own.
    let parse =
        |run: &Run| -> serde_json::Value { serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run}")) };
    let mut endorsed = None;
    for n in [2, 4, 1] {
        let shown = billflow(&json, &["--as", supplier_a, "--json", "bill", "show", &bill(n)]).await;
        let v = parse(&shown);
        let free =
            v["bill"]["holdings"].as_array().unwrap().iter().find(|h| {
                h["holder"] == supplier_a && h["locked_by"].is_null() && h["state"].to_string().contains("held")
            });
        let Some(h) = free else { continue };
        let (start, end) = (h["start"].as_u64().unwrap().to_string(), h["end"].as_u64().unwrap().to_string());
        let args =
            ["--as", supplier_a, "bill", "endorse", &bill(n), "--to", supplier_b, "--start", &start, "--end", &end];
        if billflow(&json, &args).await.code == Some(0) {
            endorsed = Some(bill(n));
            break;
        }
    }
    let endorsed = endorsed.expect("supplier A endorses one of its holdings");
    let inbox = parse(&billflow(&json, &["--as", supplier_b, "--json", "inbox"]).await);
    let waiting = inbox["requests"].as_array().unwrap().iter().find(|r| r["bill"] == endorsed.as_str());
    let waiting = waiting.unwrap_or_else(|| panic!("supplier B's inbox: {inbox}"));
    assert_eq!((waiting["kind"].as_str(), waiting["from"].as_str()), (Some("endorsement"), Some(supplier_a)));
    let id = waiting["id"].as_str().unwrap().to_string();
    let text = billflow(&json, &["--as", supplier_b, "inbox"]).await;
    assert!(text.stdout.contains(&id) && text.stdout.contains("endorsement"), "{text}");
    let theirs = billflow(&json, &["--as", supplier_a, "inbox"]).await;
    assert!(!theirs.stdout.contains(&id), "the endorser does not answer it: {theirs}");
    let signed = billflow(&json, &["--as", supplier_b, "bill", "sign", &id]).await;
    assert_eq!(signed.code, Some(0), "{signed}");
    let after = billflow(&json, &["--as", supplier_b, "inbox"]).await;
    assert!(!after.stdout.contains(&id), "answered: {after}");

    // The regulator's stream over TLS from the regulator's observer node, from
    // the start, bill events only: the demo's history, one JSON event a line.
    let observer = devnet.urls()[3].clone();
    let mut supervise = tokio::process::Command::new(cli_binary().unwrap())
        .arg("--devnet")
        .arg(&json)
        .args(["--node", &observer, "supervise", "--from", "0-0-0", "--type", "bill."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(supervise.stdout.take().unwrap()));
    let mut events = Vec::new();
    while events.len() < 20 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        let Ok(Ok(Some(line))) = line else { panic!("the stream stopped after {} events", events.len()) };
        events.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
    }
    assert!(events.iter().all(|e| e["topic"].as_str().unwrap().starts_with("bill.")), "{events:?}");
    let cursors: Vec<&str> = events.iter().map(|e| e["cursor"].as_str().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] != w[1]), "each event once");
    supervise.kill().await.unwrap();
}
