//! The canonical binary encoding: the one byte form of anything that is signed,
//! hashed, stored or replicated.
//!
//! It is [Borsh](https://borsh.io): little-endian fixed-width integers, `u32`
//! length prefixes for strings, byte strings and sequences, a one-byte tag for
//! enum variants and `Option`, fields in declaration order, no padding and no
//! self-description. Borsh has exactly one encoding per value, and decoding is
//! strict: trailing bytes, invalid UTF-8, bool bytes other than 0/1 and unknown
//! tags are errors. docs/encoding.md describes the layout of every type.

use borsh::{BorshDeserialize, BorshSerialize};

/// A decoding failure: the bytes are not the canonical encoding of `type_name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("cannot decode {type_name}: {reason}")]
pub struct DecodeError {
    /// The Rust type that was expected.
    pub type_name: String,
    /// What was wrong with the bytes.
    pub reason: String,
}

/// Types with a canonical binary encoding.
pub trait Canonical: BorshSerialize + BorshDeserialize + Sized {
    /// The canonical bytes of `self`.
    fn encode(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decodes canonical bytes, refusing trailing bytes.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        borsh::from_slice(bytes)
            .map_err(|e| DecodeError { type_name: std::any::type_name::<Self>().to_string(), reason: e.to_string() })
    }
}

impl<T: BorshSerialize + BorshDeserialize> Canonical for T {}

/// The canonical bytes of any encodable value, slices included.
pub fn to_canonical<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; the only other failure, a sequence longer
    // than u32::MAX, is ruled out by the size limits on every input.
    #[allow(clippy::expect_used)]
    value.serialize(&mut out).expect("canonical encoding into memory");
    out
}
