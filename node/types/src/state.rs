//! State changes and the state-change hash chain.
//!
//! Contract state is a map from `(contract, key)` to bytes. Each block's
//! changes, sorted by `(contract, key)`, are hashed, and that hash is chained to
//! the previous block's: `state_hash(n) = H(StateChain, state_hash(n-1) ‖ H(StateChanges, changes(n)))`.
//! Equal chains therefore mean equal state histories.

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::to_canonical;
use crate::hash::{Domain, Hash32};
use crate::ids::ContractName;

/// Key-value pairs of one contract, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One key's new value (`None`: deleted).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize,
)]
pub struct StateChange {
    /// The contract whose namespace holds the key.
    pub contract: ContractName,
    /// The key.
    pub key: Vec<u8>,
    /// The new value, or `None` when deleted.
    pub value: Option<Vec<u8>>,
}

/// The next link of the state-change chain. `changes` must be sorted by `(contract, key)`
/// with each key at most once.
pub fn chain_state_hash(prev: &Hash32, changes: &[StateChange]) -> Hash32 {
    let changes_hash = Hash32::of(Domain::StateChanges, &to_canonical(changes));
    Hash32::of_parts(Domain::StateChain, &[&prev.0, &changes_hash.0])
}
