//! Raft ordering of block proposals, with openraft. This is the only crate that
//! uses openraft.
//!
//! One Raft log entry carries one block proposal (its canonical bytes). The
//! leader cuts proposals from its mempool and writes them to the log; followers
//! forward the transactions submitted to them to the leader. When an entry
//! commits, every node applies it through the chain's ordinary apply path
//! ([`StateMachine`]), writing the entry's log id in the same atomic write as
//! the block, so a restart neither loses nor repeats a block. The log, vote and
//! purge point live in the node's store ([`LogStore`]); Raft traffic goes over
//! the admitted libp2p connections ([`NetworkFactory`], [`wire`]).
//! Raft's membership follows the ledger's node records ([`Consensus::run_membership`]).

// openraft's storage traits fix the (large) error type.
#![allow(clippy::result_large_err)]

mod backfill;
mod config;
mod leadership;
mod log_store;
mod network;
pub mod restore;
mod service;
pub mod snapshot;
mod state_machine;
pub mod sync;
mod verify;
pub mod wire;

pub use config::{Applied, Proposal, RaftNode, TypeConfig, raft_id};
pub use log_store::LogStore;
pub use network::NetworkFactory;
pub use service::{Consensus, ConsensusConfig, ConsensusError};
pub use state_machine::StateMachine;
pub use verify::{LogReport, verify_log};
