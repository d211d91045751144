//! The key layout of the ledger tree. Each record kind has a one-byte-plus-colon
//! prefix; integers are big-endian so that keys sort by height.

use billflow_types::{ContractName, Hash32, TxId, TxLocation};

pub const TIP: &[u8] = b"m:tip";
pub const GENESIS: &[u8] = b"m:genesis";

pub fn block(height: u64) -> Vec<u8> {
    [b"b:".as_slice(), &height.to_be_bytes()].concat()
}

pub fn block_hash(hash: &Hash32) -> Vec<u8> {
    [b"h:".as_slice(), &hash.0].concat()
}

pub const TX_PREFIX: &[u8] = b"t:";

pub fn tx(tx_id: &TxId) -> Vec<u8> {
    [TX_PREFIX, tx_id.as_str().as_bytes()].concat()
}

/// `r:` ‖ height ‖ index: a receipt, in stores written before receipts were
/// read from the block files. Opening such a store moves its transaction index
/// to spans and removes these.
pub const OLD_RECEIPT_PREFIX: &[u8] = b"r:";

pub fn old_receipt(loc: TxLocation) -> Vec<u8> {
    [OLD_RECEIPT_PREFIX, &loc.height.to_be_bytes(), &loc.index.to_be_bytes()].concat()
}

pub const STATE_PREFIX: &[u8] = b"s:";

/// `s:` ‖ contract ‖ 0x00 ‖ key. Contract names never hold 0x00, so one contract's
/// keys are contiguous and sorted by key.
pub fn state(contract: &ContractName, key: &[u8]) -> Vec<u8> {
    [STATE_PREFIX, contract.as_str().as_bytes(), &[0], key].concat()
}

pub fn state_prefix(contract: &ContractName) -> Vec<u8> {
    [STATE_PREFIX, contract.as_str().as_bytes(), &[0]].concat()
}

/// Splits a full state key into contract and key.
pub fn split_state(full: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = full.strip_prefix(STATE_PREFIX)?;
    let zero = rest.iter().position(|b| *b == 0)?;
    Some((&rest[..zero], &rest[zero + 1..]))
}

/// Where the chain's and the consensus metadata's keys begin.
pub const META_PREFIX: &[u8] = b"m:";

/// Where attestations' keys begin.
pub const ATTESTATION_PREFIX: &[u8] = b"a:";

/// `m:c:` ‖ name: consensus metadata written with blocks.
pub fn meta(name: &str) -> Vec<u8> {
    [b"m:c:".as_slice(), name.as_bytes()].concat()
}

/// `a:` ‖ height ‖ node: a node's attestation of a block.
pub fn attestation(height: u64, node: &str) -> Vec<u8> {
    [ATTESTATION_PREFIX, &height.to_be_bytes(), node.as_bytes()].concat()
}
