//! ed25519 keys and signatures.
//!
//! Single signatures are checked with `verify_strict` (no weak keys, canonical
//! `S`). Blocks check many signatures at once with batch verification and fall
//! back to one-by-one strict checks only to find which signature failed; the
//! gateway checks every transaction strictly before it can reach a block, so an
//! honest proposer never puts a signature into a block that the two paths judge
//! differently.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, RwLock};

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::Domain;

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The 32 bytes are not a usable ed25519 public key (not a curve point, or of small order).
    #[error("invalid or weak ed25519 public key")]
    InvalidKey,
    /// The signature does not verify under the key.
    #[error("signature does not verify")]
    BadSignature,
    /// A batch failed; these positions hold the signatures that do not verify.
    #[error("{} signature(s) in the batch do not verify", .0.len())]
    BatchFailed(Vec<usize>),
}

/// Keys already turned into curve points and found usable, by their bytes.
/// One key signs many transactions, and turning its 32 bytes into a point (a
/// square root in the field) and checking its order costs about a sixth of a
/// signature check. Only usable keys are kept; emptied when full.
static CHECKED_KEYS: LazyLock<RwLock<HashMap<[u8; 32], VerifyingKey>>> = LazyLock::new(Default::default);
const CHECKED_KEYS_MAX: usize = 4096;

/// An ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Signature(pub [u8; 64]);

impl PublicKey {
    fn verifying_key(&self) -> Result<VerifyingKey, SignatureError> {
        let checked = || CHECKED_KEYS.read().unwrap_or_else(|e| e.into_inner()).get(&self.0).copied();
        if let Some(key) = checked() {
            return Ok(key);
        }
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::InvalidKey)?;
        if key.is_weak() {
            return Err(SignatureError::InvalidKey);
        }
        let mut keys = CHECKED_KEYS.write().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= CHECKED_KEYS_MAX {
            keys.clear();
        }
        keys.insert(self.0, key);
        Ok(key)
    }

    /// Checks that the key is a valid, non-weak ed25519 key.
    pub fn validate(&self) -> Result<(), SignatureError> {
        self.verifying_key().map(|_| ())
    }

    /// Verifies `signature` over `message` signed in `domain`.
    pub fn verify(&self, domain: Domain, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let key = self.verifying_key()?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(&domain_message(domain, message), &sig).map_err(|_| SignatureError::BadSignature)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The libp2p peer id of a node holding this key: base58 of the identity
    /// multihash of the protobuf-encoded ed25519 public key.
    pub fn peer_id(&self) -> String {
        // protobuf PublicKey { Type = Ed25519 (1), Data = 32 bytes }, inside multihash identity (0x00, length 36).
        let mut bytes = vec![0x00, 36, 0x08, 0x01, 0x12, 32];
        bytes.extend_from_slice(&self.0);
        bs58::encode(bytes).into_string()
    }

    /// Parses 64 hex digits (the key is not validated; see [`PublicKey::validate`]).
    pub fn from_hex(s: &str) -> Result<PublicKey, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(PublicKey(out))
    }
}

impl Signature {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 128 hex digits.
    pub fn from_hex(s: &str) -> Result<Signature, hex::FromHexError> {
        let mut out = [0u8; 64];
        hex::decode_to_slice(s, &mut out)?;
        Ok(Signature(out))
    }
}

fn domain_message(domain: Domain, message: &[u8]) -> Vec<u8> {
    let mut out = domain.prefix();
    out.extend_from_slice(message);
    out
}

/// One signature to check in a batch.
#[derive(Debug, Clone, Copy)]
pub struct SignedMessage<'a> {
    /// The signer's key.
    pub key: &'a PublicKey,
    /// The domain the message was signed in.
    pub domain: Domain,
    /// The message (without the domain prefix).
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
}

