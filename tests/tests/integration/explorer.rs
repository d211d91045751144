//! The explorer on a devnet running the demo, in a real browser.
//!
//! The suite records a notarised evidence file whose type and metadata are
//! HTML and script (a hostile event), checks the public bill route and the
//! explorer's own listener (reads only, nothing signed), then runs
//! `tests/browser/explorer.test.mjs`: headless Chromium from Debian's
//! `chromium` package, driven by playwright-core, opens the overview, follows
//! a block, a transaction and a bill's timeline, verifies the evidence file,
//! looks at the hostile event, and saves its screenshots under
//! `target/explorer-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use billflow_sdk::types::Version;
use billflow_sdk::{evidence, new_tx_id};
use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::exclusive;
use serde_json::Value;

/// The demo's first bill: endorsed in part, discounted in part by bank A.
const BILL: &str = "530100000000000000000000000001";
/// Supplier A, who holds part of it: masked in public.
const SUPPLIER_A: &str = "91320500MA1FL0002T";
/// Text that would run if the page ever made HTML of ledger text.
const HOSTILE_TYPE: &str = "<img src=x onerror=window.__pwned=1>";
const HOSTILE_META: &str = "<script>window.__pwned=2</script><b>bold</b>";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Past the script's own step limits.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// playwright-core, installed from the lock file on first use.
async fn install_playwright() {
    let dir = browser_dir();
    if dir.join("node_modules/playwright-core/package.json").exists() {
        return;
    }
    let run = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("npm ci within 5 minutes")
        .expect("npm runs (Node.js and npm are needed: see the README)");
    assert!(out.status.success(), "npm ci failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let resp = client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_explorer_works_in_a_real_browser_and_runs_no_ledger_text() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium package (the README's test command does)"
    );
    let _one = exclusive().await;
    install_playwright().await;
    let mut devnet = DevnetProcess::start(3, 1, true, Clock::Real).unwrap();
    let work = tempfile::tempdir().unwrap();

    // A document recorded by supplier A with hostile type and metadata, and
    // notarised by both notary offices; another never recorded.
    let document = work.path().join("purchase-contract.txt");
    std::fs::write(&document, format!("Purchase contract PO-DEMO-001, {}\n", std::process::id())).unwrap();
    let unrecorded = work.path().join("unrecorded.txt");
    std::fs::write(&unrecorded, "a document nobody recorded\n").unwrap();
    let hash = evidence::document_hash(&std::fs::read(&document).unwrap());
    let version = Version::new(1, 0, 0);
    let client = devnet.client().unwrap();
    let supplier = devnet.participant(SUPPLIER_A).unwrap();
    let submit = evidence::submit_tx(
        &supplier,
        new_tx_id("ev").unwrap(),
        version,
        &hash,
        HOSTILE_TYPE,
        vec![("note".into(), HOSTILE_META.into())],
    );
    let hostile_tx = submit.tx.tx_id.to_string();
    let view = client.with_auth(supplier).submit(&submit, true).await.unwrap();
    assert!(view.receipt.as_ref().is_some_and(|r| r.failure.is_none()), "{view:?}");
    for owner in ["notary-1-notary", "notary-3-notary"] {
        let notary = devnet.signer("notary_keys", owner, None).unwrap();
        let cosign = evidence::cosign_tx(&notary, new_tx_id("cosign").unwrap(), version, &hash);
        client.with_auth(notary).submit(&cosign, true).await.unwrap();
    }
    let proof = client.evidence(&hash).await.unwrap().expect("the evidence is on the ledger");
    assert!(proof.summary.notarised_at.is_some(), "both notaries co-signed: {:?}", proof.summary);

    // Every node serves the explorer on its own loopback listener, plain HTTP.
    let node = &devnet.json["nodes"][0];
    let explorer_url = node["explorer_url"].as_str().expect("explorer_url in devnet.json");
    let base = explorer_url.trim_end_matches('/').trim_end_matches("/explorer").to_string();
    let http = reqwest::Client::new();

    // The bill as anyone may read it.
    let (status, bill) = get_json(&http, &format!("{base}/v1/explorer/bills/{BILL}")).await;
    assert_eq!(status, 200, "{bill}");
    assert_eq!(bill["acceptor"], "91310000MA1FL0001R", "the acceptor is disclosed");
    assert_eq!(bill["payee"], "913***02T", "other enterprises are masked");
    assert!(!bill.to_string().contains(SUPPLIER_A), "supplier A is named: {bill}");
    let holders: Vec<&str> = bill["ranges"].as_array().unwrap().iter().map(|r| r["holder"].as_str().unwrap()).collect();
    assert_eq!(holders, ["913***03D", "bank-a", "913***02T"]);
    let steps: Vec<&str> = bill["history"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps.first(), Some(&"issued"));
    assert_eq!(steps.last(), Some(&"discounted"));
    assert_eq!(bill["orders"], serde_json::json!(["PO-***001"]));
    assert_eq!(bill["invoices"][0]["number"], "****0001");
    assert_eq!(bill["movements"][0]["status"], "success");
    let (status, hit) = get_json(&http, &format!("{base}/v1/explorer/search?q={BILL}")).await;
    assert_eq!((status, hit["kind"].as_str()), (200, Some("bill")));
    for (path, code) in [
        (format!("/v1/explorer/bills/{}", "9".repeat(30)), 404),
        ("/v1/explorer/bills/12345".to_string(), 400),
        (format!("/v1/explorer/search?q={}", "9".repeat(30)), 404),
    ] {
        let (status, body) = get_json(&http, &format!("{base}{path}")).await;
        assert_eq!(status, code, "{path}: {body}");
        assert!(body["code"].is_string(), "{path}: a typed error: {body}");
    }

    // The explorer's listener reads only, and nothing signed crosses it.
    let tip = client.health().await.unwrap().height;
    let resp = http.post(format!("{base}/v1/transactions")).json(&submit).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "E_READ_ONLY_LISTENER");
    let resp = http.get(format!("{base}/v1/audit")).header("x-billflow-key", "bank-a.k1").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "E_SIGNED_ON_PUBLIC_LISTENER");
    let (status, _) = get_json(&http, &format!("{base}/v1/audit")).await;
    assert_eq!(status, 401, "the audit log is not public");
    assert_eq!(client.health().await.unwrap().height, tip, "nothing was committed through the explorer");

    // The browser.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/explorer-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let run = tokio::process::Command::new("node")
        .arg("explorer.test.mjs")
        .current_dir(browser_dir())
        .env("EXPLORER_URL", &base)
        .env("EXPLORER_BILL", BILL)
        .env("EXPLORER_EVIDENCE", &document)
        .env("EXPLORER_UNRECORDED", &unrecorded)
        .env("EXPLORER_HOSTILE_TX", &hostile_tx)
        .env("EXPLORER_GENESIS_HASH", devnet.json["genesis_hash"].as_str().expect("genesis_hash in devnet.json"))
        .env("EXPLORER_SHOTS", &shots)
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BROWSER_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("the browser test did not finish within {BROWSER_TIMEOUT:?}"))
        .expect("node runs the browser test");
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{output}");
    assert!(out.status.success(), "the browser test failed:\n{output}");
    for name in [
        "overview",
        "block",
        "transaction",
        "bill",
        "bill-zh",
        "evidence",
        "evidence-refused",
        "hostile-event",
        "not-found",
    ] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap_or_else(|e| panic!("{name}.png: {e}"));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}.png is not a screenshot");
    }

    // The nodes kept running, and the hostile text is stored as it was sent.
    let proof = client.evidence(&hash).await.unwrap().unwrap();
    assert_eq!((proof.summary.doc_type.as_str(), proof.summary.metadata[0].1.as_str()), (HOSTILE_TYPE, HOSTILE_META));
    assert_eq!(client.health().await.unwrap().status, "ok");
    devnet.stop();
}
