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

use crate::router;

pub(crate) fn chain(dir: &std::path::Path) -> Chain {
    let store = Store::open(dir).unwrap();
    Chain::open(store, &dev_genesis(), ChainConfig { node_id: "node-test".parse().unwrap(), mempool_capacity: 100 })
        .unwrap()
}

/// A node on a fresh chain that orders what it is sent, one block at a
/// time, until stopped.
struct Sequenced {
    _dir: tempfile::TempDir,
    chain: Chain,
    stop: tokio::sync::watch::Sender<bool>,
    sequencer: tokio::task::JoinHandle<billflow_chain::Result<()>>,
}

impl Sequenced {
    fn start() -> Sequenced {
        let dir = tempfile::tempdir().unwrap();
        let chain = chain(dir.path());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let sequencer = tokio::spawn(run_single_node(chain.clone(), stopped));
        Sequenced { _dir: dir, chain, stop, sequencer }
    }

    /// Stops the sequencer, which must have run without an error.
    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.sequencer.await.unwrap().unwrap();
    }
}

pub(super) fn now_ms() -> u64 {
    billflow_chain::now_ms()
}

fn registration(tx_id: &str) -> SignedTx {
    registration_of(tx_id, "914403001922038216", "api-test.k1")
}

/// The dev tenant's registration of enterprise `participant` with the dev key `key_id`.
fn registration_of(tx_id: &str, participant: &str, key_id: &str) -> SignedTx {
    let call = SystemCall::RegisterParticipant(RegisterParticipant {
        participant: participant.parse().unwrap(),
        kind: ParticipantKind::Enterprise,
        name: "Test Enterprise".into(),
        keys: vec![KeyGrant { key_id: key_id.parse().unwrap(), public_key: dev_key(key_id).public() }],
    });
    system_tx(tx_id, &call, Some(DEV_TENANT.0), DEV_TENANT.1)
}

/// System call `call` signed by dev key `signer`, under `tenant`.
fn system_tx(tx_id: &str, call: &SystemCall, tenant: Option<&str>, signer: &str) -> SignedTx {
    Tx {
        chain_id: dev_genesis().chain_id,
        tx_id: tx_id.parse().unwrap(),
        tenant: tenant.map(|t| t.parse().unwrap()),
        signer: signer.parse().unwrap(),
        contract: system_contract(),
        version: SYSTEM_VERSION,
        method: call.method_name(),
        args: call.encode_args(),
        timestamp_ms: now_ms(),
    }
    .sign(&dev_key(signer))
}

/// A gateway over `chain`, kept across calls (nonces and rate limits are per gateway).
pub(super) struct Api {
    router: axum::Router,
}

impl Api {
    fn new(chain: &Chain) -> Api {
        Api::with(chain, crate::ApiConfig::default())
    }

    pub(super) fn with(chain: &Chain, config: crate::ApiConfig) -> Api {
        Api { router: router(crate::ApiState { chain: chain.clone(), network: None, config }).unwrap() }
    }

    pub(super) async fn call(&self, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        assert!(resp.headers().contains_key("x-request-id"), "every answer names its request");
        (status, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
    }
}

async fn call(chain: &Chain, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    Api::new(chain).call(req).await
}

pub(super) fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("test-nonce-{:08}", N.fetch_add(1, Ordering::Relaxed))
}

/// A request signed with `key_id`'s dev key at time `at`.
pub(super) fn signed_at(
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
    key_id: &str,
    at: u64,
    nonce: &str,
) -> Request<Body> {
    use billflow_types::request::*;
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let message = request_message(method, path, query, at, nonce, &body);
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .header(HEADER_KEY, key_id)
        .header(HEADER_TIMESTAMP, at.to_string())
        .header(HEADER_NONCE, nonce)
        .header(HEADER_SIGNATURE, sign_request(&dev_key(key_id), &message))
        .body(Body::from(body))
        .unwrap()
}

/// A request signed by the dev tenant, now.
fn signed(method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    signed_at(method, uri, content_type, body, DEV_TENANT.1, now_ms(), &nonce())
}

fn post(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    signed("POST", uri, content_type, body)
}

