//! The gateway over real HTTPS: certificates from the consortium CA, signed
//! requests, and a client that loses its node mid-request and resubmits the
//! same transaction elsewhere without it ever executing twice.

use std::time::Duration;

use billflow_sdk::Client;
use billflow_sdk::types::ChainParams;
use billflow_sdk::types::view::TxState;

use crate::cluster::{Cluster, VOTERS_AND_OBSERVER};
use crate::register_enterprise;

/// How many times `tx_id` is recorded in the chain of the node `client` talks to.
async fn times_recorded(client: &Client, tx_id: &str) -> usize {
    let tip = client.health().await.unwrap().height;
    let mut n = 0;
    for h in 1..=tip {
        let block = client.block(h).await.unwrap();
        n += block.txs.iter().filter(|t| t.tx.as_ref().is_some_and(|t| t.tx.tx_id.as_str() == tx_id)).count();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_loses_its_node_mid_request_resubmits_and_the_ledger_executes_once() {
    let _one = billflow_tests::exclusive().await;
    let mut c = Cluster::start(&VOTERS_AND_OBSERVER, ChainParams::default(), false, None).await;
    let all = c.alive();
    let leader = c.wait_leader(&all, Duration::from_secs(20)).await;
    let tenant = c.tenant();
    let ca = c.nodes[0].as_ref().unwrap().ca_pem.clone().unwrap();
    let urls: Vec<String> = (0..3).map(|i| c.nodes[i].as_ref().unwrap().url.clone()).collect();
    assert!(urls.iter().all(|u| u.starts_with("https://")), "{urls:?}");

    // Only the consortium CA is trusted, and plain HTTP gets nowhere.
    let stranger = Client::builder([urls[0].as_str()]).auth(tenant.clone()).build().unwrap();
    assert!(matches!(stranger.health().await, Err(billflow_sdk::SdkError::Transport(_))));
    let plain = urls[0].replacen("https://", "http://", 1);
    assert!(reqwest::get(format!("{plain}/v1/health")).await.is_err_or_not_ok());

    // The client talks to a follower first; that node dies while the request is in flight.
    let first = (0..3).find(|i| *i != leader).unwrap();
    let order: Vec<&str> =
        std::iter::once(urls[first].as_str()).chain((0..3).filter(|i| *i != first).map(|i| urls[i].as_str())).collect();
    let client = Client::builder(order).ca_pem(ca).auth(tenant.clone()).build().unwrap();
    assert_eq!(client.health().await.unwrap().chain_id, c.out.genesis.chain_id);
    let mut executed_once = 0;
    for round in 0..3u64 {
        let (tx, _, _) = register_enterprise(&tenant, 500 + round, &format!("failover-{round}"));
        // The node the client is using stops (SIGSTOP) before the request
        // reaches it, so that the request is certainly unanswered when the
        // node dies a few milliseconds later: a commit takes less time than
        // that now that the batcher does not wait.
        let victim_url = client.node().to_string();
        let victim = (0..3).find(|i| c.nodes[*i].as_ref().is_some_and(|n| n.url == victim_url)).unwrap();
        let pid = c.nodes[victim].as_ref().unwrap().pid().to_string();
        assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
        let submitting = {
            let (client, tx) = (client.clone(), tx.clone());
            tokio::spawn(async move { client.submit_and_wait(&tx, Duration::from_secs(60)).await })
        };
        tokio::time::sleep(Duration::from_millis(3 + 7 * round)).await;
        c.kill(victim);
        let view = submitting.await.unwrap().unwrap();
        assert_eq!(view.status, TxState::Committed);
        assert!(view.receipt.as_ref().unwrap().failure.is_none(), "{:?}", view.receipt);
        assert_ne!(client.node(), victim_url, "the client moved on");
        // Exactly one execution, on every surviving node.
        let survivors = c.alive();
        c.wait_converged(&survivors, Duration::from_secs(30)).await;
        for &i in &survivors {
            assert_eq!(times_recorded(&c.client(i), &format!("failover-{round}")).await, 1, "node {}", c.name(i));
        }
        executed_once += 1;
        c.restart(victim);
        let everyone = c.alive();
        c.wait_leader(&everyone, Duration::from_secs(20)).await;
        c.wait_converged(&everyone, Duration::from_secs(60)).await;
    }
    assert_eq!(executed_once, 3);
}

trait ErrOrNotOk {
    fn is_err_or_not_ok(&self) -> bool;
}

impl ErrOrNotOk for reqwest::Result<reqwest::Response> {
    fn is_err_or_not_ok(&self) -> bool {
        self.as_ref().map_or(true, |r| !r.status().is_success())
    }
}
