//! Peer ids from consortium certificates.

use billflow_types::PublicKey;
use libp2p::PeerId;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The libp2p peer id of a node key.
pub fn peer_id_of_key(key: &PublicKey) -> Result<PeerId, String> {
    let ed = libp2p::identity::ed25519::PublicKey::try_from_bytes(&key.0)
        .map_err(|e| format!("invalid ed25519 key: {e}"))?;
    Ok(libp2p::identity::PublicKey::from(ed).to_peer_id())
}

/// The ed25519 key a DER certificate holds.
pub fn cert_key(der: &[u8]) -> Result<PublicKey, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != "1.3.101.112" {
        return Err("the certificate key is not ed25519".into());
    }
    let raw: [u8; 32] =
        spki.subject_public_key.data.as_ref().try_into().map_err(|_| "the ed25519 key is not 32 bytes".to_string())?;
    Ok(PublicKey(raw))
}

/// The peer id of the node a DER certificate belongs to.
pub fn peer_id_of_cert(der: &[u8]) -> Result<PeerId, String> {
    peer_id_of_key(&cert_key(der)?)
}

#[cfg(test)]
mod tests {
    use billflow_types::SecretKey;

    use super::*;

    #[test]
    fn the_ledger_and_libp2p_agree_on_peer_ids() {
        for seed in 0..20u8 {
            let key = SecretKey::from_seed([seed; 32]).public();
            assert_eq!(peer_id_of_key(&key).unwrap().to_string(), key.peer_id());
        }
    }
}
