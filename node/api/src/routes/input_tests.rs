//! Arbitrary input through every parser of the gateway: path segments,
//! query strings and headers of arbitrary UTF-8 (and bytes that are not
//! UTF-8), sent through the whole router. Every answer is 2xx, or a 4xx with
//! the usual `{code, message, request_id}` body: never a panic (which the
//! gateway turns into a 500) and never another 5xx.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use billflow_types::dev::{DEV_REGULATOR, DEV_TENANT};
use billflow_types::view::ErrorBody;
use percent_encoding::{NON_ALPHANUMERIC, percent_encode, utf8_percent_encode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::tests::{Api, nonce, now_ms, signed_at};

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
enum As {
    Anonymous,
    Tenant,
    Regulator,
}

/// A path segment or query value as the client writes it.
#[derive(Debug, Clone)]
enum Part {
    /// Text, percent-encoded.
    Text(String),
    /// Bytes (most not UTF-8 once decoded), percent-encoded.
    Bytes(Vec<u8>),
    /// As it is: percent signs that may not begin an escape.
    Raw(String),
}

impl Part {
    fn encoded(&self) -> String {
        match self {
            Part::Text(t) => utf8_percent_encode(t, NON_ALPHANUMERIC).to_string(),
            Part::Bytes(b) => percent_encode(b, NON_ALPHANUMERIC).to_string(),
            Part::Raw(r) => r.clone(),
        }
    }
}

/// Text shaped like what the parsers expect, and text that is nothing like it.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,16}",
        "-?[0-9]{0,24}",
        "[0-9a-fA-F]{62,66}",
        // Dates and times, some with a character of several bytes where a cut would fall.
        "[0-9]{4}-[0-9]{2}-[0-9]{1,2}\\PC{0,2}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,12}\\PC{0,2}Z?",
        // Cursors.
        "[0-9]{0,21}-[0-9]{0,11}-[0-9]{0,11}\\PC{0,2}",
        // Ids, names, bill numbers.
        "[a-zA-Z0-9._-]{1,70}",
        "[0-9]{29,31}",
    ]
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        4 => text().prop_map(Part::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Part::Bytes),
        1 => "[A-Za-z0-9%._~-]{0,30}".prop_map(Part::Raw),
    ]
}

/// A gateway over a fresh development chain, with an audit log (so that
/// `/v1/audit` parses its query and reads) and no rate limit to speak of.
struct Fixture {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    api: Api,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let chain = super::tests::chain(dir.path());
        let config = crate::ApiConfig {
            audit_dir: Some(dir.path().join("audit")),
            rate_per_s: 1_000_000,
            rate_burst: 1_000_000,
            ..crate::ApiConfig::default()
        };
        let api = runtime.block_on(async { Api::with(&chain, config) });
        Fixture { _dir: dir, runtime, api }
    }

    /// Sends `method uri` as `who`, and checks the answer is 2xx or a typed 4xx.
    fn check(&self, method: &str, uri: &str, who: As) -> Result<(), TestCaseError> {
        let (content_type, body) = match method {
            "POST" => ("application/json", b"{}".to_vec()),
            _ => ("application/json", Vec::new()),
        };
        let req = match who {
            As::Anonymous => Request::builder().method(method).uri(uri).body(Body::empty()),
            As::Tenant => Ok(signed_at(method, uri, content_type, body, DEV_TENANT.1, now_ms(), &nonce())),
            As::Regulator => Ok(signed_at(method, uri, content_type, body, DEV_REGULATOR.1, now_ms(), &nonce())),
        };
        let req = req.map_err(|e| TestCaseError::fail(format!("{uri} is not a URI: {e}")))?;
        self.answer(req, uri)
    }

    fn answer(&self, req: Request<Body>, what: &str) -> Result<(), TestCaseError> {
        let (status, body) = self.runtime.block_on(self.api.call(req));
        typed(status, &body, what)
    }
}

