//! Signatures this node checked when it admitted transactions, or as a
//! block's batch before its turn to apply, so that applying the block does
//! not check them again.
//!
//! An entry is a transaction's hash (over its signed encoding, signature
//! included) with the public key it verified under: the same transaction
//! under the same key verifies the same way wherever it is checked, so a
//! block may take the earlier answer. Only successes are kept, each is used
//! once, and the oldest go first when the set is full.

use std::collections::{HashSet, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

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

    /// Whether the transaction with `tx_hash` was verified under `key`.
    pub(crate) fn contains(&self, tx_hash: &Hash32, key: &PublicKey) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.set.contains(&(*tx_hash, *key))
    }
}

/// A block's signatures as one batch: each transaction's hash and the key it
/// is checked under, in the block's order.
pub(crate) type Batch = Vec<(Hash32, PublicKey)>;

/// How many checked batches are remembered: a follower is handed a block a
/// round before it applies it, and seldom more than a few rounds behind.
const BATCHES: usize = 64;

/// How long applying a block waits for the check of its batch that is under
/// way: a batch of thousands takes tens of milliseconds. Past it, the block
/// checks for itself.
const CHECK_WAIT: Duration = Duration::from_secs(2);

/// Batches checked, or being checked, before their block's turn to apply.
#[derive(Debug, Default)]
pub(crate) struct CheckedBatches {
    inner: Mutex<VecDeque<(Batch, Option<bool>)>>,
    done: Condvar,
}

impl CheckedBatches {
    /// Notes that `batch` is being checked.
    pub(crate) fn begin(&self, batch: Batch) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.len() == BATCHES {
            inner.pop_front();
        }
        inner.push_back((batch, None));
    }

    /// Records whether `batch` verified whole.
    pub(crate) fn finish(&self, batch: &[(Hash32, PublicKey)], verified: bool) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = inner.iter_mut().find(|(b, v)| v.is_none() && b.as_slice() == batch) {
            entry.1 = Some(verified);
        }
        drop(inner);
        self.done.notify_all();
    }

    /// Whether `batch`, exactly, verified whole; waits for a check under way
    /// (at most [`CHECK_WAIT`]), and forgets it.
    pub(crate) fn take(&self, batch: &[(Hash32, PublicKey)]) -> bool {
        let deadline = Instant::now() + CHECK_WAIT;
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let Some(i) = inner.iter().position(|(b, _)| b.as_slice() == batch) else { return false };
            if let Some(verified) = inner[i].1 {
                inner.remove(i);
                return verified;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                inner.remove(i);
                return false;
            }
            inner = self.done.wait_timeout(inner, left).unwrap_or_else(|p| p.into_inner()).0;
        }
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

    #[test]
    fn a_batch_is_taken_only_whole_in_its_order_and_once() {
        let b = CheckedBatches::default();
        let (x, y) = ((Hash32([1; 32]), PublicKey([7; 32])), (Hash32([2; 32]), PublicKey([7; 32])));
        b.begin(vec![x, y]);
        b.finish(&[x, y], true);
        assert!(!b.take(&[x]), "a part of it");
        assert!(!b.take(&[y, x]), "another order");
        assert!(b.take(&[x, y]));
        assert!(!b.take(&[x, y]), "used once");
        b.begin(vec![y]);
        b.finish(&[y], false);
        assert!(!b.take(&[y]), "a batch that failed");
        for n in 0..=BATCHES as u8 {
            b.begin(vec![(Hash32([n; 32]), PublicKey([7; 32]))]);
            b.finish(&[(Hash32([n; 32]), PublicKey([7; 32]))], true);
        }
        assert!(!b.take(&[(Hash32([0; 32]), PublicKey([7; 32]))]), "the oldest was evicted");
        assert!(b.take(&[(Hash32([BATCHES as u8; 32]), PublicKey([7; 32]))]));
    }

    #[test]
    fn taking_a_batch_waits_for_its_check_under_way() {
        let b = std::sync::Arc::new(CheckedBatches::default());
        let x = (Hash32([1; 32]), PublicKey([7; 32]));
        b.begin(vec![x]);
        let checker = {
            let b = b.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                b.finish(&[x], true);
            })
        };
        assert!(b.take(&[x]), "the answer of the check it waited for");
        checker.join().unwrap();
    }
}
