//! Signed gateway requests: how a client proves who sends a request, and that
//! it is fresh.
//!
//! Every authenticated request carries four headers: the registered key id
//! ([`HEADER_KEY`]), the client's time in ms since the Unix epoch
//! ([`HEADER_TIMESTAMP`]), a nonce never used before with this key
//! ([`HEADER_NONCE`], 16 to 64 characters of `[A-Za-z0-9_-]`), and the ed25519
//! signature, in hex ([`HEADER_SIGNATURE`]), of [`request_message`] in the
//! [`Domain::ApiRequest`] domain. The gateway refuses a request whose time is
//! more than [`MAX_CLOCK_SKEW_MS`] away from its own clock, and a nonce it has
//! seen within that window.

use sha2::{Digest, Sha256};

use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::hash::Domain;

/// The signing key's id.
pub const HEADER_KEY: &str = "x-billflow-key";
/// The client's time, ms since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "x-billflow-timestamp";
/// A fresh nonce.
pub const HEADER_NONCE: &str = "x-billflow-nonce";
/// The signature, in hex.
pub const HEADER_SIGNATURE: &str = "x-billflow-signature";
/// A session token (`POST /v1/sessions`), sent instead of the four signature
/// headers by the client that opened the session, from the same address.
pub const HEADER_SESSION: &str = "x-billflow-session";
/// The request id the gateway answers with (and takes from the client if it sends a valid one).
pub const HEADER_REQUEST_ID: &str = "x-request-id";
/// How far a request's time may be from the gateway's clock.
pub const MAX_CLOCK_SKEW_MS: u64 = 300_000;

/// What a request signature covers: method, path, query (as sent, without
/// `?`), time, nonce and the SHA-256 of the body, one per line.
pub fn request_message(method: &str, path: &str, query: &str, timestamp_ms: u64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let body_hash = hex::encode(Sha256::digest(body));
    format!("{}\n{path}\n{query}\n{timestamp_ms}\n{nonce}\n{body_hash}", method.to_ascii_uppercase()).into_bytes()
}

/// Whether `nonce` has the allowed form.
pub fn valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Signs a request: the value of [`HEADER_SIGNATURE`].
pub fn sign_request(key: &SecretKey, message: &[u8]) -> String {
    key.sign(Domain::ApiRequest, message).to_hex()
}

/// Checks a request signature (hex) against `key`.
pub fn verify_request(key: &PublicKey, message: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = Signature::from_hex(signature_hex) else { return false };
    key.verify(Domain::ApiRequest, message, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of docs/api.md ("Signed requests"), which a client in
    /// another language can check its signer against byte for byte.
    #[test]
    fn the_worked_example_of_the_api_docs_holds() {
        let key = SecretKey::from_seed([3; 32]);
        assert_eq!(key.public().to_hex(), "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1");
        let msg = request_message("GET", "/v1/blocks", "limit=2", 1_767_225_600_000, "nonce-0123456789ab", b"");
        let expected = "GET\n/v1/blocks\nlimit=2\n1767225600000\nnonce-0123456789ab\n\
                        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(String::from_utf8(msg.clone()).unwrap(), expected);
        assert_eq!(
            sign_request(&key, &msg),
            "8d886c99aaff09043d098405d40ac037732ce6d62593d177a14cb974e1e3e56c\
             9fd90bca3261d8f2e8ff3b82cedaf534e8da450d080bc27a8ccf404567290a0b"
        );
    }

    #[test]
    fn a_signature_covers_every_part_of_the_request() {
        let key = SecretKey::from_seed([3; 32]);
        let msg = request_message("post", "/v1/transactions", "wait=true", 1_000, "nonce-0123456789ab", b"{}");
        let sig = sign_request(&key, &msg);
        assert!(verify_request(&key.public(), &msg, &sig));
        for other in [
            request_message("GET", "/v1/transactions", "wait=true", 1_000, "nonce-0123456789ab", b"{}"),
            request_message("POST", "/v1/transaction", "wait=true", 1_000, "nonce-0123456789ab", b"{}"),
            request_message("POST", "/v1/transactions", "wait=false", 1_000, "nonce-0123456789ab", b"{}"),
            request_message("POST", "/v1/transactions", "wait=true", 1_001, "nonce-0123456789ab", b"{}"),
            request_message("POST", "/v1/transactions", "wait=true", 1_000, "nonce-0123456789ac", b"{}"),
            request_message("POST", "/v1/transactions", "wait=true", 1_000, "nonce-0123456789ab", b"{ }"),
        ] {
            assert!(!verify_request(&key.public(), &other, &sig));
        }
        assert!(!verify_request(&key.public(), &msg, "zz"));
        assert!(!verify_request(&SecretKey::from_seed([4; 32]).public(), &msg, &sig));
        assert!(valid_nonce("0123456789abcdef") && !valid_nonce("short") && !valid_nonce("has space 0123456789"));
    }
}
