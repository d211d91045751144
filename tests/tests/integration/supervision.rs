//! The regulators' supervision stream on a real node: refused before the
//! upgrade for anyone else, a malformed cursor named, every event exactly once
//! across a forced reconnect, and a consumer that never reads does not hold up
//! commits.

use std::time::{Duration, Instant};

use billflow_sdk::Signer;
use billflow_sdk::types::dev::DEV_REGULATOR;
use billflow_sdk::types::request::{
    HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, request_message, sign_request,
};
use billflow_sdk::types::view::{EventPage, StreamEvent, TxState};
use billflow_tests::{NodeProcess, dev_signer, exclusive, tenant_signer};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::register_enterprise;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the stream at `query` signed by `signer`; the HTTP status of a refusal otherwise.
async fn open(base: &str, signer: &Signer, query: &str) -> Result<Socket, (u16, String)> {
    let url = format!("{}/v1/supervision/stream?{query}", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    let at = billflow_sdk::now_ms();
    let nonce = format!("ws-{}", billflow_sdk::new_tx_id("n").unwrap());
    let message = request_message("GET", "/v1/supervision/stream", query, at, &nonce, b"");
    let headers = request.headers_mut();
    headers.insert(HEADER_KEY, HeaderValue::from_str(signer.key_id.as_str()).unwrap());
    headers.insert(HEADER_TIMESTAMP, HeaderValue::from_str(&at.to_string()).unwrap());
    headers.insert(HEADER_NONCE, HeaderValue::from_str(&nonce).unwrap());
    headers.insert(HEADER_SIGNATURE, HeaderValue::from_str(&sign_request(&signer.secret, &message)).unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            Err((response.status().as_u16(), body))
        }
        Err(e) => panic!("connecting: {e}"),
    }
}

/// The next event frame, within 10 s.
async fn next_event(socket: &mut Socket) -> StreamEvent {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an event within 10 s")
            .expect("the stream is open")
            .expect("a frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn regulators_get_every_event_once_across_a_reconnect_and_slow_readers_hold_nothing_up() {
    let _one = exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path()).unwrap();
    let tenant = tenant_signer();
    let regulator = dev_signer(DEV_REGULATOR.1, None);
    let client = node.client();
    for n in 0..6u64 {
        let (tx, _, _) = register_enterprise(&tenant, 9_100 + n, &format!("sup-{n}"));
        assert_eq!(client.submit(&tx, true).await.unwrap().status, TxState::Committed);
    }

    // Anyone but a regulator is refused before the upgrade; so is a bad cursor.
    let (status, body) = open(&node.url, &tenant, "from=0-0-0").await.expect_err("refused");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("E_NOT_REGULATOR"), "{body}");
    let (status, body) = open(&node.url, &regulator, "from=12-x").await.expect_err("refused");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("E_BAD_CURSOR"), "{body}");

    // Everything from the start, as the polling route has it.
    let as_regulator = node.client_as(&regulator);
    let all: EventPage = as_regulator.supervision_events(Some("0-0-0"), &[], None).await.unwrap();
    let registered: Vec<&StreamEvent> = all.events.iter().filter(|e| e.topic == "participant.registered").collect();
    assert!(registered.len() >= 6, "{:?}", all.events.iter().map(|e| &e.topic).collect::<Vec<_>>());

    // Three events, a dropped connection, then the rest from the last cursor.
    let mut socket = open(&node.url, &regulator, "from=0-0-0").await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_event(&mut socket).await);
    }
    drop(socket);
    let last = seen.last().unwrap().cursor.clone();
    let mut socket = open(&node.url, &regulator, &format!("from={last}")).await.unwrap();
    while seen.len() < all.events.len() {
        seen.push(next_event(&mut socket).await);
    }
    assert_eq!(seen, all.events, "every event once, in order, across the reconnect");

    // Live: a new commit arrives on the open stream; a topic filter keeps others out.
    let mut filtered =
        open(&node.url, &regulator, &format!("from={}&types=participant.registered", all.next)).await.unwrap();
    let (tx, _, _) = register_enterprise(&tenant, 9_200, "sup-live");
    client.submit(&tx, true).await.unwrap();
    let live = next_event(&mut socket).await;
    assert_eq!(live.tx_id, "sup-live");
    let only = next_event(&mut filtered).await;
    assert_eq!((only.tx_id.as_str(), only.topic.as_str()), ("sup-live", "participant.registered"));

    // A consumer that never reads: commits go on at their pace.
    let _stalled = open(&node.url, &regulator, "from=0-0-0").await.unwrap();
    let started = Instant::now();
    for n in 0..20u64 {
        let (tx, _, _) = register_enterprise(&tenant, 9_300 + n, &format!("sup-stall-{n}"));
        assert_eq!(client.submit(&tx, true).await.unwrap().status, TxState::Committed);
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "20 commits took {:?} beside a stalled reader",
        started.elapsed()
    );
}
