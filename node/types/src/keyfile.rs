//! ed25519 keys as PKCS#8 PEM text (RFC 8410): how keys are kept in files.

use crate::crypto::SecretKey;

/// RFC 8410 PKCS#8 (version 1) prefix of an ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// The PKCS#8 DER of `key`.
pub fn pkcs8_der(key: &SecretKey) -> Vec<u8> {
    [PKCS8_ED25519_PREFIX.as_slice(), &key.seed()].concat()
}

/// The PKCS#8 PEM of `key`.
pub fn pkcs8_pem(key: &SecretKey) -> String {
    ::pem::encode(&::pem::Pem::new("PRIVATE KEY", pkcs8_der(key)))
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
