//! The REST gateway. This is the only crate that uses axum.
//!
//! JSON exists only here: requests are parsed into ledger types and checked by
//! the chain, and every error leaves as `{code, message, request_id}` with a
//! fitting HTTP status, never with internal detail.
//!
//! Every request passes, outermost first: `finish` (request id, the error
//! body, the audit entry, metrics), a layer that turns a panic into `500
//! E_INTERNAL`, a timeout, `auth::authenticate` (body limit, signature, replay
//! and rate checks), then its route. No panic ends a connection or goes
//! unaudited. Configured nodes serve HTTPS with their certificate from the
//! consortium CA.

mod audit;
mod auth;
pub mod codes;
mod conn;
mod error;
mod explorer;
mod interfaces;
mod metrics;
mod openapi;
mod routes;
mod supervision;

pub use audit::{AUDIT_FILE, SEGMENT_BYTES, log_files, read_audit_log, segment_name};
pub use auth::Subject;
pub use error::ApiError;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use billflow_chain::Chain;
use billflow_storage::StoreReader;
use billflow_types::audit::AuditHead;
use billflow_types::request::HEADER_REQUEST_ID;
use billflow_types::view::NetworkView;

use crate::audit::Audit;
use crate::auth::Auth;
use crate::conn::{FirstBytesAcceptor, bound_header_reads};
use crate::error::ErrorInfo;
use crate::metrics::Metrics;

/// What the node tells the gateway about its network.
pub trait NetworkInfo: Send + Sync + 'static {
    /// The network as this node sees it now.
    fn view(&self) -> futures_util::future::BoxFuture<'_, NetworkView>;
}

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body (a batch of transactions may be large).
    pub max_body_bytes: usize,
    /// Longest a request may take (waiting for a commit included).
    pub request_timeout: Duration,
    /// Longest a connection may take to send a request's headers, and longest
    /// it may stay idle between requests: a client that trickles its headers
    /// (slowloris) is closed after this.
    pub header_read_timeout: Duration,
    /// Requests a second allowed per tenant, organisation or anonymous address.
    pub rate_per_s: u32,
    /// Requests allowed in a burst.
    pub rate_burst: u32,
    /// Where the audit log goes (`None`: no audit log, for tests of routes alone).
    pub audit_dir: Option<PathBuf>,
    /// Where the audit log's head is published as each batch of entries
    /// becomes durable (the node anchors it in its block attestations).
    pub audit_head: Option<Arc<tokio::sync::watch::Sender<Option<AuditHead>>>>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(40),
            header_read_timeout: Duration::from_secs(10),
            rate_per_s: 5_000,
            rate_burst: 10_000,
            audit_dir: None,
            audit_head: None,
        }
    }
}

/// What the gateway serves.
#[derive(Clone)]
pub struct ApiState {
    /// The chain.
    pub chain: Chain,
    /// The network, if the node has one.
    pub network: Option<Arc<dyn NetworkInfo>>,
    /// Settings.
    pub config: ApiConfig,
}

/// What the handlers share.
pub(crate) struct Gateway {
    /// Submits, waits, runs queries and follows the tip. Never reach the
    /// store through it (`clippy.toml` forbids `Chain::store` here): read
    /// through `store`.
    pub chain: Chain,
    /// Every read of blocks, receipts, indexes and state: a handle that cannot write.
    pub store: StoreReader,
    pub network: Option<Arc<dyn NetworkInfo>>,
    pub config: ApiConfig,
    pub auth: Auth,
    pub audit: Option<Audit>,
    pub metrics: Metrics,
    /// The explorer's last hour of blocks.
    pub plot: explorer::Plot,
    /// Contract interfaces, for the JSON form of contract data.
    pub interfaces: Arc<interfaces::Interfaces>,
}

/// Feeds the ledger metrics: every block committed from now on, as the chain
/// tells of it. Blocks it missed while it lagged (more than the chain's feed
/// holds) are read from the store, at most the newest 1,000 of a gap.
async fn count_blocks(gw: std::sync::Weak<Gateway>) {
    use tokio::sync::broadcast::error::RecvError;
    let Some((mut feed, mut seen)) = gw.upgrade().map(|g| (g.chain.subscribe_committed(), g.chain.tip().height)) else {
        return;
    };
    loop {
        let next = feed.recv().await;
        let Some(gw) = gw.upgrade() else { return };
        let now_ms = billflow_chain::now_ms();
        let (upto, told) = match next {
            Ok(block) => (block.height, Some(block)),
            Err(RecvError::Lagged(_)) => (gw.chain.tip().height, None),
            Err(RecvError::Closed) => return,
        };
        if upto <= seen {
            continue;
        }
        let last_read = if told.is_some() { upto - 1 } else { upto };
        for height in (seen + 1).max(last_read.saturating_sub(999))..=last_read {
            match gw.store.stored_block(height) {
                Ok(Some(stored)) => {
                    gw.metrics.block(&billflow_chain::CommittedBlock::of(&stored.block, &stored.receipts), now_ms)
                }
                Err(e) => tracing::warn!(height, error = %e, "cannot read a block for the metrics"),
                Ok(None) => {}
            }
        }
        if let Some(block) = told {
            gw.metrics.block(&block, now_ms);
        }
        seen = upto;
    }
}