fn error(body: &[u8]) -> ErrorBody {
    let e: ErrorBody = serde_json::from_slice(body).unwrap();
    assert!(e.request_id.is_some(), "{e:?}");
    e
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
        (
            post("/v1/transactions", "text/plain", b"hi".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "E_UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            Request::get("/v1/transactions/batch").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "E_METHOD_NOT_ALLOWED",
        ),
        (
            post("/v1/transactions/batch", "application/json", b"{\"txs\": []}".to_vec()),
            StatusCode::BAD_REQUEST,
            "E_BAD_BATCH",
        ),
        (Request::get("/v1/blocks?limit=0").body(Body::empty()).unwrap(), StatusCode::BAD_REQUEST, "E_BAD_QUERY"),
        (Request::get("/v1/blocks?bogus=1").body(Body::empty()).unwrap(), StatusCode::BAD_REQUEST, "E_BAD_QUERY"),
        (Request::get("/v1/blocks/hash/xyz").body(Body::empty()).unwrap(), StatusCode::BAD_REQUEST, "E_INVALID_FIELD"),
        (Request::get("/v1/evidence/00").body(Body::empty()).unwrap(), StatusCode::BAD_REQUEST, "E_INVALID_FIELD"),
        (
            Request::get(format!("/v1/evidence/{}", "ab".repeat(32))).body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "E_NOT_FOUND",
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
    let node = Sequenced::start();
    let chain = node.chain.clone();
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

    let (status, body) = call(&chain, signed("GET", "/v1/transactions/api-1", "application/json", vec![])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<TxView>(&body).unwrap(), first);

    // Asked for in canonical bytes, the same view (events are decoded only in JSON).
    let binary = |mut req: Request<Body>| {
        req.headers_mut().insert("accept", "application/octet-stream".parse().unwrap());
        req
    };
    let first_bytes = TxView { decoded_events: Vec::new(), ..first.clone() };
    let (status, body) =
        call(&chain, binary(post("/v1/transactions?wait=true", "application/octet-stream", tx.encode()))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(borsh::from_slice::<TxView>(&body).unwrap(), first_bytes);
    let (status, body) =
        call(&chain, binary(signed("GET", "/v1/transactions/api-1", "application/json", vec![]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(borsh::from_slice::<TxView>(&body).unwrap(), first_bytes);
    // A refusal is typed JSON still.
    let (status, body) =
        call(&chain, binary(signed("GET", "/v1/transactions/api-none", "application/json", vec![]))).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::NOT_FOUND, "E_NOT_FOUND"));

    node.stop().await;
}

#[tokio::test]
async fn only_authentic_fresh_requests_of_the_right_tenant_get_through() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let api = Api::new(&chain);
    let tx = registration("auth-1").encode();
    let bin = "application/octet-stream";
    let now = now_ms();
    let mut tampered = signed("POST", "/v1/transactions", bin, tx.clone());
    *tampered.body_mut() = Body::from(registration("auth-2").encode());
    let mut partial = signed("POST", "/v1/transactions", bin, tx.clone());
    partial.headers_mut().remove("x-billflow-nonce");
    // Unsigned, a submission is authenticated by its transaction's signature alone.
    let mut forged = registration("auth-4");
    forged.signature.0[3] ^= 1;
    let unknown = system_tx(
        "auth-5",
        &SystemCall::RevokeKey(billflow_types::system::RevokeKey { key_id: "x.k1".parse().unwrap() }),
        None,
        "nobody.k1",
    );
    let cases = [
        (post_unsigned("/v1/transactions", bin, forged.encode()), StatusCode::UNAUTHORIZED, "E_BAD_SIGNATURE"),
        (post_unsigned("/v1/transactions", bin, unknown.encode()), StatusCode::UNAUTHORIZED, "E_UNKNOWN_KEY"),
        (post_unsigned("/v1/transactions/batch", bin, vec![unknown.clone()].encode()), StatusCode::OK, ""),
        (partial, StatusCode::UNAUTHORIZED, "E_UNAUTHENTICATED"),
        (tampered, StatusCode::UNAUTHORIZED, "E_BAD_SIGNATURE"),
        (
            signed_at("POST", "/v1/transactions", bin, tx.clone(), DEV_TENANT.1, now - 600_000, &nonce()),
            StatusCode::UNAUTHORIZED,
            "E_REQUEST_EXPIRED",
        ),
        (
            signed_at("POST", "/v1/transactions", bin, tx.clone(), "nobody.k1", now, &nonce()),
            StatusCode::UNAUTHORIZED,
            "E_UNKNOWN_KEY",
        ),
        (
            signed_at("POST", "/v1/transactions", bin, tx.clone(), DEV_TENANT.1, now, "short"),
            StatusCode::BAD_REQUEST,
            "E_BAD_NONCE",
        ),
        // The dev bank's administrator signs a transaction of no tenant; the tenant may not relay it.
        (post("/v1/transactions", bin, bank_tx("auth-3").encode()), StatusCode::FORBIDDEN, "E_FOREIGN_PARTICIPANT"),
        (signed("GET", "/v1/transactions/auth-1", "application/json", vec![]), StatusCode::NOT_FOUND, "E_NOT_FOUND"),
    ];
    for (req, want_status, want_code) in cases {
        let (status, body) = api.call(req).await;
        if status == StatusCode::OK {
            // A batch answers for each transaction.
            let results = serde_json::from_slice::<billflow_types::view::BatchView>(&body).unwrap().results;
            assert_eq!(results[0].error.as_ref().map(|e| e.code.as_str()), Some("E_UNKNOWN_KEY"));
            continue;
        }
        assert_eq!((status, error(&body).code.as_str()), (want_status, want_code));
    }
    // A replayed request is refused even though everything else about it is right.
    let fixed = nonce();
    let first = signed_at("GET", "/v1/transactions/auth-9", "application/json", vec![], DEV_TENANT.1, now, &fixed);
    let again = signed_at("GET", "/v1/transactions/auth-9", "application/json", vec![], DEV_TENANT.1, now, &fixed);
    assert_eq!(api.call(first).await.0, StatusCode::NOT_FOUND);
    let (status, body) = api.call(again).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::UNAUTHORIZED, "E_NONCE_REUSED"));
    assert_eq!(chain.pending(), 0, "nothing refused was queued");
    assert_eq!(chain.tip().height, 0);

    // The genuine transaction goes through unsigned, under its signer.
    let (status, body) = api.call(post_unsigned("/v1/transactions", bin, tx)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&body));
    assert_eq!(chain.pending(), 1);
}

