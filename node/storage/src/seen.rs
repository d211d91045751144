//! [`SeenIds`]: the transaction ids sled's index holds, as a Bloom filter in
//! memory.
//!
//! Nearly every transaction id looked up is one never recorded: each new
//! transaction is looked up at admission and on every node as its block
//! executes, to refuse a duplicate. In sled each such miss is a walk down the
//! tree to the leaf where the key would be, and with ids spread at random
//! those leaves are seldom cached: a read from the index files, a copy of the
//! page, a binary search. The filter answers "never recorded" for nearly all
//! of them with no read. It can err only one way: a "maybe" (every id
//! recorded, and about one in a hundred others) is looked up in sled as
//! before, so what the store answers never changes.
//!
//! Every id is added before the batch that indexes it is applied. The ids
//! already indexed are read into the filter by a thread of its own after the
//! store opens; until it is done the filter answers "maybe" to everything.
//! Ids are hashed with keys drawn at random for each process, so that nobody
//! can choose ids that all fall on the same bits.

use std::hash::{BuildHasher, RandomState};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bits per id a layer is sized for: about 0.8 % false "maybe"s at 7 probes.
const BITS_PER_ID: usize = 10;
const PROBES: u64 = 7;
/// The ids the first layer holds.
const FIRST_LAYER: usize = 1 << 16;

/// One Bloom filter of a fixed size; the filter adds a layer twice as large
/// when the last one is full.
struct Layer {
    words: Vec<u64>,
    /// The number of bits less one (a power of two less one).
    mask: u64,
    capacity: usize,
    len: usize,
}

impl Layer {
    fn new(capacity: usize) -> Layer {
        let bits = (capacity * BITS_PER_ID).next_power_of_two().max(64);
        Layer { words: vec![0; bits / 64], mask: bits as u64 - 1, capacity, len: 0 }
    }

    fn insert(&mut self, hash: u64) {
        for (word, bit) in probes(self.mask, hash) {
            self.words[word] |= bit;
        }
        self.len += 1;
    }

    fn may_contain(&self, hash: u64) -> bool {
        probes(self.mask, hash).all(|(word, bit)| self.words[word] & bit != 0)
    }
}

/// The word and bit of each probe of `hash` in a layer of `mask + 1` bits.
/// Double hashing: the i-th probe is h1 + i·h2, h2 odd so that one id's
/// probes never repeat a bit within a power-of-two size.
fn probes(mask: u64, hash: u64) -> impl Iterator<Item = (usize, u64)> {
    let (h1, h2) = (hash, hash.rotate_left(32) | 1);
    (0..PROBES).map(move |i| {
        let bit = h1.wrapping_add(i.wrapping_mul(h2)) & mask;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    })
}

/// The ids the index holds, or may hold.
pub(crate) struct SeenIds {
    hasher: RandomState,
    layers: RwLock<Vec<Layer>>,
    /// Whether the ids indexed before the filter began are all in it.
    filled: AtomicBool,
}

impl SeenIds {
    /// An empty filter that answers "maybe" until [`SeenIds::filled`].
    pub(crate) fn new() -> SeenIds {
        SeenIds { hasher: RandomState::new(), layers: RwLock::new(Vec::new()), filled: AtomicBool::new(false) }
    }

    /// Marks the ids indexed before the filter began as all added.
    pub(crate) fn filled(&self) {
        self.filled.store(true, Ordering::Release);
    }

    /// Adds ids about to be indexed.
    pub(crate) fn insert<'a>(&self, ids: impl IntoIterator<Item = &'a [u8]>) {
        let hashes: Vec<u64> = ids.into_iter().map(|id| self.hasher.hash_one(id)).collect();
        let mut layers = self.layers.write().unwrap_or_else(|e| e.into_inner());
        for h in hashes {
            let full = layers.last().is_none_or(|l| l.len >= l.capacity);
            if full {
                let capacity = layers.last().map_or(FIRST_LAYER, |l| l.capacity * 2);
                layers.push(Layer::new(capacity));
            }
            if let Some(last) = layers.last_mut() {
                last.insert(h);
            }
        }
    }

    /// `false` only if `id` was never added and the filter is filled.
    pub(crate) fn may_contain(&self, id: &[u8]) -> bool {
        if !self.filled.load(Ordering::Acquire) {
            return true;
        }
        let h = self.hasher.hash_one(id);
        self.layers.read().unwrap_or_else(|e| e.into_inner()).iter().any(|l| l.may_contain(h))
    }

    /// Whether [`SeenIds::filled`] was called.
    #[cfg(test)]
    pub(crate) fn is_filled(&self) -> bool {
        self.filled.load(Ordering::Acquire)
    }

    /// The bytes the filter holds.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.layers.read().unwrap_or_else(|e| e.into_inner()).iter().map(|l| l.words.len() * 8).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: usize) -> Vec<u8> {
        format!("tx-{i}").into_bytes()
    }

    #[test]
    fn every_id_added_is_kept_through_growth_and_few_others_pass() {
        let seen = SeenIds::new();
        let all: Vec<Vec<u8>> = (0..(FIRST_LAYER * 6)).map(id).collect();
        for chunk in all.chunks(500) {
            seen.insert(chunk.iter().map(Vec::as_slice));
        }
        seen.filled();
        assert!(seen.layers.read().unwrap().len() >= 3, "the filter grew");
        for i in 0..(FIRST_LAYER * 6) {
            assert!(seen.may_contain(&id(i)), "id {i} was added and must never be missed");
        }
        let others = 100_000;
        let passed = (0..others).filter(|i| seen.may_contain(format!("other-{i}").as_bytes())).count();
        // About 0.8 % a full layer; a few layers together stay well under 5 %.
        assert!(passed * 20 < others, "{passed} of {others} ids never added passed");
        // 10 bits an id, rounded up to powers of two: under 4 bytes an id.
        assert!(seen.bytes() < FIRST_LAYER * 6 * 4, "{} bytes", seen.bytes());
    }

    #[test]
    fn a_filter_answers_maybe_until_filled_then_only_for_what_it_holds() {
        let seen = SeenIds::new();
        assert!(seen.may_contain(b"tx-1"), "not filled yet: anything may be stored");
        seen.filled();
        assert!(!seen.may_contain(b"tx-1"));
        seen.insert([b"tx-1".as_slice()]);
        assert!(seen.may_contain(b"tx-1"));
    }
}