/// The gateway's routes with every layer. Fails only if the audit log cannot
/// be opened (or is broken).
pub fn router(state: ApiState) -> std::io::Result<Router> {
    let audit =
        state.config.audit_dir.as_deref().map(|dir| Audit::open(dir, state.config.audit_head.clone())).transpose()?;
    #[allow(clippy::disallowed_methods, reason = "the one place the gateway takes its read-only handle")]
    let store = state.chain.store().reader();
    let gw = Arc::new(Gateway {
        store,
        auth: Auth::new(&state.config),
        chain: state.chain,
        network: state.network,
        audit,
        metrics: Metrics::new(),
        plot: explorer::Plot::default(),
        interfaces: Arc::default(),
        config: state.config,
    });
    let timeout = gw.config.request_timeout;
    tokio::spawn(count_blocks(Arc::downgrade(&gw)));
    let tidy = Arc::downgrade(&gw);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            match tidy.upgrade() {
                Some(gw) => gw.auth.tidy(),
                None => break,
            }
        }
    });
    let app = routes::routes().merge(explorer::asset_routes());
    #[cfg(test)]
    let app = app.merge(panic_tests::fault_routes());
    Ok(app
        // The authentication layer has read the body within `max_body_bytes` already.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(gw.clone(), auth::authenticate))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn_with_state(gw.clone(), finish))
        .with_state(gw))
}

/// Marks the answer to a request whose handling panicked (its audit entry says so).
#[derive(Debug, Clone, Copy)]
struct Panicked;

/// The answer to a panic below `finish`: `500 E_INTERNAL` like any internal
/// error, the panic's message in the node's log (in the request's span) and
/// never in the answer.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let mut resp = ApiError::internal(format_args!("the request's handling panicked: {message}")).into_response();
    resp.extensions_mut().insert(Panicked);
    resp
}

/// Where `auth::authenticate` leaves who sent the request, for `finish`: an
/// answer built without the subject (a caught panic's) is still audited
/// under it.
#[derive(Clone, Default)]
pub(crate) struct SubjectSlot(Arc<std::sync::OnceLock<Subject>>);

impl SubjectSlot {
    /// Records the subject (the first one only).
    pub(crate) fn set(&self, subject: &Subject) {
        let _ = self.0.set(subject.clone());
    }
}

/// The object an audit entry names: the request's path, decoded, with any
/// personal data in it masked.
fn audit_object(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    billflow_types::privacy::mask(&decoded).into_owned()
}

