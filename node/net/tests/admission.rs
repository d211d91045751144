//! Mutual TLS admission over real sockets on loopback: members talk, everyone
//! else is refused in both directions and never reaches the request handler.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use billflow_genesis::{Ca, NodeCertSpec};
use billflow_net::{Member, NetConfig, NetEvent, NetHandle, Network};
use billflow_types::{NodeId, OrgId, OrgRole, SecretKey};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// One organisation and its CA (the tests' nodes are its nodes unless said otherwise).
struct Consortium {
    org: OrgId,
    ca: Ca,
}

struct Node {
    id: NodeId,
    /// The organisation the ledger lists for it.
    org: OrgId,
    key: SecretKey,
    handle: NetHandle,
    requests: mpsc::Receiver<billflow_net::InboundRequest>,
    address: String,
    /// Who sent the requests `serve` answered.
    served: std::sync::Arc<std::sync::Mutex<Vec<NodeId>>>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

impl Consortium {
    fn new(seed: u8) -> Consortium {
        let key = SecretKey::from_seed([seed; 32]);
        let org: OrgId = format!("org-{seed}").parse().unwrap();
        Consortium {
            ca: Ca::create(&org, &key, now() - time::Duration::days(1), now() + time::Duration::days(3650)).unwrap(),
            org,
        }
    }

    fn cert(&self, id: &str, key: &SecretKey, from: OffsetDateTime, to: OffsetDateTime) -> Vec<u8> {
        let spec = NodeCertSpec {
            node_id: id.parse().unwrap(),
            org: self.org.clone(),
            role: OrgRole::Notary,
            hosts: vec![],
            not_before: from,
            not_after: to,
        };
        self.ca.issue_node(&spec, key).unwrap().der
    }