fn post_unsigned(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri).header("content-type", content_type).body(Body::from(body)).unwrap()
}

fn bank_tx(tx_id: &str) -> SignedTx {
    use billflow_types::dev::DEV_BANK;
    let call = SystemCall::RevokeKey(billflow_types::system::RevokeKey { key_id: "x.k1".parse().unwrap() });
    system_tx(tx_id, &call, None, DEV_BANK.1)
}

#[tokio::test]
async fn a_tenant_sees_its_own_committed_transactions_and_an_organisation_every_one() {
    use billflow_types::dev::DEV_BANK;
    use billflow_types::view::{BatchView, TxView};
    let node = Sequenced::start();
    let chain = node.chain.clone();
    let api = Api::new(&chain);
    let bin = "application/octet-stream";
    let txs = vec![bank_tx("seen-1"), registration("seen-2"), registration("seen-3")];
    let (status, body) = api.call(post_unsigned("/v1/transactions/batch?wait=true", bin, txs.encode())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let results = serde_json::from_slice::<BatchView>(&body).unwrap().results;
    assert!(results.iter().all(|r| r.view.as_ref().is_some_and(|v| v.status == TxState::Committed)), "{results:?}");

    let get =
        |id: &str, key: &str| signed_at("GET", &format!("/v1/transactions/{id}"), bin, vec![], key, now_ms(), &nonce());
    for (id, key, want) in [
        ("seen-1", DEV_TENANT.1, StatusCode::NOT_FOUND),
        ("seen-2", DEV_TENANT.1, StatusCode::OK),
        ("seen-3", DEV_TENANT.1, StatusCode::OK),
        ("seen-1", DEV_BANK.1, StatusCode::OK),
        ("seen-3", DEV_BANK.1, StatusCode::OK),
    ] {
        let (status, body) = api.call(get(id, key)).await;
        assert_eq!(status, want, "{id} read by {key}: {}", String::from_utf8_lossy(&body));
        if status == StatusCode::OK {
            let view = serde_json::from_slice::<TxView>(&body).unwrap();
            let committed = results.iter().find_map(|r| r.view.as_ref().filter(|v| v.tx_id.as_str() == id)).unwrap();
            assert_eq!((view.height, view.index), (committed.height, committed.index), "{id}");
        } else {
            assert_eq!(error(&body).code, "E_NOT_FOUND");
        }
    }
    node.stop().await;
}

#[tokio::test]
async fn batches_blocks_and_metrics() {
    use billflow_types::view::{BatchView, BlockPage, BlockView};
    let node = Sequenced::start();
    let chain = node.chain.clone();
    let api = Api::new(&chain);

    let mut stale = registration("batch-3");
    stale.tx.timestamp_ms = 1;
    let batch = serde_json::json!({ "txs": [registration("batch-1"), bank_tx("batch-2"), stale] });
    let (status, body) = api
        .call(post("/v1/transactions/batch?wait=true", "application/json", serde_json::to_vec(&batch).unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let results = serde_json::from_slice::<BatchView>(&body).unwrap().results;
    assert_eq!(results[0].view.as_ref().map(|v| v.status), Some(TxState::Committed));
    assert_eq!(results[1].error.as_ref().map(|e| e.code.as_str()), Some("E_FOREIGN_PARTICIPANT"));
    assert_eq!(results[2].error.as_ref().map(|e| e.code.as_str()), Some("E_TX_STALE"));

    // Anyone sees what a block calls; only the tenant sees its transaction.
    let (_, body) = api.call(Request::get("/v1/blocks/1").body(Body::empty()).unwrap()).await;
    let public: BlockView = serde_json::from_slice(&body).unwrap();
    assert_eq!((public.txs.len(), public.txs[0].method.as_str()), (1, "register_participant"));
    assert!(public.txs[0].tx.is_none());
    let (_, body) = api.call(signed("GET", "/v1/blocks/1", "application/json", vec![])).await;
    assert!(serde_json::from_slice::<BlockView>(&body).unwrap().txs[0].tx.is_some());
    let (_, body) =
        api.call(Request::get(format!("/v1/blocks/hash/{}", public.hash)).body(Body::empty()).unwrap()).await;
    assert_eq!(serde_json::from_slice::<BlockView>(&body).unwrap().hash, public.hash);
    let (_, body) = api.call(Request::get("/v1/blocks?limit=5").body(Body::empty()).unwrap()).await;
    let page: BlockPage = serde_json::from_slice(&body).unwrap();
    assert_eq!(page.blocks.iter().map(|b| b.height).collect::<Vec<_>>(), [1, 0]);
    assert_eq!(page.next_before, None);

    let (status, body) = api.call(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("billflow_block_height 1"), "{text}");
    assert!(text.contains("billflow_http_requests_total{route=\"/v1/blocks/{height}\",status=\"200\"} 2"), "{text}");
    assert!(text.contains("# TYPE billflow_http_requests_total counter") && !text.contains("# EOF"), "{text}");
    // A scraper that asks for OpenMetrics gets it, labelled as such.
    let response = api
        .router
        .clone()
        .oneshot(
            Request::get("/metrics")
                .header("accept", "application/openmetrics-text; version=1.0.0")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let kind = response.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert!(String::from_utf8_lossy(&body).ends_with("# EOF\n"));

    node.stop().await;
}

#[tokio::test]
async fn a_tenant_over_its_rate_is_told_to_slow_down() {
    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let api = Api::with(&chain, crate::ApiConfig { rate_per_s: 2, rate_burst: 2, ..crate::ApiConfig::default() });
    let get = || signed("GET", "/v1/transactions/none-1", "application/json", vec![]);
    assert_eq!(api.call(get()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(get()).await.0, StatusCode::NOT_FOUND);
    let (status, body) = api.call(get()).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "E_RATE_LIMITED"));
}

#[tokio::test]
async fn regulators_read_the_audit_log_and_a_tampered_entry_is_named() {
    use billflow_types::dev::{DEV_BANK, DEV_REGULATOR};
    use billflow_types::view::AuditPage;

    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let audit_dir = dir.path().join("audit");
    let api = Api::with(&chain, crate::ApiConfig { audit_dir: Some(audit_dir.clone()), ..Default::default() });
    let as_key = |uri: &str, key: &str| signed_at("GET", uri, "application/json", Vec::new(), key, now_ms(), &nonce());
    for _ in 0..3 {
        assert_eq!(api.call(signed("GET", "/v1/health", "application/json", Vec::new())).await.0, StatusCode::OK);
    }
    let written = || std::fs::read_to_string(audit_dir.join("audit.jsonl")).map(|t| t.lines().count()).unwrap_or(0);
    // Each answer left only once its entry was on disk.
    assert_eq!(written(), 3);

    // Only regulators: not a tenant, not a bank's administrator.
    let (status, body) = api.call(as_key("/v1/audit", DEV_TENANT.1)).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::FORBIDDEN, "E_NOT_REGULATOR"));
    let (status, body) = api.call(as_key("/v1/audit", DEV_BANK.1)).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::FORBIDDEN, "E_NOT_REGULATOR"));
    let (status, _) = api.call(Request::get("/v1/audit").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The tenant's calls, by subject and time, a page at a time.
    let today = &time::OffsetDateTime::now_utc().date().to_string();
    let uri = format!("/v1/audit?subject=tenant:{}&from={today}&to={today}&limit=2", DEV_TENANT.0);
    let (status, body) = api.call(as_key(&uri, DEV_REGULATOR.1)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let page: AuditPage = serde_json::from_slice(&body).unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(page.entries.iter().all(|e| e.subject.contains("tenant:demo-platform") && e.action == "GET /v1/health"));
    assert!(page.entries.iter().all(|e| !e.request_id.is_empty() && !e.time.is_empty() && !e.result.is_empty()));
    let next = page.next_after.expect("a next page");
    let (_, body) = api.call(as_key(&format!("{uri}&after={next}"), DEV_REGULATOR.1)).await;
    let rest: AuditPage = serde_json::from_slice(&body).unwrap();
    assert!(rest.entries.iter().all(|e| e.seq > next) && !rest.entries.is_empty());
    let (_, body) = api.call(as_key("/v1/audit?to=2000-01-01", DEV_REGULATOR.1)).await;
    assert!(serde_json::from_slice::<AuditPage>(&body).unwrap().entries.is_empty());
    // The last three once cut a character in two and panicked the handler.
    for bad in [
        "from=yesterday",
        "to=2026-13-01",
        "limit=0",
        "limit=1001",
        "from=2026-11-21T10:00:00",
        "from=2024-01-0%C3%A9",
        "to=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
        "from=2024-01-01T10:00:00%C3%A9Z",
    ] {
        let (status, body) = api.call(as_key(&format!("/v1/audit?{bad}"), DEV_REGULATOR.1)).await;
        assert_eq!((status, error(&body).code.as_str()), (StatusCode::BAD_REQUEST, "E_BAD_QUERY"), "{bad}");
    }

    // An edited entry breaks the chain: the read names it. The edit is one
    // byte in place, so that the writer, which may still be appending the
    // entries of the requests above, loses nothing to it.
    let path = audit_dir.join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let first = text.lines().next().unwrap();
    let at = first.find("GET /v1/health").expect("the first entry is a health request") + "GET /v1/healt".len();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.seek(SeekFrom::Start(at as u64)).unwrap();
        file.write_all(b"X").unwrap();
    }
    let (status, body) = api.call(as_key("/v1/audit", DEV_REGULATOR.1)).await;
    let e = error(&body);
    assert_eq!((status, e.code.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "E_AUDIT_BROKEN"));
    assert!(e.message.contains("entry 0"), "{}", e.message);
    assert!(!e.message.contains("edited"), "how it fails to verify stays in the log: {}", e.message);
}

