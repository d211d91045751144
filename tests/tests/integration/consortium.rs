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
