use billflow_sdk::types::TxStatus;
use billflow_sdk::types::view::TxState;
use billflow_tests::{NodeProcess, tenant_signer};

use crate::register_enterprise;

#[tokio::test]
async fn a_signed_transaction_commits_and_is_served() {
    let _one = billflow_tests::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path()).unwrap();
    let client = node.client();
    let health = client.health().await.unwrap();
    assert_eq!(health.height, 0);
    let genesis = client.block(0).await.unwrap();
    assert_eq!(genesis.hash, health.tip_hash);

    let (tx, _, _) = register_enterprise(&tenant_signer(), 1, "reg-1");
    let view = client.submit(&tx, true).await.unwrap();
    assert_eq!(view.status, TxState::Committed);
    let receipt = view.receipt.clone().unwrap();
    assert_eq!(receipt.status, TxStatus::Success, "{receipt:?}");
    assert_eq!(receipt.events[0].topic, "participant.registered");
    assert_eq!(view.height, Some(1));

    let fetched = client.transaction(&tx.tx.tx_id).await.unwrap();
    assert_eq!(fetched, view);
    let block = client.block(1).await.unwrap();
    assert_eq!(block.header.prev_hash, genesis.hash);
    assert_eq!(block.txs[0].tx_hash, tx.hash());
    assert_eq!(client.health().await.unwrap().height, 1);

    // JSON submission of another transaction, without waiting, then polling.
    let (tx2, _, _) = register_enterprise(&tenant_signer(), 2, "reg-2");
    let pending = client.submit_json(&tx2, false).await.unwrap();
    assert_eq!(pending.tx_hash, tx2.hash());
    billflow_tests::eventually(std::time::Duration::from_secs(10), "reg-2 to commit", || async {
        client.transaction(&tx2.tx.tx_id).await.map(|v| v.status == TxState::Committed).unwrap_or(false)
    })
    .await
    .unwrap();

    assert!(node.stop().unwrap(), "node exits cleanly on SIGTERM");
    // Its log went to a file: plain text, without a terminal's colour codes.
    let log = std::fs::read_to_string(dir.path().join("node-stderr.log")).unwrap();
    assert!(log.contains("running the development chain"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in the log file: {log:?}");
    let (ok, out) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("chain verified: height 2"), "{out}");
}