#[tokio::test]
async fn personal_data_is_refused_before_ordering_and_masked_in_answers_and_the_audit_log() {
    use billflow_types::dev::DEV_REGULATOR;
    use billflow_types::view::AuditPage;

    let dir = tempfile::tempdir().unwrap();
    let chain = chain(dir.path());
    let audit_dir = dir.path().join("audit");
    let api = Api::with(&chain, crate::ApiConfig { audit_dir: Some(audit_dir.clone()), ..Default::default() });

    // A participant named after a phone number, and an id holding one: both
    // refused at the gateway, whatever the contract, and never pending.
    let mut named = registration("personal-1");
    let SystemCall::RegisterParticipant(mut call) = SystemCall::decode(&named.tx.method, &named.tx.args).unwrap()
    else {
        panic!("a registration")
    };
    call.name = "Zhang, tel. 138 1234 5678".into();
    named.tx.args = SystemCall::RegisterParticipant(call).encode_args();
    let named = named.tx.sign(&dev_key(DEV_TENANT.1));
    let by_id = registration("pay-13812345678");
    for (tx, field) in [(named, "args"), (by_id, "tx_id")] {
        let (status, body) =
            api.call(post("/v1/transactions", "application/json", serde_json::to_vec(&tx).unwrap())).await;
        let e = error(&body);
        assert_eq!((status, e.code.as_str()), (StatusCode::BAD_REQUEST, "E_PERSONAL_DATA"), "{e:?}");
        assert!(e.message.contains(field) && e.message.contains("mobile phone"), "{}", e.message);
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("1234 5678") && !text.contains("13812345678"), "{text}");
    }
    assert_eq!(chain.pending(), 0);

    // A path holding a phone number: the answer and the audit entry mask it,
    // and a request id holding one is replaced.
    let mut req = signed("GET", "/v1/transactions/pay-13812345678", "application/json", vec![]);
    req.headers_mut().insert("x-request-id", "req-13812345678".parse().unwrap());
    let resp = api.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!id.contains("13812345678"), "{id}");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("pay-138****5678") && !text.contains("13812345678"), "{text}");

    let regulator =
        || signed_at("GET", "/v1/audit", "application/json", Vec::new(), DEV_REGULATOR.1, now_ms(), &nonce());
    let mut entries = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let (_, body) = api.call(regulator()).await;
        entries = serde_json::from_slice::<AuditPage>(&body).unwrap().entries;
        if entries.iter().any(|e| e.object.starts_with("/v1/transactions/")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let entry = entries.iter().find(|e| e.object.starts_with("/v1/transactions/")).expect("the lookup's entry");
    assert_eq!(entry.object, "/v1/transactions/pay-138****5678");
    let log = std::fs::read_to_string(audit_dir.join("audit.jsonl")).unwrap();
    assert!(!log.contains("13812345678") && !log.contains("1234 5678"), "{log}");
}

