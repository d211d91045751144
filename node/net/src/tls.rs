//! The security upgrade: TLS 1.3 with mutual authentication against the
//! consortium CA, in place of libp2p's self-signed TLS.
//!
//! Each organisation has its own CA. Both sides present a certificate; each
//! side checks the other's chain to one of the organisations' roots, the
//! validity period, the extended key usage (client or server auth), that the
//! key is ed25519, that the node the key identifies is admitted (a current
//! member, not revoked), and that the certificate was issued by the CA of the
//! organisation that runs that node: one organisation's CA cannot admit
//! another's node. The peer id is
//! derived from the certificate's key, so it cannot be claimed without that key.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{AsyncRead, AsyncWrite, FutureExt};
use futures_rustls::TlsStream;

pub use crate::coalesce::Coalesced;
use libp2p::PeerId;
use libp2p::core::UpgradeInfo;
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::admission::{Admission, Refusal};
use crate::identity::peer_id_of_cert;

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The TLS handshake failed (including every certificate refusal).
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    /// The peer's certificate could not be read after the handshake.
    #[error("peer certificate: {0}")]
    Certificate(String),
}

/// The configuration of both sides of the handshake.
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn rustls_err(e: impl std::fmt::Display) -> rustls::Error {
    rustls::Error::General(e.to_string())
}

impl TlsConfig {
    /// Builds the configuration for a node with `cert_der` and the PKCS#8 key
    /// `key_pkcs8`, admitting peers per `admission`: its members, each with a
    /// certificate of its own organisation's CA (which the admission list
    /// holds, and the ledger can change).
    pub fn new(cert_der: &[u8], key_pkcs8: &[u8], admission: Admission) -> Result<TlsConfig, rustls::Error> {
        let chain = vec![CertificateDer::from(cert_der.to_vec())];
        let key = || PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8.to_vec()));
        let verifier = Arc::new(AdmittingVerifier { admission, provider: provider() });
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(chain.clone(), key())?;
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(chain, key())?;
        let (mut server, mut client) = (server, client);
        server.alpn_protocols = vec![b"libp2p".to_vec()];
        client.alpn_protocols = vec![b"libp2p".to_vec()];
        // No session resumption: a resumed session skips certificate checks, and
        // every connection must be checked against the current admission list.
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        client.resumption = rustls::client::Resumption::disabled();
        Ok(TlsConfig { server: Arc::new(server), client: Arc::new(client) })
    }
}

/// Checks the chain with webpki, then admission.
struct AdmittingVerifier {
    admission: Admission,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for AdmittingVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmittingVerifier").finish_non_exhaustive()
    }
}

impl AdmittingVerifier {
    /// TLS 1.3 handshake signatures, checked alike on both sides.
    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    /// Admission, and the issuer: the CA of the organisation running the node.
    fn admit(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let peer = peer_id_of_cert(end_entity).map_err(rustls_err)?;
        let (node, org) = self.admission.member(&peer).map_err(rustls_err)?;
        let foreign = |reason: String| rustls_err(Refusal::ForeignCa { node: node.clone(), org: org.clone(), reason });
        let roots = self.admission.ca_of(&org).ok_or_else(|| foreign("the ledger holds no CA for it".into()))?;
        let cert = ParsedCertificate::try_from(end_entity)?;
        // Node certificates carry both serverAuth and clientAuth: the same
        // check serves both ends of the connection.
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )
        .map_err(|e| foreign(e.to_string()))?;
        self.admission.checked(peer);
        Ok(())
    }
}

impl ServerCertVerifier for AdmittingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The peer is identified by its key, not by a host name.
        self.admit(end_entity, intermediates, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for AdmittingVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // Which CA a peer's certificate must come from depends on who the peer is.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.admit(end_entity, intermediates, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl UpgradeInfo for TlsConfig {
    type Info = &'static str;
    type InfoIter = std::iter::Once<Self::Info>;

    fn protocol_info(&self) -> Self::InfoIter {
        // The libp2p TLS protocol id, so that a plain libp2p peer reaches the
        // handshake and is refused there, on its certificate.
        std::iter::once("/tls/1.0.0")
    }
}

fn peer_of(state: &rustls::CommonState) -> Result<PeerId, TlsError> {
    match state.peer_certificates() {
        Some([cert]) => peer_id_of_cert(cert).map_err(TlsError::Certificate),
        _ => Err(TlsError::Certificate("the peer must present exactly one certificate".into())),
    }
}

impl<C> InboundConnectionUpgrade<C> for TlsConfig
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = (PeerId, Coalesced<TlsStream<C>>);
    type Error = TlsError;
    type Future = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, socket: C, _: Self::Info) -> Self::Future {
        async move {
            let stream =
                futures_rustls::TlsAcceptor::from(self.server).accept(socket).await.map_err(TlsError::Handshake)?;
            let peer = peer_of(stream.get_ref().1)?;
            Ok((peer, Coalesced::new(stream.into())))
        }
        .boxed()
    }
}

impl<C> OutboundConnectionUpgrade<C> for TlsConfig
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = (PeerId, Coalesced<TlsStream<C>>);
    type Error = TlsError;
    type Future = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn upgrade_outbound(self, socket: C, _: Self::Info) -> Self::Future {
        async move {
            // No SNI: peers are identified by certificate key, not name.
            let name = ServerName::IpAddress(rustls::pki_types::IpAddr::from(std::net::IpAddr::V4(
                std::net::Ipv4Addr::UNSPECIFIED,
            )));
            let stream = futures_rustls::TlsConnector::from(self.client)
                .connect(name, socket)
                .await
                .map_err(TlsError::Handshake)?;
            let peer = peer_of(stream.get_ref().1)?;
            Ok((peer, Coalesced::new(stream.into())))
        }
        .boxed()
    }
}