/// A request id: the client's if it sent a sensible one (and no personal
/// data), else a new one.
fn request_id(req: &Request) -> String {
    let given = req.headers().get(HEADER_REQUEST_ID).and_then(|v| v.to_str().ok());
    match given {
        Some(id)
            if (8..=64).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && billflow_types::privacy::find_personal_data(id).is_none() =>
        {
            id.to_string()
        }
        _ => {
            let mut bytes = [0u8; 12];
            // Without an entropy source the id is only less unique, never wrong.
            let _ = getrandom::fill(&mut bytes);
            hex::encode(bytes)
        }
    }
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// The outermost layer: gives every request an id, turns every error into
/// `{code, message, request_id}`, writes the audit entry and counts the request.
async fn finish(State(gw): State<Arc<Gateway>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let slot = SubjectSlot::default();
    req.extensions_mut().insert(slot.clone());
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let action = format!("{} {}", req.method(), route);
    let object = audit_object(req.uri().path());
    // Whatever a handler logs (an internal error's detail above all) carries the id its answer names.
    let span = tracing::error_span!("request", request_id = %id);
    let mut resp = tracing::Instrument::instrument(next.run(req), span).await;
    let status = resp.status();
    let mut result = status.as_u16().to_string();
    let subject = resp.extensions().get::<Subject>().or_else(|| slot.0.get()).cloned();
    if status.is_client_error() || status.is_server_error() {
        let info = resp.extensions().get::<ErrorInfo>().cloned();
        let panicked = resp.extensions().get::<Panicked>().is_some();
        let (code, message) = match info {
            Some(i) => (i.code, i.message),
            None => {
                let e = ApiError::for_status(status);
                (e.code.into_owned(), e.message)
            }
        };
        result = format!("{result} {code}");
        if panicked {
            result.push_str(" panic");
        }
        let headers = std::mem::take(resp.headers_mut());
        resp = ApiError::response(status, code, message, Some(id.clone()));
        for (name, value) in headers.iter() {
            if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
                resp.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER_REQUEST_ID, v);
    }
    if let Some(audit) = &gw.audit {
        let subject = subject.as_ref().map_or_else(|| "anonymous".to_string(), Subject::label);
        let durable =
            audit.record(audit::Event { time: now_rfc3339(), request_id: id, subject, object, action, result });
        // The answer leaves once its entry is on disk. A log that cannot be
        // written is the node's fault and is logged; the call it records has
        // already happened, so its answer still goes out.
        if durable.await != Ok(true) {
            gw.metrics.audit_failed();
        }
    }
    gw.metrics.request(&route, status.as_u16(), started.elapsed().as_secs_f64());
    resp
}

/// How the gateway is reached.
pub enum Transport {
    /// Plain HTTP: the standalone development node only.
    Http,
    /// HTTPS with this configuration.
    Https(Arc<rustls::ServerConfig>),
}

/// A TLS server configuration from a PEM certificate chain and PKCS#8 key
/// (the node's certificate from the consortium CA).
pub fn tls_config(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: {e}"))?;
    if chain.is_empty() {
        return Err("certificate: no PEM certificate found".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listening socket for the gateway at `addr`, its send buffer bounded
/// ([`SEND_BUFFER_BYTES`]) before it listens: a connection accepted into the
/// backlog takes the listener's buffer size at that moment, so setting it
/// after `listen` would leave the first connections unbounded.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_send_buffer_size(SEND_BUFFER_BYTES)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Where the gateway listens: a socket (from [`bind`]), its transport, and what it serves.
pub struct Endpoint {
    /// A bound listener.
    pub listener: std::net::TcpListener,
    /// Plain HTTP or HTTPS.
    pub transport: Transport,
    /// Whether it serves anonymous reads only (the explorer's listener).
    pub anonymous_reads_only: bool,
}

/// Serves one gateway on every endpoint until `shutdown` completes. The
/// endpoints share everything (rate limits, the audit log, the explorer's
/// plot); one that serves anonymous reads only answers GET and HEAD without
/// signature headers, so that nothing signed crosses it and nothing changes
/// through it.
pub async fn serve(
    endpoints: Vec<Endpoint>,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_read_timeout = state.config.header_read_timeout;
    let app = router(state)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(5)));
    });
    let mut servers = Vec::new();
    for endpoint in endpoints {
        let Endpoint { listener, transport, anonymous_reads_only } = endpoint;
        listener.set_nonblocking(true)?;
        // Accepted connections inherit the listener's send buffer ([`bind`]
        // sets it before listening; this covers listeners bound elsewhere).
        socket2::SockRef::from(&listener).set_send_buffer_size(SEND_BUFFER_BYTES)?;
        let app =
            if anonymous_reads_only { app.clone().layer(middleware::from_fn(anonymous_reads)) } else { app.clone() };
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let handle = handle.clone();
        servers.push(tokio::spawn(async move {
            let timeout = header_read_timeout;
            match transport {
                // Without TCP_NODELAY a small answer written while an
                // earlier one is unacknowledged waits for the client's
                // delayed ACK (40 ms on Linux): with answers in canonical
                // bytes that was the p99 of reads under load.
                Transport::Http => {
                    let inner = axum_server::accept::NoDelayAcceptor;
                    let mut server = axum_server::from_tcp(listener)?.acceptor(FirstBytesAcceptor { inner, timeout });
                    bound_header_reads(server.http_builder(), timeout);
                    server.handle(handle).serve(app).await
                }
                Transport::Https(config) => {
                    let tls = axum_server::tls_rustls::RustlsConfig::from_config(config);
                    let inner = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                        .acceptor(axum_server::accept::NoDelayAcceptor);
                    let mut server = axum_server::from_tcp(listener)?.acceptor(FirstBytesAcceptor { inner, timeout });
                    bound_header_reads(server.http_builder(), timeout);
                    server.handle(handle).serve(app).await
                }
            }
        }));
    }
    for server in servers {
        server.await.map_err(std::io::Error::other)??;
    }
    Ok(())
}

/// The explorer listener's filter: GET and HEAD, unsigned.
async fn anonymous_reads(req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
        return ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "E_READ_ONLY_LISTENER".into(),
            message: "this listener serves the explorer: reads only; send transactions to the gateway".into(),
        }
        .into_response();
    }
    if req.headers().keys().any(|name| name.as_str().starts_with("x-billflow-")) {
        return ApiError::forbidden(
            "E_SIGNED_ON_PUBLIC_LISTENER",
            "this listener serves anonymous reads only: send signed requests to the gateway",
        )
        .into_response();
    }
    next.run(req).await
}

/// The kernel send buffer of every gateway connection (Linux doubles it for
/// bookkeeping). It bounds what a reader that stops reading holds on the
/// node: without it the buffer grows to the system's maximum (4 MiB here),
/// and a stalled supervision stream would sit on megabytes before its send
/// times out. 256 KiB still fills a LAN link with a millisecond's round trip
/// at over 200 MB/s.
pub const SEND_BUFFER_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod connection_tests;
#[cfg(test)]
mod panic_tests;

#[cfg(test)]
mod tests {
    #[test]
    fn the_explorer_listener_takes_a_browser_certificate() {
        // What browsers accept and the consortium's Ed25519 certificates are
        // not: ECDSA P-256, as an organisation's web CA issues.
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert =
            rcgen::CertificateParams::new(vec!["explorer.bank-a.example".into()]).unwrap().self_signed(&key).unwrap();
        let config = super::tls_config(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert!(super::tls_config(cert.pem().as_bytes(), b"not a key").unwrap_err().starts_with("key:"));
    }
}