/// 2xx, or 4xx with the usual error body.
fn typed(status: StatusCode, body: &[u8], what: &str) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(body);
    prop_assert!(status.is_success() || status.is_client_error(), "{what}: {status} {text}");
    if status.is_client_error() {
        let error: ErrorBody = serde_json::from_slice(body)
            .map_err(|e| TestCaseError::fail(format!("{what}: {status} without the error body ({e}): {text}")))?;
        prop_assert!(error.code.starts_with("E_") && error.request_id.is_some(), "{what}: {error:?}");
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Every route that takes a path parameter, `{}` where the arbitrary segment goes.
const PATHS: &[(&str, &str, As)] = &[
    ("GET", "/v1/transactions/{}", As::Tenant),
    ("GET", "/v1/transactions/{}/proof", As::Tenant),
    ("GET", "/v1/blocks/{}", As::Anonymous),
    ("GET", "/v1/blocks/hash/{}", As::Anonymous),
    ("GET", "/v1/contracts/{}", As::Anonymous),
    ("POST", "/v1/contracts/{}/query/get", As::Tenant),
    ("POST", "/v1/contracts/evidence/query/{}", As::Tenant),
    ("GET", "/v1/evidence/{}", As::Anonymous),
    ("GET", "/v1/explorer/txs/{}", As::Anonymous),
    ("GET", "/v1/explorer/bills/{}", As::Anonymous),
    ("GET", "/explorer/{}", As::Anonymous),
    ("GET", "/v1/{}", As::Anonymous),
];

#[test]
fn arbitrary_path_segments_answer_2xx_or_a_typed_4xx() {
    let fixture = Fixture::new();
    let strategy = (0..PATHS.len(), part());
    runner(1024)
        .run(&strategy, |(route, segment)| {
            let (method, template, who) = PATHS[route];
            fixture.check(method, &template.replace("{}", &segment.encoded()), who)
        })
        .unwrap();
}

/// Every route that reads a query string, with the names it knows.
const QUERIES: &[(&str, &str, &[&str], As)] = &[
    ("GET", "/v1/blocks", &["before", "limit"], As::Anonymous),
    ("GET", "/v1/audit", &["from", "to", "subject", "after", "limit"], As::Regulator),
    ("GET", "/v1/supervision/events", &["from", "types", "participant"], As::Regulator),
    ("GET", "/v1/supervision/stream", &["from", "types", "participant"], As::Regulator),
    ("GET", "/v1/explorer/recent-txs", &["limit"], As::Anonymous),
    ("GET", "/v1/explorer/search", &["q"], As::Anonymous),
    ("POST", "/v1/transactions", &["wait", "timeout_ms"], As::Tenant),
    ("POST", "/v1/transactions/batch", &["wait", "timeout_ms"], As::Tenant),
];

#[test]
fn arbitrary_query_strings_answer_2xx_or_a_typed_4xx() {
    let fixture = Fixture::new();
    // Per route: a value (or none) for each name it knows, and perhaps a name it does not.
    let strategy = (
        0..QUERIES.len(),
        proptest::collection::vec(proptest::option::weighted(0.7, part()), 5),
        proptest::option::weighted(0.1, (part(), part())),
        proptest::option::weighted(0.1, "[A-Za-z0-9%=&._~-]{0,40}"),
    );
    runner(1024)
        .run(&strategy, |(route, values, extra, raw)| {
            let (method, path, names, who) = QUERIES[route];
            let mut pairs: Vec<String> = names
                .iter()
                .zip(&values)
                .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", v.encoded())))
                .collect();
            pairs.extend(extra.map(|(k, v)| format!("{}={}", k.encoded(), v.encoded())));
            let query = raw.unwrap_or_else(|| pairs.join("&"));
            fixture.check(method, &format!("{path}?{query}"), who)
        })
        .unwrap();
}

#[test]
fn arbitrary_signature_and_request_id_headers_answer_a_typed_4xx_or_2xx() {
    let fixture = Fixture::new();
    // Header values may hold any byte but controls (other than tab).
    let value = proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 0..80);
    let digits = "[0-9]{0,20}".prop_map(String::into_bytes);
    let strategy = (
        proptest::collection::vec(proptest::option::weighted(0.8, prop_oneof![value.clone(), digits]), 4),
        proptest::option::of(value),
    );
    let names = ["x-billflow-key", "x-billflow-timestamp", "x-billflow-nonce", "x-billflow-signature"];
    runner(512)
        .run(&strategy, |(auth, request_id)| {
            let mut req = Request::get("/v1/health");
            for (name, value) in names.iter().zip(&auth) {
                if let Some(v) = value {
                    req = req.header(*name, v.as_slice());
                }
            }
            if let Some(id) = &request_id {
                req = req.header("x-request-id", id.as_slice());
            }
            let req = req.body(Body::empty()).map_err(|e| TestCaseError::fail(format!("not a request: {e}")))?;
            fixture.answer(req, &format!("headers {auth:?} request id {request_id:?}"))
        })
        .unwrap();
}