    fn valid_cert(&self, id: &str, key: &SecretKey) -> Vec<u8> {
        self.cert(id, key, now() - time::Duration::hours(1), now() + time::Duration::days(30))
    }
}

/// Starts a node of `trusted`'s organisation with `cert` (issued by anyone)
/// that trusts `trusted`'s CA.
async fn start(id: &str, key: SecretKey, cert: Vec<u8>, trusted: &Consortium) -> Node {
    start_in(id, &trusted.org, key, cert, &[trusted]).await
}

/// Starts a node listed under organisation `org` with `cert` (issued by
/// anyone) that trusts the CAs of `trusted`, each for its own organisation.
async fn start_in(id: &str, org: &OrgId, key: SecretKey, cert: Vec<u8>, trusted: &[&Consortium]) -> Node {
    let config = NetConfig {
        org_cas: trusted.iter().map(|c| (c.org.clone(), c.ca.cert.der.clone())).collect(),
        cert_der: cert,
        key: key.clone(),
        listen: "/ip4/127.0.0.1/tcp/0".into(),
        request_timeout: Duration::from_secs(5),
        redial_interval: Duration::from_millis(200),
    };
    let Network { handle, requests } = Network::start(config).await.unwrap();
    let address = handle.listen_addrs().await.unwrap().remove(0);
    Node { id: id.parse().unwrap(), org: org.clone(), key, handle, requests, address, served: Default::default() }
}

fn member(n: &Node) -> Member {
    Member { node_id: n.id.clone(), org: n.org.clone(), public_key: n.key.public(), address: Some(n.address.clone()) }
}

/// Starts `n` members named `<prefix><i>` with keys from `first_seed` on, admitting each other and answering requests.
async fn members(c: &Consortium, prefix: &str, n: u8, first_seed: u8) -> Vec<Node> {
    let mut nodes = Vec::new();
    for i in 0..n {
        let key = SecretKey::from_seed([first_seed + i; 32]);
        let cert = c.valid_cert(&format!("{prefix}{i}"), &key);
        nodes.push(start(&format!("{prefix}{i}"), key, cert, c).await);
    }
    let list: Vec<Member> = nodes.iter().map(member).collect();
    for n in nodes.iter_mut() {
        n.handle.set_members(list.clone(), vec![]).await.unwrap();
        serve(n);
    }
    nodes
}

/// Answers every request with `<node>:<payload>`.
fn serve(node: &mut Node) {
    let mut requests = std::mem::replace(&mut node.requests, mpsc::channel(1).1);
    let id = node.id.clone();
    let served = node.served.clone();
    tokio::spawn(async move {
        while let Some(r) = requests.recv().await {
            served.lock().unwrap().push(r.from.clone());
            let _ = r.reply.send([id.as_str().as_bytes(), b":", &r.payload].concat());
        }
    });
}

async fn request_eventually(from: &Node, to: &NodeId, payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut last = String::new();
    for _ in 0..25 {
        match from.handle.request(to, payload.to_vec()).await {
            Ok(answer) => return Ok(answer),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}

/// Waits for a refusal event whose reason contains `needle`.
async fn refused_with(events: &mut tokio::sync::broadcast::Receiver<NetEvent>, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(remaining, events.recv()).await {
            Ok(Ok(NetEvent::Refused { reason, .. })) if reason.contains(needle) => return reason,
            Ok(Ok(NetEvent::Refused { reason, .. })) => eprintln!("other refusal: {reason}"),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => panic!("no refusal mentioning {needle:?} within 10 s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_exchange_requests_over_mutual_tls() {
    let c = Consortium::new(1);
    let nodes = members(&c, "n", 3, 10).await;
    for a in &nodes {
        for b in &nodes {
            if a.id != b.id {
                let answer = request_eventually(a, &b.id, a.id.as_str().as_bytes()).await.unwrap();
                assert_eq!(answer, format!("{}:{}", b.id, a.id).into_bytes());
            }
        }
    }
    let mut connected = nodes[0].handle.connected().await.unwrap();
    connected.sort();
    assert_eq!(connected, vec![nodes[1].id.clone(), nodes[2].id.clone()]);
}

/// Runs one refusal case: `outsider` is listed as a member (so only its
/// certificate can be the reason) unless `list_outsider` is false.
async fn assert_refused_both_ways(c: &Consortium, outsider: Node, list_outsider: bool, needle: &str) {
    assert_refused_both_ways_trusting(c, &[c], outsider, list_outsider, needle).await
}

/// As [`assert_refused_both_ways`], with a member of `c` that trusts the CAs of `trusted`.
async fn assert_refused_both_ways_trusting(
    c: &Consortium,
    trusted: &[&Consortium],
    mut outsider: Node,
    list_outsider: bool,
    needle: &str,
) {
    let key = SecretKey::from_seed([42; 32]);
    let cert = c.valid_cert("m1", &key);
    let mut m = start_in("m1", &c.org, key, cert, trusted).await;
    let mut events = m.handle.events();
    let mut members = vec![member(&m)];
    if list_outsider {
        members.push(member(&outsider));
    }
    m.handle.set_members(members, vec![]).await.unwrap();
    outsider.handle.set_members(vec![member(&m), member(&outsider)], vec![]).await.unwrap();

    // Outsider to member.
    let err = request_eventually(&outsider, &m.id, b"let me in").await.unwrap_err();
    assert!(!err.is_empty());
    let reason = refused_with(&mut events, needle).await;
    eprintln!("refused: {reason}");
    // Member to outsider (the member dials it as a listed peer, or by request).
    if list_outsider {
        assert!(m.handle.request(&outsider.id, b"hello".to_vec()).await.is_err());
    }
    assert!(m.handle.connected().await.unwrap().is_empty());
    assert!(m.requests.try_recv().is_err(), "a refused peer reached the request handler");
    assert!(outsider.requests.try_recv().is_err());
    let _ = &mut outsider;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_another_ca_is_refused() {
    let c = Consortium::new(1);
    let other = Consortium::new(2);
    let key = SecretKey::from_seed([50; 32]);
    let cert = other.valid_cert("intruder", &key);
    let outsider = start("intruder", key, cert, &c).await;
    assert_refused_both_ways(&c, outsider, true, "UnknownIssuer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_certificate_from_another_organisations_ca_is_refused() {
    // Both organisations' CAs are trusted, each for its own nodes. Organisation
    // B's CA issues a certificate for a key that the ledger lists as a node of
    // organisation A: B cannot admit a node in A's name.
    let a = Consortium::new(1);
    let b = Consortium::new(2);
    let key = SecretKey::from_seed([56; 32]);
    let forged = b.valid_cert("a-node", &key);
    let outsider = start_in("a-node", &a.org, key, forged, &[&a, &b]).await;
    assert_refused_both_ways_trusting(&a, &[&a, &b], outsider, true, "not issued by the CA of its organisation org-1")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_not_yet_valid_certificates_are_refused() {
    let c = Consortium::new(1);
    let key = SecretKey::from_seed([51; 32]);
    let cert = c.cert("old", &key, now() - time::Duration::days(60), now() - time::Duration::days(1));
    let outsider = start("old", key, cert, &c).await;
    assert_refused_both_ways(&c, outsider, true, "certificate expired").await;

    let key = SecretKey::from_seed([52; 32]);
    let cert = c.cert("early", &key, now() + time::Duration::days(1), now() + time::Duration::days(60));
    let outsider = start("early", key, cert, &c).await;
    assert_refused_both_ways(&c, outsider, true, "not valid").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_certificate_of_a_non_member_is_refused() {
    let c = Consortium::new(1);
    let key = SecretKey::from_seed([53; 32]);
    let cert = c.valid_cert("stranger", &key);
    let outsider = start("stranger", key, cert, &c).await;
    assert_refused_both_ways(&c, outsider, false, "not a member").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_member_closes_its_connections_and_refuses_it_after() {
    let c = Consortium::new(1);
    let nodes = members(&c, "r", 2, 60).await;
    let list: Vec<Member> = nodes.iter().map(member).collect();
    request_eventually(&nodes[1], &nodes[0].id, b"before").await.unwrap();
    let mut events = nodes[0].handle.events();
    // Node 0 learns that node 1 is revoked: the live connection closes.
    let revoked = nodes[1].key.public();
    nodes[0].handle.set_members(list, vec![revoked]).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !nodes[0].handle.connected().await.unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "revoked peer still connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It keeps trying (it has not learnt of its own revocation) and is refused each time.
    assert!(request_eventually(&nodes[1], &nodes[0].id, b"after").await.is_err());
    refused_with(&mut events, "revoked").await;
    assert!(nodes[0].handle.request(&nodes[1].id, b"x".to_vec()).await.is_err(), "no dialing out to a revoked peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_organisation_loses_its_ca_is_disconnected_and_checked_again() {
    let c = Consortium::new(1);
    let other = Consortium::new(2);
    let nodes = members(&c, "k", 2, 90).await;
    request_eventually(&nodes[1], &nodes[0].id, b"before").await.unwrap();
    let mut events = nodes[0].handle.events();
    // The ledger now names another CA for org-1 (a rotation whose window has
    // passed): node 0 closes the live connection, and the certificate of the
    // old CA no longer gets back in.
    nodes[0].handle.set_org_cas(vec![(c.org.clone(), other.ca.cert.der.clone())]).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !nodes[0].handle.connected().await.unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the connection admitted under the old CA stayed open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    refused_with(&mut events, "not issued by the CA of its organisation org-1").await;
    assert!(nodes[0].handle.connected().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_port_is_refused_and_the_node_keeps_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let c = Consortium::new(1);
    let nodes = members(&c, "g", 2, 70).await;
    let mut events = nodes[0].handle.events();
    let port: u16 = nodes[0].address.rsplit('/').next().unwrap().parse().unwrap();
    for junk in [
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        vec![0xff; 4096],
        b"\x13/multistream/1.0.0\n\x0b/tls/1.0.0\nxxxxxxxxxxxx".to_vec(),
    ] {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let _ = s.write_all(&junk).await;
        let mut buf = [0u8; 1024];
        // The node answers nothing useful and closes the connection.
        let closed = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "connection with garbage was not closed");
    }
    let reason = refused_with(&mut events, "").await;
    eprintln!("refused: {reason}");
    assert!(nodes[0].served.lock().unwrap().is_empty(), "garbage reached the request handler");
    let answer = request_eventually(&nodes[1], &nodes[0].id, b"still there?").await.unwrap();
    assert_eq!(answer, b"g0:still there?");
    assert_eq!(*nodes[0].served.lock().unwrap(), vec![nodes[1].id.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_libp2p_peer_with_a_self_signed_identity_is_refused() {
    use futures::StreamExt;
    use libp2p::request_response::{self, ProtocolSupport};
    use libp2p::swarm::SwarmEvent;

    let c = Consortium::new(1);
    let key = SecretKey::from_seed([80; 32]);
    let cert = c.valid_cert("m", &key);
    let mut m = start("m", key, cert, &c).await;
    let mut events = m.handle.events();

    // A standard libp2p node: libp2p-tls (self-signed certificate), yamux, our RPC protocol.
    let plain_key = libp2p::identity::Keypair::generate_ed25519();
    let plain_peer = plain_key.public().to_peer_id();
    let mut plain = libp2p::SwarmBuilder::with_existing_identity(plain_key)
        .with_tokio()
        .with_tcp(libp2p::tcp::Config::default(), libp2p::tls::Config::new, libp2p::yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                billflow_net::codec::BytesCodec,
                [(billflow_net::codec::PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default(),
            )
        })
        .unwrap()
        .build();
    plain.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap()).unwrap();
    let plain_addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = plain.select_next_some().await {
            break address;
        }
    };
    // Even listed as a member under its own key, it cannot get in: it has no consortium certificate.
    let plain_ed = libp2p::identity::PublicKey::try_decode_protobuf(&plain_peer.to_bytes()[2..]).unwrap();
    let plain_pub = billflow_types::PublicKey(plain_ed.try_into_ed25519().unwrap().to_bytes());
    let plain_member = Member {
        node_id: "plain".parse().unwrap(),
        org: c.org.clone(),
        public_key: plain_pub,
        address: Some(plain_addr.to_string()),
    };
    m.handle.set_members(vec![member(&m), plain_member], vec![]).await.unwrap();

    // Plain peer dials the member.
    let m_addr: libp2p::Multiaddr = m.address.parse().unwrap();
    plain.dial(m_addr).unwrap();
    let mut plain_errors = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while plain_errors < 2 && tokio::time::Instant::now() < deadline {
        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(500), plain.next()).await {
            match ev {
                SwarmEvent::ConnectionEstablished { .. } => panic!("plain libp2p peer connected"),
                SwarmEvent::OutgoingConnectionError { .. } | SwarmEvent::IncomingConnectionError { .. } => {
                    plain_errors += 1
                }
                _ => {}
            }
        }
    }
    assert!(plain_errors >= 1, "the plain peer's dial neither failed nor was refused");
    // Refused in the TLS handshake: by our verifier, or by the plain peer on seeing a CA-issued certificate.
    refused_with(&mut events, "TLS handshake failed").await;
    // The member dials the plain peer (it is listed with an address) and refuses its certificate.
    assert!(m.handle.request(&"plain".parse().unwrap(), b"hi".to_vec()).await.is_err());
    assert!(m.handle.connected().await.unwrap().is_empty());
    assert!(m.requests.try_recv().is_err());
}

/// A TLS session to `to`, made by hand as the member `as_node` would make
/// one: multistream-select for `/tls/1.0.0`, then the consortium handshake.
/// What is sent over it next is up to the caller.
async fn tls_session(
    c: &Consortium,
    as_node: &Node,
    to: &Node,
) -> billflow_net::tls::Coalesced<futures_rustls::TlsStream<libp2p::tcp::tokio::TcpStream>> {
    use futures::{AsyncReadExt, AsyncWriteExt};
    use libp2p::core::upgrade::OutboundConnectionUpgrade;
    let tls = billflow_net::tls::TlsConfig::new(
        &c.valid_cert(as_node.id.as_str(), &as_node.key),
        &billflow_types::keyfile::pkcs8_der(&as_node.key),
        as_node.handle.admission().clone(),
    )
    .unwrap();
    let port: u16 = to.address.rsplit('/').next().unwrap().parse().unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut stream = libp2p::tcp::tokio::TcpStream(tcp);
    let proposal = b"\x13/multistream/1.0.0\n\x0b/tls/1.0.0\n";
    stream.write_all(proposal).await.unwrap();
    let mut echo = [0u8; 32];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, proposal, "the node agrees to TLS");
    let (peer, session) = tls.upgrade_outbound(stream, "/tls/1.0.0").await.unwrap();
    assert_eq!(peer.to_string(), to.handle.peer_id(), "the handshake reached the node");
    session
}

/// Reads yamux frames until stream 1 is closed or reset, or the connection
/// ends, and returns what came on stream 1; `None` if it stays open for 15 s.
async fn read_stream_one<S: futures::AsyncRead + Unpin>(session: &mut S) -> Option<Vec<u8>> {
    use futures::AsyncReadExt;
    tokio::time::timeout(Duration::from_secs(15), async {
        let mut header = [0u8; 12];
        let mut received = Vec::new();
        loop {
            if session.read_exact(&mut header).await.is_err() {
                return received;
            }
            let kind = header[1];
            let flags = u16::from_be_bytes([header[2], header[3]]);
            let stream = u32::from_be_bytes(header[4..8].try_into().unwrap());
            let length = u32::from_be_bytes(header[8..12].try_into().unwrap());
            if kind == 0 {
                let mut data = vec![0u8; length as usize];
                if session.read_exact(&mut data).await.is_err() {
                    return received;
                }
                if stream == 1 {
                    received.extend_from_slice(&data);
                }
            }
            // FIN or RST on the stream, or GO_AWAY for the connection.
            if (stream == 1 && flags & 0x0c != 0) || kind == 3 {
                return received;
            }
        }
    })
    .await
    .ok()
}

/// A frame on yamux stream 1 opening it (SYN) with `data`.
fn yamux_syn(data: &[u8]) -> Vec<u8> {
    let mut frame = vec![0, 0, 0, 1, 0, 0, 0, 1];
    frame.extend_from_slice(&(data.len() as u32).to_be_bytes());
    frame.extend_from_slice(data);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_speaking_garbage_after_the_handshake_is_dropped_and_the_node_keeps_serving() {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let c = Consortium::new(3);
    // h0 is the target, h1 an honest member, h2 the member gone bad.
    let nodes = members(&c, "h", 3, 100).await;
    let (target, honest, rogue) = (&nodes[0], &nodes[1], &nodes[2]);
    let muxer = b"\x13/multistream/1.0.0\n\x0d/yamux/1.0.0\n".as_slice();
    let rpc = b"\x13/multistream/1.0.0\n\x10/billflow/rpc/1\n".as_slice();

    // Garbage where multistream-select should be, and a yamux frame of an
    // unknown version: the node closes the connection.
    for junk in [vec![0xab; 4096], [muxer, &[0x7f; 12]].concat()] {
        let mut session = tls_session(&c, rogue, target).await;
        session.write_all(&junk).await.unwrap();
        session.flush().await.unwrap();
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(15), async {
            while let Ok(n) = session.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a session speaking garbage was held open");
    }

    // Streams to the RPC protocol made by hand: one that declares a 4 GiB
    // request and one that ends inside its request are dropped unanswered;
    // a well-formed one, the control, is answered.
    for (request, answered) in
        [(&b"\xff\xff\xff\xff\x01\x02"[..], false), (b"\0\0\x01\0abc", false), (b"\0\0\0\x03abc", true)]
    {
        let mut session = tls_session(&c, rogue, target).await;
        session.write_all(muxer).await.unwrap();
        session.flush().await.unwrap();
        let mut echo = [0u8; 34];
        session.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, muxer, "the node agrees to yamux");
        session.write_all(&yamux_syn(&[rpc, request].concat())).await.unwrap();
        // FIN: the request ends here.
        session.write_all(&[0, 1, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]).await.unwrap();
        session.flush().await.unwrap();
        let received = read_stream_one(&mut session).await.expect("a stream with a bad request was held open");
        let answer = received.strip_prefix(rpc).unwrap_or(&received);
        if answered {
            assert_eq!(answer, b"\0\0\0\x06h0:abc", "the well-formed request is answered");
        } else {
            assert!(answer.is_empty(), "a bad request was answered: {answer:?}");
        }
    }

    let answer = request_eventually(honest, &target.id, b"still there?").await.unwrap();
    assert_eq!(answer, b"h0:still there?");
    let served = target.served.lock().unwrap().clone();
    assert_eq!(served, vec![rogue.id.clone(), honest.id.clone()], "garbage reached the request handler");
}

/// Answers each request `[delay_ms, ..]` after `delay_ms`, with the request
/// reversed; drops the reply of a request that starts with `0xff`.
fn serve_late(node: &mut Node) {
    let mut requests = std::mem::replace(&mut node.requests, mpsc::channel(1).1);
    tokio::spawn(async move {
        while let Some(r) = requests.recv().await {
            tokio::spawn(async move {
                let delay = r.payload.first().copied().unwrap_or(0);
                if delay == 0xff {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
                let _ = r.reply.send(r.payload.iter().rev().copied().collect());
            });
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_share_a_lane_answered_in_any_order_and_large_ones_take_substreams() {
    let c = Consortium::new(7);
    let mut nodes = Vec::new();
    for i in 0..2u8 {
        let key = SecretKey::from_seed([130 + i; 32]);
        nodes.push(start(&format!("lane{i}"), key.clone(), c.valid_cert(&format!("lane{i}"), &key), &c).await);
    }
    let list: Vec<Member> = nodes.iter().map(member).collect();
    for n in nodes.iter_mut() {
        n.handle.set_members(list.clone(), vec![]).await.unwrap();
        serve_late(n);
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    request_eventually(a, &b.id, &[0, 1]).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !a.handle.lane_open(&b.id) {
        assert!(tokio::time::Instant::now() < deadline, "no lane opened within 10 s of connecting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Sent together, the first waited for longest: the answers come back in
    // the reverse order, and each reaches the request it answers.
    let asks = (0..40u8).map(|i| {
        let request = vec![80 - 2 * i, i, 0xab];
        let handle = a.handle.clone();
        let to = b.id.clone();
        async move { (request.clone(), handle.request(&to, request).await) }
    });
    for (request, answer) in futures::future::join_all(asks).await {
        let expected: Vec<u8> = request.iter().rev().copied().collect();
        assert_eq!(answer.unwrap(), expected);
    }

    // Larger than a lane carries: a substream of its own, the same answer.
    let mut large = vec![1u8; 300 * 1024];
    large[300 * 1024 - 1] = 9;
    let answer = a.handle.request(&b.id, large.clone()).await.unwrap();
    assert_eq!(answer.len(), large.len());
    assert_eq!(answer[0], 9);
    let bulk = a.handle.request_bulk(&b.id, vec![0, 2]).await.unwrap();
    assert_eq!(bulk, vec![2, 0]);

    // A request the peer never answers fails; the lane stays and serves the next.
    let dropped = a.handle.request(&b.id, vec![0xff]).await.unwrap_err();
    assert!(dropped.to_string().contains("the peer gave no answer"), "{dropped}");
    assert!(a.handle.lane_open(&b.id));
    assert_eq!(a.handle.request(&b.id, vec![0, 3]).await.unwrap(), vec![3, 0]);
}
