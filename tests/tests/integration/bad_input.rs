//! Every kind of bad transaction is refused with a typed error, the node keeps
//! running, and nothing stored changes.

use billflow_sdk::types::system::{RevokeKey, SystemCall};
use billflow_sdk::types::view::{ErrorBody, TxState};
use billflow_sdk::types::{Canonical, ChainId, ContractName, KeyId, SecretKey, TxStatus, Version};
use billflow_sdk::{SdkError, Signer};
use billflow_tests::{NodeProcess, dev_signer, tenant_signer};

use crate::register_enterprise;

fn code(r: Result<billflow_sdk::types::view::TxView, SdkError>) -> (u16, String) {
    match r {
        Err(SdkError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A request signed by the development tenant, with any body.
async fn signed(method: &str, url: &str, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    use billflow_sdk::types::request::*;
    let signer = tenant_signer();
    let at = billflow_sdk::now_ms();
    let nonce = billflow_sdk::new_tx_id("nonce").unwrap().to_string();
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let message = request_message(method, p, q, at, &nonce, &body);
    reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{url}{path}"))
        .header("content-type", content_type)
        .header(HEADER_KEY, signer.key_id.as_str())
        .header(HEADER_TIMESTAMP, at.to_string())
        .header(HEADER_NONCE, nonce)
        .header(HEADER_SIGNATURE, sign_request(&signer.secret, &message))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn raw(url: &str, content_type: &str, body: Vec<u8>) -> (u16, ErrorBody) {
    let resp = signed("POST", url, "/v1/transactions", content_type, body).await;
    let status = resp.status().as_u16();
    let e = resp.json::<ErrorBody>().await.unwrap();
    assert!(e.request_id.is_some(), "every error names its request");
    (status, e)
}

#[tokio::test]
async fn bad_transactions_are_refused_and_change_nothing() {
    let _one = billflow_tests::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path()).unwrap();
    let client = node.client();
    let tenant = tenant_signer();

    let (good, ent_key, ent_secret) = register_enterprise(&tenant, 10, "good-1");
    let committed = client.submit(&good, true).await.unwrap();
    assert_eq!(committed.receipt.as_ref().unwrap().status, TxStatus::Success);
    let block1 = client.block(1).await.unwrap();

    // Malformed bodies.
    let (s, e) = raw(&node.url, "application/json", b"{not json".to_vec()).await;
    assert_eq!((s, e.code.as_str()), (400, "E_MALFORMED"));
    let (s, e) = raw(&node.url, "application/octet-stream", vec![0xff; 77]).await;
    assert_eq!((s, e.code.as_str()), (400, "E_MALFORMED"));
    let bytes = good.encode();
    let (s, e) = raw(&node.url, "application/octet-stream", bytes[..bytes.len() - 5].to_vec()).await;
    assert_eq!((s, e.code.as_str()), (400, "E_MALFORMED"));
    let mut json: serde_json::Value = serde_json::to_value(&good).unwrap();
    json.as_object_mut().unwrap().remove("signature");
    let (s, e) = raw(&node.url, "application/json", serde_json::to_vec(&json).unwrap()).await;
    assert_eq!((s, e.code.as_str()), (400, "E_MALFORMED"), "{}", e.message);
    let mut json: serde_json::Value = serde_json::to_value(&good).unwrap();
    json["tx"]["tx_id"] = "has space".into();
    let (s, e) = raw(&node.url, "application/json", serde_json::to_vec(&json).unwrap()).await;
    assert_eq!((s, e.code.as_str()), (400, "E_MALFORMED"), "{}", e.message);

    // Wrong chain.
    let other_chain = Signer { chain_id: "another-chain".parse::<ChainId>().unwrap(), ..tenant.clone() };
    let (tx, _, _) = register_enterprise(&other_chain, 11, "wrong-chain");
    assert_eq!(code(client.submit(&tx, true).await), (400, "E_WRONG_CHAIN".into()));

    // Bad signature, and a signature by the wrong key.
    let (mut tx, _, _) = register_enterprise(&tenant, 12, "bad-sig");
    tx.signature.0[10] ^= 1;
    assert_eq!(code(client.submit(&tx, true).await), (401, "E_BAD_SIGNATURE".into()));
    let impostor = Signer { secret: SecretKey::generate(), ..tenant.clone() };
    let (tx, _, _) = register_enterprise(&impostor, 12, "impostor");
    assert_eq!(code(client.submit(&tx, true).await), (401, "E_BAD_SIGNATURE".into()));

    // Unknown key.
    let unknown = dev_signer("nobody.key", Some("demo-platform"));
    let (tx, _, _) = register_enterprise(&unknown, 13, "unknown-key");
    assert_eq!(code(client.submit(&tx, true).await), (401, "E_UNKNOWN_KEY".into()));

    // A key acting under a tenant it does not belong to.
    let wrong_tenant = Signer { tenant: None, ..tenant.clone() };
    let (tx, _, _) = register_enterprise(&wrong_tenant, 14, "wrong-tenant");
    // The ledger refuses a key acting under the wrong tenant, whoever submits it.
    assert_eq!(code(client.submit(&tx, true).await), (403, "E_TENANT_MISMATCH".into()));

    // Stale client timestamp.
    let mut stale = register_enterprise(&tenant, 15, "stale").0.tx;
    stale.timestamp_ms -= 2 * 3_600_000;
    let stale = stale.sign(&tenant.secret);
    assert_eq!(code(client.submit(&stale, true).await), (400, "E_TX_STALE".into()));

    // Oversized: business transactions are held to 64 KiB; system ones may
    // carry contract code, up to 1 MiB more.
    let big = tenant.sign(
        "too-big".parse().unwrap(),
        "evidence".parse::<ContractName>().unwrap(),
        Version::new(1, 0, 0),
        "submit".parse().unwrap(),
        vec![7; 70 * 1024],
    );
    assert_eq!(code(client.submit(&big, true).await), (413, "E_TX_TOO_LARGE".into()));
    assert_eq!(code(client.submit_json(&big, true).await), (413, "E_TX_TOO_LARGE".into()));
    let huge = tenant.sign(
        "too-big".parse().unwrap(),
        "system".parse::<ContractName>().unwrap(),
        Version::new(1, 0, 0),
        "propose_admin".parse().unwrap(),
        vec![7; 1200 * 1024],
    );
    assert_eq!(code(client.submit(&huge, true).await), (413, "E_TX_TOO_LARGE".into()));
    assert_eq!(code(client.submit_json(&huge, true).await), (413, "E_TX_TOO_LARGE".into()));

    // Duplicates: the same transaction answers with its first result; another one with the same id is refused.
    let again = client.submit(&good, true).await.unwrap();
    assert_eq!(again, committed);
    let (other, _, _) = register_enterprise(&tenant, 16, "good-1");
    assert_eq!(code(client.submit(&other, true).await), (409, "E_DUPLICATE_TX".into()));

    // A business failure is recorded with a code and changes no state.
    let (dup_participant, _, _) = register_enterprise(&tenant, 10, "dup-participant");
    let failed = client.submit(&dup_participant, true).await.unwrap();
    let receipt = failed.receipt.unwrap();
    assert_eq!(receipt.status, TxStatus::Failed);
    assert_eq!(receipt.failure.unwrap().code, "E_PARTICIPANT_EXISTS");

    // A revoked key is refused.
    let ent = Signer {
        chain_id: tenant.chain_id.clone(),
        tenant: tenant.tenant.clone(),
        key_id: ent_key.clone(),
        secret: ent_secret,
    };
    let revoke =
        tenant.system("revoke-1".parse().unwrap(), &SystemCall::RevokeKey(RevokeKey { key_id: ent_key.clone() }));
    assert_eq!(client.submit(&revoke, true).await.unwrap().receipt.unwrap().status, TxStatus::Success);
    let (by_revoked, _, _) = register_enterprise(&ent, 17, "by-revoked");
    assert_eq!(code(client.submit(&by_revoked, true).await), (401, "E_KEY_REVOKED".into()));
    let _: KeyId = ent_key;

    // Lookups with bad ids; unsigned requests for a tenant's data.
    let get = |path: &'static str| signed("GET", &node.url, path, "application/json", vec![]);
    assert_eq!(get("/v1/blocks/abc").await.status(), 400);
    assert_eq!(get("/v1/blocks/999999").await.status(), 404);
    assert_eq!(get("/v1/transactions/no-such-tx").await.status(), 404);
    assert_eq!(get("/v1/transactions/bad%20id").await.status(), 400);
    let unsigned = reqwest::get(format!("{}/v1/transactions/good-1", node.url)).await.unwrap();
    assert_eq!(unsigned.status(), 401);

    // The node is still serving, block 1 is unchanged, and only the three good transactions were recorded.
    let health = client.health().await.unwrap();
    assert_eq!(health.height, 3, "good-1, dup-participant and revoke-1 each made a block");
    assert_eq!(client.block(1).await.unwrap(), block1);
    assert_eq!(client.transaction(&"good-1".parse().unwrap()).await.unwrap().status, TxState::Committed);
    assert!(node.stop().unwrap());
    let (ok, out) = billflow_tests::verify(dir.path()).unwrap();
    assert!(ok, "{out}");
}