/// Verifies all `items`; on failure names every position that does not verify.
pub fn verify_batch(items: &[SignedMessage<'_>]) -> Result<(), SignatureError> {
    if items.is_empty() {
        return Ok(());
    }
    // A batch of one costs more than a plain check (random coefficients, a
    // multiscalar multiplication): blocks of one transaction are common.
    if let [one] = items {
        return one
            .key
            .verify(one.domain, one.message, one.signature)
            .map_err(|_| SignatureError::BatchFailed(vec![0]));
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.key.verifying_key() {
            Ok(k) => keys.push(k),
            Err(_) => bad.push(i),
        }
    }
    if bad.is_empty() {
        let messages: Vec<Vec<u8>> = items.iter().map(|i| domain_message(i.domain, i.message)).collect();
        let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let sigs: Vec<ed25519_dalek::Signature> =
            items.iter().map(|i| ed25519_dalek::Signature::from_bytes(&i.signature.0)).collect();
        if ed25519_dalek::verify_batch(&message_refs, &sigs, &keys).is_ok() {
            return Ok(());
        }
    }
    let bad: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.key.verify(i.domain, i.message, i.signature).is_err())
        .map(|(n, _)| n)
        .collect();
    if bad.is_empty() { Ok(()) } else { Err(SignatureError::BatchFailed(bad)) }
}

/// An ed25519 signing key. Its `Debug` form never shows the secret.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> SecretKey {
        let mut seed = [0u8; 32];
        // Without an OS random source no key can be made safely; there is nothing to fall back to.
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut seed).expect("operating system random source");
        SecretKey::from_seed(seed)
    }

    /// The key whose 32-byte seed is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from_bytes(&seed))
    }

    /// The 32-byte seed (keep it secret).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` in `domain`.
    pub fn sign(&self, domain: Domain, message: &[u8]) -> Signature {
        Signature(self.0.sign(&domain_message(domain, message)).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public().to_hex())
    }
}

macro_rules! hex_serde {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as Deserialize>::deserialize(d)?;
                <$t>::from_hex(&s).map_err(|e| serde::de::Error::custom(format!(concat!("invalid ", $what, ": {}"), e)))
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self.to_hex())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