#[tokio::test]
async fn the_explorer_reads_stats_latest_transactions_receipts_and_search() {
    use billflow_types::view::{ExplorerStats, ExplorerTx, ExplorerTxList, SearchHit};

    let node = Sequenced::start();
    let chain = node.chain.clone();
    let api = Api::new(&chain);
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (status, _) = api
        .call(post("/v1/transactions?wait=true", "application/json", {
            serde_json::to_vec(&registration("explorer-1")).unwrap()
        }))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Anyone: the hour's plot, the latest transactions, one receipt.
    let (status, body) = api.call(get("/v1/explorer/stats")).await;
    assert_eq!(status, StatusCode::OK);
    let stats: ExplorerStats = serde_json::from_slice(&body).unwrap();
    assert_eq!((stats.height, stats.minutes.len()), (1, 60));
    assert_eq!(stats.minutes.iter().map(|m| m.txs).sum::<u32>(), 1);
    assert!(stats.tps_1m > 0.0);
    let (_, body) = api.call(get("/v1/explorer/recent-txs?limit=5")).await;
    let list: ExplorerTxList = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.txs.iter().map(|t| t.tx_id.as_str()).collect::<Vec<_>>(), ["explorer-1"]);
    let (status, body) = api.call(get("/v1/explorer/txs/explorer-1")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let tx: ExplorerTx = serde_json::from_slice(&body).unwrap();
    assert_eq!((tx.summary.status.as_str(), tx.summary.method.as_str()), ("success", "register_participant"));
    assert_eq!(tx.signer, format!("{}***.{}", &DEV_TENANT.1[..3], DEV_TENANT.1.rsplit_once('.').unwrap().1));
    assert!(tx.events.iter().any(
        |e| e.topic == "participant.registered" && e.text.as_deref().is_some_and(|t| t.contains("Test Enterprise"))
    ));
    assert!(!String::from_utf8_lossy(&body).contains("\"args\""), "never the arguments");

    // Search names heights, block hashes and transactions; else 404 (bills
    // and their disclosure: the explorer suite, on a devnet with the flows contract).
    let block_hash = chain.tip().hash.to_string();
    for (q, kind, target) in
        [("1", "block", "1"), (block_hash.as_str(), "block", "1"), ("explorer-1", "tx", "explorer-1")]
    {
        let (status, body) = api.call(get(&format!("/v1/explorer/search?q={q}"))).await;
        assert_eq!(status, StatusCode::OK, "{q}");
        let hit: SearchHit = serde_json::from_slice(&body).unwrap();
        assert_eq!((hit.kind.as_str(), hit.target.as_str()), (kind, target), "{q}");
    }
    for (uri, code) in [
        ("/v1/explorer/search?q=nothing-here", StatusCode::NOT_FOUND),
        ("/v1/explorer/search?q=99", StatusCode::NOT_FOUND),
        ("/v1/explorer/search?q=530100000000000000000000000001", StatusCode::NOT_FOUND),
        ("/v1/explorer/bills/530100000000000000000000000001", StatusCode::NOT_FOUND),
        ("/v1/explorer/bills/5301", StatusCode::BAD_REQUEST),
        ("/v1/explorer/bills/53010000000000000000000000000x", StatusCode::BAD_REQUEST),
        ("/v1/explorer/search?q=", StatusCode::BAD_REQUEST),
        ("/v1/explorer/txs/none-such", StatusCode::NOT_FOUND),
        ("/v1/explorer/recent-txs?limit=0", StatusCode::BAD_REQUEST),
        ("/v1/explorer/recent-txs?limit=101", StatusCode::BAD_REQUEST),
        ("/explorer/no-such-file.js", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = api.call(get(uri)).await;
        assert_eq!(status, code, "{uri}: {}", String::from_utf8_lossy(&body));
        error(&body);
    }

    // The page itself, compiled in, under a policy that runs only its own scripts.
    let resp = api.router.clone().oneshot(get("/explorer/")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let resp = api.router.clone().oneshot(get("/explorer")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);

    node.stop().await;
}

/// `GET /v1/events`: a participant reads the events that name it, a tenant
/// those of its own transactions; neither sees what does not concern it, and
/// an organisation's administrator is sent to the supervision stream.
#[tokio::test]
async fn each_party_reads_its_own_events() {
    use billflow_types::dev::{DEV_BANK, DEV_REGULATOR};
    use billflow_types::view::EventPage;

    let node = Sequenced::start();
    let chain = node.chain.clone();
    let api = Api::new(&chain);
    // Two enterprises registered by the tenant, each with its own key.
    let code = |n: u64| {
        let body = format!("91310000{n:09}");
        format!("{body}{}", billflow_types::ids::credit_code_check_char(&body).unwrap())
    };
    for (n, key) in [(1, "events-e1.k1"), (2, "events-e2.k1")] {
        let tx = registration_of(&format!("events-{n}"), &code(n), key);
        let (status, body) =
            api.call(post("/v1/transactions?wait=true", "application/octet-stream", tx.encode())).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    }
    let page = |key: &'static str| {
        let api = &api;
        async move {
            let req =
                signed_at("GET", "/v1/events?from=0-0-0", "application/json", Vec::new(), key, now_ms(), &nonce());
            api.call(req).await
        }
    };
    let tx_ids = |body: &[u8]| {
        let page: EventPage = serde_json::from_slice(body).unwrap();
        let mut ids: Vec<String> = page.events.into_iter().map(|e| e.tx_id).collect();
        ids.dedup();
        ids
    };
    // The tenant: both registrations are its own transactions.
    let (status, body) = page(DEV_TENANT.1).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(tx_ids(&body), ["events-1", "events-2"]);
    // Each enterprise: only the registration that names it.
    let (status, body) = page("events-e1.k1").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(tx_ids(&body), ["events-1"]);
    assert_eq!(tx_ids(&page("events-e2.k1").await.1), ["events-2"]);
    // Administrators, regulators' included, read the supervision stream instead.
    for admin in [DEV_BANK.1, DEV_REGULATOR.1] {
        let (status, body) = page(admin).await;
        assert_eq!((status, error(&body).code.as_str()), (StatusCode::FORBIDDEN, "E_NOT_A_PARTY"));
    }
    node.stop().await;
}

/// `req` as if it came from `ip`.
fn from(ip: [u8; 4], mut req: Request<Body>) -> Request<Body> {
    let addr = std::net::SocketAddr::from((ip, 40_000));
    req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    req
}

/// `GET uri` under session `token`, from `ip`.
fn under_session(token: &str, ip: [u8; 4], uri: &str) -> Request<Body> {
    let req =
        Request::builder().uri(uri).header(billflow_types::request::HEADER_SESSION, token).body(Body::empty()).unwrap();
    from(ip, req)
}

#[tokio::test]
async fn a_session_reads_without_signatures_from_its_address_until_its_key_is_revoked() {
    use billflow_types::view::{EventPage, SessionView};

    let node = Sequenced::start();
    let chain = node.chain.clone();
    let api = Api::new(&chain);
    let key = "session-e1.k1";
    let tx = registration_of("session-1", "914403001922038216", key);
    let (status, body) = api.call(post("/v1/transactions?wait=true", "application/octet-stream", tx.encode())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    // One signed request opens it.
    let here = [127, 0, 0, 9];
    let open =
        |ip| from(ip, signed_at("POST", "/v1/sessions", "application/json", Vec::new(), key, now_ms(), &nonce()));
    let (status, body) = api.call(open(here)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let session: SessionView = serde_json::from_slice(&body).unwrap();
    assert!(session.expires_at_ms > now_ms() && session.token.len() == 64);

    // Reads under it need no signature, and are the key's own.
    let (status, body) = api.call(under_session(&session.token, here, "/v1/events?from=0-0-0")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let page: EventPage = serde_json::from_slice(&body).unwrap();
    assert!(!page.events.is_empty() && page.events.iter().all(|e| e.tx_id == "session-1"));

    // Not from another address, not an unknown token, and a session does not open another.
    for (token, ip) in [(session.token.as_str(), [127, 0, 0, 10]), (&"ab".repeat(32), here)] {
        let (status, body) = api.call(under_session(token, ip, "/v1/events")).await;
        assert_eq!((status, error(&body).code.as_str()), (StatusCode::UNAUTHORIZED, "E_UNKNOWN_SESSION"));
    }
    let req = Request::builder()
        .method("POST")
        .uri("/v1/sessions")
        .header(billflow_types::request::HEADER_SESSION, &session.token)
        .body(Body::empty())
        .unwrap();
    let (status, body) = api.call(from(here, req)).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::UNAUTHORIZED, "E_UNAUTHENTICATED"));

    // Closed, it is refused.
    let (_, body) = api.call(open(here)).await;
    let closed: SessionView = serde_json::from_slice(&body).unwrap();
    let mut req = under_session(&closed.token, here, "/v1/sessions");
    *req.method_mut() = axum::http::Method::DELETE;
    assert_eq!(api.call(req).await.0, StatusCode::NO_CONTENT);
    let (status, body) = api.call(under_session(&closed.token, here, "/v1/events")).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::UNAUTHORIZED, "E_UNKNOWN_SESSION"));

    // The key revoked, its session ends with it.
    let revoke = SystemCall::RevokeKey(billflow_types::system::RevokeKey { key_id: key.parse().unwrap() });
    let tx = system_tx("session-revoke", &revoke, Some(DEV_TENANT.0), DEV_TENANT.1);
    let (status, body) = api.call(post("/v1/transactions?wait=true", "application/octet-stream", tx.encode())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let view: TxView = serde_json::from_slice(&body).unwrap();
    assert_eq!(view.receipt.and_then(|r| r.failure), None);
    let (status, body) = api.call(under_session(&session.token, here, "/v1/events")).await;
    assert_eq!((status, error(&body).code.as_str()), (StatusCode::UNAUTHORIZED, "E_KEY_REVOKED"));

    node.stop().await;
}
