//! Handler tests through `oneshot`, without sockets.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use billflow_chain::{Chain, ChainConfig, run_single_node};
use billflow_storage::Store;
use billflow_types::dev::{DEV_TENANT, dev_genesis, dev_key};
use billflow_types::system::{
    KeyGrant, ParticipantKind, RegisterParticipant, SYSTEM_VERSION, SystemCall, system_contract,
};
use billflow_types::view::{ErrorBody, Health, TxState, TxView};
use billflow_types::{Canonical, SignedTx, Tx};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::router;

fn chain(dir: &std::path::Path) -> Chain {
    let store = Store::open(dir).unwrap();
    Chain::open(store, &dev_genesis(), ChainConfig { node_id: "node-test".parse().unwrap(), mempool_capacity: 100 })
        .unwrap()
}

fn now_ms() -> u64 {
    billflow_chain::now_ms()
}

fn registration(tx_id: &str) -> SignedTx {
    let secret = dev_key("api-test.k1");
    let call = SystemCall::RegisterParticipant(RegisterParticipant {
        participant: "914403001922038216".parse().unwrap(),
        kind: ParticipantKind::Enterprise,
        name: "Test Enterprise".into(),
        keys: vec![KeyGrant { key_id: "api-test.k1".parse().unwrap(), public_key: secret.public() }],
    });
    Tx {
        chain_id: dev_genesis().chain_id,
        tx_id: tx_id.parse().unwrap(),
        tenant: Some(DEV_TENANT.0.parse().unwrap()),
        signer: DEV_TENANT.1.parse().unwrap(),
        contract: system_contract(),
        version: SYSTEM_VERSION,
        method: call.method_name(),
        args: call.encode_args(),
        timestamp_ms: now_ms(),
    }
    .sign(&dev_key(DEV_TENANT.1))
}

async fn call(chain: &Chain, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = router(crate::ApiState { chain: chain.clone(), network: None }).oneshot(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn post(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri).header("content-type", content_type).body(Body::from(body)).unwrap()
}

fn error(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap()
}

#[tokio::test]
async fn health_reports_the_tip() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let (status, body) = call(&chain, Request::get("/v1/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let health: Health = serde_json::from_slice(&body).unwrap();
    assert_eq!((health.height, health.tip_hash), (0, chain.tip().hash));
}

#[tokio::test]
async fn errors_are_typed_json() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let cases = [
        (post("/v1/transactions", "application/json", b"[]".to_vec()), StatusCode::BAD_REQUEST, "E_MALFORMED"),
        (post("/v1/transactions", "application/octet-stream", vec![1, 2, 3]), StatusCode::BAD_REQUEST, "E_MALFORMED"),
        (
            post("/v1/transactions?wait=maybe", "application/json", b"{}".to_vec()),
            StatusCode::BAD_REQUEST,
            "E_BAD_QUERY",
        ),
        (
            post("/v1/transactions", "application/octet-stream", vec![0; 2 * 1024 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "E_TX_TOO_LARGE",
        ),
        (Request::get("/v1/blocks/1").body(Body::empty()).unwrap(), StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        (Request::get("/v1/blocks/-1").body(Body::empty()).unwrap(), StatusCode::BAD_REQUEST, "E_INVALID_FIELD"),
        (Request::get("/v1/nowhere").body(Body::empty()).unwrap(), StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        (Request::get("/v1/contracts/evidence").body(Body::empty()).unwrap(), StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        (
            post("/v1/contracts/evidence/query/get", "application/octet-stream", vec![1]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "E_UNKNOWN_CONTRACT",
        ),
        (
            post("/v1/contracts/evidence/query/get", "application/json", b"{\"args\": \"zz\"}".to_vec()),
            StatusCode::BAD_REQUEST,
            "E_MALFORMED",
        ),
        (
            post("/v1/contracts/Bad%20Name/query/get", "application/json", b"{}".to_vec()),
            StatusCode::BAD_REQUEST,
            "E_INVALID_FIELD",
        ),
    ];
    for (req, want_status, want_code) in cases {
        let uri = req.uri().clone();
        let (status, body) = call(&chain, req).await;
        assert_eq!((status, error(&body).code.as_str()), (want_status, want_code), "{uri}");
    }
    assert_eq!(chain.tip().height, 0);
}

#[tokio::test]
async fn submit_waits_for_the_receipt_and_resubmission_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sequencer = tokio::spawn(run_single_node(chain.clone(), stopped));
    let tx = registration("api-1");

    let (status, body) =
        call(&chain, post("/v1/transactions?wait=true", "application/octet-stream", tx.encode())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let first: TxView = serde_json::from_slice(&body).unwrap();
    assert_eq!((first.status, first.height), (TxState::Committed, Some(1)));

    let json = serde_json::to_vec(&tx).unwrap();
    let (status, body) = call(&chain, post("/v1/transactions?wait=true", "application/json", json)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<TxView>(&body).unwrap(), first);
    assert_eq!(chain.tip().height, 1, "the resubmission executed nothing");

    let (status, body) = call(&chain, Request::get("/v1/transactions/api-1").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<TxView>(&body).unwrap(), first);

    stop.send(true).unwrap();
    sequencer.await.unwrap().unwrap();
}
