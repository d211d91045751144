//! The contract's own state: a sorted map from byte keys to byte values.
//!
//! Every contract sees only its own keys. Writes are kept only if the call
//! returns; a call that aborts, panics or traps leaves the state as it was.
//! Writing in a read-only call makes the host fail the call.

use alloc::format;
use alloc::vec::Vec;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{Error, codes, encode, sys};

/// The most entries one [`range`] returns (the host's cap).
pub const MAX_RANGE: u32 = 10_000;

/// The value under `key`, if any.
pub fn get(key: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    sys::state_get(key.as_ref())
}

/// Whether a value is stored under `key`.
pub fn exists(key: impl AsRef<[u8]>) -> bool {
    sys::state_exists(key.as_ref())
}

/// Stores `value` under `key`.
pub fn put(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
    sys::state_put(key.as_ref(), value.as_ref())
}

/// Deletes the value under `key` (nothing if there is none).
pub fn delete(key: impl AsRef<[u8]>) {
    sys::state_delete(key.as_ref())
}

/// Up to `limit` entries (at most [`MAX_RANGE`]) with keys in `[start, end)`
/// (`end = None`: to the last key), in key order.
///
/// # Panics
/// If the host's answer does not decode (it cannot, from a host of this ABI).
pub fn range(start: &[u8], end: Option<&[u8]>, limit: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    match borsh::from_slice(&sys::state_range(start, end, limit)) {
        Ok(entries) => entries,
        Err(e) => panic!("the host's state range does not decode: {e}"),
    }
}

/// The first key past every key that starts with `prefix`, the `end` for a
/// [`range`] over the prefix (`None` if there is none: the prefix is empty or
/// all `0xff`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let keep = prefix.iter().rposition(|b| *b != 0xff)?;
    let mut end = prefix[..=keep].to_vec();
    end[keep] += 1;
    Some(end)
}

/// The value under `key` decoded as `T`, if any.
///
/// # Errors
/// `E_CORRUPT_STATE` if the stored value does not decode as `T`.
pub fn get_as<T: BorshDeserialize>(key: impl AsRef<[u8]>) -> Result<Option<T>, Error> {
    let key = key.as_ref();
    match get(key) {
        None => Ok(None),
        Some(bytes) => T::try_from_slice(&bytes).map(Some).map_err(|e| {
            Error::new(codes::E_CORRUPT_STATE, format!("the value under key {} does not decode: {e}", KeyText(key)))
        }),
    }
}

/// Stores the Borsh encoding of `value` under `key`.
pub fn put_as<T: BorshSerialize + ?Sized>(key: impl AsRef<[u8]>, value: &T) {
    put(key, encode(value))
}

/// A key for messages: printable ASCII as it is, other bytes escaped.
struct KeyText<'a>(&'a [u8]);

impl core::fmt::Display for KeyText<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("\"")?;
        for b in self.0.iter().take(100) {
            write!(f, "{}", core::ascii::escape_default(*b))?;
        }
        if self.0.len() > 100 {
            f.write_str("...")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(b"s/a/"), Some(b"s/a0".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff, 0xff]), Some(alloc::vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn key_text_escapes() {
        assert_eq!(format!("{}", KeyText(b"e/\x00\xff")), "\"e/\\x00\\xff\"");
    }
}
