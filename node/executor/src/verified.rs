//! Signatures this node checked when it admitted transactions, so that
//! applying their block does not check them again.
//!
//! An entry is a transaction's hash (over its signed encoding, signature
//! included) with the public key it verified under: the same transaction
//! under the same key verifies the same way wherever it is checked, so a
//! block may take the earlier answer. Only successes are kept, each is used
//! once, and the oldest go first when the set is full.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use billflow_types::{Hash32, PublicKey};

/// How many admitted signatures are remembered: well above what a mempool
/// holds between admission and apply.
const CAPACITY: usize = 1 << 16;

#[derive(Debug, Default)]
pub(crate) struct Verified {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    set: HashSet<(Hash32, PublicKey)>,
    /// Insertion order, for eviction; may still name entries already taken.
    order: VecDeque<(Hash32, PublicKey)>,
}

impl Verified {
    /// Remembers that the transaction with `tx_hash` verified under `key`.
    pub(crate) fn remember(&self, tx_hash: Hash32, key: PublicKey) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !inner.set.insert((tx_hash, key)) {
            return;
        }
        if inner.order.len() == CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.set.remove(&old);
            }
        }
        inner.order.push_back((tx_hash, key));
    }

    /// Whether the transaction with `tx_hash` was verified under `key`; forgets it.
    pub(crate) fn take(&self, tx_hash: &Hash32, key: &PublicKey) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.set.remove(&(*tx_hash, *key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_once_and_the_oldest_go_first() {
        let v = Verified::default();
        let (a, k) = (Hash32([1; 32]), PublicKey([7; 32]));
        v.remember(a, k);
        assert!(!v.take(&a, &PublicKey([8; 32])), "another key is another check");
        assert!(v.take(&a, &k));
        assert!(!v.take(&a, &k), "used once");
        for n in 0..=CAPACITY as u32 {
            let mut h = [0; 32];
            h[..4].copy_from_slice(&n.to_le_bytes());
            v.remember(Hash32(h), k);
        }
        assert!(!v.take(&Hash32([0; 32]), &k), "the oldest was evicted");
        let mut last = [0; 32];
        last[..4].copy_from_slice(&(CAPACITY as u32).to_le_bytes());
        assert!(v.take(&Hash32(last), &k));
    }
}
