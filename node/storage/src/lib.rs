//! The ledger's durable store. This is the only crate that uses a database
//! library (fjall for the index, sled only to move an index written before);
//! nothing outside it sees their types.
//!
//! A committed block is written twice: first as one record (block, receipts,
//! state changes) appended to the block files, then as one atomic index batch
//! (indexes, state, chain tip). Receipts live only in the block files; the
//! transaction index says where each one is. The block files are the source of
//! truth: a block whose record is on disk but whose index batch is not (a
//! crash between the two) is indexed again when the store opens, and a torn
//! record at the end of the files was never acknowledged and is cut off.
//! [`Store::commit_block`] returns only when the record is durable.
//!
//! This crate checks storage-level consistency (a block extends the tip) but no
//! business rules; values read back are decoded strictly, and bytes that do not
//! decode are reported as corruption, never skipped.

mod blockfile;
mod index;
mod keys;
mod legacy;
mod raftlog;
mod reader;
mod seen;
mod store;

pub use blockfile::{BlockPos, StoredBlock, scan as scan_block_files};
pub use reader::StoreReader;
pub use store::{RaftValue, StateEntry, Store};

use billflow_types::DecodeError;

/// Storage failures, grouped by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The disk or the database failed; the node cannot go on safely.
    #[error("storage I/O failed: {0}")]
    Io(String),
    /// Stored bytes are not what was written: stop and run `verify`.
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// Which record.
        what: String,
        /// How it fails to decode.
        reason: String,
    },
    /// The caller tried to write a block that does not extend the stored chain (a bug upstream).
    #[error("block {height} does not extend the stored chain: {reason}")]
    NotNext {
        /// The block's height.
        height: u64,
        /// What does not match.
        reason: String,
    },
}

impl StorageError {
    fn corrupt(what: impl Into<String>, e: DecodeError) -> StorageError {
        StorageError::Corrupt { what: what.into(), reason: e.to_string() }
    }
}

/// Result of storage operations.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
