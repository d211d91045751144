//! A handler that panics, on a real connection: the client gets `500
//! E_INTERNAL` with its request id and nothing of the panic, the audit log
//! records the call under its subject, and the same connection serves the
//! next request.

use axum::Router;
use axum::routing::get;
use billflow_types::view::ErrorBody;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::error::INTERNAL_MESSAGE;
use crate::{ApiConfig, ApiState, Endpoint, Gateway, Transport, bind, serve};

/// What the fault route's panic says: it must reach the log, never the client.
const FAULT: &str = "a fault planted by the gateway's tests";

/// Routes that exist only in this crate's tests.
pub(crate) fn fault_routes() -> Router<std::sync::Arc<Gateway>> {
    Router::new().route("/v1/test/panic", get(fault))
}

async fn fault() -> &'static str {
    panic!("{FAULT}")
}

/// Reads one HTTP/1.1 answer with a `content-length`: status, headers (lower case), body.
async fn answer(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no answer: {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        let Some((name, value)) = line.trim_end().split_once(':') else { break };
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_is_audited_and_the_connection_serves_on() {
    let dir = tempfile::tempdir().unwrap();
    let chain = crate::routes::tests::chain(dir.path());
    let audit_dir = dir.path().join("audit");
    let config = ApiConfig { audit_dir: Some(audit_dir.clone()), ..ApiConfig::default() };
    let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let endpoint = Endpoint { listener, transport: Transport::Http, anonymous_reads_only: false };
    let server = tokio::spawn(serve(vec![endpoint], ApiState { chain, network: None, config }, async {
        let _ = stopped.await;
    }));

    let mut conn = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let request = "GET /v1/test/panic HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: panic-test-0001\r\n\r\n";
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let (status, headers, body) = answer(&mut conn).await;
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, "x-request-id"), Some("panic-test-0001"));
    let error: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (error.code.as_str(), error.message.as_str(), error.request_id.as_deref()),
        ("E_INTERNAL", INTERNAL_MESSAGE, Some("panic-test-0001"))
    );
    assert!(!String::from_utf8_lossy(&body).contains(FAULT), "the panic's text stays in the log");

    // The same connection answers the next request.
    conn.get_mut().write_all(b"GET /v1/health HTTP/1.1\r\nHost: gateway\r\n\r\n").await.unwrap();
    let (status, _, body) = answer(&mut conn).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    // The audit log has the call, under who sent it, marked as a panic.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let entry = loop {
        let entries = crate::audit::read_complete_entries(&audit_dir).unwrap().unwrap();
        if let Some(e) = entries.into_iter().find(|e| e.request_id == "panic-test-0001") {
            break e;
        }
        assert!(std::time::Instant::now() < deadline, "the panic's audit entry was not written");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(entry.result, "500 E_INTERNAL panic");
    assert_eq!(entry.action, "GET /v1/test/panic");
    assert_eq!(entry.subject, "anonymous@127.0.0.1", "the subject authentication found");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
