//! Hostile connections against the gateway on a real socket: idle, trickled
//! headers (slowloris), trickled and cut bodies, oversized bodies and heads,
//! and bytes that are not HTTP. Each is closed or refused with a typed error,
//! and the gateway goes on serving.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{ApiConfig, ApiState, Endpoint, Transport, bind, serve};

const HEADER_TIMEOUT: Duration = Duration::from_millis(500);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_BODY: usize = 64 * 1024;
/// How long a trickled request would take to finish: far past every timeout.
const TRICKLE: Duration = Duration::from_millis(100);
/// Past this, the gateway has kept a hostile connection open.
const GIVE_UP: Duration = Duration::from_secs(15);

/// Writes `sent` at once, then `trickled` a byte at a time `TRICKLE` apart,
/// closes the write half if `cut`, and reads until the server closes. Returns
/// what the server sent and when it closed.
async fn exchange(addr: SocketAddr, sent: &[u8], trickled: &[u8], cut: bool) -> (String, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let (sent, trickled) = (sent.to_vec(), trickled.to_vec());
    let write = async move {
        if writer.write_all(&sent).await.is_err() {
            return;
        }
        for b in trickled {
            if writer.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(TRICKLE).await;
        }
        if cut {
            let _ = writer.shutdown().await;
        }
        // Keep the write half open until the server closes.
        std::future::pending::<()>().await;
    };
    let mut answer = Vec::new();
    let read = async {
        // A reset after the answer ends the read as well as a close does.
        let _ = reader.read_to_end(&mut answer).await;
    };
    let closed = tokio::time::timeout(GIVE_UP, async {
        tokio::select! {
            () = write => unreachable!("the writer never ends by itself"),
            () = read => {}
        }
    })
    .await;
    assert!(closed.is_ok(), "the gateway held a connection open for {GIVE_UP:?}: {}", String::from_utf8_lossy(&answer));
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

fn status(answer: &str) -> Option<u16> {
    answer.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

async fn health(addr: SocketAddr) -> Option<u16> {
    let request = b"GET /v1/health HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n";
    status(&exchange(addr, request, b"", false).await.0)
}

fn post(content_length: usize, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /v1/transactions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {content_length}\r\n\r\n"
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_connections_are_closed_or_refused_and_the_gateway_serves_on() {
    let dir = tempfile::tempdir().unwrap();
    let chain = crate::routes::tests::chain(dir.path());
    let tip = chain.tip();
    let config = ApiConfig {
        header_read_timeout: HEADER_TIMEOUT,
        request_timeout: REQUEST_TIMEOUT,
        max_body_bytes: MAX_BODY,
        ..ApiConfig::default()
    };
    let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let endpoint = Endpoint { listener, transport: Transport::Http, anonymous_reads_only: false };
    let server = tokio::spawn(serve(vec![endpoint], ApiState { chain: chain.clone(), network: None, config }, async {
        let _ = stopped.await;
    }));
    assert_eq!(health(addr).await, Some(200));

    // Slowloris: connections trickle their headers a byte at a time (24 s
    // each if let run), and one says nothing at all. Every one is closed
    // after the header timeout while the gateway answers others.
    let slow_head = format!("GET /v1/health HTTP/1.1\r\nHost: gateway\r\nX-Pad: {}\r\n\r\n", "a".repeat(200));
    let mut trickles = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let slow_head = slow_head.clone();
        trickles.spawn(async move { exchange(addr, b"", slow_head.as_bytes(), false).await });
    }
    trickles.spawn(async move { exchange(addr, b"", b"", false).await });
    for _ in 0..5 {
        assert_eq!(health(addr).await, Some(200), "the gateway serves while slow clients hang on");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut longest = Duration::ZERO;
    while let Some(r) = trickles.join_next().await {
        let (answer, held) = r.unwrap();
        assert!(status(&answer).is_none_or(|s| s == 408), "a slow head gets no answer but a timeout: {answer}");
        longest = longest.max(held);
    }
    assert!(longest < HEADER_TIMEOUT * 6, "slow heads held {longest:?}, the timeout is {HEADER_TIMEOUT:?}");
    println!("33 slow or silent connections closed, the last after {longest:?}");

    // A body trickled after whole headers: the request timeout answers 408.
    let (answer, held) = exchange(addr, &post(100, &[]), &[7; 100], false).await;
    assert_eq!(status(&answer), Some(408), "{answer}");
    assert!(held < REQUEST_TIMEOUT * 4, "a slow body held {held:?}");

    // A body cut short: the client closes its side after 10 of 1,000 bytes.
    let (answer, _) = exchange(addr, &post(1000, &[7; 10]), b"", true).await;
    assert_eq!(status(&answer), Some(400), "{answer}");
    assert!(answer.contains("E_MALFORMED"), "a cut body is malformed, not too large: {answer}");

    // A silent client after a short first line: closed by the first-bytes limit.
    let (answer, held) = exchange(addr, b"GET /", b"", false).await;
    assert!(status(&answer).is_none_or(|s| s == 408), "{answer}");
    assert!(held < HEADER_TIMEOUT * 6, "a stalled request line held {held:?}");

    // A body over the limit, declared and sent.
    let big = vec![7; MAX_BODY + 1];
    let (answer, _) = exchange(addr, &post(big.len(), &big), b"", false).await;
    assert_eq!(status(&answer), Some(413), "{answer}");
    assert!(answer.contains("E_BODY_TOO_LARGE"), "{answer}");

    // A head over hyper's limit, and bytes that are not HTTP at all.
    let huge_head = format!("GET /v1/health HTTP/1.1\r\nHost: gateway\r\nX-Pad: {}\r\n\r\n", "a".repeat(1 << 20));
    let (answer, _) = exchange(addr, huge_head.as_bytes(), b"", false).await;
    assert_eq!(status(&answer), Some(431), "{answer}");
    let (answer, _) = exchange(addr, &[0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x00, 0x13, 0x37], b"", true).await;
    assert!(status(&answer).is_none_or(|s| s == 400), "{answer}");

    // The gateway still serves, and nothing reached the ledger.
    assert_eq!(health(addr).await, Some(200));
    assert_eq!(chain.tip(), tip);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
