//! ed25519 keys as PKCS#8 PEM files.

use std::path::Path;

use billflow_types::SecretKey;
use sha2::{Digest, Sha256};

use crate::certs::CertError;

/// RFC 8410 PKCS#8 (version 1) prefix of an ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// Where keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// The operating system's random source.
    Random,
    /// Derived from a seed and each key's label (reproducible; for tests and demos).
    Seeded([u8; 32]),
}

impl KeySource {
    /// The key for `label`.
    pub fn key(&self, label: &str) -> SecretKey {
        match self {
            KeySource::Random => SecretKey::generate(),
            KeySource::Seeded(seed) => {
                let mut h = Sha256::new();
                h.update(b"billflow-genesis key\0");
                h.update(seed);
                h.update(label.as_bytes());
                SecretKey::from_seed(h.finalize().into())
            }
        }
    }
}

/// The PKCS#8 DER of `key`.
pub fn pkcs8_der(key: &SecretKey) -> Vec<u8> {
    [PKCS8_ED25519_PREFIX.as_slice(), &key.seed()].concat()
}

/// The PKCS#8 PEM of `key`.
pub fn pkcs8_pem(key: &SecretKey) -> String {
    ::pem::encode(&::pem::Pem::new("PRIVATE KEY", pkcs8_der(key)))
}

/// Reads an ed25519 key from a PKCS#8 PEM file.
pub fn read_key(path: &Path) -> Result<SecretKey, CertError> {
    let text = std::fs::read_to_string(path).map_err(|e| CertError::file(path, e))?;
    parse_key_pem(&text).map_err(|reason| CertError::Invalid { path: path.display().to_string(), reason })
}

/// Parses an ed25519 PKCS#8 PEM key.
pub fn parse_key_pem(text: &str) -> Result<SecretKey, String> {
    let block = ::pem::parse(text).map_err(|e| format!("not a PEM key: {e}"))?;
    if block.tag() != "PRIVATE KEY" {
        return Err(format!("expected a PKCS#8 PRIVATE KEY block, found {}", block.tag()));
    }
    match block.contents().strip_prefix(PKCS8_ED25519_PREFIX.as_slice()) {
        Some(seed) if seed.len() == 32 => {
            let mut s = [0u8; 32];
            s.copy_from_slice(seed);
            Ok(SecretKey::from_seed(s))
        }
        _ => Err("not an ed25519 PKCS#8 key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem() {
        let key = KeySource::Seeded([3; 32]).key("n1");
        assert_eq!(parse_key_pem(&pkcs8_pem(&key)).unwrap().public(), key.public());
        assert_eq!(KeySource::Seeded([3; 32]).key("n1").public(), key.public());
        assert_ne!(KeySource::Seeded([3; 32]).key("n2").public(), key.public());
        assert!(parse_key_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
        assert!(parse_key_pem("garbage").is_err());
    }
}
