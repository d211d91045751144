//! The regulators' supervision stream from the client's side: a WebSocket
//! opened with a signed request, trusting only the consortium CA, yielding
//! every committed event and risk alert with its cursor.

use std::sync::Arc;

use billflow_types::request::{
    HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, request_message, sign_request,
};
use billflow_types::view::{ErrorBody, StreamEvent};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::client::{nonce, supervision_query};
use crate::{Client, Result, SdkError, now_ms};

/// An open supervision stream.
pub struct Supervision {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// The cursor of the last event received: reconnect from it.
    pub last: Option<String>,
}

/// A TLS configuration that trusts only the consortium CA in `pem`.
fn tls(pem: &[u8]) -> Result<rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| SdkError::Invalid(format!("the CA certificate is not PEM: {e}")))?;
        roots.add(cert).map_err(|e| SdkError::Invalid(format!("the CA certificate is unusable: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| SdkError::Invalid(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Client {
    /// Opens the supervision stream (regulators' keys only) after cursor
    /// `from` (without it, from the next block), for topics starting with
    /// one of `types` (all if empty) and events naming `participant`.
    pub async fn supervise(
        &self,
        from: Option<&str>,
        types: &[&str],
        participant: Option<&str>,
    ) -> Result<Supervision> {
        let signer =
            self.signer().ok_or_else(|| SdkError::Invalid("the supervision stream needs a regulator's key".into()))?;
        let query = supervision_query(from, types, participant);
        let path = "/v1/supervision/stream";
        let base = self.node().replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
        let url = if query.is_empty() { format!("{base}{path}") } else { format!("{base}{path}?{query}") };
        let mut request = url.into_client_request().map_err(|e| SdkError::Invalid(e.to_string()))?;
        let at = now_ms();
        let nonce = nonce()?;
        let message = request_message("GET", path, &query, at, &nonce, b"");
        let header = |v: &str| HeaderValue::from_str(v).map_err(|e| SdkError::Invalid(e.to_string()));
        let headers = request.headers_mut();
        headers.insert(HEADER_KEY, header(signer.key_id.as_str())?);
        headers.insert(HEADER_TIMESTAMP, header(&at.to_string())?);
        headers.insert(HEADER_NONCE, header(&nonce)?);
        headers.insert(HEADER_SIGNATURE, header(&sign_request(&signer.secret, &message))?);
        let connector = self.ca().map(tls).transpose()?.map(|c| Connector::Rustls(Arc::new(c)));
        match tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector).await {
            Ok((socket, _)) => Ok(Supervision { socket, last: from.map(str::to_string) }),
            Err(WsError::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().clone().unwrap_or_default();
                Err(match serde_json::from_slice::<ErrorBody>(&body) {
                    Ok(e) => SdkError::Api { status, code: e.code, message: e.message, request_id: e.request_id },
                    Err(_) => SdkError::Api {
                        status,
                        code: "E_HTTP".into(),
                        message: String::from_utf8_lossy(&body).chars().take(200).collect(),
                        request_id: None,
                    },
                })
            }
            Err(e) => Err(SdkError::Stream(e.to_string())),
        }
    }
}

impl Supervision {
    /// The next event; `None` when the node closed the stream normally. A
    /// node that closes a slow reader says so in an `SdkError::Stream` naming
    /// the cursor to reconnect from.
    pub async fn next(&mut self) -> Option<Result<StreamEvent>> {
        loop {
            let frame = match self.socket.next().await? {
                Ok(frame) => frame,
                Err(e) => return Some(Err(SdkError::Stream(e.to_string()))),
            };
            match frame {
                Message::Text(text) => {
                    let event = serde_json::from_str::<StreamEvent>(&text)
                        .map_err(|e| SdkError::Invalid(format!("a stream frame does not parse: {e}")));
                    if let Ok(e) = &event {
                        self.last = Some(e.cursor.clone());
                    }
                    return Some(event);
                }
                Message::Close(Some(close)) if close.code != CloseCode::Normal => {
                    return Some(Err(SdkError::Stream(format!("closed by the node: {}", close.reason))));
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }
}
