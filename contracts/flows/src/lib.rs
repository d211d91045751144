//! The flows contract: bills through their whole life cycle, the money that
//! moves with them, and the orders and invoices that prove a real trade behind
//! them (docs/flows.md states the rules it carries out).
//!
//! One contract, deployed as `flows`, in clear modules that share one state
//! namespace, so that a discount can check the trade background, occupy
//! invoices, lock the bill and instruct the disbursement in one transaction:
//!
//! | module | what |
//! |---|---|
//! | [`party`] | parties register themselves with their settlement account |
//! | [`order`] | orders, deliveries, VAT invoices with their occupied amounts |
//! | [`bill`] | bill packages, sub-range holdings, requests and every transition of the life cycle; discount with the trade-background checks and instant approval |
//! | [`fund`] | fund movements (`pending → success / failed / unknown`), reversal, end-of-day reconciliation |
//! | [`risk`] | limits, blacklist, bursts; `risk.alert` events |
//!
//! The rules run against a [`Store`] (the contract's state and its events):
//! in the WASM build the host's, in tests an in-memory one. [`execute`] is the
//! whole contract: a method name and its Borsh arguments in, Borsh output or a
//! [`Refusal`] (a stable `E_` code and a message) out. A refusal keeps no
//! write and no event except `risk.alert` (the host keeps `.alert` events of
//! refused calls).
//!
//! Built for `wasm32-unknown-unknown` with the default feature `contract` this
//! is the contract (a `cdylib`); host-side code depends on it with
//! `default-features = false` for its types and rules.

#![no_std]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
// On wasm32 the contract SDK provides the panic handler and allocator.
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

pub mod bill;
pub mod codes;
pub mod fund;
mod ledger;
pub mod order;
pub mod party;
pub mod risk;
mod types;

#[cfg(all(feature = "contract", target_arch = "wasm32"))]
mod contract;
#[cfg(test)]
mod tests;

pub use billflow_contract::{Caller, Context};
pub use billflow_finance as finance;
pub use ledger::{MemStore, Refusal, Store, execute, interface, statement_hash, today};
pub use types::*;
