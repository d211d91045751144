//! Merkle trees over 32-byte item hashes, shaped as in RFC 9162 (Certificate
//! Transparency v2): the left subtree of `n` leaves holds the largest power of two
//! smaller than `n`, leaves and inner nodes are hashed in different domains, and
//! an inclusion proof is the audit path verified by RFC 9162 §2.1.3.2.

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::hash::{Domain, Hash32};

fn leaf_hash(item: &Hash32) -> Hash32 {
    Hash32::of(Domain::MerkleLeaf, &item.0)
}

fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32::of_parts(Domain::MerkleNode, &[&left.0, &right.0])
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

fn subtree_root(items: &[Hash32]) -> Hash32 {
    match items.len() {
        0 => Hash32::of(Domain::MerkleEmpty, &[]),
        1 => leaf_hash(&items[0]),
        n => {
            let k = split(n);
            node_hash(&subtree_root(&items[..k]), &subtree_root(&items[k..]))
        }
    }
}

/// The Merkle root of `items` (the hash of an empty tree for none).
pub fn merkle_root(items: &[Hash32]) -> Hash32 {
    subtree_root(items)
}

/// Proof that one item is at `leaf_index` in a tree of `tree_size` items.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerkleProof {
    /// Position of the item, from 0.
    pub leaf_index: u64,
    /// Number of items in the tree.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash32>,
}

impl MerkleProof {
    /// Builds the proof for `items[index]`, or `None` if `index` is out of range.
    pub fn build(items: &[Hash32], index: usize) -> Option<MerkleProof> {
        if index >= items.len() {
            return None;
        }
        let mut path = Vec::new();
        collect_path(items, index, &mut path);
        Some(MerkleProof { leaf_index: index as u64, tree_size: items.len() as u64, path })
    }

    /// Whether this proof shows `item` under `root`.
    pub fn verify(&self, item: &Hash32, root: &Hash32) -> bool {
        if self.leaf_index >= self.tree_size {
            return false;
        }
        let (mut fn_, mut sn) = (self.leaf_index, self.tree_size - 1);
        let mut r = leaf_hash(item);
        for p in &self.path {
            if sn == 0 {
                return false;
            }
            if fn_ & 1 == 1 || fn_ == sn {
                r = node_hash(p, &r);
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            } else {
                r = node_hash(&r, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        sn == 0 && r == *root
    }
}

fn collect_path(items: &[Hash32], index: usize, path: &mut Vec<Hash32>) {
    if items.len() <= 1 {
        return;
    }
    let k = split(items.len());
    if index < k {
        collect_path(&items[..k], index, path);
        path.push(subtree_root(&items[k..]));
    } else {
        collect_path(&items[k..], index - k, path);
        path.push(subtree_root(&items[..k]));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding::Canonical;

    fn items(n: usize) -> Vec<Hash32> {
        (0..n).map(|i| Hash32::of(Domain::Tx, &(i as u64).to_le_bytes())).collect()
    }

    #[test]
    fn shape_follows_rfc9162() {
        let it = items(3);
        let expected = node_hash(&node_hash(&leaf_hash(&it[0]), &leaf_hash(&it[1])), &leaf_hash(&it[2]));
        assert_eq!(merkle_root(&it), expected);
        assert_eq!(merkle_root(&it[..1]), leaf_hash(&it[0]));
        assert_ne!(merkle_root(&[]), merkle_root(&it[..1]));
    }

    #[test]
    fn out_of_range_index_has_no_proof() {
        assert!(MerkleProof::build(&items(4), 4).is_none());
        assert!(MerkleProof::build(&[], 0).is_none());
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_round_trips(n in 1usize..70, seed in any::<usize>()) {
            let it = items(n);
            let root = merkle_root(&it);
            let i = seed % n;
            let proof = MerkleProof::build(&it, i).unwrap();
            prop_assert!(proof.verify(&it[i], &root));
            prop_assert_eq!(MerkleProof::decode(&proof.encode()).unwrap(), proof);
        }

        #[test]
        fn wrong_proofs_are_rejected(n in 2usize..70, seed in any::<usize>(), flip in any::<u8>()) {
            let it = items(n);
            let root = merkle_root(&it);
            let i = seed % n;
            let proof = MerkleProof::build(&it, i).unwrap();
            // Another item at the same position.
            let other = Hash32::of(Domain::Receipt, b"not in the tree");
            prop_assert!(!proof.verify(&other, &root));
            // The item claimed at another position.
            let mut moved = proof.clone();
            moved.leaf_index = ((i + 1) % n) as u64;
            prop_assert!(!moved.verify(&it[i], &root));
            // A tampered sibling hash.
            let mut tampered = proof.clone();
            if !tampered.path.is_empty() {
                let j = (flip as usize) % tampered.path.len();
                tampered.path[j].0[flip as usize % 32] ^= 1;
                prop_assert!(!tampered.verify(&it[i], &root));
            }
            // A truncated or extended path, a wrong root.
            let mut short = proof.clone();
            short.path.pop();
            prop_assert!(!short.verify(&it[i], &root));
            let mut long = proof.clone();
            long.path.push(root);
            prop_assert!(!long.verify(&it[i], &root));
            // (A changed tree size alone can still verify for a leaf left of the
            // last split: the size is bound by the block header's tx_count, not the proof.)
            prop_assert!(!proof.verify(&it[i], &Hash32::of(Domain::Genesis, b"root")));
        }
    }
}
