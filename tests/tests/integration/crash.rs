//! SIGKILL while blocks commit under load: every acknowledged transaction
//! survives, and the chain verifies.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use billflow_sdk::types::view::TxState;
use billflow_sdk::types::{Hash32, TxId};
use billflow_tests::{NodeProcess, tenant_signer};
use tokio::sync::Mutex;

use crate::register_enterprise;

const CLIENTS: usize = 8;
const ROUNDS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_no_acknowledged_transaction() {
    let _one = billflow_tests::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let acked: Arc<Mutex<Vec<(TxId, Hash32)>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(1000));
    for round in 0..ROUNDS {
        let node = NodeProcess::start(dir.path()).unwrap();
        let client = node.client();
        // Everything acknowledged before earlier kills is still there.
        for (tx_id, hash) in acked.lock().await.iter() {
            let view = client.transaction(tx_id).await.unwrap();
            assert_eq!((view.status, view.tx_hash), (TxState::Committed, *hash), "round {round}: {tx_id} lost");
        }
        let before = acked.lock().await.len();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, acked, next, stop) = (client.clone(), acked.clone(), next.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let tenant = tenant_signer();
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (tx, _, _) = register_enterprise(&tenant, n, &format!("load-{n}"));
                    match client.submit(&tx, true).await {
                        Ok(v) if v.status == TxState::Committed => {
                            acked.lock().await.push((tx.tx.tx_id.clone(), tx.hash()))
                        }
                        Ok(_) => {}
                        Err(_) => break, // the node was killed
                    }
                }
            }));
        }
        // Let load run until enough is acknowledged (bounded in time), then kill mid-flight.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().await.len() < before + 100 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        node.kill().unwrap();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
        }
        assert!(acked.lock().await.len() > before, "round {round}: nothing was acknowledged");
    }
    let node = NodeProcess::start(dir.path()).unwrap();
    let client = node.client();
    let acked = acked.lock().await;
    for (tx_id, hash) in acked.iter() {
        let view = client.transaction(tx_id).await.unwrap();
        assert_eq!((view.status, view.tx_hash), (TxState::Committed, *hash), "{tx_id} lost");
    }
    assert!(node.stop().unwrap());
    let (ok, out) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "{out}");
    eprintln!("{} acknowledged transactions survived {ROUNDS} kills; {out}", acked.len());
}