hex_serde!(PublicKey, "public key");
hex_serde!(Signature, "signature");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_domain_separation() {
        let k = SecretKey::from_seed([7; 32]);
        let sig = k.sign(Domain::TxSignature, b"hello");
        assert_eq!(k.public().verify(Domain::TxSignature, b"hello", &sig), Ok(()));
        assert_eq!(k.public().verify(Domain::TxSignature, b"hellp", &sig), Err(SignatureError::BadSignature));
        assert_eq!(k.public().verify(Domain::BlockHeader, b"hello", &sig), Err(SignatureError::BadSignature));
    }

    #[test]
    fn keys_checked_before_give_the_same_verdicts_and_unusable_ones_stay_refused() {
        let k = SecretKey::from_seed([9; 32]);
        let sig = k.sign(Domain::TxSignature, b"again");
        for _ in 0..3 {
            assert_eq!(k.public().verify(Domain::TxSignature, b"again", &sig), Ok(()));
            assert_eq!(k.public().verify(Domain::TxSignature, b"agaim", &sig), Err(SignatureError::BadSignature));
        }
        assert!(CHECKED_KEYS.read().unwrap().contains_key(&k.public().0));
        // The identity point (small order) and bytes that are no point at all.
        let weak = PublicKey({
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        });
        let no_point = (2u8..)
            .map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                PublicKey(b)
            })
            .find(|k| VerifyingKey::from_bytes(&k.0).is_err())
            .unwrap();
        for _ in 0..3 {
            assert_eq!(weak.validate(), Err(SignatureError::InvalidKey));
            assert_eq!(no_point.validate(), Err(SignatureError::InvalidKey));
        }
        assert!(!CHECKED_KEYS.read().unwrap().contains_key(&weak.0), "an unusable key is never kept");
    }

    #[test]
    fn batch_names_the_bad_positions() {
        let keys: Vec<SecretKey> = (0..5u8).map(|i| SecretKey::from_seed([i + 1; 32])).collect();
        let pubs: Vec<PublicKey> = keys.iter().map(SecretKey::public).collect();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(Domain::Tx, m)).collect();
        let items = |sigs: &[Signature]| -> Result<(), SignatureError> {
            let batch: Vec<SignedMessage<'_>> = (0..5)
                .map(|i| SignedMessage { key: &pubs[i], domain: Domain::Tx, message: &msgs[i], signature: &sigs[i] })
                .collect();
            verify_batch(&batch)
        };
        assert_eq!(items(&sigs), Ok(()));
        sigs[1].0[3] ^= 0x40;
        sigs[4] = sigs[0];
        assert_eq!(items(&sigs), Err(SignatureError::BatchFailed(vec![1, 4])));
        // A batch of one is checked on its own, with the same answers.
        let one = |i: usize| {
            verify_batch(&[SignedMessage { key: &pubs[i], domain: Domain::Tx, message: &msgs[i], signature: &sigs[i] }])
        };
        assert_eq!(one(0), Ok(()));
        assert_eq!(one(1), Err(SignatureError::BatchFailed(vec![0])));
        assert_eq!(one(4), Err(SignatureError::BatchFailed(vec![0])));
    }

    /// A signature no honest signer makes: `R = rB + T` with `T` a point of
    /// order 8, and `s = r + k·a`. It fails the strict check on its own.
    fn crafted(a: u64, message: &[u8]) -> (PublicKey, Signature) {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
        use curve25519_dalek::scalar::Scalar;
        use sha2::Digest;
        let (a, r) = (Scalar::from(a), Scalar::from(0x5eed_u64));
        let key = (a * B).compress().to_bytes();
        let big_r = (r * B + EIGHT_TORSION[1]).compress().to_bytes();
        let hash = sha2::Sha512::new()
            .chain_update(big_r)
            .chain_update(key)
            .chain_update(domain_message(Domain::TxSignature, message))
            .finalize();
        let k = Scalar::from_bytes_mod_order_wide(&hash.into());
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(&(r + k * a).to_bytes());
        (PublicKey(key), Signature(sig))
    }

    #[test]
    fn a_crafted_signature_fails_alone_and_passes_in_some_batches() {
        let honest = SecretKey::from_seed([3; 32]);
        let mut passed_in_a_batch = 0;
        for n in 0u32..64 {
            let message = n.to_le_bytes();
            let (key, sig) = crafted(0x1234_5678, &message);
            let alone = [SignedMessage { key: &key, domain: Domain::TxSignature, message: &message, signature: &sig }];
            assert_eq!(verify_batch(&alone), Err(SignatureError::BatchFailed(vec![0])), "fails on its own");
            let other = b"an honest transaction";
            let signed = honest.sign(Domain::TxSignature, other);
            let public = honest.public();
            let pair = [
                alone[0],
                SignedMessage { key: &public, domain: Domain::TxSignature, message: other, signature: &signed },
            ];
            if verify_batch(&pair).is_ok() {
                passed_in_a_batch += 1;
            }
        }
        // About one batch in eight: its coefficient for the crafted signature
        // is a multiple of 8 and the torsion point drops out. Which batches
        // depends on everything in them: a block's verdict may only come from
        // the batch every node forms from it.
        assert!(passed_in_a_batch > 0, "no batch passed it");
        assert!(passed_in_a_batch < 64, "every batch passed it");
    }

    #[test]
    fn weak_and_invalid_keys_are_refused() {
        // The identity point is of small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey(identity).validate(), Err(SignatureError::InvalidKey));
        assert!(SecretKey::generate().public().validate().is_ok());
    }

    #[test]
    fn debug_hides_the_secret() {
        let k = SecretKey::from_seed([9; 32]);
        assert!(!format!("{k:?}").contains(&hex::encode([9u8; 32])));
    }
}
