//! ed25519 keys as PKCS#8 PEM files.

use std::path::Path;

use billflow_types::SecretKey;
use sha2::{Digest, Sha256};

use crate::certs::CertError;

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

pub use billflow_types::keyfile::{parse_key_pem, pkcs8_der, pkcs8_pem};

/// Reads an ed25519 key from a PKCS#8 PEM file.
pub fn read_key(path: &Path) -> Result<SecretKey, CertError> {
    let text = std::fs::read_to_string(path).map_err(|e| CertError::file(path, e))?;
    parse_key_pem(&text).map_err(|reason| CertError::Invalid { path: path.display().to_string(), reason })
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
